"""Tests for course/viz/saliency.py: the class score's gradient on the pixels."""

import numpy as np
import pytest
from matplotlib.figure import Figure
from viz_models import pretrained_and_shapes, random_images, tiny_vgg

from course.gradcheck import numerical_gradient, rel_error
from course.viz import plot_saliency_maps, saliency_maps


@pytest.mark.parametrize("normalization", [None, "batchnorm"])
def test_saliency_is_the_largest_score_gradient_over_channels(normalization):
    model = tiny_vgg(normalization)
    X, y = random_images(model, 2), np.array([2, 0])
    numeric = numerical_gradient(lambda x: model.loss(x)[np.arange(2), y].sum(), X)
    expected = np.abs(numeric).max(axis=1)  # (N, H, W)
    saliency = saliency_maps(model, X, y)
    assert saliency.shape == (2, 8, 8)
    assert rel_error(saliency, expected) < 1e-7


def test_pretrained_saliency_of_one_image_equals_its_batch_row():
    model, X, y = pretrained_and_shapes()
    batch = saliency_maps(model, X[:4], y[:4])
    assert batch.shape == (4, 32, 32) and (batch >= 0).all() and batch.max() > 0
    np.testing.assert_allclose(saliency_maps(model, X[2:3], y[2:3])[0], batch[2], rtol=1e-5)


def test_plot_has_images_above_maps():
    model, X, y = pretrained_and_shapes()
    fig = plot_saliency_maps(model, X[:3], y[:3], class_names=[f"c{i}" for i in range(10)])
    assert isinstance(fig, Figure) and len(fig.axes) == 6


def test_bad_inputs_name_the_function():
    model, X, y = pretrained_and_shapes()
    with pytest.raises(ValueError, match=r"saliency_maps: y must lie in \[0, 10\)"):
        saliency_maps(model, X[:2], np.array([0, 10]))
    with pytest.raises(ValueError, match=r"saliency_maps: X has shape \(3, 32, 32\), one image"):
        saliency_maps(model, X[0], y[:1])
    with pytest.raises(ValueError, match="saliency_maps: X holds NaN"):
        saliency_maps(model, np.full((1, 3, 32, 32), np.nan, np.float32), y[:1])
    with pytest.raises(TypeError, match="saliency_maps: model must be a TinyVGG-like model"):
        saliency_maps(object(), X[:1], y[:1])
