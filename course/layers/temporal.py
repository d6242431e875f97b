"""Layers applied at every time step of a sequence: word embedding, affine, softmax loss.

Every layer is a pair of pure functions, ``X_forward(inputs...) -> (out, cache)``
and ``X_backward(dout, cache) -> grads``; the loss returns ``(loss, dx)``.
Dimension letters: N batch, T time steps, D input (embedding) size,
V vocabulary size, M output size of a temporal affine layer.
"""

from __future__ import annotations

import numpy as np

from course.layers._sequence_validation import (
    validate_temporal_affine_inputs,
    validate_temporal_softmax_inputs,
    validate_word_embedding_inputs,
)
from course.validation import require_dout


def word_embedding_forward(x: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Look up the embedding vector of every word: ``out[n, t] = W[x[n, t]]``.

    Inputs:
    - x: (N, T) integer word indices, each in [0, V)
    - W: (V, D) one embedding vector per word of the vocabulary

    Returns:
    - out: (N, T, D)
    - cache: (x, W.shape, W.dtype) for the backward pass
    """
    validate_word_embedding_inputs(x, W)
    out = W[x]  # (N, T, D), a new array (fancy indexing copies)
    return out, (x, W.shape, W.dtype)


def word_embedding_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Backward pass of :func:`word_embedding_forward`.

    A word that occurs k times in the batch receives the sum of its k
    upstream gradients: ``np.add.at`` accumulates over repeated indices,
    where ``dW[x] += dout`` would keep only one of them. The indices x are
    not differentiable, so only dW is returned.

    Inputs:
    - dout: (N, T, D) upstream gradient
    - cache: from the forward pass

    Returns:
    - dW: (V, D)
    """
    x, (V, D), dtype = cache
    require_dout("word_embedding_backward", dout, (*x.shape, D), name="dout", of="out")
    dW = np.zeros((V, D), dtype=np.result_type(dout, dtype))
    np.add.at(dW, x, dout)  # dW[x[n, t]] += dout[n, t] for every (n, t), repeats included
    return dW


def temporal_affine_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, tuple]:
    """The same affine layer at every time step: ``out[:, t] = x[:, t] @ w + b``.

    Inputs:
    - x: (N, T, D) input sequences
    - w: (D, M) weights
    - b: (M,) biases

    Returns:
    - out: (N, T, M)
    - cache: (x, w) for the backward pass
    """
    N, T, D, M = validate_temporal_affine_inputs(x, w, b)
    out = (x.reshape(N * T, D) @ w).reshape(N, T, M) + b  # (N*T, D) @ (D, M) -> (N, T, M)
    return out, (x, w)


def temporal_affine_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """Backward pass of :func:`temporal_affine_forward`.

    Inputs:
    - dout: (N, T, M) upstream gradient
    - cache: (x, w) from the forward pass

    Returns:
    - dx: (N, T, D)
    - dw: (D, M), summed over the batch and the time steps
    - db: (M,), summed over the batch and the time steps
    """
    x, w = cache
    N, T, D = x.shape
    M = w.shape[1]
    require_dout("temporal_affine_backward", dout, (N, T, M), name="dout", of="out")
    dout_flat = dout.reshape(N * T, M)
    dx = (dout_flat @ w.T).reshape(N, T, D)  # (N*T, M) @ (M, D) -> (N, T, D)
    dw = x.reshape(N * T, D).T @ dout_flat  # (D, N*T) @ (N*T, M) -> (D, M)
    db = dout_flat.sum(axis=0)  # (M,)
    return dx, dw, db


def temporal_softmax_loss(
    x: np.ndarray, y: np.ndarray, mask: np.ndarray
) -> tuple[float, np.ndarray]:
    r"""Softmax cross-entropy at every unmasked time step, summed, averaged over the batch.

    .. math::
        L = -\frac{1}{N} \sum_{n, t:\ \mathrm{mask}_{nt}} \log \mathrm{softmax}(x_{nt})_{y_{nt}}

    The sum runs over the time steps where mask is True (padding after the
    end of a caption is masked out) and is divided by the batch size N, not
    by the number of unmasked tokens. The scores are shifted by their
    maximum over V before exponentiating, so large scores do not overflow.

    Inputs:
    - x: (N, T, V) scores over the vocabulary
    - y: (N, T) integer targets, each in [0, V)
    - mask: (N, T) booleans, True where the target counts

    Returns:
    - loss: scalar
    - dx: (N, T, V) gradient of the loss with respect to x; zero where masked
    """
    N, T, V = validate_temporal_softmax_inputs(x, y, mask)
    x_flat = x.reshape(N * T, V)
    y_flat, mask_flat = y.reshape(N * T), mask.reshape(N * T)
    rows = np.arange(N * T)
    shifted = x_flat - x_flat.max(axis=1, keepdims=True)  # (N*T, V), row max is 0
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (N*T, V)
    loss = -log_probs[rows, y_flat][mask_flat].sum() / N
    dx = np.exp(log_probs)  # (N*T, V) softmax probabilities
    dx[rows, y_flat] -= 1
    dx[~mask_flat] = 0
    dx /= N
    return float(loss), dx.reshape(N, T, V)
