"""Tests for course/viz/pixels.py: model inputs back to pictures."""

import numpy as np
from viz_models import pretrained_and_shapes, tiny_vgg

from course.data.shapes import generate_shapes
from course.viz import input_range, to_pixels


def test_to_pixels_undoes_the_mean_subtraction():
    model, X, _ = pretrained_and_shapes()
    images, _ = generate_shapes(3, seed=2026)  # the fixture's first three images, uint8
    np.testing.assert_allclose(to_pixels(model, X[:3]), images / 255, atol=1e-6)
    low, high = input_range(model)
    np.testing.assert_allclose(high - low, 1.0)
    np.testing.assert_allclose(low, -model.mean_image, rtol=1e-6)


def test_a_model_without_mean_takes_pixels_and_grey_images_become_rgb():
    model = tiny_vgg(input_dim=(1, 8, 8))
    X = np.linspace(-0.5, 1.5, 64).reshape(1, 1, 8, 8)
    pictures = to_pixels(model, X)
    assert pictures.shape == (1, 8, 8, 3)
    np.testing.assert_array_equal(pictures[..., 0], np.clip(X[0], 0, 1))
    low, high = input_range(model)
    assert low.shape == (1, 8, 8) and (low == 0).all() and (high == 1).all()
