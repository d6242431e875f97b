"""Tests for course/layers/rnn.py: gradients, sequence = loop of steps, c0, dtypes, purity, errors.

Every backward function agrees with centred differences to a relative error
below 1e-7 in float64 on shapes that catch classic bugs (T = 1, N = 1,
D != Hd); the sequence functions agree with looping the step functions to
1e-12. The fast paths are tested against these in test_layers_fused_rnn.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from layer_testing import SHAPE_IDS, SHAPES, assert_keeps_dtype_and_inputs, recurrent_inputs

from course.gradcheck import gradient_errors, rel_error
from course.layers.rnn import (
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
    sigmoid,
)

QUALITY_BAR = 1e-7
LOOP_TOL = 1e-12


def lstm_step_stacked_forward(x, prev_h, prev_c, Wx, Wh, b):
    """lstm_step_forward with its two outputs stacked (2, N, Hd), for gradient_errors."""
    next_h, next_c, cache = lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b)
    return np.stack([next_h, next_c]), cache


def lstm_step_stacked_backward(dout, cache):
    """lstm_step_backward taking the stacked upstream gradient (2, N, Hd)."""
    return lstm_step_backward(dout[0], dout[1], cache)


# ---------------------------------------------------------------------------
# Gradients against centred differences (float64)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_rnn_step_gradients(shape):
    x, h0, Wx, Wh, b = recurrent_inputs(shape, gates=1, seed=1)
    errors = gradient_errors(rnn_step_forward, rnn_step_backward, [x[:, 0], h0, Wx, Wh, b])
    assert len(errors) == 5 and max(errors.values()) < QUALITY_BAR, errors


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_rnn_sequence_gradients(shape):
    inputs = recurrent_inputs(shape, gates=1, seed=2)
    errors = gradient_errors(rnn_forward, rnn_backward, inputs, seed=3)
    assert len(errors) == 5 and max(errors.values()) < QUALITY_BAR, errors


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_lstm_step_gradients(shape):
    x, h0, Wx, Wh, b = recurrent_inputs(shape, gates=4, seed=4)
    c0 = np.random.default_rng(5).standard_normal(h0.shape)
    errors = gradient_errors(
        lstm_step_stacked_forward, lstm_step_stacked_backward, [x[:, 0], h0, c0, Wx, Wh, b]
    )
    assert len(errors) == 6 and max(errors.values()) < QUALITY_BAR, errors


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_lstm_sequence_gradients(shape):
    inputs = recurrent_inputs(shape, gates=4, seed=6)
    errors = gradient_errors(lstm_forward, lstm_backward, inputs, seed=7)
    assert len(errors) == 5 and max(errors.values()) < QUALITY_BAR, errors


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_lstm_sequence_gradients_with_an_initial_cell(shape):
    """Given c0, lstm_backward returns dc0 as a sixth gradient, checked like the others."""
    x, h0, Wx, Wh, b = recurrent_inputs(shape, gates=4, seed=21)
    c0 = np.random.default_rng(22).standard_normal(h0.shape)
    errors = gradient_errors(lstm_forward, lstm_backward, [x, h0, Wx, Wh, b, c0], seed=23)
    assert list(errors) == ["d0", "d1", "d2", "d3", "d4", "d5"], errors
    assert max(errors.values()) < QUALITY_BAR, errors


# ---------------------------------------------------------------------------
# The sequence functions compute what looping the step functions computes
# ---------------------------------------------------------------------------


def rnn_by_steps(x, h0, Wx, Wh, b, dh):
    """rnn_forward and rnn_backward written as loops over the teaching step functions."""
    T = x.shape[1]
    hs, caches, prev_h = [], [], h0
    for t in range(T):
        prev_h, cache = rnn_step_forward(x[:, t], prev_h, Wx, Wh, b)
        hs.append(prev_h)
        caches.append(cache)
    dxs, dWx, dWh, db = [None] * T, 0, 0, 0
    dprev_h = np.zeros_like(h0)
    for t in reversed(range(T)):
        dxs[t], dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + dprev_h, caches[t])
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return np.stack(hs, axis=1), (np.stack(dxs, axis=1), dprev_h, dWx, dWh, db)


def lstm_by_steps(x, h0, Wx, Wh, b, dh, c0=None):
    """lstm_forward and lstm_backward written as loops over the teaching step functions."""
    T = x.shape[1]
    hs, caches, prev_h = [], [], h0
    prev_c = np.zeros_like(h0) if c0 is None else c0
    for t in range(T):
        prev_h, prev_c, cache = lstm_step_forward(x[:, t], prev_h, prev_c, Wx, Wh, b)
        hs.append(prev_h)
        caches.append(cache)
    dxs, dWx, dWh, db = [None] * T, 0, 0, 0
    dprev_h, dprev_c = np.zeros_like(h0), np.zeros_like(h0)
    for t in reversed(range(T)):
        dxs[t], dprev_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward(
            dh[:, t] + dprev_h, dprev_c, caches[t]
        )
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    grads = (np.stack(dxs, axis=1), dprev_h, dWx, dWh, db)
    return np.stack(hs, axis=1), grads if c0 is None else (*grads, dprev_c)


@pytest.mark.parametrize(
    "forward, backward, by_steps, gates",
    [
        (rnn_forward, rnn_backward, rnn_by_steps, 1),
        (lstm_forward, lstm_backward, lstm_by_steps, 4),
    ],
    ids=["rnn", "lstm"],
)
@pytest.mark.parametrize("shape", [*SHAPES, (5, 20, 8, 16)], ids=[*SHAPE_IDS, "T20"])
def test_sequence_equals_loop_of_steps(forward, backward, by_steps, gates, shape):
    x, h0, Wx, Wh, b = recurrent_inputs(shape, gates, seed=11)
    dh = np.random.default_rng(12).standard_normal((*shape[:2], shape[3]))
    h, cache = forward(x, h0, Wx, Wh, b)
    grads = backward(dh, cache)
    expected_h, expected_grads = by_steps(x, h0, Wx, Wh, b, dh)
    assert rel_error(h, expected_h) < LOOP_TOL
    for name, grad, expected in zip(
        ("dx", "dh0", "dWx", "dWh", "db"), grads, expected_grads, strict=True
    ):
        assert grad.shape == expected.shape, name
        assert rel_error(grad, expected) < LOOP_TOL, name


def test_lstm_with_open_forget_gate_and_closed_input_gate_keeps_its_cell():
    """f = 1, i = 0, o = 1: the cell (zero) never changes, so h stays tanh(0) = 0."""
    N, T, D, Hd = 2, 5, 3, 4
    rng = np.random.default_rng(13)
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, Hd))
    Wx, Wh = np.zeros((D, 4 * Hd)), np.zeros((Hd, 4 * Hd))
    b = np.concatenate([np.full(Hd, -1000.0), np.full(Hd, 1000.0), np.full(Hd, 1000.0), [0] * Hd])
    h, _ = lstm_forward(x, h0, Wx, Wh, b)
    np.testing.assert_array_equal(h, 0.0)


def test_rnn_with_zero_weights_outputs_tanh_of_the_bias():
    x, h0 = np.ones((2, 3, 4)), np.ones((2, 5))
    b = np.linspace(-1, 1, 5)
    h, _ = rnn_forward(x, h0, np.zeros((4, 5)), np.zeros((5, 5)), b)
    np.testing.assert_allclose(h, np.broadcast_to(np.tanh(b), (2, 3, 5)), rtol=0, atol=1e-15)


@pytest.mark.parametrize("shape", [*SHAPES, (5, 20, 8, 16)], ids=[*SHAPE_IDS, "T20"])
def test_lstm_with_c0_equals_loop_of_steps(shape):
    x, h0, Wx, Wh, b = recurrent_inputs(shape, 4, seed=24)
    c0 = np.random.default_rng(25).standard_normal(h0.shape)
    dh = np.random.default_rng(26).standard_normal((*shape[:2], shape[3]))
    h, cache = lstm_forward(x, h0, Wx, Wh, b, c0)
    grads = lstm_backward(dh, cache)
    expected_h, expected_grads = lstm_by_steps(x, h0, Wx, Wh, b, dh, c0)
    assert rel_error(h, expected_h) < LOOP_TOL
    assert len(grads) == 6
    for name, grad, expected in zip(
        ("dx", "dh0", "dWx", "dWh", "db", "dc0"), grads, expected_grads, strict=True
    ):
        assert grad.shape == expected.shape, name
        assert rel_error(grad, expected) < LOOP_TOL, name


def test_a_zero_c0_gives_what_no_c0_gives():
    """c0 = zeros is the default: the same h and gradients, and dc0 on top."""
    x, h0, Wx, Wh, b = recurrent_inputs((3, 4, 5, 6), 4, seed=27)
    dh = np.random.default_rng(28).standard_normal((3, 4, 6))
    h, cache = lstm_forward(x, h0, Wx, Wh, b)
    h_zero, cache_zero = lstm_forward(x, h0, Wx, Wh, b, np.zeros_like(h0))
    np.testing.assert_array_equal(h, h_zero)
    grads, grads_zero = lstm_backward(dh, cache), lstm_backward(dh, cache_zero)
    assert len(grads) == 5 and len(grads_zero) == 6
    for grad, grad_zero in zip(grads, grads_zero[:5], strict=True):
        np.testing.assert_array_equal(grad, grad_zero)
    assert grads_zero[5].shape == h0.shape


def test_lstm_with_open_forget_gate_and_closed_input_gate_keeps_its_initial_cell():
    """f = 1, i = 0, o = 1: the cell stays c0 at every step, so h = tanh(c0) throughout."""
    N, T, D, Hd = 2, 5, 3, 4
    rng = np.random.default_rng(29)
    x, h0, c0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, Hd)), rng.random((N, Hd))
    Wx, Wh = np.zeros((D, 4 * Hd)), np.zeros((Hd, 4 * Hd))
    b = np.concatenate([np.full(Hd, -1000.0), np.full(Hd, 1000.0), np.full(Hd, 1000.0), [0] * Hd])
    h, _ = lstm_forward(x, h0, Wx, Wh, b, c0)
    np.testing.assert_array_equal(h, np.broadcast_to(np.tanh(c0)[:, None], (N, T, Hd)))


# ---------------------------------------------------------------------------
# Caches: the step layouts the checks' catalogue unpacks; no returned array inside
# ---------------------------------------------------------------------------


def cached_arrays(cache):
    """Every ndarray in a (nested) cache of tuples and lists."""
    if isinstance(cache, np.ndarray):
        return [cache]
    if isinstance(cache, (tuple, list)):
        return [a for item in cache for a in cached_arrays(item)]
    return []


def test_step_caches_keep_their_layouts():
    x, h0, Wx, Wh, b = recurrent_inputs((2, 1, 3, 4), 1, seed=30)
    x_t = x[:, 0]
    next_h, cache = rnn_step_forward(x_t, h0, Wx, Wh, b)
    assert len(cache) == 5  # (x, prev_h, Wx, Wh, next_h)
    assert cache[0] is x_t and cache[1] is h0 and cache[2] is Wx and cache[3] is Wh
    np.testing.assert_array_equal(cache[4], next_h)
    x, h0, Wx, Wh, b = recurrent_inputs((2, 1, 3, 4), 4, seed=31)
    c0 = np.ones_like(h0)
    next_h, next_c, cache = lstm_step_forward(x[:, 0], h0, c0, Wx, Wh, b)
    assert len(cache) == 10  # (x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c)
    assert cache[1] is h0 and cache[2] is c0 and cache[3] is Wx and cache[4] is Wh
    i, f, o, g, tanh_c = cache[5:]
    np.testing.assert_allclose(f * c0 + i * g, next_c, rtol=1e-15)
    np.testing.assert_array_equal(np.tanh(next_c), tanh_c)
    np.testing.assert_array_equal(o * tanh_c, next_h)


@pytest.mark.parametrize("shape", [(3, 4, 5, 6), (1, 3, 2, 2), (2, 1, 2, 3)], ids=str)
def test_no_cache_holds_an_array_the_function_returns(shape):
    x, h0, Wx, Wh, b = recurrent_inputs(shape, 1, seed=32)
    next_h, cache = rnn_step_forward(x[:, 0], h0, Wx, Wh, b)
    assert not any(np.shares_memory(a, next_h) for a in cached_arrays(cache))
    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    assert not any(np.shares_memory(a, h) for a in cached_arrays(cache))
    x, h0, Wx, Wh, b = recurrent_inputs(shape, 4, seed=33)
    next_h, next_c, cache = lstm_step_forward(x[:, 0], h0, h0, Wx, Wh, b)
    assert not any(
        np.shares_memory(a, out) for a in cached_arrays(cache) for out in (next_h, next_c)
    )
    for c0 in (None, np.ones_like(h0)):
        h, cache = lstm_forward(x, h0, Wx, Wh, b, c0)
        assert not any(np.shares_memory(a, h) for a in cached_arrays(cache))


def test_changing_the_returned_h_does_not_change_the_gradients():
    x, h0, Wx, Wh, b = recurrent_inputs((2, 3, 4, 5), 1, seed=34)
    dh = np.random.default_rng(35).standard_normal((2, 3, 5))
    h, cache = rnn_forward(x, h0, Wx, Wh, b)
    expected = rnn_backward(dh, cache)
    h[...] = 7.0
    for grad, expected_grad in zip(rnn_backward(dh, cache), expected, strict=True):
        np.testing.assert_array_equal(grad, expected_grad)
    next_h, step_cache = rnn_step_forward(x[:, 0], h0, Wx, Wh, b)
    expected = rnn_step_backward(dh[:, 0], step_cache)
    next_h[...] = 7.0
    for grad, expected_grad in zip(rnn_step_backward(dh[:, 0], step_cache), expected, strict=True):
        np.testing.assert_array_equal(grad, expected_grad)


# ---------------------------------------------------------------------------
# sigmoid
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_stable_for_large_inputs(dtype):
    x = np.array([-1000.0, -100.0, -1.0, 0.0, 1.0, 100.0, 1000.0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            s = sigmoid(x)
    assert s.dtype == dtype
    assert s[0] == 0.0 and s[-1] == 1.0 and s[3] == 0.5
    assert np.all(np.diff(s) >= 0)


def test_sigmoid_matches_the_formula_and_its_symmetry():
    x = np.linspace(-30, 30, 601)
    np.testing.assert_allclose(sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-14, atol=0)
    np.testing.assert_allclose(sigmoid(-x), 1 - sigmoid(x), rtol=0, atol=1e-15)
    assert sigmoid(np.array(0.5)).shape == ()


# ---------------------------------------------------------------------------
# float32 in, float32 out; nothing is mutated
# ---------------------------------------------------------------------------


def all_layers(dtype, seed=14):
    """(name, forward, backward, inputs) for every layer of course/layers/rnn.py."""
    rng = np.random.default_rng(seed)
    shape = (3, 4, 5, 6)
    rnn = recurrent_inputs(shape, 1, seed, dtype)
    lstm = recurrent_inputs(shape, 4, seed, dtype)
    c0 = rng.standard_normal((3, 6)).astype(dtype)
    return [
        ("rnn_step", rnn_step_forward, rnn_step_backward, (rnn[0][:, 0], *rnn[1:])),
        ("rnn", rnn_forward, rnn_backward, rnn),
        (
            "lstm_step",
            lstm_step_stacked_forward,
            lstm_step_stacked_backward,
            (lstm[0][:, 0], lstm[1], c0, *lstm[2:]),
        ),
        ("lstm", lstm_forward, lstm_backward, lstm),
        ("lstm_c0", lstm_forward, lstm_backward, (*lstm, c0)),
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("index", range(5), ids=lambda i: all_layers(np.float64)[i][0])
def test_layers_keep_dtype_and_do_not_mutate(index, dtype):
    assert_keeps_dtype_and_inputs(*all_layers(dtype)[index], dtype)


def test_lstm_step_outputs_keep_float32():
    x, h0, Wx, Wh, b = recurrent_inputs((2, 1, 3, 4), 4, dtype=np.float32)
    next_h, next_c, cache = lstm_step_forward(x[:, 0], h0, h0, Wx, Wh, b)
    assert next_h.dtype == next_c.dtype == np.float32
    grads = lstm_step_backward(np.ones_like(next_h), np.ones_like(next_c), cache)
    assert [g.dtype for g in grads] == [np.float32] * 6


# ---------------------------------------------------------------------------
# Clear errors
# ---------------------------------------------------------------------------


def rnn_args(N=2, T=3, D=4, Hd=5, gates=1):
    return [
        np.zeros((N, T, D)),
        np.zeros((N, Hd)),
        np.zeros((D, gates * Hd)),
        np.zeros((Hd, gates * Hd)),
        np.zeros(gates * Hd),
    ]


@pytest.mark.parametrize(
    "position, value, match",
    [
        (
            1,
            np.zeros((3, 5)),
            r"^rnn_forward: h0 has shape \(3, 5\); expected \(N, Hd\) = \(2, 5\)$",
        ),
        (0, np.zeros((2, 3)), r"rnn_forward: x has 2 dims \(2, 3\); expected 3 \(N, T, D\)"),
        (0, np.zeros((2, 3, 6)), r"x has shape \(2, 3, 6\); expected \(N, T, D\) = \(2, 3, 4\)"),
        (0, np.zeros((2, 0, 4)), r"T = 0 time steps"),
        (2, np.zeros((4, 6)), r"Wx has shape \(4, 6\); expected \(D, Hd\) = \(4, 5\)"),
        (3, np.zeros((5, 4)), r"Wh has shape \(5, 4\); expected \(Hd, Hd\) = \(5, 5\)"),
        (4, np.zeros(4), r"b has shape \(4,\); expected \(Hd,\) = \(5,\)"),
        (4, np.zeros((1, 5)), r"b has shape \(1, 5\)"),
        (0, np.zeros((2, 3, 4), dtype=int), r"x has dtype int64; expected a floating-point"),
        (1, [[0.0] * 5] * 2, r"h0 must be a numpy array, got list"),
    ],
)
def test_rnn_forward_names_the_bad_input(position, value, match):
    args = rnn_args()
    args[position] = value
    with pytest.raises((ValueError, TypeError), match=match):
        rnn_forward(*args)


@pytest.mark.parametrize(
    "position, value, match",
    [
        (
            1,
            np.zeros((2, 4)),
            r"lstm_forward: h0 has shape \(2, 4\); expected \(N, Hd\) = \(2, 5\)",
        ),
        (2, np.zeros((4, 5)), r"Wx has shape \(4, 5\); expected \(D, 4Hd\) = \(4, 20\)"),
        (3, np.zeros((5, 5)), r"Wh has shape \(5, 5\); expected \(Hd, 4Hd\) = \(5, 20\)"),
        (4, np.zeros(5), r"b has shape \(5,\); expected \(4Hd,\) = \(20,\)"),
    ],
)
def test_lstm_forward_names_the_bad_input(position, value, match):
    args = rnn_args(gates=4)
    args[position] = value
    with pytest.raises(ValueError, match=match):
        lstm_forward(*args)


@pytest.mark.parametrize(
    "c0, error, match",
    [
        (
            np.zeros((2, 4)),
            ValueError,
            r"^lstm_forward: c0 has shape \(2, 4\); expected \(N, Hd\) = \(2, 5\)$",
        ),
        (np.zeros((2, 5), dtype=int), TypeError, r"lstm_forward: c0 has dtype int64"),
        ([[0.0] * 5] * 2, TypeError, r"lstm_forward: c0 must be a numpy array, got list"),
    ],
)
def test_lstm_forward_names_a_bad_initial_cell(c0, error, match):
    with pytest.raises(error, match=match):
        lstm_forward(*rnn_args(gates=4), c0)


def test_step_functions_name_their_arguments():
    x, h, Wx, Wh, b = (
        np.zeros((2, 4)),
        np.zeros((2, 5)),
        np.zeros((4, 5)),
        np.zeros((5, 5)),
        np.zeros(5),
    )
    with pytest.raises(
        ValueError,
        match=r"rnn_step_forward: prev_h has shape \(3, 5\); expected \(N, Hd\) = \(2, 5\)",
    ):
        rnn_step_forward(x, np.zeros((3, 5)), Wx, Wh, b)
    with pytest.raises(ValueError, match=r"rnn_step_forward: x has 3 dims"):
        rnn_step_forward(np.zeros((2, 1, 4)), h, Wx, Wh, b)
    Wx4, Wh4, b4 = np.zeros((4, 20)), np.zeros((5, 20)), np.zeros(20)
    with pytest.raises(
        ValueError,
        match=r"lstm_step_forward: prev_c has shape \(2, 4\); expected \(N, Hd\) = \(2, 5\)",
    ):
        lstm_step_forward(x, h, np.zeros((2, 4)), Wx4, Wh4, b4)


@pytest.mark.parametrize(
    "backward, forward, inputs, upstream, match",
    [
        (
            rnn_backward,
            rnn_forward,
            rnn_args(),
            np.zeros((2, 3, 4)),
            r"rnn_backward: dh has shape \(2, 3, 4\); expected \(2, 3, 5\), the shape of the "
            r"forward output h",
        ),
        (
            lstm_backward,
            lstm_forward,
            rnn_args(gates=4),
            np.zeros((3, 2, 5)),
            r"lstm_backward: dh has shape \(3, 2, 5\); expected \(2, 3, 5\)",
        ),
        (
            rnn_step_backward,
            rnn_step_forward,
            [np.zeros((2, 4)), *rnn_args()[1:]],
            np.zeros((2, 4)),
            r"rnn_step_backward: dnext_h has shape \(2, 4\); expected \(2, 5\)",
        ),
    ],
)
def test_backward_refuses_upstream_gradient_of_the_wrong_shape(
    backward, forward, inputs, upstream, match
):
    _, cache = forward(*inputs)
    with pytest.raises(ValueError, match=match):
        backward(upstream, cache)


def test_lstm_step_backward_names_which_upstream_gradient_is_wrong():
    x, h, Wx, Wh, b = (
        np.zeros((2, 4)),
        np.zeros((2, 5)),
        np.zeros((4, 20)),
        np.zeros((5, 20)),
        np.zeros(20),
    )
    _, _, cache = lstm_step_forward(x, h, h, Wx, Wh, b)
    with pytest.raises(ValueError, match=r"dnext_c has shape \(5, 2\); expected \(2, 5\)"):
        lstm_step_backward(np.zeros((2, 5)), np.zeros((5, 2)), cache)


def test_sigmoid_refuses_integers():
    with pytest.raises(TypeError, match=r"sigmoid: x has dtype int64"):
        sigmoid(np.arange(3))
