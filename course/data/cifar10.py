"""Load a local copy of CIFAR-10 (the official "python version" batches).

The course never downloads anything. CIFAR-10 is read from
``<root>/cifar-10-batches-py/``, where ``root`` defaults to the course's data
root (``$COURSE_DATA``, else ``~/.course/data``; see ``course.data.paths``).
That folder is what ``cifar-10-python.tar.gz`` from
https://www.cs.toronto.edu/~kriz/cifar.html extracts to. It holds six batch
files (``data_batch_1`` .. ``data_batch_5`` with 10,000 training images each
and ``test_batch`` with 10,000 test images) and ``batches.meta``, all Python
pickles: a batch is a dict with ``b'data'``, a (10000, 3072) uint8 array whose
rows are one image each as three 32x32 colour planes (red, green, blue, each
row-major), and ``b'labels'``, a list of 10,000 class indices; the meta dict
has ``b'label_names'``.

``load_cifar10`` returns the same dict as ``course.data.load_shapes``, so the
two datasets are interchangeable in every notebook.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np

from course.data._validation import validate_split_sizes
from course.data.paths import DATA_ENV_VAR, DatasetNotFoundError, data_root
from course.data.splits import assemble_splits

CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar.html"
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
META_FILE = "batches.meta"
_PIXELS = 3 * 32 * 32


def _how_to_get(root: Path) -> str:
    """The instructions, for a data root, that every 'not found' message ends with."""
    return (
        f"To get CIFAR-10 (about 163 MB; the course downloads nothing itself):\n"
        f"  1. download {CIFAR10_ARCHIVE} from {CIFAR10_URL}\n"
        f"  2. mkdir -p {root} && tar -xzf {CIFAR10_ARCHIVE} -C {root}\n"
        f"This creates {root / CIFAR10_FOLDER}. To keep it elsewhere, extract it into "
        f"another folder and set {DATA_ENV_VAR} to that folder, or pass root=... ."
    )


def cifar10_folder(root: str | Path | None = None) -> Path:
    """Return the CIFAR-10 batch folder for ``root``, or raise DatasetNotFoundError.

    Inputs
    ------
    root : str, Path or None
        The folder that holds ``cifar-10-batches-py/``; None means ``data_root()``.
        A path to the ``cifar-10-batches-py`` folder itself is accepted too.

    Returns
    -------
    folder : Path
        The folder holding the batch files; every file the loader needs is there.
    """
    given = root
    root = data_root() if root is None else Path(root).expanduser()
    blocker = _file_in_the_way(root)
    if blocker is not None:
        raise DatasetNotFoundError(_not_a_folder(given, root, blocker))
    folder = root / CIFAR10_FOLDER
    if not folder.is_dir() and (root / META_FILE).is_file():
        folder, root = root, root.parent  # root names the batch folder itself
    if not folder.is_dir():
        raise DatasetNotFoundError(
            f"load_cifar10: CIFAR-10 not found: there is no folder {folder}\n" + _how_to_get(root)
        )
    missing = [
        name for name in (*TRAIN_BATCHES, TEST_BATCH, META_FILE) if not (folder / name).is_file()
    ]
    if missing:
        raise DatasetNotFoundError(
            f"load_cifar10: CIFAR-10 is incomplete: {folder} lacks {', '.join(missing)} "
            f"(looked for {folder / missing[0]}). Extract the archive again.\n" + _how_to_get(root)
        )
    return folder


def _not_a_folder(given: object, root: Path, blocker: Path) -> str:
    """The message for a data root that is (or lies below) a file."""
    if given is not None:
        where, fix = f"root={str(given)!r}", "Pass root=... naming a folder"
    elif os.environ.get(DATA_ENV_VAR, "").strip():
        where, fix = (
            f"{DATA_ENV_VAR}={os.environ[DATA_ENV_VAR]!r}",
            f"Set {DATA_ENV_VAR} to a folder",
        )
    else:
        where, fix = f"the default data root {root}", f"Move it away or set {DATA_ENV_VAR}"
    return (
        f"load_cifar10: {where}: {blocker} is a file, not a folder; the data root must be a "
        f"folder that holds {CIFAR10_FOLDER}/. {fix}, then extract {CIFAR10_ARCHIVE} "
        f"(from {CIFAR10_URL}) into that folder"
    )


def _file_in_the_way(root: Path) -> Path | None:
    """The file, if any, at ``root`` or at the nearest of its ancestors that exists."""
    for path in (root, *root.parents):
        if path.exists():
            return None if path.is_dir() else path
    return None


def _damaged(path: Path, problem: str) -> ValueError:
    """The one error for a CIFAR-10 file that is there but broken: which, what, how to restore."""
    folder = path.parent
    into = folder.parent if folder.name == CIFAR10_FOLDER else folder
    return ValueError(
        f"load_cifar10: {path} is damaged: {problem}. Restore it: download {CIFAR10_ARCHIVE} "
        f"from {CIFAR10_URL} and extract it again with: tar -xzf {CIFAR10_ARCHIVE} -C {into}"
    )


def _read_pickle(path: Path, expected: str) -> dict:
    """Unpickle one CIFAR-10 file (pickled by Python 2, so keys are bytes)."""
    try:
        with open(path, "rb") as f:
            content = pickle.load(f, encoding="bytes")
    except OSError:
        raise  # unreadable (permissions, a folder): the OS's message says why
    except Exception as error:  # any unpickling failure: truncated, empty, not a pickle
        reason = str(error) or type(error).__name__
        if path.stat().st_size == 0:
            reason = "the file is empty"
        raise _damaged(path, f"it is not a readable CIFAR-10 pickle ({reason})") from error
    if not isinstance(content, dict):
        raise _damaged(path, f"it holds a {type(content).__name__}; expected the dict {expected}")
    return content


def read_batch(path: str | Path, num_classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Read one CIFAR-10 batch file.

    Inputs
    ------
    path : str or Path
        A batch file such as ``data_batch_1`` or ``test_batch``.
    num_classes : int
        Labels must lie in [0, num_classes).

    Returns
    -------
    images : np.ndarray of uint8, shape (N, 3, 32, 32)
        The images, channels first (each row of ``b'data'`` is the R, G and B planes).
    labels : np.ndarray of int64, shape (N,)
    """
    path = Path(path)
    data, labels = _batch_arrays(path, _read_pickle(path, "of a CIFAR-10 batch"), num_classes)
    images = data.reshape(len(data), 3, 32, 32)  # (N, C, H, W): rows are R, G, B planes
    return images, labels.astype(np.int64)


def _batch_arrays(path: Path, batch: dict, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """b'data' (N, 3072) uint8 and b'labels' (N,) in [0, num_classes) of a batch, checked."""
    missing = [key for key in (b"data", b"labels") if key not in batch]
    if missing:
        found = ", ".join(repr(key) for key in batch) or "no keys"
        raise _damaged(
            path,
            f"it lacks {', '.join(repr(key) for key in missing)}; a CIFAR-10 batch has "
            f"b'data' and b'labels' (found {found})",
        )
    data = np.asarray(batch[b"data"])
    if data.ndim != 2 or data.shape[1] != _PIXELS or len(data) == 0:
        raise _damaged(
            path,
            f"b'data' has shape {data.shape}; expected (N, {_PIXELS}) with N >= 1, one "
            f"3x32x32 image per row",
        )
    if data.dtype != np.uint8:
        raise _damaged(path, f"b'data' has dtype {data.dtype}; expected uint8")
    labels = np.asarray(batch[b"labels"])
    if labels.shape != (len(data),) or not np.issubdtype(labels.dtype, np.integer):
        raise _damaged(
            path,
            f"it has {labels.size} labels of dtype {labels.dtype} for {len(data)} images; "
            f"expected one integer label per image",
        )
    if labels.min() < 0 or labels.max() >= num_classes:
        raise _damaged(
            path,
            f"it has labels from {labels.min()} to {labels.max()}; expected values in "
            f"[0, {num_classes})",
        )
    return data, labels


def read_label_names(path: str | Path) -> tuple[str, ...]:
    """Read the class names from ``batches.meta``."""
    path = Path(path)
    meta = _read_pickle(path, "of batches.meta")
    if b"label_names" not in meta:
        raise _damaged(path, "it lacks b'label_names', the class names of batches.meta")
    return tuple(
        name.decode("utf-8") if isinstance(name, bytes) else str(name)
        for name in meta[b"label_names"]
    )


def _read_images(folder: Path, names: tuple[str, ...], count: int, num_classes: int):
    """Read batch files in order until ``count`` images are in; return (X, y) uint8/int64."""
    images, labels, total = [], [], 0
    for name in names:
        if total >= count:
            break
        batch_images, batch_labels = read_batch(folder / name, num_classes)
        images.append(batch_images)
        labels.append(batch_labels)
        total += len(batch_labels)
    if total < count:
        return None, total
    if not images:  # count == 0
        return (np.zeros((0, 3, 32, 32), np.uint8), np.zeros(0, np.int64)), total
    return (np.concatenate(images)[:count], np.concatenate(labels)[:count]), total


def _to_float(images: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """uint8 (N, C, H, W) -> dtype (N, C, H, W) scaled to [0, 1]."""
    out = images.astype(dtype)
    out /= 255.0
    return out


def load_cifar10(
    root: str | Path | None = None,
    num_train: int = 49000,
    num_val: int = 1000,
    num_test: int = 1000,
    subtract_mean: bool = True,
    dtype: np.dtype | type = np.float32,
) -> dict[str, object]:
    """Load CIFAR-10 from a local copy, ready for training (same form as ``load_shapes``).

    The validation images are the ``num_val`` training-batch images right
    after the first ``num_train``; the test images are the first ``num_test``
    of ``test_batch``. Pixels are scaled from 0..255 to [0, 1]; then, if
    ``subtract_mean``, the per-pixel mean of the training images is
    subtracted from every split.

    Inputs
    ------
    root : str, Path or None
        The folder that holds ``cifar-10-batches-py/``; None means
        ``course.data.data_root()`` (``$COURSE_DATA`` or ``~/.course/data``).
    num_train : int
        Number of training images, at least 1; ``num_train + num_val`` may be
        at most the 50,000 images of the five training batches.
    num_val, num_test : int
        Number of validation and test images (each may be 0; at most 10,000 test images).
    subtract_mean : bool
        Subtract the training mean image from every split.
    dtype : numpy floating type
        The dtype of the X arrays.

    Returns
    -------
    data : dict
        ``'X_train'`` (N_train, 3, 32, 32), ``'y_train'`` (N_train,) int64, and
        likewise ``'X_val'``, ``'y_val'``, ``'X_test'``, ``'y_test'``;
        ``'class_names'`` a tuple of the ten names from ``batches.meta``;
        ``'mean_image'`` (3, 32, 32) the mean training image on the [0, 1] scale.

    Raises
    ------
    DatasetNotFoundError (a FileNotFoundError)
        The folder or one of its files is missing; the message says where the
        loader looked and how to get the data.
    ValueError
        A file is malformed, or more images are asked for than the files hold.
    """
    func = "load_cifar10"
    num_train, num_val, num_test, dtype = validate_split_sizes(
        func, num_train, num_val, num_test, dtype
    )
    folder = cifar10_folder(root)

    class_names = read_label_names(folder / META_FILE)
    num_classes = len(class_names)
    train, available = _read_images(folder, TRAIN_BATCHES, num_train + num_val, num_classes)
    if train is None:
        raise ValueError(
            f"{func}: num_train + num_val = {num_train} + {num_val} = {num_train + num_val} "
            f"exceeds the {available} images in {folder}'s training batches; "
            f"lower num_train or num_val"
        )
    test, available = _read_images(folder, (TEST_BATCH,), num_test, num_classes)
    if test is None:
        raise ValueError(
            f"{func}: num_test = {num_test} exceeds the {available} images in "
            f"{folder / TEST_BATCH}; lower num_test"
        )
    X, y = train
    splits = {
        "train": (_to_float(X[:num_train], dtype), y[:num_train]),
        "val": (_to_float(X[num_train:], dtype), y[num_train:]),
        "test": (_to_float(test[0], dtype), test[1]),
    }
    return assemble_splits(splits, class_names, subtract_mean)
