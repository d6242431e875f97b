"""The check of the gradient-check exercise of notebook 01: a numerical gradient.

The function students write, whose reference is
:func:`course.gradcheck.numerical_gradient`::

    numerical_gradient(f, x, h=1e-5) -> grad

the centred difference ``(f(x + h e_i) - f(x - h e_i)) / 2h`` of a scalar
function ``f`` at every entry i of a float64 array ``x`` of any shape; grad
is a float64 array shaped like x, and x is left as it was given (a function
that perturbs x in place must restore each entry to its saved value).

The check hands the student's function scalar functions of 1-D, 2-D and 3-D
arrays (with cross terms, so an entry left perturbed changes the later
entries' differences, and a cubic term, so the step size shows), and one
call with its own ``h``. Each grad is compared with the reference's on the
same function and step at GRAD_TOL (a centred difference agrees with the
exact gradient to about 1e-10; a one-sided one to about h). A wrong grad
that matches a classic mistake (one-sided differences, dividing by h, only
the first axis, entries never restored, h ignored) gets a hint naming it.
The functions handed over refuse an argument not shaped like x, naming it.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course.checks.core import (
    GRAD_TOL,
    CheckFailed,
    call_student,
    compare_diagnosed,
    report,
)
from course.gradcheck import numerical_gradient as _reference

_HINT = (
    "for every entry of x (every index of every axis: np.ndindex(x.shape)), evaluate f with "
    "that entry moved up by h and down by h, the others as given, and take the centred "
    "difference of the two values"
)
_MISTAKES = {
    "one-sided": "your grad matches the one-sided difference (f(x + h) - f(x)) / h, whose error "
    "is about h; the centred difference uses f(x + h) and f(x - h), and its error is about h**2",
    "over h": "your grad is twice the centred difference: f(x + h) and f(x - h) are 2h apart",
    "first axis": "your grad matches one that moves whole slices x[i] along the first axis: "
    "move one entry at a time, over every axis (np.ndindex(x.shape) or np.nditer with "
    "multi_index)",
    "not restored": "your grad matches one whose entries stay moved after their turn, so the "
    "later entries are measured at another point: put each entry back to its saved value "
    "before the next",
    "h ignored": "this call passed its own h, and your grad matches the default step: use the "
    "h you are given",
}
_MUTATED = "numerical_gradient changed x in place: {how}. The caller's x must be as it was given"
_ROUNDED = (
    "adding h and then subtracting it does not give back the same float (x + h - h != x in "
    "floating point); save the entry (old = x[i]) and restore it (x[i] = old)"
)
_NOT_RESTORED = "restore each entry to its saved value after its two evaluations (x[i] = old)"

# (label, shape, h passed, seed): non-square shapes, so a transposed index shows.
_CASES = (
    ("1-D x", (7,), None, 0),
    ("2-D x", (3, 4), None, 1),
    ("3-D x", (2, 3, 2), None, 2),
    ("h = 1e-2", (2, 5), 1e-2, 3),
)


def _function(shape: tuple[int, ...], seed: int) -> tuple[Callable, np.ndarray]:
    """A scalar function of arrays shaped ``shape`` (with cross and cubic terms), and a point.

    ``f(z) = sum(a * tanh(z)) + 0.5 * (sum(v * z))**2 + sum(z**3) / 2``
    """
    rng = np.random.default_rng(seed)
    a, v = rng.standard_normal(shape), rng.standard_normal(shape)
    x = rng.standard_normal(shape)

    def f(z):
        z = np.asarray(z)
        if z.shape != shape:
            raise ValueError(
                f"f: got an array of shape {z.shape}; f takes arrays shaped like x, {shape}: "
                "call f on x (with one entry moved), not on a flattened or sliced copy"
            )
        return float(np.sum(a * np.tanh(z)) + 0.5 * np.sum(v * z) ** 2 + np.sum(z**3) / 2)

    return f, x


def _wrong(f: Callable, x: np.ndarray, h: float, mistake: str) -> np.ndarray:
    """The grad that ``mistake`` computes (float64, shaped like x)."""
    x = x.astype(np.float64)  # a private copy
    grad = np.zeros_like(x)
    if mistake == "first axis":
        for i in range(x.shape[0]):
            old = x[i].copy()
            x[i] = old + h
            plus = f(x)
            x[i] = old - h
            minus = f(x)
            x[i] = old
            grad[i] = (plus - minus) / (2 * h)
        return grad
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        plus = f(x)
        if mistake == "one-sided":
            x[index] = old
            grad[index] = (plus - f(x)) / h
            continue
        x[index] = old - h
        minus = f(x)
        if mistake != "not restored":
            x[index] = old
        grad[index] = (plus - minus) / (h if mistake == "over h" else 2 * h)
    return grad


def check_numerical_gradient(numerical_gradient: Callable) -> None:
    """Check ``numerical_gradient(f, x, h=1e-5) -> grad`` against course.gradcheck's.

    Cases: 1-D, 2-D and 3-D x with the default h, then a call with h = 1e-2.
    grad must be a float64 array shaped like x, equal to the reference's
    centred differences to GRAD_TOL, and x must be left as it was given.
    """
    name = "numerical_gradient"
    errors = {}
    for label, shape, h, seed in _CASES:
        f, x = _function(shape, seed)
        given = x.copy()
        args = (f, x) if h is None else (f, x, h)
        grad = call_student(name, numerical_gradient, *args, state_args=(1,))
        if not np.array_equal(x, given):
            change = float(np.abs(x - given).max())
            rounded = change <= 1e-12 * max(float(np.abs(given).max()), 1.0)
            how = "its entries differ by rounding" if rounded else f"by up to {change:.1e}"
            hint = _ROUNDED if rounded else _NOT_RESTORED
            raise CheckFailed(f"{name}: {_MUTATED.format(how=how)} ({label}). Hint: {hint}")
        step = 1e-5 if h is None else h
        expected = _reference(f, given, step)
        mistakes = ["one-sided", "over h", "not restored"] + (
            ["first axis"] if len(shape) > 1 else []
        )
        suspects = [(_wrong(f, given, step, m), _MISTAKES[m]) for m in mistakes]
        if h is not None:
            suspects.append((_reference(f, given), _MISTAKES["h ignored"]))
        output = f"grad ({label})"
        errors[output] = compare_diagnosed(
            name, output, grad, expected, GRAD_TOL, _HINT, suspects, dtype=np.dtype(np.float64)
        )
    report(name, errors, GRAD_TOL)
