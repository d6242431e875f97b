"""Tests for course/layers/fast_conv.py: fast convolution equals the naive one, on both paths.

Every property runs twice: on the compiled extension ``course.layers._im2col``
and on the numpy fallback, selected by setting ``course.layers._kernels._im2col``
to None. Shapes are drawn from the output size, kernel, stride and pad, and the
input size is derived from them, so that every drawn combination is valid.
The sandwiches and the tests that run a convolution into a pool live here too.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from layer_testing import PATHS, fast_path, input_size, output_size_bounds

from course.gradcheck import gradient_errors, rel_error
from course.layers import (
    conv_backward_naive,
    conv_forward_naive,
    max_pool_backward_naive,
    max_pool_forward_naive,
)
from course.layers.fast_conv import (
    col2im,
    conv_backward_fast,
    conv_forward_fast,
    conv_relu_backward,
    conv_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
    im2col,
)
from course.layers.fast_pool import max_pool_backward_fast, max_pool_forward_fast

TOLERANCE = {np.float64: 1e-9, np.float32: 1e-4}
PROPERTY = settings(max_examples=60, deadline=None, derandomize=True)


def _size_out(size, kernel, stride, pad):
    return 1 + (size + 2 * pad - kernel) // stride


@st.composite
def conv_cases(draw, non_square=False):
    """(N, C, H, W, F, HH, WW, stride, pad, dtype), every combination valid."""
    N, C, F = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 4))
    stride, pad = draw(st.integers(1, 3)), draw(st.integers(0, 2))
    HH = draw(st.integers(1, 4))
    WW = draw(st.integers(1, 4).filter(lambda k: k != HH) if non_square else st.integers(1, 4))
    H_out = draw(st.integers(*output_size_bounds(HH, stride, pad)))
    H = input_size(H_out, HH, stride, pad)
    W_outs = st.integers(*output_size_bounds(WW, stride, pad))
    if non_square:
        W_outs = W_outs.filter(lambda w_out: input_size(w_out, WW, stride, pad) != H)
    W = input_size(draw(W_outs), WW, stride, pad)
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    return N, C, H, W, F, HH, WW, stride, pad, dtype


def _conv_inputs(case, seed):
    N, C, H, W, F, HH, WW, stride, pad, dtype = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((F, C, HH, WW)).astype(dtype)
    b = rng.standard_normal(F).astype(dtype)
    return x, w, b, {"stride": stride, "pad": pad}


# ----------------------------------------------------------------------------- fast == naive


def _check_conv_matches_naive(case, seed, path):
    x, w, b, conv_param = _conv_inputs(case, seed)
    dtype = case[-1]
    with fast_path(path):
        out, cache = conv_forward_fast(x, w, b, conv_param)
        dout = np.random.default_rng(seed + 1).standard_normal(out.shape).astype(dtype)
        grads = conv_backward_fast(dout, cache)
    expected_out, naive_cache = conv_forward_naive(x, w, b, conv_param)
    expected_grads = conv_backward_naive(dout, naive_cache)
    assert out.shape == expected_out.shape and out.dtype == dtype
    assert rel_error(out, expected_out) < TOLERANCE[dtype]
    for name, grad, expected in zip(("dx", "dw", "db"), grads, expected_grads, strict=True):
        assert grad.shape == expected.shape and grad.dtype == dtype, name
        assert rel_error(grad, expected) < TOLERANCE[dtype], (name, rel_error(grad, expected))


@pytest.mark.parametrize("path", PATHS)
@PROPERTY
@given(case=conv_cases(), seed=st.integers(0, 2**32 - 2))
def test_conv_fast_matches_naive(path, case, seed):
    _check_conv_matches_naive(case, seed, path)


@pytest.mark.parametrize("path", PATHS)
@PROPERTY
@given(case=conv_cases(non_square=True), seed=st.integers(0, 2**32 - 2))
def test_conv_fast_matches_naive_non_square(path, case, seed):
    N, C, H, W, F, HH, WW, stride, pad, dtype = case
    assert HH != WW and H != W
    _check_conv_matches_naive(case, seed, path)


# ----------------------------------------------------------------------------- im2col / col2im


@pytest.mark.parametrize("path", PATHS)
@PROPERTY
@given(case=conv_cases(), seed=st.integers(0, 2**32 - 2))
def test_im2col_and_col2im_are_adjoint(path, case, seed):
    N, C, H, W, F, HH, WW, stride, pad, dtype = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, H, W, C))  # NHWC
    H_out, W_out = _size_out(H, HH, stride, pad), _size_out(W, WW, stride, pad)
    c = rng.standard_normal((N * H_out * W_out, HH * WW * C))
    with fast_path(path):
        cols = im2col(x, HH, WW, pad, stride)
        back = col2im(c, x.shape, HH, WW, pad, stride)
    assert cols.shape == c.shape and back.shape == x.shape
    lhs, rhs = np.sum(cols * c), np.sum(x * back)
    assert abs(lhs - rhs) <= 1e-9 * max(1.0, np.abs(cols * c).sum())


@PROPERTY
@given(case=conv_cases(non_square=True), seed=st.integers(0, 2**32 - 2))
def test_compiled_and_numpy_im2col_have_the_same_layout(case, seed):
    N, C, H, W, F, HH, WW, stride, pad, dtype = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, H, W, C)).astype(dtype)
    c = rng.standard_normal(
        (N * _size_out(H, HH, stride, pad) * _size_out(W, WW, stride, pad), HH * WW * C)
    ).astype(dtype)
    cols, back = {}, {}
    for path in PATHS:
        with fast_path(path):
            cols[path] = im2col(x, HH, WW, pad, stride)
            back[path] = col2im(c, x.shape, HH, WW, pad, stride)
        assert cols[path].dtype == back[path].dtype == dtype
    np.testing.assert_array_equal(cols["compiled"], cols["numpy"])  # copies are exact
    np.testing.assert_allclose(back["compiled"], back["numpy"], rtol=1e-5, atol=1e-5)


def test_im2col_rows_by_hand():
    # One 3x3 image with 2 channels, a 2x1 kernel (non-square), stride 1, no padding.
    x = np.arange(18.0).reshape(1, 3, 3, 2)  # NHWC
    for path in PATHS:
        with fast_path(path):
            cols = im2col(x, 2, 1, 0, 1)
        assert cols.shape == (2 * 3, 2 * 1 * 2)
        # Row (i, j) = the window at (i, j) in the order (kh, kw, c).
        np.testing.assert_array_equal(cols[0], [0, 1, 6, 7], err_msg=path)
        np.testing.assert_array_equal(cols[5], [10, 11, 16, 17], err_msg=path)


# ----------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "x_shape, w_shape, stride, pad",
    [((2, 2, 5, 6), (3, 2, 3, 2), 1, 1), ((2, 3, 7, 5), (2, 3, 1, 3), 2, 1)],
)
def test_conv_fast_gradients(path, x_shape, w_shape, stride, pad):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    with fast_path(path):
        errors = gradient_errors(
            conv_forward_fast, conv_backward_fast, [x, w, b, {"stride": stride, "pad": pad}]
        )
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("path", PATHS)
def test_conv_relu_gradients(path):
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((2, 2, 4, 5)), rng.standard_normal((3, 2, 3, 2)), np.zeros(3)
    with fast_path(path):
        errors = gradient_errors(
            conv_relu_forward, conv_relu_backward, [x, w, b, {"stride": 1, "pad": 1}]
        )
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("path", PATHS)
def test_conv_relu_pool_gradients(path):
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((2, 2, 4, 6)), rng.standard_normal((3, 2, 3, 3)), np.zeros(3)
    pool_param = {"pool_height": 2, "pool_width": 3, "stride": 1}
    with fast_path(path):
        out, _ = conv_relu_pool_forward(x, w, b, {"stride": 1, "pad": 1}, pool_param)
        assert out.shape == (2, 3, 3, 4)
        errors = gradient_errors(
            conv_relu_pool_forward,
            conv_relu_pool_backward,
            [x, w, b, {"stride": 1, "pad": 1}, pool_param],
        )
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("path", PATHS)
def test_sandwiches_equal_their_parts(path):
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((2, 2, 4, 6)), rng.standard_normal((3, 2, 3, 3)), np.ones(3)
    conv_param, pool_param = (
        {"stride": 1, "pad": 1},
        {"pool_height": 2, "pool_width": 2, "stride": 2},
    )
    with fast_path(path):
        out, cache = conv_relu_pool_forward(x, w, b, conv_param, pool_param)
        dx, dw, db = conv_relu_pool_backward(np.ones_like(out), cache)
    a, naive_cache = conv_forward_naive(x, w, b, conv_param)
    r = np.maximum(a, 0)
    expected, pool_cache = max_pool_forward_naive(r, pool_param)
    dr = max_pool_backward_naive(np.ones_like(expected), pool_cache)
    expected_grads = conv_backward_naive(dr * (a > 0), naive_cache)
    assert rel_error(out, expected) < 1e-12
    for grad, expected_grad in zip((dx, dw, db), expected_grads, strict=True):
        assert rel_error(grad, expected_grad) < 1e-12


# ----------------------------------------------------------------------------- dtypes, layout


@pytest.mark.parametrize("path", PATHS)
def test_float32_stays_float32(path):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 6, 5)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 2)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    with fast_path(path):
        out, cache = conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
        grads = conv_backward_fast(np.ones_like(out), cache)
        pooled, pool_cache = max_pool_forward_fast(out, pool_param)
        dpool = max_pool_backward_fast(np.ones_like(pooled), pool_cache)
    assert out.shape == (2, 4, 6, 6)
    assert out.dtype == pooled.dtype == dpool.dtype == np.float32
    assert [g.dtype for g in grads] == [np.float32] * 3


@pytest.mark.parametrize("path", PATHS)
def test_fast_layers_do_not_mutate_their_inputs(path):
    rng = np.random.default_rng(6)
    x, w, b = rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((3, 2, 3, 2)), np.ones(3)
    conv_param, pool_param = (
        {"stride": 1, "pad": 1},
        {"pool_height": 3, "pool_width": 2, "stride": 1},
    )
    originals = [a.copy() for a in (x, w, b)]
    with fast_path(path):
        out, cache = conv_forward_fast(x, w, b, conv_param)
        dout = rng.standard_normal(out.shape)
        dout_copy = dout.copy()
        conv_backward_fast(dout, cache)
        pooled, pool_cache = max_pool_forward_fast(out, pool_param)
        out_copy = out.copy()
        dpooled = rng.standard_normal(pooled.shape)
        dpooled_copy = dpooled.copy()
        max_pool_backward_fast(dpooled, pool_cache)
    for a, original in zip(
        (x, w, b, dout, out, dpooled), (*originals, dout_copy, out_copy, dpooled_copy), strict=True
    ):
        np.testing.assert_array_equal(a, original)
    assert conv_param == {"stride": 1, "pad": 1}


@pytest.mark.parametrize("path", PATHS)
def test_non_contiguous_input_gives_the_same_result(path):
    rng = np.random.default_rng(7)
    base = rng.standard_normal((3, 2, 5, 7))
    x = base.transpose(0, 1, 3, 2)  # a (3, 2, 7, 5) view, not C-contiguous
    assert not x.flags.c_contiguous
    w, b = rng.standard_normal((4, 2, 3, 1)), rng.standard_normal(4)
    conv_param, pool_param = (
        {"stride": 2, "pad": 1},
        {"pool_height": 3, "pool_width": 1, "stride": 2},
    )
    with fast_path(path):
        out, cache = conv_forward_fast(x, w, b, conv_param)
        expected, expected_cache = conv_forward_fast(x.copy(), w, b, conv_param)
        dout = rng.standard_normal(out.shape)
        grads = conv_backward_fast(dout, cache)
        expected_grads = conv_backward_fast(dout, expected_cache)
        pooled, pool_cache = max_pool_forward_fast(x, pool_param)
        expected_pooled, _ = max_pool_forward_fast(x.copy(), pool_param)
        dx_pool = max_pool_backward_fast(np.ones_like(pooled), pool_cache)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    for grad, expected_grad in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(pooled, expected_pooled)
    np.testing.assert_array_equal(pooled, max_pool_forward_naive(x, pool_param)[0])
    assert dx_pool.shape == x.shape
    # Also a non-contiguous upstream gradient (Fortran order).
    with fast_path(path):
        dx_f = max_pool_backward_fast(np.asfortranarray(np.ones_like(pooled)), pool_cache)
        grads_f = conv_backward_fast(np.asfortranarray(dout), cache)
    np.testing.assert_array_equal(dx_f, dx_pool)
    for grad, expected_grad in zip(grads_f, grads, strict=True):
        np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "x_shape, w_shape, conv_param, match",
    [
        (
            (1, 2, 3, 6),
            (2, 2, 6, 3),
            {"stride": 1, "pad": 1},
            r"conv_forward_fast: the kernel height 6 \(w of shape \(2, 2, 6, 3\)\) is larger "
            r"than the padded input height 3 \+ 2\*1 = 5 \(x of shape \(1, 2, 3, 6\)\)",
        ),
        (
            (1, 2, 6, 5),
            (2, 2, 3, 2),
            {"stride": 2, "pad": 0},
            r"conv_forward_fast: stride 2 does not tile the input height: \(6 \+ 2\*0 - 3\) = 3 "
            r"is not a multiple of 2 \(x of shape \(1, 2, 6, 5\), w of shape \(2, 2, 3, 2\)\)",
        ),
        (
            (1, 2, 4, 5),
            (2, 2, 3, 2),
            {"stride": 3, "pad": 1},
            r"stride 3 does not tile the input width: \(5 \+ 2\*1 - 2\) = 5 .*"
            r"\(x of shape \(1, 2, 4, 5\), w of shape \(2, 2, 3, 2\)\)",
        ),
    ],
)
def test_conv_fast_invalid_combinations(path, x_shape, w_shape, conv_param, match):
    with fast_path(path), pytest.raises(ValueError, match=match):
        conv_forward_fast(np.zeros(x_shape), np.zeros(w_shape), np.zeros(w_shape[0]), conv_param)


def test_fast_layers_reject_bad_inputs_like_the_naive_ones():
    with pytest.raises(ValueError, match=r"conv_forward_fast: x has 3 dims \(2, 4, 4\)"):
        conv_forward_fast(
            np.zeros((2, 4, 4)), np.zeros((1, 2, 3, 3)), np.zeros(1), {"stride": 1, "pad": 1}
        )
    with pytest.raises(TypeError, match=r"conv_forward_fast: x has dtype int64"):
        conv_forward_fast(
            np.zeros((1, 2, 4, 4), dtype=np.int64),
            np.zeros((1, 2, 3, 3)),
            np.zeros(1),
            {"stride": 1, "pad": 1},
        )
    with pytest.raises(
        ValueError, match=r"conv_forward_fast: conv_param\['pad'\] must be a non-negative"
    ):
        conv_forward_fast(
            np.zeros((1, 2, 4, 4)), np.zeros((1, 2, 3, 3)), np.zeros(1), {"stride": 1, "pad": -1}
        )
    with pytest.raises(TypeError, match=r"max_pool_forward_fast: x has dtype int64"):
        max_pool_forward_fast(
            np.zeros((1, 1, 2, 2), dtype=np.int64),
            {"pool_height": 2, "pool_width": 2, "stride": 2},
        )


@pytest.mark.parametrize("path", PATHS)
def test_fast_backward_rejects_dout_of_the_wrong_shape(path):
    rng = np.random.default_rng(11)
    x, w, b = rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((3, 2, 3, 2)), np.ones(3)
    with fast_path(path):
        out, cache = conv_forward_fast(x, w, b, {"stride": 1, "pad": 0})
        with pytest.raises(
            ValueError,
            match=r"conv_backward_fast: dout has shape \(2, 3, 3, 4\); expected \(2, 3, 3, 3\)",
        ):
            conv_backward_fast(np.zeros((2, 3, 3, 4)), cache)
        pooled, pool_cache = max_pool_forward_fast(
            x, {"pool_height": 3, "pool_width": 2, "stride": 1}
        )
        with pytest.raises(
            ValueError,
            match=r"max_pool_backward_fast: dout has shape \(2, 2, 4, 3\); "
            r"expected \(2, 2, 3, 3\)",
        ):
            max_pool_backward_fast(np.zeros((2, 2, 4, 3)), pool_cache)
        with pytest.raises(TypeError, match=r"max_pool_backward_fast: dout has dtype int64"):
            max_pool_backward_fast(np.zeros(pooled.shape, dtype=np.int64), pool_cache)


def test_a_naive_cache_given_to_a_fast_backward_is_refused_clearly():
    rng = np.random.default_rng(12)
    x, w, b = rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((2, 2, 3, 3)), np.zeros(2)
    out, naive_cache = conv_forward_naive(x, w, b, {"stride": 1, "pad": 1})
    with pytest.raises(
        TypeError,
        match=r"conv_backward_fast: cache must be the cache returned by conv_forward_fast "
        r"\(the naive layer's cache goes to conv_backward_naive\)",
    ):
        conv_backward_fast(np.ones_like(out), naive_cache)
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    pooled, naive_pool_cache = max_pool_forward_naive(x, pool_param)
    with pytest.raises(
        TypeError,
        match=r"max_pool_backward_fast: cache must be the cache returned by max_pool_forward_fast "
        r"\(the naive layer's cache goes to max_pool_backward_naive\)",
    ):
        max_pool_backward_fast(np.ones_like(pooled), naive_pool_cache)


def _huge(shape, dtype=np.float32):
    """A read-only array of zeros of any shape that takes no memory (every stride 0)."""
    return np.broadcast_to(np.zeros((), dtype=dtype), shape)


@pytest.mark.parametrize("path", PATHS)
def test_an_im2col_too_big_for_memory_is_refused_before_allocating(path, monkeypatch):
    from course.layers import _kernels

    monkeypatch.setattr(_kernels, "available_memory", lambda: 16 * 2**30)
    x, w = _huge((3200, 64, 64, 64)), np.zeros((64, 64, 3, 3), dtype=np.float32)
    message = (
        r"conv_forward_fast: im2col needs 28\.1 GiB for x of shape \(3200, 64, 64, 64\) and w "
        r"of shape \(64, 64, 3, 3\) \(a \(13107200, 576\) float32 matrix, 9\.0 MiB per "
        r"example\), but only 16\.0 GiB of memory is available\. Use a smaller batch: split x "
        r"into chunks of at most 910 examples \(np\.array_split\(x, 4\)\) and convolve each"
    )
    with fast_path(path), pytest.raises(MemoryError, match=message):
        conv_forward_fast(x, w, np.zeros(64, dtype=np.float32), {"stride": 1, "pad": 1})


def test_an_im2col_beyond_any_machine_is_refused_with_the_real_memory_reading():
    w = np.zeros((8, 512, 3, 3))
    with pytest.raises(MemoryError, match=r"split x into chunks of at most \d+ examples"):
        conv_forward_fast(
            _huge((2**20, 512, 64, 64), np.float64), w, np.zeros(8), {"stride": 1, "pad": 1}
        )
    with pytest.raises(MemoryError, match="Even one example does not fit"):
        conv_forward_fast(
            _huge((1, 512, 2**16, 2**16), np.float64), w, np.zeros(8), {"stride": 1, "pad": 1}
        )
