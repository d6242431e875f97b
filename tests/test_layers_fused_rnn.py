"""Tests for course/layers/fused_rnn.py: the fast paths equal the references in rnn.py.

On drawn shapes (N = 1 and T = 1 included), in float32 and float64, with and
without an initial cell state, the fused functions give what the readable
loops of course/layers/rnn.py give (to 1e-12 in float64), every backward
agrees with centred differences below 1e-7 in float64, the last cell state
carries an LSTM from one window to the next, and no cache holds an array
that the function returns.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from layer_testing import SHAPE_IDS, SHAPES, recurrent_inputs

from course.gradcheck import gradient_errors, rel_error
from course.layers.fused_rnn import (
    lstm_backward_fused,
    lstm_forward_fused,
    rnn_backward_fused,
    rnn_forward_fused,
)
from course.layers.rnn import (
    lstm_backward,
    lstm_forward,
    lstm_step_forward,
    rnn_backward,
    rnn_forward,
)

QUALITY_BAR = 1e-7
EQUAL_TOL = {np.float64: 1e-12, np.float32: 1e-5}
PROPERTY = settings(max_examples=40, deadline=None, derandomize=True)


def lstm_fused_h(*inputs):
    """lstm_forward_fused returning (h, cache), the pair gradient_errors expects."""
    h, _, cache = lstm_forward_fused(*inputs)
    return h, cache


def cached_arrays(cache):
    """Every ndarray in a (nested) cache of tuples and lists."""
    if isinstance(cache, np.ndarray):
        return [cache]
    if isinstance(cache, (tuple, list)):
        return [a for item in cache for a in cached_arrays(item)]
    return []


@st.composite
def sequence_cases(draw):
    """((N, T, D, Hd), dtype, with_c0, seed)."""
    shape = tuple(draw(st.integers(1, high)) for high in (4, 6, 5, 5))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    return shape, dtype, draw(st.booleans()), draw(st.integers(0, 2**32 - 1))


# ---------------------------------------------------------------------------
# Fused == reference
# ---------------------------------------------------------------------------


def assert_equal_grads(grads, expected, dtype):
    assert len(grads) == len(expected)
    for k, (grad, want) in enumerate(zip(grads, expected, strict=True)):
        assert grad.shape == want.shape and grad.dtype == want.dtype == dtype, k
        assert rel_error(grad, want) < EQUAL_TOL[dtype], (k, rel_error(grad, want))


@PROPERTY
@given(case=sequence_cases())
def test_rnn_fused_equals_the_reference(case):
    shape, dtype, _, seed = case
    inputs = recurrent_inputs(shape, 1, seed, dtype)
    dh = np.random.default_rng(seed + 1).standard_normal((*shape[:2], shape[3])).astype(dtype)
    h, cache = rnn_forward_fused(*inputs)
    expected_h, expected_cache = rnn_forward(*inputs)
    assert h.dtype == expected_h.dtype == dtype
    assert rel_error(h, expected_h) < EQUAL_TOL[dtype]
    assert_equal_grads(rnn_backward_fused(dh, cache), rnn_backward(dh, expected_cache), dtype)


@PROPERTY
@given(case=sequence_cases())
def test_lstm_fused_equals_the_reference(case):
    shape, dtype, with_c0, seed = case
    rng = np.random.default_rng(seed + 1)
    inputs = recurrent_inputs(shape, 4, seed, dtype)
    if with_c0:
        inputs = (*inputs, rng.standard_normal((shape[0], shape[3])).astype(dtype))
    dh = rng.standard_normal((*shape[:2], shape[3])).astype(dtype)
    h, c_last, cache = lstm_forward_fused(*inputs)
    expected_h, expected_cache = lstm_forward(*inputs)
    assert h.dtype == c_last.dtype == expected_h.dtype == dtype
    assert rel_error(h, expected_h) < EQUAL_TOL[dtype]
    grads = lstm_backward_fused(dh, cache)
    assert len(grads) == (6 if with_c0 else 5)
    assert_equal_grads(grads, lstm_backward(dh, expected_cache), dtype)


@pytest.mark.parametrize("with_c0", [False, True], ids=["c0=None", "c0"])
def test_c_last_is_the_cell_state_after_the_last_step(with_c0):
    x, h0, Wx, Wh, b = recurrent_inputs((3, 5, 4, 6), 4, seed=2)
    c0 = np.random.default_rng(3).standard_normal(h0.shape) if with_c0 else None
    _, c_last, _ = lstm_forward_fused(x, h0, Wx, Wh, b, c0)
    prev_h, prev_c = h0, np.zeros_like(h0) if c0 is None else c0
    for t in range(x.shape[1]):
        prev_h, prev_c, _ = lstm_step_forward(x[:, t], prev_h, prev_c, Wx, Wh, b)
    assert c_last.shape == h0.shape
    assert rel_error(c_last, prev_c) < 1e-12


def test_carrying_h_and_c_across_windows_equals_one_long_sequence():
    """Truncated BPTT: window 2 starts from window 1's last h and c, as if never cut."""
    x, h0, Wx, Wh, b = recurrent_inputs((2, 9, 3, 4), 4, seed=4)
    h_all, c_all, _ = lstm_forward_fused(x, h0, Wx, Wh, b)
    h1, c1, _ = lstm_forward_fused(x[:, :4], h0, Wx, Wh, b)
    h2, c2, _ = lstm_forward_fused(x[:, 4:], h1[:, -1], Wx, Wh, b, c1)
    np.testing.assert_allclose(np.concatenate([h1, h2], axis=1), h_all, rtol=0, atol=1e-14)
    np.testing.assert_allclose(c2, c_all, rtol=0, atol=1e-14)


def test_a_zero_c0_gives_what_no_c0_gives():
    x, h0, Wx, Wh, b = recurrent_inputs((3, 4, 5, 6), 4, seed=5)
    dh = np.random.default_rng(6).standard_normal((3, 4, 6))
    h, c_last, cache = lstm_forward_fused(x, h0, Wx, Wh, b)
    h_zero, c_zero, cache_zero = lstm_forward_fused(x, h0, Wx, Wh, b, np.zeros_like(h0))
    np.testing.assert_array_equal(h, h_zero)
    np.testing.assert_array_equal(c_last, c_zero)
    grads, grads_zero = lstm_backward_fused(dh, cache), lstm_backward_fused(dh, cache_zero)
    assert len(grads) == 5 and len(grads_zero) == 6
    for grad, grad_zero in zip(grads, grads_zero[:5], strict=True):
        np.testing.assert_array_equal(grad, grad_zero)


# ---------------------------------------------------------------------------
# Gradients against centred differences (float64)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_rnn_fused_gradients(shape):
    inputs = recurrent_inputs(shape, gates=1, seed=7)
    errors = gradient_errors(rnn_forward_fused, rnn_backward_fused, inputs, seed=8)
    assert len(errors) == 5 and max(errors.values()) < QUALITY_BAR, errors


@pytest.mark.parametrize("with_c0", [False, True], ids=["c0=None", "c0"])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_lstm_fused_gradients(shape, with_c0):
    inputs = list(recurrent_inputs(shape, gates=4, seed=9))
    if with_c0:
        inputs.append(np.random.default_rng(10).standard_normal(inputs[1].shape))
    errors = gradient_errors(lstm_fused_h, lstm_backward_fused, inputs, seed=11)
    assert len(errors) == (6 if with_c0 else 5), errors
    assert max(errors.values()) < QUALITY_BAR, errors


# ---------------------------------------------------------------------------
# Caches, dtypes, purity
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_no_cache_holds_an_array_the_function_returns(shape):
    """N = 1 or T = 1 used to make the LSTM's h a view of its cached hidden states."""
    inputs = recurrent_inputs(shape, 1, seed=12)
    h, cache = rnn_forward_fused(*inputs)
    assert not any(np.shares_memory(a, h) for a in cached_arrays(cache))
    inputs = recurrent_inputs(shape, 4, seed=13)
    for c0 in (None, np.ones_like(inputs[1])):
        h, c_last, cache = lstm_forward_fused(*inputs, c0)
        for out in (h, c_last):
            assert not any(np.shares_memory(a, out) for a in cached_arrays(cache))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "lstm_c0"])
def test_fused_layers_keep_dtype_and_do_not_mutate(cell, dtype):
    inputs = recurrent_inputs((3, 4, 5, 6), 1 if cell == "rnn" else 4, seed=14, dtype=dtype)
    if cell == "lstm_c0":
        inputs = (*inputs, np.random.default_rng(15).standard_normal((3, 6)).astype(dtype))
    forward, backward = (
        (rnn_forward_fused, rnn_backward_fused)
        if cell == "rnn"
        else (lstm_fused_h, lstm_backward_fused)
    )
    copies = [a.copy() for a in inputs]
    h, cache = forward(*inputs)
    assert h.dtype == dtype
    dh = np.random.default_rng(16).standard_normal(h.shape).astype(dtype)
    dh_copy = dh.copy()
    grads = backward(dh, cache)
    assert all(g.dtype == dtype for g in grads), [g.dtype for g in grads]
    h[...] = 7.0  # the caller owns h: changing it changes nothing below
    for original, copy in zip((*inputs, dh), (*copies, dh_copy), strict=True):
        np.testing.assert_array_equal(original, copy)
    # The cache is left as the forward made it: a second backward gives the same gradients.
    for first, second in zip(grads, backward(dh, cache), strict=True):
        np.testing.assert_array_equal(first, second)


# ---------------------------------------------------------------------------
# Clear errors, naming the fused function
# ---------------------------------------------------------------------------


def test_fused_functions_name_themselves_in_errors():
    x, h0, Wx, Wh, b = recurrent_inputs((2, 3, 4, 5), 4)
    with pytest.raises(
        ValueError,
        match=r"^lstm_forward_fused: c0 has shape \(2, 4\); expected \(N, Hd\) = \(2, 5\)$",
    ):
        lstm_forward_fused(x, h0, Wx, Wh, b, np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"^rnn_forward_fused: Wh has shape \(5, 20\)"):
        rnn_forward_fused(x, h0, Wx, Wh, b)
    _, _, cache = lstm_forward_fused(x, h0, Wx, Wh, b)
    with pytest.raises(
        ValueError,
        match=r"lstm_backward_fused: dh has shape \(3, 2, 5\); expected \(2, 3, 5\), "
        r"the shape of the forward output h",
    ):
        lstm_backward_fused(np.zeros((3, 2, 5)), cache)
    x, h0, Wx, Wh, b = recurrent_inputs((2, 3, 4, 5), 1)
    _, cache = rnn_forward_fused(x, h0, Wx, Wh, b)
    with pytest.raises(ValueError, match=r"rnn_backward_fused: dh has shape \(2, 3, 4\)"):
        rnn_backward_fused(np.zeros((2, 3, 4)), cache)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_the_first_fused_layer_tunes_malloc_once(monkeypatch, cell):
    from course import allocator

    calls = []
    monkeypatch.setattr(allocator, "keep_freed_memory", lambda: calls.append(True))
    monkeypatch.setattr(allocator, "_kept", False)
    forward = rnn_forward_fused if cell == "rnn" else lstm_forward_fused
    inputs = recurrent_inputs(SHAPES[0], gates=1 if cell == "rnn" else 4)
    forward(*inputs)
    forward(*inputs)
    assert calls == [True]


# ---------------------------------------------------------------------------
# The ReLU RNN of the talk: h = max(0, x Wx + h Wh + b)
# ---------------------------------------------------------------------------


def relu_rnn_loop(x, h0, Wx, Wh, b):
    """The ReLU RNN written step by step; also returns every pre-activation (N, T, Hd)."""
    prev_h, hs, pre = h0, [], []
    for t in range(x.shape[1]):
        a = x[:, t] @ Wx + prev_h @ Wh + b  # (N, Hd)
        prev_h = np.maximum(a, 0)
        hs.append(prev_h)
        pre.append(a)
    return np.stack(hs, axis=1), np.stack(pre, axis=1)


def relu_fused(*inputs):
    return rnn_forward_fused(*inputs, activation="relu")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_relu_rnn_fused_equals_the_loop(shape, dtype):
    inputs = recurrent_inputs(shape, 1, seed=20, dtype=dtype)
    h, _ = relu_fused(*inputs)
    expected, pre = relu_rnn_loop(*inputs)
    assert h.dtype == dtype and h.shape == expected.shape
    assert np.all(h >= 0) and np.any(h == 0) == np.any(pre < 0)
    assert rel_error(h, expected) < EQUAL_TOL[dtype]


@pytest.mark.parametrize("shape", SHAPES, ids=SHAPE_IDS)
def test_relu_rnn_fused_gradients(shape):
    inputs = recurrent_inputs(shape, gates=1, seed=21)
    _, pre = relu_rnn_loop(*inputs)
    assert np.abs(pre).min() > 1e-3, "pick another seed: a pre-activation sits on the kink"
    errors = gradient_errors(relu_fused, rnn_backward_fused, inputs, seed=22)
    assert len(errors) == 5 and max(errors.values()) < QUALITY_BAR, errors


def test_relu_rnn_sends_no_gradient_through_a_dead_unit():
    x, h0, Wx, Wh, b = recurrent_inputs((2, 3, 4, 5), 1, seed=23)
    b = b.copy()
    b[0] = -100.0  # unit 0 is 0 at every step
    h, cache = relu_fused(x, h0, Wx, Wh, b)
    assert np.all(h[:, :, 0] == 0)
    _, _, dWx, dWh, db = rnn_backward_fused(np.ones_like(h), cache)
    assert db[0] == 0 and np.all(dWx[:, 0] == 0) and np.all(dWh[:, 0] == 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_rnn_keeps_dtype_and_does_not_mutate(dtype):
    inputs = recurrent_inputs((3, 4, 5, 6), 1, seed=24, dtype=dtype)
    copies = [a.copy() for a in inputs]
    h, cache = relu_fused(*inputs)
    grads = rnn_backward_fused(np.ones_like(h), cache)
    assert h.dtype == dtype and all(g.dtype == dtype for g in grads)
    for original, copy in zip(inputs, copies, strict=True):
        np.testing.assert_array_equal(original, copy)


def test_the_default_activation_is_tanh_and_others_are_refused():
    inputs = recurrent_inputs((2, 3, 4, 5), 1, seed=25)
    h, _ = rnn_forward_fused(*inputs)
    np.testing.assert_array_equal(h, rnn_forward_fused(*inputs, activation="tanh")[0])
    with pytest.raises(ValueError, match=r"^rnn_forward_fused: activation must be 'tanh' or "):
        rnn_forward_fused(*inputs, activation="sigmoid")
