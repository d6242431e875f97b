"""Tests for course/viz/confusion.py: the confusion matrix and per-class accuracy."""

import numpy as np
import pytest
from matplotlib.figure import Figure
from viz_models import pretrained_and_shapes

from course.viz import confusion_matrix, per_class_accuracy, plot_confusion_matrix, predict_classes


def test_small_matrix_by_hand():
    y_true = np.array([0, 0, 1, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 2, 0, 2])
    matrix = confusion_matrix(y_true, y_pred, num_classes=4)
    np.testing.assert_array_equal(matrix, [[1, 1, 0, 0], [0, 1, 0, 0], [1, 0, 2, 0], [0, 0, 0, 0]])
    accuracy = per_class_accuracy(matrix)
    np.testing.assert_allclose(accuracy[:3], [0.5, 1.0, 2 / 3])
    assert np.isnan(accuracy[3])  # no images of class 3


def test_pretrained_rows_sum_to_class_counts():
    model, X, y = pretrained_and_shapes()
    predicted = predict_classes(model, X[:200], batch_size=64)
    np.testing.assert_array_equal(predicted, model.loss(X[:200]).argmax(axis=1))
    matrix = confusion_matrix(y[:200], predicted, 10)
    np.testing.assert_array_equal(matrix.sum(axis=1), np.bincount(y[:200], minlength=10))
    np.testing.assert_array_equal(matrix.sum(axis=0), np.bincount(predicted, minlength=10))
    assert np.trace(matrix) / 200 > 0.85  # the shipped model is accurate
    fig = plot_confusion_matrix(matrix, class_names=[f"c{i}" for i in range(10)])
    assert isinstance(fig, Figure) and len(fig.axes) == 2


def test_bad_inputs_name_the_function():
    with pytest.raises(ValueError, match=r"confusion_matrix: y_pred has shape \(2,\)"):
        confusion_matrix(np.array([0, 1, 1]), np.array([0, 1]), 2)
    with pytest.raises(ValueError, match=r"confusion_matrix: y_true must lie in \[0, 2\)"):
        confusion_matrix(np.array([0, 2]), np.array([0, 1]), 2)
    with pytest.raises(TypeError, match="confusion_matrix: y_true must be an integer"):
        confusion_matrix(np.array([0.0, 1.0]), np.array([0, 1]), 2)
    with pytest.raises(ValueError, match="per_class_accuracy: matrix has shape"):
        per_class_accuracy(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="plot_confusion_matrix: 2 class names"):
        plot_confusion_matrix(np.eye(3, dtype=int), ["a", "b"])
