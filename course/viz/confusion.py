"""The confusion matrix: which classes the model mistakes for which.

``matrix[i, j]`` counts the images of true class i predicted as class j, so
row i sums to the number of images of class i and the diagonal holds the
correct predictions; the per-class accuracy is ``matrix[i, i] / sum of row i``.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from course.validation import require_positive_int
from course.viz._validation import require_class_labels, require_model_images, require_vis_model


def predict_classes(model, X: np.ndarray, batch_size: int = 500) -> np.ndarray:
    """The predicted class (N,) of each model input (N, C, H, W): argmax of test-mode scores."""
    func = "predict_classes"
    require_vis_model(func, model)
    X = require_model_images(func, model, X)
    batch_size = require_positive_int(func, "batch_size", batch_size)
    return np.concatenate(
        [model.loss(X[s : s + batch_size]).argmax(axis=1) for s in range(0, len(X), batch_size)]
    )


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts (K, K), K = num_classes: entry [i, j] is images of class i predicted as j.

    Inputs:
    - y_true, y_pred: (N,) integer classes in [0, K)

    Returns:
    - matrix: (K, K) int64; row i sums to the number of images of class i
    """
    func = "confusion_matrix"
    K = require_positive_int(func, "num_classes", num_classes)
    y_true = require_class_labels(func, y_true, None, K, name="y_true")
    y_pred = require_class_labels(func, y_pred, len(y_true), K, name="y_pred")
    return np.bincount(y_true * K + y_pred, minlength=K * K).reshape(K, K)  # (K, K)


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """Accuracy (K,) of each class: diagonal / row sum; NaN for a class with no images."""
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(
            f"per_class_accuracy: matrix has shape {matrix.shape}; expected (K, K), "
            "a confusion_matrix"
        )
    counts = matrix.sum(axis=1)  # (K,)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, np.diag(matrix) / np.maximum(counts, 1), np.nan)


def plot_confusion_matrix(matrix: np.ndarray, class_names=None) -> Figure:
    """The matrix as a heat map with its counts, beside the per-class accuracy (two axes)."""
    accuracy = per_class_accuracy(matrix)  # validates
    K = matrix.shape[0]
    names = list(class_names) if class_names is not None else [str(i) for i in range(K)]
    if len(names) != K:
        raise ValueError(f"plot_confusion_matrix: {len(names)} class names for a {K}x{K} matrix")
    fig = Figure(figsize=(10, 4.5), layout="constrained")
    ax_matrix, ax_accuracy = fig.subplots(1, 2, width_ratios=(1.3, 1))
    ax_matrix.imshow(matrix, cmap="Blues")
    threshold = matrix.max() / 2
    for i in range(K):
        for j in range(K):
            colour = "white" if matrix[i, j] > threshold else "black"
            ax_matrix.text(
                j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7, color=colour
            )
    ax_matrix.set_xticks(range(K), names, rotation=45, fontsize=7)
    ax_matrix.set_yticks(range(K), names, fontsize=7)
    ax_matrix.set_xlabel("predicted")
    ax_matrix.set_ylabel("true")
    ax_accuracy.barh(range(K), accuracy)
    ax_accuracy.set_yticks(range(K), names, fontsize=7)
    ax_accuracy.invert_yaxis()
    ax_accuracy.set_xlim(0, 1)
    total = np.trace(matrix) / max(matrix.sum(), 1)
    ax_accuracy.set_title(f"per-class accuracy (overall {total:.1%})", fontsize=9)
    return fig
