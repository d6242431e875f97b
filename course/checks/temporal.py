"""Checks for the temporal layers (``course/layers/temporal.py``): word embedding,
the temporal affine layer and the temporal softmax loss.

Forward checks compare a worked example (expected values written out below),
a random float64 case and a float32 case that must stay float32. Backward
checks compare every gradient with centred differences of the *reference*
forward (float64), then check on float32 inputs that the gradients keep their
dtype. The loss is also checked on scores large enough to overflow exp.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course import layers
from course.checks.core import compare_backward_both_dtypes, compare_forward, compare_loss, report

# ---------------------------------------------------------------------------
# Worked examples: inputs spaced evenly so a student can reproduce them.
# ---------------------------------------------------------------------------

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

_EMBED_HINT = (
    "each index x[n, t] picks one row of W, the vector of that word (indices start at 0), so "
    "out has shape (N, T, D)"
)
_EMBED_BACKWARD_HINTS = {
    "dW": "a word that occurs several times receives the SUM of its gradients: every "
    "occurrence x[n, t] adds its dout[n, t] to its own row of dW, which has W's shape (V, D). "
    "Return dW alone: the indices x have no gradient",
}
_AFFINE_HINT = (
    "the same affine layer at every time step: every (n, t) row of D numbers is multiplied by "
    "w and shifted by b, so out is (N, T, M)"
)
_AFFINE_BACKWARD_HINTS = {
    "dx": "each (n, t) row's gradient comes back through w, and dx has x's shape (N, T, D)",
    "dw": "w is used at every example AND every time step: its gradient collects all of them, "
    "shape (D, M)",
    "db": "b is added at every example and time step: its gradient collects dout over the "
    "batch AND the time steps, shape (M,)",
}
_LOSS_HINTS = {
    "loss": "each step where mask is True adds the negative log-probability that softmax (over "
    "the V words) gives its target word; masked steps add nothing, and the sum is divided by "
    "the batch size N, not by the number of tokens; subtracting a row's largest score first "
    "keeps np.exp from overflowing",
    "dx": "differentiate that loss: a step where mask is False adds nothing to the loss, so "
    "it gets no gradient; a counted step's share is divided by N, like the loss",
}
_MISTAKE_HINTS = {
    "one-based": "word indices start at 0: index k picks row k of W",
    "kept one": "fancy-indexed assignment, and += on a fancy index, keep only ONE occurrence "
    "of a repeated word: every occurrence must add its gradient (numpy's unbuffered "
    "np.add.at does)",
    "divided": "nothing is averaged here: each occurrence adds its whole dout",
    "like a bias": "each row of dW gets only the gradients of ITS word's occurrences",
    "no bias": "the bias b is missing",
    "mean": "a shared parameter's gradient is a SUM over the batch and the time steps, not a mean",
    "mask ignored": "the padded steps counted: mask says which steps count, and the others "
    "add nothing",
    "per token": "the sum is divided by the batch size N, not by the number of tokens",
    "per position": "the sum is divided by the batch size N, not by N * T",
    "dx mask": "the steps where mask is False add nothing to the loss, so their gradient is 0",
    "dx N": "dx is N times too large: the loss divides by the batch size N, so its gradient "
    "does too",
}


def _embedding_suspects(inputs: tuple, upstream: list[np.ndarray]) -> dict[str, list]:
    """The dW of the classic word_embedding_backward mistakes, with their hints."""
    x, W = inputs
    (dout,) = upstream
    h = _MISTAKE_HINTS
    right, kept_one = np.zeros_like(W), np.zeros_like(W)
    np.add.at(right, x, dout)
    kept_one[x] = dout  # (V, D): the last occurrence of each word wins
    return {
        "dW": [
            (kept_one, h["kept one"]),
            (right / x.shape[0], h["divided"]),
            (np.broadcast_to(dout.sum(axis=(0, 1)), W.shape), h["like a bias"]),
        ]
    }


def _affine_backward_suspects(inputs: tuple, upstream: list[np.ndarray]) -> dict[str, list]:
    """The dw and db of the classic temporal_affine_backward mistakes, with their hints."""
    x, w, _ = inputs
    (dout,) = upstream
    N, T, D = x.shape
    dw = x.reshape(N * T, D).T @ dout.reshape(N * T, -1)  # (D, M)
    db = dout.sum(axis=(0, 1))  # (M,)
    mean = _MISTAKE_HINTS["mean"]
    return {
        "dw": [(dw / N, mean), (dw / (N * T), mean)],
        "db": [(db / N, mean), (db / (N * T), mean)],
    }


def _loss_suspects(x: np.ndarray, y: np.ndarray, mask: np.ndarray) -> dict[str, list]:
    """The loss and dx of the classic temporal_softmax_loss mistakes, with their hints."""
    h, (N, T, _) = _MISTAKE_HINTS, x.shape
    log_p = x - x.max(axis=2, keepdims=True)
    log_p = log_p - np.log(np.exp(log_p).sum(axis=2, keepdims=True))  # (N, T, V)
    picked = np.take_along_axis(log_p, y[:, :, None], axis=2)[:, :, 0]  # (N, T)
    total = -(picked * mask).sum()
    probs = np.exp(log_p)
    one_hot = np.zeros_like(x)
    np.put_along_axis(one_hot, y[:, :, None], 1.0, axis=2)
    dx = (probs - one_hot) / N  # (N, T, V) before masking
    return {
        "loss": [
            (np.asarray(-picked.sum() / N), h["mask ignored"]),
            (np.asarray(total / max(mask.sum(), 1)), h["per token"]),
            (np.asarray(total / (N * T)), h["per position"]),
        ],
        "dx": [(dx, h["dx mask"]), (dx * mask[:, :, None] * N, h["dx N"])],
    }


# ---------------------------------------------------------------------------
# Random inputs
# ---------------------------------------------------------------------------


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
# Checks
# ---------------------------------------------------------------------------


def check_word_embedding_forward(word_embedding_forward: Callable) -> None:
    """Check ``word_embedding_forward(x, W) -> (out, cache)``."""
    name = "word_embedding_forward"
    rng = np.random.default_rng(40)
    W = rng.standard_normal((7, 5))  # (V, D)
    x = rng.integers(0, 7, size=(4, 6))  # (N, T)
    errors, tols = compare_forward(
        name,
        word_embedding_forward,
        layers.word_embedding_forward,
        ((_EMBED_X, _EMBED_W), {"out": _EMBED_OUT}),
        (x, W),
        {"out": _EMBED_HINT},
        suspects=lambda inputs: {"out": [(inputs[1][inputs[0] - 1], _MISTAKE_HINTS["one-based"])]},
    )
    report(name, errors, tols)


def check_word_embedding_backward(
    word_embedding_forward: Callable, word_embedding_backward: Callable
) -> None:
    """Check ``word_embedding_backward(dout, cache) -> dW``, on a batch that repeats words."""
    name = "word_embedding_backward"
    errors, tols = compare_backward_both_dtypes(
        name,
        word_embedding_forward,
        word_embedding_backward,
        layers.word_embedding_forward,
        layers.word_embedding_backward,
        _embedding_inputs(seed=41),
        _EMBED_BACKWARD_HINTS,
        seed=42,
        suspects=_embedding_suspects,
    )
    report(name, errors, tols)


def check_temporal_affine_forward(temporal_affine_forward: Callable) -> None:
    """Check ``temporal_affine_forward(x, w, b) -> (out, cache)``."""
    name = "temporal_affine_forward"
    errors, tols = compare_forward(
        name,
        temporal_affine_forward,
        layers.temporal_affine_forward,
        ((_AFFINE_X, _AFFINE_W, _AFFINE_B), {"out": _AFFINE_OUT}),
        _affine_inputs(seed=50),
        {"out": _AFFINE_HINT},
        suspects=lambda inputs: {"out": [(inputs[0] @ inputs[1], _MISTAKE_HINTS["no bias"])]},
    )
    report(name, errors, tols)


def check_temporal_affine_backward(
    temporal_affine_forward: Callable, temporal_affine_backward: Callable
) -> None:
    """Check ``temporal_affine_backward(dout, cache) -> (dx, dw, db)``."""
    name = "temporal_affine_backward"
    errors, tols = compare_backward_both_dtypes(
        name,
        temporal_affine_forward,
        temporal_affine_backward,
        layers.temporal_affine_forward,
        layers.temporal_affine_backward,
        _affine_inputs(seed=51),
        _AFFINE_BACKWARD_HINTS,
        seed=52,
        suspects=_affine_backward_suspects,
    )
    report(name, errors, tols)


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
    errors, tols = compare_loss(
        name,
        temporal_softmax_loss,
        layers.temporal_softmax_loss,
        cases,
        _LOSS_HINTS,
        _LOSS_VALUE,
        suspects=lambda inputs: _loss_suspects(*inputs),
    )
    report(name, errors, tols)
