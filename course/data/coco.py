"""Load a local copy of the CS231n COCO captioning release (features, captions, vocabulary).

The course never downloads anything. The release is the folder that
``coco_captioning.zip`` (``COCO_URL``, what CS231n's ``get_datasets.sh`` /
``get_coco_captioning.sh`` fetch) extracts to, by default
``<data root>/coco_captioning/`` (``course.data.paths.data_root()``:
``$COURSE_DATA``, else ``~/.course/data``). It holds:

- ``coco2014_captions.h5``: ``train_captions`` (N_train, 17) and
  ``val_captions`` (N_val, 17) int32 word indices, each row
  ``<START> w1 ... <END> <NULL> ...``, and ``train_image_idxs`` /
  ``val_image_idxs`` (N,) int32, the image each caption row describes;
- ``train2014_vgg16_fc7.h5`` and ``val2014_vgg16_fc7.h5``: ``features``
  (N_images, 4096) float32, VGG-16 fc7 activations of every image, and
  ``..._pca.h5`` the same reduced to 512 dimensions by PCA;
- ``coco2014_vocab.json``: ``idx_to_word`` (list) and ``word_to_idx`` (dict);
- ``train2014_urls.txt`` and ``val2014_urls.txt``: one image URL a line.

``load_coco_data`` returns the same dict as CS231n's function of that name,
so captioning code written for it runs on it unchanged. The files are read
with h5py, imported only when the function runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from course.data._caption_validation import validate_coco_arguments
from course.data.paths import DATA_ENV_VAR, DatasetNotFoundError, data_root

__all__ = ["COCO_FOLDER", "COCO_URL", "coco_folder", "load_coco_data"]

COCO_FOLDER = "coco_captioning"
COCO_URL = "http://cs231n.stanford.edu/coco_captioning.zip"
CAPTIONS_FILE = "coco2014_captions.h5"
VOCAB_FILE = "coco2014_vocab.json"
_SPLITS = ("train", "val")


def _feature_file(split: str, pca_features: bool) -> str:
    return f"{split}2014_vgg16_fc7{'_pca' if pca_features else ''}.h5"


def _url_file(split: str) -> str:
    return f"{split}2014_urls.txt"


def coco_folder(base_dir: str | Path | None = None) -> Path:
    """The folder of the release: ``base_dir``, or ``data_root() / 'coco_captioning'`` for None."""
    if base_dir is None:
        return data_root() / COCO_FOLDER
    if not isinstance(base_dir, (str, Path)):
        raise TypeError(
            f"load_coco_data: base_dir must be a folder path (str or Path) or None, "
            f"got {type(base_dir).__name__}"
        )
    return Path(base_dir).expanduser()


def _how_to_get(folder: Path) -> str:
    """What every 'not found' message ends with: how to put the release into ``folder``."""
    into = folder.parent if folder.name == COCO_FOLDER else None
    unzip = (
        f"mkdir -p {into} && unzip coco_captioning.zip -d {into}"
        if into is not None
        else f"unzip coco_captioning.zip and move the files of its {COCO_FOLDER}/ into {folder}"
    )
    return (
        "To get the CS231n COCO captioning release (the course downloads nothing itself):\n"
        f"  1. download {COCO_URL} (what CS231n's get_datasets.sh or get_coco_captioning.sh "
        "fetches)\n"
        f"  2. {unzip}\n"
        f"To keep it elsewhere, set {DATA_ENV_VAR} to the folder that holds {COCO_FOLDER}/, "
        "or pass base_dir=... naming the coco_captioning folder itself."
    )


def _damaged(path: Path, problem: str) -> ValueError:
    return ValueError(
        f"load_coco_data: {path} is damaged: {problem}. Restore it: download {COCO_URL} "
        f"again and extract it"
    )


def _import_h5py():
    try:
        import h5py
    except ImportError as error:
        raise ImportError(
            "load_coco_data: reading the COCO captioning files needs h5py, which is not "
            "installed. Install it with: pip install h5py"
        ) from error
    return h5py


def _read_h5(h5py, path: Path) -> dict[str, np.ndarray]:
    """Every dataset at the top level of an HDF5 file, as arrays."""
    try:
        with h5py.File(path, "r") as f:
            return {key: np.asarray(value) for key, value in f.items()}
    except OSError as error:
        raise _damaged(path, f"it is not a readable HDF5 file ({error})") from error


def _check_split(data: dict, split: str, folder: Path, pca_features: bool) -> None:
    """Check that a split's captions, image indices and features fit together."""
    captions_path, features_path = (
        folder / CAPTIONS_FILE,
        folder / _feature_file(split, pca_features),
    )
    captions, idxs = data[f"{split}_captions"], data[f"{split}_image_idxs"]
    features, vocab_size = data[f"{split}_features"], len(data["idx_to_word"])
    if captions.ndim != 2 or not np.issubdtype(captions.dtype, np.integer):
        raise _damaged(
            captions_path,
            f"{split}_captions has shape {captions.shape} and dtype {captions.dtype}; "
            "expected (N, T) integer word indices",
        )
    if idxs.shape != (len(captions),) or not np.issubdtype(idxs.dtype, np.integer):
        raise _damaged(
            captions_path,
            f"{split}_image_idxs has shape {idxs.shape}; expected ({len(captions)},) integers, "
            f"one image per caption row",
        )
    if features.ndim != 2:
        raise _damaged(features_path, f"features has shape {features.shape}; expected (N, D)")
    if idxs.size and (idxs.min() < 0 or idxs.max() >= len(features)):
        raise _damaged(
            captions_path,
            f"{split}_image_idxs reach image {idxs.max()}, but {features_path.name} has "
            f"features of {len(features)} images",
        )
    if captions.size and (captions.min() < 0 or captions.max() >= vocab_size):
        raise _damaged(
            captions_path,
            f"{split}_captions hold word indices up to {captions.max()}, but "
            f"{VOCAB_FILE} has {vocab_size} words",
        )


def load_coco_data(
    base_dir: str | Path | None = None,
    max_train: int | None = None,
    pca_features: bool = True,
    *,
    seed: int = 0,
) -> dict[str, object]:
    """Load the CS231n COCO captioning release from a local copy.

    Inputs
    ------
    base_dir : str, Path or None
        The ``coco_captioning`` folder; None means ``data_root() / 'coco_captioning'``.
    max_train : int or None
        Keep only this many training caption rows, drawn at random without
        replacement (with their image indices); None keeps all.
    pca_features : bool
        Read the 512-dimensional PCA features (True) or the 4096-dimensional fc7 ones.
    seed : int
        Seed of the ``max_train`` draw (CS231n's draw is unseeded).

    Returns
    -------
    data : dict, as CS231n's ``load_coco_data``:
        ``'train_captions'`` (N_train, T) int32 and ``'val_captions'`` (N_val, T);
        ``'train_image_idxs'`` (N_train,) and ``'val_image_idxs'`` (N_val,);
        ``'train_features'`` (I_train, D) and ``'val_features'`` (I_val, D)
        float32 with D = 512 (PCA) or 4096; ``'idx_to_word'`` list of V str and
        ``'word_to_idx'`` dict; ``'train_urls'`` (I_train,) and ``'val_urls'``
        (I_val,) arrays of str. Any other dataset of the captions file is kept too.

    Raises
    ------
    DatasetNotFoundError (a FileNotFoundError)
        The folder or one of its files is missing; the message says where the
        loader looked and how to get the release.
    ImportError
        h5py is not installed (pip install h5py).
    ValueError
        A file is damaged, or ``max_train`` exceeds the training captions.
    """
    func = "load_coco_data"
    max_train, pca_features, seed = validate_coco_arguments(func, max_train, pca_features, seed)
    folder = coco_folder(base_dir)
    files = [CAPTIONS_FILE, VOCAB_FILE]
    files += [
        name
        for split in _SPLITS
        for name in (_feature_file(split, pca_features), _url_file(split))
    ]
    missing = [name for name in files if not (folder / name).is_file()]
    if missing:
        what = (
            f"the folder {folder} does not exist"
            if not folder.is_dir()
            else f"{folder} lacks {', '.join(missing)}"
        )
        raise DatasetNotFoundError(
            f"{func}: no COCO captioning release found: {what}.\n{_how_to_get(folder)}"
        )
    h5py = _import_h5py()

    data: dict[str, object] = dict(_read_h5(h5py, folder / CAPTIONS_FILE))
    for split in _SPLITS:
        path = folder / _feature_file(split, pca_features)
        features = _read_h5(h5py, path)
        if "features" not in features:
            raise _damaged(path, f"it lacks the dataset 'features' (found {sorted(features)})")
        data[f"{split}_features"] = features["features"]
        lines = (folder / _url_file(split)).read_text(encoding="utf-8").splitlines()
        data[f"{split}_urls"] = np.asarray([line.strip() for line in lines])
    try:
        vocab = json.loads((folder / VOCAB_FILE).read_text(encoding="utf-8"))
    except ValueError as error:
        raise _damaged(folder / VOCAB_FILE, f"it is not valid JSON ({error})") from error
    for key in ("idx_to_word", "word_to_idx"):
        if not isinstance(vocab, dict) or key not in vocab:
            raise _damaged(folder / VOCAB_FILE, f"it lacks {key!r}")
        data[key] = vocab[key]
    for split in _SPLITS:
        for key in (f"{split}_captions", f"{split}_image_idxs"):
            if key not in data:
                raise _damaged(folder / CAPTIONS_FILE, f"it lacks the dataset {key!r}")
        _check_split(data, split, folder, pca_features)

    if max_train is not None:
        num_train = len(data["train_captions"])
        if max_train > num_train:
            raise ValueError(
                f"{func}: max_train={max_train} exceeds the {num_train} training captions; "
                f"lower it or pass None"
            )
        rows = np.sort(np.random.default_rng(seed).choice(num_train, max_train, replace=False))
        data["train_captions"] = data["train_captions"][rows]
        data["train_image_idxs"] = data["train_image_idxs"][rows]
    return data
