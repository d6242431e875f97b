"""Checks for the classification losses: softmax and multiclass SVM."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course import layers
from course.checks.core import GRAD_TOL, VALUE_TOL, call_student, compare, expect_tuple, report
from course.gradcheck import numerical_gradient

# A worked example: three examples, four classes, evenly spaced scores.
_SCORES = np.linspace(-1, 2, 12).reshape(3, 4)
_LABELS = np.array([0, 3, 1])
_SOFTMAX_LOSS = 1.477755746103479
_SVM_LOSS = 3.181818181818182


def _cases(seed: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """The worked example, random scores, and scores so large that a naive exp overflows."""
    rng = np.random.default_rng(seed)
    N, C = 20, 7
    scores = rng.standard_normal((N, C))
    labels = rng.integers(0, C, size=N)
    return [
        ("example", _SCORES, _LABELS),
        ("random", scores, labels),
        ("large scores", 3 * scores + 1000, labels),  # exp(1000) overflows without the shift
    ]


def _check_loss(
    name: str,
    student_loss: Callable,
    reference_loss: Callable,
    example_loss: float,
    hints: dict[str, str],
) -> None:
    errors, tols = {}, {}
    for case, x, y in _cases(seed=7):
        result = call_student(name, student_loss, x, y)
        loss, dx = expect_tuple(name, result, ("loss", "dx"), name)
        expected_loss, expected_dx = reference_loss(x, y)
        if case == "example":
            expected_loss = example_loss
        errors[f"loss ({case})"] = compare(
            name, f"loss ({case})", loss, expected_loss, VALUE_TOL, hints["loss"]
        )
        errors[f"dx ({case})"] = compare(
            name, f"dx ({case})", dx, expected_dx, VALUE_TOL, hints["dx"]
        )
        tols[f"loss ({case})"] = tols[f"dx ({case})"] = VALUE_TOL
        if case == "random":
            numeric = numerical_gradient(lambda s, y=y: reference_loss(s, y)[0], x)
            errors["dx vs numerical"] = compare(
                name, "dx (numerical gradient)", dx, numeric, GRAD_TOL, hints["dx"]
            )
            tols["dx vs numerical"] = GRAD_TOL
    report(name, errors, tols)


def check_softmax_loss(softmax_loss: Callable) -> None:
    """Check ``softmax_loss(x, y) -> (loss, dx)``, with scores large enough to overflow exp."""
    _check_loss(
        "softmax_loss",
        softmax_loss,
        layers.softmax_loss,
        _SOFTMAX_LOSS,
        {
            "loss": "loss = mean over the batch of -log(softmax(x)[i, y[i]]); subtract each "
            "row's max from the scores before np.exp so that large scores do not overflow",
            "dx": "dx = (softmax(x) - one_hot(y)) / N; divide by the batch size N",
        },
    )


def check_svm_loss(svm_loss: Callable) -> None:
    """Check ``svm_loss(x, y) -> (loss, dx)`` with margin 1."""
    _check_loss(
        "svm_loss",
        svm_loss,
        layers.svm_loss,
        _SVM_LOSS,
        {
            "loss": "loss = mean over examples of sum over j != y[i] of "
            "max(0, x[i, j] - x[i, y[i]] + 1); the correct class adds nothing",
            "dx": "each violating class j gets +1/N, the correct class -1/N per violating "
            "class; divide by the batch size N",
        },
    )
