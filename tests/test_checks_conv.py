"""The convolutional checks fail on realistic wrong implementations and pass the reference.

Every function below is a mistake students really make while writing the
naive convolution, max pooling or spatial batch normalisation; each catalogue
entry names the message the check must give for it (the output that is wrong
and the kind of failure). Correct loop implementations, written the way a
student would, must pass.
"""

from __future__ import annotations

import numpy as np
import pytest

from course import layers
from course.checks import (
    CheckFailed,
    check_conv_backward_naive,
    check_conv_forward_naive,
    check_max_pool_backward_naive,
    check_max_pool_forward_naive,
    check_spatial_batchnorm_backward,
    check_spatial_batchnorm_forward,
)
from course.checks.conv import _POOL_CASES, _tied_values

# ---------------------------------------------------------------------------
# conv_forward_naive(x, w, b, conv_param) -> (out, cache)
# ---------------------------------------------------------------------------


def conv_forward_student(x, w, b, conv_param):
    """A correct loop implementation, written the way the exercise asks."""
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[
                        n, :, i * stride : i * stride + HH, j * stride : j * stride + WW
                    ]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out, (x, w, b, conv_param)


# Convolves the unpadded input, then pads the output with zeros to the expected size.
def conv_forward_pads_output(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H - HH) // stride
    W_out = 1 + (W - WW) // stride
    out = np.zeros((N, F, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, :, i * stride : i * stride + HH, j * stride : j * stride + WW]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    out = np.pad(out, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    return out, (x, w, b, conv_param)


# Flips the filter, as the textbook definition of convolution does.
def conv_forward_flipped_kernel(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            kernel = w[f, :, ::-1, ::-1]
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[
                        n, :, i * stride : i * stride + HH, j * stride : j * stride + WW
                    ]
                    out[n, f, i, j] = np.sum(window * kernel) + b[f]
    return out, (x, w, b, conv_param)


# Allocates the output as (N, F, W_out, H_out) and fills it at [n, f, j, i].
def conv_forward_height_width_swapped(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, W_out, H_out), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[
                        n, :, i * stride : i * stride + HH, j * stride : j * stride + WW
                    ]
                    out[n, f, j, i] = np.sum(window * w[f]) + b[f]
    return out, (x, w, b, conv_param)


# Pairs the input height with the kernel width in the output size (and vice versa).
def conv_forward_kernel_sides_swapped(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - WW) // stride
    W_out = 1 + (W + 2 * pad - HH) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[
                        n, :, i * stride : i * stride + HH, j * stride : j * stride + WW
                    ]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out, (x, w, b, conv_param)


# Ignores the stride: slides the window one pixel at a time.
def conv_forward_ignores_stride(x, w, b, conv_param):
    pad = conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out, W_out = H + 2 * pad - HH + 1, W + 2 * pad - WW + 1
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, f, i, j] = np.sum(x_pad[n, :, i : i + HH, j : j + WW] * w[f]) + b[f]
    return out, (x, w, b, conv_param)


# Sizes the output with the stride but forgets it in the window position: x_pad[i:i+HH].
def conv_forward_window_not_strided(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, f, i, j] = np.sum(x_pad[n, :, i : i + HH, j : j + WW] * w[f]) + b[f]
    return out, (x, w, b, conv_param)


# np.pad(x, pad) pads all four axes, the batch and the channels too.
def conv_forward_pads_every_axis(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, pad)
    out = np.zeros((N, F, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[
                        n, :, i * stride : i * stride + HH, j * stride : j * stride + WW
                    ]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out, (x, w, b, conv_param)


# Adds the bias inside the sum, so it is counted C * HH * WW times.
def conv_forward_bias_inside_sum(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[
                        n, :, i * stride : i * stride + HH, j * stride : j * stride + WW
                    ]
                    out[n, f, i, j] = np.sum(window * w[f] + b[f])
    return out, (x, w, b, conv_param)


# Multiplies the window in place: it is a view of x_pad, so overlapping windows see
# already-scaled values.
def conv_forward_window_times_equals(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[
                        n, :, i * stride : i * stride + HH, j * stride : j * stride + WW
                    ]
                    window *= w[f]
                    out[n, f, i, j] = window.sum() + b[f]
    return out, (x, w, b, conv_param)


# Reshapes the bias for broadcasting by assigning its shape: the caller's b changes.
def conv_forward_reshapes_b_in_place(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for i in range(H_out):
            for j in range(W_out):
                window = x_pad[n, :, i * stride : i * stride + HH, j * stride : j * stride + WW]
                out[n, :, i, j] = np.sum(window * w, axis=(1, 2, 3))
    b.shape = (F, 1, 1)
    return out + b, (x, w, b, conv_param)


# Takes the settings out of conv_param with pop, emptying the caller's dict.
def conv_forward_pops_conv_param(x, w, b, conv_param):
    stride, pad = conv_param.pop("stride"), conv_param.pop("pad")
    return conv_forward_student(x, w, b, {"stride": stride, "pad": pad})


# Steps the window with range(0, H + 2*pad - HH, stride): the stop is exclusive, so the
# last row and column of the NaN-initialised output are never written.
def conv_forward_range_misses_last_window(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.full((N, F, H_out, W_out), np.nan, dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for top in range(0, H + 2 * pad - HH, stride):
                for left in range(0, W + 2 * pad - WW, stride):
                    window = x_pad[n, :, top : top + HH, left : left + WW]
                    out[n, f, top // stride, left // stride] = np.sum(window * w[f]) + b[f]
    return out, (x, w, b, conv_param)


# np.zeros without dtype=: float32 inputs give a float64 output.
def conv_forward_float64_zeros(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, H_out, W_out))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[
                        n, :, i * stride : i * stride + HH, j * stride : j * stride + WW
                    ]
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out, (x, w, b, conv_param)


# Channels last: returns (N, H_out, W_out, F).
def conv_forward_channels_last(x, w, b, conv_param):
    out, cache = conv_forward_student(x, w, b, conv_param)
    return out.transpose(0, 2, 3, 1), cache


# Forgets the cache.
def conv_forward_no_cache(x, w, b, conv_param):
    out, _ = conv_forward_student(x, w, b, conv_param)
    return out


# The released stub.
def conv_forward_not_implemented(x, w, b, conv_param):
    raise NotImplementedError


CONV_FORWARD_MISTAKES = [
    pytest.param(
        conv_forward_pads_output,
        r"out \(stride 1, pad 1\) is wrong: .* Hint: the output matches a convolution without "
        r"padding whose output was then padded",
        id="pads-output-not-input",
    ),
    pytest.param(
        conv_forward_flipped_kernel,
        r"out \(stride 1, pad 1\) is wrong: .* Hint: the output matches a true convolution, "
        r"with the filter flipped",
        id="flipped-kernel",
    ),
    pytest.param(
        conv_forward_height_width_swapped,
        r"out \(stride 1, pad 1\) has the wrong shape: "
        r"got \(2, 3, 7, 4\), expected \(2, 3, 4, 7\)",
        id="height-width-swapped",
    ),
    pytest.param(
        conv_forward_kernel_sides_swapped,
        r"conv_forward_kernel_sides_swapped raised ValueError",
        id="kernel-sides-swapped-in-output-size",
    ),
    pytest.param(
        conv_forward_ignores_stride,
        r"out \(stride 2, pad 1\) has the wrong shape: "
        r"got \(2, 4, 5, 9\), expected \(2, 4, 3, 5\)",
        id="ignores-stride",
    ),
    pytest.param(
        conv_forward_window_not_strided,
        r"out \(stride 2, pad 1\) is wrong: relative error",
        id="window-not-strided",
    ),
    pytest.param(
        conv_forward_pads_every_axis,
        r"raised ValueError: operands could not be broadcast",
        id="np-pad-pads-batch-and-channels",
    ),
    pytest.param(
        conv_forward_bias_inside_sum,
        r"out \(stride 1, pad 1\) is wrong: relative error",
        id="bias-inside-sum",
    ),
    pytest.param(
        conv_forward_window_times_equals,
        r"out \(stride 1, pad 1\) is wrong: relative error",
        id="window-times-equals-w",
    ),
    pytest.param(
        conv_forward_reshapes_b_in_place,
        r"changed its input argument 3 in place",
        id="b-shape-assigned",
    ),
    pytest.param(
        conv_forward_pops_conv_param,
        r"changed its input argument 4 in place",
        id="conv-param-pop",
    ),
    pytest.param(
        conv_forward_range_misses_last_window,
        r"out \(stride 1, pad 1\) contains NaN or inf",
        id="range-misses-last-window-nan",
    ),
    pytest.param(
        conv_forward_float64_zeros,
        r"out \(float32, stride 3, pad 0\) has dtype float64 for float32 inputs",
        id="float64-zeros-upcast",
    ),
    pytest.param(
        conv_forward_channels_last,
        r"out \(stride 1, pad 1\) has the wrong shape: got \(2, 4, 7, 3\)",
        id="channels-last",
    ),
    pytest.param(
        conv_forward_no_cache,
        r"must return a tuple \(out, cache\); it returned ndarray",
        id="no-cache",
    ),
    pytest.param(
        conv_forward_not_implemented,
        r"conv_forward_not_implemented is not implemented yet",
        id="not-implemented",
    ),
]


@pytest.mark.parametrize("student, expected", CONV_FORWARD_MISTAKES)
def test_check_conv_forward_naive_fails(student, expected, capsys):
    with pytest.raises(CheckFailed, match=expected) as failure:
        check_conv_forward_naive(student)
    assert str(failure.value).startswith("conv_forward_naive: ")
    assert "OK" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "forward", [layers.conv_forward_naive, conv_forward_student], ids=["reference", "student"]
)
def test_check_conv_forward_naive_passes(forward, capsys):
    check_conv_forward_naive(forward)
    out = capsys.readouterr().out
    assert out.startswith("OK conv_forward_naive:")
    assert out.count("\n") == 1


# ---------------------------------------------------------------------------
# conv_backward_naive(dout, cache) -> (dx, dw, db); cache = (x, w, b, conv_param)
# ---------------------------------------------------------------------------


def conv_backward_student(dout, cache):
    """A correct loop implementation."""
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    rows = slice(i * stride, i * stride + HH)
                    cols = slice(j * stride, j * stride + WW)
                    dx_pad[n, :, rows, cols] += dout[n, f, i, j] * w[f]
                    dw[f] += dout[n, f, i, j] * x_pad[n, :, rows, cols]
    dx = dx_pad[:, :, pad : pad + H, pad : pad + W]
    return dx, dw, dout.sum(axis=(0, 2, 3))


# Forgets the stride in the backward pass: the windows start at (i, j).
def conv_backward_ignores_stride(dout, cache):
    x, w, b, conv_param = cache
    pad = conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad, dw = np.zeros_like(x_pad), np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    dx_pad[n, :, i : i + HH, j : j + WW] += dout[n, f, i, j] * w[f]
                    dw[f] += dout[n, f, i, j] * x_pad[n, :, i : i + HH, j : j + WW]
    return dx_pad[:, :, pad : pad + H, pad : pad + W], dw, dout.sum(axis=(0, 2, 3))


# Resets dw for every example, so only the last example's contribution is left.
def conv_backward_dw_last_example_only(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros_like(x_pad)
    for n in range(N):
        dw = np.zeros_like(w)
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    rows = slice(i * stride, i * stride + HH)
                    cols = slice(j * stride, j * stride + WW)
                    dx_pad[n, :, rows, cols] += dout[n, f, i, j] * w[f]
                    dw[f] += dout[n, f, i, j] * x_pad[n, :, rows, cols]
    return dx_pad[:, :, pad : pad + H, pad : pad + W], dw, dout.sum(axis=(0, 2, 3))


# db sums over the batch only, forgetting the spatial axes.
def conv_backward_db_no_spatial_sum(dout, cache):
    dx, dw, _ = conv_backward_student(dout, cache)
    return dx, dw, dout.sum(axis=0)


# Averages db instead of summing it.
def conv_backward_db_mean(dout, cache):
    dx, dw, _ = conv_backward_student(dout, cache)
    return dx, dw, dout.mean(axis=(0, 2, 3))


# Returns dx_pad: the padding is never cropped.
def conv_backward_dx_not_cropped(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad, dw = np.zeros_like(x_pad), np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    rows = slice(i * stride, i * stride + HH)
                    cols = slice(j * stride, j * stride + WW)
                    dx_pad[n, :, rows, cols] += dout[n, f, i, j] * w[f]
                    dw[f] += dout[n, f, i, j] * x_pad[n, :, rows, cols]
    return dx_pad, dw, dout.sum(axis=(0, 2, 3))


# Crops with dx_pad[:, :, pad:-pad, pad:-pad], which is empty when pad is 0.
def conv_backward_crop_negative_index(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    F, _, HH, WW = w.shape
    N, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad, dw = np.zeros_like(x_pad), np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    rows = slice(i * stride, i * stride + HH)
                    cols = slice(j * stride, j * stride + WW)
                    dx_pad[n, :, rows, cols] += dout[n, f, i, j] * w[f]
                    dw[f] += dout[n, f, i, j] * x_pad[n, :, rows, cols]
    return dx_pad[:, :, pad:-pad, pad:-pad], dw, dout.sum(axis=(0, 2, 3))


# Assigns the window's gradient instead of adding it: overlapping windows overwrite.
def conv_backward_dx_assigned_not_added(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad, dw = np.zeros_like(x_pad), np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    rows = slice(i * stride, i * stride + HH)
                    cols = slice(j * stride, j * stride + WW)
                    dx_pad[n, :, rows, cols] = dout[n, f, i, j] * w[f]
                    dw[f] += dout[n, f, i, j] * x_pad[n, :, rows, cols]
    return dx_pad[:, :, pad : pad + H, pad : pad + W], dw, dout.sum(axis=(0, 2, 3))


# Takes dw's windows from the unpadded x: the border windows come out too small.
def conv_backward_dw_from_unpadded_x(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    dx_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    dw = np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    rows = slice(i * stride, i * stride + HH)
                    cols = slice(j * stride, j * stride + WW)
                    dx_pad[n, :, rows, cols] += dout[n, f, i, j] * w[f]
                    dw[f] += dout[n, f, i, j] * x[n, :, rows, cols]
    return dx_pad[:, :, pad : pad + H, pad : pad + W], dw, dout.sum(axis=(0, 2, 3))


# Backprops into x through the flipped filter (the forward did not flip it).
def conv_backward_dx_flipped_kernel(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad, dw = np.zeros_like(x_pad), np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    rows = slice(i * stride, i * stride + HH)
                    cols = slice(j * stride, j * stride + WW)
                    dx_pad[n, :, rows, cols] += dout[n, f, i, j] * w[f, :, ::-1, ::-1]
                    dw[f] += dout[n, f, i, j] * x_pad[n, :, rows, cols]
    return dx_pad[:, :, pad : pad + H, pad : pad + W], dw, dout.sum(axis=(0, 2, 3))


# Returns the gradients in the order (dw, dx, db).
def conv_backward_wrong_order(dout, cache):
    dx, dw, db = conv_backward_student(dout, cache)
    return dw, dx, db


# "Makes a zero array shaped like w" by scaling w itself: dw aliases the cache's w.
def conv_backward_dw_aliases_w(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros_like(x_pad)
    w_saved = w.copy()
    dw = w
    dw *= 0
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    rows = slice(i * stride, i * stride + HH)
                    cols = slice(j * stride, j * stride + WW)
                    dx_pad[n, :, rows, cols] += dout[n, f, i, j] * w_saved[f]
                    dw[f] += dout[n, f, i, j] * x_pad[n, :, rows, cols]
    return dx_pad[:, :, pad : pad + H, pad : pad + W], dw, dout.sum(axis=(0, 2, 3))


# Accumulates into float64 np.zeros: float32 inputs give float64 gradients.
def conv_backward_float64_zeros(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad, dw = np.zeros(x_pad.shape), np.zeros(w.shape)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    rows = slice(i * stride, i * stride + HH)
                    cols = slice(j * stride, j * stride + WW)
                    dx_pad[n, :, rows, cols] += dout[n, f, i, j] * w[f]
                    dw[f] += dout[n, f, i, j] * x_pad[n, :, rows, cols]
    return dx_pad[:, :, pad : pad + H, pad : pad + W], dw, dout.sum(axis=(0, 2, 3))


# The released stub.
def conv_backward_not_implemented(dout, cache):
    raise NotImplementedError


CONV_BACKWARD_MISTAKES = [
    pytest.param(
        conv_backward_ignores_stride,
        r"dx \(stride 2, pad 1\) is wrong: relative error",
        id="ignores-stride",
    ),
    pytest.param(
        conv_backward_dw_last_example_only,
        r"dw \(stride 2, pad 1\) is wrong: relative error .* every example n",
        id="dw-last-example-only",
    ),
    pytest.param(
        conv_backward_db_no_spatial_sum,
        r"db \(stride 2, pad 1\) has the wrong shape: got \(3, 3, 4\), expected \(3,\)",
        id="db-no-spatial-sum",
    ),
    pytest.param(
        conv_backward_db_mean,
        r"db \(stride 2, pad 1\) is wrong: relative error",
        id="db-mean",
    ),
    pytest.param(
        conv_backward_dx_not_cropped,
        r"dx \(stride 2, pad 1\) has the wrong shape: got \(2, 2, 7, 8\), expected \(2, 2, 5, 6\)",
        id="padding-not-cropped",
    ),
    pytest.param(
        conv_backward_crop_negative_index,
        r"dx \(stride 1, pad 0\) has the wrong shape: got \(2, 2, 0, 0\)",
        id="crop-pad-to-minus-pad",
    ),
    pytest.param(
        conv_backward_dx_assigned_not_added,
        r"dx \(stride 2, pad 1\) is wrong: relative error",
        id="dx-assigned-not-added",
    ),
    pytest.param(
        conv_backward_dw_from_unpadded_x,
        r"conv_backward_dw_from_unpadded_x raised ValueError",
        id="dw-from-unpadded-x",
    ),
    pytest.param(
        conv_backward_dx_flipped_kernel,
        r"dx \(stride 2, pad 1\) is wrong: relative error",
        id="dx-flipped-kernel",
    ),
    pytest.param(
        conv_backward_wrong_order,
        r"dx \(stride 2, pad 1\) has the wrong shape: got \(3, 2, 3, 2\)",
        id="wrong-order",
    ),
    pytest.param(
        conv_backward_dw_aliases_w,
        r"changed its input argument 2 in place. Hint: a backward pass must leave the cache",
        id="dw-aliases-cached-w",
    ),
    pytest.param(
        conv_backward_float64_zeros,
        r"dx \(float32\) has dtype float64 for float32 inputs",
        id="float64-zeros-upcast",
    ),
    pytest.param(
        conv_backward_not_implemented,
        r"conv_backward_not_implemented is not implemented yet",
        id="not-implemented",
    ),
]


@pytest.mark.parametrize("student, expected", CONV_BACKWARD_MISTAKES)
def test_check_conv_backward_naive_fails(student, expected, capsys):
    with pytest.raises(CheckFailed, match=expected) as failure:
        check_conv_backward_naive(layers.conv_forward_naive, student)
    assert str(failure.value).startswith("conv_backward_naive: ")
    assert "OK" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "forward, backward",
    [
        (layers.conv_forward_naive, layers.conv_backward_naive),
        (conv_forward_student, conv_backward_student),
    ],
    ids=["reference", "student"],
)
def test_check_conv_backward_naive_passes(forward, backward, capsys):
    check_conv_backward_naive(forward, backward)
    out = capsys.readouterr().out
    assert out.startswith("OK conv_backward_naive:")
    assert out.count("\n") == 1


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
        r"out \(2x2, stride 2\) is wrong: relative error",
        id="average-pool",
    ),
    pytest.param(
        max_pool_forward_stride_as_window,
        r"out \(3x2, stride 1\) is wrong: relative error .* stride only its step",
        id="stride-as-window",
    ),
    pytest.param(
        max_pool_forward_window_not_strided,
        r"out \(2x2, stride 2\) is wrong: relative error",
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
        r"out \(2x2, stride 2\) is wrong: relative error",
        id="max-over-channels",
    ),
    pytest.param(
        max_pool_forward_abs_max,
        r"out \(2x2, stride 2\) is wrong: relative error",
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
        r"out \(2x2, stride 2, float32\) has dtype float64 for float32 inputs",
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


# Scans the window with >=, so the last of the tied maxima wins.
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


# Splits the gradient equally between tied maxima.
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
        r"input tied for the maximum; .* first of them in row-major order only",
        id="gradient-to-every-tie",
    ),
    pytest.param(
        max_pool_backward_last_tie,
        r"dx \(ties after ReLU, 2x2, stride 2\) is wrong: .* Hint: the gradient went to the "
        r"last of the tied maxima",
        id="last-tie-wins",
    ),
    pytest.param(
        max_pool_backward_splits_ties,
        r"dx \(ties after ReLU, 2x2, stride 2\) is wrong: .* first of them in row-major order",
        id="splits-between-ties",
    ),
    pytest.param(
        max_pool_backward_assigns_window,
        r"dx \(3x2, stride 1\) is wrong: relative error .* added with \+=",
        id="assigns-instead-of-adds",
    ),
    pytest.param(
        max_pool_backward_ignores_stride,
        r"dx \(2x2, stride 2\) is wrong: relative error",
        id="ignores-stride",
    ),
    pytest.param(
        max_pool_backward_stride_as_window,
        r"dx \(3x2, stride 1\) is wrong: relative error",
        id="stride-as-window",
    ),
    pytest.param(
        max_pool_backward_divmod_by_height,
        r"max_pool_backward_divmod_by_height raised IndexError: index 6 is out of bounds",
        id="unravel-by-pool-height",
    ),
    pytest.param(
        max_pool_backward_forgets_dout,
        r"dx \(2x2, stride 2\) is wrong: relative error",
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
    ],
    ids=["reference", "student"],
)
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
# spatial_batchnorm_forward(x, gamma, beta, bn_param) -> (out, cache)
# ---------------------------------------------------------------------------


def spatial_batchnorm_forward_staged(x, gamma, beta, bn_param):
    """A correct staged forward: statistics per channel over (N, H, W), kept as (1, C, 1, 1)."""
    mode = bn_param["mode"]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    C = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(C, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.ones(C, dtype=x.dtype))
    if mode == "train":
        mean = x.mean(axis=(0, 2, 3), keepdims=True)  # (1, C, 1, 1)
        var = x.var(axis=(0, 2, 3), keepdims=True)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean.ravel()
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var.ravel()
    else:
        mean, var = running_mean.reshape(1, C, 1, 1), running_var.reshape(1, C, 1, 1)
    x_hat = (x - mean) / np.sqrt(var + eps)
    g, b = gamma.reshape(1, C, 1, 1), beta.reshape(1, C, 1, 1)
    return g * x_hat + b, (mode, x, mean, var, eps, g, x_hat)


def _sbn_forward(x, gamma, beta, bn_param, axes=(0, 2, 3), ddof=0, eps=None, momentum=None):
    """The staged forward with the statistics taken over ``axes``; the body of the mistakes."""
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5) if eps is None else eps
    momentum = bn_param.get("momentum", 0.9) if momentum is None else momentum
    C = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(C))
    running_var = bn_param.get("running_var", np.ones(C))
    if mode == "train":
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True, ddof=ddof)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean.mean(0).ravel()
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var.mean(0).ravel()
    else:
        mean, var = running_mean.reshape(1, C, 1, 1), running_var.reshape(1, C, 1, 1)
    x_hat = (x - mean) / np.sqrt(var + eps)
    return gamma.reshape(1, C, 1, 1) * x_hat + beta.reshape(1, C, 1, 1), (x, x_hat)


# Statistics per (C, H, W) position: the fully connected batchnorm's axis=0.
def spatial_batchnorm_forward_per_position(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    running_mean = bn_param.get("running_mean", np.zeros(x.shape[1:]))
    running_var = bn_param.get("running_var", np.ones(x.shape[1:]))
    if mode == "train":
        mean, var = x.mean(axis=0), x.var(axis=0)  # (C, H, W)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
    else:
        mean, var = running_mean, running_var
    x_hat = (x - mean) / np.sqrt(var + eps)
    return gamma[:, None, None] * x_hat + beta[:, None, None], (x, x_hat)


# Per-example statistics (instance norm): the mean over (H, W) of each example and channel.
def spatial_batchnorm_forward_per_example(x, gamma, beta, bn_param):
    return _sbn_forward(x, gamma, beta, bn_param, axes=(2, 3))


# Reshapes to (N*H*W, C) without moving C last: each "row" mixes channels.
def spatial_batchnorm_forward_reshape_without_transpose(x, gamma, beta, bn_param):
    N, C, H, W = x.shape
    out_rows, cache = layers.batchnorm_forward(x.reshape(-1, C), gamma, beta, bn_param)
    return out_rows.reshape(N, C, H, W), cache


# Moves C last for batchnorm, but reshapes the result straight to (N, C, H, W).
def spatial_batchnorm_forward_not_transposed_back(x, gamma, beta, bn_param):
    N, C, H, W = x.shape
    rows = x.transpose(0, 2, 3, 1).reshape(-1, C)
    out_rows, cache = layers.batchnorm_forward(rows, gamma, beta, bn_param)
    return out_rows.reshape(N, C, H, W), cache


# Unbiased variance (ddof=1).
def spatial_batchnorm_forward_unbiased_variance(x, gamma, beta, bn_param):
    return _sbn_forward(x, gamma, beta, bn_param, ddof=1)


# Hard-codes eps = 1e-5 and momentum = 0.9, ignoring bn_param.
def spatial_batchnorm_forward_hard_coded_hyperparameters(x, gamma, beta, bn_param):
    return _sbn_forward(x, gamma, beta, bn_param, eps=1e-5, momentum=0.9)


# Normalises the test batch with its own statistics.
def spatial_batchnorm_forward_test_uses_batch_stats(x, gamma, beta, bn_param):
    if bn_param["mode"] == "train":
        return _sbn_forward(x, gamma, beta, bn_param)
    eps = bn_param.get("eps", 1e-5)
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    x_hat = (x - mean) / np.sqrt(x.var(axis=(0, 2, 3), keepdims=True) + eps)
    return gamma[:, None, None] * x_hat + beta[:, None, None], (x, x_hat)


# Updates the running averages in place.
def spatial_batchnorm_forward_running_in_place(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    C = x.shape[1]
    running_mean = bn_param.setdefault("running_mean", np.zeros(C))
    running_var = bn_param.setdefault("running_var", np.ones(C))
    if mode == "train":
        mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
        running_mean *= momentum
        running_mean += (1 - momentum) * mean
        running_var *= momentum
        running_var += (1 - momentum) * var
    else:
        mean, var = running_mean, running_var
    x_hat = (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + eps)
    return gamma[:, None, None] * x_hat + beta[:, None, None], (x, x_hat)


# Updates the running averages after the if/else, so test batches change them too.
def spatial_batchnorm_forward_updates_at_test_time(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    C = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(C))
    running_var = bn_param.get("running_var", np.ones(C))
    batch_mean, batch_var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    mean, var = (batch_mean, batch_var) if mode == "train" else (running_mean, running_var)
    bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * batch_mean
    bn_param["running_var"] = momentum * running_var + (1 - momentum) * batch_var
    x_hat = (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + eps)
    return gamma[:, None, None] * x_hat + beta[:, None, None], (x, x_hat)


# Centres x in place: x -= mean.
def spatial_batchnorm_forward_centres_in_place(x, gamma, beta, bn_param):
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    C = x.shape[1]
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    if bn_param["mode"] == "train":
        bn_param["running_mean"] = (
            momentum * bn_param.get("running_mean", np.zeros(C)) + (1 - momentum) * mean
        )
        bn_param["running_var"] = (
            momentum * bn_param.get("running_var", np.ones(C)) + (1 - momentum) * var
        )
    else:
        mean, var = bn_param["running_mean"], bn_param["running_var"]
    x -= mean[:, None, None]
    x_hat = x / np.sqrt(var[:, None, None] + eps)
    return gamma[:, None, None] * x_hat + beta[:, None, None], (x, x_hat)


# Fills a float64 np.zeros channel by channel: float32 inputs give a float64 output.
def spatial_batchnorm_forward_float64_zeros(x, gamma, beta, bn_param):
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    N, C, H, W = x.shape
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    if bn_param["mode"] == "train":
        running_mean = bn_param.get("running_mean", np.zeros(C))
        running_var = bn_param.get("running_var", np.ones(C))
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
    else:
        mean, var = bn_param["running_mean"], bn_param["running_var"]
    out = np.zeros(x.shape)
    for c in range(C):
        out[:, c] = gamma[c] * (x[:, c] - mean[c]) / np.sqrt(var[c] + eps) + beta[c]
    return out, (x, mean, var)


# The released stub.
def spatial_batchnorm_forward_not_implemented(x, gamma, beta, bn_param):
    raise NotImplementedError


SPATIAL_BATCHNORM_FORWARD_MISTAKES = [
    pytest.param(
        spatial_batchnorm_forward_per_position,
        r"out \(train, fresh bn_param\) is wrong: relative error .*\(N\*H\*W values per channel\)",
        id="statistics-per-chw-position",
    ),
    pytest.param(
        spatial_batchnorm_forward_per_example,
        r"out \(train, fresh bn_param\) is wrong: relative error",
        id="per-example-statistics",
    ),
    pytest.param(
        spatial_batchnorm_forward_reshape_without_transpose,
        r"out \(train, fresh bn_param\) is wrong: relative error",
        id="reshape-without-transpose",
    ),
    pytest.param(
        spatial_batchnorm_forward_not_transposed_back,
        r"out \(train, fresh bn_param\) is wrong: relative error",
        id="not-transposed-back",
    ),
    pytest.param(
        spatial_batchnorm_forward_unbiased_variance,
        r"out \(train, fresh bn_param\) is wrong: relative error",
        id="unbiased-variance",
    ),
    pytest.param(
        spatial_batchnorm_forward_hard_coded_hyperparameters,
        r"out \(train, momentum 0.8, eps 1e-3\) is wrong",
        id="ignores-bn-param-momentum-and-eps",
    ),
    pytest.param(
        spatial_batchnorm_forward_test_uses_batch_stats,
        r"out \(test\) is wrong: relative error",
        id="test-uses-batch-statistics",
    ),
    pytest.param(
        spatial_batchnorm_forward_running_in_place,
        r"the running_mean or running_var array passed in bn_param was changed in place",
        id="running-averages-in-place",
    ),
    pytest.param(
        spatial_batchnorm_forward_updates_at_test_time,
        r"test mode replaced bn_param\['running_mean'\]",
        id="updates-running-averages-at-test-time",
    ),
    pytest.param(
        spatial_batchnorm_forward_centres_in_place,
        r"changed its input argument 1 in place",
        id="x-minus-equals-mean",
    ),
    pytest.param(
        spatial_batchnorm_forward_float64_zeros,
        r"out \(train, float32\) has dtype float64 for float32 inputs",
        id="float64-zeros-upcast",
    ),
    pytest.param(
        spatial_batchnorm_forward_not_implemented,
        r"spatial_batchnorm_forward_not_implemented is not implemented yet",
        id="not-implemented",
    ),
]


@pytest.mark.parametrize("student, expected", SPATIAL_BATCHNORM_FORWARD_MISTAKES)
def test_check_spatial_batchnorm_forward_fails(student, expected, capsys):
    with pytest.raises(CheckFailed, match=expected) as failure:
        check_spatial_batchnorm_forward(student)
    assert str(failure.value).startswith("spatial_batchnorm_forward: ")
    assert "OK" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "forward",
    [layers.spatial_batchnorm_forward, spatial_batchnorm_forward_staged],
    ids=["reference", "staged"],
)
def test_check_spatial_batchnorm_forward_passes(forward, capsys):
    check_spatial_batchnorm_forward(forward)
    out = capsys.readouterr().out
    assert out.startswith("OK spatial_batchnorm_forward:")
    assert out.count("\n") == 1


# ---------------------------------------------------------------------------
# spatial_batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta); cache from the staged forward
# ---------------------------------------------------------------------------


def spatial_batchnorm_backward_staged(dout, cache):
    """The correct backward through the staged graph, with M = N*H*W values per channel."""
    mode, x, mean, var, eps, g, x_hat = cache
    N, C, H, W = x.shape
    M = N * H * W
    dbeta = dout.sum(axis=(0, 2, 3))
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3))
    dx_hat = dout * g
    if mode == "test":
        return dx_hat / np.sqrt(var + eps), dgamma, dbeta
    dvar = np.sum(dx_hat * (x - mean) * -0.5 * (var + eps) ** -1.5, axis=(0, 2, 3), keepdims=True)
    dmean = np.sum(-dx_hat / np.sqrt(var + eps), axis=(0, 2, 3), keepdims=True)
    dx = dx_hat / np.sqrt(var + eps) + dvar * 2 * (x - mean) / M + dmean / M
    return dx, dgamma, dbeta


# Treats the batch statistics as constants: only the direct path through x_hat.
def spatial_batchnorm_backward_statistics_as_constants(dout, cache):
    mode, x, mean, var, eps, g, x_hat = cache
    dx = dout * g / np.sqrt(var + eps)
    return dx, (dout * x_hat).sum(axis=(0, 2, 3)), dout.sum(axis=(0, 2, 3))


# Divides by the batch size N where each channel has N*H*W values.
def spatial_batchnorm_backward_count_is_n(dout, cache):
    mode, x, mean, var, eps, g, x_hat = cache
    N = x.shape[0]
    dx_hat = dout * g
    dgamma, dbeta = (dout * x_hat).sum(axis=(0, 2, 3)), dout.sum(axis=(0, 2, 3))
    if mode == "test":
        return dx_hat / np.sqrt(var + eps), dgamma, dbeta
    dvar = np.sum(dx_hat * (x - mean) * -0.5 * (var + eps) ** -1.5, axis=(0, 2, 3), keepdims=True)
    dmean = np.sum(-dx_hat / np.sqrt(var + eps), axis=(0, 2, 3), keepdims=True)
    dx = dx_hat / np.sqrt(var + eps) + dvar * 2 * (x - mean) / N + dmean / N
    return dx, dgamma, dbeta


# dgamma summed over the batch only, as in the fully connected layer: shape (C, H, W).
def spatial_batchnorm_backward_dgamma_per_position(dout, cache):
    dx, _, dbeta = spatial_batchnorm_backward_staged(dout, cache)
    x_hat = cache[-1]
    return dx, (dout * x_hat).sum(axis=0), dbeta


# dbeta summed over the batch only.
def spatial_batchnorm_backward_dbeta_per_position(dout, cache):
    dx, dgamma, _ = spatial_batchnorm_backward_staged(dout, cache)
    return dx, dgamma, dout.sum(axis=0)


# Reshapes dout and x_hat to (N*H*W, C) without moving C last, then uses the row formula.
def spatial_batchnorm_backward_reshape_without_transpose(dout, cache):
    mode, x, mean, var, eps, g, x_hat = cache
    N, C, H, W = x.shape
    d_rows, x_hat_rows = dout.reshape(-1, C), x_hat.reshape(-1, C)
    M = d_rows.shape[0]
    dbeta, dgamma = d_rows.sum(axis=0), (d_rows * x_hat_rows).sum(axis=0)
    inv_std = 1 / np.sqrt(var.ravel() + eps)
    if mode == "test":
        dx_rows = d_rows * g.ravel() * inv_std
    else:
        dx_rows = (g.ravel() * inv_std / M) * (M * d_rows - dbeta - x_hat_rows * dgamma)
    return dx_rows.reshape(N, C, H, W), dgamma, dbeta


# Moves C last for the row formula, but reshapes dx straight back to (N, C, H, W).
def spatial_batchnorm_backward_not_transposed_back(dout, cache):
    mode, x, mean, var, eps, g, x_hat = cache
    N, C, H, W = x.shape
    d_rows = dout.transpose(0, 2, 3, 1).reshape(-1, C)
    x_hat_rows = x_hat.transpose(0, 2, 3, 1).reshape(-1, C)
    M = d_rows.shape[0]
    dbeta, dgamma = d_rows.sum(axis=0), (d_rows * x_hat_rows).sum(axis=0)
    inv_std = 1 / np.sqrt(var.ravel() + eps)
    if mode == "test":
        dx_rows = d_rows * g.ravel() * inv_std
    else:
        dx_rows = (g.ravel() * inv_std / M) * (M * d_rows - dbeta - x_hat_rows * dgamma)
    return dx_rows.reshape(N, C, H, W), dgamma, dbeta


# Uses the train-mode formula whatever the mode.
def spatial_batchnorm_backward_ignores_mode(dout, cache):
    mode, *rest = cache
    return spatial_batchnorm_backward_staged(dout, ("train", *rest))


# Scales dout by gamma in place to get dx_hat.
def spatial_batchnorm_backward_scales_dout_in_place(dout, cache):
    mode, x, mean, var, eps, g, x_hat = cache
    M = dout.size // dout.shape[1]
    dgamma, dbeta = (dout * x_hat).sum(axis=(0, 2, 3)), dout.sum(axis=(0, 2, 3))
    dout *= g  # now dx_hat
    inv_std = 1 / np.sqrt(var + eps)
    if mode == "test":
        return dout * inv_std, dgamma, dbeta
    sum_dx_hat = dout.sum(axis=(0, 2, 3), keepdims=True)
    sum_dx_hat_x_hat = (dout * x_hat).sum(axis=(0, 2, 3), keepdims=True)
    dx = inv_std / M * (M * dout - sum_dx_hat - x_hat * sum_dx_hat_x_hat)
    return dx, dgamma, dbeta


# Computes in float64 "for accuracy" and never casts back: float32 in, float64 out.
def spatial_batchnorm_backward_float64(dout, cache):
    mode, x, mean, var, eps, g, x_hat = cache
    as64 = [np.asarray(v, dtype=np.float64) for v in (x, mean, var, g, x_hat)]
    x, mean, var, g, x_hat = as64
    return spatial_batchnorm_backward_staged(
        dout.astype(np.float64), (mode, x, mean, var, eps, g, x_hat)
    )


# Returns (dx, dbeta, dgamma).
def spatial_batchnorm_backward_wrong_order(dout, cache):
    dx, dgamma, dbeta = spatial_batchnorm_backward_staged(dout, cache)
    return dx, dbeta, dgamma


# The released stub.
def spatial_batchnorm_backward_not_implemented(dout, cache):
    raise NotImplementedError


SPATIAL_BATCHNORM_BACKWARD_MISTAKES = [
    pytest.param(
        spatial_batchnorm_backward_statistics_as_constants,
        r"dx \(train\) is wrong: relative error",
        id="statistics-as-constants",
    ),
    pytest.param(
        spatial_batchnorm_backward_count_is_n,
        r"dx \(train\) is wrong: relative error .* N\*H\*W in place of N",
        id="count-is-n-not-nhw",
    ),
    pytest.param(
        spatial_batchnorm_backward_dgamma_per_position,
        r"dgamma \(train\) has the wrong shape: got \(3, 3, 4\), expected \(3,\)",
        id="dgamma-per-position",
    ),
    pytest.param(
        spatial_batchnorm_backward_dbeta_per_position,
        r"dbeta \(train\) has the wrong shape: got \(3, 3, 4\), expected \(3,\)",
        id="dbeta-per-position",
    ),
    pytest.param(
        spatial_batchnorm_backward_reshape_without_transpose,
        r"dx \(train\) is wrong: relative error",
        id="reshape-without-transpose",
    ),
    pytest.param(
        spatial_batchnorm_backward_not_transposed_back,
        r"dx \(train\) is wrong: relative error",
        id="not-transposed-back",
    ),
    pytest.param(
        spatial_batchnorm_backward_ignores_mode,
        r"dx \(test\) is wrong: relative error .* running mean and variance are constants",
        id="train-formula-in-test-mode",
    ),
    pytest.param(
        spatial_batchnorm_backward_scales_dout_in_place,
        r"changed its input argument 1 in place",
        id="dout-times-equals-gamma",
    ),
    pytest.param(
        spatial_batchnorm_backward_float64,
        r"dx \(float32\) has dtype float64 for float32 inputs",
        id="float64-upcast",
    ),
    pytest.param(
        spatial_batchnorm_backward_wrong_order,
        r"dgamma \(train\) is wrong: relative error",
        id="wrong-order",
    ),
    pytest.param(
        spatial_batchnorm_backward_not_implemented,
        r"spatial_batchnorm_backward_not_implemented is not implemented yet",
        id="not-implemented",
    ),
]


@pytest.mark.parametrize("student, expected", SPATIAL_BATCHNORM_BACKWARD_MISTAKES)
def test_check_spatial_batchnorm_backward_fails(student, expected, capsys):
    with pytest.raises(CheckFailed, match=expected) as failure:
        check_spatial_batchnorm_backward(spatial_batchnorm_forward_staged, student)
    assert str(failure.value).startswith("spatial_batchnorm_backward: ")
    assert "OK" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "forward, backward",
    [
        (layers.spatial_batchnorm_forward, layers.spatial_batchnorm_backward),
        (spatial_batchnorm_forward_staged, spatial_batchnorm_backward_staged),
    ],
    ids=["reference", "staged"],
)
def test_check_spatial_batchnorm_backward_passes(forward, backward, capsys):
    check_spatial_batchnorm_backward(forward, backward)
    out = capsys.readouterr().out
    assert out.startswith("OK spatial_batchnorm_backward:")
    assert out.count("\n") == 1


# ---------------------------------------------------------------------------
# The catalogues themselves
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "catalogue, minimum",
    [
        (CONV_FORWARD_MISTAKES, 10),
        (CONV_BACKWARD_MISTAKES, 10),
        (MAX_POOL_FORWARD_MISTAKES, 10),
        (MAX_POOL_BACKWARD_MISTAKES, 10),
        (SPATIAL_BATCHNORM_FORWARD_MISTAKES, 8),
        (SPATIAL_BATCHNORM_BACKWARD_MISTAKES, 8),
    ],
    ids=[
        "conv_forward_naive",
        "conv_backward_naive",
        "max_pool_forward_naive",
        "max_pool_backward_naive",
        "spatial_batchnorm_forward",
        "spatial_batchnorm_backward",
    ],
)
def test_catalogue_is_large_and_distinct(catalogue, minimum):
    functions = [param.values[0] for param in catalogue]
    assert len(functions) >= minimum
    assert len(set(functions)) == len(functions)
    assert len({param.id for param in catalogue}) == len(catalogue)
