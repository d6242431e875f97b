"""Tests for course/viz/class_visualisation.py: gradient ascent on the input image."""

import numpy as np
import pytest
from matplotlib.figure import Figure
from viz_models import pretrained_and_shapes, random_images, tiny_vgg

from course.gradcheck import numerical_gradient
from course.viz import (
    class_visualisation,
    class_visualisation_step,
    gaussian_blur,
    input_range,
    plot_class_visualisations,
)


def test_step_is_the_normalised_gradient_of_the_regularised_score():
    model = tiny_vgg("batchnorm")
    img, target, l2_reg, lr = random_images(model, 1), 3, 0.05, 0.7
    before = img.copy()
    objective = lambda x: model.loss(x)[0, target] - l2_reg * np.sum(x * x)  # noqa: E731
    g = numerical_gradient(objective, img)
    new = class_visualisation_step(model, img, target, l2_reg, lr)
    np.testing.assert_allclose(new - img, lr * g / np.linalg.norm(g), rtol=1e-6, atol=1e-9)
    assert np.linalg.norm(new - img) == pytest.approx(lr)
    np.testing.assert_array_equal(img, before)  # not changed in place


def test_step_increases_the_target_score_of_the_pretrained_model():
    model, X, y = pretrained_and_shapes()
    for n in range(5):
        target = (int(y[n]) + 4) % 10
        new = class_visualisation_step(model, X[n : n + 1], target, 0.0, 0.05)
        assert model.loss(new)[0, target] > model.loss(X[n : n + 1])[0, target]


def test_visualisation_is_seeded_valid_and_scores_its_class():
    model = pretrained_and_shapes()[0]
    img = class_visualisation(model, 7, num_iterations=30, learning_rate=1.0, seed=3)
    again = class_visualisation(model, 7, num_iterations=30, learning_rate=1.0, seed=3)
    other = class_visualisation(model, 7, num_iterations=2, learning_rate=1.0, seed=4)
    np.testing.assert_array_equal(img, again)
    assert not np.array_equal(img[0], other[0])
    low, high = input_range(model)
    assert img.shape == (1, 3, 32, 32) and img.dtype == np.float32
    assert (img >= low - 1e-6).all() and (img <= high + 1e-6).all()
    assert model.loss(img)[0].argmax() == 7
    fig = plot_class_visualisations(model, np.concatenate([img, other]), [7, 7])
    assert isinstance(fig, Figure) and len(fig.axes) == 2


def test_one_plain_iteration_is_a_clipped_step():
    model = tiny_vgg()
    img = class_visualisation(
        model, 1, num_iterations=1, l2_reg=0.0, learning_rate=0.2, blur_every=0, max_jitter=0
    )
    start = np.clip(0.1 * np.random.default_rng(0).standard_normal((1, 3, 8, 8)), 0, 1)
    expected = np.clip(class_visualisation_step(model, start, 1, 0.0, 0.2), 0, 1)
    np.testing.assert_allclose(img, expected, rtol=1e-12)


def test_gaussian_blur_matches_a_direct_convolution():
    rng = np.random.default_rng(0)
    images = rng.standard_normal((2, 3, 7, 9))
    sigma = 0.8
    r = int(np.ceil(3 * sigma))
    t = np.arange(-r, r + 1)
    kernel = np.exp(-(t[:, None] ** 2 + t[None, :] ** 2) / (2 * sigma**2))
    kernel /= kernel.sum()  # (2r + 1, 2r + 1)
    padded = np.pad(images, ((0, 0), (0, 0), (r, r), (r, r)), mode="reflect")
    expected = np.zeros_like(images)
    for i in range(7):
        for j in range(9):
            window = padded[:, :, i : i + 2 * r + 1, j : j + 2 * r + 1]
            expected[:, :, i, j] = (window * kernel).sum(axis=(2, 3))
    np.testing.assert_allclose(gaussian_blur(images, sigma), expected, rtol=1e-12, atol=1e-12)
    constant = np.full((1, 1, 5, 5), 0.3, dtype=np.float32)
    blurred = gaussian_blur(constant, 2.0)
    assert blurred.dtype == np.float32
    np.testing.assert_allclose(blurred, constant, rtol=1e-6)


def test_bad_inputs_name_the_function():
    model, X, _ = pretrained_and_shapes()
    with pytest.raises(ValueError, match="class_visualisation_step: img has 2 images"):
        class_visualisation_step(model, X[:2], 0, 0.0, 1.0)
    with pytest.raises(ValueError, match="class_visualisation_step: learning_rate must be"):
        class_visualisation_step(model, X[:1], 0, 0.0, -1.0)
    with pytest.raises(ValueError, match="class_visualisation: target=10 is out of range"):
        class_visualisation(model, 10)
    with pytest.raises(ValueError, match="class_visualisation: l2_reg must be"):
        class_visualisation(model, 1, l2_reg=-1)
    with pytest.raises(TypeError, match="class_visualisation: seed must be an integer"):
        class_visualisation(model, 1, seed=None)
    with pytest.raises(ValueError, match="gaussian_blur: sigma must be"):
        gaussian_blur(X[:1], 0)
