"""Fast max pooling: a compiled kernel that records where each maximum was.

Computes exactly what ``max_pool_forward_naive`` computes (a maximum is
exact), with the same arguments, ties going to the first maximum in row-major
order. The forward pass stores, for every output, the flat index ``h*W + w``
of its maximum in the (H, W) plane; the backward pass sends each upstream
gradient to that position, adding where overlapping windows share a maximum.

The compiled kernels (``course.layers._im2col``) split the batch over
``num_threads()`` threads. Without them the numpy fallback reshapes the input
when the pools tile it, and reads overlapping windows through a strided view
otherwise. Like every fast layer, the first call tunes the allocator (see
:mod:`course.layers.fast_conv`).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from course.layers._kernels import compiled_kernels, compute_dtype, num_threads
from course.layers._validation import validate_pool_fast_dout, validate_pool_inputs


def max_pool_forward_fast(x: np.ndarray, pool_param: dict) -> tuple[np.ndarray, tuple]:
    """Max pooling; same result as ``max_pool_forward_naive``, ties to the first maximum.

    ``out[n, c, i, j] = max(x[n, c, i*s : i*s + ph, j*s : j*s + pw])``.

    Inputs:
    - x: (N, C, H, W) input batch
    - pool_param: {'pool_height': ph, 'pool_width': pw, 'stride': s}

    Returns:
    - out: (N, C, H_out, W_out), H_out = 1 + (H - ph) // s, W_out = 1 + (W - pw) // s
    - cache: (x_shape, x_dtype, argmax) with argmax (N, C, H_out, W_out) holding the flat
      index h*W + w of each maximum in its (H, W) plane
    """
    ph, pw, stride, H_out, W_out = validate_pool_inputs("max_pool_forward_fast", x, pool_param)
    N, C, H, W = x.shape
    kernels = compiled_kernels()
    if kernels is not None:
        x_c = np.ascontiguousarray(x, dtype=compute_dtype(x))
        out = np.empty((N, C, H_out, W_out), dtype=x_c.dtype)
        argmax = np.empty((N, C, H_out, W_out), dtype=np.int32)
        kernels.max_pool_forward(x_c, ph, pw, stride, out, argmax, num_threads())
        return out.astype(x.dtype, copy=False), (x.shape, x.dtype, argmax)
    if ph == pw == stride:
        # The pools tile the input: a reshape gives every window its own axes.
        windows = x.reshape(N, C, H_out, ph, W_out, pw).transpose(0, 1, 2, 4, 3, 5)
    else:
        windows = sliding_window_view(x, (ph, pw), axis=(2, 3))[:, :, ::stride, ::stride]
    windows = windows.reshape(N, C, H_out, W_out, ph * pw)  # one row per window
    best = windows.argmax(axis=-1)  # (N, C, H_out, W_out), first maximum on ties
    out = np.take_along_axis(windows, best[..., None], axis=-1)[..., 0]
    i = np.arange(H_out)[:, None] * stride + best // pw  # row of each maximum
    j = np.arange(W_out)[None, :] * stride + best % pw  # column of each maximum
    return out, (x.shape, x.dtype, (i * W + j).astype(np.int32))


def max_pool_backward_fast(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Backward pass of :func:`max_pool_forward_fast`: each gradient goes to its maximum.

    ``dx[n, c].flat[argmax[n, c, i, j]] += dout[n, c, i, j]``, zero elsewhere.

    Inputs:
    - dout: (N, C, H_out, W_out) upstream gradient
    - cache: from :func:`max_pool_forward_fast`

    Returns:
    - dx: (N, C, H, W)
    """
    validate_pool_fast_dout(dout, cache)
    x_shape, x_dtype, argmax = cache
    N, C, H, W = x_shape
    kernels = compiled_kernels()
    dtype = compute_dtype(x_dtype)
    if kernels is not None:
        dx = np.zeros((N * C, H * W), dtype=dtype)
        kernels.max_pool_backward(
            np.ascontiguousarray(dout, dtype=dtype), argmax, dx, num_threads()
        )
    else:
        # Overlapping windows may share a maximum, so the gradients are summed.
        plane_start = np.arange(N * C).reshape(N, C, 1, 1) * (H * W)
        dx = np.bincount(
            (plane_start + argmax).ravel(), weights=dout.ravel(), minlength=N * C * H * W
        )
    return dx.reshape(x_shape).astype(x_dtype, copy=False)
