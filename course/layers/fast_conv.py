"""Fast convolution: im2col + one matrix multiply, and the conv-relu(-pool) sandwiches.

The fast layer computes exactly what ``conv_forward_naive`` computes (to
rounding), with the same arguments, but turns the convolution into one BLAS
matrix multiply:

1. im2col copies every receptive field of the input into one row of a matrix,
   ``cols`` (N*H_out*W_out, HH*WW*C); the image is read channels-last (NHWC)
   so that a kernel row of a patch is one block of memory.
2. ``out_rows = cols @ w_rows.T`` does every dot product of the layer at once:
   (N*H_out*W_out, K) @ (K, F) with K = HH*WW*C.
3. The backward pass is two more multiplies, ``dw_rows = dout_rows.T @ cols``
   and ``dcols = dout_rows @ w_rows``, and col2im adds each row of ``dcols``
   back into the window it came from (windows overlap, so values add up).

The copying is done by the compiled extension ``course.layers._im2col`` (built
by ``pip install -e .``), split over the batch among ``num_threads()`` OpenMP
threads. When the extension cannot be imported the layers fall back to a
vectorised numpy im2col and warn once.

The first fast layer that runs (convolution or pooling) tunes glibc's malloc
for the rest of the process with :func:`course.allocator.keep_freed_memory`,
so that the large temporaries of every training step are reused instead of
page-faulted in again; importing the module does not.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from course.layers._kernels import (
    compiled_kernels,
    compute_dtype,
    num_threads,
    require_im2col_memory,
)
from course.layers._validation import validate_conv_fast_dout, validate_conv_inputs
from course.layers.fast_pool import max_pool_backward_fast, max_pool_forward_fast
from course.layers.fc import relu_backward, relu_forward

# ----------------------------------------------------------------------------- im2col


def im2col(x_nhwc: np.ndarray, HH: int, WW: int, pad: int, stride: int) -> np.ndarray:
    """Patches of an NHWC batch as rows: (N*H_out*W_out, HH*WW*C).

    Row ``(n*H_out + i)*W_out + j`` holds the window of output (i, j) of image
    n, in the order (kh, kw, c); zero padding is included.
    """
    N, H, W, C = x_nhwc.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    kernels = compiled_kernels()
    if kernels is not None:
        x_nhwc = np.ascontiguousarray(x_nhwc)
        cols = np.empty((N * H_out * W_out, HH * WW * C), dtype=x_nhwc.dtype)
        kernels.im2col_rows(x_nhwc, HH, WW, pad, stride, cols, num_threads())
        return cols
    x_pad = np.pad(x_nhwc, ((0, 0), (pad, pad), (pad, pad), (0, 0)))  # (N, H+2p, W+2p, C)
    windows = sliding_window_view(x_pad, (HH, WW), axis=(1, 2))[:, ::stride, ::stride]
    # windows: (N, H_out, W_out, C, HH, WW), a view; the reshape below copies once.
    return windows.transpose(0, 1, 2, 4, 5, 3).reshape(N * H_out * W_out, HH * WW * C)


def col2im(
    cols: np.ndarray, x_shape: tuple, HH: int, WW: int, pad: int, stride: int
) -> np.ndarray:
    """Inverse of :func:`im2col` for gradients: add each row back into its window.

    Inputs:
    - cols: (N*H_out*W_out, HH*WW*C)
    - x_shape: (N, H, W, C), the NHWC shape of the image batch

    Returns:
    - x: (N, H, W, C), the sum over every window that covers each pixel
    """
    N, H, W, C = x_shape
    kernels = compiled_kernels()
    if kernels is not None:
        x = np.zeros(x_shape, dtype=cols.dtype)
        kernels.col2im_rows(np.ascontiguousarray(cols), HH, WW, pad, stride, x, num_threads())
        return x
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    patches = cols.reshape(N, H_out, W_out, HH, WW, C)
    x_pad = np.zeros((N, H + 2 * pad, W + 2 * pad, C), dtype=cols.dtype)
    for kh in range(HH):
        for kw in range(WW):
            rows = slice(kh, kh + stride * (H_out - 1) + 1, stride)
            columns = slice(kw, kw + stride * (W_out - 1) + 1, stride)
            x_pad[:, rows, columns, :] += patches[:, :, :, kh, kw, :]
    return x_pad[:, pad : pad + H, pad : pad + W, :]


# ----------------------------------------------------------------------------- convolution


def conv_forward_fast(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, conv_param: dict
) -> tuple[np.ndarray, tuple]:
    """Convolution as im2col + one matrix multiply; same result as ``conv_forward_naive``.

    ``out_rows = im2col(x) @ w_rows.T + b``, one row per output position.

    Inputs:
    - x: (N, C, H, W) input batch
    - w: (F, C, HH, WW) filters
    - b: (F,) biases
    - conv_param: {'stride': s, 'pad': p}

    Returns:
    - out: (N, F, H_out, W_out), H_out = 1 + (H + 2*pad - HH) // stride, and the same for W
    - cache: (x_shape, w_shape, w_rows, cols, stride, pad, dtypes) for
      :func:`conv_backward_fast`; cols is kept so the backward pass needs no im2col

    Raises MemoryError, before allocating anything, when cols
    (N*H_out*W_out, HH*WW*C) would not fit in the available memory; the
    message says into how many chunks to split the batch.
    """
    stride, pad, H_out, W_out = validate_conv_inputs("conv_forward_fast", x, w, b, conv_param)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    dtype = compute_dtype(x, w, b)
    require_im2col_memory("conv_forward_fast", x.shape, w.shape, H_out, W_out, dtype)
    x_nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1), dtype=dtype)  # (N, H, W, C)
    cols = im2col(x_nhwc, HH, WW, pad, stride)  # (N*H_out*W_out, K), K = HH*WW*C
    w_rows = np.ascontiguousarray(w.transpose(0, 2, 3, 1), dtype=dtype).reshape(F, -1)  # (F, K)
    out_rows = cols @ w_rows.T  # (N*H_out*W_out, K) @ (K, F) -> (N*H_out*W_out, F)
    out_rows += b.astype(dtype, copy=False)
    out = out_rows.reshape(N, H_out, W_out, F).transpose(0, 3, 1, 2)  # (N, F, H_out, W_out)
    result_dtype = np.result_type(x, w, b)
    cache = (x.shape, w.shape, w_rows, cols, stride, pad, (x.dtype, w.dtype, b.dtype))
    return np.ascontiguousarray(out, dtype=result_dtype), cache


def conv_backward_fast(
    dout: np.ndarray, cache: tuple
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of :func:`conv_forward_fast`: two matrix multiplies and col2im.

    ``db = sum of dout_rows``, ``dw_rows = dout_rows.T @ cols``,
    ``dx = col2im(dout_rows @ w_rows)``.

    Inputs:
    - dout: (N, F, H_out, W_out) upstream gradient
    - cache: from :func:`conv_forward_fast`

    Returns:
    - dx: (N, C, H, W); dw: (F, C, HH, WW); db: (F,)
    """
    validate_conv_fast_dout(dout, cache)
    x_shape, (F, C, HH, WW), w_rows, cols, stride, pad, (x_dtype, w_dtype, b_dtype) = cache
    N, _, H, W = x_shape
    dout_rows = np.ascontiguousarray(dout.transpose(0, 2, 3, 1), dtype=cols.dtype)
    dout_rows = dout_rows.reshape(-1, F)  # (N*H_out*W_out, F)
    db = dout_rows.sum(axis=0)  # (F,)
    dw_rows = dout_rows.T @ cols  # (F, N*H_out*W_out) @ (N*H_out*W_out, K) -> (F, K)
    dcols = dout_rows @ w_rows  # (N*H_out*W_out, F) @ (F, K) -> (N*H_out*W_out, K)
    dx_nhwc = col2im(dcols, (N, H, W, C), HH, WW, pad, stride)  # (N, H, W, C)
    dx = np.ascontiguousarray(dx_nhwc.transpose(0, 3, 1, 2), dtype=x_dtype)  # (N, C, H, W)
    dw = dw_rows.reshape(F, HH, WW, C).transpose(0, 3, 1, 2)  # (F, C, HH, WW)
    return dx, np.ascontiguousarray(dw, dtype=w_dtype), db.astype(b_dtype, copy=False)


# ----------------------------------------------------------------------------- sandwiches


def conv_relu_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, conv_param: dict
) -> tuple[np.ndarray, tuple]:
    """Fast convolution followed by a ReLU. Returns out (N, F, H_out, W_out) and a cache."""
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    out, relu_cache = relu_forward(a)
    return out, (conv_cache, relu_cache)


def conv_relu_backward(
    dout: np.ndarray, cache: tuple
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of :func:`conv_relu_forward`: returns dx, dw, db."""
    conv_cache, relu_cache = cache
    return conv_backward_fast(relu_backward(dout, relu_cache), conv_cache)


def conv_relu_pool_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, conv_param: dict, pool_param: dict
) -> tuple[np.ndarray, tuple]:
    """Fast convolution, ReLU, then max pooling. Returns out (N, F, H_pool, W_pool) and a cache."""
    a, conv_relu_cache = conv_relu_forward(x, w, b, conv_param)
    out, pool_cache = max_pool_forward_fast(a, pool_param)
    return out, (conv_relu_cache, pool_cache)


def conv_relu_pool_backward(
    dout: np.ndarray, cache: tuple
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of :func:`conv_relu_pool_forward`: returns dx, dw, db."""
    conv_relu_cache, pool_cache = cache
    return conv_relu_backward(max_pool_backward_fast(dout, pool_cache), conv_relu_cache)
