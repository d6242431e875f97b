"""Recurrent layers: the vanilla RNN and the LSTM, one step and a whole sequence.

These are the graded references of the recurrent exercises, written the way
a student writes them: a step function that is the maths of one time step,
and a sequence function that loops over the steps (the forward keeps a list
of step caches, the backward walks it in reverse and sums the gradients of
the shared weights). :mod:`course.layers.fused_rnn` computes the same numbers
organised for speed; models train with it.

Sequences are batches of shape (N, T, D). Dimension letters: N batch,
T time steps, D input size, Hd hidden size (``hidden_dim``). LSTM gates sit
side by side along the 4Hd axis in the order i, f, o, g.
"""

from __future__ import annotations

import numpy as np

from course.layers._sequence_validation import (
    validate_lstm_inputs,
    validate_lstm_step_douts,
    validate_lstm_step_inputs,
    validate_rnn_inputs,
    validate_rnn_step_inputs,
)
from course.validation import as_float_array, require_dout

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
    - cache: (x, prev_h, Wx, Wh, next_h) for the backward pass; its next_h is
      a copy, so the caller may change the returned next_h
    """
    validate_rnn_step_inputs(x, prev_h, Wx, Wh, b)
    a = x @ Wx + prev_h @ Wh + b  # (N, D) @ (D, Hd) + (N, Hd) @ (Hd, Hd) -> (N, Hd)
    next_h = np.tanh(a)
    return next_h, (x, prev_h, Wx, Wh, next_h.copy())


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
) -> tuple[np.ndarray, list]:
    """A vanilla RNN over a whole sequence: :func:`rnn_step_forward` at t = 0, ..., T-1.

    ``h[:, t] = tanh(x[:, t] @ Wx + h[:, t-1] @ Wh + b)`` with ``h[:, -1] = h0``.

    Inputs:
    - x: (N, T, D) input sequences
    - h0: (N, Hd) initial hidden state
    - Wx: (D, Hd), Wh: (Hd, Hd), b: (Hd,) parameters shared by every step

    Returns:
    - h: (N, T, Hd) hidden states of every time step
    - cache: the list of the T step caches, for the backward pass
    """
    validate_rnn_inputs("rnn_forward", x, h0, Wx, Wh, b)
    T = x.shape[1]
    hs, caches = [], []
    prev_h = h0
    for t in range(T):
        prev_h, cache_t = rnn_step_forward(x[:, t], prev_h, Wx, Wh, b)  # (N, Hd)
        hs.append(prev_h)
        caches.append(cache_t)
    h = np.stack(hs, axis=1)  # T x (N, Hd) -> (N, T, Hd)
    return h, caches


def rnn_backward(dh: np.ndarray, cache: list) -> tuple[np.ndarray, ...]:
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
    caches = cache
    T = len(caches)
    N, Hd = caches[0][1].shape  # prev_h of step 0 is h0
    require_dout("rnn_backward", dh, (N, T, Hd), name="dh", of="h")
    dxs = [None] * T
    dprev_h = np.zeros_like(dh[:, 0])  # (N, Hd), flowing back from step t+1
    dWx, dWh, db = 0, 0, 0  # summed over the steps
    for t in reversed(range(T)):
        dxs[t], dprev_h, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + dprev_h, caches[t])
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    dx = np.stack(dxs, axis=1)  # T x (N, D) -> (N, T, D)
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
    validate_lstm_step_inputs(x, prev_h, prev_c, Wx, Wh, b)
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
    validate_lstm_step_douts(dnext_h, dnext_c, prev_h.shape)
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
    x: np.ndarray,
    h0: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
    c0: np.ndarray | None = None,
) -> tuple[np.ndarray, tuple]:
    """An LSTM over a whole sequence: :func:`lstm_step_forward` at t = 0, ..., T-1.

    ``h[:, t], c[:, t] = lstm_step(x[:, t], h[:, t-1], c[:, t-1])`` with
    ``h[:, -1] = h0`` and ``c[:, -1] = c0``. The cell states are internal
    and not returned (:func:`course.layers.fused_rnn.lstm_forward_fused`
    returns the last one, for a model that carries it to its next window).

    Inputs:
    - x: (N, T, D) input sequences
    - h0: (N, Hd) initial hidden state
    - Wx: (D, 4Hd), Wh: (Hd, 4Hd), b: (4Hd,) parameters shared by every step,
      gates in the order i, f, o, g
    - c0: (N, Hd) initial cell state, or None for zeros

    Returns:
    - h: (N, T, Hd) hidden states of every time step
    - cache: (step_caches, c0_given): the list of the T step caches, and
      whether c0 was given (then the backward pass returns dc0 too)
    """
    validate_lstm_inputs("lstm_forward", x, h0, Wx, Wh, b, c0)
    T = x.shape[1]
    hs, caches = [], []
    prev_h, prev_c = h0, np.zeros_like(h0) if c0 is None else c0
    for t in range(T):
        prev_h, prev_c, cache_t = lstm_step_forward(x[:, t], prev_h, prev_c, Wx, Wh, b)
        hs.append(prev_h)
        caches.append(cache_t)
    h = np.stack(hs, axis=1)  # T x (N, Hd) -> (N, T, Hd)
    return h, (caches, c0 is not None)


def lstm_backward(dh: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """Backpropagation through time for :func:`lstm_forward`.

    Two gradients flow back from step t+1 into step t: ``dprev_h`` into
    h[:, t] (added to ``dh[:, t]``) and ``dprev_c`` into the cell c[:, t],
    which no loss sees directly. The shared weights' gradients add up.

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
    caches, c0_given = cache
    T = len(caches)
    N, Hd = caches[0][1].shape  # prev_h of step 0 is h0
    require_dout("lstm_backward", dh, (N, T, Hd), name="dh", of="h")
    dxs = [None] * T
    dprev_h = np.zeros_like(dh[:, 0])  # (N, Hd), flowing back from step t+1 into h_t
    dprev_c = np.zeros_like(dh[:, 0])  # (N, Hd), flowing back from step t+1 into c_t
    dWx, dWh, db = 0, 0, 0  # summed over the steps
    for t in reversed(range(T)):
        dxs[t], dprev_h, dprev_c, dWx_t, dWh_t, db_t = lstm_step_backward(
            dh[:, t] + dprev_h, dprev_c, caches[t]
        )
        dWx, dWh, db = dWx + dWx_t, dWh + dWh_t, db + db_t
    dx = np.stack(dxs, axis=1)  # T x (N, D) -> (N, T, D)
    grads = (dx, dprev_h, dWx, dWh, db)
    return (*grads, dprev_c) if c0_given else grads
