"""Checks for naive max pooling (``course/layers/pool.py``).

Every case has H_out != W_out, so a swapped height and width shows: 2x2
windows with stride 2, overlapping 3x2 windows with stride 1 (where the
stride is not the window) and 3x3 windows with stride 2, then a float32 run
whose outputs must stay float32. The backward is also checked on tied
maxima, where the gradient must go to the first maximum of each window only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course import layers
from course.checks.core import (
    VALUE_TOL,
    call_forward,
    compare,
    compare_backward,
    compare_diagnosed,
    compare_float32_backward,
    report,
    student_gradients,
)

# (label, x shape (N, C, H, W), pool_param): the usual 2x2 stride 2, overlapping
# 3x2 windows with stride 1 (where the stride is not the window), and 3x3 windows
# with stride 2; H_out != W_out in each.
_POOL_CASES = (
    ("2x2, stride 2", (2, 3, 4, 6), {"pool_height": 2, "pool_width": 2, "stride": 2}),
    ("3x2, stride 1", (2, 2, 5, 6), {"pool_height": 3, "pool_width": 2, "stride": 1}),
    ("3x3, stride 2", (2, 2, 7, 5), {"pool_height": 3, "pool_width": 3, "stride": 2}),
)
_POOL_FORWARD_HINT = (
    "H_out = 1 + (H - pool_height) // stride, W_out = 1 + (W - pool_width) // stride; "
    "out[n, c, i, j] = x[n, c, i*stride:i*stride+pool_height, "
    "j*stride:j*stride+pool_width].max(): "
    "pool_height x pool_width is the window, stride only its step (windows overlap when the "
    "stride is smaller)"
)
_POOL_BACKWARD_HINT = (
    "each dout[n, c, i, j] goes only to the position of its window's maximum "
    "(np.unravel_index(np.argmax(window), window.shape)), added with += because "
    "overlapping windows can share a maximum"
)
_POOL_TIES_HINT = (
    "when several inputs tie for a window's maximum (after a ReLU whole windows are 0), "
    "the gradient goes to the first of them in row-major order only, the one np.argmax "
    "returns; a mask x == max sends it to every tied input and multiplies it"
)


def _distinct_values(seed: int, shape: tuple, dtype=np.float64) -> np.ndarray:
    """Values 0.1 apart in random order: no two inputs tie, so max pooling is differentiable."""
    size = int(np.prod(shape))
    values = (np.random.default_rng(seed).permutation(size) - size / 2) * 0.1
    return values.reshape(shape).astype(dtype)


def _tied_values(seed: int, shape: tuple) -> np.ndarray:
    """Small integers after a ReLU: many all-zero windows and ties between positive maxima."""
    integers = np.random.default_rng(seed).integers(-4, 3, size=shape)
    return np.maximum(integers, 0).astype(np.float64)


def check_max_pool_forward_naive(max_pool_forward_naive: Callable) -> None:
    """Check ``max_pool_forward_naive(x, pool_param) -> (out, cache)``.

    Cases: 2x2 windows with stride 2; overlapping 3x2 windows with stride 1;
    3x3 windows with stride 2; and the first case in float32, whose output
    must stay float32.
    """
    name = "max_pool_forward_naive"
    errors, tols = {}, {}
    cases = [(label, shape, p, np.float64) for label, shape, p in _POOL_CASES]
    cases.append(("2x2, stride 2, float32", *_POOL_CASES[0][1:], np.float32))
    for seed, (label, x_shape, pool_param, dtype) in enumerate(cases, start=40):
        x = np.random.default_rng(seed).standard_normal(x_shape).astype(dtype)
        out, _ = call_forward(name, max_pool_forward_naive, x, dict(pool_param))
        expected, _ = layers.max_pool_forward_naive(x, dict(pool_param))
        output = f"out ({label})"
        tols[output] = VALUE_TOL
        errors[output] = compare(
            name, output, out, expected, VALUE_TOL, _POOL_FORWARD_HINT, dtype=np.dtype(dtype)
        )
    report(name, errors, tols)


def check_max_pool_backward_naive(
    max_pool_forward_naive: Callable, max_pool_backward_naive: Callable
) -> None:
    """Check ``max_pool_backward_naive(dout, cache) -> dx``.

    Against numerical gradients on inputs without ties, in every case of the
    forward check (including overlapping windows, whose contributions add);
    then, on inputs after a ReLU with all-zero windows and tied maxima,
    against the reference: the gradient goes to the first maximum of each
    window in row-major order, as ``np.argmax`` finds it. Last, in float32.
    """
    name = "max_pool_backward_naive"
    errors, tols = {}, {}
    hints = {"dx": _POOL_BACKWARD_HINT}
    for seed, (label, x_shape, pool_param) in enumerate(_POOL_CASES, start=50):
        case_errors, case_tols = compare_backward(
            name,
            max_pool_forward_naive,
            max_pool_backward_naive,
            layers.max_pool_forward_naive,
            (_distinct_values(seed, x_shape), dict(pool_param)),
            hints,
            seed=seed,
            label=f" ({label})",
        )
        errors |= case_errors
        tols |= case_tols

    # Ties: no numerical gradient exists there, so the reference's rule decides.
    for seed, (label, x_shape, pool_param) in enumerate(_POOL_CASES[:2], start=55):
        x = _tied_values(seed, x_shape)
        expected_out, reference_cache = layers.max_pool_forward_naive(x, dict(pool_param))
        dout = np.random.default_rng(seed).standard_normal(expected_out.shape)
        (dx,) = student_gradients(
            name,
            max_pool_forward_naive,
            max_pool_backward_naive,
            (x, dict(pool_param)),
            [dout],
            hints,
        )
        expected = layers.max_pool_backward_naive(dout, reference_cache)
        suspects = [
            (
                _pool_backward_every_tie(x, pool_param, dout),
                "the gradient went to every input tied for the maximum; " + _POOL_TIES_HINT,
            ),
            (
                _pool_backward_every_tie(x, pool_param, dout, last_only=True),
                "the gradient went to the last of the tied maxima; " + _POOL_TIES_HINT,
            ),
        ]
        output = f"dx (ties after ReLU, {label})"
        tols[output] = VALUE_TOL
        errors[output] = compare_diagnosed(
            name, output, dx, expected, VALUE_TOL, _POOL_TIES_HINT, suspects
        )

    label, x_shape, pool_param = _POOL_CASES[1]
    case_errors, case_tols = compare_float32_backward(
        name,
        max_pool_forward_naive,
        max_pool_backward_naive,
        layers.max_pool_forward_naive,
        layers.max_pool_backward_naive,
        (_distinct_values(58, x_shape, np.float32), dict(pool_param)),
        hints,
    )
    report(name, errors | case_errors, tols | case_tols)


def _pool_backward_every_tie(
    x: np.ndarray, pool_param: dict, dout: np.ndarray, last_only: bool = False
) -> np.ndarray:
    """The two classic tie rules that are wrong: every tied maximum, or the last one."""
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * s : i * s + ph, j * s : j * s + pw]
                    mask = window == window.max()  # (ph, pw)
                    if last_only:
                        last = np.flatnonzero(mask)[-1]
                        mask = np.zeros_like(mask)
                        mask.flat[last] = True
                    dx[n, c, i * s : i * s + ph, j * s : j * s + pw] += mask * dout[n, c, i, j]
    return dx
