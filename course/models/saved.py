"""A trained image classifier saved as data only, in one ``.npz`` file, and loaded back safely.

:func:`save_model` writes a ``TinyVGG``, ``ThreeLayerConvNet``,
``FullyConnectedNet`` or ``TwoLayerNet`` as one ``.npz`` file of plain
arrays (``numpy.savez``, no pickled objects), so a file from anyone can be
loaded without running code from it. Inside:

- ``model.json``: a uint8 array holding UTF-8 JSON
  ``{"format": "course-model", "version": 1, "class": "TinyVGG", "config": {...}}``,
  the class name and its constructor arguments;
- ``params/<name>``: every parameter (``params/W1`` ...);
- ``bn<i>/running_mean``, ``bn<i>/running_var``: batchnorm's running averages
  of the i-th batchnorm layer, when the model has batchnorm;
- ``mean_image``: the (3, 32, 32) mean training image that the model's inputs
  must have subtracted, when one was given.

:func:`load_model` reads such a file with ``allow_pickle=False``, after
reading every array's header (dtype and shape) from the zip without
decompressing it: a pickled array, a file too large, an unknown class, a
config that does not build, and missing, extra, misshapen or non-finite
arrays are each refused with an :class:`~course.artefacts.ArtefactError`
naming the file and the problem. The grader loads students' files with it.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from course.artefacts import ArtefactError, NotSavedError, write_arrays
from course.models.cnn import ThreeLayerConvNet, TinyVGG
from course.models.fc_net import FullyConnectedNet, TwoLayerNet

__all__ = ["MODEL_CLASSES", "load_model", "predict", "save_model"]

FORMAT = "course-model"
VERSION = 1
RECORD = "model.json"  # the array holding the JSON record
MAX_FILE_BYTES = 200 * 2**20  # a saved course model is a few MB; refuse anything huge
MAX_ELEMENTS = 25_000_000  # in all arrays together (100 MB of float32)
MODEL_CLASSES: dict[str, type] = {
    "TinyVGG": TinyVGG,
    "ThreeLayerConvNet": ThreeLayerConvNet,
    "FullyConnectedNet": FullyConnectedNet,
    "TwoLayerNet": TwoLayerNet,
}
_BN_KEYS = ("running_mean", "running_var")
_DTYPES = ("float32", "float64")


def save_model(
    model: Any,
    path: str | os.PathLike,
    mean_image: np.ndarray | None = None,
    overwrite: bool = False,
) -> Path:
    """Save a trained classifier as one ``.npz`` file of data (no pickle); return its path.

    Inputs:
    - model: a TinyVGG, ThreeLayerConvNet, FullyConnectedNet or TwoLayerNet;
      one with batchnorm must have run a training step (its running averages)
    - path: the file to write, e.g. "best_model.npz" (its folder must exist)
    - mean_image: (C, H, W) mean training image the model's inputs had
      subtracted (``data["mean_image"]`` of ``load_shapes``); None means the
      model takes the [0, 1] images as they are. When None and the model
      carries a ``mean_image`` (a pretrained TinyVGG does), that one is saved.
    - overwrite: replace an existing file; when False (the default) an
      existing file is never touched and FileExistsError is raised

    The file is written atomically. Raises TypeError for another kind of
    model, NotSavedError for NaN or inf weights or missing batchnorm averages.
    """
    class_name = type(model).__name__
    if MODEL_CLASSES.get(class_name) is not type(model):
        raise TypeError(
            f"save_model: expected one of {', '.join(MODEL_CLASSES)}, got {class_name}"
        )
    if mean_image is None:
        mean_image = getattr(model, "mean_image", None)
    arrays = {f"params/{name}": np.asarray(value) for name, value in model.params.items()}
    for i, bn_param in enumerate(getattr(model, "bn_params", []), start=1):
        for key in _BN_KEYS:
            if key not in bn_param:
                raise NotSavedError(
                    f"save_model: batchnorm layer {i} has no {key}: the model never ran a "
                    "training step, so there is nothing to save; train it first"
                )
            arrays[f"bn{i}/{key}"] = np.asarray(bn_param[key])
    if mean_image is not None:
        mean_image = np.asarray(mean_image)
        if mean_image.size != _input_size(model) or not np.issubdtype(
            mean_image.dtype, np.floating
        ):
            raise ValueError(
                f"save_model: mean_image has shape {mean_image.shape} and dtype "
                f"{mean_image.dtype}; expected a float image with the model's "
                f"{_input_size(model)} input values, e.g. data['mean_image'] (3, 32, 32)"
            )
        arrays["mean_image"] = mean_image
    bad = [name for name, value in arrays.items() if not np.isfinite(value).all()]
    if bad:
        raise NotSavedError(
            f"save_model: {', '.join(bad)} hold NaN or inf (training diverged); nothing was saved"
        )
    record = {"format": FORMAT, "version": VERSION, "class": class_name, "config": _config(model)}
    arrays[RECORD] = np.frombuffer(json.dumps(record).encode("utf-8"), dtype=np.uint8)
    return write_arrays(Path(path), arrays, overwrite=overwrite, compressed=True)


def load_model(path: str | os.PathLike) -> Any:
    """Load a model that :func:`save_model` wrote, checking everything; no code runs from it.

    Returns the model (its class as saved), in test mode, with
    ``model.mean_image`` set to the saved (C, H, W) mean image or None.
    Raises FileNotFoundError for a missing file and
    :class:`~course.artefacts.ArtefactError` naming the file and the problem
    for anything else wrong with it.
    """
    path = Path(path)
    how = "save it again with course.models.save_model(model, path, mean_image=...)"
    headers = _array_headers(path, how)
    if RECORD not in headers:
        raise ArtefactError(
            f"{path}: has no {RECORD!r} record, so save_model did not write it; {how}"
        )
    with np.load(path, allow_pickle=False) as data:
        record_bytes = data[RECORD]
    record = _read_record(path, record_bytes, how)
    cls = MODEL_CLASSES[record["class"]]
    config = _checked_config(path, record["class"], record["config"], how)
    try:
        model = cls(**config)
    except (TypeError, ValueError) as error:
        raise ArtefactError(
            f"{path}: its config does not build a {record['class']} ({error}); {how}"
        ) from None
    expected = {f"params/{name}": value.shape for name, value in model.params.items()}
    bn_layers = len(getattr(model, "bn_params", []))
    for i in range(1, bn_layers + 1):
        width = _bn_width(model, i)
        expected.update({f"bn{i}/{key}": (width,) for key in _BN_KEYS})
    optional = {"mean_image": None}
    _require_arrays(path, headers, expected, optional, how)
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in expected}
        mean_image = data["mean_image"] if "mean_image" in headers else None
    bad = [name for name, value in arrays.items() if not np.isfinite(value).all()]
    if bad:
        raise ArtefactError(f"{path}: {', '.join(bad)} hold NaN or inf; {how}")
    for name in model.params:
        model.params[name] = arrays[f"params/{name}"].astype(model.dtype)
    for i, bn_param in enumerate(getattr(model, "bn_params", []), start=1):
        for key in _BN_KEYS:
            bn_param[key] = arrays[f"bn{i}/{key}"].astype(model.dtype)
        bn_param["mode"] = "test"
    if mean_image is not None:
        if mean_image.size != _input_size(model) or not np.isfinite(mean_image).all():
            raise ArtefactError(
                f"{path}: mean_image has shape {mean_image.shape}, not the model's "
                f"{_input_size(model)} input values, or holds NaN or inf; {how}"
            )
        mean_image = mean_image.astype(model.dtype)
    model.mean_image = mean_image
    return model


def predict(model: Any, images: np.ndarray, batch_size: int = 250) -> np.ndarray:
    """Predicted labels (N,) for [0, 1] images (N, C, H, W), the model's mean image subtracted."""
    mean_image = getattr(model, "mean_image", None)
    labels = []
    for start in range(0, len(images), batch_size):
        X = images[start : start + batch_size]  # (B, C, H, W)
        if mean_image is not None:
            X = X - mean_image.reshape(X.shape[1:])
        scores = model.loss(X.astype(model.dtype, copy=False))  # (B, num_classes)
        labels.append(np.argmax(scores, axis=1))
    return np.concatenate(labels)


# ---------------------------------------------------------------------------
# The config of each class: what its constructor needs to rebuild it
# ---------------------------------------------------------------------------


def _config(model: Any) -> dict[str, Any]:
    """The constructor arguments that rebuild ``model`` (shapes, settings), JSON-ready."""
    p = model.params
    common = {"reg": model.reg, "dtype": model.dtype.name}
    if isinstance(model, TinyVGG):
        return model.config()
    if isinstance(model, ThreeLayerConvNet):
        F, _, HH, _ = p["W1"].shape
        return {
            "input_dim": list(model.input_dim),
            "num_filters": F,
            "filter_size": HH,
            "hidden_dim": p["W2"].shape[1],
            "num_classes": p["W3"].shape[1],
            **common,
        }
    if isinstance(model, FullyConnectedNet):
        L = model.num_layers
        return {
            "hidden_dims": [p[f"W{i}"].shape[1] for i in range(1, L)],
            "input_dim": p["W1"].shape[0],
            "num_classes": p[f"W{L}"].shape[1],
            "dropout_keep_ratio": model.dropout_keep_ratio,
            "normalization": model.normalization,
            "seed": model.seed,
            **common,
        }
    return {  # TwoLayerNet
        "input_dim": p["W1"].shape[0],
        "hidden_dim": p["W1"].shape[1],
        "num_classes": p["W2"].shape[1],
        **common,
    }


# The settings each class's record may hold, and the kind of each.
_KEYS = {
    "TinyVGG": {
        "input_dim": "dims",
        "stages": "stages",
        "hidden_dims": "list",
        "num_classes": "int",
        "normalization": "norm",
        "reg": "float",
        "dtype": "dtype",
    },
    "ThreeLayerConvNet": {
        "input_dim": "dims",
        "num_filters": "int",
        "filter_size": "int",
        "hidden_dim": "int",
        "num_classes": "int",
        "reg": "float",
        "dtype": "dtype",
    },
    "FullyConnectedNet": {
        "hidden_dims": "list",
        "input_dim": "int",
        "num_classes": "int",
        "dropout_keep_ratio": "float",
        "normalization": "norm",
        "seed": "seed",
        "reg": "float",
        "dtype": "dtype",
    },
    "TwoLayerNet": {
        "input_dim": "int",
        "hidden_dim": "int",
        "num_classes": "int",
        "reg": "float",
        "dtype": "dtype",
    },
}


def _checked_config(path: Path, class_name: str, config: object, how: str) -> dict[str, Any]:
    """The record's config as constructor arguments, refused unless every value is plain and
    the model it builds stays small (a file must not make the loader allocate gigabytes)."""
    keys = _KEYS[class_name]
    if not isinstance(config, dict) or set(config) != set(keys):
        got = sorted(config) if isinstance(config, dict) else type(config).__name__
        raise ArtefactError(
            f"{path}: the {class_name} config must have exactly the keys {sorted(keys)}; "
            f"got {got}; {how}"
        )
    ok = {
        "int": _is_int,
        "seed": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
        "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "dims": lambda v: isinstance(v, list) and len(v) == 3 and all(map(_is_int, v)),
        "list": lambda v: isinstance(v, list) and len(v) <= 16 and all(map(_is_int, v)),
        "stages": lambda v: (
            isinstance(v, list)
            and len(v) <= 8
            and all(isinstance(s, list) and len(s) <= 8 and all(map(_is_int, s)) for s in v)
        ),
        "norm": lambda v: v in (None, "batchnorm"),
        "dtype": lambda v: v in _DTYPES,
    }
    for key, kind in keys.items():
        if not ok[kind](config[key]):
            raise ArtefactError(f"{path}: config {key} = {config[key]!r} is not valid; {how}")
    count = _parameter_count(class_name, config)
    if count > MAX_ELEMENTS:
        raise ArtefactError(
            f"{path}: its config describes a {class_name} of {count:,} parameters, more than "
            f"the {MAX_ELEMENTS:,} a course model may have; {how}"
        )
    return {**config, "dtype": np.dtype(config["dtype"])}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 100_000


def _parameter_count(class_name: str, c: Mapping[str, Any]) -> int:
    """How many numbers the model that config ``c`` describes holds (before building it)."""
    if class_name == "TwoLayerNet":
        dims = [c["input_dim"], c["hidden_dim"], c["num_classes"]]
    elif class_name == "FullyConnectedNet":
        dims = [c["input_dim"], *c["hidden_dims"], c["num_classes"]]
    elif class_name == "ThreeLayerConvNet":
        C, H, W = c["input_dim"]
        F, HH = c["num_filters"], c["filter_size"]
        conv = F * C * HH * HH + F
        dims = [F * (H // 2) * (W // 2), c["hidden_dim"], c["num_classes"]]
        return conv + sum(a * b + b for a, b in zip(dims[:-1], dims[1:], strict=True))
    else:  # TinyVGG
        C, H, W = c["input_dim"]
        conv, channels = 0, C
        for stage in c["stages"]:
            for filters in stage:
                conv += filters * channels * 9 + 3 * filters
                channels = filters
        factor = 2 ** len(c["stages"])
        dims = [channels * (H // factor) * (W // factor), *c["hidden_dims"], c["num_classes"]]
        return conv + sum(a * b + b for a, b in zip(dims[:-1], dims[1:], strict=True))
    return sum(a * b + 3 * b for a, b in zip(dims[:-1], dims[1:], strict=True))


def _input_size(model: Any) -> int:
    """The number of values one input image has (C*H*W, or D for the fully connected nets)."""
    if isinstance(model, (TinyVGG, ThreeLayerConvNet)):
        return int(np.prod(model.input_dim))
    return model.params["W1"].shape[0]


def _bn_width(model: Any, i: int) -> int:
    """The number of features the i-th batchnorm layer normalises (its gamma's length)."""
    return model.params[f"gamma{i}"].shape[0]


# ---------------------------------------------------------------------------
# Reading the file: headers first, then the record
# ---------------------------------------------------------------------------


def _array_headers(path: Path, how: str) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Name -> (shape, dtype) of every array in the ``.npz``, read from the headers only.

    Refuses (ArtefactError) a file that is too large, not an ``.npz``, holds
    something other than ``.npy`` arrays, an array of Python objects (pickle),
    or more than MAX_ELEMENTS numbers.
    """
    size = path.stat().st_size  # FileNotFoundError for a missing file
    if size > MAX_FILE_BYTES:
        raise ArtefactError(
            f"{path}: is {size / 2**20:.0f} MiB; a course model file is at most "
            f"{MAX_FILE_BYTES // 2**20} MiB"
        )
    headers = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    raise ArtefactError(
                        f"{path}: holds {info.filename!r}, which is not a numpy array; {how}"
                    )
                with archive.open(info) as handle:
                    version = np.lib.format.read_magic(handle)
                    read_header = (
                        np.lib.format.read_array_header_1_0
                        if version == (1, 0)
                        else np.lib.format.read_array_header_2_0
                    )
                    shape, _, dtype = read_header(handle)
                headers[info.filename[: -len(".npy")]] = (tuple(shape), dtype)
    except ArtefactError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        what = (
            "is empty" if size == 0 else f"is not an .npz file ({type(error).__name__}: {error})"
        )
        raise ArtefactError(f"{path}: {what}; {how}") from None
    pickled = [name for name, (_, dtype) in headers.items() if dtype.hasobject]
    if pickled:
        raise ArtefactError(
            f"{path}: the array(s) {', '.join(pickled)} hold Python objects (pickle), which are "
            f"never loaded: a saved model is numbers only; {how}"
        )
    total = sum(int(np.prod(shape)) for shape, _ in headers.values())
    if total > MAX_ELEMENTS:
        raise ArtefactError(
            f"{path}: holds {total:,} numbers, more than the {MAX_ELEMENTS:,} a course model may"
        )
    return headers


def _read_record(path: Path, raw: np.ndarray, how: str) -> dict[str, Any]:
    """The JSON record (format, version, class, config), or ArtefactError saying what is wrong."""
    try:
        record = json.loads(raw.astype(np.uint8).tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ArtefactError(f"{path}: its {RECORD} record is not JSON ({error}); {how}") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ArtefactError(f"{path}: was not written by course.models.save_model; {how}")
    if record.get("version") != VERSION:
        raise ArtefactError(
            f"{path}: is format version {record.get('version')!r}; this course reads version "
            f"{VERSION}; {how}"
        )
    class_name = record.get("class")
    if class_name not in MODEL_CLASSES:
        raise ArtefactError(
            f"{path}: holds a model of class {class_name!r}; only {', '.join(MODEL_CLASSES)} "
            f"can be loaded; {how}"
        )
    if "config" not in record:
        raise ArtefactError(f"{path}: its record has no config; {how}")
    return record


def _require_arrays(
    path: Path,
    headers: Mapping[str, tuple[tuple[int, ...], np.dtype]],
    expected: Mapping[str, tuple[int, ...]],
    optional: Mapping[str, tuple[int, ...] | None],
    how: str,
) -> None:
    """Every expected array is there with its shape and a float dtype; nothing else is."""
    for name, shape in expected.items():
        if name not in headers:
            raise ArtefactError(f"{path}: has no array {name!r}, which its model needs; {how}")
        found, dtype = headers[name]
        if found != tuple(shape):
            raise ArtefactError(
                f"{path}: array {name!r} has shape {found}, but its model needs {tuple(shape)}; "
                f"{how}"
            )
        if not np.issubdtype(dtype, np.floating):
            raise ArtefactError(f"{path}: array {name!r} is {dtype}, not floats; {how}")
    extra = sorted(set(headers) - set(expected) - set(optional) - {RECORD})
    if extra:
        raise ArtefactError(
            f"{path}: holds arrays its model does not have: {', '.join(extra)} (a file of "
            f"another model?); {how}"
        )
    if "mean_image" in headers and not np.issubdtype(headers["mean_image"][1], np.floating):
        raise ArtefactError(f"{path}: mean_image is {headers['mean_image'][1]}, not floats; {how}")
