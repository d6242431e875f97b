"""Tests for course/data/coco.py on a tiny fake copy of the CS231n COCO captioning release.

The fixture writes the release's files in their format (HDF5 written with
h5py, a JSON vocabulary, URL lists) under a data root that COURSE_DATA
points to, so nothing here needs the real download.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from course.data.caption_dataset import decode_captions
from course.data.coco import COCO_FOLDER, COCO_URL, load_coco_data
from course.data.paths import DatasetNotFoundError

try:
    import h5py
except ImportError:  # the tests that write HDF5 files skip; the others still run
    h5py = None
FILES = ["coco2014_captions.h5", "coco2014_vocab.json"] + [
    f"{split}2014_{name}" for split in ("train", "val")
    for name in ("vgg16_fc7.h5", "vgg16_fc7_pca.h5", "urls.txt")
]  # fmt: skip

WORDS = ["<NULL>", "<START>", "<END>", "<UNK>", "a", "man", "riding", "horse", "dog"]
IMAGES = {"train": 6, "val": 4}
CAPTIONS = {"train": 12, "val": 8}
T = 7


def _captions(split: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(len(split))
    n = CAPTIONS[split]
    captions = np.zeros((n, T), dtype=np.int32)
    captions[:, 0] = 1
    captions[:, 1:4] = rng.integers(4, len(WORDS), size=(n, 3))
    captions[:, 4] = 2
    idxs = (np.arange(n) % IMAGES[split]).astype(np.int32)
    return captions, idxs


def _write_release(folder: Path) -> None:
    folder.mkdir(parents=True)
    with h5py.File(folder / "coco2014_captions.h5", "w") as f:
        for split in ("train", "val"):
            captions, idxs = _captions(split)
            f[f"{split}_captions"] = captions
            f[f"{split}_image_idxs"] = idxs
    for split, n in IMAGES.items():
        for suffix, dim in (("", 16), ("_pca", 4)):
            with h5py.File(folder / f"{split}2014_vgg16_fc7{suffix}.h5", "w") as f:
                features = len(suffix) + np.arange(n)[:, None] + np.zeros(dim)  # (n, dim)
                f["features"] = features.astype(np.float32)
        urls = "".join(f"http://images.example/{split}/{i}.jpg\n" for i in range(n))
        (folder / f"{split}2014_urls.txt").write_text(urls, encoding="utf-8")
    vocab = {"idx_to_word": WORDS, "word_to_idx": {w: i for i, w in enumerate(WORDS)}}
    (folder / "coco2014_vocab.json").write_text(json.dumps(vocab), encoding="utf-8")


@pytest.fixture
def coco_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data root holding a tiny release in coco_captioning/, set as COURSE_DATA."""
    if h5py is None:
        pytest.skip("h5py is not installed")
    _write_release(tmp_path / COCO_FOLDER)
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    return tmp_path


def test_the_release_loads_from_the_data_root_like_cs231n(coco_root: Path) -> None:
    data = load_coco_data()
    for split in ("train", "val"):
        captions, idxs = _captions(split)
        np.testing.assert_array_equal(data[f"{split}_captions"], captions)
        np.testing.assert_array_equal(data[f"{split}_image_idxs"], idxs)
        assert data[f"{split}_features"].shape == (IMAGES[split], 4)  # the PCA features
        assert data[f"{split}_features"].dtype == np.float32
        assert data[f"{split}_urls"].shape == (IMAGES[split],)
        assert data[f"{split}_urls"][1] == f"http://images.example/{split}/1.jpg"
    assert data["idx_to_word"] == WORDS and data["word_to_idx"]["horse"] == 7
    text = decode_captions(data["train_captions"][0], data["idx_to_word"])
    assert len(text.split()) == 3 and set(text.split()) <= set(WORDS[4:])


def test_pca_features_false_reads_the_fc7_features(coco_root: Path) -> None:
    data = load_coco_data(pca_features=False)
    assert data["train_features"].shape == (IMAGES["train"], 16)
    np.testing.assert_array_equal(data["val_features"][:, 0], np.arange(IMAGES["val"]))


def test_base_dir_names_the_folder_itself(coco_root: Path, monkeypatch) -> None:
    monkeypatch.delenv("COURSE_DATA")
    data = load_coco_data(base_dir=coco_root / COCO_FOLDER)
    assert data["val_captions"].shape == (CAPTIONS["val"], T)


def test_max_train_keeps_a_seeded_sample_of_caption_rows(coco_root: Path) -> None:
    full = load_coco_data()
    few = load_coco_data(max_train=5)
    assert few["train_captions"].shape == (5, T) and few["train_image_idxs"].shape == (5,)
    rows = [
        int(np.flatnonzero((full["train_captions"] == row).all(1))[0])
        for row in few["train_captions"]
    ]
    assert len(set(rows)) == 5  # without replacement
    np.testing.assert_array_equal(few["train_image_idxs"], full["train_image_idxs"][rows])
    np.testing.assert_array_equal(
        load_coco_data(max_train=5)["train_captions"], few["train_captions"]
    )
    assert few["val_captions"].shape == full["val_captions"].shape  # val is never cut
    with pytest.raises(ValueError, match="max_train=13 exceeds the 12 training captions"):
        load_coco_data(max_train=13)


def test_a_missing_folder_says_where_it_looked_and_how_to_get_the_release(
    tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    with pytest.raises(DatasetNotFoundError) as caught:
        load_coco_data()
    message = str(caught.value)
    assert isinstance(caught.value, FileNotFoundError)
    assert f"{tmp_path / COCO_FOLDER} does not exist" in message
    assert COCO_URL in message and f"unzip coco_captioning.zip -d {tmp_path}" in message


def test_a_missing_file_is_named(coco_root: Path) -> None:
    (coco_root / COCO_FOLDER / "val2014_vgg16_fc7_pca.h5").unlink()
    with pytest.raises(DatasetNotFoundError, match="lacks val2014_vgg16_fc7_pca.h5"):
        load_coco_data()
    assert load_coco_data(pca_features=False)["val_features"].shape == (IMAGES["val"], 16)


def test_without_h5py_the_error_says_how_to_install_it(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / COCO_FOLDER).mkdir()
    for name in FILES:  # every file is there (empty): only h5py is missing
        (tmp_path / COCO_FOLDER / name).write_bytes(b"")
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    monkeypatch.setitem(sys.modules, "h5py", None)  # makes `import h5py` fail
    with pytest.raises(ImportError, match="pip install h5py"):
        load_coco_data()


def test_damaged_files_are_named(coco_root: Path) -> None:
    folder = coco_root / COCO_FOLDER
    with h5py.File(folder / "coco2014_captions.h5", "a") as f:
        del f["val_image_idxs"]
        f["val_image_idxs"] = np.full(CAPTIONS["val"], 99, dtype=np.int32)
    with pytest.raises(ValueError, match="val_image_idxs reach image 99, but val2014_vgg16"):
        load_coco_data()
    (folder / "coco2014_vocab.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="coco2014_vocab.json is damaged: it is not valid JSON"):
        load_coco_data()
    (folder / "train2014_vgg16_fc7_pca.h5").write_bytes(b"not hdf5")
    with pytest.raises(ValueError, match="train2014_vgg16_fc7_pca.h5 is damaged"):
        load_coco_data()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"max_train": 0}, ValueError, "max_train must be a positive integer"),
        ({"pca_features": "yes"}, TypeError, "pca_features must be True or False"),
        ({"base_dir": 3}, TypeError, "base_dir must be a folder path"),
        ({"seed": -1}, ValueError, "seed must be a non-negative integer"),
    ],
)
def test_bad_arguments_are_refused(coco_root: Path, kwargs, error, message) -> None:
    with pytest.raises(error, match=message):
        load_coco_data(**kwargs)
