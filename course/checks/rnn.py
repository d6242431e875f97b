"""Checks for the recurrent exercises: RNN and LSTM steps and sequences, word embeddings,
the temporal affine layer and the temporal softmax loss.

Forward checks compare a worked example (evenly spaced inputs, expected values
written out below), a random float64 case and a float32 case that must stay
float32. Backward checks compare every gradient with centred differences of
the *reference* forward (float64), then check on float32 inputs that the
gradients keep their dtype.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from course import rnn_layers
from course.checks.core import (
    GRAD_TOL,
    VALUE_TOL,
    call_student,
    check_layer_backward,
    compare,
    expect_tuple,
    report,
)
from course.gradcheck import numerical_backward, numerical_gradient

FLOAT32_TOL = 1e-5  # float32 results against the exact (float64) values of the same inputs

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

# Word embedding: V = 5 words of D = 3; words 0 and 3 occur more than once.
_EMBED_W = np.linspace(-1, 1, 5 * 3).reshape(5, 3)  # (V, D)
_EMBED_X = np.array([[0, 3, 1, 3], [4, 0, 0, 2]])  # (N, T)
_EMBED_OUT = np.array(
    [
        [
            [-1.0, -0.8571428571428572, -0.7142857142857143],
            [0.2857142857142856, 0.4285714285714284, 0.5714285714285714],
            [-0.5714285714285714, -0.4285714285714286, -0.2857142857142858],
            [0.2857142857142856, 0.4285714285714284, 0.5714285714285714],
        ],
        [
            [0.7142857142857142, 0.857142857142857, 1.0],
            [-1.0, -0.8571428571428572, -0.7142857142857143],
            [-1.0, -0.8571428571428572, -0.7142857142857143],
            [-0.1428571428571429, 0.0, 0.1428571428571428],
        ],
    ]
)

# Temporal affine: N = 2, T = 3, D = 4, M = 3.
_AFFINE_X = np.linspace(-0.5, 0.5, 2 * 3 * 4).reshape(2, 3, 4)  # (N, T, D)
_AFFINE_W = np.linspace(-0.2, 0.3, 4 * 3).reshape(4, 3)  # (D, M)
_AFFINE_B = np.linspace(-0.3, 0.1, 3)  # (M,)
_AFFINE_OUT = np.array(
    [
        [
            [-0.2782608695652174, -0.15731225296442686, -0.03636363636363635],
            [-0.275098814229249, -0.12252964426877468, 0.03003952569169961],
            [-0.2719367588932806, -0.08774703557312251, 0.09644268774703559],
        ],
        [
            [-0.26877470355731226, -0.05296442687747032, 0.16284584980237155],
            [-0.2656126482213439, -0.01818181818181816, 0.22924901185770752],
            [-0.2624505928853755, 0.01660079051383402, 0.29565217391304344],
        ],
    ]
)

# Temporal softmax loss: N = 2, T = 3, V = 4; 3 of the 6 time steps count.
_LOSS_X = np.linspace(-1, 2, 2 * 3 * 4).reshape(2, 3, 4)  # (N, T, V)
_LOSS_Y = np.array([[0, 3, 1], [2, 2, 0]])  # (N, T)
_LOSS_MASK = np.array([[True, True, False], [True, False, False]])  # (N, T)
_LOSS_VALUE = 2.062744474788649

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
_EMBED_HINT = (
    "out = W[x]: each index x[n, t] picks row x[n, t] of W, so out has shape (N, T, D); "
    "indices start at 0"
)
_EMBED_BACKWARD_HINTS = {
    "dW": "a word that occurs several times receives the SUM of its gradients: "
    "np.add.at(dW, x, dout) accumulates repeated indices, where dW[x] = dout or "
    "dW[x] += dout keeps only one of them; dW has W's shape (V, D). Return dW alone: "
    "the indices x have no gradient",
}
_AFFINE_HINT = (
    "the same affine layer at every time step: "
    "out = (x.reshape(N * T, D) @ w).reshape(N, T, M) + b"
)
_AFFINE_BACKWARD_HINTS = {
    "dx": "dx = (dout.reshape(N * T, M) @ w.T).reshape(N, T, D)",
    "dw": "dw = x.reshape(N * T, D).T @ dout.reshape(N * T, M), shape (D, M): every example "
    "and every time step adds to it",
    "db": "db = dout.sum(axis=(0, 1)), shape (M,): summed over the batch AND the time steps",
}
_LOSS_HINTS = {
    "loss": "loss = -(sum of log softmax(x)[n, t, y[n, t]] over the steps where mask is True) "
    "/ N: masked steps add nothing, and divide by the batch size N, not by the number of "
    "tokens; subtract each row's max over V before np.exp so large scores do not overflow",
    "dx": "dx = (softmax(x) - one_hot(y)) / N where mask is True and 0 where it is False; "
    "shape (N, T, V)",
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


def _embedding_inputs(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices with words repeated within and across sequences, one word unused (V = 6)."""
    rng = np.random.default_rng(seed)
    x = np.array([[1, 3, 3, 0], [5, 1, 3, 2], [0, 3, 1, 1]])  # (N, T); word 4 never occurs
    return x, rng.standard_normal((6, 3))  # W: (V, D)


def _affine_inputs(seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    return (
        rng.standard_normal((3, 4, 5)),  # x: (N, T, D)
        rng.standard_normal((5, 6)),  # w: (D, M)
        rng.standard_normal(6),  # b: (M,)
    )


def _loss_inputs(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores, targets and a mask of captions of different lengths (N = 4, T = 5, V = 6)."""
    rng = np.random.default_rng(seed)
    N, T, V = 4, 5, 6
    x = rng.standard_normal((N, T, V))
    y = rng.integers(0, V, size=(N, T))
    lengths = np.array([5, 2, 3, 1])
    mask = np.arange(T) < lengths[:, None]  # (N, T), True before each caption's end
    return x, y, mask


# ---------------------------------------------------------------------------
# Shared machinery
# ---------------------------------------------------------------------------


def _as_float(values: Sequence, dtype: type) -> tuple:
    """Cast the floating-point arrays among ``values`` to ``dtype``; leave the rest."""
    return tuple(
        v.astype(dtype) if isinstance(v, np.ndarray) and np.issubdtype(v.dtype, np.floating) else v
        for v in values
    )


def _check_forward(
    name: str,
    student: Callable,
    reference: Callable,
    example: tuple[tuple, dict[str, np.ndarray]],
    random_inputs: tuple,
    hints: dict[str, str],
    order: Sequence[str] | None = None,
) -> None:
    """The worked example, then random float64 inputs, then the same inputs in float32.

    ``hints`` names the outputs before the cache, in the order the function
    returns them; ``order`` is the order in which to compare them (the one
    whose mistakes cause the others' first).
    """
    out_names = tuple(hints)
    order = tuple(order or out_names)
    example_inputs, example_expected = example
    cases = [
        ("", example_inputs, example_expected, np.float64),
        (" (float64)", random_inputs, None, np.float64),
        (" (float32)", _as_float(random_inputs, np.float32), None, np.float32),
    ]
    errors, tols = {}, {}
    for label, inputs, expected, dtype in cases:
        result = call_student(name, student, *inputs)
        outs = expect_tuple(name, result, (*out_names, "cache"), name)
        if expected is None:  # exact values of these inputs, computed in float64
            reference_outs = reference(*_as_float(inputs, np.float64))
            expected = dict(zip(out_names, reference_outs, strict=False))
        tol = VALUE_TOL if dtype == np.float64 else FLOAT32_TOL
        for out_name in order:
            output = out_name + label
            actual = outs[out_names.index(out_name)]
            errors[output] = compare(
                name, output, actual, expected[out_name], tol, hints[out_name], np.dtype(dtype)
            )
            tols[output] = tol
    report(name, errors, tols)


def _student_gradients(
    name: str,
    forward: Callable,
    backward: Callable,
    inputs: tuple,
    upstream_shapes: Sequence[tuple[int, ...]],
    out_names: tuple[str, ...],
    grad_names: tuple[str, ...],
    seed: int,
    dtype: type,
) -> tuple[tuple, list[np.ndarray]]:
    """Run the student's forward, then backward on random upstream gradients.

    The upstream gradients are shaped like the reference outputs
    (``upstream_shapes``). Returns the student's gradients and the upstream
    gradients passed in.
    """
    forward_name = name.replace("_backward", "_forward")
    result = call_student(name, forward, *inputs, what=forward_name)
    outs = expect_tuple(name, result, (*out_names, "cache"), forward_name)
    rng = np.random.default_rng(seed)
    upstream = [rng.standard_normal(shape).astype(dtype) for shape in upstream_shapes]
    grads = call_student(name, backward, *upstream, outs[-1])
    return expect_tuple(name, grads, grad_names, name), upstream


def _check_float32_gradients(
    name: str,
    forward: Callable,
    backward: Callable,
    reference_forward: Callable,
    reference_backward: Callable,
    inputs: tuple,
    out_names: tuple[str, ...],
    hints: dict[str, str],
    seed: int,
) -> tuple[dict[str, float], dict[str, float]]:
    """The gradients of float32 inputs: float32 arrays close to the exact ones."""
    inputs32 = _as_float(inputs, np.float32)
    inputs64 = _as_float(inputs32, np.float64)  # the same numbers, for the exact gradients
    *reference_outs, reference_cache = reference_forward(*inputs64)
    shapes = [np.shape(out) for out in reference_outs]
    grads, upstream = _student_gradients(
        name, forward, backward, inputs32, shapes, out_names, tuple(hints), seed, np.float32
    )
    expected = reference_backward(*_as_float(upstream, np.float64), reference_cache)
    if isinstance(expected, np.ndarray):
        expected = (expected,)
    errors = {
        f"{grad_name} (float32)": compare(
            name,
            f"{grad_name} (float32)",
            grad,
            value,
            FLOAT32_TOL,
            hints[grad_name],
            np.dtype(np.float32),
        )
        for grad_name, grad, value in zip(hints, grads, expected, strict=True)
    }
    return errors, dict.fromkeys(errors, FLOAT32_TOL)


def _check_backward(
    name: str,
    forward: Callable,
    backward: Callable,
    reference_forward: Callable,
    reference_backward: Callable,
    inputs: tuple,
    hints: dict[str, str],
    seed: int,
) -> None:
    """Numerical gradients in float64 (``check_layer_backward``), then the float32 dtypes."""
    errors = check_layer_backward(name, forward, backward, reference_forward, inputs, hints, seed)
    tols = dict.fromkeys(errors, GRAD_TOL)
    errors32, tols32 = _check_float32_gradients(
        name,
        forward,
        backward,
        reference_forward,
        reference_backward,
        inputs,
        ("out",),
        hints,
        seed + 1,
    )
    report(name, errors | errors32, tols | tols32)


# ---------------------------------------------------------------------------
# Vanilla RNN
# ---------------------------------------------------------------------------


def check_rnn_step_forward(rnn_step_forward: Callable) -> None:
    """Check ``rnn_step_forward(x, prev_h, Wx, Wh, b) -> (next_h, cache)``."""
    _check_forward(
        "rnn_step_forward",
        rnn_step_forward,
        rnn_layers.rnn_step_forward,
        (
            (_X_STEP, _PREV_H, _RNN_WX, _RNN_WH, _RNN_B),
            {"next_h": _RNN_STEP_NEXT_H},
        ),
        _recurrent_inputs(seed=20, gates=1, step=True),
        {"next_h": _RNN_STEP_HINT},
    )


def check_rnn_step_backward(rnn_step_forward: Callable, rnn_step_backward: Callable) -> None:
    """Check ``rnn_step_backward(dnext_h, cache) -> (dx, dprev_h, dWx, dWh, db)``."""
    _check_backward(
        "rnn_step_backward",
        rnn_step_forward,
        rnn_step_backward,
        rnn_layers.rnn_step_forward,
        rnn_layers.rnn_step_backward,
        _recurrent_inputs(seed=21, gates=1, step=True),
        _RNN_STEP_BACKWARD_HINTS,
        seed=22,
    )


def check_rnn_forward(rnn_forward: Callable) -> None:
    """Check ``rnn_forward(x, h0, Wx, Wh, b) -> (h, cache)``."""
    _check_forward(
        "rnn_forward",
        rnn_forward,
        rnn_layers.rnn_forward,
        ((_X_SEQ, _PREV_H, _RNN_WX, _RNN_WH, _RNN_B), {"h": _RNN_H}),
        _recurrent_inputs(seed=23, gates=1, step=False),
        {"h": _RNN_HINT},
    )


def check_rnn_backward(rnn_forward: Callable, rnn_backward: Callable) -> None:
    """Check ``rnn_backward(dh, cache) -> (dx, dh0, dWx, dWh, db)``: backprop through time."""
    _check_backward(
        "rnn_backward",
        rnn_forward,
        rnn_backward,
        rnn_layers.rnn_forward,
        rnn_layers.rnn_backward,
        _recurrent_inputs(seed=24, gates=1, step=False),
        _RNN_BACKWARD_HINTS,
        seed=25,
    )


# ---------------------------------------------------------------------------
# LSTM
# ---------------------------------------------------------------------------


def check_lstm_step_forward(lstm_step_forward: Callable) -> None:
    """Check ``lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b) -> (next_h, next_c, cache)``.

    next_c is compared before next_h: a mistake in the gates or the cell
    shows in both, and the message about next_c names it.
    """
    _check_forward(
        "lstm_step_forward",
        lstm_step_forward,
        rnn_layers.lstm_step_forward,
        (
            (_X_STEP, _PREV_H, _PREV_C, _LSTM_WX, _LSTM_WH, _LSTM_B),
            {"next_h": _LSTM_STEP_NEXT_H, "next_c": _LSTM_STEP_NEXT_C},
        ),
        _recurrent_inputs(seed=30, gates=4, step=True),
        _LSTM_STEP_HINTS,
        order=("next_c", "next_h"),
    )


def check_lstm_step_backward(lstm_step_forward: Callable, lstm_step_backward: Callable) -> None:
    """Check the LSTM step's backward pass against numerical gradients.

    ``lstm_step_backward(dnext_h, dnext_c, cache) -> (dx, dprev_h, dprev_c, dWx, dWh, db)``

    The forward has two outputs, so the numerical gradients are those of
    ``sum(next_h * dnext_h) + sum(next_c * dnext_c)``: the reference forward
    is wrapped to return both outputs stacked, and the upstream gradient is
    (dnext_h, dnext_c) stacked the same way.
    """
    name = "lstm_step_backward"
    hints = _LSTM_STEP_BACKWARD_HINTS
    inputs = _recurrent_inputs(seed=31, gates=4, step=True)
    N, Hd = inputs[1].shape
    grads, (dnext_h, dnext_c) = _student_gradients(
        name,
        lstm_step_forward,
        lstm_step_backward,
        inputs,
        [(N, Hd), (N, Hd)],
        ("next_h", "next_c"),
        tuple(hints),
        seed=32,
        dtype=np.float64,
    )
    numeric = numerical_backward(_lstm_step_stacked, inputs, np.stack([dnext_h, dnext_c]))
    errors = {
        grad_name: compare(name, grad_name, grad, expected, GRAD_TOL, hints[grad_name])
        for grad_name, grad, expected in zip(hints, grads, numeric, strict=True)
    }
    tols = dict.fromkeys(errors, GRAD_TOL)
    errors32, tols32 = _check_float32_gradients(
        name,
        lstm_step_forward,
        lstm_step_backward,
        rnn_layers.lstm_step_forward,
        rnn_layers.lstm_step_backward,
        inputs,
        ("next_h", "next_c"),
        hints,
        seed=33,
    )
    report(name, errors | errors32, tols | tols32)


def _lstm_step_stacked(*inputs: np.ndarray) -> tuple[np.ndarray, None]:
    """The reference LSTM step with its two outputs stacked: ``(2, N, Hd)``, for gradients."""
    next_h, next_c, _ = rnn_layers.lstm_step_forward(*inputs)
    return np.stack([next_h, next_c]), None  # (2, N, Hd)


def check_lstm_forward(lstm_forward: Callable) -> None:
    """Check ``lstm_forward(x, h0, Wx, Wh, b) -> (h, cache)`` (c0 = 0)."""
    _check_forward(
        "lstm_forward",
        lstm_forward,
        rnn_layers.lstm_forward,
        ((_X_SEQ, _PREV_H, _LSTM_WX, _LSTM_WH, _LSTM_B), {"h": _LSTM_H}),
        _recurrent_inputs(seed=34, gates=4, step=False),
        {"h": _LSTM_HINT},
    )


def check_lstm_backward(lstm_forward: Callable, lstm_backward: Callable) -> None:
    """Check ``lstm_backward(dh, cache) -> (dx, dh0, dWx, dWh, db)``: backprop through time."""
    _check_backward(
        "lstm_backward",
        lstm_forward,
        lstm_backward,
        rnn_layers.lstm_forward,
        rnn_layers.lstm_backward,
        _recurrent_inputs(seed=35, gates=4, step=False, N=2, T=3, D=3, Hd=4),
        _LSTM_BACKWARD_HINTS,
        seed=36,
    )


# ---------------------------------------------------------------------------
# Word embedding, temporal affine, temporal softmax loss
# ---------------------------------------------------------------------------


def check_word_embedding_forward(word_embedding_forward: Callable) -> None:
    """Check ``word_embedding_forward(x, W) -> (out, cache)``."""
    rng = np.random.default_rng(40)
    W = rng.standard_normal((7, 5))  # (V, D)
    x = rng.integers(0, 7, size=(4, 6))  # (N, T)
    _check_forward(
        "word_embedding_forward",
        word_embedding_forward,
        rnn_layers.word_embedding_forward,
        ((_EMBED_X, _EMBED_W), {"out": _EMBED_OUT}),
        (x, W),
        {"out": _EMBED_HINT},
    )


def check_word_embedding_backward(
    word_embedding_forward: Callable, word_embedding_backward: Callable
) -> None:
    """Check ``word_embedding_backward(dout, cache) -> dW``, on a batch that repeats words."""
    _check_backward(
        "word_embedding_backward",
        word_embedding_forward,
        word_embedding_backward,
        rnn_layers.word_embedding_forward,
        rnn_layers.word_embedding_backward,
        _embedding_inputs(seed=41),
        _EMBED_BACKWARD_HINTS,
        seed=42,
    )


def check_temporal_affine_forward(temporal_affine_forward: Callable) -> None:
    """Check ``temporal_affine_forward(x, w, b) -> (out, cache)``."""
    _check_forward(
        "temporal_affine_forward",
        temporal_affine_forward,
        rnn_layers.temporal_affine_forward,
        ((_AFFINE_X, _AFFINE_W, _AFFINE_B), {"out": _AFFINE_OUT}),
        _affine_inputs(seed=50),
        {"out": _AFFINE_HINT},
    )


def check_temporal_affine_backward(
    temporal_affine_forward: Callable, temporal_affine_backward: Callable
) -> None:
    """Check ``temporal_affine_backward(dout, cache) -> (dx, dw, db)``."""
    _check_backward(
        "temporal_affine_backward",
        temporal_affine_forward,
        temporal_affine_backward,
        rnn_layers.temporal_affine_forward,
        rnn_layers.temporal_affine_backward,
        _affine_inputs(seed=51),
        _AFFINE_BACKWARD_HINTS,
        seed=52,
    )


def check_temporal_softmax_loss(temporal_softmax_loss: Callable) -> None:
    """Check ``temporal_softmax_loss(x, y, mask) -> (loss, dx)``.

    Cases: the worked example, random scores with captions of different
    lengths (dx also against centred differences), scores so large that exp
    overflows without the max shift, and float32 scores.
    """
    name = "temporal_softmax_loss"
    x, y, mask = _loss_inputs(seed=60)
    cases = [
        ("example", (_LOSS_X, _LOSS_Y, _LOSS_MASK), np.float64),
        ("random", (x, y, mask), np.float64),
        ("large scores", (3 * x + 1000, y, mask), np.float64),  # exp(1000) overflows
        ("float32", (x.astype(np.float32), y, mask), np.float32),
    ]
    errors, tols = {}, {}
    for case, inputs, dtype in cases:
        result = call_student(name, temporal_softmax_loss, *inputs)
        loss, dx = expect_tuple(name, result, ("loss", "dx"), name)
        expected_loss, expected_dx = rnn_layers.temporal_softmax_loss(
            *_as_float(inputs, np.float64)
        )
        if case == "example":
            expected_loss = _LOSS_VALUE
        tol = VALUE_TOL if dtype == np.float64 else FLOAT32_TOL
        for output, actual, expected, out_dtype in (
            (f"loss ({case})", loss, expected_loss, None),
            (f"dx ({case})", dx, expected_dx, np.dtype(dtype)),
        ):
            hint = _LOSS_HINTS[output.split()[0]]
            errors[output] = compare(name, output, actual, expected, tol, hint, out_dtype)
            tols[output] = tol
        if case == "random":
            numeric = numerical_gradient(
                lambda s: rnn_layers.temporal_softmax_loss(s, y, mask)[0], x
            )
            output = "dx (numerical gradient)"
            errors[output] = compare(name, output, dx, numeric, GRAD_TOL, _LOSS_HINTS["dx"])
            tols[output] = GRAD_TOL
    report(name, errors, tols)
