"""Checks for the recurrent layers (``course/layers/rnn.py``): RNN and LSTM, step and sequence.

Forward checks compare a worked example (evenly spaced inputs, expected values
written out below), a random float64 case and a float32 case that must stay
float32. Backward checks compare every gradient with centred differences of
the *reference* forward (float64), then check on float32 inputs that the
gradients keep their dtype.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course import layers
from course.checks.core import compare_backward_both_dtypes, compare_forward, report

# ---------------------------------------------------------------------------
# Worked examples: inputs spaced evenly so a student can reproduce them.
# N = 2, T = 3, D = 3, Hd = 4.
# ---------------------------------------------------------------------------

_X_STEP = np.linspace(-0.4, 0.6, 2 * 3).reshape(2, 3)  # (N, D)
_X_SEQ = np.linspace(-0.4, 0.6, 2 * 3 * 3).reshape(2, 3, 3)  # (N, T, D)
_PREV_H = np.linspace(-0.3, 0.5, 2 * 4).reshape(2, 4)  # (N, Hd): prev_h and h0
_PREV_C = np.linspace(-0.5, 0.7, 2 * 4).reshape(2, 4)  # (N, Hd)
_RNN_WX = np.linspace(-0.6, 0.4, 3 * 4).reshape(3, 4)  # (D, Hd)
_RNN_WH = np.linspace(-0.5, 0.3, 4 * 4).reshape(4, 4)  # (Hd, Hd)
_RNN_B = np.linspace(-0.2, 0.1, 4)  # (Hd,)
_LSTM_WX = np.linspace(-0.6, 0.8, 3 * 16).reshape(3, 16)  # (D, 4Hd)
_LSTM_WH = np.linspace(-0.7, 0.4, 4 * 16).reshape(4, 16)  # (Hd, 4Hd)
_LSTM_B = np.linspace(-0.3, 0.5, 16)  # (4Hd,)

_RNN_STEP_NEXT_H = np.array(
    [
        [0.2929122950866445, 0.3093033629461308, 0.32551268718703263, 0.34153291908193345],
        [-0.42423764645648365, -0.17193733933585797, 0.10513386741925795, 0.36679079200655734],
    ]
)
_RNN_H = np.array(
    [
        [
            [0.2905639188393074, 0.27170645097060897, 0.2526380060295666, 0.23337127354524065],
            [
                -0.24440511846992652,
                -0.13758711564586448,
                -0.027469921888488468,
                0.0833180253134647,
            ],
            [0.009761376156056122, 0.09528592753309108, 0.17942654168707214, 0.2610215134525409],
        ],
        [
            [-0.3845274011470137, -0.18188328260481929, 0.03748484750758725, 0.2532987168261242],
            [-0.1378295043229375, 0.04602022755991514, 0.22680430856464887, 0.39320284623650154],
            [-0.41928499797663343, -0.1694108676530662, 0.10432312419459669, 0.36311401385549624],
        ],
    ]
)
_LSTM_STEP_NEXT_H = np.array(
    [
        [0.0016368432676570391, 0.07230498274032181, 0.14378876722577938, 0.21415960095731976],
        [0.21102339813390808, 0.291551887395784, 0.37305055326012215, 0.45185062317187696],
    ]
)
_LSTM_STEP_NEXT_C = np.array(
    [
        [0.0026490335995782988, 0.11637061302734411, 0.23220280026720097, 0.3501142650756185],
        [0.3636367810978854, 0.4989034372880601, 0.6433531441418849, 0.7964815024069346],
    ]
)
_LSTM_H = np.array(
    [
        [
            [0.10508675439483256, 0.11009707693466024, 0.11515353128399144, 0.12025350622992631],
            [0.09883156402263255, 0.11502616783892917, 0.13200203710980954, 0.14968109524124346],
            [0.12827911998422625, 0.15498849286860494, 0.18323989063375654, 0.2127709304637614],
        ],
        [
            [0.10863734404320767, 0.13334974626107457, 0.1593948078670396, 0.18642829265272765],
            [0.16815608170022367, 0.2068982364018318, 0.2477125263851299, 0.2898676084005997],
            [0.19929127145419262, 0.2499927002574622, 0.30385660308259593, 0.35950771570514994],
        ],
    ]
)

# ---------------------------------------------------------------------------
# Hints
# ---------------------------------------------------------------------------

_RNN_STEP_HINT = (
    "next_h = np.tanh(x @ Wx + prev_h @ Wh + b): x (N, D) meets Wx (D, Hd), prev_h (N, Hd) "
    "meets Wh (Hd, Hd), and next_h has shape (N, Hd)"
)
_RNN_STEP_BACKWARD_HINTS = {
    "dx": "backprop through tanh first: da = dnext_h * (1 - next_h**2), the derivative read "
    "from the OUTPUT next_h (not from the pre-activation, not tanh applied twice); "
    "then dx = da @ Wx.T",
    "dprev_h": "dprev_h = da @ Wh.T with da = dnext_h * (1 - next_h**2)",
    "dWx": "dWx = x.T @ da, shape (D, Hd): every example of the batch adds to it",
    "dWh": "dWh = prev_h.T @ da, shape (Hd, Hd): the hidden state that came IN to the step",
    "db": "db = da.sum(axis=0), shape (Hd,): the bias is shared by the whole batch",
}
_RNN_HINT = (
    "loop t = 0, ..., T-1: h_t = rnn_step_forward(x[:, t], h_{t-1}, ...) starting from "
    "h_{-1} = h0, and store h_t in h[:, t]; each step gets the previous step's output, and h "
    "has shape (N, T, Hd), batch axis first"
)
_SHARED = "is shared by all T steps: add up the gradients of every step (+=), do not overwrite"
_RNN_BACKWARD_HINTS = {
    "dx": "loop t from T-1 down to 0 and backprop dh[:, t] + dprev_h through step t: h[:, t] "
    "also fed step t+1, so its gradient is the sum of the two (dprev_h = 0 at the last step); "
    "store that step's dx in dx[:, t]",
    "dh0": "dh0 is the dprev_h that step 0 sends back, after the loop has run through every "
    "step; h0 is not h[:, 0], it is the state that feeds step 0",
    "dWx": f"Wx {_SHARED}",
    "dWh": f"Wh {_SHARED}",
    "db": f"b {_SHARED}; db has shape (Hd,), summed over the batch and the time steps",
}
_LSTM_GATES = (
    "a = x @ Wx + prev_h @ Wh + b has shape (N, 4Hd): slice it into i, f, o, g in that order, "
    "Hd columns each; i, f, o = sigmoid(...) and g = np.tanh(...)"
)
_LSTM_STEP_HINTS = {  # in the order the function returns them
    "next_h": "next_h = o * np.tanh(next_c), with o = sigmoid(a[:, 2*Hd:3*Hd]) the output gate",
    "next_c": f"{_LSTM_GATES}; then next_c = f * prev_c + i * g: the forget gate scales the "
    "OLD cell, the input gate the new candidate",
}
_LSTM_HINT = (
    "loop t = 0, ..., T-1 with lstm_step_forward starting from h0 and c0 = zeros; carry BOTH "
    "next_h and next_c into the next step, store next_h in h[:, t] (shape (N, T, Hd)); "
    f"{_LSTM_GATES}"
)
_LSTM_STEP_BACKWARD_HINTS = {
    "dx": "the cell's total gradient is dc = dnext_c + dnext_h * o * (1 - tanh(next_c)**2) "
    "(tanh' read from tanh(next_c), not from next_c); then di = dc * g, df = dc * prev_c, "
    "do = dnext_h * tanh(next_c), dg = dc * i; through the activations (s * (1 - s) for the "
    "sigmoid gates i, f, o, 1 - g**2 for g), stacked in the order i, f, o, g into "
    "da (N, 4Hd); dx = da @ Wx.T",
    "dprev_h": "dprev_h = da @ Wh.T, with da (N, 4Hd) stacked in the order i, f, o, g",
    "dprev_c": "dprev_c = dc * f, where dc = dnext_c + dnext_h * o * (1 - tanh(next_c)**2) is "
    "the TOTAL gradient of next_c",
    "dWx": "dWx = x.T @ da, shape (D, 4Hd)",
    "dWh": "dWh = prev_h.T @ da, shape (Hd, 4Hd)",
    "db": "db = da.sum(axis=0), shape (4Hd,)",
}
_LSTM_BACKWARD_HINTS = {
    "dx": "loop t from T-1 down to 0 carrying TWO gradients back from step t+1: dprev_h (add "
    "it to dh[:, t]) and dprev_c (pass it to lstm_step_backward as dnext_c); both are zero at "
    "the last step; store the step's dx in dx[:, t]",
    "dh0": "dh0 is the dprev_h that step 0 sends back after the whole loop (not dprev_c, and "
    "not dh[:, 0])",
    "dWx": f"Wx {_SHARED}",
    "dWh": f"Wh {_SHARED}",
    "db": f"b {_SHARED}; db has shape (4Hd,), summed over the batch and the time steps",
}

# ---------------------------------------------------------------------------
# Random inputs: D != Hd, so a transposed weight or a swapped matmul shows.
# ---------------------------------------------------------------------------


def _recurrent_inputs(
    seed: int, gates: int, step: bool, N: int = 3, T: int = 4, D: int = 5, Hd: int = 6
) -> tuple[np.ndarray, ...]:
    """(x, prev_h[, prev_c], Wx, Wh, b) for an RNN (gates=1) or LSTM (gates=4)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, D) if step else (N, T, D))
    h = rng.standard_normal((N, Hd))
    Wx = rng.standard_normal((D, gates * Hd)) / np.sqrt(D)
    Wh = rng.standard_normal((Hd, gates * Hd)) / np.sqrt(Hd)
    b = rng.standard_normal(gates * Hd)
    if gates == 4 and step:
        return x, h, rng.standard_normal((N, Hd)), Wx, Wh, b
    return x, h, Wx, Wh, b


# ---------------------------------------------------------------------------
# Vanilla RNN
# ---------------------------------------------------------------------------


def check_rnn_step_forward(rnn_step_forward: Callable) -> None:
    """Check ``rnn_step_forward(x, prev_h, Wx, Wh, b) -> (next_h, cache)``."""
    name = "rnn_step_forward"
    errors, tols = compare_forward(
        name,
        rnn_step_forward,
        layers.rnn_step_forward,
        (
            (_X_STEP, _PREV_H, _RNN_WX, _RNN_WH, _RNN_B),
            {"next_h": _RNN_STEP_NEXT_H},
        ),
        _recurrent_inputs(seed=20, gates=1, step=True),
        {"next_h": _RNN_STEP_HINT},
    )
    report(name, errors, tols)


def check_rnn_step_backward(rnn_step_forward: Callable, rnn_step_backward: Callable) -> None:
    """Check ``rnn_step_backward(dnext_h, cache) -> (dx, dprev_h, dWx, dWh, db)``."""
    name = "rnn_step_backward"
    errors, tols = compare_backward_both_dtypes(
        name,
        rnn_step_forward,
        rnn_step_backward,
        layers.rnn_step_forward,
        layers.rnn_step_backward,
        _recurrent_inputs(seed=21, gates=1, step=True),
        _RNN_STEP_BACKWARD_HINTS,
        seed=22,
    )
    report(name, errors, tols)


def check_rnn_forward(rnn_forward: Callable) -> None:
    """Check ``rnn_forward(x, h0, Wx, Wh, b) -> (h, cache)``."""
    name = "rnn_forward"
    errors, tols = compare_forward(
        name,
        rnn_forward,
        layers.rnn_forward,
        ((_X_SEQ, _PREV_H, _RNN_WX, _RNN_WH, _RNN_B), {"h": _RNN_H}),
        _recurrent_inputs(seed=23, gates=1, step=False),
        {"h": _RNN_HINT},
    )
    report(name, errors, tols)


def check_rnn_backward(rnn_forward: Callable, rnn_backward: Callable) -> None:
    """Check ``rnn_backward(dh, cache) -> (dx, dh0, dWx, dWh, db)``: backprop through time."""
    name = "rnn_backward"
    errors, tols = compare_backward_both_dtypes(
        name,
        rnn_forward,
        rnn_backward,
        layers.rnn_forward,
        layers.rnn_backward,
        _recurrent_inputs(seed=24, gates=1, step=False),
        _RNN_BACKWARD_HINTS,
        seed=25,
    )
    report(name, errors, tols)


# ---------------------------------------------------------------------------
# LSTM
# ---------------------------------------------------------------------------


def check_lstm_step_forward(lstm_step_forward: Callable) -> None:
    """Check ``lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b) -> (next_h, next_c, cache)``.

    next_c is compared before next_h: a mistake in the gates or the cell
    shows in both, and the message about next_c names it.
    """
    name = "lstm_step_forward"
    errors, tols = compare_forward(
        name,
        lstm_step_forward,
        layers.lstm_step_forward,
        (
            (_X_STEP, _PREV_H, _PREV_C, _LSTM_WX, _LSTM_WH, _LSTM_B),
            {"next_h": _LSTM_STEP_NEXT_H, "next_c": _LSTM_STEP_NEXT_C},
        ),
        _recurrent_inputs(seed=30, gates=4, step=True),
        _LSTM_STEP_HINTS,
        order=("next_c", "next_h"),
    )
    report(name, errors, tols)


def check_lstm_step_backward(lstm_step_forward: Callable, lstm_step_backward: Callable) -> None:
    """Check the LSTM step's backward pass against numerical gradients.

    ``lstm_step_backward(dnext_h, dnext_c, cache) -> (dx, dprev_h, dprev_c, dWx, dWh, db)``

    The forward has two outputs, so the numerical gradients are those of
    ``sum(next_h * dnext_h) + sum(next_c * dnext_c)``; then the gradients of
    float32 inputs must be float32.
    """
    name = "lstm_step_backward"
    errors, tols = compare_backward_both_dtypes(
        name,
        lstm_step_forward,
        lstm_step_backward,
        layers.lstm_step_forward,
        layers.lstm_step_backward,
        _recurrent_inputs(seed=31, gates=4, step=True),
        _LSTM_STEP_BACKWARD_HINTS,
        seed=32,
        outputs=("next_h", "next_c"),
    )
    report(name, errors, tols)


def check_lstm_forward(lstm_forward: Callable) -> None:
    """Check ``lstm_forward(x, h0, Wx, Wh, b) -> (h, cache)`` (c0 = 0)."""
    name = "lstm_forward"
    errors, tols = compare_forward(
        name,
        lstm_forward,
        layers.lstm_forward,
        ((_X_SEQ, _PREV_H, _LSTM_WX, _LSTM_WH, _LSTM_B), {"h": _LSTM_H}),
        _recurrent_inputs(seed=34, gates=4, step=False),
        {"h": _LSTM_HINT},
    )
    report(name, errors, tols)


def check_lstm_backward(lstm_forward: Callable, lstm_backward: Callable) -> None:
    """Check ``lstm_backward(dh, cache) -> (dx, dh0, dWx, dWh, db)``: backprop through time."""
    name = "lstm_backward"
    errors, tols = compare_backward_both_dtypes(
        name,
        lstm_forward,
        lstm_backward,
        layers.lstm_forward,
        layers.lstm_backward,
        _recurrent_inputs(seed=35, gates=4, step=False, N=2, T=3, D=3, Hd=4),
        _LSTM_BACKWARD_HINTS,
        seed=36,
    )
    report(name, errors, tols)
