# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled kernels of ``course.layers.fast_conv`` and ``fast_pool``: im2col, col2im, pooling.

The convolution kernels work on NHWC images (channels last) and a row layout
of patches: ``cols[(n*H_out + i)*W_out + j, (kh*WW + kw)*C + c]``. In that
layout one kernel row of a patch, ``x[n, h, w0 : w0 + WW, :]``, is WW*C
numbers in a row of memory, so im2col is a sequence of block copies and
col2im a sequence of block additions. Zero padding is never materialised:
a block that falls outside the image is written as zeros (im2col) or skipped
(col2im).

Every loop over the batch runs in parallel on ``num_threads`` OpenMP threads
where the extension was built with OpenMP; images never share output memory,
so the threads need no locks. Integer division in index arithmetic is C
division (``cdivision``); all indices are non-negative where it is used.
"""

from cython.parallel cimport prange
from libc.string cimport memcpy, memset

import numpy as np

ctypedef fused floating:
    float
    double


def im2col_rows(
    const floating[:, :, :, ::1] x,
    Py_ssize_t HH,
    Py_ssize_t WW,
    Py_ssize_t pad,
    Py_ssize_t stride,
    floating[:, ::1] cols,
    int num_threads=1,
):
    """Fill ``cols`` (N*H_out*W_out, HH*WW*C) with the patches of ``x`` (N, H, W, C)."""
    cdef Py_ssize_t N = x.shape[0], H = x.shape[1], W = x.shape[2], C = x.shape[3]
    cdef Py_ssize_t H_out = (H + 2 * pad - HH) // stride + 1
    cdef Py_ssize_t W_out = (W + 2 * pad - WW) // stride + 1
    cdef Py_ssize_t n, i, j, kh, kw, h, w0, row
    cdef size_t block = C * sizeof(floating)
    cdef floating* dst
    if cols.shape[0] != N * H_out * W_out or cols.shape[1] != HH * WW * C:
        raise ValueError(f"im2col_rows: cols has shape {(cols.shape[0], cols.shape[1])}, expected "
                         f"{(N * H_out * W_out, HH * WW * C)}")
    for n in prange(N, nogil=True, num_threads=num_threads, schedule="static"):
        for i in range(H_out):
            for j in range(W_out):
                row = (n * H_out + i) * W_out + j
                w0 = j * stride - pad
                for kh in range(HH):
                    h = i * stride - pad + kh
                    dst = &cols[row, kh * WW * C]
                    if h < 0 or h >= H:
                        memset(dst, 0, WW * block)
                    elif w0 >= 0 and w0 + WW <= W:
                        memcpy(dst, &x[n, h, w0, 0], WW * block)
                    else:
                        for kw in range(WW):
                            if w0 + kw < 0 or w0 + kw >= W:
                                memset(dst + kw * C, 0, block)
                            else:
                                memcpy(dst + kw * C, &x[n, h, w0 + kw, 0], block)


def col2im_rows(
    const floating[:, ::1] cols,
    Py_ssize_t HH,
    Py_ssize_t WW,
    Py_ssize_t pad,
    Py_ssize_t stride,
    floating[:, :, :, ::1] x,
    int num_threads=1,
):
    """Add every patch row of ``cols`` back into ``x`` (N, H, W, C), which must start at zero."""
    cdef Py_ssize_t N = x.shape[0], H = x.shape[1], W = x.shape[2], C = x.shape[3]
    cdef Py_ssize_t H_out = (H + 2 * pad - HH) // stride + 1
    cdef Py_ssize_t W_out = (W + 2 * pad - WW) // stride + 1
    cdef Py_ssize_t n, i, j, kh, kw, h, w0, row, k, lo, hi
    cdef const floating* src
    cdef floating* dst
    if cols.shape[0] != N * H_out * W_out or cols.shape[1] != HH * WW * C:
        raise ValueError(f"col2im_rows: cols has shape {(cols.shape[0], cols.shape[1])}, expected "
                         f"{(N * H_out * W_out, HH * WW * C)}")
    for n in prange(N, nogil=True, num_threads=num_threads, schedule="static"):
        for i in range(H_out):
            for j in range(W_out):
                row = (n * H_out + i) * W_out + j
                w0 = j * stride - pad
                # The kernel columns kw in [lo, hi) land inside the image.
                lo = -w0 if w0 < 0 else 0
                hi = W - w0 if w0 + WW > W else WW
                for kh in range(HH):
                    h = i * stride - pad + kh
                    if h < 0 or h >= H:
                        continue
                    src = &cols[row, (kh * WW + lo) * C]
                    dst = &x[n, h, w0 + lo, 0]
                    for k in range((hi - lo) * C):
                        dst[k] = dst[k] + src[k]


def max_pool_forward(
    const floating[:, :, :, ::1] x,
    Py_ssize_t pool_height,
    Py_ssize_t pool_width,
    Py_ssize_t stride,
    floating[:, :, :, ::1] out,
    int[:, :, :, ::1] argmax,
    int num_threads=1,
):
    """Max pool x (N, C, H, W) into ``out``; ``argmax`` gets the flat index h*W + w of each max.

    The first maximum in row-major order wins a tie, and the first NaN wins over
    any number, as in the naive layer.
    """
    cdef Py_ssize_t N = x.shape[0], C = x.shape[1], W = x.shape[3]
    cdef Py_ssize_t H_out = out.shape[2], W_out = out.shape[3]
    cdef Py_ssize_t plane, n, c, i, j, a, bb, best_index
    cdef floating best, value
    for plane in prange(N * C, nogil=True, num_threads=num_threads, schedule="static"):
        n = plane // C
        c = plane % C
        for i in range(H_out):
            for j in range(W_out):
                best_index = (i * stride) * W + j * stride
                best = x[n, c, i * stride, j * stride]
                for a in range(pool_height):
                    for bb in range(pool_width):
                        value = x[n, c, i * stride + a, j * stride + bb]
                        # A NaN wins and stays (value != value is the NaN test), as in np.max.
                        if best == best and (value > best or value != value):
                            best = value
                            best_index = (i * stride + a) * W + j * stride + bb
                out[n, c, i, j] = best
                argmax[n, c, i, j] = <int>best_index


def max_pool_backward(
    const floating[:, :, :, ::1] dout,
    const int[:, :, :, ::1] argmax,
    floating[:, ::1] dx,
    int num_threads=1,
):
    """Add each gradient of dout (N, C, H_out, W_out) to its max in dx (N*C, H*W), zeroed."""
    cdef Py_ssize_t N = dout.shape[0], C = dout.shape[1]
    cdef Py_ssize_t H_out = dout.shape[2], W_out = dout.shape[3]
    cdef Py_ssize_t plane, n, c, i, j
    for plane in prange(N * C, nogil=True, num_threads=num_threads, schedule="static"):
        n = plane // C
        c = plane % C
        for i in range(H_out):
            for j in range(W_out):
                dx[plane, argmax[n, c, i, j]] += dout[n, c, i, j]
