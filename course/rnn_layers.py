"""Recurrent layers: vanilla RNN and LSTM, word embeddings, and the temporal layers.

Every layer is a pair of pure functions, ``X_forward(inputs...) -> (out, cache)``
and ``X_backward(dout, cache) -> grads`` with the gradients in the order of the
forward's differentiable inputs. Sequences are batches of shape (N, T, D).

Dimension letters: N batch, T time steps, D input size, Hd hidden size
(``hidden_dim``), V vocabulary size, M output size of a temporal affine layer.

The step functions (``rnn_step_*``, ``lstm_step_*``) are the teaching
versions: one time step, written as the maths reads. The sequence functions
compute the same numbers (to float64 rounding) but are organised for speed:
the input projections of all T steps are one matrix multiply, the outputs
and caches are preallocated, and the weight gradients are one matrix multiply
over the stacked per-step gradients at the end.
"""

from __future__ import annotations

import numpy as np

from course.validation import as_float_array, format_shape, require_dout, require_ndim

# ---------------------------------------------------------------------------
# Activation
# ---------------------------------------------------------------------------


def sigmoid(x: np.ndarray) -> np.ndarray:
    r"""Logistic sigmoid :math:`\sigma(x) = 1 / (1 + e^{-x})`, numerically stable.

    ``np.exp(-x)`` overflows for x below about -710 (float64) or -89 (float32).
    With ``z = exp(-|x|)``, which lies in (0, 1], the two equal forms

    .. math::
        \sigma(x) = \frac{1}{1 + z} \ (x \ge 0), \qquad
        \sigma(x) = \frac{z}{1 + z} \ (x < 0)

    never overflow, so ``sigmoid(±1000)`` is exactly 1 or 0 with no warning.

    Inputs:
    - x: float array of any shape

    Returns:
    - out: same shape and dtype as x, values in [0, 1]
    """
    as_float_array("sigmoid", "x", x)
    with np.errstate(under="ignore"):  # exp(-1000) = 0 is the right answer, not an error
        z = np.exp(-np.abs(x))  # in (0, 1]: cannot overflow
    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))


# ---------------------------------------------------------------------------
# Vanilla RNN
# ---------------------------------------------------------------------------


def rnn_step_forward(
    x: np.ndarray, prev_h: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, tuple]:
    """One time step of a vanilla RNN: ``next_h = tanh(x @ Wx + prev_h @ Wh + b)``.

    Inputs:
    - x: (N, D) inputs of this time step
    - prev_h: (N, Hd) hidden state of the previous time step
    - Wx: (D, Hd) input-to-hidden weights
    - Wh: (Hd, Hd) hidden-to-hidden weights
    - b: (Hd,) biases

    Returns:
    - next_h: (N, Hd) the new hidden state
    - cache: (x, prev_h, Wx, Wh, next_h) for the backward pass
    """
    _check_recurrent_inputs(
        "rnn_step_forward", x, ("prev_h", prev_h), Wx, Wh, b, gates=1, sequence=False
    )
    a = x @ Wx + prev_h @ Wh + b  # (N, D) @ (D, Hd) + (N, Hd) @ (Hd, Hd) -> (N, Hd)
    next_h = np.tanh(a)
    return next_h, (x, prev_h, Wx, Wh, next_h)


def rnn_step_backward(dnext_h: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """Backward pass of :func:`rnn_step_forward`.

    tanh'(a) = 1 - tanh(a)**2 = 1 - next_h**2: the derivative is read from the
    step's OUTPUT, so the pre-activation need not be cached.

    Inputs:
    - dnext_h: (N, Hd) upstream gradient of next_h
    - cache: from the forward pass

    Returns:
    - dx: (N, D)
    - dprev_h: (N, Hd)
    - dWx: (D, Hd)
    - dWh: (Hd, Hd)
    - db: (Hd,)
    """
    x, prev_h, Wx, Wh, next_h = cache
    require_dout("rnn_step_backward", dnext_h, next_h.shape, name="dnext_h", of="next_h")
    da = dnext_h * (1 - next_h**2)  # (N, Hd), gradient of the pre-activation a
    dx = da @ Wx.T  # (N, Hd) @ (Hd, D) -> (N, D)
    dprev_h = da @ Wh.T  # (N, Hd) @ (Hd, Hd) -> (N, Hd)
    dWx = x.T @ da  # (D, N) @ (N, Hd) -> (D, Hd)
    dWh = prev_h.T @ da  # (Hd, N) @ (N, Hd) -> (Hd, Hd)
    db = da.sum(axis=0)  # (Hd,)
    return dx, dprev_h, dWx, dWh, db


def rnn_forward(
    x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, tuple]:
    """A vanilla RNN over a whole sequence: :func:`rnn_step_forward` at t = 0, ..., T-1.

    ``h[:, t] = tanh(x[:, t] @ Wx + h[:, t-1] @ Wh + b)`` with ``h[:, -1] = h0``.

    Inputs:
    - x: (N, T, D) input sequences
    - h0: (N, Hd) initial hidden state
    - Wx: (D, Hd), Wh: (Hd, Hd), b: (Hd,) parameters shared by every step

    Returns:
    - h: (N, T, Hd) hidden states of every time step
    - cache: (x, h0, Wx, Wh, h) for the backward pass; it holds h itself, not
      a copy, so edit h only after the backward pass
    """
    N, T, D, Hd = _check_recurrent_inputs(
        "rnn_forward", x, ("h0", h0), Wx, Wh, b, gates=1, sequence=True
    )
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
        np.tanh(h_t, out=h_t)
        prev_h = h_t
    return h, (x, h0, Wx, Wh, h)


def rnn_backward(dh: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """Backpropagation through time for :func:`rnn_forward`.

    ``dh[:, t]`` is the gradient of the loss arriving at h[:, t] from above
    (e.g. from the output layer). The hidden state h[:, t] also fed step t+1,
    so the gradient that step t backpropagates is ``dh[:, t] + dprev_h``, the
    second term flowing back from step t+1. The weights are shared, so their
    gradients add up over the steps.

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
    x, h0, Wx, Wh, h = cache
    N, T, D = x.shape
    Hd = h0.shape[1]
    require_dout("rnn_backward", dh, h.shape, name="dh", of="h")
    # 1. da[:, t], the gradient of step t's pre-activation, starts as tanh'
    #    (read from the outputs) and is multiplied by the incoming gradient.
    da = 1 - h**2  # (N, T, Hd)
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


def lstm_step_forward(
    x: np.ndarray,
    prev_h: np.ndarray,
    prev_c: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, tuple]:
    """One time step of an LSTM.

    1. ``a = x @ Wx + prev_h @ Wh + b``, shape (N, 4Hd), split along its
       second axis into four blocks of Hd in the order i, f, o, g.
    2. Input, forget and output gates ``i, f, o = sigmoid(...)``; the
       candidate ``g = tanh(...)``.
    3. ``next_c = f * prev_c + i * g``: forget part of the old cell, write the
       gated candidate.
    4. ``next_h = o * tanh(next_c)``.

    Inputs:
    - x: (N, D) inputs of this time step
    - prev_h: (N, Hd) previous hidden state
    - prev_c: (N, Hd) previous cell state
    - Wx: (D, 4Hd) input-to-gates weights
    - Wh: (Hd, 4Hd) hidden-to-gates weights
    - b: (4Hd,) biases

    Returns:
    - next_h: (N, Hd)
    - next_c: (N, Hd)
    - cache: (x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c) for the backward pass
    """
    _check_recurrent_inputs(
        "lstm_step_forward",
        x,
        ("prev_h", prev_h),
        Wx,
        Wh,
        b,
        gates=4,
        sequence=False,
        prev_c=prev_c,
    )
    Hd = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b  # (N, D) @ (D, 4Hd) + (N, Hd) @ (Hd, 4Hd) -> (N, 4Hd)
    i = sigmoid(a[:, :Hd])  # (N, Hd) input gate
    f = sigmoid(a[:, Hd : 2 * Hd])  # (N, Hd) forget gate
    o = sigmoid(a[:, 2 * Hd : 3 * Hd])  # (N, Hd) output gate
    g = np.tanh(a[:, 3 * Hd :])  # (N, Hd) candidate
    next_c = f * prev_c + i * g
    tanh_c = np.tanh(next_c)
    next_h = o * tanh_c
    return next_h, next_c, (x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c)


def lstm_step_backward(
    dnext_h: np.ndarray, dnext_c: np.ndarray, cache: tuple
) -> tuple[np.ndarray, ...]:
    """Backward pass of :func:`lstm_step_forward`.

    The cell receives gradient from two places: directly (``dnext_c``, from
    the next step) and through ``next_h = o * tanh(next_c)``.

    Inputs:
    - dnext_h: (N, Hd) upstream gradient of next_h
    - dnext_c: (N, Hd) upstream gradient of next_c
    - cache: from the forward pass

    Returns:
    - dx: (N, D)
    - dprev_h: (N, Hd)
    - dprev_c: (N, Hd)
    - dWx: (D, 4Hd)
    - dWh: (Hd, 4Hd)
    - db: (4Hd,)
    """
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, tanh_c = cache
    func = "lstm_step_backward"
    require_dout(func, dnext_h, prev_h.shape, name="dnext_h", of="next_h")
    require_dout(func, dnext_c, prev_c.shape, name="dnext_c", of="next_c")
    # 1. Through next_h = o * tanh(next_c), then next_c = f * prev_c + i * g.
    dc = dnext_c + dnext_h * o * (1 - tanh_c**2)  # (N, Hd), total gradient of next_c
    do = dnext_h * tanh_c
    di, df, dg = dc * g, dc * prev_c, dc * i
    dprev_c = dc * f
    # 2. Through the activations, back to the pre-activation a, in the order i, f, o, g.
    da = np.concatenate(
        [di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g**2)], axis=1
    )  # (N, 4Hd)
    # 3. Through a = x @ Wx + prev_h @ Wh + b.
    dx = da @ Wx.T  # (N, 4Hd) @ (4Hd, D) -> (N, D)
    dprev_h = da @ Wh.T  # (N, 4Hd) @ (4Hd, Hd) -> (N, Hd)
    dWx = x.T @ da  # (D, N) @ (N, 4Hd) -> (D, 4Hd)
    dWh = prev_h.T @ da  # (Hd, N) @ (N, 4Hd) -> (Hd, 4Hd)
    db = da.sum(axis=0)  # (4Hd,)
    return dx, dprev_h, dprev_c, dWx, dWh, db


def lstm_forward(
    x: np.ndarray, h0: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, tuple]:
    """An LSTM over a whole sequence: :func:`lstm_step_forward` at t = 0, ..., T-1.

    The initial cell state is zero; the cell state is internal and not returned.

    Organised for speed, with the same numbers as the loop of steps (to
    rounding): the input projections of all T steps are one matrix multiply
    into one gates array, each step then works in place on its slice of it,
    and nothing is allocated inside the loop. The arrays are stored time-major,
    (T, N, ...), so that the slice of one step is contiguous: on (N, T, ...)
    arrays the elementwise work of a step runs about twice as slow.

    Inputs:
    - x: (N, T, D) input sequences
    - h0: (N, Hd) initial hidden state
    - Wx: (D, 4Hd), Wh: (Hd, 4Hd), b: (4Hd,) parameters shared by every step,
      gates in the order i, f, o, g

    Returns:
    - h: (N, T, Hd) hidden states of every time step
    - cache: (x_tm, Wx, Wh, gates, c, tanh_c, hs) for the backward pass, all
      time-major: the inputs x_tm (T*N, D), the activated gates (T, N, 4Hd),
      the cell states c and their tanh (T, N, Hd), and the hidden states
      hs (T+1, N, Hd) with hs[0] = h0 and hs[t+1] = h[:, t]
    """
    N, T, D, Hd = _check_recurrent_inputs(
        "lstm_forward", x, ("h0", h0), Wx, Wh, b, gates=4, sequence=True
    )
    dtype = np.result_type(x, h0, Wx, Wh, b)
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
    prev_c = np.zeros((N, Hd), dtype=dtype)  # c0
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
    h = np.ascontiguousarray(hs[1:].transpose(1, 0, 2))  # (T, N, Hd) -> (N, T, Hd)
    return h, (x_tm, Wx, Wh, gates, c, tanh_c, hs)


def lstm_backward(dh: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """Backpropagation through time for :func:`lstm_forward`.

    Two gradients flow back from step t+1 into step t: ``dprev_h`` into
    h[:, t] (added to ``dh[:, t]``) and ``dprev_c`` into the cell c[:, t].
    The loop only fills da, the gradients of the gate pre-activations of
    every step, in place and time-major like the forward's cache; dx, dWx,
    dWh and db are then each one matrix multiply (or sum) over all T steps.

    Inputs:
    - dh: (N, T, Hd) upstream gradients of every hidden state
    - cache: from the forward pass

    Returns:
    - dx: (N, T, D)
    - dh0: (N, Hd)
    - dWx: (D, 4Hd)
    - dWh: (Hd, 4Hd)
    - db: (4Hd,)
    """
    x_tm, Wx, Wh, gates, c, tanh_c, hs = cache
    T, N, Hd = c.shape
    D = Wx.shape[0]
    require_dout("lstm_backward", dh, (N, T, Hd), name="dh", of="h")
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
        if t > 0:
            df *= c[t - 1]
            df *= dc  # df = dc * c_{t-1} * f * (1 - f)
        else:
            df.fill(0)  # c_{-1} = c0 = 0
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
    return dx, dprev_h, dWx, dWh, db


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


# ---------------------------------------------------------------------------
# Word embedding, temporal affine, temporal softmax loss
# ---------------------------------------------------------------------------


def word_embedding_forward(x: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Look up the embedding vector of every word: ``out[n, t] = W[x[n, t]]``.

    Inputs:
    - x: (N, T) integer word indices, each in [0, V)
    - W: (V, D) one embedding vector per word of the vocabulary

    Returns:
    - out: (N, T, D)
    - cache: (x, W.shape, W.dtype) for the backward pass
    """
    func = "word_embedding_forward"
    as_float_array(func, "W", W)
    require_ndim(func, "W", W, 2, "(V, D)")
    _require_indices(func, "x", x, None, W.shape[0])
    out = W[x]  # (N, T, D), a new array (fancy indexing copies)
    return out, (x, W.shape, W.dtype)


def word_embedding_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Backward pass of :func:`word_embedding_forward`.

    A word that occurs k times in the batch receives the sum of its k
    upstream gradients: ``np.add.at`` accumulates over repeated indices,
    where ``dW[x] += dout`` would keep only one of them. The indices x are
    not differentiable, so only dW is returned.

    Inputs:
    - dout: (N, T, D) upstream gradient
    - cache: from the forward pass

    Returns:
    - dW: (V, D)
    """
    x, (V, D), dtype = cache
    require_dout("word_embedding_backward", dout, (*x.shape, D), name="dout", of="out")
    dW = np.zeros((V, D), dtype=np.result_type(dout, dtype))
    np.add.at(dW, x, dout)  # dW[x[n, t]] += dout[n, t] for every (n, t), repeats included
    return dW


def temporal_affine_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, tuple]:
    """The same affine layer at every time step: ``out[:, t] = x[:, t] @ w + b``.

    Inputs:
    - x: (N, T, D) input sequences
    - w: (D, M) weights
    - b: (M,) biases

    Returns:
    - out: (N, T, M)
    - cache: (x, w) for the backward pass
    """
    func = "temporal_affine_forward"
    for name, value in (("x", x), ("w", w), ("b", b)):
        as_float_array(func, name, value)
    require_ndim(func, "x", x, 3, "(N, T, D)")
    require_ndim(func, "w", w, 2, "(D, M)")
    N, T, D = x.shape
    if w.shape[0] != D:
        raise ValueError(
            f"{func}: w has shape {format_shape(w.shape)}; expected (D, M) with D = {D} "
            f"to match x of shape {format_shape(x.shape)}"
        )
    M = w.shape[1]
    if b.shape != (M,):
        raise ValueError(
            f"{func}: b has shape {format_shape(b.shape)}; expected (M,) = ({M},) to match "
            f"w of shape {format_shape(w.shape)}"
        )
    out = (x.reshape(N * T, D) @ w).reshape(N, T, M) + b  # (N*T, D) @ (D, M) -> (N, T, M)
    return out, (x, w)


def temporal_affine_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """Backward pass of :func:`temporal_affine_forward`.

    Inputs:
    - dout: (N, T, M) upstream gradient
    - cache: (x, w) from the forward pass

    Returns:
    - dx: (N, T, D)
    - dw: (D, M), summed over the batch and the time steps
    - db: (M,), summed over the batch and the time steps
    """
    x, w = cache
    N, T, D = x.shape
    M = w.shape[1]
    require_dout("temporal_affine_backward", dout, (N, T, M), name="dout", of="out")
    dout_flat = dout.reshape(N * T, M)
    dx = (dout_flat @ w.T).reshape(N, T, D)  # (N*T, M) @ (M, D) -> (N, T, D)
    dw = x.reshape(N * T, D).T @ dout_flat  # (D, N*T) @ (N*T, M) -> (D, M)
    db = dout_flat.sum(axis=0)  # (M,)
    return dx, dw, db


def temporal_softmax_loss(
    x: np.ndarray, y: np.ndarray, mask: np.ndarray
) -> tuple[float, np.ndarray]:
    r"""Softmax cross-entropy at every unmasked time step, summed, averaged over the batch.

    .. math::
        L = -\frac{1}{N} \sum_{n, t:\ \mathrm{mask}_{nt}} \log \mathrm{softmax}(x_{nt})_{y_{nt}}

    The sum runs over the time steps where mask is True (padding after the
    end of a caption is masked out) and is divided by the batch size N, not
    by the number of unmasked tokens. The scores are shifted by their
    maximum over V before exponentiating, so large scores do not overflow.

    Inputs:
    - x: (N, T, V) scores over the vocabulary
    - y: (N, T) integer targets, each in [0, V)
    - mask: (N, T) booleans, True where the target counts

    Returns:
    - loss: scalar
    - dx: (N, T, V) gradient of the loss with respect to x; zero where masked
    """
    func = "temporal_softmax_loss"
    as_float_array(func, "x", x)
    require_ndim(func, "x", x, 3, "(N, T, V) scores")
    N, T, V = x.shape
    if N == 0:
        raise ValueError(f"{func}: x has no sequences (N = 0); the loss is undefined")
    _require_indices(func, "y", y, (N, T), V)
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
        got = mask.dtype if isinstance(mask, np.ndarray) else type(mask).__name__
        raise TypeError(
            f"{func}: mask must be a boolean numpy array, got {got}; build it with a "
            "comparison, e.g. mask = y != null_index"
        )
    if mask.shape != (N, T):
        raise ValueError(
            f"{func}: mask has shape {format_shape(mask.shape)}; expected (N, T) = {(N, T)}"
        )
    x_flat = x.reshape(N * T, V)
    y_flat, mask_flat = y.reshape(N * T), mask.reshape(N * T)
    rows = np.arange(N * T)
    shifted = x_flat - x_flat.max(axis=1, keepdims=True)  # (N*T, V), row max is 0
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (N*T, V)
    loss = -log_probs[rows, y_flat][mask_flat].sum() / N
    dx = np.exp(log_probs)  # (N*T, V) softmax probabilities
    dx[rows, y_flat] -= 1
    dx[~mask_flat] = 0
    dx /= N
    return float(loss), dx.reshape(N, T, V)


# ---------------------------------------------------------------------------
# Input validation
# ---------------------------------------------------------------------------


def _check_recurrent_inputs(
    func: str,
    x: np.ndarray,
    hidden: tuple[str, np.ndarray],
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
    gates: int,
    sequence: bool,
    prev_c: np.ndarray | None = None,
) -> tuple[int, ...]:
    """Validate the inputs of an RNN (gates=1) or LSTM (gates=4) step or sequence.

    x is (N, T, D) for a sequence function and (N, D) for a step function.
    Returns x's dims followed by Hd.
    """
    h_name, h = hidden
    arrays = [("x", x), (h_name, h), ("Wx", Wx), ("Wh", Wh), ("b", b)]
    if prev_c is not None:
        arrays.insert(2, ("prev_c", prev_c))
    for name, value in arrays:
        as_float_array(func, name, value)
    G = "" if gates == 1 else f"{gates}"  # how the gate factor is written: Hd or 4Hd
    require_ndim(func, "Wh", Wh, 2, f"(Hd, {G}Hd)")
    require_ndim(func, "Wx", Wx, 2, f"(D, {G}Hd)")
    Hd = Wh.shape[0]
    if Wh.shape[1] != gates * Hd:
        raise ValueError(
            f"{func}: Wh has shape {format_shape(Wh.shape)}; expected (Hd, {G}Hd) = "
            f"{(Hd, gates * Hd)}"
            + ("; the four gates i, f, o, g sit side by side" if gates > 1 else "")
        )
    if Wx.shape[1] != gates * Hd:
        raise ValueError(
            f"{func}: Wx has shape {format_shape(Wx.shape)}; expected (D, {G}Hd) = "
            f"{(Wx.shape[0], gates * Hd)} to match Wh of shape {format_shape(Wh.shape)}"
        )
    if b.shape != (gates * Hd,):
        raise ValueError(
            f"{func}: b has shape {format_shape(b.shape)}; expected ({G}Hd,) = "
            f"({gates * Hd},) to match Wh of shape {format_shape(Wh.shape)}"
        )
    D = Wx.shape[0]
    if not sequence:
        require_ndim(func, "x", x, 2, "(N, D)")
        dims, expected_x = "(N, D)", (x.shape[0], D)
    else:
        require_ndim(func, "x", x, 3, "(N, T, D)")
        dims, expected_x = "(N, T, D)", (*x.shape[:2], D)
        if x.shape[1] == 0:
            raise ValueError(
                f"{func}: x has shape {format_shape(x.shape)}, T = 0 time steps; "
                "a sequence needs at least one"
            )
    if x.shape != expected_x:
        raise ValueError(
            f"{func}: x has shape {format_shape(x.shape)}; expected {dims} = {expected_x} "
            f"to match Wx of shape {format_shape(Wx.shape)}"
        )
    N = x.shape[0]
    for name, value in arrays[1 : 3 if prev_c is not None else 2]:
        if value.shape != (N, Hd):
            raise ValueError(
                f"{func}: {name} has shape {format_shape(value.shape)}; expected (N, Hd) = "
                f"{(N, Hd)}"
            )
    return (*x.shape, Hd)


def _require_indices(
    func: str, name: str, value: object, shape: tuple[int, int] | None, V: int
) -> np.ndarray:
    """Check an (N, T) integer array of word indices in [0, V); ``shape=None`` takes any (N, T)."""
    if not isinstance(value, np.ndarray):
        raise TypeError(
            f"{func}: {name} must be a numpy array of word indices, got {type(value).__name__}"
        )
    if not np.issubdtype(value.dtype, np.integer):
        raise TypeError(
            f"{func}: {name} has dtype {value.dtype}; expected integer word indices in [0, {V})"
        )
    if shape is None:
        require_ndim(func, name, value, 2, "(N, T)")
    elif value.shape != shape:
        raise ValueError(
            f"{func}: {name} has shape {format_shape(value.shape)}; expected (N, T) = {shape}"
        )
    if value.size and (value.min() < 0 or value.max() >= V):
        raise ValueError(
            f"{func}: {name} must hold indices in [0, {V}) for a vocabulary of V = {V}; "
            f"got values from {value.min()} to {value.max()}"
        )
    return value
