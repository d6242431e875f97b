"""Tests for course/layers/fc.py: values, shapes, dtypes, purity and error messages.

Gradients of every layer pair are checked in tests/test_gradcheck.py.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course.gradcheck import gradient_errors
from course.layers import (
    affine_backward,
    affine_forward,
    affine_relu_backward,
    affine_relu_forward,
    relu_backward,
    relu_forward,
)

shapes = st.tuples(
    st.integers(1, 5),
    st.lists(st.integers(1, 4), min_size=1, max_size=3),
    st.integers(1, 6),
)


@settings(max_examples=40, deadline=None)
@given(shapes, st.sampled_from([np.float32, np.float64]), st.integers(0, 2**32 - 1))
def test_affine_matches_einsum_on_random_shapes(shape, dtype, seed):
    N, trailing, M = shape
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, *trailing)).astype(dtype)
    w = rng.standard_normal((int(np.prod(trailing)), M)).astype(dtype)
    b = rng.standard_normal(M).astype(dtype)
    out, _ = affine_forward(x, w, b)
    expected = np.einsum("nd,dm->nm", x.reshape(N, -1).astype(np.float64), w) + b
    assert out.dtype == dtype
    np.testing.assert_allclose(
        out,
        expected,
        rtol=1e-4 if dtype == np.float32 else 1e-12,
        atol=1e-4 if dtype == np.float32 else 1e-12,
    )
    dx, dw, db = affine_backward(np.ones_like(out), _)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    assert dx.dtype == dw.dtype == db.dtype == dtype


@settings(max_examples=15, deadline=None)
@given(shapes, st.integers(0, 2**32 - 1))
def test_affine_gradients_on_random_shapes(shape, seed):
    N, trailing, M = shape
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, *trailing))
    w = rng.standard_normal((int(np.prod(trailing)), M))
    b = rng.standard_normal(M)
    errors = gradient_errors(affine_forward, affine_backward, [x, w, b], seed=seed)
    assert max(errors.values()) < 1e-7, errors


def test_relu_values_and_gate_on_input():
    x = np.array([[-1.0, 0.0, 2.0]])
    out, cache = relu_forward(x)
    np.testing.assert_array_equal(out, [[0.0, 0.0, 2.0]])
    dx = relu_backward(np.array([[5.0, 6.0, 7.0]]), cache)
    np.testing.assert_array_equal(dx, [[0.0, 0.0, 7.0]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layers_keep_dtype_and_do_not_mutate(dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3, 2)).astype(dtype)
    w = rng.standard_normal((6, 5)).astype(dtype)
    b = rng.standard_normal(5).astype(dtype)
    copies = [a.copy() for a in (x, w, b)]
    out, cache = affine_relu_forward(x, w, b)
    dout = rng.standard_normal(out.shape).astype(dtype)
    dout_copy = dout.copy()
    grads = affine_relu_backward(dout, cache)
    assert out.dtype == dtype and all(g.dtype == dtype for g in grads)
    for original, copy in zip((x, w, b, dout), (*copies, dout_copy), strict=True):
        np.testing.assert_array_equal(original, copy)


def test_affine_shape_mismatch_names_both_shapes():
    with pytest.raises(
        ValueError,
        match=r"x of shape \(2, 3, 4\) flattens to rows of D=12, "
        r"but w has shape \(10, 5\) and expects D=10",
    ):
        affine_forward(np.zeros((2, 3, 4)), np.zeros((10, 5)), np.zeros(5))


@pytest.mark.parametrize(
    "x, w, b, error, match",
    [
        (
            np.zeros((2, 3)),
            np.zeros((3, 4)),
            np.zeros(5),
            ValueError,
            r"b has shape \(5,\); expected \(4,\)",
        ),
        (np.zeros(3), np.zeros((3, 4)), np.zeros(4), ValueError, "at least 2 dims"),
        (np.zeros((2, 3)), np.zeros((3, 4, 1)), np.zeros(4), ValueError, r"w has 3 dims"),
        (
            np.zeros((2, 3), dtype=int),
            np.zeros((3, 4)),
            np.zeros(4),
            TypeError,
            "x has dtype int64",
        ),
        (
            [[0.0, 1.0]],
            np.zeros((2, 4)),
            np.zeros(4),
            TypeError,
            "x must be a numpy array, got list",
        ),
    ],
)
def test_affine_bad_inputs(x, w, b, error, match):
    with pytest.raises(error, match=match):
        affine_forward(x, w, b)


def test_backward_refuses_dout_of_the_wrong_shape():
    _, cache = affine_forward(np.zeros((2, 3)), np.zeros((3, 4)), np.zeros(4))
    with pytest.raises(ValueError, match=r"dout has shape \(4, 2\); expected \(2, 4\)"):
        affine_backward(np.zeros((4, 2)), cache)


@pytest.mark.parametrize("x_shape", [(0, 3), (0, 3, 1), (0, 1, 3, 1)])
@pytest.mark.parametrize("forward", [affine_forward, affine_relu_forward])
def test_an_empty_batch_is_refused_by_name(forward, x_shape):
    message = r"affine_forward: x has 0 examples \(shape \(0,.*\)\); a batch needs at least one"
    with pytest.raises(ValueError, match=message):
        forward(np.zeros(x_shape), np.zeros((3, 4)), np.zeros(4))
