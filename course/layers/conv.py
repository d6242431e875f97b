"""Convolution, written for clarity with explicit loops (the naive layer).

Every output neuron looks at a small local region of the input through all of
its channels (a 3x3x3 window on an RGB image, say) and takes a dot product
with one filter; sliding the window over the image with a given stride gives
one activation map per filter. ``course.layers.fast_conv`` computes the same
thing with im2col and one matrix multiply.

Output size, for both dimensions: ``H_out = 1 + (H + 2*pad - HH) // stride``.
"""

from __future__ import annotations

import numpy as np

from course.layers._validation import validate_conv_dout, validate_conv_inputs


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
    stride, pad, H_out, W_out = validate_conv_inputs("conv_forward_naive", x, w, b, conv_param)
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
    stride, pad = validate_conv_dout("conv_backward_naive", dout, x.shape, w.shape, conv_param)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
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
