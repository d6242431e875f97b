"""Tests for course/rnn_layers.py: gradients, sequence = loop of steps, dtypes, purity, errors.

Every backward function agrees with centred differences to a relative error
below 1e-7 in float64 on shapes that catch classic bugs (T = 1, N = 1,
D != Hd); the fast sequence functions agree with looping the teaching step
functions to 1e-12.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from course.gradcheck import gradient_errors, numerical_gradient, rel_error
from course.rnn_layers import (
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
    sigmoid,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)

QUALITY_BAR = 1e-7
LOOP_TOL = 1e-12

# (N, T, D, Hd): T = 1 and N = 1 edge cases, D < Hd, D > Hd, D == Hd.
SHAPES = [(3, 4, 5, 6), (1, 5, 4, 3), (4, 1, 3, 5), (1, 1, 2, 2), (2, 6, 7, 4)]
SHAPE_IDS = ["N3-T4-D5-Hd6", "N1-T5", "T1", "N1-T1", "T6-D7-Hd4"]


def recurrent_inputs(shape, gates, seed=0, dtype=np.float64):
    """(x, h0, Wx, Wh, b) for an RNN (gates=1) or LSTM (gates=4), scaled to avoid saturation."""
    N, T, D, Hd = shape
    rng = np.random.default_rng(seed)
    arrays = (
        rng.standard_normal((N, T, D)),
        rng.standard_normal((N, Hd)),
        rng.standard_normal((D, gates * Hd)) / np.sqrt(D),
        rng.standard_normal((Hd, gates * Hd)) / np.sqrt(Hd),
        rng.standard_normal(gates * Hd) * 0.5,
    )
    return tuple(a.astype(dtype) for a in arrays)


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


@pytest.mark.parametrize("N, T, V, D", [(3, 4, 5, 2), (1, 1, 3, 4), (2, 7, 2, 3)])
def test_word_embedding_gradient(N, T, V, D):
    rng = np.random.default_rng(8)
    x = rng.integers(0, V, size=(N, T))
    W = rng.standard_normal((V, D))
    errors = gradient_errors(word_embedding_forward, word_embedding_backward, [x, W])
    assert list(errors) == ["d1"] and errors["d1"] < QUALITY_BAR, errors


@pytest.mark.parametrize("N, T, D, M", [(3, 4, 5, 6), (1, 1, 3, 2), (2, 5, 4, 4)])
def test_temporal_affine_gradients(N, T, D, M):
    rng = np.random.default_rng(9)
    inputs = [rng.standard_normal((N, T, D)), rng.standard_normal((D, M)), rng.standard_normal(M)]
    errors = gradient_errors(temporal_affine_forward, temporal_affine_backward, inputs)
    assert len(errors) == 3 and max(errors.values()) < QUALITY_BAR, errors


@pytest.mark.parametrize("N, T, V", [(3, 4, 5), (1, 1, 3), (2, 6, 4)])
def test_temporal_softmax_loss_gradient(N, T, V):
    rng = np.random.default_rng(10)
    x = rng.standard_normal((N, T, V))
    y = rng.integers(0, V, size=(N, T))
    mask = rng.random((N, T)) < 0.7
    mask[0, 0] = True
    _, dx = temporal_softmax_loss(x, y, mask)
    numeric = numerical_gradient(lambda s: temporal_softmax_loss(s, y, mask)[0], x)
    assert rel_error(dx, numeric) < QUALITY_BAR


# ---------------------------------------------------------------------------
# The fast sequence functions compute what looping the step functions computes
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


def lstm_by_steps(x, h0, Wx, Wh, b, dh):
    """lstm_forward and lstm_backward written as loops over the teaching step functions."""
    T = x.shape[1]
    hs, caches, prev_h, prev_c = [], [], h0, np.zeros_like(h0)
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
    return np.stack(hs, axis=1), (np.stack(dxs, axis=1), dprev_h, dWx, dWh, db)


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
    """(name, forward, backward, inputs, number of outputs before the cache) for every layer."""
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
        (
            "word_embedding",
            word_embedding_forward,
            word_embedding_backward,
            (rng.integers(0, 7, size=(3, 4)), rng.standard_normal((7, 5)).astype(dtype)),
        ),
        (
            "temporal_affine",
            temporal_affine_forward,
            temporal_affine_backward,
            (rnn[0], rng.standard_normal((5, 2)).astype(dtype), np.zeros(2, dtype)),
        ),
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("index", range(6), ids=lambda i: all_layers(np.float64)[i][0])
def test_layers_keep_dtype_and_do_not_mutate(index, dtype):
    name, forward, backward, inputs = all_layers(dtype)[index]
    copies = [a.copy() for a in inputs]
    out, cache = forward(*inputs)
    assert out.dtype == dtype, name
    dout = np.random.default_rng(15).standard_normal(out.shape).astype(dtype)
    dout_copy = dout.copy()
    grads = backward(dout, cache)
    grads = (grads,) if isinstance(grads, np.ndarray) else grads
    assert all(g.dtype == dtype for g in grads), (name, [g.dtype for g in grads])
    for original, copy in zip((*inputs, dout), (*copies, dout_copy), strict=True):
        np.testing.assert_array_equal(original, copy)
        assert original.dtype == copy.dtype and original.shape == copy.shape
    # The cache is left as the forward made it: a second backward gives the same gradients.
    again = backward(dout, cache)
    again = (again,) if isinstance(again, np.ndarray) else again
    for first, second in zip(grads, again, strict=True):
        np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_temporal_softmax_loss_keeps_dtype_and_does_not_mutate(dtype):
    rng = np.random.default_rng(16)
    x = rng.standard_normal((2, 3, 4)).astype(dtype)
    y = rng.integers(0, 4, size=(2, 3))
    mask = np.array([[True, False, True], [True, True, False]])
    copies = (x.copy(), y.copy(), mask.copy())
    loss, dx = temporal_softmax_loss(x, y, mask)
    assert isinstance(loss, float) and dx.dtype == dtype
    for original, copy in zip((x, y, mask), copies, strict=True):
        np.testing.assert_array_equal(original, copy)


def test_lstm_step_outputs_keep_float32():
    x, h0, Wx, Wh, b = recurrent_inputs((2, 1, 3, 4), 4, dtype=np.float32)
    next_h, next_c, cache = lstm_step_forward(x[:, 0], h0, h0, Wx, Wh, b)
    assert next_h.dtype == next_c.dtype == np.float32
    grads = lstm_step_backward(np.ones_like(next_h), np.ones_like(next_c), cache)
    assert [g.dtype for g in grads] == [np.float32] * 6


# ---------------------------------------------------------------------------
# Word embedding and temporal softmax loss: what the maths says
# ---------------------------------------------------------------------------


def test_word_embedding_picks_rows_and_accumulates_repeated_words():
    W = np.arange(12.0).reshape(4, 3)  # (V, D)
    x = np.array([[2, 0, 2], [2, 3, 0]])  # word 2 three times, word 1 never
    out, cache = word_embedding_forward(x, W)
    np.testing.assert_array_equal(out, W[x])
    assert not np.shares_memory(out, W)
    dout = np.ones((2, 3, 3))
    dout[1, 0] = 10.0
    dW = word_embedding_backward(dout, cache)
    np.testing.assert_array_equal(dW, [[2, 2, 2], [0, 0, 0], [12, 12, 12], [1, 1, 1]])


def test_temporal_softmax_loss_of_a_hand_computed_example():
    """Uniform scores: each unmasked step costs log(V); the sum is divided by N."""
    x = np.zeros((2, 3, 4))
    y = np.array([[0, 1, 2], [3, 0, 1]])
    mask = np.array([[True, True, True], [True, False, False]])
    loss, dx = temporal_softmax_loss(x, y, mask)
    assert loss == pytest.approx(4 * np.log(4) / 2, rel=1e-15)
    expected = np.full((2, 3, 4), 0.25 / 2)
    expected[np.arange(2)[:, None], np.arange(3), y] -= 1 / 2
    expected[~mask] = 0
    np.testing.assert_allclose(dx, expected, rtol=0, atol=1e-16)


def test_temporal_softmax_loss_honours_the_mask():
    rng = np.random.default_rng(17)
    x = rng.standard_normal((3, 5, 6))
    y = rng.integers(0, 6, size=(3, 5))
    mask = np.arange(5) < np.array([5, 2, 3])[:, None]
    loss, dx = temporal_softmax_loss(x, y, mask)
    np.testing.assert_array_equal(dx[~mask], 0.0)
    changed = x.copy()
    changed[~mask] = rng.standard_normal((int((~mask).sum()), 6)) * 50
    other_y = np.where(mask, y, (y + 1) % 6)
    loss_changed, dx_changed = temporal_softmax_loss(changed, other_y, mask)
    assert loss_changed == pytest.approx(loss, rel=1e-14)
    np.testing.assert_allclose(dx_changed, dx, rtol=0, atol=1e-16)
    full_loss, _ = temporal_softmax_loss(x, y, np.ones_like(mask))
    assert full_loss > loss
    no_loss, no_dx = temporal_softmax_loss(x, y, np.zeros_like(mask))
    assert no_loss == 0.0 and not no_dx.any()


def test_temporal_softmax_loss_is_averaged_over_the_batch_not_the_tokens():
    """Repeating the batch leaves the loss as it is; doubling the tokens doubles it."""
    rng = np.random.default_rng(18)
    x = rng.standard_normal((2, 3, 4))
    y = rng.integers(0, 4, size=(2, 3))
    mask = np.array([[True, True, False], [True, False, False]])
    loss, _ = temporal_softmax_loss(x, y, mask)
    loss_twice, _ = temporal_softmax_loss(
        np.concatenate([x, x]), np.concatenate([y, y]), np.concatenate([mask, mask])
    )
    assert loss_twice == pytest.approx(loss, rel=1e-14)
    longer, _ = temporal_softmax_loss(
        np.concatenate([x, x], axis=1),
        np.concatenate([y, y], axis=1),
        np.concatenate([mask, mask], axis=1),
    )
    assert longer == pytest.approx(2 * loss, rel=1e-14)


@pytest.mark.parametrize("V", [10, 1000])
def test_initial_loss_is_log_v_per_unmasked_token(V):
    """Small random scores: every unmasked token costs about log(V); divided by N."""
    rng = np.random.default_rng(19)
    N, T = 50, 8
    x = 0.001 * rng.standard_normal((N, T, V))
    y = rng.integers(0, V, size=(N, T))
    mask = np.arange(T) < rng.integers(1, T + 1, size=N)[:, None]
    loss, _ = temporal_softmax_loss(x, y, mask)
    assert loss == pytest.approx(np.log(V) * mask.sum() / N, rel=1e-3)


def test_temporal_softmax_loss_survives_large_scores():
    x = np.array([[[1000.0, 0.0, -1000.0], [0.0, 2000.0, 1.0]]])  # (1, 2, 3)
    y = np.array([[0, 2]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, dx = temporal_softmax_loss(x, y, np.array([[True, True]]))
    assert loss == pytest.approx(1999.0)
    assert np.all(np.isfinite(dx))


def test_temporal_affine_applies_the_same_layer_at_every_step():
    rng = np.random.default_rng(20)
    x, w, b = rng.standard_normal((3, 4, 5)), rng.standard_normal((5, 2)), rng.standard_normal(2)
    out, _ = temporal_affine_forward(x, w, b)
    np.testing.assert_allclose(out, np.einsum("ntd,dm->ntm", x, w) + b, rtol=1e-13, atol=1e-14)


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
        (
            temporal_affine_backward,
            temporal_affine_forward,
            [np.zeros((2, 3, 4)), np.zeros((4, 6)), np.zeros(6)],
            np.zeros((2, 3)),
            r"temporal_affine_backward: dout has shape \(2, 3\); expected \(2, 3, 6\)",
        ),
        (
            word_embedding_backward,
            word_embedding_forward,
            [np.zeros((2, 3), dtype=int), np.zeros((4, 5))],
            np.zeros((2, 3, 4)),
            r"word_embedding_backward: dout has shape \(2, 3, 4\); expected \(2, 3, 5\)",
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


@pytest.mark.parametrize(
    "x, W, error, match",
    [
        (
            np.array([[0, 5]]),
            np.zeros((5, 3)),
            ValueError,
            r"word_embedding_forward: x must hold indices in \[0, 5\) for a vocabulary of V = 5; "
            r"got values from 0 to 5",
        ),
        (np.array([[-1, 2]]), np.zeros((5, 3)), ValueError, r"got values from -1 to 2"),
        (
            np.array([[0.0, 1.0]]),
            np.zeros((5, 3)),
            TypeError,
            r"x has dtype float64; expected integer word indices in \[0, 5\)",
        ),
        (
            np.array([0, 1]),
            np.zeros((5, 3)),
            ValueError,
            r"x has 1 dims \(2,\); expected 2 \(N, T\)",
        ),
        (np.array([[0, 1]]), np.zeros((5, 3), dtype=int), TypeError, r"W has dtype int64"),
        (np.array([[0, 1]]), np.zeros(5), ValueError, r"W has 1 dims \(5,\); expected 2 \(V, D\)"),
    ],
)
def test_word_embedding_forward_bad_inputs(x, W, error, match):
    with pytest.raises(error, match=match):
        word_embedding_forward(x, W)


@pytest.mark.parametrize(
    "x, w, b, match",
    [
        (
            np.zeros((2, 12)),
            np.zeros((12, 3)),
            np.zeros(3),
            r"x has 2 dims \(2, 12\); expected 3 \(N, T, D\)",
        ),
        (
            np.zeros((2, 3, 4)),
            np.zeros((5, 3)),
            np.zeros(3),
            r"w has shape \(5, 3\); expected \(D, M\) with D = 4 to match x of shape \(2, 3, 4\)",
        ),
        (
            np.zeros((2, 3, 4)),
            np.zeros((4, 3)),
            np.zeros(4),
            r"b has shape \(4,\); expected \(M,\) = \(3,\)",
        ),
    ],
)
def test_temporal_affine_forward_bad_inputs(x, w, b, match):
    with pytest.raises(ValueError, match=match):
        temporal_affine_forward(x, w, b)


@pytest.mark.parametrize(
    "x, y, mask, error, match",
    [
        (
            np.zeros((2, 3, 4)),
            np.zeros((2, 3), dtype=int),
            np.ones((2, 3)),
            TypeError,
            r"mask must be a boolean numpy array, got float64; build it with a comparison",
        ),
        (
            np.zeros((2, 3, 4)),
            np.zeros((2, 3), dtype=int),
            np.ones((3, 2), dtype=bool),
            ValueError,
            r"mask has shape \(3, 2\); expected \(N, T\) = \(2, 3\)",
        ),
        (
            np.zeros((2, 3, 4)),
            np.full((2, 3), 4),
            np.ones((2, 3), dtype=bool),
            ValueError,
            r"y must hold indices in \[0, 4\)",
        ),
        (
            np.zeros((2, 3, 4)),
            np.zeros((2, 2), dtype=int),
            np.ones((2, 3), dtype=bool),
            ValueError,
            r"y has shape \(2, 2\); expected \(N, T\) = \(2, 3\)",
        ),
        (
            np.zeros((6, 4)),
            np.zeros((2, 3), dtype=int),
            np.ones((2, 3), dtype=bool),
            ValueError,
            r"x has 2 dims \(6, 4\); expected 3 \(N, T, V\) scores",
        ),
        (
            np.zeros((0, 3, 4)),
            np.zeros((0, 3), dtype=int),
            np.ones((0, 3), dtype=bool),
            ValueError,
            r"N = 0",
        ),
    ],
)
def test_temporal_softmax_loss_bad_inputs(x, y, mask, error, match):
    with pytest.raises(error, match=match):
        temporal_softmax_loss(x, y, mask)


def test_sigmoid_refuses_integers():
    with pytest.raises(TypeError, match=r"sigmoid: x has dtype int64"):
        sigmoid(np.arange(3))
