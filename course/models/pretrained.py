"""Pretrained models shipped inside the package, in ``course/weights/``.

A pretrained model is two files: ``NAME.npz`` (compressed arrays: the
parameters, the batchnorm running averages and the mean training image) and
``NAME.json`` (how it was made: the model's configuration, the command, the
seed, the dataset sizes, the accuracies and the training time).
``course train tinyvgg`` writes them (atomically, never over an existing
pair without ``--overwrite``); :func:`load_pretrained` reads them back and
turns a damaged pair into one :class:`~course.artefacts.ArtefactError` that
says how to restore it. Nothing is ever downloaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from course.artefacts import (
    ArtefactError,
    NotSavedError,
    building_from,
    read_arrays,
    read_record,
    require_new_model_folder,
    save_arrays_and_record,
)
from course.models.cnn import TinyVGG

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
_FORMAT = "course-pretrained"
_BN_KEYS = ("running_mean", "running_var")
PRETRAINED = {
    "tinyvgg-shapes": "TinyVGG trained on Shapes-10 by `course train tinyvgg`",
}


def save_pretrained(
    model: TinyVGG,
    name: str,
    info: dict[str, Any],
    folder: str | Path = WEIGHTS_DIR,
    overwrite: bool = False,
) -> tuple[Path, Path]:
    """Write ``NAME.npz`` and ``NAME.json`` for ``model`` into ``folder``; return both paths.

    ``info`` (JSON-ready values) is stored beside the model's configuration.
    Each file is written atomically (see :mod:`course.artefacts`); existing
    files are replaced only with ``overwrite=True``; a model holding NaN or
    inf, or whose batchnorm layers never ran a training step, is refused
    (:class:`~course.artefacts.NotSavedError`).
    """
    if not isinstance(model, TinyVGG):
        raise TypeError(f"save_pretrained: expected a TinyVGG, got {type(model).__name__}")
    folder = Path(folder)
    weights, meta = folder / f"{name}.npz", folder / f"{name}.json"
    require_new_model_folder("save_pretrained", folder, (weights.name, meta.name), overwrite)
    for i, bn_param in enumerate(model.bn_params, start=1):
        missing = [key for key in _BN_KEYS if key not in bn_param]
        if missing:
            raise NotSavedError(
                f"save_pretrained: batchnorm layer {i} has no {missing[0]}: the model never ran "
                "a training step, so there is nothing to save; train it first"
            )
    folder.mkdir(parents=True, exist_ok=True)
    arrays = model_arrays(model)
    record = {"format": _FORMAT, "name": name, "model": "TinyVGG", "config": model.config()}
    return save_arrays_and_record(
        weights, arrays, meta, {**record, **info}, overwrite=overwrite, compressed=True
    )


def model_arrays(model: TinyVGG) -> dict[str, np.ndarray]:
    """Every array a TinyVGG's outputs depend on, named as in ``NAME.npz``.

    ``params/<name>`` for each parameter, ``bn<i>/running_mean`` and
    ``bn<i>/running_var`` for the batchnorm averages it has, and
    ``mean_image`` when it carries one.
    """
    arrays = {f"params/{k}": v for k, v in model.params.items()}
    for i, bn_param in enumerate(model.bn_params, start=1):
        for key in _BN_KEYS:
            if key in bn_param:
                arrays[f"bn{i}/{key}"] = bn_param[key]
    if model.mean_image is not None:
        arrays["mean_image"] = model.mean_image
    return arrays


def pretrained_info(name: str = "tinyvgg-shapes", folder: str | Path | None = None) -> dict:
    """The JSON record of a pretrained model: configuration, command, seed, data, accuracies."""
    meta = _files(name, folder)[1]
    return read_record(meta, _restore_hint(name, folder), required=("format", "config"))


def load_pretrained(name: str = "tinyvgg-shapes", folder: str | Path | None = None) -> TinyVGG:
    """The pretrained model ``name`` (see ``PRETRAINED``), ready for ``model.loss(X)``.

    Inputs:
    - name: which model; 'tinyvgg-shapes' is TinyVGG trained on Shapes-10,
      whose inputs are (N, 3, 32, 32) images from ``load_shapes`` (mean-subtracted)
    - folder: where to look (default: the package's ``course/weights/``)

    Returns:
    - model: a TinyVGG with the trained parameters, the batchnorm running averages
      and ``model.mean_image``, the (C, H, W) mean training image its inputs need
      subtracted (``load_shapes`` does that for Shapes-10 with its own training mean)

    A damaged pair of files (truncated, corrupt, incomplete, with NaN or inf,
    arrays that do not match the record) raises :class:`ArtefactError` naming
    the file, what is wrong and how to restore it.
    """
    weights, meta = _files(name, folder)
    restore = _restore_hint(name, folder)
    info = read_record(meta, restore, required=("format", "model", "config"))
    if info.get("format") != _FORMAT or info.get("model") != "TinyVGG":
        raise ArtefactError(f"{meta}: was not written by save_pretrained; {restore}")
    with building_from(meta, "a TinyVGG", restore):
        config = dict(info["config"])
        model = TinyVGG(**{**config, "dtype": np.dtype(config["dtype"])})
    expected: dict[str, tuple[int, ...] | None] = {
        f"params/{k}": v.shape for k, v in model.params.items()
    }
    for i in range(1, len(model.bn_params) + 1):
        for key in _BN_KEYS:
            expected[f"bn{i}/{key}"] = model.params[f"gamma{i}"].shape  # bn{i} follows conv{i}
    arrays = read_arrays(
        weights,
        restore,
        expected,
        digest=info.get("arrays_sha256"),
        record_path=meta,
        optional={"mean_image": tuple(model.input_dim)},
    )
    for k in model.params:
        model.params[k] = arrays[f"params/{k}"]
    for i, bn_param in enumerate(model.bn_params, start=1):
        for key in _BN_KEYS:
            bn_param[key] = arrays[f"bn{i}/{key}"]
        bn_param["mode"] = "test"
    if "mean_image" in arrays:
        model.mean_image = arrays["mean_image"]
    return model


def _restore_hint(name: str, folder: str | Path | None) -> str:
    if folder is None:
        return (
            "restore the package's copy (reinstall it, or `git checkout course/weights`), or "
            "retrain it with `course train tinyvgg --overwrite` (about 7 minutes on two cores)"
        )
    return f"retrain it with `course train tinyvgg --out {folder} --overwrite`"


def _files(name: str, folder: str | Path | None) -> tuple[Path, Path]:
    if folder is None and name not in PRETRAINED:
        raise ValueError(
            f"unknown pretrained model {name!r}; the package ships {sorted(PRETRAINED)}"
        )
    folder = WEIGHTS_DIR if folder is None else Path(folder)
    weights, meta = folder / f"{name}.npz", folder / f"{name}.json"
    if not weights.is_file() or not meta.is_file():
        raise FileNotFoundError(
            f"pretrained model {name!r} not found: expected {weights} and {meta}. "
            f"Train it with `course train tinyvgg` (about 10 minutes on two cores)"
        )
    return weights, meta
