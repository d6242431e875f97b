"""Tests for course/layers/losses.py: values, stability, invariances and errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course.gradcheck import numerical_gradient, rel_error
from course.layers import softmax_loss, svm_loss


def _scores(seed, N=6, C=5, scale=1.0):
    rng = np.random.default_rng(seed)
    return scale * rng.standard_normal((N, C)), rng.integers(0, C, size=N)


def test_softmax_loss_of_equal_scores_is_log_c():
    loss, dx = softmax_loss(np.zeros((4, 10)), np.array([0, 3, 9, 2]))
    assert loss == pytest.approx(np.log(10))
    np.testing.assert_allclose(dx.sum(axis=1), 0, atol=1e-15)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(-1e4, 1e4))
def test_softmax_is_invariant_to_a_shift_and_stable(seed, shift):
    x, y = _scores(seed)
    loss, dx = softmax_loss(x, y)
    shifted_loss, shifted_dx = softmax_loss(x + shift, y)
    assert shifted_loss == pytest.approx(loss, rel=1e-6, abs=1e-6)
    np.testing.assert_allclose(shifted_dx, dx, atol=1e-9)


def test_softmax_with_huge_scores_is_finite():
    x = np.array([[1000.0, 0.0, -1000.0]])
    loss, dx = softmax_loss(x, np.array([2]))
    assert loss == pytest.approx(2000.0)
    assert np.all(np.isfinite(dx))


def test_svm_loss_known_value_and_zero_when_margin_met():
    x = np.array([[3.0, 1.0, 2.5], [0.0, 5.0, 0.0]])
    loss, _ = svm_loss(x, np.array([0, 1]))
    assert loss == pytest.approx((0 + 0.5) / 2)
    loss, dx = svm_loss(np.array([[5.0, 1.0, 2.0]]), np.array([0]))
    assert loss == 0 and not dx.any()


@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
def test_loss_gradients_against_numerical(loss_fn):
    x, y = _scores(3, N=8, C=6, scale=2.0)
    _, dx = loss_fn(x, y)
    numeric = numerical_gradient(lambda s: loss_fn(s, y)[0], x)
    assert rel_error(numeric, dx) < 1e-7


@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
def test_loss_keeps_float32(loss_fn):
    x, y = _scores(1)
    _, dx = loss_fn(x.astype(np.float32), y)
    assert dx.dtype == np.float32


@pytest.mark.parametrize("loss_fn", [softmax_loss, svm_loss])
@pytest.mark.parametrize(
    "x, y, error, match",
    [
        (np.zeros((3, 4)), np.array([0, 1]), ValueError, r"y has shape \(2,\); expected \(3,\)"),
        (np.zeros((2, 4)), np.array([0, 4]), ValueError, r"labels must lie in \[0, 4\)"),
        (np.zeros((2, 4)), np.array([0.0, 1.0]), TypeError, "integer class labels"),
        (np.zeros(4), np.array([0]), ValueError, r"x has 1 dims"),
        (np.zeros((0, 4)), np.zeros(0, dtype=int), ValueError, "empty batch"),
    ],
)
def test_loss_bad_inputs(loss_fn, x, y, error, match):
    with pytest.raises(error, match=match):
        loss_fn(x, y)
