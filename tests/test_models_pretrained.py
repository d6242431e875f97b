"""Tests for course/models/pretrained.py: the shipped TinyVGG, and saving and loading models."""

import json

import numpy as np
import pytest

from course.cli import main
from course.data import generate_shapes, to_nchw_float
from course.models import TinyVGG
from course.models.pretrained import (
    WEIGHTS_DIR,
    load_pretrained,
    pretrained_info,
    save_pretrained,
)


def test_the_shipped_model_classifies_unseen_shapes():
    model = load_pretrained("tinyvgg-shapes")
    info = pretrained_info("tinyvgg-shapes")
    assert info["test_acc"] >= 0.9 and info["command"] == "course train tinyvgg"
    assert info["recipe"]["seed"] == 0 and info["recipe"]["num_train"] == 40_000
    # Images from a seed the training never used.
    images, labels = generate_shapes(1000, seed=12345)
    X = to_nchw_float(images) - model.mean_image
    predicted = np.concatenate(
        [model.loss(X[i : i + 250]).argmax(axis=1) for i in range(0, 1000, 250)]
    )
    assert np.mean(predicted == labels) >= 0.9


def test_the_shipped_files_are_small_and_described():
    weights = WEIGHTS_DIR / "tinyvgg-shapes.npz"
    assert weights.stat().st_size < 3_000_000
    record = json.loads((WEIGHTS_DIR / "tinyvgg-shapes.json").read_text())
    assert record["config"]["stages"] == [[16, 16], [32, 32], [64, 64]]
    assert record["train_seconds"] < 600


def test_save_and_load_round_trip(tmp_path):
    model = TinyVGG(input_dim=(3, 8, 8), stages=((4,),), hidden_dims=(5,), seed=2)
    X = np.random.default_rng(0).standard_normal((4, 3, 8, 8)).astype(np.float32)
    model.loss(X, np.array([0, 1, 2, 3]))  # fills the running averages
    model.mean_image = np.full((3, 8, 8), 0.5, dtype=np.float32)
    for bn_param in model.bn_params:
        bn_param["mode"] = "test"
    weights, meta = save_pretrained(model, "toy", {"note": "a test"}, tmp_path)
    loaded = load_pretrained("toy", folder=tmp_path)
    np.testing.assert_array_equal(loaded.loss(X), model.loss(X))
    np.testing.assert_array_equal(loaded.mean_image, model.mean_image)
    assert pretrained_info("toy", folder=tmp_path)["note"] == "a test"
    assert weights.exists() and meta.exists()


def test_missing_and_unknown_models_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown pretrained model 'imagenet'"):
        load_pretrained("imagenet")
    with pytest.raises(FileNotFoundError, match="course train tinyvgg"):
        load_pretrained("tinyvgg-shapes", folder=tmp_path)


def test_saved_models_are_not_overwritten_by_accident(tmp_path, capsys):
    model = TinyVGG(input_dim=(3, 8, 8), stages=((4,),), hidden_dims=(5,))
    save_pretrained(model, "toy", {}, tmp_path)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_pretrained(model, "toy", {}, tmp_path)
    save_pretrained(model, "toy", {"again": True}, tmp_path, overwrite=True)
    assert pretrained_info("toy", folder=tmp_path)["again"]
    # The shipped model: the command refuses before spending minutes training.
    assert main(["train", "tinyvgg", "--num-train", "100", "--epochs", "1"]) == 1
    assert "--overwrite" in capsys.readouterr().err


def test_mismatched_weights_are_refused(tmp_path):
    model = TinyVGG(input_dim=(3, 8, 8), stages=((4,),), hidden_dims=(5,))
    save_pretrained(model, "toy", {}, tmp_path)
    meta = tmp_path / "toy.json"
    record = json.loads(meta.read_text())
    record["config"]["hidden_dims"] = [6]
    meta.write_text(json.dumps(record))
    with pytest.raises(ValueError, match="does not match"):
        load_pretrained("toy", folder=tmp_path)
