"""Tests for course/layers/pool.py: hand-computed values, ties, gradients, dtypes and errors."""

import numpy as np
import pytest

from course.gradcheck import gradient_errors
from course.layers import max_pool_backward_naive, max_pool_forward_naive


def _distinct(shape, seed=0, dtype=np.float64):
    """Values spaced at least 0.1 apart, so no window has a tie, even after a 1e-5 nudge."""
    rng = np.random.default_rng(seed)
    return (rng.permutation(int(np.prod(shape))).reshape(shape) * 0.1 - 1.0).astype(dtype)


def _param(ph, pw, stride):
    return {"pool_height": ph, "pool_width": pw, "stride": stride}


# ----------------------------------------------------------------------------- values


def test_2x2_pool_by_hand():
    x = np.array(
        [
            [1.0, 3.0, 2.0, 0.0],
            [4.0, 2.0, 1.0, 5.0],
            [0.0, -1.0, -3.0, -2.0],
            [-4.0, 6.0, -5.0, -6.0],
        ]
    ).reshape(1, 1, 4, 4)
    out, cache = max_pool_forward_naive(x, _param(2, 2, 2))
    np.testing.assert_array_equal(out[0, 0], [[4.0, 5.0], [6.0, -2.0]])
    dx = max_pool_backward_naive(np.array([[[[10.0, 20.0], [30.0, 40.0]]]]), cache)
    expected = np.zeros((4, 4))
    expected[1, 0], expected[1, 3], expected[3, 1], expected[2, 3] = 10, 20, 30, 40
    np.testing.assert_array_equal(dx[0, 0], expected)


def test_non_square_pool_by_hand():
    x = np.arange(12.0).reshape(1, 1, 3, 4)[:, :, ::-1, :].copy()  # largest in the top row
    out, cache = max_pool_forward_naive(x, _param(3, 2, 2))
    # Rows 8..11 are at the top: the windows cover columns 0-1 and 2-3.
    np.testing.assert_array_equal(out[0, 0], [[9.0, 11.0]])
    dx = max_pool_backward_naive(np.array([[[[1.0, 2.0]]]]), cache)
    np.testing.assert_array_equal(dx[0, 0], [[0, 1, 0, 2], [0, 0, 0, 0], [0, 0, 0, 0]])


def test_overlapping_3x2_windows_add_their_gradients():
    # The single maximum at (2, 1) lies in all four 3x2 windows (stride 1) of a 4x3 image.
    x = np.array(
        [
            [1.0, 2.0, 0.0],
            [3.0, 4.0, -1.0],
            [5.0, 9.0, 6.0],
            [7.0, 8.0, 2.0],
        ]
    ).reshape(1, 1, 4, 3)
    out, cache = max_pool_forward_naive(x, _param(3, 2, 1))
    np.testing.assert_array_equal(out[0, 0], np.full((2, 2), 9.0))
    dx = max_pool_backward_naive(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), cache)
    expected = np.zeros((4, 3))
    expected[2, 1] = 1 + 2 + 3 + 4
    np.testing.assert_array_equal(dx[0, 0], expected)


def test_overlapping_windows_with_different_maxima():
    x = np.array(
        [
            [9.0, 0.0, 0.0],
            [0.0, 1.0, 8.0],
            [0.0, 2.0, 0.0],
            [7.0, 0.0, 3.0],
        ]
    ).reshape(1, 1, 4, 3)
    out, cache = max_pool_forward_naive(x, _param(3, 2, 1))
    np.testing.assert_array_equal(out[0, 0], [[9.0, 8.0], [7.0, 8.0]])
    dx = max_pool_backward_naive(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), cache)
    expected = np.zeros((4, 3))
    expected[0, 0], expected[1, 2], expected[3, 0] = 1, 2 + 4, 3
    np.testing.assert_array_equal(dx[0, 0], expected)


def test_ties_send_the_gradient_to_the_first_maximum_only():
    # An all-zero window (common after a ReLU): everything goes to its top-left pixel.
    x = np.zeros((1, 1, 2, 4))
    out, cache = max_pool_forward_naive(x, _param(2, 2, 2))
    dx = max_pool_backward_naive(np.array([[[[3.0, 5.0]]]]), cache)
    np.testing.assert_array_equal(dx[0, 0], [[3.0, 0, 5.0, 0], [0, 0, 0, 0]])
    # Two tied maxima: the first in row-major order, (0, 1), wins over (1, 0).
    x = np.array([[0.0, 5.0], [5.0, 1.0]]).reshape(1, 1, 2, 2)
    out, cache = max_pool_forward_naive(x, _param(2, 2, 2))
    assert out[0, 0, 0, 0] == 5.0
    dx = max_pool_backward_naive(np.ones((1, 1, 1, 1)), cache)
    np.testing.assert_array_equal(dx[0, 0], [[0.0, 1.0], [0.0, 0.0]])


def test_ties_in_overlapping_windows():
    # Every window of a constant image sends its gradient to its own top-left pixel.
    x = np.ones((1, 1, 4, 3))
    out, cache = max_pool_forward_naive(x, _param(3, 2, 1))
    dx = max_pool_backward_naive(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), cache)
    expected = np.zeros((4, 3))
    expected[0, 0], expected[0, 1], expected[1, 0], expected[1, 1] = 1, 2, 3, 4
    np.testing.assert_array_equal(dx[0, 0], expected)
    assert dx.sum() == 10  # the gradient is routed, never multiplied


def test_channels_and_images_are_pooled_independently():
    x = _distinct((2, 3, 4, 6), seed=3)
    out, _ = max_pool_forward_naive(x, _param(2, 3, 1))
    for n in range(2):
        for c in range(3):
            single, _ = max_pool_forward_naive(x[n : n + 1, c : c + 1], _param(2, 3, 1))
            np.testing.assert_array_equal(out[n, c], single[0, 0])


@pytest.mark.parametrize(
    "x_shape, ph, pw, stride, expected",
    [
        ((2, 3, 4, 6), 2, 2, 2, (2, 3, 2, 3)),
        ((1, 2, 4, 3), 3, 2, 1, (1, 2, 2, 2)),
        ((1, 1, 7, 5), 1, 3, 2, (1, 1, 4, 2)),
        ((3, 1, 9, 4), 3, 1, 3, (3, 1, 3, 2)),
        ((1, 1, 3, 5), 3, 5, 2, (1, 1, 1, 1)),
    ],
)
def test_output_size_formula(x_shape, ph, pw, stride, expected):
    N, C, H, W = x_shape
    assert expected == (N, C, 1 + (H - ph) // stride, 1 + (W - pw) // stride)
    out, cache = max_pool_forward_naive(_distinct(x_shape), _param(ph, pw, stride))
    assert out.shape == expected
    assert max_pool_backward_naive(np.ones(expected), cache).shape == x_shape


# ----------------------------------------------------------------------------- gradients


@pytest.mark.parametrize(
    "x_shape, ph, pw, stride",
    [
        ((2, 2, 4, 6), 2, 2, 2),  # the classic tiling pool
        ((2, 2, 4, 3), 3, 2, 1),  # overlapping, non-square
        ((1, 3, 5, 7), 3, 3, 2),  # overlapping by one row and column
        ((2, 1, 6, 5), 2, 1, 2),  # non-square, width 1
        ((1, 2, 7, 8), 1, 2, 3),  # stride larger than the window: some pixels unseen
    ],
)
def test_gradients(x_shape, ph, pw, stride):
    x = _distinct(x_shape, seed=ph * 10 + pw)
    errors = gradient_errors(
        max_pool_forward_naive, max_pool_backward_naive, [x, _param(ph, pw, stride)]
    )
    assert errors["d0"] < 1e-7, errors


# ----------------------------------------------------------------------------- purity, dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inputs_not_mutated_and_dtype_kept(dtype):
    x = _distinct((2, 3, 4, 6), dtype=dtype)
    pool_param = _param(2, 3, 1)
    x_copy, param_copy = x.copy(), dict(pool_param)
    out, cache = max_pool_forward_naive(x, pool_param)
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
    dout_copy = dout.copy()
    dx = max_pool_backward_naive(dout, cache)
    np.testing.assert_array_equal(x, x_copy)
    np.testing.assert_array_equal(dout, dout_copy)
    assert pool_param == param_copy
    assert out.dtype == dx.dtype == dtype
    assert dx.shape == x.shape


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "x, pool_param, error, match",
    [
        (
            np.zeros((3, 4, 4)),
            _param(2, 2, 2),
            ValueError,
            r"max_pool_forward_naive: x has 3 dims \(3, 4, 4\); expected 4 \(N, C, H, W\)",
        ),
        (
            np.zeros((1, 1, 4, 3)),
            _param(5, 2, 1),
            ValueError,
            r"pool_height 5 is larger than the input height 4 \(x of shape \(1, 1, 4, 3\)\)",
        ),
        (
            np.zeros((1, 1, 4, 3)),
            _param(2, 4, 1),
            ValueError,
            r"pool_width 4 is larger than the input width 3",
        ),
        (
            np.zeros((1, 1, 5, 4)),
            _param(2, 2, 2),
            ValueError,
            r"stride 2 does not tile the input height: 5 - 2 = 3 is not a multiple of 2 "
            r"\(x of shape \(1, 1, 5, 4\)\)",
        ),
        (
            np.zeros((1, 1, 4, 6)),
            _param(2, 2, 3),
            ValueError,
            r"stride 3 does not tile the input height",
        ),
        (
            np.zeros((1, 1, 4, 5)),
            {"pool_height": 2, "stride": 2},
            ValueError,
            r"pool_param needs exactly the keys \['pool_height', 'pool_width', 'stride'\]; "
            r"missing \['pool_width'\], unknown \[\]",
        ),
        (
            np.zeros((1, 1, 4, 4)),
            {"pool_height": 2, "pool_width": 2, "stride": 2, "pad": 0},
            ValueError,
            r"missing \[\], unknown \['pad'\]",
        ),
        (
            np.zeros((1, 1, 4, 4)),
            _param(2, 2, 0),
            ValueError,
            r"pool_param\['stride'\] must be a positive integer, got 0",
        ),
        (
            np.zeros((1, 1, 4, 4)),
            _param(0, 2, 2),
            ValueError,
            r"pool_param\['pool_height'\] must be a positive integer, got 0",
        ),
        (
            np.zeros((1, 1, 4, 4)),
            _param(2, 2.0, 2),
            TypeError,
            r"pool_param\['pool_width'\] must be an integer, got 2\.0",
        ),
        (
            np.zeros((1, 1, 4, 4)),
            (2, 2, 2),
            TypeError,
            r"pool_param must be a dict like .*, got tuple",
        ),
        (
            np.zeros((1, 1, 4, 4), dtype=np.int64),
            _param(2, 2, 2),
            TypeError,
            r"x has dtype int64; expected a floating-point array",
        ),
        (
            [[[[1.0]]]],
            _param(1, 1, 1),
            TypeError,
            r"x must be a numpy array, got list",
        ),
    ],
)
def test_forward_errors(x, pool_param, error, match):
    with pytest.raises(error, match=match):
        max_pool_forward_naive(x, pool_param)


def test_backward_rejects_dout_of_the_wrong_shape_or_dtype():
    out, cache = max_pool_forward_naive(_distinct((2, 3, 4, 6)), _param(2, 3, 1))
    assert out.shape == (2, 3, 3, 4)
    with pytest.raises(
        ValueError,
        match=r"max_pool_backward_naive: dout has shape \(2, 3, 4, 3\); expected "
        r"\(2, 3, 3, 4\), the shape of the forward output",
    ):
        max_pool_backward_naive(np.zeros((2, 3, 4, 3)), cache)
    with pytest.raises(TypeError, match=r"max_pool_backward_naive: dout has dtype int32"):
        max_pool_backward_naive(np.zeros(out.shape, dtype=np.int32), cache)
