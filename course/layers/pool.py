"""Max pooling, written for clarity with explicit loops (the naive layer).

Pooling downsamples each activation map on its own: every output is the
largest value in a pool_height x pool_width window, and the windows move by
``stride``. The backward pass routes each gradient to the one input that was
the maximum (the first one, in row-major order, when several tie).
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

_POOL_KEYS = ("pool_height", "pool_width", "stride")


def read_pool_param(func: str, pool_param: object) -> tuple[int, int, int]:
    """Return ``(pool_height, pool_width, stride)`` from a pool_param dict, checked."""
    if not isinstance(pool_param, dict):
        raise TypeError(
            f"{func}: pool_param must be a dict like "
            f"{{'pool_height': 2, 'pool_width': 2, 'stride': 2}}, got {type(pool_param).__name__}"
        )
    unknown = set(pool_param) - set(_POOL_KEYS)
    missing = set(_POOL_KEYS) - set(pool_param)
    if unknown or missing:
        raise ValueError(
            f"{func}: pool_param needs exactly the keys {list(_POOL_KEYS)}; "
            f"missing {sorted(missing)}, unknown {sorted(unknown)}"
        )
    ph, pw, stride = (
        require_positive_int(func, f"pool_param[{k!r}]", pool_param[k]) for k in _POOL_KEYS
    )
    return ph, pw, stride


def check_pool_inputs(func: str, x: object, pool_param: object) -> tuple[int, int, int, int, int]:
    """Validate a max pool's inputs; return ``(pool_height, pool_width, stride, H_out, W_out)``."""
    as_float_array(func, "x", x)
    require_ndim(func, "x", x, 4, "(N, C, H, W)")
    ph, pw, stride = read_pool_param(func, pool_param)
    H, W = x.shape[2:]
    for side, size, pool in (("height", H, ph), ("width", W, pw)):
        if pool > size:
            raise ValueError(
                f"{func}: pool_{side} {pool} is larger than the input {side} {size} "
                f"(x of shape {format_shape(x.shape)})"
            )
        if (size - pool) % stride:
            raise ValueError(
                f"{func}: stride {stride} does not tile the input {side}: "
                f"{size} - {pool} = {size - pool} is not a multiple of {stride} "
                f"(x of shape {format_shape(x.shape)})"
            )
    return ph, pw, stride, 1 + (H - ph) // stride, 1 + (W - pw) // stride


def max_pool_forward_naive(x: np.ndarray, pool_param: dict) -> tuple[np.ndarray, tuple]:
    """Max pooling by loops: ``out[n, c, i, j] = max of x[n, c, window(i, j)]``.

    Inputs:
    - x: (N, C, H, W) input batch
    - pool_param: {'pool_height': ph, 'pool_width': pw, 'stride': s}

    Returns:
    - out: (N, C, H_out, W_out), H_out = 1 + (H - ph) // s, W_out = 1 + (W - pw) // s
    - cache: (x, pool_param)
    """
    ph, pw, s, H_out, W_out = check_pool_inputs("max_pool_forward_naive", x, pool_param)
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
    ph, pw, s, H_out, W_out = check_pool_inputs("max_pool_backward_naive", x, pool_param)
    N, C = x.shape[:2]
    require_dout("max_pool_backward_naive", dout, (N, C, H_out, W_out))
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * s : i * s + ph, j * s : j * s + pw]
                    di, dj = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * s + di, j * s + dj] += dout[n, c, i, j]
    return dx
