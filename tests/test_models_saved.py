"""Tests for course/models/saved.py: a classifier saved as data only, loaded back with checks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from course.artefacts import ArtefactError, NotSavedError
from course.models import (
    FullyConnectedNet,
    ThreeLayerConvNet,
    TinyVGG,
    TwoLayerNet,
    load_model,
    load_pretrained,
    save_model,
)
from course.models.saved import RECORD, predict

RNG = np.random.default_rng(0)
X = RNG.random((6, 3, 8, 8)).astype(np.float32)  # (N, C, H, W)
Y = np.arange(6) % 3


def small_models() -> dict[str, object]:
    """One small model of each class, with seeded weights; batchnorm ones after one train step."""
    tiny = TinyVGG(input_dim=(3, 8, 8), stages=((4,), (6, 6)), hidden_dims=(5,), num_classes=3)
    tiny.loss(X, Y)  # fills batchnorm's running averages
    fc = FullyConnectedNet(
        [7, 5], input_dim=192, num_classes=3, normalization="batchnorm", dropout_keep_ratio=0.5
    )
    fc.loss(X, Y)
    return {
        "TinyVGG": tiny,
        "ThreeLayerConvNet": ThreeLayerConvNet(
            input_dim=(3, 8, 8), num_filters=4, filter_size=3, hidden_dim=5, num_classes=3
        ),
        "FullyConnectedNet": fc,
        "TwoLayerNet": TwoLayerNet(input_dim=192, hidden_dim=4, num_classes=3, seed=1),
    }


def rewrite(path, change) -> None:
    """Rewrite an .npz: ``change(arrays)`` edits the dict of its arrays (and its record)."""
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    record = json.loads(arrays[RECORD].tobytes().decode())
    change(arrays, record)
    arrays[RECORD] = np.frombuffer(json.dumps(record).encode(), dtype=np.uint8)
    path.unlink()
    np.savez(path, **arrays)


@pytest.mark.parametrize(
    "name", ["TinyVGG", "ThreeLayerConvNet", "FullyConnectedNet", "TwoLayerNet"]
)
def test_every_class_round_trips_to_the_same_scores(tmp_path, name):
    model = small_models()[name]
    mean = RNG.random((3, 8, 8)).astype(np.float32)
    path = save_model(model, tmp_path / "m.npz", mean_image=mean)
    loaded = load_model(path)
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.loss(X), model.loss(X))
    for key, value in model.params.items():
        np.testing.assert_array_equal(loaded.params[key], value)
    for saved_bn, loaded_bn in zip(
        getattr(model, "bn_params", []), getattr(loaded, "bn_params", []), strict=True
    ):
        np.testing.assert_array_equal(loaded_bn["running_var"], saved_bn["running_var"])
        assert loaded_bn["mode"] == "test"
    np.testing.assert_array_equal(loaded.mean_image, mean)
    np.testing.assert_array_equal(predict(loaded, X), np.argmax(model.loss(X - mean), axis=1))


def test_the_file_is_data_only(tmp_path):
    path = save_model(small_models()["TwoLayerNet"], tmp_path / "m.npz")
    with np.load(path, allow_pickle=False) as data:  # would raise on any object array
        assert all(data[name].dtype != object for name in data.files)
    assert load_model(path).mean_image is None


def test_the_pretrained_model_keeps_its_mean_image(tmp_path):
    model = load_pretrained()
    loaded = load_model(save_model(model, tmp_path / "best.npz"))
    np.testing.assert_array_equal(loaded.mean_image, model.mean_image)
    assert loaded.config() == model.config()


def test_an_existing_file_is_never_replaced_without_overwrite(tmp_path):
    path = tmp_path / "best_model.npz"
    path.write_bytes(b"a student's own file")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        save_model(small_models()["TwoLayerNet"], path)
    assert path.read_bytes() == b"a student's own file"
    save_model(small_models()["TwoLayerNet"], path, overwrite=True)
    assert load_model(path).params["W1"].shape == (192, 4)


def test_what_cannot_be_saved(tmp_path):
    with pytest.raises(TypeError, match="expected one of TinyVGG"):
        save_model(object(), tmp_path / "m.npz")
    untrained = TinyVGG(input_dim=(3, 8, 8), stages=((4,),), hidden_dims=(), num_classes=3)
    with pytest.raises(NotSavedError, match="never ran a training step"):
        save_model(untrained, tmp_path / "m.npz")
    diverged = TwoLayerNet(input_dim=192, hidden_dim=4, num_classes=3)
    diverged.params["W1"][0, 0] = np.nan
    with pytest.raises(NotSavedError, match="NaN"):
        save_model(diverged, tmp_path / "m.npz")
    with pytest.raises(ValueError, match="mean_image"):
        save_model(small_models()["TwoLayerNet"], tmp_path / "m.npz", mean_image=np.zeros(5))
    assert not (tmp_path / "m.npz").exists()


def pickled(arrays, record):
    arrays["params/W1"] = np.array([{"a": 1}], dtype=object)


def claims_tinyvgg(arrays, record):
    record["class"] = "TinyVGG"


def unknown_class(arrays, record):
    record["class"] = "os.system"


def missing_param(arrays, record):
    del arrays["params/b2"]


def misshapen_param(arrays, record):
    arrays["params/W2"] = arrays["params/W2"][:-1]


def extra_array(arrays, record):
    arrays["params/W9"] = np.zeros(3, np.float32)


def huge_config(arrays, record):
    record["config"].update(input_dim=3072, hidden_dim=100_000)  # 307 M parameters


def extra_config_key(arrays, record):
    record["config"]["weight_scale"] = "he"


def integer_params(arrays, record):
    arrays["params/b1"] = arrays["params/b1"].astype(np.int64)


def infinite(arrays, record):
    arrays["params/b1"] = arrays["params/b1"] + np.inf


def other_format(arrays, record):
    record["format"] = "something-else"


@pytest.mark.parametrize(
    "change, message",
    [
        (pickled, "Python objects"),
        (claims_tinyvgg, "exactly the keys"),
        (unknown_class, "only TinyVGG"),
        (missing_param, "no array 'params/b2'"),
        (misshapen_param, "has shape"),
        (extra_array, "does not have: params/W9"),
        (huge_config, "parameters, more than"),
        (extra_config_key, "exactly the keys"),
        (integer_params, "not floats"),
        (infinite, "NaN or inf"),
        (other_format, "not written by course.models.save_model"),
    ],
)
def test_a_damaged_or_forged_file_is_refused_by_name(tmp_path, change, message):
    path = save_model(small_models()["TwoLayerNet"], tmp_path / "m.npz")
    rewrite(path, change)
    with pytest.raises(ArtefactError, match=message) as error:
        load_model(path)
    assert str(path) in str(error.value)


def test_a_file_of_another_class_under_a_false_name_is_refused(tmp_path):
    """A TinyVGG's arrays with the record of a TwoLayerNet: the arrays do not fit the claim."""
    tiny = save_model(small_models()["TinyVGG"], tmp_path / "tiny.npz")
    two = save_model(small_models()["TwoLayerNet"], tmp_path / "two.npz")
    with np.load(two) as data:
        record = data[RECORD]
    rewrite(tiny, lambda arrays, rec: rec.update(json.loads(record.tobytes().decode())))
    with pytest.raises(ArtefactError, match="shape|does not have"):
        load_model(tiny)


@pytest.mark.parametrize("content", [b"", b"not a zip file", b"PK\x03\x04broken"])
def test_a_file_that_is_not_an_npz_is_refused(tmp_path, content):
    path = tmp_path / "m.npz"
    path.write_bytes(content)
    with pytest.raises(ArtefactError, match="empty|not an .npz"):
        load_model(path)


def test_a_plain_npz_without_the_record_is_refused(tmp_path):
    path = tmp_path / "m.npz"
    np.savez(path, W1=np.zeros(3))
    with pytest.raises(ArtefactError, match="save_model did not write it"):
        load_model(path)


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "nothing.npz")
