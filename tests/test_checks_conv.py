"""The convolution checks fail on realistic wrong implementations and pass the reference.

Every function below is a mistake students really make while writing the
naive convolution; each catalogue entry names the message the check must give
for it (the output that is wrong and the kind of failure). Correct loop
implementations, written the way a student would, must pass.
"""

from __future__ import annotations

import numpy as np
import pytest

from course import layers
from course.checks import CheckFailed, check_conv_backward_naive, check_conv_forward_naive
from course.checks.core import references_allowed

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
        r"out \(stride 2, pad 1\) is wrong: relative error"
        r".* Hint: .*the windows do not move by the stride",
        id="window-not-strided",
    ),
    pytest.param(
        conv_forward_pads_every_axis,
        r"raised ValueError: operands could not be broadcast",
        id="np-pad-pads-batch-and-channels",
    ),
    pytest.param(
        conv_forward_bias_inside_sum,
        r"out \(stride 1, pad 1\) is wrong: relative error"
        r".* Hint: .*the bias is added once to each output value",
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
@references_allowed()  # the course's own reference is the right answer
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
        r"dx \(stride 2, pad 1\) is wrong: relative error"
        r".* Hint: .*the windows do not move by the stride",
        id="ignores-stride",
    ),
    pytest.param(
        conv_backward_dw_last_example_only,
        r"dw \(stride 2, pad 1\) is wrong: relative error"
        r".* Hint: .*the filter is used on every example of the batch",
        id="dw-last-example-only",
    ),
    pytest.param(
        conv_backward_db_no_spatial_sum,
        r"db \(stride 2, pad 1\) has the wrong shape: got \(3, 3, 4\), expected \(3,\)",
        id="db-no-spatial-sum",
    ),
    pytest.param(
        conv_backward_db_mean,
        r"db \(stride 2, pad 1\) is wrong: relative error.* Hint: .*not the mean",
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
        r"dx \(stride 2, pad 1\) is wrong: relative error.* Hint: .*their contributions ADD UP",
        id="dx-assigned-not-added",
    ),
    pytest.param(
        conv_backward_dw_from_unpadded_x,
        r"conv_backward_dw_from_unpadded_x raised ValueError",
        id="dw-from-unpadded-x",
    ),
    pytest.param(
        conv_backward_dx_flipped_kernel,
        r"dx \(stride 2, pad 1\) is wrong: relative error.* Hint: .*not flipped ones",
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
@references_allowed()  # the course's own reference is the right answer
def test_check_conv_backward_naive_passes(forward, backward, capsys):
    check_conv_backward_naive(forward, backward)
    out = capsys.readouterr().out
    assert out.startswith("OK conv_backward_naive:")
    assert out.count("\n") == 1


# ---------------------------------------------------------------------------
# The catalogues themselves
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "catalogue, minimum",
    [(CONV_FORWARD_MISTAKES, 10), (CONV_BACKWARD_MISTAKES, 10)],
    ids=["conv_forward_naive", "conv_backward_naive"],
)
def test_catalogue_is_large_and_distinct(catalogue, minimum):
    functions = [param.values[0] for param in catalogue]
    assert len(functions) >= minimum
    assert len(set(functions)) == len(functions)
    assert len({param.id for param in catalogue}) == len(catalogue)
