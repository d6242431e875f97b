"""Checks for naive max pooling (``course/layers/pool.py``).

Every case has H_out != W_out, so a swapped height and width shows: 2x2
windows with stride 2, overlapping 3x2 windows with stride 1 (where the
stride is not the window) and 3x3 windows with stride 2, then a float32 run
whose outputs must stay float32. The backward is also checked on tied
maxima, where any valid subgradient passes: each window's gradient goes,
whole, to one of its tied maxima (np.argmax's first, the last, any) or is
shared among them, and a mask ``x == max`` that counts it twice fails.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course import layers
from course.checks.core import (
    VALUE_TOL,
    call_forward,
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
    "the output size is the docstring's formula (no padding); each output value is the "
    "largest input of its window, in its own channel: pool_height x pool_width is the "
    "window, stride only its step (windows overlap when the stride is smaller)"
)
_POOL_BACKWARD_HINT = (
    "each dout[n, c, i, j] goes only to the position of its window's maximum (its row AND "
    "column within the window, then within x), and the gradients add up where overlapping "
    "windows share a maximum"
)
_POOL_MISTAKE_HINTS = {
    "average": "pooling keeps the LARGEST value of each window, not the average",
    "stride as window": "the window is pool_height x pool_width; the stride only says how far "
    "it moves",
    "not strided": "the windows do not move by the stride: output position (i, j) sees the "
    "window that starts stride times further along",
    "channels": "each channel is pooled on its own: the maximum is taken within one "
    "channel's window",
    "abs": "the maximum of the values themselves, not of their absolute values",
    "assigned": "overlapping windows can share a maximum, and then their gradients ADD UP: "
    "assigning a window's gradient overwrites what an earlier window sent",
    "no dout": "you sent the max's local slope, 1, but not the gradient that arrives: dout "
    "must flow through (the chain rule)",
}
_POOL_TIES_HINT = (
    "when several inputs tie for a window's maximum (after a ReLU whole windows are 0), "
    "that window's dout[n, c, i, j] goes, whole, to one of them (any one: np.argmax picks "
    "the first) and nowhere else; the gradients of all windows add up in dx"
)
_POOL_EVERY_TIE_HINT = (
    "the gradient went to every input tied for the maximum (a mask x == max): a window "
    "with k tied maxima then passes on k times its dout, so its gradient is counted twice "
    "or more. Send each window's dout to one of its tied maxima only, e.g. the one "
    "np.argmax returns"
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
        suspects = _pool_forward_suspects(x.astype(np.float64), pool_param)
        errors[output] = compare_diagnosed(
            name,
            output,
            out,
            expected,
            VALUE_TOL,
            _POOL_FORWARD_HINT,
            suspects,
            dtype=np.dtype(dtype),
        )
    report(name, errors, tols)


def _pool_windows(
    x: np.ndarray, pool_param: dict, step: int, size: tuple[int, int], pick: Callable
) -> np.ndarray:
    """out (N, C, H_out, W_out) of windows of ``size`` starting ``step`` apart, each ``pick``ed.

    H_out and W_out follow the real pool_param, as a student's loop would size them.
    """
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    out = np.zeros((N, C, 1 + (H - ph) // s, 1 + (W - pw) // s))
    for n, c, i, j in np.ndindex(*out.shape):
        out[n, c, i, j] = pick(
            x[n, c, i * step : i * step + size[0], j * step : j * step + size[1]]
        )
    return out


def _pool_forward_suspects(x: np.ndarray, pool_param: dict) -> list[tuple[np.ndarray, str]]:
    """The outputs of the classic max-pool forward mistakes, with the hints that name them."""
    h, s = _POOL_MISTAKE_HINTS, pool_param["stride"]
    size = (pool_param["pool_height"], pool_param["pool_width"])
    out = _pool_windows(x, pool_param, s, size, np.max)
    across = _pool_windows(x.max(axis=1, keepdims=True), pool_param, s, size, np.max)
    wrong = [
        (_pool_windows(x, pool_param, s, size, np.mean), h["average"]),
        (np.broadcast_to(across, out.shape), h["channels"]),
        (_pool_windows(x, pool_param, s, size, lambda v: np.abs(v).max()), h["abs"]),
    ]
    if s > 1:
        wrong.append((_pool_windows(x, pool_param, 1, size, np.max), h["not strided"]))
    if (s, s) != size:
        wrong.append((_pool_windows(x, pool_param, s, (s, s), np.max), h["stride as window"]))
    return wrong


def _pool_routed(
    x: np.ndarray, dout: np.ndarray, step: int, size: tuple[int, int], assign: bool = False
) -> np.ndarray:
    """dx of a loop that sends each dout to its window's first maximum (``=`` or ``+=``)."""
    dx = np.zeros_like(x)
    for n, c, i, j in np.ndindex(*dout.shape):
        window = x[n, c, i * step : i * step + size[0], j * step : j * step + size[1]]
        di, dj = np.unravel_index(np.argmax(window), window.shape)
        if assign:  # the whole window is written, zeros included, as `dx[window] = mask * dout`
            dx[n, c, i * step : i * step + size[0], j * step : j * step + size[1]] = 0
        dx[n, c, i * step + di, j * step + dj] += dout[n, c, i, j]
    return dx


def _pool_backward_suspects(inputs: tuple, upstream: list[np.ndarray]) -> dict[str, list]:
    """The dx of the classic max-pool backward mistakes, with the hints that name them."""
    x, pool_param = inputs
    (dout,) = upstream
    h, s = _POOL_MISTAKE_HINTS, pool_param["stride"]
    size = (pool_param["pool_height"], pool_param["pool_width"])
    wrong = [
        (_pool_routed(x, dout, s, size, assign=True), h["assigned"]),
        (_pool_routed(x, np.ones_like(dout), s, size), h["no dout"]),
    ]
    if s > 1:
        wrong.append((_pool_routed(x, dout, 1, size), h["not strided"]))
    if (s, s) != size:
        wrong.append((_pool_routed(x, dout, s, (s, s)), h["stride as window"]))
    return {"dx": wrong}


def check_max_pool_backward_naive(
    max_pool_forward_naive: Callable, max_pool_backward_naive: Callable
) -> None:
    """Check ``max_pool_backward_naive(dout, cache) -> dx``.

    Against numerical gradients on inputs without ties, in every case of the
    forward check (including overlapping windows, whose contributions add);
    then on inputs after a ReLU with all-zero windows and tied maxima, where
    no numerical gradient exists and every subgradient is right: dx must be
    what routing each window's dout among that window's tied maxima gives
    (see :func:`_nearest_tie_routing`), whichever maximum gets it. Last, in
    float32.
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
            suspects=_pool_backward_suspects,
        )
        errors |= case_errors
        tols |= case_tols

    # Ties: no numerical gradient exists there; any tied maximum may take a window's dout.
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
        first_maxima = layers.max_pool_backward_naive(dout, reference_cache)
        expected = first_maxima
        if _real_array_like(dx, x):  # else compare names what is wrong with it
            expected = _nearest_tie_routing(x, pool_param, first_maxima, dx)
        suspects = [(_pool_backward_every_tie(x, pool_param, dout), _POOL_EVERY_TIE_HINT)]
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


def _nearest_tie_routing(
    x: np.ndarray, pool_param: dict, first_maxima: np.ndarray, dx: np.ndarray
) -> np.ndarray:
    """The valid gradient on tied inputs ``x`` nearest to a student's ``dx``.

    A valid dx sends each window's dout to positions holding that window's
    maximum, the shares adding up to dout, and nothing elsewhere; windows
    that overlap (stride < window) add their parts. Every such dx is the
    first-maximum routing ``first_maxima`` (the reference) plus moves of
    part of a window's dout from its first maximum to another tied one::

        dx = first_maxima + sum_k sum_p z[k, p] * (e_p - e_first(k))

    over windows k and their other tied maxima p. The z that fit
    ``dx - first_maxima`` best (least squares) give the nearest valid dx:
    equal to ``dx`` (up to rounding) exactly when dx is valid. So any tie
    rule passes (first, last, shared), and a mask ``x == max`` that gives
    each tied maximum the whole dout does not (its total is too large). The
    test is linear: it does not ask the shares to be positive.
    """
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out, W_out = 1 + (H - ph) // s, 1 + (W - pw) // s
    at = np.arange(x.size).reshape(x.shape)  # flat index of every input
    moves = []  # (from, to): flat positions of a window's first maximum and another tied one
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * s : i * s + ph, j * s : j * s + pw]
                    tied = at[n, c, i * s : i * s + ph, j * s : j * s + pw][window == window.max()]
                    moves += [(tied[0], other) for other in tied[1:]]  # tied[0]: np.argmax's
    if not moves:
        return first_maxima
    sources, targets = np.array(moves).T
    basis = np.zeros((x.size, len(moves)))  # (N*C*H*W, moves): column e_to - e_from per move
    basis[targets, np.arange(len(moves))] += 1.0
    basis[sources, np.arange(len(moves))] -= 1.0
    z, *_ = np.linalg.lstsq(basis, np.ravel(dx - first_maxima), rcond=None)  # (moves,)
    return first_maxima + (basis @ z).reshape(x.shape)


def _real_array_like(dx: object, x: np.ndarray) -> bool:
    """Whether ``dx`` is a finite float array shaped like ``x``: one with a nearest routing."""
    return (
        isinstance(dx, np.ndarray)
        and dx.shape == x.shape
        and np.issubdtype(dx.dtype, np.floating)
        and bool(np.all(np.isfinite(dx)))
    )


def _pool_backward_every_tie(x: np.ndarray, pool_param: dict, dout: np.ndarray) -> np.ndarray:
    """The classic tie rule that is wrong: every tied maximum gets the window's whole dout."""
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * s : i * s + ph, j * s : j * s + pw]
                    mask = window == window.max()  # (ph, pw)
                    dx[n, c, i * s : i * s + ph, j * s : j * s + pw] += mask * dout[n, c, i, j]
    return dx
