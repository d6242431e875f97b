"""Pretrained models shipped inside the package, in ``course/weights/``.

A pretrained model is two files: ``NAME.npz`` (compressed arrays: the
parameters, the batchnorm running averages and the mean training image) and
``NAME.json`` (how it was made: the model's configuration, the command, the
seed, the dataset sizes, the accuracies and the training time).
``course train tinyvgg`` writes them; :func:`load_pretrained` reads them
back. Nothing is ever downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from course.models.cnn import TinyVGG

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
_FORMAT = "course-pretrained"
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
    Existing files are replaced only with ``overwrite=True``.
    """
    if not isinstance(model, TinyVGG):
        raise TypeError(f"save_pretrained: expected a TinyVGG, got {type(model).__name__}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {f"params/{k}": v for k, v in model.params.items()}
    for i, bn_param in enumerate(model.bn_params, start=1):
        for key in ("running_mean", "running_var"):
            if key in bn_param:
                arrays[f"bn{i}/{key}"] = bn_param[key]
    if model.mean_image is not None:
        arrays["mean_image"] = model.mean_image
    weights, meta = folder / f"{name}.npz", folder / f"{name}.json"
    existing = [str(path) for path in (weights, meta) if path.exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"save_pretrained: {' and '.join(existing)} already exist; pass overwrite=True "
            f"(course train tinyvgg --overwrite) to replace them, or save elsewhere (--out DIR)"
        )
    np.savez_compressed(weights, **arrays)
    record = {"format": _FORMAT, "name": name, "model": "TinyVGG", "config": model.config()}
    meta.write_text(json.dumps({**record, **info}, indent=2) + "\n", encoding="utf-8")
    return weights, meta


def pretrained_info(name: str = "tinyvgg-shapes", folder: str | Path | None = None) -> dict:
    """The JSON record of a pretrained model: configuration, command, seed, data, accuracies."""
    return json.loads(_files(name, folder)[1].read_text(encoding="utf-8"))


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
    """
    weights, meta = _files(name, folder)
    info = json.loads(meta.read_text(encoding="utf-8"))
    if info.get("format") != _FORMAT or info.get("model") != "TinyVGG":
        raise ValueError(f"load_pretrained: {meta} was not written by save_pretrained")
    config = dict(info["config"])
    model = TinyVGG(**{**config, "dtype": np.dtype(config["dtype"])})
    with np.load(weights) as data:
        for k, value in model.params.items():
            key = f"params/{k}"
            if key not in data.files or data[key].shape != value.shape:
                raise ValueError(
                    f"load_pretrained: {weights} has no array {key!r} of shape {value.shape}; "
                    f"it does not match {meta}. Retrain with `course train tinyvgg`"
                )
            model.params[k] = data[key]
        for i, bn_param in enumerate(model.bn_params, start=1):
            for key in ("running_mean", "running_var"):
                bn_param[key] = data[f"bn{i}/{key}"]
        if "mean_image" in data.files:
            model.mean_image = data["mean_image"]
    for bn_param in model.bn_params:
        bn_param["mode"] = "test"
    return model


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
