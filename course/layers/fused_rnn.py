"""The fast paths of the RNN and LSTM sequence layers, for training.

They compute what :mod:`course.layers.rnn`'s loops over the step functions
compute (equal to float64 rounding, tested), organised for speed:

1. The input projections of all T steps are one matrix multiply,
   ``x.reshape(N*T, D) @ Wx``, before the loop; only the recurrent product
   ``h_{t-1} @ Wh`` is left inside it.
2. Every output and cache array is allocated once, and each step works in
   place on its slice: no array is created inside the loop.
3. The LSTM keeps its arrays time-major, (T, N, ...), so that a step's
   slice is one contiguous block (on (N, T, ...) arrays the elementwise work
   of a step runs about twice as slow).
4. The backward loop only fills the gradients of the pre-activations; dx,
   dWx, dWh and db are then each one matrix multiply over all T steps.

:func:`lstm_forward_fused` also returns the last cell state, so that a
language model trained on truncated-BPTT windows can carry both h and c to
its next window (and pass them back in as ``h0`` and ``c0``).

Like every fast layer, the first forward call tunes the allocator for the
rest of the process (:func:`course.allocator.keep_freed_memory_once`): the
large per-call arrays are then reused instead of page-faulted in anew.

Dimension letters: N batch, T time steps, D input size, Hd hidden size.
"""

from __future__ import annotations

import numpy as np

from course import allocator
from course.layers._sequence_validation import (
    require_activation,
    validate_lstm_inputs,
    validate_rnn_inputs,
)
from course.validation import require_dout

# ---------------------------------------------------------------------------
# Vanilla RNN
# ---------------------------------------------------------------------------


def rnn_forward_fused(
    x: np.ndarray,
    h0: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
    activation: str = "tanh",
) -> tuple[np.ndarray, tuple]:
    """The same as :func:`course.layers.rnn.rnn_forward`, fast; optionally a ReLU RNN.

    ``h[:, t] = act(x[:, t] @ Wx + h[:, t-1] @ Wh + b)`` with ``h[:, -1] = h0``,
    where ``act`` is tanh (the default, the graded exercise) or, with
    ``activation="relu"``, ``max(0, .)``: the talk's form of the RNN,
    ``h = max(0, Wxh x + Whh h)``.

    Inputs:
    - x: (N, T, D) input sequences
    - h0: (N, Hd) initial hidden state
    - Wx: (D, Hd), Wh: (Hd, Hd), b: (Hd,) parameters shared by every step
    - activation: 'tanh' or 'relu'

    Returns:
    - h: (N, T, Hd) hidden states of every time step
    - cache: (x, h0, Wx, Wh, hs, activation) for :func:`rnn_backward_fused`,
      with hs a copy of h (the caller may change h)
    """
    N, T, D, Hd = validate_rnn_inputs("rnn_forward_fused", x, h0, Wx, Wh, b)
    require_activation("rnn_forward_fused", activation)
    allocator.keep_freed_memory_once()
    dtype = np.result_type(x, h0, Wx, Wh, b)
    # 1. The input projections of all T steps at once; h starts as them and is
    #    completed in place, step by step.
    h = (x.reshape(N * T, D) @ Wx).reshape(N, T, Hd)  # (N*T, D) @ (D, Hd) -> (N, T, Hd)
    h = h.astype(dtype, copy=False)
    h += b
    # 2. The recurrence: only the (N, Hd) @ (Hd, Hd) product is left per step.
    prev_h = h0
    for t in range(T):
        h_t = h[:, t]  # (N, Hd) view
        h_t += prev_h @ Wh
        if activation == "tanh":
            np.tanh(h_t, out=h_t)
        else:
            np.maximum(h_t, 0, out=h_t)
        prev_h = h_t
    return h, (x, h0, Wx, Wh, h.copy(), activation)


def rnn_backward_fused(dh: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """Backpropagation through time for :func:`rnn_forward_fused`.

    The gradient step t backpropagates is ``dh[:, t] + dprev_h``, the second
    term flowing back from step t+1. The activation's derivative is read from
    the outputs h: ``tanh' = 1 - h**2``, and ``relu' = 1`` where ``h > 0``
    (0 elsewhere, the subgradient at the kink).

    Inputs:
    - dh: (N, T, Hd) upstream gradients of every hidden state
    - cache: from the forward pass

    Returns:
    - dx: (N, T, D)
    - dh0: (N, Hd)
    - dWx: (D, Hd)
    - dWh: (Hd, Hd)
    - db: (Hd,)
    """
    x, h0, Wx, Wh, h, activation = cache
    N, T, D = x.shape
    Hd = h0.shape[1]
    require_dout("rnn_backward_fused", dh, h.shape, name="dh", of="h")
    # 1. da[:, t], the gradient of step t's pre-activation, starts as the
    #    activation's derivative (read from the outputs) and is multiplied by
    #    the incoming gradient.
    da = 1 - h**2 if activation == "tanh" else (h > 0).astype(h.dtype)  # (N, T, Hd)
    da = da.astype(np.result_type(da, dh), copy=False)
    dprev_h = np.zeros((N, Hd), dtype=da.dtype)  # gradient flowing back from step t+1
    for t in reversed(range(T)):
        da_t = da[:, t]  # (N, Hd) view
        da_t *= dh[:, t] + dprev_h
        dprev_h = da_t @ Wh.T  # (N, Hd) @ (Hd, Hd) -> (N, Hd)
    # 2. Everything that does not recur is one matrix multiply over all steps.
    da_flat = da.reshape(N * T, Hd)
    dx = (da_flat @ Wx.T).reshape(N, T, D)  # (N*T, Hd) @ (Hd, D) -> (N, T, D)
    dWx = x.reshape(N * T, D).T @ da_flat  # (D, N*T) @ (N*T, Hd) -> (D, Hd)
    h_prev = np.concatenate([h0[:, None], h[:, :-1]], axis=1)  # (N, T, Hd): input h of step t
    dWh = h_prev.reshape(N * T, Hd).T @ da_flat  # (Hd, N*T) @ (N*T, Hd) -> (Hd, Hd)
    db = da_flat.sum(axis=0)  # (Hd,)
    return dx, dprev_h, dWx, dWh, db


# ---------------------------------------------------------------------------
# LSTM
# ---------------------------------------------------------------------------


def lstm_forward_fused(
    x: np.ndarray,
    h0: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
    c0: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, tuple]:
    """The same as :func:`course.layers.rnn.lstm_forward`, fast, also returning the last cell.

    At every step: ``a = x_t @ Wx + h_{t-1} @ Wh + b`` (N, 4Hd);
    ``i, f, o = sigmoid(a_i, a_f, a_o)``, ``g = tanh(a_g)``;
    ``c_t = f * c_{t-1} + i * g``; ``h_t = o * tanh(c_t)``.

    Inputs:
    - x: (N, T, D) input sequences
    - h0: (N, Hd) initial hidden state
    - Wx: (D, 4Hd), Wh: (Hd, 4Hd), b: (4Hd,) parameters shared by every step,
      gates in the order i, f, o, g
    - c0: (N, Hd) initial cell state, or None for zeros

    Returns:
    - h: (N, T, Hd) hidden states of every time step
    - c_last: (N, Hd) the cell state after the last step (a new array)
    - cache: (x_tm, Wx, Wh, gates, c, tanh_c, hs, c0) for :func:`lstm_backward_fused`,
      all time-major: the inputs x_tm (T*N, D), the activated gates (T, N, 4Hd),
      the cell states c and their tanh (T, N, Hd), the hidden states
      hs (T+1, N, Hd) with hs[0] = h0 and hs[t+1] = h[:, t], and c0 (or None)
    """
    N, T, D, Hd = validate_lstm_inputs("lstm_forward_fused", x, h0, Wx, Wh, b, c0)
    allocator.keep_freed_memory_once()
    dtype = np.result_type(x, h0, Wx, Wh, b, *(() if c0 is None else (c0,)))
    Wx, Wh, b = (np.asarray(p, dtype=dtype) for p in (Wx, Wh, b))  # copies only to convert
    x_tm = np.empty((T, N, D), dtype=dtype)
    x_tm[...] = x.transpose(1, 0, 2)  # (N, T, D) -> (T, N, D), time-major copy
    x_tm = x_tm.reshape(T * N, D)
    # 1. The input projections of all T steps at once. This array becomes the
    #    cache of activated gates: each step adds its recurrent term and bias
    #    and applies the activations in place.
    gates = np.empty((T, N, 4 * Hd), dtype=dtype)
    np.matmul(x_tm, Wx, out=gates.reshape(T * N, 4 * Hd))  # (T*N, D) @ (D, 4Hd)
    c = np.empty((T, N, Hd), dtype=dtype)  # cell states
    tanh_c = np.empty((T, N, Hd), dtype=dtype)  # their tanh, kept for the backward pass
    hs = np.empty((T + 1, N, Hd), dtype=dtype)  # hidden states, after h0
    hs[0] = h0
    rec = np.empty((N, 4 * Hd), dtype=dtype)  # scratch: prev_h @ Wh + b of one step
    ig = np.empty((N, Hd), dtype=dtype)  # scratch: i * g of one step
    # 2. The recurrence.
    prev_c = np.zeros((N, Hd), dtype=dtype) if c0 is None else c0
    for t in range(T):
        a = gates[t]  # (N, 4Hd) view: x_t @ Wx so far
        np.matmul(hs[t], Wh, out=rec)  # (N, Hd) @ (Hd, 4Hd) -> (N, 4Hd)
        rec += b
        a += rec  # the pre-activation x_t @ Wx + h_{t-1} @ Wh + b
        _activate_lstm_gates(a, Hd)
        i, f, o, g = a[:, :Hd], a[:, Hd : 2 * Hd], a[:, 2 * Hd : 3 * Hd], a[:, 3 * Hd :]
        np.multiply(f, prev_c, out=c[t])
        np.multiply(i, g, out=ig)
        c[t] += ig  # c_t = f * c_{t-1} + i * g
        np.tanh(c[t], out=tanh_c[t])
        np.multiply(o, tanh_c[t], out=hs[t + 1])  # h_t = o * tanh(c_t)
        prev_c = c[t]
    h = hs[1:].transpose(1, 0, 2).copy()  # (T, N, Hd) -> (N, T, Hd), never a view of hs
    return h, c[T - 1].copy(), (x_tm, Wx, Wh, gates, c, tanh_c, hs, c0)


def lstm_backward_fused(dh: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """Backpropagation through time for :func:`lstm_forward_fused`.

    Two gradients flow back from step t+1 into step t: ``dprev_h`` into
    h[:, t] (added to ``dh[:, t]``) and ``dprev_c`` into the cell c[:, t].
    The loop only fills da, the gradients of the gate pre-activations of
    every step, in place and time-major like the forward's cache; dx, dWx,
    dWh and db are then each one matrix multiply (or sum) over all T steps.
    No gradient flows into the returned c_last: a caller that uses it
    carries it forward in time, not back.

    Inputs:
    - dh: (N, T, Hd) upstream gradients of every hidden state
    - cache: from the forward pass

    Returns:
    - dx: (N, T, D)
    - dh0: (N, Hd)
    - dWx: (D, 4Hd)
    - dWh: (Hd, 4Hd)
    - db: (4Hd,)
    - dc0: (N, Hd), only when the forward pass was given c0 (then last)
    """
    x_tm, Wx, Wh, gates, c, tanh_c, hs, c0 = cache
    T, N, Hd = c.shape
    D = Wx.shape[0]
    require_dout("lstm_backward_fused", dh, (N, T, Hd), name="dh", of="h")
    dtype = np.result_type(dh, gates)
    da = np.empty((T, N, 4 * Hd), dtype=dtype)  # gradients of the gate pre-activations
    dprev_h = np.zeros((N, Hd), dtype=dtype)  # flowing back from step t+1 into h_t
    dprev_c = np.zeros((N, Hd), dtype=dtype)  # flowing back from step t+1 into c_t
    dh_t = np.empty((N, Hd), dtype=dtype)  # scratch: total gradient of h_t
    dc = np.empty((N, Hd), dtype=dtype)  # scratch: total gradient of c_t
    WhT = np.ascontiguousarray(Wh.T)  # (4Hd, Hd) copy: the step's multiply runs ~20% faster
    for t in reversed(range(T)):
        a = gates[t]  # (N, 4Hd): activated gates i, f, o, g
        i, f, o, g = a[:, :Hd], a[:, Hd : 2 * Hd], a[:, 2 * Hd : 3 * Hd], a[:, 3 * Hd :]
        da_t = da[t]  # (N, 4Hd), filled block by block in the order i, f, o, g
        di, df, do, dg = (da_t[:, k * Hd : (k + 1) * Hd] for k in range(4))
        # 1. The total gradients of h_t (from the loss at t and from step t+1)
        #    and of c_t (from step t+1 and through h_t = o * tanh(c_t)).
        np.add(dh[:, t], dprev_h, out=dh_t)
        np.multiply(tanh_c[t], tanh_c[t], out=dc)
        np.subtract(1, dc, out=dc)
        dc *= o
        dc *= dh_t
        dc += dprev_c  # dc = dprev_c + dh_t * o * (1 - tanh(c_t)**2)
        # 2. The activations' derivatives: s * (1 - s) for i, f, o; 1 - g**2 for g.
        ifo, difo = a[:, : 3 * Hd], da_t[:, : 3 * Hd]  # (N, 3Hd) views
        np.subtract(1, ifo, out=difo)
        difo *= ifo
        np.multiply(g, g, out=dg)
        np.subtract(1, dg, out=dg)
        # 3. Times the gradient of each gate, through c_t = f * c_{t-1} + i * g
        #    and h_t = o * tanh(c_t).
        di *= g
        di *= dc  # di = dc * g * i * (1 - i)
        prev_c = c[t - 1] if t > 0 else c0  # c0 is None: c_{-1} = 0
        if prev_c is None:
            df.fill(0)
        else:
            df *= prev_c
            df *= dc  # df = dc * c_{t-1} * f * (1 - f)
        do *= tanh_c[t]
        do *= dh_t  # do = dh_t * tanh(c_t) * o * (1 - o)
        dg *= i
        dg *= dc  # dg = dc * i * (1 - g**2)
        # 4. Into step t-1.
        np.multiply(dc, f, out=dprev_c)
        np.matmul(da_t, WhT, out=dprev_h)  # (N, 4Hd) @ (4Hd, Hd) -> (N, Hd)
    # 5. The gradients of the inputs and weights shared by all steps.
    da_flat = da.reshape(T * N, 4 * Hd)
    dx_tm = (da_flat @ Wx.T).reshape(T, N, D)  # (T*N, 4Hd) @ (4Hd, D) -> (T, N, D)
    dx = np.ascontiguousarray(dx_tm.transpose(1, 0, 2))  # (N, T, D)
    dWx = x_tm.T @ da_flat  # (D, T*N) @ (T*N, 4Hd) -> (D, 4Hd)
    h_prev = hs[:T].reshape(T * N, Hd)  # the input hidden state of every step
    dWh = h_prev.T @ da_flat  # (Hd, T*N) @ (T*N, 4Hd) -> (Hd, 4Hd)
    db = da_flat.sum(axis=0)  # (4Hd,)
    grads = (dx, dprev_h, dWx, dWh, db)
    return (*grads, dprev_c) if c0 is not None else grads


def _activate_lstm_gates(a: np.ndarray, Hd: int) -> None:
    """Apply the LSTM activations in place to the (N, 4Hd) pre-activations ``a``.

    i, f, o (the first 3Hd columns) get the sigmoid, written as
    ``sigmoid(z) = 0.5 * tanh(z / 2) + 0.5``: it equals :func:`sigmoid` to
    rounding, cannot overflow, and needs no temporary arrays; g (the last Hd
    columns) gets tanh.
    """
    ifo = a[:, : 3 * Hd]  # (N, 3Hd) view
    ifo *= 0.5
    np.tanh(a, out=a)  # tanh(z / 2) for i, f, o and tanh(z) for g, in one call
    ifo *= 0.5
    ifo += 0.5
