"""Tests for course/data/cifar10.py and course/data/paths.py on a tiny fake CIFAR-10.

The fixture writes six batches of 20 images in the official pickle format
(dict with b'data' (N, 3072) uint8 in R, G, B planes and b'labels'), plus
batches.meta, so nothing here needs the real 163 MB download.
"""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

from course.data import DatasetNotFoundError, data_root, load_cifar10
from course.data.cifar10 import CIFAR10_FOLDER, read_batch

PER_BATCH = 20
NAMES = [b"airplane", b"automobile", b"bird", b"cat", b"deer"]
NAMES += [b"dog", b"frog", b"horse", b"ship", b"truck"]
FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def _batch(index: int) -> dict:
    """Batch ``index`` of the fake dataset: random pixels (seeded by ``index``), cycling labels."""
    rng = np.random.default_rng(index)
    data = rng.integers(0, 256, size=(PER_BATCH, 3072), dtype=np.uint8)
    labels = [int((index * PER_BATCH + k) % 10) for k in range(PER_BATCH)]
    return {b"batch_label": b"fake", b"data": data, b"labels": labels}


def _write(path: Path, content: object) -> None:
    with open(path, "wb") as f:
        pickle.dump(content, f, protocol=2)


@pytest.fixture
def cifar_root(tmp_path: Path) -> Path:
    """A data root with a tiny CIFAR-10: 5 x 20 training and 20 test images."""
    folder = tmp_path / CIFAR10_FOLDER
    folder.mkdir()
    for index, name in enumerate(FILES):
        _write(folder / name, _batch(index))
    _write(folder / "batches.meta", {b"label_names": NAMES, b"num_vis": 3072})
    return tmp_path


def _raw_train() -> tuple[np.ndarray, np.ndarray]:
    data = np.concatenate([_batch(i)[b"data"] for i in range(5)])
    labels = np.concatenate([_batch(i)[b"labels"] for i in range(5)])
    return data, labels


def test_shapes_dtypes_and_labels(cifar_root: Path) -> None:
    data = load_cifar10(cifar_root, num_train=70, num_val=20, num_test=15)
    assert data["X_train"].shape == (70, 3, 32, 32)
    assert data["X_val"].shape == (20, 3, 32, 32)
    assert data["X_test"].shape == (15, 3, 32, 32)
    for split in ("train", "val", "test"):
        assert data[f"X_{split}"].dtype == np.float32
        assert data[f"y_{split}"].dtype == np.int64
    assert data["mean_image"].shape == (3, 32, 32)
    assert data["class_names"] == tuple(name.decode() for name in NAMES)
    _, labels = _raw_train()
    np.testing.assert_array_equal(data["y_train"], labels[:70])
    np.testing.assert_array_equal(data["y_val"], labels[70:90])
    np.testing.assert_array_equal(data["y_test"], _batch(5)[b"labels"][:15])


def test_nchw_layout_puts_each_plane_in_its_channel(cifar_root: Path) -> None:
    """Row entry c*1024 + r*32 + w of b'data' is channel c, row r, column w."""
    folder = cifar_root / CIFAR10_FOLDER
    batch = _batch(0)
    data = np.zeros((PER_BATCH, 3072), dtype=np.uint8)
    data[0, 0 * 1024 + 3 * 32 + 7] = 255  # red, row 3, column 7
    data[1, 1 * 1024 + 30 * 32 + 1] = 255  # green, row 30, column 1
    data[2, 2 * 1024 + 0 * 32 + 31] = 255  # blue, row 0, column 31
    _write(folder / "data_batch_1", {**batch, b"data": data})
    X = load_cifar10(cifar_root, num_train=3, num_val=0, num_test=0, subtract_mean=False)[
        "X_train"
    ]
    for i, (c, r, w) in enumerate([(0, 3, 7), (1, 30, 1), (2, 0, 31)]):
        assert X[i, c, r, w] == 1.0
        assert X[i].sum() == 1.0


def test_pixels_scaled_to_unit_range_without_mean(cifar_root: Path) -> None:
    data = load_cifar10(cifar_root, num_train=40, num_val=0, num_test=5, subtract_mean=False)
    raw, _ = _raw_train()
    expected = raw[:40].reshape(40, 3, 32, 32) / 255.0
    np.testing.assert_allclose(data["X_train"], expected, atol=1e-6)
    assert data["X_val"].shape == (0, 3, 32, 32)


def test_mean_is_subtracted_using_train_only(cifar_root: Path) -> None:
    plain = load_cifar10(cifar_root, num_train=50, num_val=10, num_test=10, subtract_mean=False)
    centred = load_cifar10(cifar_root, num_train=50, num_val=10, num_test=10)
    mean = plain["X_train"].mean(axis=0)
    np.testing.assert_allclose(centred["mean_image"], mean, atol=1e-6)
    np.testing.assert_allclose(centred["X_train"].mean(axis=0), 0.0, atol=1e-6)
    for split in ("val", "test"):
        np.testing.assert_allclose(centred[f"X_{split}"], plain[f"X_{split}"] - mean, atol=1e-6)


def test_float64_and_full_size(cifar_root: Path) -> None:
    data = load_cifar10(cifar_root, num_train=95, num_val=5, num_test=20, dtype=np.float64)
    assert data["X_train"].dtype == np.float64
    assert len(data["y_train"]) + len(data["y_val"]) == 5 * PER_BATCH


def test_asking_for_too_many_images_is_refused(cifar_root: Path) -> None:
    with pytest.raises(ValueError, match=r"num_train \+ num_val = 95 \+ 10 = 105 exceeds the 100"):
        load_cifar10(cifar_root, num_train=95, num_val=10, num_test=0)
    with pytest.raises(ValueError, match="num_test = 21 exceeds the 20 images"):
        load_cifar10(cifar_root, num_train=10, num_val=0, num_test=21)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"num_train": 0}, ValueError, "num_train must be a positive integer, got 0"),
        ({"num_val": -1}, ValueError, "num_val must be a non-negative integer, got -1"),
        ({"num_test": 2.5}, TypeError, "num_test must be an integer, got 2.5"),
        ({"dtype": np.int32}, TypeError, "dtype must be a floating type"),
    ],
)
def test_bad_arguments(cifar_root: Path, kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        load_cifar10(cifar_root, **kwargs)


def test_course_data_env_var_is_honoured(cifar_root: Path, monkeypatch) -> None:
    monkeypatch.setenv("COURSE_DATA", str(cifar_root))
    assert data_root() == cifar_root
    data = load_cifar10(num_train=10, num_val=0, num_test=0)
    assert data["X_train"].shape == (10, 3, 32, 32)


def test_default_root_is_in_home(monkeypatch) -> None:
    monkeypatch.delenv("COURSE_DATA", raising=False)
    assert data_root() == Path.home() / ".course" / "data"


def test_root_may_name_the_batch_folder_itself(cifar_root: Path) -> None:
    data = load_cifar10(cifar_root / CIFAR10_FOLDER, num_train=10, num_val=0, num_test=0)
    assert data["X_train"].shape == (10, 3, 32, 32)


def test_missing_folder_names_the_path_and_how_to_get_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "nowhere"))
    expected = tmp_path / "nowhere" / CIFAR10_FOLDER
    with pytest.raises(DatasetNotFoundError) as info:
        load_cifar10()
    message = str(info.value)
    assert str(expected) in message
    assert "https://www.cs.toronto.edu/~kriz/cifar.html" in message
    assert f"tar -xzf cifar-10-python.tar.gz -C {tmp_path / 'nowhere'}" in message
    assert "COURSE_DATA" in message
    assert isinstance(info.value, FileNotFoundError)


def test_missing_batch_file_is_named(cifar_root: Path) -> None:
    missing = cifar_root / CIFAR10_FOLDER / "data_batch_3"
    missing.unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_3"):
        load_cifar10(cifar_root, num_train=10, num_val=0, num_test=0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({b"labels": [0] * 20}, "lacks b'data'"),
        ({b"data": np.zeros((20, 100), np.uint8), b"labels": [0] * 20}, r"shape \(20, 100\)"),
        ({b"data": np.zeros((20, 3072), np.uint8), b"labels": [0] * 19}, "19 labels"),
        ({b"data": np.zeros((20, 3072), np.uint8), b"labels": [12] * 20}, "labels from 12"),
        ([1, 2, 3], "holds a list"),
    ],
)
def test_malformed_batch_names_the_file(cifar_root: Path, content: object, message: str) -> None:
    path = cifar_root / CIFAR10_FOLDER / "data_batch_1"
    _write(path, content)
    with pytest.raises(ValueError, match=message) as info:
        load_cifar10(cifar_root, num_train=10, num_val=0, num_test=0)
    assert str(path) in str(info.value)


def test_garbage_file_is_a_clear_value_error(cifar_root: Path) -> None:
    path = cifar_root / CIFAR10_FOLDER / "test_batch"
    path.write_bytes(b"this is not a pickle")
    with pytest.raises(ValueError, match="not a readable CIFAR-10 pickle") as info:
        load_cifar10(cifar_root, num_train=10, num_val=0, num_test=5)
    assert str(path) in str(info.value)


def test_read_batch_returns_uint8_nchw(cifar_root: Path) -> None:
    images, labels = read_batch(cifar_root / CIFAR10_FOLDER / "data_batch_2")
    assert images.shape == (PER_BATCH, 3, 32, 32)
    assert images.dtype == np.uint8
    np.testing.assert_array_equal(images.reshape(PER_BATCH, -1), _batch(1)[b"data"])
    np.testing.assert_array_equal(labels, _batch(1)[b"labels"])


def test_course_data_with_an_unknown_user_home_names_the_variable(monkeypatch) -> None:
    monkeypatch.setenv("COURSE_DATA", "~no_such_user_xyz/data")
    message = r"COURSE_DATA='~no_such_user_xyz/data': cannot expand '~no_such_user_xyz'"
    with pytest.raises(ValueError, match=message):
        data_root()
    with pytest.raises(ValueError, match=message):
        load_cifar10(num_train=10, num_val=0, num_test=0)


@pytest.mark.parametrize("below", ["", "sub/folder"])
def test_course_data_naming_a_file_says_it_must_be_a_folder(tmp_path, monkeypatch, below):
    file = tmp_path / "notes.txt"
    file.write_text("not a folder")
    monkeypatch.setenv("COURSE_DATA", str(file / below) if below else str(file))
    with pytest.raises(DatasetNotFoundError) as info:
        load_cifar10(num_train=10, num_val=0, num_test=0)
    message = str(info.value)
    assert message.startswith(f"load_cifar10: COURSE_DATA='{os.environ['COURSE_DATA']}': ")
    assert f": {file} is a file, not a folder" in message
    assert "Set COURSE_DATA to a folder, then extract cifar-10-python.tar.gz" in message
    assert "mkdir" not in message
    with pytest.raises(DatasetNotFoundError, match=re.escape(f"root='{file}': {file} is a file")):
        load_cifar10(file, num_train=10, num_val=0, num_test=0)


def _truncated_batch() -> bytes:
    return pickle.dumps(_batch(0), protocol=2)[:5000]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", r"not a readable CIFAR-10 pickle \(the file is empty\)"),
        (_truncated_batch(), "not a readable CIFAR-10 pickle"),
        (b"\x80\x02cno_such_module\nThing\nq\x00.", "not a readable CIFAR-10 pickle"),
        (b"\x80\x02}q\x00(U\x04dataq\x01", "not a readable CIFAR-10 pickle"),
        ({b"images": np.zeros((20, 3072), np.uint8)}, "it lacks b'data', b'labels'"),
        ({b"data": np.zeros(3072 * 20, np.uint8), b"labels": [0] * 20}, r"shape \(61440,\)"),
        ({b"data": np.zeros((0, 3072), np.uint8), b"labels": []}, r"shape \(0, 3072\)"),
        ({b"data": np.zeros((20, 3072)), b"labels": [0] * 20}, "dtype float64; expected uint8"),
    ],
    ids=["empty", "truncated", "unknown-class", "cut-dict", "keys", "flat", "no-rows", "dtype"],
)
def test_a_damaged_batch_is_one_message_with_the_file_and_how_to_restore_it(
    cifar_root: Path, content: object, problem: str
) -> None:
    path = cifar_root / CIFAR10_FOLDER / "data_batch_2"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        _write(path, content)
    with pytest.raises(ValueError, match=problem) as info:
        load_cifar10(cifar_root, num_train=30, num_val=0, num_test=0)
    message = str(info.value)
    assert message.startswith(f"load_cifar10: {path} is damaged: ")
    assert "https://www.cs.toronto.edu/~kriz/cifar.html" in message
    assert message.endswith(f"tar -xzf cifar-10-python.tar.gz -C {cifar_root}")


def test_a_damaged_meta_file_is_named_too(cifar_root: Path) -> None:
    path = cifar_root / CIFAR10_FOLDER / "batches.meta"
    _write(path, {b"num_vis": 3072})
    with pytest.raises(ValueError, match="lacks b'label_names'") as info:
        load_cifar10(cifar_root, num_train=10, num_val=0, num_test=0)
    assert f"{path} is damaged" in str(info.value)
    assert f"-C {cifar_root}" in str(info.value)
