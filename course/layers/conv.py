"""Convolution, written for clarity with explicit loops (the naive layer).

Every output neuron looks at a small local region of the input through all of
its channels (a 3x3x3 window on an RGB image, say) and takes a dot product
with one filter; sliding the window over the image with a given stride gives
one activation map per filter. ``course.fast_layers`` computes the same thing
with im2col and one matrix multiply.

Output size, for both dimensions: ``H_out = 1 + (H + 2*pad - HH) // stride``.
"""

from __future__ import annotations

import numpy as np

from course.validation import (
    as_float_array,
    format_shape,
    require_dout,
    require_ndim,
    require_positive_int,
)


def read_conv_param(func: str, conv_param: object) -> tuple[int, int]:
    """Return ``(stride, pad)`` from a ``{'stride': s, 'pad': p}`` dict, checked."""
    if not isinstance(conv_param, dict):
        raise TypeError(
            f"{func}: conv_param must be a dict like {{'stride': 1, 'pad': 1}}, "
            f"got {type(conv_param).__name__}"
        )
    unknown = set(conv_param) - {"stride", "pad"}
    missing = {"stride", "pad"} - set(conv_param)
    if unknown or missing:
        raise ValueError(
            f"{func}: conv_param needs exactly the keys 'stride' and 'pad'; "
            f"missing {sorted(missing)}, unknown {sorted(unknown)}"
        )
    stride = require_positive_int(func, "conv_param['stride']", conv_param["stride"])
    pad = require_positive_int(func, "conv_param['pad']", conv_param["pad"], allow_zero=True)
    return stride, pad


def conv_output_size(
    func: str, x_shape: tuple, w_shape: tuple, b_shape: tuple, stride: int, pad: int
) -> tuple[int, int]:
    """Check the shapes of a convolution and return ``(H_out, W_out)``.

    The window must fit in the padded input and the stride must tile it
    exactly: ``(H + 2*pad - HH) % stride == 0``, and the same for widths.
    """
    N, C, H, W = x_shape
    F, C_w, HH, WW = w_shape
    if C_w != C:
        raise ValueError(
            f"{func}: w has shape {format_shape(w_shape)} with {C_w} channels, but x has shape "
            f"{format_shape(x_shape)} with C={C}; w must be (F, C, HH, WW)"
        )
    if b_shape != (F,):
        raise ValueError(
            f"{func}: b has shape {format_shape(b_shape)}; expected ({F},), one bias per filter"
        )
    for side, size, kernel in (("height", H, HH), ("width", W, WW)):
        padded = size + 2 * pad
        if kernel > padded:
            raise ValueError(
                f"{func}: the kernel {side} {kernel} (w of shape {format_shape(w_shape)}) is "
                f"larger than the padded input {side} {size} + 2*{pad} = {padded} "
                f"(x of shape {format_shape(x_shape)})"
            )
        if (padded - kernel) % stride:
            raise ValueError(
                f"{func}: stride {stride} does not tile the input {side}: "
                f"({size} + 2*{pad} - {kernel}) = {padded - kernel} is not a multiple of "
                f"{stride} (x of shape {format_shape(x_shape)}, w of shape "
                f"{format_shape(w_shape)}); change pad or stride"
            )
    return 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride


def check_conv_inputs(
    func: str, x: object, w: object, b: object, conv_param: object
) -> tuple[int, int, int, int]:
    """Validate a convolution's inputs; return ``(stride, pad, H_out, W_out)``."""
    for name, value in (("x", x), ("w", w), ("b", b)):
        as_float_array(func, name, value)
    require_ndim(func, "x", x, 4, "(N, C, H, W)")
    require_ndim(func, "w", w, 4, "(F, C, HH, WW)")
    stride, pad = read_conv_param(func, conv_param)
    H_out, W_out = conv_output_size(func, x.shape, w.shape, b.shape, stride, pad)
    return stride, pad, H_out, W_out


def conv_forward_naive(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, conv_param: dict
) -> tuple[np.ndarray, tuple]:
    """Convolution (cross-correlation, as in every deep learning library) by loops.

    ``out[n, f, i, j] = sum(x_pad[n, :, i*s : i*s+HH, j*s : j*s+WW] * w[f]) + b[f]``.
    The filter is not flipped.

    Inputs:
    - x: (N, C, H, W) input batch
    - w: (F, C, HH, WW) filters
    - b: (F,) biases
    - conv_param: {'stride': s, 'pad': p}, zero padding p on every side

    Returns:
    - out: (N, F, H_out, W_out), H_out = 1 + (H + 2*pad - HH) // stride,
      W_out = 1 + (W + 2*pad - WW) // stride
    - cache: (x, w, b, conv_param)
    """
    stride, pad, H_out, W_out = check_conv_inputs("conv_forward_naive", x, w, b, conv_param)
    N, F = x.shape[0], w.shape[0]
    HH, WW = w.shape[2:]
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))  # (N, C, H+2p, W+2p)
    out = np.empty((N, F, H_out, W_out), dtype=np.result_type(x, w, b))
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    rows = slice(i * stride, i * stride + HH)
                    cols = slice(j * stride, j * stride + WW)
                    window = x_pad[n, :, rows, cols]  # (C, HH, WW)
                    out[n, f, i, j] = np.sum(window * w[f]) + b[f]
    return out, (x, w, b, conv_param)


def conv_backward_naive(
    dout: np.ndarray, cache: tuple
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of :func:`conv_forward_naive`, by the same loops.

    Each output ``out[n, f, i, j]`` sent its gradient to the window it saw
    (``dx_pad += dout * w[f]``) and to the filter (``dw[f] += dout * window``),
    summed over the batch and every position.

    Inputs:
    - dout: (N, F, H_out, W_out) upstream gradient
    - cache: (x, w, b, conv_param) from the forward pass

    Returns:
    - dx: (N, C, H, W); dw: (F, C, HH, WW); db: (F,)
    """
    x, w, b, conv_param = cache
    stride, pad = read_conv_param("conv_backward_naive", conv_param)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    require_dout("conv_backward_naive", dout, (N, F, H_out, W_out))
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))  # (N, C, H+2p, W+2p)
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
    dx = dx_pad[:, :, pad : pad + H, pad : pad + W].copy()  # (N, C, H, W)
    db = dout.sum(axis=(0, 2, 3)).astype(b.dtype, copy=False)  # (F,)
    return dx, dw, db
