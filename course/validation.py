"""Input validation that speaks to the person who called the function.

Every public function of the course checks its inputs with these helpers, so
that a wrong shape or dtype is reported as what was expected, what was given,
and (where there is one) what to do, instead of an obscure numpy traceback.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np


def as_float_array(func: str, name: str, value: object) -> np.ndarray:
    """Return ``value`` as a floating-point ndarray, or raise a clear TypeError.

    Integer and boolean arrays are refused rather than converted silently: a
    layer that received integer weights almost always reveals a bug upstream.
    """
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{func}: {name} must be a numpy array, got {type(value).__name__}")
    if not np.issubdtype(value.dtype, np.floating):
        raise TypeError(
            f"{func}: {name} has dtype {value.dtype}; expected a floating-point array "
            f"(float32 or float64). Convert it with {name}.astype(np.float64)"
        )
    return value


def require_ndim(func: str, name: str, value: np.ndarray, ndim: int, dims: str) -> None:
    """Raise ValueError unless ``value.ndim == ndim``; ``dims`` names the axes, e.g. '(N, D)'."""
    if value.ndim != ndim:
        raise ValueError(
            f"{func}: {name} has {value.ndim} dims {value.shape}; expected {ndim} {dims}"
        )


def require_labels(func: str, y: object, num_samples: int, num_classes: int) -> np.ndarray:
    """Check an integer label vector of length ``num_samples`` with values in [0, num_classes)."""
    if not isinstance(y, np.ndarray):
        raise TypeError(f"{func}: y must be a numpy array of labels, got {type(y).__name__}")
    if not np.issubdtype(y.dtype, np.integer):
        raise TypeError(
            f"{func}: y has dtype {y.dtype}; expected integer class labels in [0, {num_classes})"
        )
    if y.shape != (num_samples,):
        raise ValueError(
            f"{func}: y has shape {y.shape}; expected ({num_samples},), one label per row of x"
        )
    if num_samples and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(
            f"{func}: labels must lie in [0, {num_classes}) for {num_classes} classes; "
            f"got values from {y.min()} to {y.max()}"
        )
    return y


def require_examples(func: str, name: str, value: np.ndarray) -> None:
    """Raise ValueError when the batch ``value`` (N, ...) holds no examples (N == 0)."""
    if value.ndim and value.shape[0] == 0:
        raise ValueError(
            f"{func}: {name} has 0 examples (shape {format_shape(value.shape)}); a batch "
            f"needs at least one. Check the slice that made it (a start past the end?)"
        )


def is_real_number(value: object) -> bool:
    """Whether ``value`` is a real Python or numpy number (a bool is not one)."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def is_positive_finite(value: object) -> bool:
    """Whether ``value`` is a real number, finite and > 0 (a rate, a norm, a temperature)."""
    return is_real_number(value) and math.isfinite(value) and value > 0


def require_positive_int(func: str, name: str, value: object, allow_zero: bool = False) -> int:
    """Return ``value`` as an int after checking it is a (non-negative or) positive integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{func}: {name} must be an integer, got {value!r}")
    lowest = 0 if allow_zero else 1
    if value < lowest:
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{func}: {name} must be a {kind} integer, got {value}")
    return int(value)


def format_shape(shape: Sequence[int]) -> str:
    """Format a shape tuple the way numpy prints it: (3, 4) or (5,)."""
    return str(tuple(int(s) for s in shape))


def require_dout(
    func: str, dout: object, expected: Sequence[int], name: str = "dout", of: str = ""
) -> np.ndarray:
    """Check that an upstream gradient is a float array shaped like the forward output.

    ``name`` is what the backward calls the gradient (``dnext_h``) and ``of``
    the forward output it belongs to (``next_h``), for the message.
    """
    as_float_array(func, name, dout)
    if dout.shape != tuple(expected):
        output = (
            f"the shape of the forward output {of}" if of else "the shape of the forward output"
        )
        raise ValueError(
            f"{func}: {name} has shape {format_shape(dout.shape)}; expected "
            f"{format_shape(expected)}, {output}"
        )
    return dout


def check_learning_rate(func: str, learning_rate: object) -> float:
    """A learning rate is a finite number >= 0; 0 is legal but surely a mistake, so it warns."""
    if not is_real_number(learning_rate) or not math.isfinite(learning_rate) or learning_rate < 0:
        raise ValueError(
            f"{func}: learning_rate must be a positive number (e.g. 1e-3), got {learning_rate!r}"
        )
    if learning_rate == 0:
        warnings.warn(
            f"{func}: learning_rate=0: the parameters will never change; pass a positive "
            "learning rate (e.g. 1e-3)",
            UserWarning,
            stacklevel=3,
        )
    return float(learning_rate)
