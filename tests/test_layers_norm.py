"""Tests for course/layers/norm.py: batchnorm statistics, state and errors."""

import numpy as np
import pytest

from course.gradcheck import check_backward
from course.layers import batchnorm_backward, batchnorm_forward


def _x(seed=0, N=64, D=4):
    rng = np.random.default_rng(seed)
    return 3 * rng.standard_normal((N, D)) + 7


def test_train_mode_normalises_then_scales_and_shifts():
    x = _x()
    gamma, beta = np.array([1.0, 2.0, 0.5, 3.0]), np.array([0.0, -1.0, 2.0, 5.0])
    out, _ = batchnorm_forward(x, gamma, beta, {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), gamma, rtol=1e-5)


def test_running_averages_are_new_arrays_and_inputs_untouched():
    x = _x()
    gamma, beta = np.ones(4), np.zeros(4)
    old_mean, old_var = np.zeros(4), np.ones(4)
    bn_param = {"mode": "train", "momentum": 0.8, "running_mean": old_mean, "running_var": old_var}
    x_copy = x.copy()
    batchnorm_forward(x, gamma, beta, bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], 0.2 * x.mean(axis=0))
    np.testing.assert_allclose(bn_param["running_var"], 0.8 + 0.2 * x.var(axis=0))
    assert not old_mean.any() and np.all(old_var == 1)  # replaced, not edited
    np.testing.assert_array_equal(x, x_copy)


def test_test_mode_uses_running_averages_and_leaves_them():
    bn_param = {"mode": "train"}
    for seed in range(200):
        batchnorm_forward(_x(seed), np.ones(4), np.zeros(4), bn_param)
    bn_param["mode"] = "test"
    before = dict(bn_param)
    out, _ = batchnorm_forward(_x(999, N=1000), np.ones(4), np.zeros(4), bn_param)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=0.15)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=0.1)
    assert bn_param["running_mean"] is before["running_mean"]


@pytest.mark.parametrize("mode", ["train", "test"])
def test_gradients(mode):
    x = _x(seed=5, N=7, D=3)
    bn_param = {"mode": mode, "running_mean": np.full(3, 6.0), "running_var": np.full(3, 8.0)}
    errors = check_backward(
        batchnorm_forward,
        batchnorm_backward,
        [x, np.array([1.0, 2.0, -1.0]), np.ones(3), bn_param],
    )
    assert max(errors.values()) < 1e-7, errors


def test_float32_stays_float32():
    x = _x().astype(np.float32)
    out, cache = batchnorm_forward(
        x, np.ones(4, np.float32), np.zeros(4, np.float32), {"mode": "train"}
    )
    grads = batchnorm_backward(np.ones_like(out), cache)
    assert out.dtype == np.float32 and all(g.dtype == np.float32 for g in grads)


@pytest.mark.parametrize(
    "bn_param, match",
    [
        ({}, "bn_param\\['mode'\\] must be 'train' or 'test'"),
        ({"mode": "train", "momentun": 0.9}, "unknown bn_param keys \\['momentun'\\]"),
        ("train", "bn_param must be a dict"),
    ],
)
def test_bad_bn_param(bn_param, match):
    with pytest.raises((ValueError, TypeError), match=match):
        batchnorm_forward(_x(), np.ones(4), np.zeros(4), bn_param)


def test_gamma_shape_and_single_row_batch_errors():
    with pytest.raises(ValueError, match=r"gamma has shape \(3,\); expected \(4,\)"):
        batchnorm_forward(_x(), np.ones(3), np.zeros(4), {"mode": "train"})
    with pytest.raises(ValueError, match="at least 2 rows"):
        batchnorm_forward(_x(N=1), np.ones(4), np.zeros(4), {"mode": "train"})
