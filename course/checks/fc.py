"""Checks for the fully connected exercises: affine, ReLU and their sandwich."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course import layers
from course.checks.core import (
    VALUE_TOL,
    call_forward,
    compare_backward,
    compare_diagnosed,
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
    "each example is one row of D numbers: flatten every axis after the batch axis N, "
    "multiply by w (D, M) and add the bias, so that out is (N, M)"
)
_AFFINE_NO_BIAS_HINT = "the bias is missing: each output unit m adds its own b[m]"
_AFFINE_ORDER_HINT = (
    "the numbers of one example are not where w expects them: flatten in numpy's default (C) "
    "order, which keeps each example's values together in its own row (a column-major "
    "flatten or a reshape to (D, N) mixes examples and pixels)"
)


def _random_affine_inputs(seed: int) -> tuple[np.ndarray, ...]:
    """A batch with non-square trailing dims, so a transposed reshape shows."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((5, 2, 3, 4))  # (N, d1, d2, d3), D = 24
    w = rng.standard_normal((24, 7))  # (D, M)
    b = rng.standard_normal(7)  # (M,)
    return x, w, b


def _affine_suspects(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> dict[str, list]:
    """The outputs of the classic affine_forward mistakes, with the hints that name them."""
    N = x.shape[0]
    return {
        "out": [
            (x.reshape(N, -1) @ w, _AFFINE_NO_BIAS_HINT),
            (x.reshape(N, -1, order="F") @ w + b, _AFFINE_ORDER_HINT),
            (x.reshape(-1, N).T @ w + b, _AFFINE_ORDER_HINT),
        ]
    }


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
        suspects=lambda inputs: _affine_suspects(*inputs),
    )
    report(name, errors, tols)


def check_affine_backward(affine_forward: Callable, affine_backward: Callable) -> None:
    """Check ``affine_backward(dout, cache) -> (dx, dw, db)`` against numerical gradients."""
    name = "affine_backward"
    hints = {
        "dx": "each input x[n, d] reaches every output unit m through w[d, m]: its gradient "
        "collects dout[n, m] along those weights, and dx has x's shape (N, d_1, ..., d_k)",
        "dw": "w[d, m] multiplies input d of EVERY example: its gradient adds up, over the "
        "batch, input d (of the flattened x) times dout[n, m]; dw has w's shape (D, M)",
        "db": "b[m] is added to every example's output m: its gradient adds up dout[:, m] "
        "over the batch; db has b's shape (M,)",
    }
    inputs = _random_affine_inputs(seed=2)
    errors, tols = compare_backward(
        name,
        affine_forward,
        affine_backward,
        layers.affine_forward,
        inputs,
        hints,
        suspects=_affine_backward_suspects,
    )
    report(name, errors, tols)


_PER_BATCH_HINT = (
    "a parameter that every example uses collects the SUM of the examples' gradients: any "
    "average over the batch belongs to the loss, and dout already carries it"
)
_RELU_HINT = (
    "ReLU keeps each positive input as it is and sets every other input to 0, elementwise, "
    "into a new array"
)
_RELU_BACKWARD_HINTS = {
    "general": "the gradient dout passes unchanged where the forward's input x (in the cache) "
    "was positive, and is 0 everywhere else",
    "gates on dout": "you gated on the sign of dout; the gate is the sign of the forward's "
    "INPUT x, which the cache holds",
    "pass through": "the gradient passed everywhere: where x was not positive the output did "
    "not depend on x, so nothing passes there",
    "forgets dout": "you returned the gate alone: the gradient that arrives, dout, must flow "
    "through it (the chain rule)",
    "times output": "the ReLU's slope is 1 where x > 0, not x: multiply dout by the local "
    "derivative, not by the output",
    "flipped": "the gradient passed where x was negative and stopped where it was positive: "
    "the gate points the wrong way",
}


def _affine_backward_suspects(inputs: tuple, upstream: list[np.ndarray]) -> dict[str, list]:
    """The gradients of the classic affine_backward mistakes, with the hints that name them."""
    x, w, _ = inputs
    (dout,) = upstream
    N = x.shape[0]
    return {
        "dw": [
            (x.reshape(N, -1).T @ dout / N, _PER_BATCH_HINT),
            (x.reshape(N, -1, order="F").T @ dout, _AFFINE_ORDER_HINT),
        ],
        "db": [(dout.mean(axis=0), _PER_BATCH_HINT)],
    }


def check_relu_forward(relu_forward: Callable) -> None:
    """Check ``relu_forward(x) -> (out, cache)``."""
    name = "relu_forward"
    hint = _RELU_HINT
    suspects = [
        (
            lambda v: np.where(v > 0, v, 0.01 * v),
            "negative inputs must give exactly 0 (a leaky "
            "ReLU keeps a small slope there; this is the plain ReLU)",
        ),
        (
            lambda v: v * (v < 0),
            "you kept the negative inputs and zeroed the positive ones: "
            "the comparison points the wrong way",
        ),
    ]
    x = np.linspace(-0.5, 0.5, 12).reshape(3, 4)
    expected = np.array(
        [
            [0.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 0.04545454545454541, 0.13636363636363635],
            [0.2272727272727273, 0.31818181818181823, 0.40909090909090917, 0.5],
        ]
    )
    x32 = np.random.default_rng(3).standard_normal((4, 3, 5)).astype(np.float32)
    errors = {}
    for output, inputs, value in (("out", x, expected), ("out (float32)", x32, None)):
        out, _ = call_forward(name, relu_forward, inputs)
        value = np.maximum(inputs, 0) if value is None else value
        wrong = [(mistake(inputs), diagnosis) for mistake, diagnosis in suspects]
        errors[output] = compare_diagnosed(
            name, output, out, value, VALUE_TOL, hint, wrong, dtype=inputs.dtype
        )
    report(name, errors, VALUE_TOL)


def check_relu_backward(relu_forward: Callable, relu_backward: Callable) -> None:
    """Check ``relu_backward(dout, cache) -> dx`` against numerical gradients."""
    name = "relu_backward"
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 3, 5))
    x[np.abs(x) < _KINK_MARGIN] = 0.5  # no derivative exists at the kink
    hints = {"dx": _RELU_BACKWARD_HINTS["general"]}
    errors, tols = compare_backward(
        name,
        relu_forward,
        relu_backward,
        layers.relu_forward,
        (x,),
        hints,
        suspects=lambda inputs, upstream: {"dx": _relu_gate_suspects(inputs[0], upstream[0])},
    )
    report(name, errors, tols)


def _relu_gate_suspects(a: np.ndarray, dout: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """The gradients of the classic ReLU backward mistakes on input ``a``, with their hints."""
    h = _RELU_BACKWARD_HINTS
    return [
        (dout * (dout > 0), h["gates on dout"]),
        (dout, h["pass through"]),
        ((a > 0).astype(dout.dtype), h["forgets dout"]),
        (dout * np.maximum(0, a), h["times output"]),
        (dout * (a < 0), h["flipped"]),
    ]


def check_affine_relu_forward(affine_relu_forward: Callable) -> None:
    """Check ``affine_relu_forward(x, w, b) -> (out, cache)``."""
    name = "affine_relu_forward"
    hint = (
        "the affine layer first, then the ReLU on its output; keep both layers' caches for the "
        "backward pass"
    )
    x, w, b = _random_affine_inputs(seed=5)
    out, _ = call_forward(name, affine_relu_forward, x, w, b)
    expected, _ = layers.affine_relu_forward(x, w, b)
    x_flat = x.reshape(len(x), -1)  # (N, D)
    suspects = [
        (x_flat @ w + b, "the ReLU is missing: apply it to the affine layer's output"),
        (
            np.maximum(0, x_flat) @ w + b,
            "the order is affine THEN ReLU: the ReLU acts on the affine output, not on x",
        ),
        (np.minimum(x_flat @ w + b, 0), "ReLU keeps the positive values; you kept the negative"),
        (np.maximum(0, x_flat @ w), _AFFINE_NO_BIAS_HINT),
    ]
    error = compare_diagnosed(name, "out", out, expected, VALUE_TOL, hint, suspects)
    report(name, {"out": error}, VALUE_TOL)


def check_affine_relu_backward(
    affine_relu_forward: Callable, affine_relu_backward: Callable
) -> None:
    """Check ``affine_relu_backward(dout, cache) -> (dx, dw, db)`` against numerical gradients."""
    name = "affine_relu_backward"
    hint = (
        "backprop through the two layers in reverse order: the ReLU's gate first (it is the "
        "sign of the affine OUTPUT), then the affine layer"
    )
    hints = {"dx": hint, "dw": hint, "db": hint}

    def suspects(inputs: tuple, upstream: list[np.ndarray]) -> dict[str, list]:
        x, w, b = inputs
        a = x.reshape(len(x), -1) @ w + b  # (N, M) the affine output the ReLU gates on
        h = _RELU_BACKWARD_HINTS
        wrong = [
            (
                upstream[0],
                "the gradient skipped the ReLU: pass it through the ReLU's gate "
                "before the affine layer's backward",
            ),
            *(
                item
                for item in _relu_gate_suspects(a, upstream[0])
                if item[1] != h["pass through"]
            ),
        ]
        by_grad: dict[str, list] = {"dx": [], "dw": [], "db": []}
        for da, diagnosis in wrong:
            for key, grad in zip(by_grad, layers.affine_backward(da, (x, w)), strict=True):
                by_grad[key].append((grad, diagnosis))
        return by_grad

    x, w, b = _random_affine_inputs(seed=6)
    errors, tols = compare_backward(
        name,
        affine_relu_forward,
        affine_relu_backward,
        layers.affine_relu_forward,
        (x, w, b),
        hints,
        suspects=suspects,
    )
    report(name, errors, tols)
