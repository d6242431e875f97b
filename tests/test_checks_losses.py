"""The loss checks fail on realistic wrong softmax and SVM losses and pass the reference.

Each function below is a mistake students make while writing
``softmax_loss(x, y) -> (loss, dx)`` or ``svm_loss(x, y) -> (loss, dx)``; each
catalogue entry names the message the check must give for it.
"""

from __future__ import annotations

import numpy as np
import pytest

from course import layers
from course.checks import CheckFailed, check_softmax_loss, check_svm_loss
from course.checks.core import references_allowed

# ---------------------------------------------------------------------------
# softmax_loss(x, y) -> (loss, dx)
# ---------------------------------------------------------------------------


# No max-shift: exp(1000) overflows to inf and inf / inf is NaN.
def softmax_loss_no_shift(x, y):
    N = x.shape[0]
    exp = np.exp(x)
    probs = exp / exp.sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(N), y]).mean()
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    return loss, dx / N


# Shifts the scores for the loss but takes the probabilities for dx from the raw scores.
def softmax_loss_shift_for_loss_only(x, y):
    N = x.shape[0]
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(N), y].mean()
    probs = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    probs[np.arange(N), y] -= 1
    return loss, probs / N


# Sums the loss over the batch instead of averaging it (dx is averaged).
def softmax_loss_summed(x, y):
    N = x.shape[0]
    shifted = x - x.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(N), y]).sum()
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    return loss, dx / N


# Averages the loss but forgets to divide dx by N.
def softmax_loss_dx_not_divided(x, y):
    N = x.shape[0]
    shifted = x - x.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(N), y]).mean()
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    return loss, dx


# Forgets to subtract the one-hot labels: dx = softmax / N.
def softmax_loss_no_one_hot(x, y):
    N = x.shape[0]
    shifted = x - x.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(N), y]).mean()
    return loss, probs / N


# Subtracts the one-hot with dx[:, y], which hits whole columns, not one entry per row.
def softmax_loss_one_hot_by_column(x, y):
    N = x.shape[0]
    shifted = x - x.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(N), y]).mean()
    dx = probs.copy()
    dx[:, y] -= 1
    return loss, dx / N


# Picks the correct-class probabilities with probs[:, y], an (N, N) matrix.
def softmax_loss_column_indexing(x, y):
    N = x.shape[0]
    shifted = x - x.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    loss = -np.log(probs[:, y]).mean()
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    return loss, dx / N


# Normalises over the batch (axis 0) instead of over the classes.
def softmax_loss_normalises_over_batch(x, y):
    N = x.shape[0]
    shifted = x - x.max(axis=0, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=0, keepdims=True)
    loss = -np.log(probs[np.arange(N), y]).mean()
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    return loss, dx / N


# Shifts the scores in place: the caller's scores change.
def softmax_loss_shifts_in_place(x, y):
    N = x.shape[0]
    x -= x.max(axis=1, keepdims=True)
    probs = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(N), y]).mean()
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    return loss, dx / N


# Forgets the minus sign of the negative log-likelihood.
def softmax_loss_missing_minus(x, y):
    N = x.shape[0]
    shifted = x - x.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    loss = np.log(probs[np.arange(N), y]).mean()
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    return loss, dx / N


# Returns the per-example losses instead of their mean.
def softmax_loss_per_example(x, y):
    N = x.shape[0]
    shifted = x - x.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    losses = -np.log(probs[np.arange(N), y]) / N
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    return losses, dx / N


# Returns (dx, loss).
def softmax_loss_wrong_order(x, y):
    N = x.shape[0]
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    dx = np.exp(log_probs)
    dx[np.arange(N), y] -= 1
    return dx / N, -log_probs[np.arange(N), y].mean()


# The released stub.
def softmax_loss_not_implemented(x, y):
    raise NotImplementedError


SOFTMAX_LOSS_MISTAKES = [
    pytest.param(
        softmax_loss_no_shift,
        r"loss \(large scores\) contains NaN or inf",
        id="no-max-shift",
    ),
    pytest.param(
        softmax_loss_shift_for_loss_only,
        r"dx \(large scores\) contains NaN or inf",
        id="shift-for-loss-only",
    ),
    pytest.param(
        softmax_loss_summed,
        r"loss \(example\) is wrong: relative error"
        r".* Hint: .*the loss is the AVERAGE over the batch",
        id="loss-summed",
    ),
    pytest.param(
        softmax_loss_dx_not_divided,
        r"dx \(example\) is wrong: relative error.* Hint: .*dx is N times too large",
        id="dx-not-divided-by-N",
    ),
    pytest.param(
        softmax_loss_no_one_hot,
        r"dx \(example\) is wrong: relative error.* Hint: .*its derivative has an extra \-1",
        id="no-one-hot",
    ),
    pytest.param(
        softmax_loss_one_hot_by_column,
        r"dx \(example\) is wrong: relative error.* Hint: .*you changed whole columns",
        id="one-hot-by-column",
    ),
    pytest.param(
        softmax_loss_column_indexing,
        # every row of the worked example has the same softmax, so only random scores show it
        r"loss \(random\) is wrong: relative error.* Hint: .*one entry per row",
        id="probs-column-indexing",
    ),
    pytest.param(
        softmax_loss_normalises_over_batch,
        r"loss \(example\) is wrong: relative error.* Hint: .*not over the batch",
        id="normalises-over-batch",
    ),
    pytest.param(
        softmax_loss_shifts_in_place,
        r"changed its input argument 1 in place",
        id="shifts-x-in-place",
    ),
    pytest.param(
        softmax_loss_missing_minus,
        r"loss \(example\) is wrong: relative error"
        r".* Hint: .*the loss is the NEGATIVE log\-probability",
        id="missing-minus",
    ),
    pytest.param(
        softmax_loss_per_example,
        r"loss \(example\) has the wrong shape: got \(3,\), expected \(\)",
        id="per-example-loss",
    ),
    pytest.param(
        softmax_loss_wrong_order,
        r"loss \(example\) has the wrong shape: got \(3, 4\), expected \(\)",
        id="wrong-order",
    ),
    pytest.param(
        softmax_loss_not_implemented,
        r"softmax_loss_not_implemented is not implemented yet",
        id="not-implemented",
    ),
]


@pytest.mark.parametrize("student, expected", SOFTMAX_LOSS_MISTAKES)
def test_check_softmax_loss_fails(student, expected, capsys):
    with pytest.raises(CheckFailed, match=expected) as failure:
        check_softmax_loss(student)
    assert str(failure.value).startswith("softmax_loss: ")
    assert "OK" not in capsys.readouterr().out


@references_allowed()  # the course's own reference is the right answer
def test_check_softmax_loss_passes_reference(capsys):
    check_softmax_loss(layers.softmax_loss)
    out = capsys.readouterr().out
    assert out.startswith("OK softmax_loss:")
    assert out.count("\n") == 1


# ---------------------------------------------------------------------------
# svm_loss(x, y) -> (loss, dx), margin 1
# ---------------------------------------------------------------------------


# Counts the correct class in the sum: every example adds max(0, 1) = 1.
def svm_loss_counts_correct_class(x, y):
    N = x.shape[0]
    correct = x[np.arange(N), y][:, None]
    margins = np.maximum(0, x - correct + 1)
    loss = margins.sum() / N
    dx = (margins > 0).astype(x.dtype)
    dx[np.arange(N), y] = 0
    dx[np.arange(N), y] = -dx.sum(axis=1)
    return loss, dx / N


# Margin 0 instead of 1.
def svm_loss_margin_zero(x, y):
    N = x.shape[0]
    correct = x[np.arange(N), y][:, None]
    margins = np.maximum(0, x - correct)
    margins[np.arange(N), y] = 0
    dx = (margins > 0).astype(x.dtype)
    dx[np.arange(N), y] = -dx.sum(axis=1)
    return margins.sum() / N, dx / N


# Gives the correct class -1 instead of -(number of violating classes).
def svm_loss_correct_class_not_scaled(x, y):
    N = x.shape[0]
    correct = x[np.arange(N), y][:, None]
    margins = np.maximum(0, x - correct + 1)
    margins[np.arange(N), y] = 0
    dx = (margins > 0).astype(x.dtype)
    dx[np.arange(N), y] = -1
    return margins.sum() / N, dx / N


# Sums the loss over the batch.
def svm_loss_not_averaged(x, y):
    N = x.shape[0]
    correct = x[np.arange(N), y][:, None]
    margins = np.maximum(0, x - correct + 1)
    margins[np.arange(N), y] = 0
    dx = (margins > 0).astype(x.dtype)
    dx[np.arange(N), y] = -dx.sum(axis=1)
    return margins.sum(), dx / N


# Averages the loss but forgets to divide dx by N.
def svm_loss_dx_not_divided(x, y):
    N = x.shape[0]
    correct = x[np.arange(N), y][:, None]
    margins = np.maximum(0, x - correct + 1)
    margins[np.arange(N), y] = 0
    dx = (margins > 0).astype(x.dtype)
    dx[np.arange(N), y] = -dx.sum(axis=1)
    return margins.sum() / N, dx


# The margin the wrong way round: correct - x + 1.
def svm_loss_reversed_margin(x, y):
    N = x.shape[0]
    correct = x[np.arange(N), y][:, None]
    margins = np.maximum(0, correct - x + 1)
    margins[np.arange(N), y] = 0
    dx = -(margins > 0).astype(x.dtype)
    dx[np.arange(N), y] = -dx.sum(axis=1)
    return margins.sum() / N, dx / N


# Tests margins >= 0 for the gradient: after max(0, .) every class looks violating.
def svm_loss_grad_counts_zero_margins(x, y):
    N = x.shape[0]
    correct = x[np.arange(N), y][:, None]
    margins = np.maximum(0, x - correct + 1)
    margins[np.arange(N), y] = 0
    dx = (margins >= 0).astype(x.dtype)
    dx[np.arange(N), y] = 0
    dx[np.arange(N), y] = -dx.sum(axis=1)
    return margins.sum() / N, dx / N


# Counts the correct class (margin exactly 1) among the violations in the gradient.
def svm_loss_grad_counts_correct_class(x, y):
    N = x.shape[0]
    correct = x[np.arange(N), y][:, None]
    margins = np.maximum(0, x - correct + 1)
    dx = (margins > 0).astype(x.dtype)
    margins[np.arange(N), y] = 0
    dx[np.arange(N), y] = -dx.sum(axis=1)
    return margins.sum() / N, dx / N


# `margins = x` aliases the scores, and the in-place arithmetic changes the caller's x.
def svm_loss_margins_alias_x(x, y):
    N = x.shape[0]
    correct = x[np.arange(N), y][:, None].copy()
    margins = x
    margins -= correct - 1
    np.maximum(margins, 0, out=margins)
    margins[np.arange(N), y] = 0
    dx = (margins > 0).astype(x.dtype)
    dx[np.arange(N), y] = -dx.sum(axis=1)
    return margins.sum() / N, dx / N


# Loops over the examples and forgets to subtract the correct score in the loss.
def svm_loss_forgets_correct_score(x, y):
    N, C = x.shape
    loss, dx = 0.0, np.zeros_like(x)
    for i in range(N):
        for j in range(C):
            if j == y[i]:
                continue
            margin = x[i, j] - x[i, y[i]] + 1
            if margin > 0:
                loss += x[i, j] + 1
                dx[i, j] += 1
                dx[i, y[i]] -= 1
    return loss / N, dx / N


# The stub left as it was.
def svm_loss_pass_stub(x, y):
    pass


# The released stub.
def svm_loss_not_implemented(x, y):
    raise NotImplementedError


SVM_LOSS_MISTAKES = [
    pytest.param(
        svm_loss_counts_correct_class,
        r"loss \(example\) is wrong: relative error.* Hint: .*the correct class adds nothing",
        id="counts-correct-class",
    ),
    pytest.param(
        svm_loss_margin_zero,
        r"loss \(example\) is wrong: relative error.* Hint: .*the margin is 1",
        id="margin-zero",
    ),
    pytest.param(
        svm_loss_correct_class_not_scaled,
        r"dx \(example\) is wrong: relative error.* Hint: .*appears in EVERY violating margin",
        id="correct-class-grad-not-scaled",
    ),
    pytest.param(
        svm_loss_not_averaged,
        r"loss \(example\) is wrong: relative error"
        r".* Hint: .*the loss is the AVERAGE over the batch",
        id="loss-summed",
    ),
    pytest.param(
        svm_loss_dx_not_divided,
        r"dx \(example\) is wrong: relative error.* Hint: .*dx is N times too large",
        id="dx-not-divided-by-N",
    ),
    pytest.param(
        svm_loss_reversed_margin,
        r"loss \(example\) is wrong: relative error.* Hint: .*the margin points the wrong way",
        id="reversed-margin",
    ),
    pytest.param(
        svm_loss_grad_counts_zero_margins,
        # in the worked example every class violates the margin, so only random scores show it
        r"dx \(random\) is wrong: relative error"
        r".* Hint: .*only a strictly positive margin contributes",
        id="grad-margins-ge-zero",
    ),
    pytest.param(
        svm_loss_grad_counts_correct_class,
        r"dx \(example\) is wrong: relative error.* Hint: .*the correct class is no violation",
        id="grad-counts-correct-class",
    ),
    pytest.param(
        svm_loss_margins_alias_x,
        r"changed its input argument 1 in place",
        id="margins-alias-x",
    ),
    pytest.param(
        svm_loss_forgets_correct_score,
        r"loss \(example\) is wrong: relative error"
        r".* Hint: .*that score is missing from your margins",
        id="forgets-correct-score",
    ),
    pytest.param(
        svm_loss_pass_stub,
        r"must return a tuple \(loss, dx\); it returned NoneType",
        id="pass-stub",
    ),
    pytest.param(
        svm_loss_not_implemented,
        r"svm_loss_not_implemented is not implemented yet",
        id="not-implemented",
    ),
]


@pytest.mark.parametrize("student, expected", SVM_LOSS_MISTAKES)
def test_check_svm_loss_fails(student, expected, capsys):
    with pytest.raises(CheckFailed, match=expected) as failure:
        check_svm_loss(student)
    assert str(failure.value).startswith("svm_loss: ")
    assert "OK" not in capsys.readouterr().out


@references_allowed()  # the course's own reference is the right answer
def test_check_svm_loss_passes_reference(capsys):
    check_svm_loss(layers.svm_loss)
    out = capsys.readouterr().out
    assert out.startswith("OK svm_loss:")
    assert out.count("\n") == 1


@references_allowed()  # the course's own reference is the right answer
def test_check_survives_a_student_that_edits_the_worked_example():
    with pytest.raises(CheckFailed, match=r"changed its input argument 1 in place"):
        check_svm_loss(svm_loss_margins_alias_x)
    check_svm_loss(layers.svm_loss)  # the student fixes the bug and runs the check again


@pytest.mark.parametrize(
    "catalogue", [SOFTMAX_LOSS_MISTAKES, SVM_LOSS_MISTAKES], ids=["softmax_loss", "svm_loss"]
)
def test_catalogue_has_six_distinct_mistakes(catalogue):
    functions = [param.values[0] for param in catalogue]
    assert len(functions) >= 6
    assert len(set(functions)) == len(functions)
    assert len({param.id for param in catalogue}) == len(catalogue)
