"""The max pooling checks fail on realistic wrong implementations and pass the reference.

Every function below is a mistake students really make while writing naive
max pooling; each catalogue entry names the message the check must give for
it (the output that is wrong and the kind of failure). Correct loop
implementations, written the way a student would, must pass.
"""

from __future__ import annotations

import numpy as np
import pytest

from course import layers
from course.checks import CheckFailed, check_max_pool_backward_naive, check_max_pool_forward_naive
from course.checks.core import references_allowed
from course.checks.pool import _POOL_CASES, _tied_values

# ---------------------------------------------------------------------------
# max_pool_forward_naive(x, pool_param) -> (out, cache)
# ---------------------------------------------------------------------------


def max_pool_forward_student(x, pool_param):
    """A correct loop implementation."""
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out, W_out = 1 + (H - ph) // s, 1 + (W - pw) // s
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, c, i, j] = np.max(x[n, c, i * s : i * s + ph, j * s : j * s + pw])
    return out, (x, pool_param)


# Average pooling instead of max pooling.
def max_pool_forward_average(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out, W_out = 1 + (H - ph) // s, 1 + (W - pw) // s
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, c, i, j] = np.mean(x[n, c, i * s : i * s + ph, j * s : j * s + pw])
    return out, (x, pool_param)


# Uses the stride as the window size: right for 2x2 windows with stride 2 only.
def max_pool_forward_stride_as_window(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out, W_out = 1 + (H - ph) // s, 1 + (W - pw) // s
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, c, i, j] = np.max(x[n, c, i * s : i * s + s, j * s : j * s + s])
    return out, (x, pool_param)


# Sizes the output with the stride but forgets it in the window position.
def max_pool_forward_window_not_strided(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out, W_out = 1 + (H - ph) // s, 1 + (W - pw) // s
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, c, i, j] = np.max(x[n, c, i : i + ph, j : j + pw])
    return out, (x, pool_param)


# Swaps pool_height and pool_width in the window: right for square windows only.
def max_pool_forward_pool_sides_swapped(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out, W_out = 1 + (H - ph) // s, 1 + (W - pw) // s
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, c, i, j] = np.max(x[n, c, i * s : i * s + pw, j * s : j * s + ph])
    return out, (x, pool_param)


# Allocates the output as (N, C, W_out, H_out) and fills it at [n, c, j, i].
def max_pool_forward_height_width_swapped(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out, W_out = 1 + (H - ph) // s, 1 + (W - pw) // s
    out = np.zeros((N, C, W_out, H_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, c, j, i] = np.max(x[n, c, i * s : i * s + ph, j * s : j * s + pw])
    return out, (x, pool_param)


# Forgets the + 1 in the output size.
def max_pool_forward_output_size_off_by_one(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out, W_out = (H - ph) // s, (W - pw) // s
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, c, i, j] = np.max(x[n, c, i * s : i * s + ph, j * s : j * s + pw])
    return out, (x, pool_param)


# Takes the maximum over every channel of the window.
def max_pool_forward_max_over_channels(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out, W_out = 1 + (H - ph) // s, 1 + (W - pw) // s
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for i in range(H_out):
            for j in range(W_out):
                out[n, :, i, j] = np.max(x[n, :, i * s : i * s + ph, j * s : j * s + pw])
    return out, (x, pool_param)


# Pools the magnitudes: np.abs(window).max().
def max_pool_forward_abs_max(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out, W_out = 1 + (H - ph) // s, 1 + (W - pw) // s
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * s : i * s + ph, j * s : j * s + pw]
                    out[n, c, i, j] = np.abs(window).max()
    return out, (x, pool_param)


# Starts from -inf and steps with range(0, H - ph, s): the stop is exclusive, so the
# last row and column keep their -inf.
def max_pool_forward_range_misses_last_window(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out, W_out = 1 + (H - ph) // s, 1 + (W - pw) // s
    out = np.full((N, C, H_out, W_out), -np.inf, dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for top in range(0, H - ph, s):
                for left in range(0, W - pw, s):
                    window = x[n, c, top : top + ph, left : left + pw]
                    out[n, c, top // s, left // s] = window.max()
    return out, (x, pool_param)


# Sorts each window's rows in place to read off the largest: the window is a view of x.
def max_pool_forward_sorts_window(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out, W_out = 1 + (H - ph) // s, 1 + (W - pw) // s
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * s : i * s + ph, j * s : j * s + pw]
                    window.sort(axis=1)
                    out[n, c, i, j] = window[:, -1].max()
    return out, (x, pool_param)


# np.zeros without dtype=: float32 inputs give a float64 output.
def max_pool_forward_float64_zeros(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out, W_out = 1 + (H - ph) // s, 1 + (W - pw) // s
    out = np.zeros((N, C, H_out, W_out))
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, c, i, j] = np.max(x[n, c, i * s : i * s + ph, j * s : j * s + pw])
    return out, (x, pool_param)


# The released stub.
def max_pool_forward_not_implemented(x, pool_param):
    raise NotImplementedError


MAX_POOL_FORWARD_MISTAKES = [
    pytest.param(
        max_pool_forward_average,
        r"out \(2x2, stride 2\) is wrong: relative error.* Hint: .*not the average",
        id="average-pool",
    ),
    pytest.param(
        max_pool_forward_stride_as_window,
        r"out \(3x2, stride 1\) is wrong: relative error .* Hint: the window is pool_height x "
        r"pool_width; the stride only says how far it moves",
        id="stride-as-window",
    ),
    pytest.param(
        max_pool_forward_window_not_strided,
        r"out \(2x2, stride 2\) is wrong: relative error"
        r".* Hint: .*the windows do not move by the stride",
        id="window-not-strided",
    ),
    pytest.param(
        max_pool_forward_pool_sides_swapped,
        r"out \(3x2, stride 1\) is wrong: relative error",
        id="pool-height-width-swapped",
    ),
    pytest.param(
        max_pool_forward_height_width_swapped,
        r"out \(2x2, stride 2\) has the wrong shape: got \(2, 3, 3, 2\), expected \(2, 3, 2, 3\)",
        id="output-height-width-swapped",
    ),
    pytest.param(
        max_pool_forward_output_size_off_by_one,
        r"out \(2x2, stride 2\) has the wrong shape: got \(2, 3, 1, 2\)",
        id="output-size-off-by-one",
    ),
    pytest.param(
        max_pool_forward_max_over_channels,
        r"out \(2x2, stride 2\) is wrong: relative error"
        r".* Hint: .*each channel is pooled on its own",
        id="max-over-channels",
    ),
    pytest.param(
        max_pool_forward_abs_max,
        r"out \(2x2, stride 2\) is wrong: relative error.* Hint: .*not of their absolute values",
        id="abs-max",
    ),
    pytest.param(
        max_pool_forward_range_misses_last_window,
        r"out \(2x2, stride 2\) contains NaN or inf",
        id="range-misses-last-window-inf",
    ),
    pytest.param(
        max_pool_forward_sorts_window,
        r"changed its input argument 1 in place",
        id="sorts-window-in-place",
    ),
    pytest.param(
        max_pool_forward_float64_zeros,
        r"out \(2x2, stride 2, float32\) has dtype float64 for float32 inputs; keep the dtype "
        r"of the inputs\. Hint: make new arrays with the inputs' dtype: np\.zeros\(shape, "
        r"dtype=x\.dtype\) or np\.zeros_like\(x\), because a float64 array \(np\.zeros\(shape\) "
        r"without dtype=, .*\) upcasts everything it touches to float64$",
        id="float64-zeros-upcast",
    ),
    pytest.param(
        max_pool_forward_not_implemented,
        r"max_pool_forward_not_implemented is not implemented yet",
        id="not-implemented",
    ),
]


@pytest.mark.parametrize("student, expected", MAX_POOL_FORWARD_MISTAKES)
def test_check_max_pool_forward_naive_fails(student, expected, capsys):
    with pytest.raises(CheckFailed, match=expected) as failure:
        check_max_pool_forward_naive(student)
    assert str(failure.value).startswith("max_pool_forward_naive: ")
    assert "OK" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "forward",
    [layers.max_pool_forward_naive, max_pool_forward_student],
    ids=["reference", "student"],
)
@references_allowed()  # the course's own reference is the right answer
def test_check_max_pool_forward_naive_passes(forward, capsys):
    check_max_pool_forward_naive(forward)
    out = capsys.readouterr().out
    assert out.startswith("OK max_pool_forward_naive:")
    assert out.count("\n") == 1


# ---------------------------------------------------------------------------
# max_pool_backward_naive(dout, cache) -> dx; cache = (x, pool_param)
# ---------------------------------------------------------------------------


def max_pool_backward_student(dout, cache):
    """A correct loop implementation: the first maximum of each window gets the gradient."""
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * s : i * s + ph, j * s : j * s + pw]
                    di, dj = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * s + di, j * s + dj] += dout[n, c, i, j]
    return dx


# Sends the gradient to every element of the window, as if it were average pooling
# without the division.
def max_pool_backward_every_element(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    dx[n, c, i * s : i * s + ph, j * s : j * s + pw] += dout[n, c, i, j]
    return dx


# Masks with window == window.max(): every tied maximum gets the whole gradient.
def max_pool_backward_every_tie(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * s : i * s + ph, j * s : j * s + pw]
                    mask = window == np.max(window)
                    dx[n, c, i * s : i * s + ph, j * s : j * s + pw] += mask * dout[n, c, i, j]
    return dx


# Scans the window with >=, so the last of the tied maxima wins (as valid as the first).
def max_pool_backward_last_tie(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    best, best_at = -np.inf, (0, 0)
                    for di in range(ph):
                        for dj in range(pw):
                            value = x[n, c, i * s + di, j * s + dj]
                            if value >= best:
                                best, best_at = value, (di, dj)
                    dx[n, c, i * s + best_at[0], j * s + best_at[1]] += dout[n, c, i, j]
    return dx


# Splits the gradient equally between tied maxima (a valid subgradient too, as
# TensorFlow's reduce_max does).
def max_pool_backward_splits_ties(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * s : i * s + ph, j * s : j * s + pw]
                    mask = window == np.max(window)
                    share = mask / mask.sum()
                    dx[n, c, i * s : i * s + ph, j * s : j * s + pw] += share * dout[n, c, i, j]
    return dx


# A mask x == max, correct until windows overlap: the check's 2x2 case has no
# overlap, so this fails only on the overlapping 3x2 case (where ties meet twice).
def max_pool_backward_every_tie_overlapping(dout, cache):
    x, pool_param = cache
    if pool_param["stride"] >= pool_param["pool_height"]:
        return max_pool_backward_student(dout, cache)
    return max_pool_backward_every_tie(dout, cache)


# Finds the maximum's row and column separately: right for a unique maximum, but with
# maxima at (0, 1) and (1, 0) the gradient goes to (0, 0), which is not a maximum.
def max_pool_backward_row_and_column_apart(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * s : i * s + ph, j * s : j * s + pw]
                    di = np.argmax(window.max(axis=1))
                    dj = np.argmax(window.max(axis=0))
                    dx[n, c, i * s + di, j * s + dj] += dout[n, c, i, j]
    return dx


# Assigns the masked window instead of adding it: overlapping windows overwrite each other.
def max_pool_backward_assigns_window(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * s : i * s + ph, j * s : j * s + pw]
                    mask = np.zeros_like(window)
                    mask.flat[np.argmax(window)] = 1
                    dx[n, c, i * s : i * s + ph, j * s : j * s + pw] = mask * dout[n, c, i, j]
    return dx


# Forgets the stride in the backward pass: the windows start at (i, j).
def max_pool_backward_ignores_stride(dout, cache):
    x, pool_param = cache
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i : i + ph, j : j + pw]
                    di, dj = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i + di, j + dj] += dout[n, c, i, j]
    return dx


# Uses the stride as the window size: right for 2x2 windows with stride 2 only.
def max_pool_backward_stride_as_window(dout, cache):
    x, pool_param = cache
    s = pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * s : i * s + s, j * s : j * s + s]
                    di, dj = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * s + di, j * s + dj] += dout[n, c, i, j]
    return dx


# Unravels the flat argmax with divmod by pool_height: right for square windows only.
def max_pool_backward_divmod_by_height(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * s : i * s + ph, j * s : j * s + pw]
                    di, dj = divmod(int(np.argmax(window)), ph)
                    dx[n, c, i * s + di, j * s + dj] += dout[n, c, i, j]
    return dx


# Forgets dout: marks the maxima with 1.
def max_pool_backward_forgets_dout(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * s : i * s + ph, j * s : j * s + pw]
                    di, dj = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * s + di, j * s + dj] += 1
    return dx


# Zeroes the non-maxima of each window in the cached x itself to build the mask.
def max_pool_backward_masks_cached_x(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * s : i * s + ph, j * s : j * s + pw]
                    di, dj = np.unravel_index(np.argmax(window), window.shape)
                    window[window < window[di, dj]] = 0
                    dx[n, c, i * s + di, j * s + dj] += dout[n, c, i, j]
    return dx


# Sizes dx like dout (the pooled shape) instead of like x.
def max_pool_backward_dx_like_dout(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(dout)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * s : i * s + ph, j * s : j * s + pw]
                    dx[n, c, i, j] = dout[n, c, i, j] * (window.max() == window).any()
    return dx


# np.zeros without dtype=: float32 inputs give a float64 gradient.
def max_pool_backward_float64_zeros(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros(x.shape)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * s : i * s + ph, j * s : j * s + pw]
                    di, dj = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * s + di, j * s + dj] += dout[n, c, i, j]
    return dx


# A trailing comma returns the single gradient as a 1-tuple.
def max_pool_backward_returns_tuple(dout, cache):
    return (max_pool_backward_student(dout, cache),)


# The released stub.
def max_pool_backward_not_implemented(dout, cache):
    raise NotImplementedError


MAX_POOL_BACKWARD_MISTAKES = [
    pytest.param(
        max_pool_backward_every_element,
        r"dx \(2x2, stride 2\) is wrong: relative error .* only to the position of its "
        r"window's maximum",
        id="gradient-to-every-element",
    ),
    pytest.param(
        max_pool_backward_every_tie,
        r"dx \(ties after ReLU, 2x2, stride 2\) is wrong: .* Hint: the gradient went to every "
        r"input tied for the maximum \(a mask x == max\): a window with k tied maxima then "
        r"passes on k times its dout, so its gradient is counted twice or more",
        id="gradient-to-every-tie",
    ),
    pytest.param(
        max_pool_backward_every_tie_overlapping,
        r"dx \(ties after ReLU, 3x2, stride 1\) is wrong: .* Hint: the gradient went to every "
        r"input tied for the maximum .* counted twice or more",
        id="gradient-to-every-tie-overlapping",
    ),
    pytest.param(
        max_pool_backward_row_and_column_apart,
        r"dx \(ties after ReLU, 2x2, stride 2\) is wrong: .* Hint: when several inputs tie "
        r"for a window's maximum .* goes, whole, to one of them",
        id="tie-row-and-column-apart",
    ),
    pytest.param(
        max_pool_backward_assigns_window,
        r"dx \(3x2, stride 1\) is wrong: relative error .* Hint: .*their gradients ADD UP",
        id="assigns-instead-of-adds",
    ),
    pytest.param(
        max_pool_backward_ignores_stride,
        r"dx \(2x2, stride 2\) is wrong: relative error"
        r".* Hint: .*the windows do not move by the stride",
        id="ignores-stride",
    ),
    pytest.param(
        max_pool_backward_stride_as_window,
        r"dx \(3x2, stride 1\) is wrong: relative error"
        r".* Hint: .*the stride only says how far it moves",
        id="stride-as-window",
    ),
    pytest.param(
        max_pool_backward_divmod_by_height,
        r"max_pool_backward_divmod_by_height raised IndexError: index 6 is out of bounds",
        id="unravel-by-pool-height",
    ),
    pytest.param(
        max_pool_backward_forgets_dout,
        r"dx \(2x2, stride 2\) is wrong: relative error.* Hint: .*dout must flow through",
        id="forgets-dout",
    ),
    pytest.param(
        max_pool_backward_masks_cached_x,
        r"changed its input argument 2 in place. Hint: a backward pass must leave the cache",
        id="masks-cached-x-in-place",
    ),
    pytest.param(
        max_pool_backward_dx_like_dout,
        r"dx \(2x2, stride 2\) has the wrong shape: got \(2, 3, 2, 3\), expected \(2, 3, 4, 6\)",
        id="dx-shaped-like-dout",
    ),
    pytest.param(
        max_pool_backward_float64_zeros,
        r"dx \(float32\) has dtype float64 for float32 inputs",
        id="float64-zeros-upcast",
    ),
    pytest.param(
        max_pool_backward_returns_tuple,
        r"dx \(2x2, stride 2\) should be a numpy array of shape \(2, 3, 4, 6\), got tuple",
        id="one-tuple",
    ),
    pytest.param(
        max_pool_backward_not_implemented,
        r"max_pool_backward_not_implemented is not implemented yet",
        id="not-implemented",
    ),
]


@pytest.mark.parametrize("student, expected", MAX_POOL_BACKWARD_MISTAKES)
def test_check_max_pool_backward_naive_fails(student, expected, capsys):
    with pytest.raises(CheckFailed, match=expected) as failure:
        check_max_pool_backward_naive(layers.max_pool_forward_naive, student)
    assert str(failure.value).startswith("max_pool_backward_naive: ")
    assert "OK" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "forward, backward",
    [
        (layers.max_pool_forward_naive, layers.max_pool_backward_naive),
        (max_pool_forward_student, max_pool_backward_student),
        (max_pool_forward_student, max_pool_backward_last_tie),
        (max_pool_forward_student, max_pool_backward_splits_ties),
    ],
    ids=["reference", "student", "last-of-tied-maxima", "shared-between-tied-maxima"],
)
@references_allowed()  # the course's own reference is the right answer
def test_check_max_pool_backward_naive_passes(forward, backward, capsys):
    check_max_pool_backward_naive(forward, backward)
    out = capsys.readouterr().out
    assert out.startswith("OK max_pool_backward_naive:")
    assert out.count("\n") == 1


def test_check_max_pool_backward_naive_tie_case_has_ties():
    """The tie case is only a test if all-zero windows and tied positive maxima occur in it."""
    for seed, (_, shape, pool_param) in enumerate(_POOL_CASES[:2], start=55):
        x = _tied_values(seed, shape)
        ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
        zero_windows = positive_ties = 0
        for i in range(0, shape[2] - ph + 1, s):
            for j in range(0, shape[3] - pw + 1, s):
                window = x[:, :, i : i + ph, j : j + pw].reshape(shape[0] * shape[1], -1)
                top = window.max(axis=1, keepdims=True)
                tied = (window == top).sum(axis=1) > 1
                zero_windows += int(np.sum(tied & (top[:, 0] == 0)))
                positive_ties += int(np.sum(tied & (top[:, 0] > 0)))
        assert zero_windows >= 2 and positive_ties >= 2


# ---------------------------------------------------------------------------
# The catalogues themselves
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "catalogue, minimum",
    [(MAX_POOL_FORWARD_MISTAKES, 10), (MAX_POOL_BACKWARD_MISTAKES, 10)],
    ids=["max_pool_forward_naive", "max_pool_backward_naive"],
)
def test_catalogue_is_large_and_distinct(catalogue, minimum):
    functions = [param.values[0] for param in catalogue]
    assert len(functions) >= minimum
    assert len(set(functions)) == len(functions)
    assert len({param.id for param in catalogue}) == len(catalogue)
