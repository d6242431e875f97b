"""The recurrent checks fail on realistic wrong implementations and pass the reference.

Each function below is a mistake students make while writing the RNN and
LSTM layers, step and sequence; each catalogue entry names the message the
check must give for it: which output is wrong and how (wrong values, wrong
shape, wrong dtype, an input edited in place, a stub). Backward mistakes are
written against a correct forward of the kind students write first (a loop
over the step functions that keeps a list of step caches), which is itself
checked to pass.
"""

from __future__ import annotations

import numpy as np
import pytest
from check_catalogue import (
    WRONG,
    assert_check_fails,
    assert_check_passes_with_one_line,
    assert_distinct_mistakes,
    mistake,
    mistake_params,
    not_implemented,
)

from course import layers
from course.checks import (
    check_lstm_backward,
    check_lstm_forward,
    check_lstm_step_backward,
    check_lstm_step_forward,
    check_rnn_backward,
    check_rnn_forward,
    check_rnn_step_backward,
    check_rnn_step_forward,
)

sigmoid = layers.sigmoid


# ---------------------------------------------------------------------------
# rnn_step_forward(x, prev_h, Wx, Wh, b) -> (next_h, cache)
# ---------------------------------------------------------------------------


# Wh transposed: the hidden-to-hidden weights read the wrong way round.
def rnn_step_forward_wh_transposed(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x @ Wx + prev_h @ Wh.T + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


# Forgets the bias.
def rnn_step_forward_no_bias(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x @ Wx + prev_h @ Wh)
    return next_h, (x, prev_h, Wx, Wh, next_h)


# Sigmoid where the vanilla RNN uses tanh.
def rnn_step_forward_sigmoid(x, prev_h, Wx, Wh, b):
    next_h = 1 / (1 + np.exp(-(x @ Wx + prev_h @ Wh + b)))
    return next_h, (x, prev_h, Wx, Wh, next_h)


# Pairs x with Wh and prev_h with Wx.
def rnn_step_forward_weights_swapped(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(x @ Wh + prev_h @ Wx + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


# Fills a float64 np.zeros, so float32 inputs give a float64 state.
def rnn_step_forward_zeros_upcast(x, prev_h, Wx, Wh, b):
    next_h = np.zeros((x.shape[0], Wh.shape[0]))
    next_h[:] = np.tanh(x @ Wx + prev_h @ Wh + b)
    return next_h, (x, prev_h, Wx, Wh, next_h)


# Updates the hidden state in place: the caller's prev_h becomes next_h.
def rnn_step_forward_updates_prev_h(x, prev_h, Wx, Wh, b):
    prev_h[:] = np.tanh(x @ Wx + prev_h @ Wh + b)
    return prev_h, (x, prev_h, Wx, Wh, prev_h)


# Column-vector convention from the maths: returns (Hd, N).
def rnn_step_forward_column_convention(x, prev_h, Wx, Wh, b):
    next_h = np.tanh(Wx.T @ x.T + Wh.T @ prev_h.T + b[:, None])
    return next_h, (x, prev_h, Wx, Wh, next_h)


# Forgets the cache.
def rnn_step_forward_no_cache(x, prev_h, Wx, Wh, b):
    return np.tanh(x @ Wx + prev_h @ Wh + b)


RNN_STEP_FORWARD_MISTAKES = [
    mistake(
        rnn_step_forward_wh_transposed,
        match=f"next_h {WRONG}.* Hint: .*not transposed",
        id="wh-transposed",
    ),
    mistake(
        rnn_step_forward_no_bias,
        match=f"next_h {WRONG}.* Hint: .*the bias b is missing",
        id="no-bias",
    ),
    mistake(
        rnn_step_forward_sigmoid,
        match=f"next_h {WRONG}.* Hint: .*squashes with tanh, not the sigmoid",
        id="sigmoid-not-tanh",
    ),
    mistake(
        rnn_step_forward_weights_swapped,
        match=r"rnn_step_forward_weights_swapped raised ValueError: matmul",
        id="weights-swapped",
    ),
    mistake(
        rnn_step_forward_zeros_upcast,
        match=r"next_h \(float32\) has dtype float64 for float32 inputs",
        id="float64-zeros-upcast",
    ),
    mistake(
        rnn_step_forward_updates_prev_h,
        match=r"changed its input argument 2 in place",
        id="prev-h-in-place",
    ),
    mistake(
        rnn_step_forward_column_convention,
        match=r"next_h has the wrong shape: got \(4, 2\), expected \(2, 4\)",
        id="column-convention",
    ),
    mistake(
        rnn_step_forward_no_cache,
        match=r"must return a tuple \(next_h, cache\); it returned ndarray",
        id="no-cache",
    ),
    mistake(not_implemented, match=r"not_implemented is not implemented yet", id="stub"),
]


# ---------------------------------------------------------------------------
# rnn_step_backward(dnext_h, cache) -> (dx, dprev_h, dWx, dWh, db)
# The reference forward's cache is (x, prev_h, Wx, Wh, next_h).
# ---------------------------------------------------------------------------


def rnn_step_forward_caching_a(x, prev_h, Wx, Wh, b):
    """A correct forward that caches the pre-activation a instead of next_h."""
    a = x @ Wx + prev_h @ Wh + b
    return np.tanh(a), (x, prev_h, Wx, Wh, a)


def rnn_step_backward_from_a(dnext_h, cache):
    """The correct backward for the forward above."""
    x, prev_h, Wx, Wh, a = cache
    da = dnext_h * (1 - np.tanh(a) ** 2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


# tanh'(a) computed as 1 - a**2 from the pre-activation instead of the output.
def rnn_step_backward_tanh_grad_from_a(dnext_h, cache):
    x, prev_h, Wx, Wh, a = cache
    da = dnext_h * (1 - a**2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


# Applies tanh a second time: 1 - tanh(next_h)**2.
def rnn_step_backward_tanh_twice(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - np.tanh(next_h) ** 2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


# Forgets the tanh derivative altogether.
def rnn_step_backward_no_tanh_grad(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


# dWx with the factors swapped: (Hd, D) instead of (D, Hd).
def rnn_step_backward_dwx_swapped(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h**2)
    return da @ Wx.T, da @ Wh.T, da.T @ x, prev_h.T @ da, da.sum(axis=0)


# dWh from the state that came out of the step instead of the one that went in.
def rnn_step_backward_dwh_from_next_h(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h**2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, next_h.T @ da, da.sum(axis=0)


# db = da: not summed over the batch.
def rnn_step_backward_db_not_summed(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h**2)
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da


# Multiplies dnext_h by the tanh derivative in place.
def rnn_step_backward_edits_dnext_h(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    dnext_h *= 1 - next_h**2
    da = dnext_h
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


# Fills dx into a float64 np.zeros.
def rnn_step_backward_zeros_upcast(dnext_h, cache):
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h * (1 - next_h**2)
    dx = np.zeros(x.shape)
    dx[:] = da @ Wx.T
    return dx, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


_REF_RNN_STEP = layers.rnn_step_forward
RNN_STEP_BACKWARD_MISTAKES = [
    mistake(
        rnn_step_forward_caching_a,
        rnn_step_backward_tanh_grad_from_a,
        match=f"dx {WRONG}.*from the OUTPUT next_h",
        id="tanh-grad-from-pre-activation",
    ),
    mistake(
        _REF_RNN_STEP,
        rnn_step_backward_tanh_twice,
        match=f"dx {WRONG}.* Hint: .*applying tanh to next_h again",
        id="tanh-twice",
    ),
    mistake(
        _REF_RNN_STEP,
        rnn_step_backward_no_tanh_grad,
        match=f"dx {WRONG}.* Hint: .*the gradient skipped tanh",
        id="no-tanh-grad",
    ),
    mistake(
        _REF_RNN_STEP,
        rnn_step_backward_dwx_swapped,
        match=r"dWx has the wrong shape: got \(6, 5\), expected \(5, 6\)",
        id="dwx-swapped",
    ),
    mistake(
        _REF_RNN_STEP,
        rnn_step_backward_dwh_from_next_h,
        match=f"dWh {WRONG}.* Hint: .*Wh multiplied the INCOMING state prev_h",
        id="dwh-next-h",
    ),
    mistake(
        _REF_RNN_STEP,
        rnn_step_backward_db_not_summed,
        match=r"db has the wrong shape: got \(3, 6\), expected \(6,\)",
        id="db-not-summed",
    ),
    mistake(
        _REF_RNN_STEP,
        rnn_step_backward_edits_dnext_h,
        match=r"changed its input argument 1 in place",
        id="dnext-h-in-place",
    ),
    mistake(
        _REF_RNN_STEP,
        rnn_step_backward_zeros_upcast,
        match=r"dx \(float32\) has dtype float64 for float32 inputs",
        id="float64-zeros-upcast",
    ),
    mistake(_REF_RNN_STEP, not_implemented, match=r"is not implemented yet", id="stub"),
]


# ---------------------------------------------------------------------------
# rnn_forward(x, h0, Wx, Wh, b) -> (h, cache)
# ---------------------------------------------------------------------------


# Starts every step from h0: the state is never carried.
def rnn_forward_h0_every_step(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    for t in range(T):
        h[:, t], _ = layers.rnn_step_forward(x[:, t], h0, Wx, Wh, b)
    return h, None


# Stores the state that went into each step: h is shifted by one step.
def rnn_forward_stores_prev_h(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    prev_h = h0
    for t in range(T):
        h[:, t] = prev_h
        prev_h, _ = layers.rnn_step_forward(x[:, t], prev_h, Wx, Wh, b)
    return h, None


# Stacks the states along a new first axis: (T, N, Hd).
def rnn_forward_time_major(x, h0, Wx, Wh, b):
    hs, prev_h = [], h0
    for t in range(x.shape[1]):
        prev_h, _ = layers.rnn_step_forward(x[:, t], prev_h, Wx, Wh, b)
        hs.append(prev_h)
    return np.stack(hs), None


# Returns only the last hidden state.
def rnn_forward_last_state_only(x, h0, Wx, Wh, b):
    prev_h = h0
    for t in range(x.shape[1]):
        prev_h, _ = layers.rnn_step_forward(x[:, t], prev_h, Wx, Wh, b)
    return prev_h, None


# Indexes time on the first axis, as if x were (T, N, D).
def rnn_forward_time_first(x, h0, Wx, Wh, b):
    hs, prev_h = [], h0
    for t in range(x.shape[1]):
        prev_h, _ = layers.rnn_step_forward(x[t], prev_h, Wx, Wh, b)
        hs.append(prev_h)
    return np.stack(hs, axis=1), None


# Preallocates h with np.zeros in float64.
def rnn_forward_zeros_upcast(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]))
    prev_h = h0
    for t in range(T):
        prev_h, _ = layers.rnn_step_forward(x[:, t], prev_h, Wx, Wh, b)
        h[:, t] = prev_h
    return h, None


# prev_h = h0 is not a copy: writing the new state into it overwrites the caller's h0.
def rnn_forward_overwrites_h0(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    prev_h = h0
    for t in range(T):
        prev_h[:] = np.tanh(x[:, t] @ Wx + prev_h @ Wh + b)
        h[:, t] = prev_h
    return h, None


RNN_FORWARD_MISTAKES = [
    mistake(
        rnn_forward_h0_every_step,
        match=f"h {WRONG}.* Hint: .*every step started from h0",
        id="h0-every-step",
    ),
    mistake(
        rnn_forward_stores_prev_h,
        match=f"h {WRONG}.* Hint: .*holds the state step t RETURNS",
        id="stores-prev-h",
    ),
    mistake(
        rnn_forward_time_major,
        match=r"h has the wrong shape: got \(3, 2, 4\), expected \(2, 3, 4\)",
        id="time-major",
    ),
    mistake(
        rnn_forward_last_state_only,
        match=r"h has the wrong shape: got \(2, 4\), expected \(2, 3, 4\)",
        id="last-state-only",
    ),
    mistake(
        rnn_forward_time_first,
        match=r"raised ValueError: rnn_step_forward: prev_h has shape \(2, 4\)",
        id="x-indexed-time-first",
    ),
    mistake(
        rnn_forward_zeros_upcast,
        match=r"h \(float32\) has dtype float64 for float32 inputs; keep the dtype of the "
        r"inputs\. Hint: make new arrays with the inputs' dtype: np\.zeros\(shape, "
        r"dtype=x\.dtype\) or np\.zeros_like\(x\), because a float64 array \(np\.zeros\(shape\) "
        r"without dtype=, .*\) upcasts everything it touches to float64$",
        id="float64-zeros-upcast",
    ),
    mistake(
        rnn_forward_overwrites_h0,
        match=r"changed its input argument 2 in place",
        id="h0-in-place",
    ),
    mistake(not_implemented, match=r"not_implemented is not implemented yet", id="stub"),
]


# ---------------------------------------------------------------------------
# rnn_backward(dh, cache) -> (dx, dh0, dWx, dWh, db)
# Written against rnn_forward_loop, whose cache is the list of step caches.
# ---------------------------------------------------------------------------


def rnn_forward_loop(x, h0, Wx, Wh, b):
    """A correct rnn_forward as a loop over rnn_step_forward."""
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    caches, prev_h = [], h0
    for t in range(T):
        prev_h, cache = layers.rnn_step_forward(x[:, t], prev_h, Wx, Wh, b)
        h[:, t] = prev_h
        caches.append(cache)
    return h, caches


def rnn_backward_loop(dh, caches):
    """A correct rnn_backward as a loop over rnn_step_backward."""
    N, T, Hd = dh.shape
    dx = np.zeros((N, T, caches[0][0].shape[1]), dtype=dh.dtype)
    dprev_h = np.zeros((N, Hd), dtype=dh.dtype)
    dWx = dWh = db = 0
    for t in reversed(range(T)):
        dx[:, t], dprev_h, dWx_t, dWh_t, db_t = layers.rnn_step_backward(
            dh[:, t] + dprev_h, caches[t]
        )
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dprev_h, dWx, dWh, db


# BPTT that forgets the gradient flowing back from step t+1.
def rnn_backward_no_bptt(dh, caches):
    N, T, Hd = dh.shape
    dx = np.zeros((N, T, caches[0][0].shape[1]), dtype=dh.dtype)
    dWx = dWh = db = 0
    for t in reversed(range(T)):
        dx[:, t], dprev_h, dWx_t, dWh_t, db_t = layers.rnn_step_backward(dh[:, t], caches[t])
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dprev_h, dWx, dWh, db


# Loops forward in time: the gradient from step t+1 is not there yet.
def rnn_backward_forward_in_time(dh, caches):
    N, T, Hd = dh.shape
    dx = np.zeros((N, T, caches[0][0].shape[1]), dtype=dh.dtype)
    dprev_h = np.zeros((N, Hd), dtype=dh.dtype)
    dWx = dWh = db = 0
    for t in range(T):
        dx[:, t], dprev_h, dWx_t, dWh_t, db_t = layers.rnn_step_backward(
            dh[:, t] + dprev_h, caches[t]
        )
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dprev_h, dWx, dWh, db


# Takes h0 for h[:, 0] and returns the upstream gradient of the first output as dh0.
def rnn_backward_dh0_is_dh_first(dh, caches):
    dx, _, dWx, dWh, db = rnn_backward_loop(dh, caches)
    return dx, dh[:, 0], dWx, dWh, db


# Forgets dh0 in the returned tuple.
def rnn_backward_no_dh0(dh, caches):
    dx, _, dWx, dWh, db = rnn_backward_loop(dh, caches)
    return dx, dWx, dWh, db


# Overwrites dWh at every step: only step 0's gradient is left.
def rnn_backward_overwrites_dwh(dh, caches):
    N, T, Hd = dh.shape
    dx = np.zeros((N, T, caches[0][0].shape[1]), dtype=dh.dtype)
    dprev_h = np.zeros((N, Hd), dtype=dh.dtype)
    dWx = db = 0
    for t in reversed(range(T)):
        dx[:, t], dprev_h, dWx_t, dWh, db_t = layers.rnn_step_backward(
            dh[:, t] + dprev_h, caches[t]
        )
        dWx, db = dWx + dWx_t, db + db_t
    return dx, dprev_h, dWx, dWh, db


# Keeps db of every step: (T, Hd), not summed over the time steps.
def rnn_backward_db_per_step(dh, caches):
    N, T, Hd = dh.shape
    dx = np.zeros((N, T, caches[0][0].shape[1]), dtype=dh.dtype)
    dprev_h = np.zeros((N, Hd), dtype=dh.dtype)
    dWx = dWh = 0
    db = np.zeros((T, Hd), dtype=dh.dtype)
    for t in reversed(range(T)):
        dx[:, t], dprev_h, dWx_t, dWh_t, db[t] = layers.rnn_step_backward(
            dh[:, t] + dprev_h, caches[t]
        )
        dWx, dWh = dWx + dWx_t, dWh + dWh_t
    return dx, dprev_h, dWx, dWh, db


# Adds the gradient from step t+1 into the caller's dh.
def rnn_backward_adds_into_dh(dh, caches):
    N, T, Hd = dh.shape
    dx = np.zeros((N, T, caches[0][0].shape[1]), dtype=dh.dtype)
    dprev_h = np.zeros((N, Hd), dtype=dh.dtype)
    dWx = dWh = db = 0
    for t in reversed(range(T)):
        dh[:, t] += dprev_h
        dx[:, t], dprev_h, dWx_t, dWh_t, db_t = layers.rnn_step_backward(dh[:, t], caches[t])
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dprev_h, dWx, dWh, db


# Pops the step caches off the list: the cache is emptied, so backward cannot run twice.
def rnn_backward_pops_caches(dh, caches):
    N, T, Hd = dh.shape
    dx = np.zeros((N, T, caches[0][0].shape[1]), dtype=dh.dtype)
    dprev_h = np.zeros((N, Hd), dtype=dh.dtype)
    dWx = dWh = db = 0
    for t in reversed(range(T)):
        dx[:, t], dprev_h, dWx_t, dWh_t, db_t = layers.rnn_step_backward(
            dh[:, t] + dprev_h, caches.pop()
        )
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dprev_h, dWx, dWh, db


# Preallocates dx with np.zeros in float64.
def rnn_backward_zeros_upcast(dh, caches):
    dx, dh0, dWx, dWh, db = rnn_backward_loop(dh, caches)
    dx64 = np.zeros(dx.shape)
    dx64[:] = dx
    return dx64, dh0, dWx, dWh, db


# Collects the step gradients in a list and stacks them along a new first axis.
def rnn_backward_dx_time_major(dh, caches):
    N, T, Hd = dh.shape
    dxs, dprev_h = [], np.zeros((N, Hd), dtype=dh.dtype)
    dWx = dWh = db = 0
    for t in reversed(range(T)):
        dx_t, dprev_h, dWx_t, dWh_t, db_t = layers.rnn_step_backward(dh[:, t] + dprev_h, caches[t])
        dxs.insert(0, dx_t)
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return np.stack(dxs), dprev_h, dWx, dWh, db


RNN_BACKWARD_MISTAKES = [
    mistake(
        rnn_forward_loop,
        rnn_backward_no_bptt,
        match=f"dx {WRONG}.* Hint: .*dprev_h. was dropped",
        id="no-bptt",
    ),
    mistake(
        rnn_forward_loop,
        rnn_backward_forward_in_time,
        match=f"dx {WRONG}.* Hint: .*backprop runs BACKWARD in time",
        id="forward-t",
    ),
    mistake(
        rnn_forward_loop, rnn_backward_dh0_is_dh_first, match=f"dh0 {WRONG}", id="dh0-is-dh-0"
    ),
    mistake(
        rnn_forward_loop,
        rnn_backward_no_dh0,
        match=r"must return a tuple \(dx, dh0, dWx, dWh, db\); it returned a tuple of length 4",
        id="dh0-not-returned",
    ),
    mistake(rnn_forward_loop, rnn_backward_overwrites_dwh, match=f"dWh {WRONG}", id="dwh-="),
    mistake(
        rnn_forward_loop,
        rnn_backward_db_per_step,
        match=r"db has the wrong shape: got \(4, 6\), expected \(6,\)",
        id="db-not-summed-over-t",
    ),
    mistake(
        rnn_forward_loop,
        rnn_backward_adds_into_dh,
        match=r"changed its input argument 1 in place",
        id="dh-in-place",
    ),
    mistake(
        rnn_forward_loop,
        rnn_backward_pops_caches,
        match=r"changed its input argument 2 in place\. Hint: a backward pass must leave the "
        r"cache as the forward left it; it lost or gained items \(caches\.pop\(\), del, append\), "
        r"so a second backward on the same cache would fail .* never pop it$",
        id="pops-caches",
    ),
    mistake(
        rnn_forward_loop,
        rnn_backward_zeros_upcast,
        match=r"dx \(float32\) has dtype float64 for float32 inputs",
        id="float64-zeros-upcast",
    ),
    mistake(
        rnn_forward_loop,
        rnn_backward_dx_time_major,
        match=r"dx has the wrong shape: got \(4, 3, 5\), expected \(3, 4, 5\)",
        id="dx-time-major",
    ),
    mistake(rnn_forward_loop, not_implemented, match=r"is not implemented yet", id="stub"),
]


# ---------------------------------------------------------------------------
# lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b) -> (next_h, next_c, cache)
# ---------------------------------------------------------------------------


def _gates(x, prev_h, Wx, Wh, b):
    """The pre-activation a (N, 4Hd) and Hd: the part every student gets right."""
    return x @ Wx + prev_h @ Wh + b, prev_h.shape[1]


# The forget gate scales the new candidate and the input gate the old cell.
def lstm_step_forward_forget_on_candidate(x, prev_h, prev_c, Wx, Wh, b):
    a, Hd = _gates(x, prev_h, Wx, Wh, b)
    i, f, o = sigmoid(a[:, :Hd]), sigmoid(a[:, Hd : 2 * Hd]), sigmoid(a[:, 2 * Hd : 3 * Hd])
    g = np.tanh(a[:, 3 * Hd :])
    next_c = f * g + i * prev_c
    return o * np.tanh(next_c), next_c, None


# Gates in the order i, f, g, o (as some papers write them).
def lstm_step_forward_gates_ifgo(x, prev_h, prev_c, Wx, Wh, b):
    a, Hd = _gates(x, prev_h, Wx, Wh, b)
    i, f = sigmoid(a[:, :Hd]), sigmoid(a[:, Hd : 2 * Hd])
    g, o = np.tanh(a[:, 2 * Hd : 3 * Hd]), sigmoid(a[:, 3 * Hd :])
    next_c = f * prev_c + i * g
    return o * np.tanh(next_c), next_c, None


# Sigmoid for the candidate g as well.
def lstm_step_forward_sigmoid_g(x, prev_h, prev_c, Wx, Wh, b):
    a, Hd = _gates(x, prev_h, Wx, Wh, b)
    i, f, o, g = (sigmoid(a[:, k * Hd : (k + 1) * Hd]) for k in range(4))
    next_c = f * prev_c + i * g
    return o * np.tanh(next_c), next_c, None


# next_h = o * next_c: forgets the tanh of the cell.
def lstm_step_forward_no_tanh_on_cell(x, prev_h, prev_c, Wx, Wh, b):
    a, Hd = _gates(x, prev_h, Wx, Wh, b)
    i, f, o = sigmoid(a[:, :Hd]), sigmoid(a[:, Hd : 2 * Hd]), sigmoid(a[:, 2 * Hd : 3 * Hd])
    next_c = f * prev_c + i * np.tanh(a[:, 3 * Hd :])
    return o * next_c, next_c, None


# tanh for the output gate.
def lstm_step_forward_tanh_o(x, prev_h, prev_c, Wx, Wh, b):
    a, Hd = _gates(x, prev_h, Wx, Wh, b)
    i, f, o = sigmoid(a[:, :Hd]), sigmoid(a[:, Hd : 2 * Hd]), np.tanh(a[:, 2 * Hd : 3 * Hd])
    next_c = f * prev_c + i * np.tanh(a[:, 3 * Hd :])
    return o * np.tanh(next_c), next_c, None


# Updates the cell in place: the caller's prev_c becomes next_c.
def lstm_step_forward_updates_prev_c(x, prev_h, prev_c, Wx, Wh, b):
    a, Hd = _gates(x, prev_h, Wx, Wh, b)
    i, f, o = sigmoid(a[:, :Hd]), sigmoid(a[:, Hd : 2 * Hd]), sigmoid(a[:, 2 * Hd : 3 * Hd])
    prev_c *= f
    prev_c += i * np.tanh(a[:, 3 * Hd :])
    return o * np.tanh(prev_c), prev_c, None


# np.split(a, 4) splits the rows (the batch), not the 4Hd columns.
def lstm_step_forward_split_rows(x, prev_h, prev_c, Wx, Wh, b):
    a, Hd = _gates(x, prev_h, Wx, Wh, b)
    ai, af, ao, ag = np.split(a, 4)
    next_c = sigmoid(af) * prev_c + sigmoid(ai) * np.tanh(ag)
    return sigmoid(ao) * np.tanh(next_c), next_c, None


# Computes the gates into a float64 np.zeros.
def lstm_step_forward_zeros_upcast(x, prev_h, prev_c, Wx, Wh, b):
    Hd = prev_h.shape[1]
    a = np.zeros((x.shape[0], 4 * Hd))
    a[:] = x @ Wx + prev_h @ Wh + b
    i, f, o = sigmoid(a[:, :Hd]), sigmoid(a[:, Hd : 2 * Hd]), sigmoid(a[:, 2 * Hd : 3 * Hd])
    next_c = f * prev_c + i * np.tanh(a[:, 3 * Hd :])
    return o * np.tanh(next_c), next_c, None


# Column-vector convention from the maths: the states come out as (Hd, N).
def lstm_step_forward_column_convention(x, prev_h, prev_c, Wx, Wh, b):
    Hd = prev_h.shape[1]
    a = Wx.T @ x.T + Wh.T @ prev_h.T + b[:, None]  # (4Hd, N)
    i, f, o = sigmoid(a[:Hd]), sigmoid(a[Hd : 2 * Hd]), sigmoid(a[2 * Hd : 3 * Hd])
    next_c = f * prev_c.T + i * np.tanh(a[3 * Hd :])
    return o * np.tanh(next_c), next_c, None


# Returns (next_h, cache), as the RNN step does.
def lstm_step_forward_no_next_c(x, prev_h, prev_c, Wx, Wh, b):
    next_h, next_c, cache = lstm_step_forward_student(x, prev_h, prev_c, Wx, Wh, b)
    return next_h, cache


LSTM_STEP_FORWARD_MISTAKES = [
    mistake(
        lstm_step_forward_forget_on_candidate,
        match=f"next_c {WRONG}.*the forget gate scales the OLD cell",
        id="forget-gate-on-candidate",
    ),
    mistake(
        lstm_step_forward_gates_ifgo,
        match=f"next_c {WRONG}.*in that order",
        id="gates-ifgo",
    ),
    mistake(
        lstm_step_forward_sigmoid_g,
        match=f"next_c {WRONG}.* Hint: .*the candidate g is squashed by tanh",
        id="sigmoid-for-g",
    ),
    mistake(
        lstm_step_forward_no_tanh_on_cell,
        match=f"next_h {WRONG}.* Hint: .*squashes the new cell with tanh",
        id="no-tanh-on-cell",
    ),
    mistake(
        lstm_step_forward_tanh_o,
        match=f"next_h {WRONG}.* Hint: .*the output gate o is a gate",
        id="tanh-for-o",
    ),
    mistake(
        lstm_step_forward_updates_prev_c,
        match=r"changed its input argument 3 in place",
        id="prev-c-in-place",
    ),
    mistake(
        lstm_step_forward_split_rows,
        match=r"raised ValueError: array split does not result in an equal division",
        id="np-split-rows",
    ),
    mistake(
        lstm_step_forward_zeros_upcast,
        match=r"next_c \(float32\) has dtype float64 for float32 inputs",
        id="float64-zeros-upcast",
    ),
    mistake(
        lstm_step_forward_column_convention,
        match=r"next_c has the wrong shape: got \(4, 2\), expected \(2, 4\)",
        id="column-convention",
    ),
    mistake(
        lstm_step_forward_no_next_c,
        match=r"must return a tuple \(next_h, next_c, cache\); it returned a tuple of length 2",
        id="no-next-c",
    ),
    mistake(not_implemented, match=r"not_implemented is not implemented yet", id="stub"),
]


# ---------------------------------------------------------------------------
# lstm_step_backward(dnext_h, dnext_c, cache) -> (dx, dprev_h, dprev_c, dWx, dWh, db)
# Written against lstm_step_forward_student, which caches next_c.
# ---------------------------------------------------------------------------


def lstm_step_forward_student(x, prev_h, prev_c, Wx, Wh, b):
    """A correct LSTM step that caches the gates and next_c."""
    a, Hd = _gates(x, prev_h, Wx, Wh, b)
    i, f, o = sigmoid(a[:, :Hd]), sigmoid(a[:, Hd : 2 * Hd]), sigmoid(a[:, 2 * Hd : 3 * Hd])
    g = np.tanh(a[:, 3 * Hd :])
    next_c = f * prev_c + i * g
    return o * np.tanh(next_c), next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c)


def lstm_step_backward_student(dnext_h, dnext_c, cache):
    """The correct backward for the forward above."""
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tanh_c = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tanh_c**2)
    di, df, do, dg = dc * g, dc * prev_c, dnext_h * tanh_c, dc * i
    da = np.hstack([di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g**2)])
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def _lstm_step_params(da, cache):
    """dx, dprev_h, dWx, dWh, db from the gate gradients: the part that is usually right."""
    x, prev_h, _, Wx, Wh = cache[:5]
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


# tanh' of the cell computed from next_c itself: 1 - next_c**2.
def lstm_step_backward_tanh_grad_from_c(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    dc = dnext_c + dnext_h * o * (1 - next_c**2)
    do = dnext_h * np.tanh(next_c)
    da = np.hstack(
        [dc * g * i * (1 - i), dc * prev_c * f * (1 - f), do * o * (1 - o), dc * i * (1 - g**2)]
    )
    dx, dprev_h, dWx, dWh, db = _lstm_step_params(da, cache)
    return dx, dprev_h, dc * f, dWx, dWh, db


# Forgets dnext_c: the cell's gradient comes only through next_h.
def lstm_step_backward_ignores_dnext_c(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tanh_c = np.tanh(next_c)
    dc = dnext_h * o * (1 - tanh_c**2)
    do = dnext_h * tanh_c
    da = np.hstack(
        [dc * g * i * (1 - i), dc * prev_c * f * (1 - f), do * o * (1 - o), dc * i * (1 - g**2)]
    )
    dx, dprev_h, dWx, dWh, db = _lstm_step_params(da, cache)
    return dx, dprev_h, dc * f, dWx, dWh, db


# Stacks the gate gradients in the order i, f, g, o.
def lstm_step_backward_stacks_ifgo(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tanh_c = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tanh_c**2)
    do = dnext_h * tanh_c
    da = np.hstack(
        [dc * g * i * (1 - i), dc * prev_c * f * (1 - f), dc * i * (1 - g**2), do * o * (1 - o)]
    )
    dx, dprev_h, dWx, dWh, db = _lstm_step_params(da, cache)
    return dx, dprev_h, dc * f, dWx, dWh, db


# The tanh derivative 1 - s**2 for the sigmoid gates too.
def lstm_step_backward_tanh_grad_for_gates(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tanh_c = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tanh_c**2)
    do = dnext_h * tanh_c
    da = np.hstack(
        [dc * g * (1 - i**2), dc * prev_c * (1 - f**2), do * (1 - o**2), dc * i * (1 - g**2)]
    )
    dx, dprev_h, dWx, dWh, db = _lstm_step_params(da, cache)
    return dx, dprev_h, dc * f, dWx, dWh, db


# dprev_c = dnext_c * f: forgets the part of the cell's gradient that came through next_h.
def lstm_step_backward_dprev_c_partial(dnext_h, dnext_c, cache):
    dx, dprev_h, _, dWx, dWh, db = lstm_step_backward_student(dnext_h, dnext_c, cache)
    f = cache[6]
    return dx, dprev_h, dnext_c * f, dWx, dWh, db


# db = da: not summed over the batch.
def lstm_step_backward_db_not_summed(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tanh_c = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tanh_c**2)
    do = dnext_h * tanh_c
    da = np.hstack(
        [dc * g * i * (1 - i), dc * prev_c * f * (1 - f), do * o * (1 - o), dc * i * (1 - g**2)]
    )
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da


# dWx with the factors swapped: (4Hd, D).
def lstm_step_backward_dwx_swapped(dnext_h, dnext_c, cache):
    dx, dprev_h, dprev_c, dWx, dWh, db = lstm_step_backward_student(dnext_h, dnext_c, cache)
    return dx, dprev_h, dprev_c, dWx.T, dWh, db


# Adds the gradient through next_h into the caller's dnext_c.
def lstm_step_backward_edits_dnext_c(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tanh_c = np.tanh(next_c)
    dnext_c += dnext_h * o * (1 - tanh_c**2)
    dc = dnext_c
    da = np.hstack(
        [
            dc * g * i * (1 - i),
            dc * prev_c * f * (1 - f),
            dnext_h * tanh_c * o * (1 - o),
            dc * i * (1 - g**2),
        ]
    )
    dx, dprev_h, dWx, dWh, db = _lstm_step_params(da, cache)
    return dx, dprev_h, dc * f, dWx, dWh, db


# Forgets dprev_c in the returned tuple, as in the RNN step.
def lstm_step_backward_no_dprev_c(dnext_h, dnext_c, cache):
    dx, dprev_h, _, dWx, dWh, db = lstm_step_backward_student(dnext_h, dnext_c, cache)
    return dx, dprev_h, dWx, dWh, db


# Builds da in a float64 np.zeros.
def lstm_step_backward_zeros_upcast(dnext_h, dnext_c, cache):
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    Hd = prev_h.shape[1]
    tanh_c = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tanh_c**2)
    da = np.zeros((x.shape[0], 4 * Hd))
    da[:, :Hd] = dc * g * i * (1 - i)
    da[:, Hd : 2 * Hd] = dc * prev_c * f * (1 - f)
    da[:, 2 * Hd : 3 * Hd] = dnext_h * tanh_c * o * (1 - o)
    da[:, 3 * Hd :] = dc * i * (1 - g**2)
    dx, dprev_h, dWx, dWh, db = _lstm_step_params(da, cache)
    return dx, dprev_h, dc * f, dWx, dWh, db


_LSTM_STEP = lstm_step_forward_student
LSTM_STEP_BACKWARD_MISTAKES = [
    mistake(
        _LSTM_STEP,
        lstm_step_backward_tanh_grad_from_c,
        match=f"dx {WRONG}.*not from next_c",
        id="tanh-grad-from-cell",
    ),
    mistake(
        _LSTM_STEP, lstm_step_backward_ignores_dnext_c, match=f"dx {WRONG}", id="ignores-dnext-c"
    ),
    mistake(
        _LSTM_STEP,
        lstm_step_backward_stacks_ifgo,
        match=f"dx {WRONG}.*in the order i, f, o, g",
        id="gates-stacked-ifgo",
    ),
    mistake(
        _LSTM_STEP,
        lstm_step_backward_tanh_grad_for_gates,
        match=f"dx {WRONG}",
        id="tanh-grad-for-sigmoid-gates",
    ),
    mistake(
        _LSTM_STEP,
        lstm_step_backward_dprev_c_partial,
        match=f"dprev_c {WRONG}.*TOTAL gradient",
        id="dprev-c-partial",
    ),
    mistake(
        _LSTM_STEP,
        lstm_step_backward_db_not_summed,
        match=r"db has the wrong shape: got \(3, 24\), expected \(24,\)",
        id="db-not-summed",
    ),
    mistake(
        _LSTM_STEP,
        lstm_step_backward_dwx_swapped,
        match=r"dWx has the wrong shape: got \(24, 5\), expected \(5, 24\)",
        id="dwx-swapped",
    ),
    mistake(
        _LSTM_STEP,
        lstm_step_backward_edits_dnext_c,
        match=r"changed its input argument 2 in place",
        id="dnext-c-in-place",
    ),
    mistake(
        _LSTM_STEP,
        lstm_step_backward_no_dprev_c,
        match=r"must return a tuple \(dx, dprev_h, dprev_c, dWx, dWh, db\); it returned a "
        r"tuple of length 5",
        id="dprev-c-not-returned",
    ),
    mistake(
        _LSTM_STEP,
        lstm_step_backward_zeros_upcast,
        match=r"dx \(float32\) has dtype float64 for float32 inputs",
        id="float64-zeros-upcast",
    ),
    mistake(_LSTM_STEP, not_implemented, match=r"is not implemented yet", id="stub"),
]


# ---------------------------------------------------------------------------
# lstm_forward(x, h0, Wx, Wh, b) -> (h, cache)
# ---------------------------------------------------------------------------


def _lstm_loop(x, h0, Wx, Wh, b, step=None, carry_c=True, carry_h=True, c0=None, out="h"):
    """An LSTM loop over a step function, with switches for the classic slips."""
    step = step or layers.lstm_step_forward
    N, T, _ = x.shape
    zeros = np.zeros_like(h0)
    prev_h, prev_c = h0, zeros if c0 is None else c0
    hs, cs = [], []
    for t in range(T):
        next_h, next_c, _ = step(x[:, t], prev_h, prev_c, Wx, Wh, b)
        hs.append(next_h)
        cs.append(next_c)
        prev_h = next_h if carry_h else h0
        prev_c = next_c if carry_c else zeros
    return np.stack(hs if out == "h" else cs, axis=1)


# The cell is not carried: every step starts from c = 0.
def lstm_forward_c_not_carried(x, h0, Wx, Wh, b):
    return _lstm_loop(x, h0, Wx, Wh, b, carry_c=False), None


# The hidden state is not carried: every step starts from h0.
def lstm_forward_h_not_carried(x, h0, Wx, Wh, b):
    return _lstm_loop(x, h0, Wx, Wh, b, carry_h=False), None


# Initialises the cell with h0 instead of zeros.
def lstm_forward_c0_is_h0(x, h0, Wx, Wh, b):
    return _lstm_loop(x, h0, Wx, Wh, b, c0=h0), None


# Returns the cell states instead of the hidden states.
def lstm_forward_returns_cells(x, h0, Wx, Wh, b):
    return _lstm_loop(x, h0, Wx, Wh, b, out="c"), None


# Sigmoid for the candidate g inside the sequence loop.
def lstm_forward_sigmoid_g(x, h0, Wx, Wh, b):
    return _lstm_loop(x, h0, Wx, Wh, b, step=lstm_step_forward_sigmoid_g), None


# Stacks the states along a new first axis: (T, N, Hd).
def lstm_forward_time_major(x, h0, Wx, Wh, b):
    return _lstm_loop(x, h0, Wx, Wh, b).transpose(1, 0, 2), None


# Returns the cells as well: (h, c, cache).
def lstm_forward_returns_h_c_cache(x, h0, Wx, Wh, b):
    return _lstm_loop(x, h0, Wx, Wh, b), _lstm_loop(x, h0, Wx, Wh, b, out="c"), None


# Preallocates h with np.zeros in float64.
def lstm_forward_zeros_upcast(x, h0, Wx, Wh, b):
    h = _lstm_loop(x, h0, Wx, Wh, b)
    h64 = np.zeros(h.shape)
    h64[:] = h
    return h64, None


# prev_h = h0 is not a copy: writing each new state into it overwrites the caller's h0.
def lstm_forward_overwrites_h0(x, h0, Wx, Wh, b):
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    prev_h, prev_c = h0, np.zeros_like(h0)
    for t in range(T):
        next_h, prev_c, _ = layers.lstm_step_forward(x[:, t], prev_h, prev_c, Wx, Wh, b)
        prev_h[:] = next_h
        h[:, t] = prev_h
    return h, None


LSTM_FORWARD_MISTAKES = [
    mistake(
        lstm_forward_c_not_carried,
        match=f"h {WRONG}.* Hint: the cell was not carried",
        id="c-not-carried",
    ),
    mistake(
        lstm_forward_h_not_carried,
        match=f"h {WRONG}.* Hint: .*every step started from h0",
        id="h-not-carried",
    ),
    mistake(
        lstm_forward_c0_is_h0, match=f"h {WRONG}.* Hint: the first cell c0 is zeros", id="c0-is-h0"
    ),
    mistake(
        lstm_forward_returns_cells,
        match=f"h {WRONG}.* Hint: .*not the cells next_c",
        id="returns-cells",
    ),
    mistake(lstm_forward_sigmoid_g, match=f"h {WRONG}", id="sigmoid-for-g"),
    mistake(
        lstm_forward_time_major,
        match=r"h has the wrong shape: got \(3, 2, 4\), expected \(2, 3, 4\)",
        id="time-major",
    ),
    mistake(
        lstm_forward_returns_h_c_cache,
        match=r"must return a tuple \(h, cache\); it returned a tuple of length 3",
        id="returns-h-c-cache",
    ),
    mistake(
        lstm_forward_zeros_upcast,
        match=r"h \(float32\) has dtype float64 for float32 inputs",
        id="float64-zeros-upcast",
    ),
    mistake(
        lstm_forward_overwrites_h0,
        match=r"changed its input argument 2 in place",
        id="h0-in-place",
    ),
    mistake(not_implemented, match=r"not_implemented is not implemented yet", id="stub"),
]


# ---------------------------------------------------------------------------
# lstm_backward(dh, cache) -> (dx, dh0, dWx, dWh, db)
# Written against lstm_forward_loop, whose cache is the list of step caches.
# ---------------------------------------------------------------------------


def lstm_forward_loop(x, h0, Wx, Wh, b):
    """A correct lstm_forward as a loop over lstm_step_forward."""
    N, T, _ = x.shape
    h = np.zeros((N, T, h0.shape[1]), dtype=x.dtype)
    caches, prev_h, prev_c = [], h0, np.zeros_like(h0)
    for t in range(T):
        prev_h, prev_c, cache = layers.lstm_step_forward(x[:, t], prev_h, prev_c, Wx, Wh, b)
        h[:, t] = prev_h
        caches.append(cache)
    return h, caches


def lstm_backward_loop(dh, caches, carry_c=True, carry_h=True):
    """A correct lstm_backward as a loop over lstm_step_backward (switches: the classic slips)."""
    N, T, Hd = dh.shape
    dx = np.zeros((N, T, caches[0][0].shape[1]), dtype=dh.dtype)
    dprev_h = dprev_c = np.zeros((N, Hd), dtype=dh.dtype)
    grads = []
    for t in reversed(range(T)):
        dh_t = dh[:, t] + dprev_h if carry_h else dh[:, t]
        dnext_c = dprev_c if carry_c else np.zeros_like(dprev_c)
        dx[:, t], dprev_h, dprev_c, *params = layers.lstm_step_backward(dh_t, dnext_c, caches[t])
        grads.append(params)
    dWx, dWh, db = (sum(g[k] for g in grads) for k in range(3))
    return dx, dprev_h, dWx, dWh, db, dprev_c, grads


def lstm_backward_student(dh, caches):
    """The correct backward for lstm_forward_loop."""
    return lstm_backward_loop(dh, caches)[:5]


# The cell's gradient is not carried back: dnext_c = 0 at every step.
def lstm_backward_c_not_carried(dh, caches):
    return lstm_backward_loop(dh, caches, carry_c=False)[:5]


# BPTT that forgets the hidden state's gradient flowing back from step t+1.
def lstm_backward_no_bptt(dh, caches):
    return lstm_backward_loop(dh, caches, carry_h=False)[:5]


# Returns the cell's gradient as dh0.
def lstm_backward_dh0_is_dprev_c(dh, caches):
    dx, _, dWx, dWh, db, dc0, _ = lstm_backward_loop(dh, caches)
    return dx, dc0, dWx, dWh, db


# Forgets dh0 in the returned tuple.
def lstm_backward_no_dh0(dh, caches):
    dx, _, dWx, dWh, db = lstm_backward_loop(dh, caches)[:5]
    return dx, dWx, dWh, db


# Keeps db of every step: (T, 4Hd), not summed over the time steps.
def lstm_backward_db_per_step(dh, caches):
    dx, dh0, dWx, dWh, _, _, grads = lstm_backward_loop(dh, caches)
    return dx, dh0, dWx, dWh, np.stack([g[2] for g in grads[::-1]])


# Overwrites dWx at every step: only step 0's gradient is left.
def lstm_backward_overwrites_dwx(dh, caches):
    dx, dh0, _, dWh, db, _, grads = lstm_backward_loop(dh, caches)
    return dx, dh0, grads[-1][0], dWh, db


# Adds the gradient from step t+1 into the caller's dh.
def lstm_backward_adds_into_dh(dh, caches):
    N, T, Hd = dh.shape
    dx = np.zeros((N, T, caches[0][0].shape[1]), dtype=dh.dtype)
    dprev_h = dprev_c = np.zeros((N, Hd), dtype=dh.dtype)
    dWx = dWh = db = 0
    for t in reversed(range(T)):
        dh[:, t] += dprev_h
        dx[:, t], dprev_h, dprev_c, dWx_t, dWh_t, db_t = layers.lstm_step_backward(
            dh[:, t], dprev_c, caches[t]
        )
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dprev_h, dWx, dWh, db


# Takes the step caches with caches.pop() (last step first, so the order is right):
# the gradients are right once, but the cache is left empty for any second backward.
def lstm_backward_pops_caches(dh, caches):
    N, T, Hd = dh.shape
    dx = np.zeros((N, T, caches[0][0].shape[1]), dtype=dh.dtype)
    dprev_h = dprev_c = np.zeros((N, Hd), dtype=dh.dtype)
    dWx = dWh = db = 0
    for t in reversed(range(T)):
        dx[:, t], dprev_h, dprev_c, dWx_t, dWh_t, db_t = layers.lstm_step_backward(
            dh[:, t] + dprev_h, dprev_c, caches.pop()
        )
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    return dx, dprev_h, dWx, dWh, db


# Preallocates dx with np.zeros in float64.
def lstm_backward_zeros_upcast(dh, caches):
    dx, dh0, dWx, dWh, db = lstm_backward_student(dh, caches)
    dx64 = np.zeros(dx.shape)
    dx64[:] = dx
    return dx64, dh0, dWx, dWh, db


# dx stacked time-major: (T, N, D).
def lstm_backward_dx_time_major(dh, caches):
    dx, dh0, dWx, dWh, db = lstm_backward_student(dh, caches)
    return dx.transpose(1, 0, 2).copy(), dh0, dWx, dWh, db


_LSTM_LOOP = lstm_forward_loop
LSTM_BACKWARD_MISTAKES = [
    mistake(
        _LSTM_LOOP,
        lstm_backward_c_not_carried,
        match=f"dx {WRONG}.*dprev_c \\(pass it",
        id="c-grad-not-carried",
    ),
    mistake(
        _LSTM_LOOP, lstm_backward_no_bptt, match=f"dx {WRONG}.* Hint: .*was dropped", id="no-bptt"
    ),
    mistake(
        _LSTM_LOOP,
        lstm_backward_dh0_is_dprev_c,
        match=f"dh0 {WRONG}.*not dprev_c",
        id="dh0-is-dprev-c",
    ),
    mistake(
        _LSTM_LOOP,
        lstm_backward_no_dh0,
        match=r"must return a tuple \(dx, dh0, dWx, dWh, db\); it returned a tuple of length 4",
        id="dh0-not-returned",
    ),
    mistake(
        _LSTM_LOOP,
        lstm_backward_db_per_step,
        match=r"db has the wrong shape: got \(3, 16\), expected \(16,\)",
        id="db-not-summed-over-t",
    ),
    mistake(_LSTM_LOOP, lstm_backward_overwrites_dwx, match=f"dWx {WRONG}", id="dwx-="),
    mistake(
        _LSTM_LOOP,
        lstm_backward_adds_into_dh,
        match=r"changed its input argument 1 in place",
        id="dh-in-place",
    ),
    mistake(
        _LSTM_LOOP,
        lstm_backward_pops_caches,
        match=r"changed its input argument 2 in place\. Hint: a backward pass must leave the "
        r"cache as the forward left it; it lost or gained items \(caches\.pop\(\), del, append\)"
        r".* read it by index \(caches\[t\] for t in reversed\(range\(T\)\)\) and never pop it$",
        id="pops-caches",
    ),
    mistake(
        _LSTM_LOOP,
        lstm_backward_zeros_upcast,
        match=r"dx \(float32\) has dtype float64 for float32 inputs",
        id="float64-zeros-upcast",
    ),
    mistake(
        _LSTM_LOOP,
        lstm_backward_dx_time_major,
        match=r"dx has the wrong shape: got \(3, 2, 3\), expected \(2, 3, 3\)",
        id="dx-time-major",
    ),
    mistake(_LSTM_LOOP, not_implemented, match=r"is not implemented yet", id="stub"),
]


# ---------------------------------------------------------------------------
# The catalogue, run against every check
# ---------------------------------------------------------------------------

R = layers
CHECKS = {
    "rnn_step_forward": (
        check_rnn_step_forward,
        (R.rnn_step_forward,),
        RNN_STEP_FORWARD_MISTAKES,
    ),
    "rnn_step_backward": (
        check_rnn_step_backward,
        (R.rnn_step_forward, R.rnn_step_backward),
        RNN_STEP_BACKWARD_MISTAKES,
    ),
    "rnn_forward": (check_rnn_forward, (R.rnn_forward,), RNN_FORWARD_MISTAKES),
    "rnn_backward": (
        check_rnn_backward,
        (R.rnn_forward, R.rnn_backward),
        RNN_BACKWARD_MISTAKES,
    ),
    "lstm_step_forward": (
        check_lstm_step_forward,
        (R.lstm_step_forward,),
        LSTM_STEP_FORWARD_MISTAKES,
    ),
    "lstm_step_backward": (
        check_lstm_step_backward,
        (R.lstm_step_forward, R.lstm_step_backward),
        LSTM_STEP_BACKWARD_MISTAKES,
    ),
    "lstm_forward": (check_lstm_forward, (R.lstm_forward,), LSTM_FORWARD_MISTAKES),
    "lstm_backward": (
        check_lstm_backward,
        (R.lstm_forward, R.lstm_backward),
        LSTM_BACKWARD_MISTAKES,
    ),
}

ALL_MISTAKES = mistake_params(CHECKS)


@pytest.mark.parametrize("name, student, expected", ALL_MISTAKES)
def test_check_fails_on_the_mistake(name, student, expected, capsys):
    assert_check_fails(CHECKS[name][0], name, student, expected, capsys)


@pytest.mark.parametrize("name", CHECKS)
def test_check_passes_the_reference_with_one_line(name, capsys):
    check, reference, _ = CHECKS[name]
    assert_check_passes_with_one_line(check, name, reference, capsys)


@pytest.mark.parametrize(
    "check, student",
    [
        (check_rnn_step_backward, (rnn_step_forward_caching_a, rnn_step_backward_from_a)),
        (check_rnn_forward, (rnn_forward_loop,)),
        (check_rnn_backward, (rnn_forward_loop, rnn_backward_loop)),
        (check_lstm_step_forward, (lstm_step_forward_student,)),
        (check_lstm_step_backward, (lstm_step_forward_student, lstm_step_backward_student)),
        (check_lstm_forward, (lstm_forward_loop,)),
        (check_lstm_backward, (lstm_forward_loop, lstm_backward_student)),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_the_correct_student_versions_the_catalogue_builds_on_pass(check, student, capsys):
    """So each catalogue failure is the mistake's, not the forward's it is paired with."""
    check(*student)
    assert capsys.readouterr().out.startswith("OK ")


@pytest.mark.parametrize("name", CHECKS)
def test_catalogue_has_six_distinct_mistakes(name):
    assert_distinct_mistakes(CHECKS[name][2])
