"""Tests for course/recipes/tinyvgg.py: the recipe that trained the shipped TinyVGG."""

import numpy as np

from course.cli import main
from course.models.pretrained import pretrained_info
from course.recipes.tinyvgg import TinyVGGRecipe, train_tinyvgg


def test_training_is_reproducible_and_saves(tmp_path):
    recipe = TinyVGGRecipe(
        num_train=100,
        num_val=20,
        num_test=20,
        stages=((4,), (4,)),
        hidden_dims=(8,),
        num_epochs=1,
        batch_size=20,
    )
    first = train_tinyvgg(recipe, out=tmp_path / "a", verbose=False)
    second = train_tinyvgg(recipe, out=tmp_path / "b", verbose=False)
    for k, value in first["model"].params.items():
        np.testing.assert_array_equal(value, second["model"].params[k])
    record = pretrained_info("tinyvgg-shapes", folder=tmp_path / "a")
    assert record["recipe"]["num_train"] == 100 and record["blas_threads"] == 1


def test_train_tinyvgg_command(tmp_path, capsys):
    argv = ["train", "tinyvgg", "--num-train", "100", "--epochs", "1", "--out", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "test accuracy" in out and (tmp_path / "tinyvgg-shapes.npz").exists()
