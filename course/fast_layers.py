"""Fast convolution and max pooling: im2col + one matrix multiply.

The fast layers compute exactly what the naive ones in ``course.layers``
compute (to rounding), with the same arguments, but turn the convolution into
one BLAS matrix multiply:

1. im2col copies every receptive field of the input into one row of a matrix,
   ``cols`` (N*H_out*W_out, HH*WW*C); the image is read channels-last (NHWC)
   so that a kernel row of a patch is one block of memory.
2. ``out_rows = cols @ w_rows.T`` does every dot product of the layer at once:
   (N*H_out*W_out, K) @ (K, F) with K = HH*WW*C.
3. The backward pass is two more multiplies, ``dw_rows = dout_rows.T @ cols``
   and ``dcols = dout_rows @ w_rows``, and col2im adds each row of ``dcols``
   back into the window it came from (windows overlap, so values add up).

The copying is done by the compiled extension ``course._im2col`` (built by
``pip install -e .``), split over the batch among ``num_threads()`` OpenMP
threads. When the extension cannot
be imported the layers fall back to a vectorised numpy im2col and warn once.
Max pooling has its own compiled kernel, which records the position of each
maximum; the numpy fallback reshapes the input when the pools tile it, and
reads overlapping windows through a strided view otherwise.
"""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from course.layers.conv import check_conv_inputs
from course.layers.fc import relu_backward, relu_forward
from course.layers.pool import check_pool_inputs
from course.validation import require_dout

try:
    from course import _im2col
except ImportError as error:  # pragma: no cover - exercised by monkeypatching in the tests
    _im2col = None
    _IMPORT_ERROR = str(error)
else:
    _IMPORT_ERROR = ""

REBUILD_COMMAND = "pip install -e .   (or: make install)"
_warned = False


def num_threads() -> int:
    """Threads the compiled kernels use: ``COURSE_NUM_THREADS`` when set, else 1.

    One by default, whatever numpy's BLAS uses: the kernels run between BLAS
    calls, and OpenBLAS's threads keep spinning on the cores for a while after
    each multiply, so OpenMP threads started next to them wait for a core. On
    the course's two-core machine, with two BLAS threads, a TinyVGG training
    step took 79 ms with one kernel thread and 206 ms with two.
    """
    setting = os.environ.get("COURSE_NUM_THREADS", "")
    if setting.isdigit() and int(setting) > 0:
        return int(setting)
    return 1


def using_compiled() -> bool:
    """Whether the fast layers run on the compiled extension (else the numpy fallback)."""
    return _im2col is not None


def _compiled():
    """The compiled module, or None after warning (once) that the numpy fallback is in use."""
    global _warned
    if _im2col is None and not _warned:
        _warned = True
        # Point the warning at the first caller outside this module.
        frame, level = sys._getframe(1), 2
        while frame is not None and frame.f_code.co_filename == __file__:
            frame, level = frame.f_back, level + 1
        warnings.warn(
            f"course._im2col, the compiled im2col extension, could not be imported "
            f"({_IMPORT_ERROR or 'not built'}); the fast layers use a slower numpy im2col. "
            f"Build it from the repository root with: {REBUILD_COMMAND}",
            RuntimeWarning,
            stacklevel=level,
        )
    return _im2col


def _compute_dtype(*arrays: np.ndarray | np.dtype) -> np.dtype:
    """float32 when every array (or dtype) is float32, else float64 (float16 in float64)."""
    dtype = np.result_type(*arrays)
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)


# ----------------------------------------------------------------------------- im2col


def im2col(x_nhwc: np.ndarray, HH: int, WW: int, pad: int, stride: int) -> np.ndarray:
    """Patches of an NHWC batch as rows: (N*H_out*W_out, HH*WW*C).

    Row ``(n*H_out + i)*W_out + j`` holds the window of output (i, j) of image
    n, in the order (kh, kw, c); zero padding is included.
    """
    N, H, W, C = x_nhwc.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    kernels = _compiled()
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
    kernels = _compiled()
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

    Inputs:
    - x: (N, C, H, W) input batch
    - w: (F, C, HH, WW) filters
    - b: (F,) biases
    - conv_param: {'stride': s, 'pad': p}

    Returns:
    - out: (N, F, H_out, W_out), H_out = 1 + (H + 2*pad - HH) // stride, and the same for W
    - cache: (x_shape, w_shape, w_rows, cols, stride, pad, dtypes) for
      :func:`conv_backward_fast`; cols is kept so the backward pass needs no im2col
    """
    stride, pad, H_out, W_out = check_conv_inputs("conv_forward_fast", x, w, b, conv_param)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    dtype = _compute_dtype(x, w, b)
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

    Inputs:
    - dout: (N, F, H_out, W_out) upstream gradient
    - cache: from :func:`conv_forward_fast`

    Returns:
    - dx: (N, C, H, W); dw: (F, C, HH, WW); db: (F,)
    """
    if not (isinstance(cache, tuple) and len(cache) == 7):
        raise TypeError(
            "conv_backward_fast: cache must be the cache returned by conv_forward_fast "
            "(the naive layer's cache goes to conv_backward_naive)"
        )
    x_shape, (F, C, HH, WW), w_rows, cols, stride, pad, (x_dtype, w_dtype, b_dtype) = cache
    N, _, H, W = x_shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    require_dout("conv_backward_fast", dout, (N, F, H_out, W_out))
    dout_rows = np.ascontiguousarray(dout.transpose(0, 2, 3, 1), dtype=cols.dtype)
    dout_rows = dout_rows.reshape(-1, F)  # (N*H_out*W_out, F)
    db = dout_rows.sum(axis=0)  # (F,)
    dw_rows = dout_rows.T @ cols  # (F, N*H_out*W_out) @ (N*H_out*W_out, K) -> (F, K)
    dcols = dout_rows @ w_rows  # (N*H_out*W_out, F) @ (F, K) -> (N*H_out*W_out, K)
    dx_nhwc = col2im(dcols, (N, H, W, C), HH, WW, pad, stride)  # (N, H, W, C)
    dx = np.ascontiguousarray(dx_nhwc.transpose(0, 3, 1, 2), dtype=x_dtype)  # (N, C, H, W)
    dw = dw_rows.reshape(F, HH, WW, C).transpose(0, 3, 1, 2)  # (F, C, HH, WW)
    return dx, np.ascontiguousarray(dw, dtype=w_dtype), db.astype(b_dtype, copy=False)


# ----------------------------------------------------------------------------- max pooling


def max_pool_forward_fast(x: np.ndarray, pool_param: dict) -> tuple[np.ndarray, tuple]:
    """Max pooling; same result as ``max_pool_forward_naive``, ties to the first maximum.

    Inputs:
    - x: (N, C, H, W) input batch
    - pool_param: {'pool_height': ph, 'pool_width': pw, 'stride': s}

    Returns:
    - out: (N, C, H_out, W_out), H_out = 1 + (H - ph) // s, W_out = 1 + (W - pw) // s
    - cache: (x_shape, x_dtype, argmax) with argmax (N, C, H_out, W_out) holding the flat
      index h*W + w of each maximum in its (H, W) plane
    """
    ph, pw, stride, H_out, W_out = check_pool_inputs("max_pool_forward_fast", x, pool_param)
    N, C, H, W = x.shape
    kernels = _compiled()
    if kernels is not None:
        x_c = np.ascontiguousarray(x, dtype=_compute_dtype(x))
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

    Inputs:
    - dout: (N, C, H_out, W_out) upstream gradient
    - cache: from :func:`max_pool_forward_fast`

    Returns:
    - dx: (N, C, H, W)
    """
    if not (isinstance(cache, tuple) and len(cache) == 3):
        raise TypeError(
            "max_pool_backward_fast: cache must be the cache returned by max_pool_forward_fast "
            "(the naive layer's cache goes to max_pool_backward_naive)"
        )
    x_shape, x_dtype, argmax = cache
    N, C, H, W = x_shape
    require_dout("max_pool_backward_fast", dout, argmax.shape)
    kernels = _compiled()
    dtype = _compute_dtype(x_dtype)
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
