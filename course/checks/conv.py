"""Checks for the naive convolution (``course/layers/conv.py``).

Every case uses non-square inputs and kernels (so a swapped height and width
shows), a stride above 1 with padding and a stride of 1, and a float32 run
whose outputs must stay float32. A flipped kernel (a true convolution) and
padding added to the output instead of the input get hints that name them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course import layers
from course.checks.core import (
    call_forward,
    compare_backward,
    compare_diagnosed,
    compare_float32_backward,
    report,
    value_tol,
)

# (label, x shape (N, C, H, W), w shape (F, C, HH, WW), conv_param); non-square
# everywhere, and H_out != W_out, so a swapped height and width cannot pass.
_CONV_CASES = (
    ("stride 1, pad 1", (2, 2, 4, 6), (3, 2, 3, 2), {"stride": 1, "pad": 1}),  # out (2, 3, 4, 7)
    ("stride 2, pad 1", (2, 3, 5, 8), (4, 3, 3, 2), {"stride": 2, "pad": 1}),  # out (2, 4, 3, 5)
)
_CONV_FLOAT32_CASE = (
    "float32, stride 3, pad 0",
    (2, 2, 7, 8),
    (3, 2, 4, 2),
    {"stride": 3, "pad": 0},
)  # out (2, 3, 2, 3)
# The same kinds of case, smaller (each numerical gradient runs the loop forward
# twice per input entry), and one without padding.
_CONV_BACKWARD_CASES = (
    ("stride 2, pad 1", (2, 2, 5, 6), (3, 2, 3, 2), {"stride": 2, "pad": 1}),  # out (2, 3, 3, 4)
    ("stride 1, pad 1", (2, 2, 4, 5), (2, 2, 3, 2), {"stride": 1, "pad": 1}),  # out (2, 2, 4, 6)
    ("stride 1, pad 0", (2, 2, 3, 4), (2, 2, 2, 3), {"stride": 1, "pad": 0}),  # out (2, 2, 2, 2)
)
_CONV_FORWARD_HINT = (
    "pad x (not the output) with pad zeros on its two spatial axes only; the output size is "
    "the docstring's formula; each output value is one filter's weights times the window of "
    "the padded input it sees (all C channels), summed, plus that filter's bias, and the "
    "windows start stride pixels apart"
)
_CONV_BACKWARD_HINTS = {
    "dx": "each output value sends its gradient, weighted by its filter, back to the window of "
    "the padded input it saw (windows stride pixels apart, as in the forward pass); windows "
    "overlap, so the contributions add up; the padding is no part of x, so its gradient is "
    "dropped at the end",
    "dw": "a filter is used at every output position of every example n: its gradient adds up "
    "each window it saw, weighted by the dout of that position",
    "db": "a filter's bias is added at every output position of every example: its gradient "
    "adds up dout over all of them, one per filter (F,)",
}
_CONV_MISTAKE_HINTS = {
    "bias inside": "the bias is added once to each output value, after the sum, not to every "
    "product inside it",
    "not strided": "the windows do not move by the stride: output position (i, j) sees the "
    "window that starts stride times further along",
    "assigned": "windows overlap (and every filter sends to the same window), so their "
    "contributions ADD UP; assigning keeps only the last one",
    "flipped": "the gradient reaches the input through the same weights the forward pass "
    "used, not flipped ones",
    "db mean": "the bias's gradient is the SUM of dout over every example and position, not "
    "the mean",
    "one example": "the filter is used on every example of the batch: its gradient adds up "
    "the contributions of all of them",
}


def _conv_loops(
    x: np.ndarray, w: np.ndarray, dout: np.ndarray, conv_param: dict, step: int, assign: bool
) -> tuple[np.ndarray, np.ndarray]:
    """(dx, dw) of a loop backward whose windows start ``step`` apart, ``=`` or ``+=`` into dx."""
    pad = conv_param["pad"]
    _, _, H, W = x.shape
    _, _, HH, WW = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))  # (N, C, H + 2p, W + 2p)
    dx_pad, dw = np.zeros_like(x_pad), np.zeros_like(w)
    for n, f, i, j in np.ndindex(*dout.shape):
        rows, cols = slice(i * step, i * step + HH), slice(j * step, j * step + WW)
        share = dout[n, f, i, j] * w[f]  # (C, HH, WW)
        dx_pad[n, :, rows, cols] = share if assign else dx_pad[n, :, rows, cols] + share
        dw[f] += dout[n, f, i, j] * x_pad[n, :, rows, cols]
    return dx_pad[:, :, pad : pad + H, pad : pad + W], dw


def _conv_backward_suspects(inputs: tuple, upstream: list[np.ndarray]) -> dict[str, list]:
    """The gradients of the classic conv backward mistakes, with the hints that name them."""
    x, w, b, conv_param = inputs
    (dout,) = upstream
    h, stride = _CONV_MISTAKE_HINTS, conv_param["stride"]
    assigned, _ = _conv_loops(x, w, dout, conv_param, stride, assign=True)
    _, cache = layers.conv_forward_naive(x, w[:, :, ::-1, ::-1], b, dict(conv_param))
    flipped_dx = layers.conv_backward_naive(dout, cache)[0]
    _, cache = layers.conv_forward_naive(x[-1:], w, b, dict(conv_param))
    last_dw = layers.conv_backward_naive(dout[-1:], cache)[1]
    wrong = {
        "dx": [(assigned, h["assigned"]), (flipped_dx, h["flipped"])],
        "dw": [(last_dw, h["one example"])],
        "db": [(dout.mean(axis=(0, 2, 3)), h["db mean"])],
    }
    if stride > 1:
        unstrided_dx, unstrided_dw = _conv_loops(x, w, dout, conv_param, 1, assign=False)
        wrong["dx"].append((unstrided_dx, h["not strided"]))
        wrong["dw"].append((unstrided_dw, h["not strided"]))
    return wrong


def _conv_inputs(
    seed: int, x_shape: tuple, w_shape: tuple, dtype=np.float64
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)  # (N, C, H, W)
    w = rng.standard_normal(w_shape).astype(dtype)  # (F, C, HH, WW)
    b = rng.standard_normal(w_shape[0]).astype(dtype)  # (F,)
    return x, w, b


def check_conv_forward_naive(conv_forward_naive: Callable) -> None:
    """Check ``conv_forward_naive(x, w, b, conv_param) -> (out, cache)``.

    Two float64 cases (stride 1 with pad 1, and stride 2 with pad 1) with
    non-square inputs and kernels, and a float32 case (stride 3, no padding)
    whose output must stay float32. A flipped kernel (a true convolution) or
    padding added to the output instead of the input gets a hint that names it.
    """
    name = "conv_forward_naive"
    errors, tols = {}, {}
    cases = [(*case, np.float64) for case in _CONV_CASES] + [(*_CONV_FLOAT32_CASE, np.float32)]
    for seed, (label, x_shape, w_shape, conv_param, dtype) in enumerate(cases, start=20):
        x, w, b = _conv_inputs(seed, x_shape, w_shape, dtype)
        out, _ = call_forward(name, conv_forward_naive, x, w, b, dict(conv_param))
        expected, _ = layers.conv_forward_naive(x, w, b, dict(conv_param))
        flipped, _ = layers.conv_forward_naive(x, w[:, :, ::-1, ::-1], b, dict(conv_param))
        pad = conv_param["pad"]
        unpadded, _ = layers.conv_forward_naive(
            x, w, b, {"stride": conv_param["stride"], "pad": 0}
        )
        output_padded = np.pad(unpadded, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        one_step, _ = layers.conv_forward_naive(x, w, b, {"stride": 1, "pad": pad})
        H_out, W_out = expected.shape[2:]
        bias_inside = expected + b[:, None, None] * (np.prod(w.shape[1:]) - 1)
        suspects = [
            (bias_inside, _CONV_MISTAKE_HINTS["bias inside"]),
            (one_step[:, :, :H_out, :W_out], _CONV_MISTAKE_HINTS["not strided"]),
            (
                flipped,
                "the output matches a true convolution, with the filter flipped; the layer "
                "computes a cross-correlation: multiply each window by w[f] as it is",
            ),
            (
                output_padded,
                "the output matches a convolution without padding whose output was then "
                "padded with zeros; pad the input x before sliding the filter over it",
            ),
        ]
        output = f"out ({label})"
        tols[output] = value_tol(dtype)
        errors[output] = compare_diagnosed(
            name,
            output,
            out,
            expected,
            tols[output],
            _CONV_FORWARD_HINT,
            suspects,
            np.dtype(dtype),
        )
    report(name, errors, tols)


def check_conv_backward_naive(conv_forward_naive: Callable, conv_backward_naive: Callable) -> None:
    """Check ``conv_backward_naive(dout, cache) -> (dx, dw, db)`` against numerical gradients.

    The gradients are checked with stride 2 and pad 1, stride 1 and pad 1,
    and stride 1 without padding (non-square inputs and kernels throughout),
    then in float32 against the reference backward, where they must stay float32.
    """
    name = "conv_backward_naive"
    errors, tols = {}, {}
    for seed, (label, x_shape, w_shape, conv_param) in enumerate(_CONV_BACKWARD_CASES, start=30):
        x, w, b = _conv_inputs(seed, x_shape, w_shape)
        case_errors, case_tols = compare_backward(
            name,
            conv_forward_naive,
            conv_backward_naive,
            layers.conv_forward_naive,
            (x, w, b, dict(conv_param)),
            _CONV_BACKWARD_HINTS,
            seed=seed,
            label=f" ({label})",
            suspects=_conv_backward_suspects,
        )
        errors |= case_errors
        tols |= case_tols
    label, x_shape, w_shape, conv_param = _CONV_BACKWARD_CASES[0]
    case_errors, case_tols = compare_float32_backward(
        name,
        conv_forward_naive,
        conv_backward_naive,
        layers.conv_forward_naive,
        layers.conv_backward_naive,
        (*_conv_inputs(32, x_shape, w_shape, np.float32), dict(conv_param)),
        _CONV_BACKWARD_HINTS,
    )
    report(name, errors | case_errors, tols | case_tols)
