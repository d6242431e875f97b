"""Tests for course/layers/dropout.py: inverted dropout's statistics and determinism."""

import numpy as np
import pytest

from course.layers import dropout_backward, dropout_forward


@pytest.mark.parametrize("p", [0.25, 0.5, 0.9])
def test_keeps_a_fraction_p_and_preserves_the_mean(p):
    x = np.random.default_rng(0).uniform(1, 2, size=(500, 400))
    out, _ = dropout_forward(x, {"p": p, "mode": "train", "seed": 1})
    kept = out != 0
    assert abs(kept.mean() - p) < 0.01
    np.testing.assert_allclose(out[kept], x[kept] / p)
    assert abs(out.mean() / x.mean() - 1) < 0.01


def test_test_mode_is_identity_and_backward_passes_dout():
    x = np.arange(6.0).reshape(2, 3)
    out, cache = dropout_forward(x, {"p": 0.3, "mode": "test"})
    np.testing.assert_array_equal(out, x)
    dout = np.ones_like(x)
    np.testing.assert_array_equal(dropout_backward(dout, cache), dout)


def test_same_seed_same_mask_and_backward_uses_it():
    x = np.ones((20, 30))
    a, cache = dropout_forward(x, {"p": 0.5, "mode": "train", "seed": 7})
    b, _ = dropout_forward(x, {"p": 0.5, "mode": "train", "seed": 7})
    c, _ = dropout_forward(x, {"p": 0.5, "mode": "train", "seed": 8})
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(dropout_backward(np.ones_like(x), cache), a)


def test_float32_stays_float32():
    out, cache = dropout_forward(
        np.ones((3, 3), np.float32), {"p": 0.5, "mode": "train", "seed": 0}
    )
    assert out.dtype == np.float32
    assert dropout_backward(np.ones((3, 3), np.float32), cache).dtype == np.float32


@pytest.mark.parametrize(
    "param, match",
    [
        ({"p": 0.0, "mode": "train"}, "keep probability"),
        ({"p": 1.5, "mode": "train"}, "keep probability"),
        ({"p": 0.5, "mode": "eval"}, "'mode' must be 'train' or 'test'"),
        ({"p": 0.5, "mode": "train", "sead": 1}, "unknown dropout_param keys"),
    ],
)
def test_bad_dropout_param(param, match):
    with pytest.raises(ValueError, match=match):
        dropout_forward(np.ones((2, 2)), param)
