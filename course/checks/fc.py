"""Checks for the fully connected exercises: affine, ReLU and their sandwich."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course import layers
from course.checks.core import (
    VALUE_TOL,
    call_forward,
    compare,
    compare_backward,
    compare_forward,
    report,
)

# The teaching example: inputs spaced evenly so a student can reproduce them.
_AFFINE_X = np.linspace(-0.5, 0.5, 2 * 3 * 2 * 2).reshape(2, 3, 2, 2)
_AFFINE_W = np.linspace(-0.2, 0.3, 12 * 3).reshape(12, 3)
_AFFINE_B = np.linspace(-0.3, 0.1, 3)
_AFFINE_OUT = np.array(
    [
        [-0.14534161490683223, 0.00993788819875781, 0.1652173913043479],
        [0.07826086956521733, 0.3229813664596273, 0.5677018633540372],
    ]
)
# Inputs this close to ReLU's kink at 0 are moved away: centred differences (h = 1e-5)
# straddling the kink would measure neither side's slope.
_KINK_MARGIN = 1e-3

_AFFINE_HINT = (
    "flatten each example with x.reshape(N, -1), then out = x_flat @ w + b, shape (N, M)"
)


def _random_affine_inputs(seed: int) -> tuple[np.ndarray, ...]:
    """A batch with non-square trailing dims, so a transposed reshape shows."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((5, 2, 3, 4))  # (N, d1, d2, d3), D = 24
    w = rng.standard_normal((24, 7))  # (D, M)
    b = rng.standard_normal(7)  # (M,)
    return x, w, b


def check_affine_forward(affine_forward: Callable) -> None:
    """Check ``affine_forward(x, w, b) -> (out, cache)`` on a worked example and random data.

    The random batch is checked in float64 and again in float32, where the
    output must stay float32.
    """
    name = "affine_forward"
    errors, tols = compare_forward(
        name,
        affine_forward,
        layers.affine_forward,
        ((_AFFINE_X, _AFFINE_W, _AFFINE_B), {"out": _AFFINE_OUT}),
        _random_affine_inputs(seed=1),
        {"out": _AFFINE_HINT},
    )
    report(name, errors, tols)


def check_affine_backward(affine_forward: Callable, affine_backward: Callable) -> None:
    """Check ``affine_backward(dout, cache) -> (dx, dw, db)`` against numerical gradients."""
    name = "affine_backward"
    hints = {
        "dx": "dx = dout @ w.T, reshaped back to x's shape (N, d_1, ..., d_k)",
        "dw": "dw = x_flat.T @ dout, shape (D, M): every example adds to it",
        "db": "db sums dout over the batch axis: dout.sum(axis=0), shape (M,)",
    }
    inputs = _random_affine_inputs(seed=2)
    errors, tols = compare_backward(
        name, affine_forward, affine_backward, layers.affine_forward, inputs, hints
    )
    report(name, errors, tols)


def check_relu_forward(relu_forward: Callable) -> None:
    """Check ``relu_forward(x) -> (out, cache)``."""
    name = "relu_forward"
    hint = "out = np.maximum(0, x), computed into a new array"
    x = np.linspace(-0.5, 0.5, 12).reshape(3, 4)
    expected = np.array(
        [
            [0.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 0.04545454545454541, 0.13636363636363635],
            [0.2272727272727273, 0.31818181818181823, 0.40909090909090917, 0.5],
        ]
    )
    out, _ = call_forward(name, relu_forward, x)
    errors = {
        "out": compare(name, "out", out, expected, VALUE_TOL, hint, dtype=np.dtype(np.float64))
    }
    x32 = np.random.default_rng(3).standard_normal((4, 3, 5)).astype(np.float32)
    out, _ = call_forward(name, relu_forward, x32)
    errors["out (float32)"] = compare(
        name, "out (float32)", out, np.maximum(x32, 0), VALUE_TOL, hint, dtype=np.dtype(np.float32)
    )
    report(name, errors, VALUE_TOL)


def check_relu_backward(relu_forward: Callable, relu_backward: Callable) -> None:
    """Check ``relu_backward(dout, cache) -> dx`` against numerical gradients."""
    name = "relu_backward"
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 3, 5))
    x[np.abs(x) < _KINK_MARGIN] = 0.5  # no derivative exists at the kink
    hints = {"dx": "the gradient flows only where the input x was positive: dout * (x > 0)"}
    errors, tols = compare_backward(
        name, relu_forward, relu_backward, layers.relu_forward, (x,), hints
    )
    report(name, errors, tols)


def check_affine_relu_forward(affine_relu_forward: Callable) -> None:
    """Check ``affine_relu_forward(x, w, b) -> (out, cache)``."""
    name = "affine_relu_forward"
    hint = "compose the two layers: a, fc_cache = affine_forward(x, w, b); out = relu(a)"
    x, w, b = _random_affine_inputs(seed=5)
    out, _ = call_forward(name, affine_relu_forward, x, w, b)
    expected, _ = layers.affine_relu_forward(x, w, b)
    report(name, {"out": compare(name, "out", out, expected, VALUE_TOL, hint)}, VALUE_TOL)


def check_affine_relu_backward(
    affine_relu_forward: Callable, affine_relu_backward: Callable
) -> None:
    """Check ``affine_relu_backward(dout, cache) -> (dx, dw, db)`` against numerical gradients."""
    name = "affine_relu_backward"
    hint = "backprop through the ReLU first (gate by the affine output), then the affine layer"
    hints = {"dx": hint, "dw": hint, "db": hint}
    x, w, b = _random_affine_inputs(seed=6)
    errors, tols = compare_backward(
        name,
        affine_relu_forward,
        affine_relu_backward,
        layers.affine_relu_forward,
        (x, w, b),
        hints,
    )
    report(name, errors, tols)
