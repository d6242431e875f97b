"""Tests for course/layers/conv.py: hand-computed values, gradients, shapes, dtypes and errors."""

import numpy as np
import pytest

from course.gradcheck import gradient_errors
from course.layers import conv_backward_naive, conv_forward_naive


def _tiling_shape(HH, WW, stride, pad, H_out=2, W_out=3):
    """(H, W) that a stride tiles exactly, at least 2 pixels each and never square."""
    H = (H_out - 1) * stride + HH - 2 * pad
    while H < 2:
        H_out += 1
        H = (H_out - 1) * stride + HH - 2 * pad
    W = (W_out - 1) * stride + WW - 2 * pad
    while W < 2 or W == H:
        W_out += 1
        W = (W_out - 1) * stride + WW - 2 * pad
    return H, W


def _inputs(N=2, C=2, H=5, W=6, F=3, HH=3, WW=2, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((F, C, HH, WW)).astype(dtype)
    b = rng.standard_normal(F).astype(dtype)
    return x, w, b


# ----------------------------------------------------------------------------- values


def test_vertical_edge_filter_on_a_4x4_image():
    # Left half dark, right half bright: a [-1, 1] filter (1x2, non-square) fires on the edge.
    x = np.array([[0.0, 0.0, 1.0, 1.0]] * 4).reshape(1, 1, 4, 4)
    w = np.array([[-1.0, 1.0]]).reshape(1, 1, 1, 2)
    out, _ = conv_forward_naive(x, w, np.array([0.5]), {"stride": 1, "pad": 0})
    np.testing.assert_array_equal(out, np.array([[0.5, 1.5, 0.5]] * 4).reshape(1, 1, 4, 3))


def test_filter_is_not_flipped():
    # Cross-correlation: out[0, 0] = 0*1 + 1*2 + 3*3 + 4*4 = 27 (a convolution would give 23).
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    w = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 1, 2, 2)
    out, _ = conv_forward_naive(x, w, np.zeros(1), {"stride": 1, "pad": 0})
    np.testing.assert_array_equal(out[0, 0], [[27.0, 37.0], [57.0, 67.0]])


def test_box_filter_with_zero_padding():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    w = np.ones((1, 1, 3, 3))
    out, _ = conv_forward_naive(x, w, np.zeros(1), {"stride": 1, "pad": 1})
    assert out.shape == (1, 1, 4, 4)
    # The padding contributes zeros: a corner window sees 4 pixels, an edge one 6.
    assert out[0, 0, 0, 0] == 0 + 1 + 4 + 5
    assert out[0, 0, 0, 1] == 0 + 1 + 2 + 4 + 5 + 6
    assert out[0, 0, 1, 1] == 0 + 1 + 2 + 4 + 5 + 6 + 8 + 9 + 10
    assert out[0, 0, 3, 3] == 10 + 11 + 14 + 15


def test_box_filter_with_stride_2():
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    w = np.ones((1, 1, 3, 3))
    out, _ = conv_forward_naive(x, w, np.zeros(1), {"stride": 2, "pad": 1})
    assert out.shape == (1, 1, 3, 3)
    # Windows centred on pixels (0, 0), (0, 2), (2, 2) and (4, 4).
    assert out[0, 0, 0, 0] == 0 + 1 + 5 + 6
    assert out[0, 0, 0, 1] == 1 + 2 + 3 + 6 + 7 + 8
    assert out[0, 0, 1, 1] == 9 * 12
    assert out[0, 0, 2, 2] == 18 + 19 + 23 + 24


def test_channels_are_summed_and_each_filter_has_its_bias():
    x = np.stack([np.ones((3, 3)), 2 * np.ones((3, 3))])[None]  # (1, 2, 3, 3)
    w = np.stack([np.ones((2, 2, 2)), np.stack([np.ones((2, 2)), -np.ones((2, 2))])])
    out, _ = conv_forward_naive(x, w, np.array([0.0, 10.0]), {"stride": 1, "pad": 0})
    np.testing.assert_array_equal(out[0, 0], np.full((2, 2), 4 * 1 + 4 * 2))
    np.testing.assert_array_equal(out[0, 1], np.full((2, 2), 4 * 1 - 4 * 2 + 10))


def test_backward_by_hand_counts_the_windows_covering_each_pixel():
    x, w = np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2))
    out, cache = conv_forward_naive(x, w, np.zeros(1), {"stride": 1, "pad": 0})
    dx, dw, db = conv_backward_naive(np.ones_like(out), cache)
    np.testing.assert_array_equal(dx[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    np.testing.assert_array_equal(dw, np.full((1, 1, 2, 2), 4.0))
    np.testing.assert_array_equal(db, [4.0])


@pytest.mark.parametrize(
    "x_shape, w_shape, stride, pad, expected",
    [
        ((2, 3, 5, 7), (4, 3, 3, 3), 1, 1, (2, 4, 5, 7)),
        ((2, 3, 5, 7), (4, 3, 3, 1), 2, 0, (2, 4, 2, 4)),
        ((1, 1, 8, 6), (2, 1, 2, 4), 2, 1, (1, 2, 5, 3)),
        ((1, 2, 7, 5), (1, 2, 1, 2), 3, 0, (1, 1, 3, 2)),
        ((3, 1, 4, 4), (2, 1, 4, 4), 1, 0, (3, 2, 1, 1)),
        ((1, 1, 1, 1), (1, 1, 3, 3), 1, 1, (1, 1, 1, 1)),
    ],
)
def test_output_size_formula(x_shape, w_shape, stride, pad, expected):
    N, C, H, W = x_shape
    F, _, HH, WW = w_shape
    assert expected == (N, F, 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride)
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(F)
    out, cache = conv_forward_naive(x, w, b, {"stride": stride, "pad": pad})
    assert out.shape == expected
    dx, dw, db = conv_backward_naive(np.ones(expected), cache)
    assert dx.shape == x_shape and dw.shape == w_shape and db.shape == (F,)


# ----------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("kernel", [(3, 2), (1, 3)], ids=lambda k: f"HH{k[0]}xWW{k[1]}")
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("pad", [0, 1, 2])
def test_gradients(kernel, stride, pad):
    HH, WW = kernel
    H, W = _tiling_shape(HH, WW, stride, pad)
    assert H != W and HH != WW
    x, w, b = _inputs(N=2, C=2, H=H, W=W, F=2, HH=HH, WW=WW, seed=stride * 10 + pad)
    errors = gradient_errors(
        conv_forward_naive, conv_backward_naive, [x, w, b, {"stride": stride, "pad": pad}]
    )
    assert max(errors.values()) < 1e-7, errors


# ----------------------------------------------------------------------------- purity, dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inputs_not_mutated_and_dtype_kept(dtype):
    x, w, b = _inputs(dtype=dtype)
    conv_param = {"stride": 1, "pad": 1}
    copies = [a.copy() for a in (x, w, b)]
    param_copy = dict(conv_param)
    out, cache = conv_forward_naive(x, w, b, conv_param)
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
    dout_copy = dout.copy()
    dx, dw, db = conv_backward_naive(dout, cache)
    for original, copy in zip((x, w, b, dout), (*copies, dout_copy), strict=True):
        np.testing.assert_array_equal(original, copy)
    assert conv_param == param_copy
    assert out.dtype == dx.dtype == dw.dtype == db.dtype == dtype
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape


def test_float32_agrees_with_float64():
    x, w, b = _inputs()
    conv_param = {"stride": 1, "pad": 1}
    out64, _ = conv_forward_naive(x, w, b, conv_param)
    out32, _ = conv_forward_naive(
        x.astype(np.float32), w.astype(np.float32), b.astype(np.float32), conv_param
    )
    np.testing.assert_allclose(out32, out64, rtol=1e-5, atol=1e-5)


def test_numpy_integer_stride_and_pad_are_accepted():
    x, w, b = _inputs()
    out, _ = conv_forward_naive(x, w, b, {"stride": np.int64(1), "pad": np.int32(1)})
    expected, _ = conv_forward_naive(x, w, b, {"stride": 1, "pad": 1})
    np.testing.assert_array_equal(out, expected)


# ----------------------------------------------------------------------------- errors

GOOD_PARAM = {"stride": 1, "pad": 1}


@pytest.mark.parametrize(
    "x, w, b, conv_param, error, match",
    [
        (
            np.zeros((3, 5, 5)),
            np.zeros((2, 3, 3, 3)),
            np.zeros(2),
            GOOD_PARAM,
            ValueError,
            r"conv_forward_naive: x has 3 dims \(3, 5, 5\); expected 4 \(N, C, H, W\)",
        ),
        (
            np.zeros((1, 3, 5, 5)),
            np.zeros((2, 3, 3)),
            np.zeros(2),
            GOOD_PARAM,
            ValueError,
            r"w has 3 dims \(2, 3, 3\); expected 4 \(F, C, HH, WW\)",
        ),
        (
            np.zeros((1, 2, 5, 5)),
            np.zeros((4, 3, 3, 3)),
            np.zeros(4),
            GOOD_PARAM,
            ValueError,
            r"w has shape \(4, 3, 3, 3\) with 3 channels, but x has shape \(1, 2, 5, 5\) "
            r"with C=2; w must be \(F, C, HH, WW\)",
        ),
        (
            np.zeros((1, 3, 5, 5)),
            np.zeros((4, 3, 3, 3)),
            np.zeros(3),
            GOOD_PARAM,
            ValueError,
            r"b has shape \(3,\); expected \(4,\), one bias per filter",
        ),
        (
            np.zeros((1, 3, 5, 5)),
            np.zeros((4, 3, 3, 3)),
            np.zeros((4, 1)),
            GOOD_PARAM,
            ValueError,
            r"b has shape \(4, 1\); expected \(4,\)",
        ),
        (
            np.zeros((1, 3, 2, 6)),
            np.zeros((4, 3, 5, 3)),
            np.zeros(4),
            GOOD_PARAM,
            ValueError,
            r"kernel height 5 \(w of shape \(4, 3, 5, 3\)\) is larger than the padded input "
            r"height 2 \+ 2\*1 = 4 \(x of shape \(1, 3, 2, 6\)\)",
        ),
        (
            np.zeros((1, 3, 6, 2)),
            np.zeros((4, 3, 3, 5)),
            np.zeros(4),
            {"stride": 1, "pad": 1},
            ValueError,
            r"kernel width 5 .* larger than the padded input width 2 \+ 2\*1 = 4",
        ),
        (
            np.zeros((1, 3, 5, 6)),
            np.zeros((4, 3, 3, 3)),
            np.zeros(4),
            {"stride": 2, "pad": 0},
            ValueError,
            r"stride 2 does not tile the input width: \(6 \+ 2\*0 - 3\) = 3 is not a multiple "
            r"of 2 \(x of shape \(1, 3, 5, 6\), w of shape \(4, 3, 3, 3\)\); change pad or stride",
        ),
        (
            np.zeros((1, 3, 8, 7)),
            np.zeros((4, 3, 3, 3)),
            np.zeros(4),
            {"stride": 3, "pad": 1},
            ValueError,
            r"stride 3 does not tile the input height",
        ),
        (
            np.zeros((1, 3, 5, 5)),
            np.zeros((4, 3, 3, 3)),
            np.zeros(4),
            {"stride": 1},
            ValueError,
            r"conv_param needs exactly the keys 'stride' and 'pad'; missing \['pad'\], "
            r"unknown \[\]",
        ),
        (
            np.zeros((1, 3, 5, 5)),
            np.zeros((4, 3, 3, 3)),
            np.zeros(4),
            {"stride": 1, "padding": 1},
            ValueError,
            r"missing \['pad'\], unknown \['padding'\]",
        ),
        (
            np.zeros((1, 3, 5, 5)),
            np.zeros((4, 3, 3, 3)),
            np.zeros(4),
            {},
            ValueError,
            r"missing \['pad', 'stride'\]",
        ),
        (
            np.zeros((1, 3, 5, 5)),
            np.zeros((4, 3, 3, 3)),
            np.zeros(4),
            {"stride": 1, "pad": -1},
            ValueError,
            r"conv_param\['pad'\] must be a non-negative integer, got -1",
        ),
        (
            np.zeros((1, 3, 5, 5)),
            np.zeros((4, 3, 3, 3)),
            np.zeros(4),
            {"stride": 0, "pad": 1},
            ValueError,
            r"conv_param\['stride'\] must be a positive integer, got 0",
        ),
        (
            np.zeros((1, 3, 5, 5)),
            np.zeros((4, 3, 3, 3)),
            np.zeros(4),
            {"stride": 1.0, "pad": 1},
            TypeError,
            r"conv_param\['stride'\] must be an integer, got 1\.0",
        ),
        (
            np.zeros((1, 3, 5, 5)),
            np.zeros((4, 3, 3, 3)),
            np.zeros(4),
            {"stride": True, "pad": 1},
            TypeError,
            r"conv_param\['stride'\] must be an integer, got True",
        ),
        (
            np.zeros((1, 3, 5, 5)),
            np.zeros((4, 3, 3, 3)),
            np.zeros(4),
            {"stride": 1, "pad": "1"},
            TypeError,
            r"conv_param\['pad'\] must be an integer, got '1'",
        ),
        (
            np.zeros((1, 3, 5, 5)),
            np.zeros((4, 3, 3, 3)),
            np.zeros(4),
            [1, 1],
            TypeError,
            r"conv_param must be a dict like \{'stride': 1, 'pad': 1\}, got list",
        ),
        (
            np.zeros((1, 3, 5, 5), dtype=np.int64),
            np.zeros((4, 3, 3, 3)),
            np.zeros(4),
            GOOD_PARAM,
            TypeError,
            r"x has dtype int64; expected a floating-point array \(float32 or float64\)\. "
            r"Convert it with x\.astype\(np\.float64\)",
        ),
        (
            np.zeros((1, 3, 5, 5)),
            np.zeros((4, 3, 3, 3), dtype=np.int32),
            np.zeros(4),
            GOOD_PARAM,
            TypeError,
            r"w has dtype int32; expected a floating-point array",
        ),
        (
            np.zeros((1, 3, 5, 5)),
            np.zeros((4, 3, 3, 3)),
            np.zeros(4, dtype=bool),
            GOOD_PARAM,
            TypeError,
            r"b has dtype bool; expected a floating-point array",
        ),
        (
            [[[[0.0]]]],
            np.zeros((1, 1, 1, 1)),
            np.zeros(1),
            {"stride": 1, "pad": 0},
            TypeError,
            r"x must be a numpy array, got list",
        ),
    ],
)
def test_forward_errors(x, w, b, conv_param, error, match):
    with pytest.raises(error, match=match):
        conv_forward_naive(x, w, b, conv_param)


def test_backward_rejects_dout_of_the_wrong_shape_or_dtype():
    x, w, b = _inputs(H=5, W=6, HH=3, WW=2)
    out, cache = conv_forward_naive(x, w, b, {"stride": 1, "pad": 0})
    assert out.shape == (2, 3, 3, 5)
    with pytest.raises(
        ValueError,
        match=r"conv_backward_naive: dout has shape \(2, 3, 5, 3\); expected \(2, 3, 3, 5\), "
        r"the shape of the forward output",
    ):
        conv_backward_naive(np.zeros((2, 3, 5, 3)), cache)
    with pytest.raises(ValueError, match=r"dout has shape \(3, 5\); expected \(2, 3, 3, 5\)"):
        conv_backward_naive(np.zeros((3, 5)), cache)
    with pytest.raises(TypeError, match=r"conv_backward_naive: dout has dtype int64"):
        conv_backward_naive(np.zeros(out.shape, dtype=np.int64), cache)
