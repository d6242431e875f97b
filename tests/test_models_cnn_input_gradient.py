"""Tests for TinyVGG.input_gradient (course/models/cnn.py): the gradient on the input pixels."""

import numpy as np
import pytest
from viz_models import random_images, tiny_vgg

from course.gradcheck import numerical_gradient, rel_error


@pytest.mark.parametrize("normalization", [None, "batchnorm"])
@pytest.mark.parametrize("input_dim", [(3, 8, 8), (2, 4, 12)])
def test_input_gradient_matches_centred_differences(normalization, input_dim):
    model = tiny_vgg(normalization, input_dim=input_dim)
    X = random_images(model, 2)
    dscores = np.random.default_rng(1).standard_normal((2, model.num_classes))

    dX = model.input_gradient(X, dscores)
    numeric = numerical_gradient(lambda x: np.sum(dscores * model.loss(x)), X)

    assert dX.shape == X.shape and dX.dtype == np.float64
    assert rel_error(dX, numeric) < 1e-7


def test_input_gradient_runs_in_test_mode_and_changes_nothing():
    model = tiny_vgg("batchnorm")
    X = random_images(model, 3)
    running = [dict(p) for p in model.bn_params]
    X_before, params_before = X.copy(), {k: v.copy() for k, v in model.params.items()}
    one_image = model.input_gradient(X[:1], np.eye(1, model.num_classes))
    batch = model.input_gradient(X, np.eye(3, model.num_classes))
    np.testing.assert_allclose(batch[:1], one_image, rtol=1e-10)  # no batch statistics
    np.testing.assert_array_equal(X, X_before)
    for k, v in params_before.items():
        np.testing.assert_array_equal(model.params[k], v)
    for before, after in zip(running, model.bn_params, strict=True):
        np.testing.assert_array_equal(before["running_mean"], after["running_mean"])


def test_input_gradient_rejects_bad_inputs():
    model = tiny_vgg()
    X = random_images(model, 2)
    with pytest.raises(ValueError, match=r"TinyVGG.input_gradient: dscores has shape \(2, 3\)"):
        model.input_gradient(X, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="TinyVGG.input_gradient: X has shape"):
        model.input_gradient(X[:, :2], np.zeros((2, 4)))
    with pytest.raises(TypeError, match="TinyVGG.input_gradient: dscores has dtype int64"):
        model.input_gradient(X, np.zeros((2, 4), dtype=np.int64))
