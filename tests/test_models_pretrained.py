"""Tests for course/models/pretrained.py: the shipped TinyVGG, and saving and loading models."""

import json

import numpy as np
import pytest

from course.artefacts import ArtefactError, NotSavedError
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


def _stepped_toy(hidden_dim=5):
    """A small TinyVGG (batchnorm) after one training-mode pass, so it has running averages."""
    model = TinyVGG(input_dim=(3, 8, 8), stages=((4,),), hidden_dims=(hidden_dim,), seed=1)
    X = np.random.default_rng(0).standard_normal((4, 3, 8, 8)).astype(np.float32)
    model.loss(X, np.array([0, 1, 2, 3]))
    return model


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
    model = _stepped_toy()
    save_pretrained(model, "toy", {}, tmp_path)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_pretrained(model, "toy", {}, tmp_path)
    save_pretrained(model, "toy", {"again": True}, tmp_path, overwrite=True)
    assert pretrained_info("toy", folder=tmp_path)["again"]
    # The shipped model: the command refuses before spending minutes training.
    assert main(["train", "tinyvgg", "--num-train", "100", "--epochs", "1"]) == 1
    assert "--overwrite" in capsys.readouterr().err


def test_mismatched_weights_are_refused(tmp_path):
    model = _stepped_toy()
    save_pretrained(model, "toy", {}, tmp_path)
    meta = tmp_path / "toy.json"
    record = json.loads(meta.read_text())
    record["config"]["hidden_dims"] = [6]
    meta.write_text(json.dumps(record))
    with pytest.raises(ArtefactError, match=r"'params/W2' has shape \(64, 5\).*needs \(64, 6\)"):
        load_pretrained("toy", folder=tmp_path)


def _toy(tmp_path):
    """A small saved TinyVGG with batchnorm: (npz path, json path)."""
    model = _stepped_toy()
    model.mean_image = np.zeros((3, 8, 8), dtype=np.float32)
    return save_pretrained(model, "toy", {}, tmp_path)


def _rewrite_npz(path, change):
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    change(arrays)
    np.savez(path, **arrays)


def _flip_a_byte_inside(path):
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))


def _set(arrays, key, value):
    arrays[key] = value


# Each way the tester broke a pretrained model, and what the message must say.
BROKEN_FILES = {
    "empty npz": ("npz", lambda p: p.write_bytes(b""), "is empty"),
    "truncated npz": ("npz", lambda p: p.write_bytes(p.read_bytes()[:300]), "damaged"),
    "not a zip": ("npz", lambda p: p.write_bytes(b"hello" * 100), "damaged"),
    "bad crc": ("npz", _flip_a_byte_inside, "damaged"),
    "pickled object": (
        "npz",
        lambda p: np.savez(p, **{"params/W1": np.array([{"a": 1}], dtype=object)}),
        "damaged",
    ),
    "missing batchnorm": (
        "npz",
        lambda p: _rewrite_npz(p, lambda a: a.pop("bn1/running_var")),
        "no array 'bn1/running_var'",
    ),
    "wrong batchnorm shape": (
        "npz",
        lambda p: _rewrite_npz(p, lambda a: _set(a, "bn1/running_mean", np.zeros(7))),
        r"'bn1/running_mean' has shape \(7,\).*needs \(4,\)",
    ),
    "nan weights": (
        "npz",
        lambda p: _rewrite_npz(p, lambda a: a["params/W1"].fill(np.nan)),
        "NaN or inf",
    ),
    "wrong mean image": (
        "npz",
        lambda p: _rewrite_npz(p, lambda a: _set(a, "mean_image", np.zeros((3, 4, 4)))),
        "'mean_image' has shape",
    ),
    "empty json": ("json", lambda p: p.write_text(""), "is empty"),
    "bad json": ("json", lambda p: p.write_text(p.read_text()[:40]), "not valid JSON"),
    "json list": ("json", lambda p: p.write_text("[1, 2]"), "JSON list"),
    "json without config": (
        "json",
        lambda p: p.write_text(json.dumps({"format": "course-pretrained", "model": "TinyVGG"})),
        "has no 'config'",
    ),
    "json with a bad config": (
        "json",
        lambda p: p.write_text(
            json.dumps({"format": "course-pretrained", "model": "TinyVGG", "config": {"x": 1}})
        ),
        "does not describe a TinyVGG",
    ),
    "json from elsewhere": (
        "json",
        lambda p: p.write_text(json.dumps({"format": "other", "model": "M", "config": {}})),
        "not written by save_pretrained",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN_FILES))
def test_a_broken_model_is_one_message_naming_the_file_and_the_fix(tmp_path, case):
    which, breaks, expected = BROKEN_FILES[case]
    weights, meta = _toy(tmp_path)
    broken = weights if which == "npz" else meta
    breaks(broken)
    with pytest.raises(ArtefactError, match=expected) as raised:
        load_pretrained("toy", folder=tmp_path)
    message = str(raised.value)
    assert str(broken) in message and "course train tinyvgg" in message


def test_weights_that_do_not_belong_to_their_record_are_refused(tmp_path):
    weights, _ = _toy(tmp_path)
    # Same shapes, other values: the record's SHA-256 tells them apart.
    _rewrite_npz(weights, lambda a: a["params/W1"].__iadd__(1.0))
    with pytest.raises(ArtefactError, match="do not belong together"):
        load_pretrained("toy", folder=tmp_path)


def test_the_shipped_record_holds_the_digest_of_the_shipped_weights():
    assert "arrays_sha256" in pretrained_info("tinyvgg-shapes")
    load_pretrained("tinyvgg-shapes")  # checks it


def test_the_shipped_model_names_how_to_restore_it(tmp_path, monkeypatch):
    for name in ("tinyvgg-shapes.npz", "tinyvgg-shapes.json"):
        (tmp_path / name).write_bytes((WEIGHTS_DIR / name).read_bytes())
    (tmp_path / "tinyvgg-shapes.npz").write_bytes(b"")
    monkeypatch.setattr("course.models.pretrained.WEIGHTS_DIR", tmp_path)
    with pytest.raises(ArtefactError, match="reinstall"):
        load_pretrained("tinyvgg-shapes")


def test_a_model_holding_nan_is_never_saved(tmp_path):
    model = _stepped_toy()
    model.params["W1"][0, 0, 0, 0] = np.inf
    with pytest.raises(NotSavedError, match="'params/W1' hold NaN or inf"):
        save_pretrained(model, "toy", {}, tmp_path)
    assert list(tmp_path.iterdir()) == []
    untrained = TinyVGG(input_dim=(3, 8, 8), stages=((4,),), hidden_dims=(5,))
    with pytest.raises(NotSavedError, match="never ran a training step"):
        save_pretrained(untrained, "toy", {}, tmp_path)


def test_save_into_a_file_is_a_clear_error(tmp_path):
    model = TinyVGG(input_dim=(3, 8, 8), stages=((4,),), hidden_dims=(5,))
    (tmp_path / "taken").write_text("a file")
    with pytest.raises(NotADirectoryError, match="is not a folder"):
        save_pretrained(model, "toy", {}, tmp_path / "taken")
