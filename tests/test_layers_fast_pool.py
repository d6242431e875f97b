"""Tests for course/layers/fast_pool.py: fast max pooling equals the naive one, on both paths.

Every property runs twice: on the compiled extension ``course.layers._im2col``
and on the numpy fallback, selected by setting ``course.layers._kernels._im2col``
to None. Shapes are drawn from the output size, pool size and stride, and the
input size is derived from them, so that every drawn combination is valid.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from layer_testing import PATHS, fast_path, input_size, output_size_bounds

from course.gradcheck import gradient_errors, rel_error
from course.layers import max_pool_backward_naive, max_pool_forward_naive
from course.layers.fast_pool import max_pool_backward_fast, max_pool_forward_fast

TOLERANCE = {np.float64: 1e-9, np.float32: 1e-4}
PROPERTY = settings(max_examples=60, deadline=None, derandomize=True)


@st.composite
def pool_cases(draw, non_square=False):
    """(N, C, H, W, pool_height, pool_width, stride, dtype), every combination valid."""
    N, C = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = draw(st.integers(1, 3))
    ph = draw(st.integers(1, 4))
    pw = draw(st.integers(1, 4).filter(lambda k: k != ph) if non_square else st.integers(1, 4))
    H = input_size(draw(st.integers(*output_size_bounds(ph, stride, 0))), ph, stride, 0)
    W_outs = st.integers(*output_size_bounds(pw, stride, 0))
    if non_square:
        W_outs = W_outs.filter(lambda w_out: input_size(w_out, pw, stride, 0) != H)
    W = input_size(draw(W_outs), pw, stride, 0)
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    return N, C, H, W, ph, pw, stride, dtype


def _pool_input(case, seed, ties=False):
    N, C, H, W, ph, pw, stride, dtype = case
    rng = np.random.default_rng(seed)
    if ties:  # few distinct values, as after a ReLU: many windows have tied maxima
        x = np.maximum(rng.integers(-2, 3, (N, C, H, W)), 0)
    else:
        x = rng.standard_normal((N, C, H, W))
    return x.astype(dtype), {"pool_height": ph, "pool_width": pw, "stride": stride}


# ----------------------------------------------------------------------------- fast == naive


def _check_pool_matches_naive(case, seed, ties, path):
    x, pool_param = _pool_input(case, seed, ties)
    dtype = case[-1]
    with fast_path(path):
        out, cache = max_pool_forward_fast(x, pool_param)
        dout = np.random.default_rng(seed + 1).standard_normal(out.shape).astype(dtype)
        dx = max_pool_backward_fast(dout, cache)
    expected_out, naive_cache = max_pool_forward_naive(x, pool_param)
    expected_dx = max_pool_backward_naive(dout, naive_cache)
    assert out.dtype == dx.dtype == dtype
    np.testing.assert_array_equal(out, expected_out)  # a maximum is exact
    assert dx.shape == x.shape
    # Same positions; overlapping windows may add their gradients in another order.
    assert rel_error(dx, expected_dx) < TOLERANCE[dtype]
    np.testing.assert_array_equal(dx != 0, expected_dx != 0)


@pytest.mark.parametrize("path", PATHS)
@PROPERTY
@given(case=pool_cases(), seed=st.integers(0, 2**32 - 2), ties=st.booleans())
def test_max_pool_fast_matches_naive(path, case, seed, ties):
    _check_pool_matches_naive(case, seed, ties, path)


@pytest.mark.parametrize("path", PATHS)
@PROPERTY
@given(case=pool_cases(non_square=True), seed=st.integers(0, 2**32 - 2), ties=st.booleans())
def test_max_pool_fast_matches_naive_non_square(path, case, seed, ties):
    N, C, H, W, ph, pw, stride, dtype = case
    assert ph != pw and H != W
    _check_pool_matches_naive(case, seed, ties, path)


@pytest.mark.parametrize("path", PATHS)
def test_max_pool_ties_go_to_the_first_maximum(path):
    x = np.zeros((1, 1, 4, 3))
    x[0, 0, 1, 1] = x[0, 0, 2, 0] = 1.0  # tied maxima shared by the overlapping windows
    pool_param = {"pool_height": 3, "pool_width": 2, "stride": 1}
    with fast_path(path):
        out, cache = max_pool_forward_fast(x, pool_param)
        dx = max_pool_backward_fast(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), cache)
    np.testing.assert_array_equal(out[0, 0], np.ones((2, 2)))
    expected = np.zeros((4, 3))
    expected[1, 1] = 1 + 2 + 3 + 4  # (1, 1) comes before (2, 0) in row-major order
    np.testing.assert_array_equal(dx[0, 0], expected)


@pytest.mark.parametrize("path", ["compiled", "numpy"])
def test_max_pool_propagates_nan_like_the_naive_layer(path):
    x = np.array([[1.0, np.nan], [3.0, 2.0]]).reshape(1, 1, 2, 2)
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    expected, _ = max_pool_forward_naive(x, pool_param)
    assert np.isnan(expected).all()
    with fast_path(path):
        out, _ = max_pool_forward_fast(x, pool_param)
    assert np.isnan(out).all(), out


# ----------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "x_shape, ph, pw, stride", [((2, 2, 4, 6), 2, 2, 2), ((2, 2, 4, 3), 3, 2, 1)]
)
def test_max_pool_fast_gradients(path, x_shape, ph, pw, stride):
    rng = np.random.default_rng(1)
    x = rng.permutation(int(np.prod(x_shape))).reshape(x_shape) * 0.1  # no ties
    pool_param = {"pool_height": ph, "pool_width": pw, "stride": stride}
    with fast_path(path):
        errors = gradient_errors(max_pool_forward_fast, max_pool_backward_fast, [x, pool_param])
    assert errors["d0"] < 1e-7, errors


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "x_shape, pool_param, match",
    [
        (
            (1, 2, 3, 6),
            {"pool_height": 4, "pool_width": 2, "stride": 1},
            r"max_pool_forward_fast: pool_height 4 is larger than the input height 3 "
            r"\(x of shape \(1, 2, 3, 6\)\)",
        ),
        (
            (1, 2, 4, 5),
            {"pool_height": 2, "pool_width": 2, "stride": 2},
            r"max_pool_forward_fast: stride 2 does not tile the input width: 5 - 2 = 3 is not "
            r"a multiple of 2 \(x of shape \(1, 2, 4, 5\)\)",
        ),
    ],
)
def test_max_pool_fast_invalid_combinations(path, x_shape, pool_param, match):
    with fast_path(path), pytest.raises(ValueError, match=match):
        max_pool_forward_fast(np.zeros(x_shape), pool_param)
