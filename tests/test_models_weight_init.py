"""Tests for course/models/weight_init.py: the one weight initialisation rule of the models."""

import numpy as np
import pytest

from course.models.weight_init import init_weight


def test_a_fixed_scale_draws_std_times_standard_normal():
    w = init_weight(np.random.default_rng(3), (6, 4), 0.01, np.float64)
    expected = 0.01 * np.random.default_rng(3).standard_normal((6, 4))
    np.testing.assert_array_equal(w, expected)


@pytest.mark.parametrize(
    "shape, fan_in",
    [((200, 50), 200), ((64, 3, 5, 3), 3 * 5 * 3)],  # a matrix (D, M); filters (F, C, HH, WW)
)
def test_he_uses_the_fan_in_of_matrices_and_filters(shape, fan_in):
    w = init_weight(np.random.default_rng(0), shape, "he", np.float64)
    expected = np.sqrt(2.0 / fan_in) * np.random.default_rng(0).standard_normal(shape)
    np.testing.assert_array_equal(w, expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_draw_is_float64_then_cast(dtype):
    w = init_weight(np.random.default_rng(1), (5, 7), "he", dtype)
    assert w.dtype == dtype and w.shape == (5, 7)
    expected = np.sqrt(2.0 / 5) * np.random.default_rng(1).standard_normal((5, 7))
    np.testing.assert_array_equal(w, expected.astype(dtype))


@pytest.mark.parametrize("weight_scale", [-1.0, 0, "xavier", None])
def test_bad_weight_scales_are_named(weight_scale):
    with pytest.raises(ValueError, match="weight_scale must be a positive number or 'he'"):
        init_weight(np.random.default_rng(0), (2, 2), weight_scale, np.float32)
