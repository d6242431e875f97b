"""Checks for the recurrent layers (``course/layers/rnn.py``): RNN and LSTM, step and sequence.

Forward checks compare a worked example (evenly spaced inputs, expected values
written out below), a random float64 case and a float32 case that must stay
float32. Backward checks compare every gradient with centred differences of
the *reference* forward (float64), then check on float32 inputs that the
gradients keep their dtype. A wrong value that matches a classic mistake (a
transposed weight, the sigmoid for tanh, a state not carried, backprop
without the gradient from the next step, ...) gets the hint that names it.

This module passes the ~400 lines a module aims for: it is eight checks of one
topic, and most of it is worked examples, hints and the diagnosis that picks one.
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
    "the new state squashes (with tanh) the input's contribution through Wx plus the previous "
    "state's through Wh plus the bias; x (N, D) meets Wx (D, Hd), prev_h (N, Hd) meets Wh "
    "(Hd, Hd), and next_h has shape (N, Hd)"
)
_RNN_STEP_BACKWARD_HINTS = {
    "dx": "backprop through tanh first: its derivative can be read from the OUTPUT next_h "
    "(not from the pre-activation, not tanh applied twice); then the gradient reaches x "
    "through Wx",
    "dprev_h": "the gradient behind tanh reaches prev_h through Wh",
    "dWx": "Wx meets x in every example of the batch: its gradient collects all of them, "
    "shape (D, Hd)",
    "dWh": "Wh meets the hidden state that came IN to the step, prev_h: its gradient pairs "
    "that state with the gradient behind tanh, shape (Hd, Hd)",
    "db": "the bias is shared by the whole batch: its gradient collects every example's, "
    "shape (Hd,)",
}
_RNN_HINT = (
    "run the step once per time step t = 0, ..., T-1, starting from h0: each step gets the "
    "previous step's output state, and h holds every step's state, shape (N, T, Hd), batch "
    "axis first"
)
_SHARED = "is shared by all T steps: add up the gradients of every step (+=), do not overwrite"
_RNN_BACKWARD_HINTS = {
    "dx": "go back in time, t from T-1 down to 0: h[:, t] was an output AND fed step t+1, so "
    "the gradient reaching step t is dh[:, t] + dprev_h from the step after it (nothing "
    "after the last step); each step's dx goes to dx[:, t]",
    "dh0": "dh0 is what step 0 sends back to its incoming state, after the loop has run "
    "through every step; h0 is not h[:, 0], it is the state that feeds step 0",
    "dWx": f"Wx {_SHARED}",
    "dWh": f"Wh {_SHARED}",
    "db": f"b {_SHARED}; db has shape (Hd,), collected over the batch and the time steps",
}
_LSTM_GATES = (
    "the gates come from one affine map of x and prev_h, (N, 4Hd), split into i, f, o, g in "
    "that order, Hd columns each; i, f, o squashed by the sigmoid, g by tanh"
)
_LSTM_STEP_HINTS = {  # in the order the function returns them
    "next_h": "next_h is the output gate o times tanh of the NEW cell",
    "next_c": f"{_LSTM_GATES}; the forget gate scales the OLD cell, the input gate the new "
    "candidate g, and the cell adds the two",
}
_LSTM_HINT = (
    "run lstm_step_forward once per time step from h0 and c0 = zeros; carry BOTH next_h and "
    "next_c into the next step, and keep every step's next_h in h (shape (N, T, Hd)); "
    f"{_LSTM_GATES}"
)
_LSTM_STEP_BACKWARD_HINTS = {
    "dx": "the cell's TOTAL gradient adds dnext_c and what reaches it through next_h = o * "
    "tanh(next_c) (tanh' read from tanh(next_c), not from next_c); each gate's gradient then "
    "goes through its own activation (sigmoid for i, f, o; tanh for g), stacked in the order "
    "i, f, o, g into the (N, 4Hd) gradient of the affine map, which reaches x through Wx",
    "dprev_h": "the gradient of the affine map, stacked in the order i, f, o, g, reaches "
    "prev_h through Wh",
    "dprev_c": "the old cell reaches next_c through the forget gate: dprev_c is the TOTAL "
    "gradient of next_c (dnext_c plus the part through next_h) scaled by f",
    "dWx": "Wx meets x in every example: its gradient collects all of them, shape (D, 4Hd)",
    "dWh": "Wh meets prev_h in every example: its gradient collects all of them, shape (Hd, 4Hd)",
    "db": "the bias is shared by the whole batch, shape (4Hd,)",
}
_LSTM_BACKWARD_HINTS = {
    "dx": "go back in time carrying TWO gradients from step t+1: dprev_h (add it to dh[:, t]) "
    "and dprev_c (pass it to lstm_step_backward as dnext_c); nothing comes after the last "
    "step; each step's dx goes to dx[:, t]",
    "dh0": "dh0 is what step 0 sends back to its incoming hidden state after the whole loop "
    "(not dprev_c, and not dh[:, 0])",
    "dWx": f"Wx {_SHARED}",
    "dWh": f"Wh {_SHARED}",
    "db": f"b {_SHARED}; db has shape (4Hd,), collected over the batch and the time steps",
}
_RECURRENT_MISTAKE_HINTS = {
    "wh transposed": "prev_h meets Wh as it is, (Hd, Hd) rows for the incoming state: not "
    "transposed",
    "no bias": "the bias b is missing",
    "sigmoid": "the vanilla RNN squashes with tanh, not the sigmoid",
    "tanh twice": "tanh's derivative is 1 - tanh(a)**2 where tanh(a) IS next_h: applying tanh "
    "to next_h again computes it at the wrong point",
    "no tanh grad": "the gradient skipped tanh: multiply by its derivative before the matmuls",
    "dwh next_h": "Wh multiplied the INCOMING state prev_h, so its gradient pairs prev_h (not "
    "next_h) with the gradient behind tanh",
    "sigmoid g": "the candidate g is squashed by tanh (values in (-1, 1)), not the sigmoid",
    "no tanh cell": "next_h squashes the new cell with tanh before the output gate scales it",
    "tanh o": "the output gate o is a gate: squashed by the sigmoid, like i and f",
}


def _rnn_step_suspects(x, prev_h, Wx, Wh, b) -> dict[str, list]:
    """The next_h of the classic RNN step mistakes, with the hints that name them."""
    h = _RECURRENT_MISTAKE_HINTS
    a = x @ Wx + prev_h @ Wh + b  # (N, Hd)
    return {
        "next_h": [
            (np.tanh(x @ Wx + prev_h @ Wh.T + b), h["wh transposed"]),
            (np.tanh(a - b), h["no bias"]),
            (_sigmoid(a), h["sigmoid"]),
        ]
    }


def _rnn_step_backward_suspects(inputs: tuple, upstream: list[np.ndarray]) -> dict[str, list]:
    """The gradients of the classic RNN step backward mistakes, with the hints that name them."""
    x, prev_h, Wx, Wh, b = inputs
    (dnext_h,) = upstream
    h = _RECURRENT_MISTAKE_HINTS
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    da = dnext_h * (1 - next_h**2)
    return {
        "dx": [
            (dnext_h * (1 - np.tanh(next_h) ** 2) @ Wx.T, h["tanh twice"]),
            (dnext_h @ Wx.T, h["no tanh grad"]),
        ],
        "dWh": [(next_h.T @ da, h["dwh next_h"])],
    }


def _lstm_step_suspects(x, prev_h, prev_c, Wx, Wh, b) -> dict[str, list]:
    """next_c and next_h of the classic LSTM step mistakes, with the hints that name them."""
    hints = _RECURRENT_MISTAKE_HINTS
    a = x @ Wx + prev_h @ Wh + b  # (N, 4Hd)
    Hd = prev_h.shape[1]
    i, f, o = (_sigmoid(a[:, k * Hd : (k + 1) * Hd]) for k in range(3))
    g = a[:, 3 * Hd :]
    next_c = f * prev_c + i * np.tanh(g)
    return {
        "next_c": [(f * prev_c + i * _sigmoid(g), hints["sigmoid g"])],
        "next_h": [
            (o * next_c, hints["no tanh cell"]),
            (np.tanh(a[:, 2 * Hd : 3 * Hd]) * np.tanh(next_c), hints["tanh o"]),
        ],
    }


_SEQUENCE_MISTAKE_HINTS = {
    "h0 every step": "every step started from h0: each step starts from the state the step "
    "before it returned",
    "prev state": "h[:, t] holds the state step t RETURNS, not the one it started from",
    "c not carried": "the cell was not carried: each step starts from the cell the step "
    "before it returned (c0 = zeros only for the first)",
    "c0 is h0": "the first cell c0 is zeros, not h0",
    "cells": "h holds the hidden states next_h, not the cells next_c",
    "no bptt": "the gradient coming back from step t+1 (dprev_h) was dropped: h[:, t] also "
    "fed step t+1, so both gradients reach it",
    "forward in time": "backprop runs BACKWARD in time, from the last step to the first: "
    "step t needs the gradient that step t+1 sends back",
}


def _run_steps(step: Callable, x: np.ndarray, h0: np.ndarray, params: tuple, **how) -> dict:
    """The states of a loop of ``step`` over time, run right or as a classic mistake.

    ``how``: restart_h (every step from h0), restart_c (every step from c0 = 0),
    c0 (the first cell; zeros by default), lstm (whether ``step`` carries a cell).
    Returns {'h': (N, T, Hd) next states, 'c': cells, 'prev': incoming states, 'caches'}.
    """
    N, T, _ = x.shape
    prev_h, prev_c = h0, how.get("c0", np.zeros_like(h0))
    hs, cs, prevs, caches = [], [], [], []
    for t in range(T):
        prevs.append(prev_h)
        if how.get("lstm"):
            next_h, next_c, cache = step(x[:, t], prev_h, prev_c, *params)
            cs.append(next_c)
            prev_c = np.zeros_like(h0) if how.get("restart_c") else next_c
        else:
            next_h, cache = step(x[:, t], prev_h, *params)
        hs.append(next_h)
        caches.append(cache)
        prev_h = h0 if how.get("restart_h") else next_h
    return {"h": _stack(hs), "c": _stack(cs), "prev": _stack(prevs), "caches": caches}


def _stack(states: list[np.ndarray]) -> np.ndarray | None:
    """Per-step states (N, Hd) as one (N, T, Hd) array; None when there are none."""
    return np.stack(states, axis=1) if states else None


def _rnn_suspects(x, h0, Wx, Wh, b) -> dict[str, list]:
    """The h of the classic rnn_forward mistakes, with the hints that name them."""
    hints, step = _SEQUENCE_MISTAKE_HINTS, layers.rnn_step_forward
    run = _run_steps(step, x, h0, (Wx, Wh, b))
    return {
        "h": [
            (_run_steps(step, x, h0, (Wx, Wh, b), restart_h=True)["h"], hints["h0 every step"]),
            (run["prev"], hints["prev state"]),
        ]
    }


def _lstm_suspects(x, h0, Wx, Wh, b) -> dict[str, list]:
    """The h of the classic lstm_forward mistakes, with the hints that name them."""
    hints, step, params = _SEQUENCE_MISTAKE_HINTS, layers.lstm_step_forward, (Wx, Wh, b)
    run = _run_steps(step, x, h0, params, lstm=True)
    return {
        "h": [
            (
                _run_steps(step, x, h0, params, lstm=True, restart_c=True)["h"],
                hints["c not carried"],
            ),
            (
                _run_steps(step, x, h0, params, lstm=True, restart_h=True)["h"],
                hints["h0 every step"],
            ),
            (_run_steps(step, x, h0, params, lstm=True, c0=h0)["h"], hints["c0 is h0"]),
            (run["c"], hints["cells"]),
        ]
    }


def _bptt_suspects(lstm: bool) -> Callable:
    """Suspects for rnn_backward or lstm_backward: BPTT without dprev_h, or forward in time."""

    def suspects(inputs: tuple, upstream: list[np.ndarray]) -> dict[str, list]:
        x, h0, *params = inputs
        (dh,) = upstream
        step = layers.lstm_step_forward if lstm else layers.rnn_step_forward
        backward = layers.lstm_step_backward if lstm else layers.rnn_step_backward
        caches = _run_steps(step, x, h0, tuple(params), lstm=lstm)["caches"]
        hints, T = _SEQUENCE_MISTAKE_HINTS, x.shape[1]
        wrong = []
        for order, carry, hint in (
            (range(T - 1, -1, -1), False, hints["no bptt"]),
            (range(T), True, hints["forward in time"]),
        ):
            dx = np.zeros_like(x)
            dprev_h, dprev_c = np.zeros_like(h0), np.zeros_like(h0)
            for t in order:
                upstream_h = dh[:, t] + (dprev_h if carry else 0)
                if lstm:
                    dx[:, t], dprev_h, dprev_c, *_ = backward(upstream_h, dprev_c, caches[t])
                else:
                    dx[:, t], dprev_h, *_ = backward(upstream_h, caches[t])
            wrong.append((dx, hint))
        return {"dx": wrong}

    return suspects


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-a))


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
        suspects=lambda inputs: _rnn_step_suspects(*inputs),
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
        suspects=_rnn_step_backward_suspects,
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
        suspects=lambda inputs: _rnn_suspects(*inputs),
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
        suspects=_bptt_suspects(lstm=False),
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
        suspects=lambda inputs: _lstm_step_suspects(*inputs),
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
        suspects=lambda inputs: _lstm_suspects(*inputs),
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
        suspects=_bptt_suspects(lstm=True),
    )
    report(name, errors, tols)
