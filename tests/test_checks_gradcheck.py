"""The numerical-gradient check fails on realistic wrong implementations and passes right ones.

Each function below is a mistake students make while writing notebook 01's
``numerical_gradient(f, x, h=1e-5)``; each catalogue entry names the message
the check must give for it. The correct versions (an ``np.nditer`` loop that
perturbs x in place and restores it, and one that perturbs a copy) pass with
one line; calling the course's own ``course.gradcheck.numerical_gradient``
fails.
"""

from __future__ import annotations

import numpy as np
import pytest
from check_catalogue import (
    WRONG,
    assert_check_fails,
    assert_check_passes_with_one_line,
    assert_distinct_mistakes,
    mistake,
    not_implemented,
)

from course import gradcheck
from course.checks import CheckFailed, check_numerical_gradient
from course.checks import gradcheck as G


def numerical_gradient(f, x, h=1e-5):
    """CS231n's loop: perturb x in place, restore each entry."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        plus = f(x)
        x[ix] = old - h
        minus = f(x)
        x[ix] = old
        grad[ix] = (plus - minus) / (2 * h)
        it.iternext()
    return grad


def numerical_gradient_on_a_copy(f, x, h=1e-5):
    """Perturb a copy, one-hot steps: x is never touched."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = h
        grad[index] = (f(x + step) - f(x - step)) / (2 * h)
    return grad


def _slipped(x, h, f, *, one_sided=False, divide=2, restore="saved", copy=False, default_h=None):
    z = x.copy() if copy else x
    grad = np.zeros_like(x)
    h = default_h or h
    for ix in np.ndindex(x.shape):
        old = z[ix]
        if restore == "arithmetic":  # x[ix] += h; f; x[ix] -= 2 * h; f; x[ix] += h
            z[ix] += h
            plus = f(z)
            z[ix] -= 2 * h
            minus = f(z)
            z[ix] += h
            grad[ix] = (plus - minus) / (2 * h)
            continue
        z[ix] = old + h
        plus = f(z)
        if one_sided:
            z[ix] = old
            grad[ix] = (plus - f(z)) / h
            continue
        z[ix] = old - h
        minus = f(z)
        if restore == "saved":
            z[ix] = old
        grad[ix] = (plus - minus) / (divide * h)
    return grad


def numerical_gradient_one_sided(f, x, h=1e-5):
    return _slipped(x, h, f, one_sided=True)


def numerical_gradient_over_h(f, x, h=1e-5):
    return _slipped(x, h, f, divide=1)


def numerical_gradient_not_restored(f, x, h=1e-5):
    return _slipped(x, h, f, restore=None)


def numerical_gradient_not_restored_on_a_copy(f, x, h=1e-5):
    return _slipped(x, h, f, restore=None, copy=True)


def numerical_gradient_restored_by_arithmetic(f, x, h=1e-5):
    return _slipped(x, h, f, restore="arithmetic")


def numerical_gradient_h_hard_coded(f, x, h=1e-5):
    return _slipped(x, h, f, default_h=1e-5)


def numerical_gradient_first_axis_only(f, x, h=1e-5):
    x = x.copy()
    grad = np.zeros_like(x)
    for i in range(x.shape[0]):
        old = x[i].copy()
        x[i] = old + h
        plus = f(x)
        x[i] = old - h
        minus = f(x)
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def numerical_gradient_flat(f, x, h=1e-5):
    flat = x.ravel().copy()
    grad = np.zeros(flat.size)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        plus = f(flat)
        flat[i] = old - h
        minus = f(flat)
        flat[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def numerical_gradient_flat_result(f, x, h=1e-5):
    return numerical_gradient_on_a_copy(f, x, h).ravel()


def numerical_gradient_float32(f, x, h=1e-5):
    return numerical_gradient_on_a_copy(f, x, h).astype(np.float32)


def numerical_gradient_returns_a_list(f, x, h=1e-5):
    return numerical_gradient_on_a_copy(f, x, h).tolist()


def numerical_gradient_calls_the_course(f, x, h=1e-5):
    return gradcheck.numerical_gradient(f, x, h)


MISTAKES = [
    mistake(
        numerical_gradient_one_sided,
        match=f"grad \\(1-D x\\) {WRONG}.*one-sided difference",
        id="one-sided",
    ),
    mistake(
        numerical_gradient_over_h,
        match=f"grad \\(1-D x\\) {WRONG}.*2h apart",
        id="divided-by-h",
    ),
    mistake(
        numerical_gradient_not_restored,
        match=r"changed x in place: by up to .*Hint: restore each entry",
        id="x-not-restored",
    ),
    mistake(
        numerical_gradient_not_restored_on_a_copy,
        match=f"grad \\(1-D x\\) {WRONG}.*stay moved after their turn",
        id="copy-not-restored",
    ),
    mistake(
        numerical_gradient_restored_by_arithmetic,
        match=r"changed x in place: its entries differ by rounding.*x \+ h - h != x",
        id="restored-by-adding-h",
    ),
    mistake(
        numerical_gradient_h_hard_coded,
        match=f"grad \\(h = 1e-2\\) {WRONG}.*use the h you are given",
        id="h-ignored",
    ),
    mistake(
        numerical_gradient_first_axis_only,
        match=f"grad \\(2-D x\\) {WRONG}.*whole slices x\\[i\\] along the first axis",
        id="first-axis-only",
    ),
    mistake(
        numerical_gradient_flat,
        match=r"raised ValueError: f: got an array of shape \(12,\); f takes arrays shaped",
        id="flat-x-passed-to-f",
    ),
    mistake(
        numerical_gradient_flat_result,
        match=r"grad \(2-D x\) has the wrong shape: got \(12,\), expected \(3, 4\)",
        id="flat-result",
    ),
    mistake(
        numerical_gradient_float32,
        match=r"grad \(1-D x\) has dtype float32 for float64 inputs",
        id="float32-result",
    ),
    mistake(
        numerical_gradient_returns_a_list,
        match=r"grad \(1-D x\) should be a numpy array of shape \(7,\), got list",
        id="list-result",
    ),
    mistake(
        numerical_gradient_calls_the_course,
        match=r"calls .*numerical_gradient.*write the computation yourself",
        id="calls-the-course",
    ),
    mistake(not_implemented, match=r"not_implemented is not implemented yet", id="stub"),
]


@pytest.mark.parametrize("student", [numerical_gradient, numerical_gradient_on_a_copy])
def test_a_correct_implementation_passes_with_one_line(student, capsys):
    assert_check_passes_with_one_line(
        check_numerical_gradient, "numerical_gradient", (student,), capsys
    )


@pytest.mark.parametrize(
    ("student", "expected"), [m.values for m in MISTAKES], ids=[m.id for m in MISTAKES]
)
def test_a_realistic_mistake_fails_with_its_message(student, expected, capsys):
    assert_check_fails(check_numerical_gradient, "numerical_gradient", student, expected, capsys)


def test_the_catalogue_holds_distinct_mistakes():
    assert_distinct_mistakes(MISTAKES, minimum=10)


def test_a_non_function_is_named():
    with pytest.raises(CheckFailed, match=r"^numerical_gradient: expected a function, got str"):
        check_numerical_gradient("numerical_gradient")


@pytest.mark.parametrize(("label", "shape", "h", "seed"), G._CASES)
def test_the_functions_have_a_third_derivative_and_cross_terms(label, shape, h, seed):
    """So a step of the wrong size and an entry left moved change the gradient."""
    f, x = G._function(shape, seed)
    step = h or 1e-5
    right = gradcheck.numerical_gradient(f, x, step)
    for mistake_name in ("one-sided", "not restored"):
        wrong = G._wrong(f, x, step, mistake_name)
        assert gradcheck.rel_error(wrong, right) > 10 * G.GRAD_TOL
