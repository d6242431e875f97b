"""Fully connected layers: affine, ReLU, and their sandwich.

A layer is a pair of pure functions. ``X_forward(inputs...)`` returns
``(out, cache)``; ``X_backward(dout, cache)`` returns the gradients of the loss
with respect to each forward input, in the forward's order. Nothing is
mutated: the cache holds what the backward pass needs and nothing else.
"""

from __future__ import annotations

import numpy as np

from course.layers._validation import validate_affine_inputs
from course.validation import as_float_array, require_dout


def affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Affine (fully connected) layer: ``out = x_flat @ w + b``.

    Every example is flattened to a row of D numbers first, so images
    (N, C, H, W) feed a fully connected layer directly (D = C*H*W).

    Inputs:
    - x: (N, d_1, ..., d_k) input batch; D = d_1 * ... * d_k
    - w: (D, M) weights
    - b: (M,) biases

    Returns:
    - out: (N, M)
    - cache: (x, w) for the backward pass
    """
    validate_affine_inputs("affine_forward", x, w, b)
    x_flat = x.reshape(x.shape[0], -1)  # (N, D)
    out = x_flat @ w + b  # (N, D) @ (D, M) -> (N, M)
    return out, (x, w)


def affine_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of :func:`affine_forward`.

    Inputs:
    - dout: (N, M) upstream gradient
    - cache: (x, w) from the forward pass

    Returns:
    - dx: (N, d_1, ..., d_k), dL/dx = dout @ w.T, reshaped like x
    - dw: (D, M), dL/dw = x_flat.T @ dout (summed over the batch)
    - db: (M,), dL/db = sum of dout over the batch
    """
    x, w = cache
    require_dout("affine_backward", dout, (x.shape[0], w.shape[1]))
    x_flat = x.reshape(x.shape[0], -1)  # (N, D)
    dx = (dout @ w.T).reshape(x.shape)  # (N, M) @ (M, D) -> (N, D) -> x.shape
    dw = x_flat.T @ dout  # (D, N) @ (N, M) -> (D, M)
    db = dout.sum(axis=0)  # (M,)
    return dx, dw, db


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rectified linear unit: ``out = max(0, x)`` elementwise.

    Inputs:
    - x: array of any shape

    Returns:
    - out: same shape as x
    - cache: x
    """
    as_float_array("relu_forward", "x", x)
    return np.maximum(x, 0), x


def relu_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """Backward pass of :func:`relu_forward`: the gradient passes where x > 0.

    Inputs:
    - dout: upstream gradient, same shape as x
    - cache: x from the forward pass

    Returns:
    - dx: same shape as x
    """
    x = cache
    require_dout("relu_backward", dout, x.shape)
    return dout * (x > 0)


def affine_relu_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Affine layer followed by a ReLU: ``out = max(0, x_flat @ w + b)``.

    Inputs:
    - x: (N, d_1, ..., d_k); w: (D, M); b: (M,)

    Returns:
    - out: (N, M)
    - cache: (affine cache, relu cache)
    """
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out, (fc_cache, relu_cache)


def affine_relu_backward(
    dout: np.ndarray, cache: tuple
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of :func:`affine_relu_forward`.

    Returns:
    - dx: like x; dw: (D, M); db: (M,)
    """
    fc_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    return affine_backward(da, fc_cache)
