"""Classification losses: softmax (cross-entropy) and multiclass SVM (hinge).

Each loss takes class scores and labels and returns ``(loss, dx)``: the mean
loss over the batch and its gradient with respect to the scores.
"""

from __future__ import annotations

import numpy as np

from course.layers._validation import validate_loss_inputs


def softmax_loss(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    r"""Softmax cross-entropy loss, averaged over the batch.

    .. math::
        p_{ij} = \frac{e^{x_{ij}}}{\sum_k e^{x_{ik}}}, \qquad
        L = -\frac{1}{N}\sum_i \log p_{i,y_i}, \qquad
        \frac{\partial L}{\partial x_{ij}} = \frac{p_{ij} - [j = y_i]}{N}

    The scores are shifted by their row maximum before exponentiating; the
    shift cancels in the ratio and keeps ``exp`` from overflowing.

    Inputs:
    - x: (N, C) class scores
    - y: (N,) integer labels, 0 <= y[i] < C

    Returns:
    - loss: scalar
    - dx: (N, C) gradient of the loss with respect to x
    """
    validate_loss_inputs("softmax_loss", x, y)
    N = x.shape[0]
    shifted = x - x.max(axis=1, keepdims=True)  # (N, C), row max is 0
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (N, C)
    loss = -log_probs[np.arange(N), y].mean()
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    dx /= N
    return float(loss), dx


def svm_loss(x: np.ndarray, y: np.ndarray, delta: float = 1.0) -> tuple[float, np.ndarray]:
    r"""Multiclass SVM (hinge) loss, averaged over the batch.

    .. math::
        L = \frac{1}{N}\sum_i \sum_{j \ne y_i} \max(0,\; x_{ij} - x_{i,y_i} + \Delta)

    Every wrong class whose score comes within ``delta`` of the correct one
    adds to the loss; its gradient is +1/N on that class and -1/N on the
    correct class (once per violating class).

    Inputs:
    - x: (N, C) class scores
    - y: (N,) integer labels, 0 <= y[i] < C
    - delta: the margin

    Returns:
    - loss: scalar
    - dx: (N, C) gradient of the loss with respect to x
    """
    validate_loss_inputs("svm_loss", x, y)
    N = x.shape[0]
    correct = x[np.arange(N), y][:, None]  # (N, 1)
    margins = np.maximum(0, x - correct + delta)  # (N, C)
    margins[np.arange(N), y] = 0
    loss = margins.sum() / N
    dx = (margins > 0).astype(x.dtype)  # (N, C)
    dx[np.arange(N), y] = -dx.sum(axis=1)
    dx /= N
    return float(loss), dx
