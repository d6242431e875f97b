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


def check_softmax_loss(softmax_loss: Callable) -> None:
    """Check ``softmax_loss(x, y) -> (loss, dx)``, with scores large enough to overflow exp."""
    name = "softmax_loss"
    hints = {
        "loss": "loss = mean over the batch of -log(softmax(x)[i, y[i]]); subtract each "
        "row's max from the scores before np.exp so that large scores do not overflow",
        "dx": "dx = (softmax(x) - one_hot(y)) / N; divide by the batch size N",
    }
    errors, tols = compare_loss(
        name, softmax_loss, layers.softmax_loss, _cases(seed=7), hints, _SOFTMAX_LOSS
    )
    report(name, errors, tols)


def check_svm_loss(svm_loss: Callable) -> None:
    """Check ``svm_loss(x, y) -> (loss, dx)`` with margin 1."""
    name = "svm_loss"
    hints = {
        "loss": "loss = mean over examples of sum over j != y[i] of "
        "max(0, x[i, j] - x[i, y[i]] + 1); the correct class adds nothing",
        "dx": "each violating class j gets +1/N, the correct class -1/N per violating "
        "class; divide by the batch size N",
    }
    errors, tols = compare_loss(name, svm_loss, layers.svm_loss, _cases(seed=7), hints, _SVM_LOSS)
    report(name, errors, tols)
