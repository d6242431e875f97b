"""Tests for course/layers/norm.py: (spatial) batchnorm statistics, state and errors."""

import numpy as np
import pytest

from course.gradcheck import gradient_errors
from course.layers import (
    batchnorm_backward,
    batchnorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)


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
    errors = gradient_errors(
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


# ----------------------------------------------------------------------------- spatial batchnorm


def _images(seed=0, N=4, C=3, H=5, W=6):
    """Images whose channels have very different means and scales, and a spatial trend."""
    rng = np.random.default_rng(seed)
    scale = np.array([1.0, 3.0, 0.5, 2.0, 4.0])[:C].reshape(1, C, 1, 1)
    shift = np.array([-2.0, 7.0, 0.0, 5.0, -9.0])[:C].reshape(1, C, 1, 1)
    trend = np.linspace(-1, 1, H * W).reshape(1, 1, H, W)
    return scale * (rng.standard_normal((N, C, H, W)) + trend) + shift


def test_spatial_statistics_are_per_channel_over_batch_and_positions():
    x = _images()
    gamma, beta = np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 3.0])
    out, _ = spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
    assert out.shape == x.shape
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), beta, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), gamma, rtol=1e-4)  # eps = 1e-5
    # By hand: one mean and variance per channel, taken over N, H and W together.
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    var = x.var(axis=(0, 2, 3), keepdims=True)
    expected = gamma.reshape(1, 3, 1, 1) * (x - mean) / np.sqrt(var + 1e-5)
    np.testing.assert_allclose(out, expected + beta.reshape(1, 3, 1, 1), atol=1e-12)
    # Not per position: the spatial trend of the input survives normalisation.
    assert np.ptp(out.mean(axis=0)[0]) > 0.5


def test_spatial_batchnorm_is_batchnorm_on_channel_rows():
    x = _images(seed=1)
    gamma, beta = np.array([0.5, 1.5, -1.0]), np.array([1.0, 0.0, 2.0])
    out, cache = spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
    rows = x.transpose(0, 2, 3, 1).reshape(-1, 3)  # (N*H*W, C)
    out_rows, row_cache = batchnorm_forward(rows, gamma, beta, {"mode": "train"})
    np.testing.assert_allclose(out, out_rows.reshape(4, 5, 6, 3).transpose(0, 3, 1, 2))
    dout = np.random.default_rng(2).standard_normal(x.shape)
    dx, dgamma, dbeta = spatial_batchnorm_backward(dout, cache)
    drows = dout.transpose(0, 2, 3, 1).reshape(-1, 3)
    dx_rows, dgamma_rows, dbeta_rows = batchnorm_backward(drows, row_cache)
    np.testing.assert_allclose(dx, dx_rows.reshape(4, 5, 6, 3).transpose(0, 3, 1, 2))
    np.testing.assert_allclose(dgamma, dgamma_rows)
    np.testing.assert_allclose(dbeta, dbeta_rows)
    assert dx.flags.c_contiguous and out.flags.c_contiguous


def test_spatial_running_averages_are_new_arrays_and_inputs_untouched():
    x = _images(seed=3)
    gamma, beta = np.ones(3), np.zeros(3)
    old_mean, old_var = np.zeros(3), np.ones(3)
    bn_param = {"mode": "train", "momentum": 0.7, "running_mean": old_mean, "running_var": old_var}
    x_copy = x.copy()
    spatial_batchnorm_forward(x, gamma, beta, bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], 0.3 * x.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(bn_param["running_var"], 0.7 + 0.3 * x.var(axis=(0, 2, 3)))
    assert bn_param["running_mean"].shape == bn_param["running_var"].shape == (3,)
    assert not old_mean.any() and np.all(old_var == 1)  # replaced, not edited
    np.testing.assert_array_equal(x, x_copy)
    assert np.all(gamma == 1) and not beta.any()


def test_spatial_default_running_averages_start_at_zero_and_one():
    x = _images(seed=4)
    bn_param = {"mode": "train"}  # momentum 0.9 by default
    spatial_batchnorm_forward(x, np.ones(3), np.zeros(3), bn_param)
    np.testing.assert_allclose(bn_param["running_mean"], 0.1 * x.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(bn_param["running_var"], 0.9 + 0.1 * x.var(axis=(0, 2, 3)))


def test_spatial_test_mode_uses_running_averages_and_leaves_them():
    running_mean, running_var = np.array([1.0, -2.0, 0.5]), np.array([4.0, 0.25, 9.0])
    bn_param = {"mode": "test", "running_mean": running_mean, "running_var": running_var}
    x = _images(seed=5)
    gamma, beta = np.array([2.0, 1.0, -1.0]), np.array([0.0, 1.0, 2.0])
    out, _ = spatial_batchnorm_forward(x, gamma, beta, bn_param)
    c = (1, 3, 1, 1)
    expected = gamma.reshape(c) * (x - running_mean.reshape(c)) / np.sqrt(
        running_var.reshape(c) + 1e-5
    ) + beta.reshape(c)
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    assert bn_param["running_mean"] is running_mean and bn_param["running_var"] is running_var
    np.testing.assert_array_equal(running_mean, [1.0, -2.0, 0.5])
    # An image's output does not depend on the rest of its batch.
    single, _ = spatial_batchnorm_forward(x[:1], gamma, beta, bn_param)
    np.testing.assert_allclose(single, out[:1], rtol=1e-12)


def test_spatial_running_averages_converge_to_the_data_statistics():
    bn_param = {"mode": "train"}
    for seed in range(100):
        spatial_batchnorm_forward(_images(seed, N=8), np.ones(3), np.zeros(3), bn_param)
    bn_param["mode"] = "test"
    out, _ = spatial_batchnorm_forward(_images(999, N=32), np.ones(3), np.zeros(3), bn_param)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=0.1)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), 1, atol=0.1)


@pytest.mark.parametrize("mode", ["train", "test"])
@pytest.mark.parametrize("shape", [(2, 3, 2, 3), (3, 2, 3, 1), (1, 1, 4, 2)])
def test_spatial_gradients(mode, shape):
    N, C, H, W = shape
    x = _images(seed=6, N=N, C=C, H=H, W=W)
    rng = np.random.default_rng(7)
    bn_param = {
        "mode": mode,
        "running_mean": rng.standard_normal(C),
        "running_var": rng.uniform(0.5, 2.0, C),
    }
    errors = gradient_errors(
        spatial_batchnorm_forward,
        spatial_batchnorm_backward,
        [x, rng.standard_normal(C), rng.standard_normal(C), bn_param],
    )
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("mode", ["train", "test"])
def test_spatial_float32_stays_float32(mode):
    x = _images().astype(np.float32)
    bn_param = {"mode": mode}
    out, cache = spatial_batchnorm_forward(
        x, np.ones(3, np.float32), np.zeros(3, np.float32), bn_param
    )
    grads = spatial_batchnorm_backward(np.ones_like(out), cache)
    assert out.dtype == np.float32
    assert [g.dtype for g in grads] == [np.float32] * 3
    assert [g.shape for g in grads] == [x.shape, (3,), (3,)]


@pytest.mark.parametrize(
    "x, gamma, beta, bn_param, error, match",
    [
        (
            np.zeros((4, 3)),
            np.ones(3),
            np.zeros(3),
            {"mode": "train"},
            ValueError,
            r"spatial_batchnorm_forward: x has 2 dims \(4, 3\); expected 4 \(N, C, H, W\)",
        ),
        (
            np.zeros((2, 3, 4, 4)),
            np.ones(4),
            np.zeros(3),
            {"mode": "train"},
            ValueError,
            r"gamma has shape \(4,\); expected \(3,\), one per channel of x of shape "
            r"\(2, 3, 4, 4\)",
        ),
        (
            np.zeros((2, 3, 4, 4)),
            np.ones(3),
            np.zeros((3, 1)),
            {"mode": "train"},
            ValueError,
            r"beta has shape \(3, 1\); expected \(3,\)",
        ),
        (
            np.zeros((2, 3, 4, 4), dtype=np.int64),
            np.ones(3),
            np.zeros(3),
            {"mode": "train"},
            TypeError,
            r"spatial_batchnorm_forward: x has dtype int64; expected a floating-point array",
        ),
        (
            np.zeros((2, 3, 4, 4)),
            np.ones(3),
            np.zeros(3),
            {"mode": "eval"},
            ValueError,
            r"bn_param\['mode'\] must be 'train' or 'test', got 'eval'",
        ),
        (
            np.zeros((2, 3, 4, 4)),
            np.ones(3),
            np.zeros(3),
            {"mode": "train", "momentun": 0.9},
            ValueError,
            r"unknown bn_param keys \['momentun'\]",
        ),
        (
            np.zeros((2, 3, 4, 4)),
            np.ones(3),
            np.zeros(3),
            None,
            TypeError,
            r"bn_param must be a dict",
        ),
        (
            np.zeros((1, 3, 1, 1)),
            np.ones(3),
            np.zeros(3),
            {"mode": "train"},
            ValueError,
            r"at least 2 values per channel",
        ),
    ],
)
def test_spatial_errors(x, gamma, beta, bn_param, error, match):
    with pytest.raises(error, match=match):
        spatial_batchnorm_forward(x, gamma, beta, bn_param)


def test_spatial_backward_rejects_dout_of_the_wrong_shape():
    out, cache = spatial_batchnorm_forward(_images(), np.ones(3), np.zeros(3), {"mode": "train"})
    with pytest.raises(
        ValueError,
        match=r"spatial_batchnorm_backward: dout has shape \(4, 3, 6, 5\); expected "
        r"\(4, 3, 5, 6\)",
    ):
        spatial_batchnorm_backward(np.zeros((4, 3, 6, 5)), cache)
    with pytest.raises(TypeError, match=r"spatial_batchnorm_backward: dout has dtype int64"):
        spatial_batchnorm_backward(np.zeros(out.shape, dtype=np.int64), cache)


@pytest.mark.parametrize(
    "forward, x, size",
    [(batchnorm_forward, _x(), 4), (spatial_batchnorm_forward, _images(), 3)],
    ids=["batchnorm", "spatial"],
)
@pytest.mark.parametrize(
    "setting, match",
    [
        ({"eps": 0}, r"bn_param\['eps'\] must be a small positive number \(default 1e-5\); got 0"),
        ({"eps": -1e-5}, r"bn_param\['eps'\] must be a small positive number"),
        ({"eps": np.nan}, r"bn_param\['eps'\] must be a small positive number"),
        ({"eps": np.inf}, r"bn_param\['eps'\] must be a small positive number"),
        ({"momentum": 1.5}, r"bn_param\['momentum'\] must be a number in \[0, 1\].*got 1.5"),
        ({"momentum": -0.1}, r"bn_param\['momentum'\] must be a number in \[0, 1\]"),
        ({"momentum": np.nan}, r"bn_param\['momentum'\] must be a number in \[0, 1\]"),
        ({"momentum": "0.9"}, r"bn_param\['momentum'\] must be a number in \[0, 1\]"),
    ],
)
@pytest.mark.parametrize("mode", ["train", "test"])
def test_eps_and_momentum_out_of_range_are_refused(forward, x, size, setting, match, mode):
    name = forward.__name__
    with pytest.raises(ValueError, match=rf"{name}: {match}"):
        forward(x, np.ones(size), np.zeros(size), {"mode": mode, **setting})


@pytest.mark.parametrize("momentum", [0, 1, 0.0, 1.0])
def test_momentum_at_the_ends_of_its_range_is_accepted(momentum):
    batchnorm_forward(_x(), np.ones(4), np.zeros(4), {"mode": "train", "momentum": momentum})
    spatial_batchnorm_forward(
        _images(), np.ones(3), np.zeros(3), {"mode": "train", "momentum": momentum}
    )


@pytest.mark.parametrize("key", ["running_mean", "running_var"])
def test_running_averages_of_another_layer_are_refused(key):
    bn_param = {"mode": "test", key: np.zeros(3)}  # made for 3 features, x has 4
    with pytest.raises(
        ValueError, match=rf"bn_param\['{key}'\] has shape \(3,\); expected \(4,\)"
    ):
        batchnorm_forward(_x(), np.ones(4), np.zeros(4), bn_param)
