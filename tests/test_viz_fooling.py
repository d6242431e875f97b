"""Tests for course/viz/fooling.py: a small change that flips the prediction."""

import numpy as np
import pytest
from matplotlib.figure import Figure
from viz_models import pretrained_and_shapes

from course.viz import FoolingFailed, make_fooling_image, plot_fooling_image
from course.viz.pixels import input_offset


@pytest.mark.parametrize("n", [0, 1, 2, 3])  # image 1 is where the score objective stalls
def test_fooling_image_is_predicted_as_the_target_and_close(n):
    model, X, y = pretrained_and_shapes()
    original = X[n : n + 1]
    assert model.loss(original)[0].argmax() == y[n]
    target = (int(y[n]) + 5) % 10
    fooling, steps = make_fooling_image(model, original, target, learning_rate=0.1)
    assert model.loss(fooling)[0].argmax() == target
    assert steps >= 1 and fooling.shape == original.shape and fooling.dtype == original.dtype
    change = np.linalg.norm(fooling - original)
    assert change <= 0.1 * steps + 1e-4  # each step has length learning_rate
    assert change < 0.05 * np.linalg.norm(original + input_offset(model))  # small next to it
    assert np.abs(fooling - original).mean() < 0.02  # about 5 grey levels of 255
    fig = plot_fooling_image(model, original, fooling, class_names=[str(i) for i in range(10)])
    assert isinstance(fig, Figure) and len(fig.axes) == 3


def test_the_cs231n_score_objective_also_fools():
    model, X, y = pretrained_and_shapes()
    target = (int(y[0]) + 5) % 10
    fooling, steps = make_fooling_image(model, X[:1], target, objective="score")
    assert model.loss(fooling)[0].argmax() == target and steps >= 1


def test_an_image_already_of_the_target_takes_no_step():
    model, X, y = pretrained_and_shapes()
    fooling, steps = make_fooling_image(model, X[:1], int(model.loss(X[:1])[0].argmax()))
    assert steps == 0
    np.testing.assert_array_equal(fooling, X[:1])


def test_failure_is_a_clear_error():
    model, X, y = pretrained_and_shapes()
    with pytest.raises(FoolingFailed, match="make_fooling_image: the model still predicts"):
        make_fooling_image(model, X[:1], (int(y[0]) + 1) % 10, 1e-6, max_iterations=2)
    with pytest.raises(ValueError, match="make_fooling_image: X has 2 images"):
        make_fooling_image(model, X[:2], 0)
    with pytest.raises(TypeError, match="make_fooling_image: max_iterations must be an integer"):
        make_fooling_image(model, X[:1], 0, max_iterations=1.5)
    with pytest.raises(ValueError, match="make_fooling_image: objective must be one of"):
        make_fooling_image(model, X[:1], 0, objective="loss")
