"""Tests for course/recipes/tinyvgg.py: the recipe that trained the shipped TinyVGG."""

import warnings

import numpy as np
import pytest

from course.artefacts import NotSavedError
from course.cli import main
from course.models.cnn import TinyVGG
from course.models.pretrained import load_pretrained, pretrained_info
from course.recipes.tinyvgg import TinyVGGRecipe, train_tinyvgg
from course.solver import TrainingInterrupted

SMALL = TinyVGGRecipe(
    num_train=200,
    num_val=40,
    num_test=20,
    stages=((4,), (4,)),
    hidden_dims=(8,),
    num_epochs=2,
    batch_size=20,
    learning_rate=1e-2,
)


def easy_shapes(num_train, num_val, num_test, seed=0):
    """A stand-in for load_shapes that a tiny net learns in seconds: class k is brightness k/10.

    Shapes-10 itself takes thousands of images before a net beats chance, too
    slow for a test of the recipe's bookkeeping.
    """
    rng = np.random.default_rng(seed)

    def split(count):
        y = rng.integers(0, 10, size=count)
        X = y[:, None, None, None] / 10 + 0.02 * rng.standard_normal((count, 3, 32, 32))
        return X.astype(np.float32), y

    data = {}
    for name, count in (("train", num_train), ("val", num_val), ("test", num_test)):
        data[f"X_{name}"], data[f"y_{name}"] = split(count)
    data["mean_image"] = data["X_train"].mean(axis=0)
    for name in ("train", "val", "test"):
        data[f"X_{name}"] = data[f"X_{name}"] - data["mean_image"]
    data["class_names"] = tuple(f"level {k}" for k in range(10))
    return data


@pytest.fixture
def easy(monkeypatch):
    monkeypatch.setattr("course.recipes.tinyvgg.load_shapes", easy_shapes)


def test_training_is_reproducible_and_saves(tmp_path, easy):
    first = train_tinyvgg(SMALL, out=tmp_path / "a", verbose=False)
    second = train_tinyvgg(SMALL, out=tmp_path / "b", verbose=False)
    for k, value in first["model"].params.items():
        np.testing.assert_array_equal(value, second["model"].params[k])
    record = pretrained_info("tinyvgg-shapes", folder=tmp_path / "a")
    assert record["recipe"]["num_train"] == 200 and record["blas_threads"] == 1
    assert first["val_acc"] > first["baseline_val_acc"]


def test_train_tinyvgg_command(tmp_path, capsys, easy):
    argv = ["train", "tinyvgg", "--num-train", "200", "--epochs", "2", "--out", str(tmp_path)]
    argv += ["--learning-rate", "1e-2", "--batch-size", "20"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "test accuracy" in out and (tmp_path / "tinyvgg-shapes.npz").exists()


def test_a_model_that_learnt_nothing_is_not_saved(tmp_path):
    # Real Shapes-10, 5 steps: the net is still at chance.
    recipe = TinyVGGRecipe(
        num_train=100, num_val=20, num_test=20, stages=((4,),), hidden_dims=(8,), num_epochs=1
    )
    with pytest.raises(NotSavedError, match="no better than always answering the commonest"):
        train_tinyvgg(recipe, out=tmp_path, verbose=False)
    assert list(tmp_path.iterdir()) == []


def test_arguments_and_the_saved_model_are_checked_before_training(tmp_path, monkeypatch):
    (tmp_path / "tinyvgg-shapes.json").write_text("{}")
    monkeypatch.setattr("course.recipes.tinyvgg.load_shapes", pytest.fail)  # must not run
    with pytest.raises(FileExistsError, match="--overwrite"):
        train_tinyvgg(SMALL, out=tmp_path, verbose=False)
    with pytest.raises(NotADirectoryError, match="is not a folder"):
        train_tinyvgg(SMALL, out=tmp_path / "tinyvgg-shapes.json", verbose=False)
    with pytest.raises(ValueError, match="learning_rate must be a positive number"):
        train_tinyvgg(TinyVGGRecipe(learning_rate=-1.0), out=None, verbose=False)
    for threads in (0, -2):
        with pytest.raises(ValueError, match="threads"):
            train_tinyvgg(SMALL, out=None, threads=threads, verbose=False)


def test_learning_rate_zero_warns_once(easy):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        train_tinyvgg(TinyVGGRecipe(**{**SMALL.__dict__, "learning_rate": 0.0}), out=None)
    assert [str(w.message)[:30] for w in caught if "learning_rate=0" in str(w.message)] == [
        "train_tinyvgg: learning_rate=0"
    ]


def test_ctrl_c_saves_the_best_model_so_far(tmp_path, monkeypatch, easy):
    calls = {"n": 0}
    real_loss = TinyVGG.loss

    def loss(self, X, y=None):
        if y is not None:
            calls["n"] += 1
            if calls["n"] == 15:  # in the second epoch (10 steps each)
                raise KeyboardInterrupt
        return real_loss(self, X, y)

    monkeypatch.setattr(TinyVGG, "loss", loss)
    with pytest.raises(TrainingInterrupted, match=f"saved to {tmp_path}") as err:
        train_tinyvgg(SMALL, out=tmp_path, verbose=False)
    assert err.value.summary["iterations"] == 14
    record = pretrained_info("tinyvgg-shapes", folder=tmp_path)
    assert record["val_acc"] == err.value.summary["best_val_acc"]
    load_pretrained("tinyvgg-shapes", folder=tmp_path)
