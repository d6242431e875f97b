"""Input validators of the visualisation package: each returns the checked value or raises.

A visualisation function makes one call here before its maths. Messages name
the function, say what was expected and what was given, and where there is
one, what to do (convention 6 of STYLE.md).
"""

from __future__ import annotations

import numpy as np

from course.models._validation import validate_images
from course.validation import (
    as_float_array,
    format_shape,
    is_positive_finite,
    is_real_number,
    require_positive_int,
)

# What every visualised model has (TinyVGG's activations API, on top of the model contract).
ACTIVATIONS_API = (
    "params",
    "loss",
    "input_dim",
    "layer_names",
    "activations",
    "conv_activations",
    "mean_image",
)
# What the gradient-based visualisations need in addition.
GRADIENT_API = ("num_classes", "input_gradient")


def require_vis_model(func: str, model: object, gradient: bool = False) -> object:
    """Return ``model`` if it has the activations API (and ``input_gradient`` when asked)."""
    needed = ACTIVATIONS_API + (GRADIENT_API if gradient else ())
    missing = [name for name in needed if not hasattr(model, name)]
    if missing:
        raise TypeError(
            f"{func}: model must be a TinyVGG-like model with {', '.join(needed)}; "
            f"{type(model).__name__} has no {', '.join(missing)}. Load one with "
            "course.models.load_pretrained()"
        )
    return model


def require_model_images(func: str, model: object, X: object, name: str = "X") -> np.ndarray:
    """Finite model inputs (N, C, H, W) with (C, H, W) = model.input_dim, in the model's dtype."""
    input_dim = tuple(model.input_dim)
    dtype = np.dtype(getattr(model, "dtype", np.float64))
    as_float_array(func, name, X)
    if X.ndim == 3 and X.shape == input_dim:
        raise ValueError(
            f"{func}: {name} has shape {format_shape(X.shape)}, one image; expected a batch "
            f"(N, C, H, W): pass {name}[None]"
        )
    X = validate_images(func, X, input_dim, dtype)
    if not np.isfinite(X).all():
        raise ValueError(f"{func}: {name} holds NaN or inf; every pixel must be finite")
    return X


def require_one_image(func: str, model: object, image: object) -> np.ndarray:
    """One finite model input (C, H, W), returned as a batch of one (1, C, H, W)."""
    as_float_array(func, "image", image)
    if image.ndim != 3:
        hint = " (a batch: pass X[i] for image i)" if image.ndim == 4 else ""
        raise ValueError(
            f"{func}: image has shape {format_shape(image.shape)}; expected one image "
            f"(C, H, W) = {tuple(model.input_dim)}{hint}"
        )
    return require_model_images(func, model, image[None], name="image[None]")


def require_layer(func: str, model: object, layer: object, kinds: tuple[str, ...]) -> str:
    """Return ``layer`` if it names a layer of ``model`` whose kind ('conv', 'pool', ...) fits."""
    allowed = [name for name in model.layer_names() if layer_kind(name) in kinds]
    if layer not in allowed:
        what = " and ".join(kinds)
        raise ValueError(
            f"{func}: layer must be one of the {what} layers {allowed}; got {layer!r}"
        )
    return layer


def layer_kind(name: str) -> str:
    """'conv', 'pool', 'fc' or 'scores' for a TinyVGG layer name ('conv2_1' -> 'conv')."""
    for kind in ("conv", "pool", "fc", "scores"):
        if name.startswith(kind):
            return kind
    raise ValueError(f"layer_kind: unknown layer name {name!r}")


def require_index(func: str, name: str, value: object, count: int, what: str) -> int:
    """An integer in [0, count): a channel, a class, a row; ``what`` says what it counts."""
    value = require_positive_int(func, name, value, allow_zero=True)
    if value >= count:
        raise ValueError(
            f"{func}: {name}={value} is out of range; {what} has {count} (0..{count - 1})"
        )
    return value


def require_class_labels(
    func: str, y: object, N: int | None, num_classes: int, name: str = "y"
) -> np.ndarray:
    """Integer class labels (N,) in [0, num_classes); any length when N is None."""
    if not isinstance(y, np.ndarray) or not np.issubdtype(y.dtype, np.integer):
        got = getattr(y, "dtype", type(y).__name__)
        raise TypeError(
            f"{func}: {name} must be an integer numpy array of class labels, got {got}"
        )
    if y.ndim != 1 or (N is not None and len(y) != N):
        expected = "(N,)" if N is None else f"({N},), one label per image"
        raise ValueError(f"{func}: {name} has shape {format_shape(y.shape)}; expected {expected}")
    if len(y) and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(
            f"{func}: {name} must lie in [0, {num_classes}) for {num_classes} classes; "
            f"got values from {y.min()} to {y.max()}"
        )
    return y


def require_rate(func: str, name: str, value: object) -> float:
    """A finite positive number (a learning rate, a blur width)."""
    if not is_positive_finite(value):
        raise ValueError(f"{func}: {name} must be a finite positive number, got {value!r}")
    return float(value)


def require_non_negative(func: str, name: str, value: object) -> float:
    """A finite number >= 0 (a regularisation strength)."""
    if not (is_real_number(value) and np.isfinite(value) and value >= 0):
        raise ValueError(f"{func}: {name} must be a finite number >= 0, got {value!r}")
    return float(value)
