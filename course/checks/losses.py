"""Checks for the classification losses: softmax and multiclass SVM."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course import layers
from course.checks.core import compare_loss, report

# A worked example: three examples, four classes, evenly spaced scores.
_SCORES = np.linspace(-1, 2, 12).reshape(3, 4)
_LABELS = np.array([0, 3, 1])
_SOFTMAX_LOSS = 1.477755746103479
_SVM_LOSS = 3.181818181818182


def _cases(seed: int) -> list[tuple[str, tuple[np.ndarray, np.ndarray], type]]:
    """The worked example, random scores, and scores so large that a naive exp overflows."""
    rng = np.random.default_rng(seed)
    N, C = 20, 7
    scores = rng.standard_normal((N, C))
    labels = rng.integers(0, C, size=N)
    return [
        ("example", (_SCORES, _LABELS), np.float64),
        ("random", (scores, labels), np.float64),
        ("large scores", (3 * scores + 1000, labels), np.float64),  # exp(1000) overflows
    ]


_SOFTMAX_HINTS = {
    "loss": "the loss of one example is the negative log of the probability softmax gives its "
    "correct class, where softmax normalises each row (one example's scores over the classes); "
    "the loss averages the examples. Subtracting a row's largest score first changes no "
    "probability and keeps np.exp from overflowing",
    "dx": "work out the derivative of one example's loss with respect to each of its scores "
    "(the correct class's differs from the others'), take the probabilities from the shifted "
    "scores, and remember that the loss averages the N examples",
    "summed": "the loss is the AVERAGE over the batch, not the sum",
    "minus": "the loss is the NEGATIVE log-probability: it is positive, and falls as the "
    "correct class gets likelier",
    "columns": "for each example take the probability of ITS correct class, one entry per "
    "row: indexing a whole column per label gives an (N, N) block",
    "batch axis": "softmax normalises over the classes of each example (along a row), not "
    "over the batch",
    "dx per batch": "dx is N times too large: the loss is an average over the N examples, so "
    "each example's share of the gradient is divided by N",
    "no one-hot": "the correct class's score appears in the loss a second time, in the "
    "numerator: its derivative has an extra -1 that the other classes' lack",
    "dx columns": "the -1 of the correct class belongs to ONE entry per row, at that example's "
    "label: you changed whole columns",
}
_SVM_HINTS = {
    "loss": "each example adds, over its INCORRECT classes, how far each score comes within "
    "a margin of 1 of the correct class's score (nothing for a class that stays farther "
    "below); the loss averages the examples",
    "dx": "a violating class (positive margin) pushes its own score up and the correct "
    "class's score down; a class that does not violate contributes nothing; the loss "
    "averages the N examples",
    "counts correct": "the correct class adds nothing: its margin with itself would always "
    "be 1, so leave it out of the sum",
    "margin": "the margin is 1: a class violates when its score comes within 1 of the "
    "correct class's, not only when it passes it",
    "summed": "the loss is the AVERAGE over the batch, not the sum",
    "reversed": "the margin points the wrong way: a class violates when ITS score is too "
    "close to, or above, the correct class's score",
    "no correct score": "each margin compares a score with the correct class's score: that "
    "score is missing from your margins",
    "dx per batch": "dx is N times too large: the loss is an average over the N examples, so "
    "each example's share of the gradient is divided by N",
    "correct once": "the correct class's score appears in EVERY violating margin of its "
    "example, so its gradient counts them all, not just one",
    "zero margins": "only a strictly positive margin contributes: a class whose margin max(0, "
    "...) clipped to 0 gets no gradient, and adds nothing to the correct class's",
    "correct counted": "the correct class is no violation of its own: leave it out when "
    "counting the violating classes",
}


def _softmax_suspects(x: np.ndarray, y: np.ndarray) -> dict[str, list]:
    """The losses and dx of the classic softmax mistakes, with the hints that name them."""
    N, rows, h = x.shape[0], np.arange(x.shape[0]), _SOFTMAX_HINTS
    probs = np.exp(x - x.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)  # (N, C)
    over_batch = np.exp(x - x.max(axis=0, keepdims=True))
    over_batch /= over_batch.sum(axis=0, keepdims=True)
    one_hot = np.zeros_like(x)
    one_hot[rows, y] = 1
    by_column = np.zeros_like(x)
    by_column[:, y] = 1
    log_p = np.log(probs[rows, y])
    return {
        "loss": [
            (-log_p.sum(), h["summed"]),
            (log_p.mean(), h["minus"]),
            (-np.log(probs[:, y]).mean(), h["columns"]),
            (-np.log(over_batch[rows, y]).mean(), h["batch axis"]),
        ],
        "dx": [
            (probs - one_hot, h["dx per batch"]),
            (probs / N, h["no one-hot"]),
            ((probs - by_column) / N, h["dx columns"]),
            ((over_batch - one_hot) / N, h["batch axis"]),
        ],
    }


def _svm_suspects(x: np.ndarray, y: np.ndarray) -> dict[str, list]:
    """The losses and dx of the classic SVM mistakes, with the hints that name them."""
    N, rows, h = x.shape[0], np.arange(x.shape[0]), _SVM_HINTS
    correct = x[rows, y][:, None]  # (N, 1)
    incorrect = np.ones_like(x, dtype=bool)
    incorrect[rows, y] = False

    def margins_of(m: np.ndarray) -> np.ndarray:
        return np.where(incorrect, np.maximum(0, m), 0)

    margins = margins_of(x - correct + 1)  # (N, C)
    violating = (margins > 0).astype(x.dtype)

    def dx_of(pushed: np.ndarray, pulled: np.ndarray) -> np.ndarray:
        dx = pushed.copy()
        dx[rows, y] = -pulled
        return dx / N

    return {
        "loss": [
            (margins.sum() / N + 1, h["counts correct"]),
            (margins_of(x - correct).sum() / N, h["margin"]),
            (margins.sum(), h["summed"]),
            (margins_of(correct - x + 1).sum() / N, h["reversed"]),
            (np.where(margins > 0, x + 1, 0).sum() / N, h["no correct score"]),
        ],
        "dx": [
            (dx_of(violating, violating.sum(axis=1)) * N, h["dx per batch"]),
            (dx_of(violating, violating.max(axis=1)), h["correct once"]),
            (dx_of(incorrect.astype(x.dtype), incorrect.sum(axis=1)), h["zero margins"]),
            (dx_of(violating, violating.sum(axis=1) + 1), h["correct counted"]),
        ],
    }


def check_softmax_loss(softmax_loss: Callable) -> None:
    """Check ``softmax_loss(x, y) -> (loss, dx)``, with scores large enough to overflow exp."""
    name = "softmax_loss"
    errors, tols = compare_loss(
        name,
        softmax_loss,
        layers.softmax_loss,
        _cases(seed=7),
        _SOFTMAX_HINTS,
        _SOFTMAX_LOSS,
        suspects=lambda inputs: _softmax_suspects(*inputs),
    )
    report(name, errors, tols)


def check_svm_loss(svm_loss: Callable) -> None:
    """Check ``svm_loss(x, y) -> (loss, dx)`` with margin 1."""
    name = "svm_loss"
    errors, tols = compare_loss(
        name,
        svm_loss,
        layers.svm_loss,
        _cases(seed=7),
        _SVM_HINTS,
        _SVM_LOSS,
        suspects=lambda inputs: _svm_suspects(*inputs),
    )
    report(name, errors, tols)
