"""Input validation for :class:`course.solver.Solver`.

The Solver checks everything it is given when it is built, so that a typo or
a wrong array fails at once with a message that names it, not after an epoch
of training. The checks live here; the Solver shows the training loop.
"""

from __future__ import annotations

import difflib
import inspect
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from course.validation import (
    format_shape,
    is_positive_finite,
    is_real_number,
    require_positive_int,
)

DATA_KEYS = ("X_train", "y_train", "X_val", "y_val")
METRICS = ("accuracy", "loss")
ZERO_LEARNING_RATE = "Solver: learning_rate=0"  # how the warning about it begins
_HYPERPARAMETERS = {"learning_rate", "momentum", "decay_rate", "epsilon", "beta1", "beta2"}


def validate_callbacks(name: str, value: object) -> list[Callable]:
    """Accept one callable or an iterable of callables; return them as a new list."""
    if callable(value):
        return [value]
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes, Mapping)):
        found = list(value)
        if all(callable(f) for f in found):
            return found
    raise TypeError(f"Solver: {name} must be a callable or a list of callables, got {value!r}")


def unknown_options_message(init: Callable, unknown: Mapping[str, Any]) -> str:
    """Explain unknown keyword arguments of ``init``, with a suggestion for each where one fits."""
    known = [
        name
        for name, p in inspect.signature(init).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    hints = []
    for key in unknown:
        close = difflib.get_close_matches(key, known, n=1)
        if key in _HYPERPARAMETERS:
            hints.append(f"{key!r} goes inside optim_config={{{key!r}: ...}}")
        elif close:
            hints.append(f"{key!r} -> did you mean {close[0]!r}?")
    hint = f" ({'; '.join(hints)})" if hints else ""
    return (
        f"Solver: unknown keyword argument(s) {', '.join(repr(k) for k in unknown)}{hint}. "
        f"Valid options are {', '.join(known)}"
    )


def validate_model(model: object, metric: str) -> None:
    """The model has a non-empty dict of array ``params`` and a ``loss`` method."""
    params = getattr(model, "params", None)
    if not isinstance(params, dict) or not params:
        raise TypeError(
            "Solver: model must have a non-empty dict `params` (name -> ndarray), "
            f"got {type(params).__name__ if params is not None else 'no params attribute'}"
        )
    if not callable(getattr(model, "loss", None)):
        raise TypeError("Solver: model must have a method loss(X, y=None)")
    bad = [name for name, p in params.items() if not isinstance(p, np.ndarray)]
    if bad:
        raise TypeError(f"Solver: model.params entries {bad} are not numpy arrays")
    if metric == "loss" and (getattr(model, "bn_params", None) or _uses_dropout(model)):
        raise ValueError(
            "Solver: metric='loss' measures model.loss(X, y), which runs batchnorm and "
            "dropout in training mode; use metric='accuracy' for this model"
        )


def _uses_dropout(model: object) -> bool:
    return bool(getattr(model, "use_dropout", False))


def validate_data(data: object) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return X_train, y_train, X_val, y_val: arrays (N, ...) with integer labels (N, ...)."""
    if not isinstance(data, Mapping):
        raise TypeError(
            f"Solver: data must be a dict with keys {', '.join(DATA_KEYS)}, "
            f"got {type(data).__name__}"
        )
    missing = [key for key in DATA_KEYS if key not in data]
    if missing:
        raise KeyError(
            f"Solver: data is missing {', '.join(repr(k) for k in missing)}; it needs "
            f"{', '.join(DATA_KEYS)} (it has {', '.join(repr(k) for k in data) or 'none'})"
        )
    X_train, y_train = validate_split("train", data["X_train"], data["y_train"])
    X_val, y_val = validate_split("val", data["X_val"], data["y_val"])
    return X_train, y_train, X_val, y_val


def validate_split(split: str, X: object, y: object) -> tuple[np.ndarray, np.ndarray]:
    """X_split (N, ...) and its integer labels y_split (N,) or (N, T), N >= 1, as arrays."""
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(
            f"Solver: X_{split} must be an array (N, ...) and y_{split} labels (N,) or "
            f"(N, T); got shapes {format_shape(X.shape)} and {format_shape(y.shape)}"
        )
    if len(X) != len(y):
        raise ValueError(
            f"Solver: X_{split} has {len(X)} examples but y_{split} has {len(y)} labels; "
            f"they must agree (shapes {format_shape(X.shape)} and {format_shape(y.shape)})"
        )
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(
            f"Solver: y_{split} has dtype {y.dtype}; expected integer class labels. "
            f"Convert it with y_{split}.astype(np.int64)"
        )
    if len(X) == 0:
        raise ValueError(f"Solver: X_{split} is empty; it needs at least one example")
    if y.min() < 0:
        raise ValueError(
            f"Solver: y_{split} holds the negative label {y.min()} "
            f"({np.count_nonzero(y < 0)} of {y.size} labels are negative); class labels "
            f"are integers in [0, C). Check how the labels were made"
        )
    _require_finite(split, X)
    return X, y


def _require_finite(split: str, X: np.ndarray) -> None:
    """A floating-point X_split holds no NaN or inf (min and max find them without a copy)."""
    if not np.issubdtype(X.dtype, np.inexact) or np.isfinite([X.min(), X.max()]).all():
        return
    bad = np.count_nonzero(~np.isfinite(X))
    raise ValueError(
        f"Solver: X_{split} holds {bad} NaN or inf entries (of {X.size}); every input must "
        f"be a finite number. Find them with np.argwhere(~np.isfinite(X_{split})) and fix "
        f"or drop those examples"
    )


def validate_labels_fit_scores(scores: object, y_train: np.ndarray, y_val: np.ndarray) -> None:
    """Every label is a class the model scores: below ``scores.shape[-1]``, the class count.

    ``scores`` is what ``model.loss`` returned for one example. Scores that are
    not an array of at least 2 dims are left for ``Solver.predict`` to report.
    """
    scores = np.asarray(scores)
    if scores.ndim < 2:
        return
    num_classes = scores.shape[-1]
    for split, y in (("train", y_train), ("val", y_val)):
        if y.max() >= num_classes:
            raise ValueError(
                f"Solver: y_{split} holds the label {y.max()}, but the model scores "
                f"{num_classes} classes (labels 0 to {num_classes - 1}; model.loss returned "
                f"scores of shape {format_shape(scores.shape)} for one example). Build the "
                f"model with num_classes={y.max() + 1} or more, or check the labels"
            )


def validate_schedule(
    lr_decay: object, optim_configs: Mapping[str, Mapping], grad_clip: object
) -> tuple[float, float | None]:
    """Return ``(lr_decay, grad_clip)`` as floats after checking them."""
    if not is_positive_finite(lr_decay):
        raise ValueError(
            f"Solver: lr_decay must be a positive number (e.g. 0.95), got {lr_decay!r}"
        )
    if lr_decay != 1 and any("learning_rate" not in c for c in optim_configs.values()):
        raise ValueError(
            f"Solver: lr_decay={lr_decay} needs a 'learning_rate' in optim_config to decay"
        )
    if grad_clip is not None and not is_positive_finite(grad_clip):
        raise ValueError(
            f"Solver: grad_clip must be None or a positive number (5 is a good start), "
            f"got {grad_clip!r}"
        )
    rates = [config.get("learning_rate") for config in optim_configs.values()]
    if any(is_real_number(lr) and lr == 0 for lr in rates):
        warnings.warn(
            f"{ZERO_LEARNING_RATE}: the parameters will never change; pass a positive "
            "learning_rate in optim_config (e.g. {'learning_rate': 1e-3})",
            UserWarning,
            stacklevel=3,  # the line that builds the Solver
        )
    return float(lr_decay), None if grad_clip is None else float(grad_clip)


def validate_metric(metric: object) -> str:
    """``metric`` is one of METRICS."""
    if metric not in METRICS:
        raise ValueError(
            f"Solver: metric must be 'accuracy' (classification, higher is better) or 'loss' "
            f"(the mean of model.loss over a split, lower is better), got {metric!r}"
        )
    return str(metric)


def optional_positive_int(name: str, value: object) -> int | None:
    """None, or ``value`` checked as a positive integer."""
    return None if value is None else require_positive_int("Solver", name, value)


def require_bool(name: str, value: object) -> bool:
    """``value`` as a bool, refusing strings and numbers that only look like one."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"Solver: {name} must be True or False, got {value!r}")
    return bool(value)


def validate_checkpoint_dir(folder: Path | None) -> None:
    """A checkpoint folder is new, or a folder without epoch checkpoints (never overwritten)."""
    if folder is None or not folder.exists():
        return
    if not folder.is_dir():
        raise NotADirectoryError(f"Solver: checkpoint_dir {folder} exists and is not a folder")
    existing = sorted(p.name for p in folder.glob("epoch_*") if p.suffix in (".npz", ".json"))
    if existing:
        shown = ", ".join(existing[:3]) + (", ..." if len(existing) > 3 else "")
        raise FileExistsError(
            f"Solver: checkpoint_dir {folder} already holds checkpoints ({shown}). "
            f"The Solver never overwrites files: pass a new folder, or move those away"
        )
