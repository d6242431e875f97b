"""Max pooling, written for clarity with explicit loops (the naive layer).

Pooling downsamples each activation map on its own: every output is the
largest value in a pool_height x pool_width window, and the windows move by
``stride``. The backward pass routes each gradient to the one input that was
the maximum (the first one, in row-major order, when several tie).
"""

from __future__ import annotations

import numpy as np

from course.layers._validation import validate_pool_dout, validate_pool_inputs


def max_pool_forward_naive(x: np.ndarray, pool_param: dict) -> tuple[np.ndarray, tuple]:
    """Max pooling by loops: ``out[n, c, i, j] = max of x[n, c, window(i, j)]``.

    Inputs:
    - x: (N, C, H, W) input batch
    - pool_param: {'pool_height': ph, 'pool_width': pw, 'stride': s}

    Returns:
    - out: (N, C, H_out, W_out), H_out = 1 + (H - ph) // s, W_out = 1 + (W - pw) // s
    - cache: (x, pool_param)
    """
    ph, pw, s, H_out, W_out = validate_pool_inputs("max_pool_forward_naive", x, pool_param)
    N, C = x.shape[:2]
    out = np.empty((N, C, H_out, W_out), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    out[n, c, i, j] = x[n, c, i * s : i * s + ph, j * s : j * s + pw].max()
    return out, (x, pool_param)


def max_pool_backward_naive(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Backward pass of :func:`max_pool_forward_naive`.

    Each gradient goes to the position of its window's maximum, the first
    one in row-major order when several tie (after a ReLU, all-zero windows
    are common: sending the gradient to every tied zero would multiply it).
    Overlapping windows add their contributions.

    Inputs:
    - dout: (N, C, H_out, W_out) upstream gradient
    - cache: (x, pool_param) from the forward pass

    Returns:
    - dx: (N, C, H, W)
    """
    x, pool_param = cache
    ph, pw, s, H_out, W_out = validate_pool_dout("max_pool_backward_naive", dout, x, pool_param)
    N, C = x.shape[:2]
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * s : i * s + ph, j * s : j * s + pw]
                    di, dj = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * s + di, j * s + dj] += dout[n, c, i, j]
    return dx
