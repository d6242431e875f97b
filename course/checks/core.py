"""The machinery every autograded check shares.

A check calls the student's function through :func:`call_student`, which
turns "not implemented yet" into a one-line message and catches in-place
edits of the inputs; it compares outputs with :func:`compare`, which tests
type, shape, finiteness and value in that order, so the message names the
first thing that is wrong; and it ends with :func:`report`, one line of
success with the measured errors.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np

from course.gradcheck import numerical_backward, rel_error

# The tolerance table: every check compares against one of these, and no check
# module defines its own.
VALUE_TOL = 1e-9  # float64 values against the reference: only rounding separates a right answer
GRAD_TOL = 1e-7  # float64 gradients against centred differences (h = 1e-5)
FLOAT32_TOL = 1e-5  # float32 results against the reference computed from the same inputs


class CheckFailed(AssertionError):
    """An autograded check failed; the message names the exercise, the output and a hint."""


def call_student(
    exercise: str, func: Callable, *args, what: str | None = None, state_args: tuple[int, ...] = ()
):
    """Call a student's function, translating failures into :class:`CheckFailed`.

    The function receives private copies of its array, dict, tuple and list
    arguments (a cache is a tuple); after the call each copy is compared with
    the original. So a function that edits its inputs in place fails, because
    its caller (a model, the next layer) still needs them, and it cannot
    corrupt the check's own inputs for later calls either.

    Inputs:
    - exercise: the check's name, e.g. 'affine_forward'
    - func: the student's function
    - args: its arguments
    - what: how to name the call in messages (default: ``func``'s name)
    - state_args: positions of arguments that are documented state dicts the
      function may update (``bn_param``); they are passed as they are
    """
    name = what or getattr(func, "__name__", exercise)
    if not callable(func):
        raise CheckFailed(
            f"{exercise}: expected a function, got {type(func).__name__}. "
            f"Pass the function itself: check_{exercise}({exercise})"
        )
    passed = [arg if i in state_args else _private_copy(arg) for i, arg in enumerate(args)]
    try:
        with np.errstate(all="ignore"):
            result = func(*passed)
    except NotImplementedError:
        raise CheckFailed(
            f"{exercise}: {name} is not implemented yet; write it between "
            "### BEGIN SOLUTION and ### END SOLUTION, run its cell, then run this check again"
        ) from None
    except CheckFailed:
        raise
    except Exception as error:
        raise CheckFailed(
            f"{exercise}: {name} raised {type(error).__name__}: {error} "
            "(the traceback above shows where in your code)"
        ) from error
    for position, (original, copied) in enumerate(zip(args, passed, strict=True)):
        if copied is not original and not _same(copied, original):
            if isinstance(original, (tuple, list)):
                hint = (
                    "a backward pass must leave the cache as the forward left it; "
                    "reshape into a new name (x_flat = x.reshape(N, -1)), never x.shape = ..."
                )
            else:
                hint = "compute into a new array (y = x * 2, not x *= 2) and leave inputs as given"
            raise CheckFailed(
                f"{exercise}: {name} changed its input argument {position + 1} in place. "
                f"Hint: {hint}"
            )
    return result


def expect_tuple(exercise: str, result: object, names: tuple[str, ...], what: str) -> tuple:
    """Check that a function returned a tuple of ``len(names)`` items, e.g. ('out', 'cache')."""
    if len(names) == 1:
        return (result,)
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        got = (
            f"a {type(result).__name__} of length {len(result)}"
            if isinstance(result, (tuple, list))
            else f"{type(result).__name__}"
        )
        raise CheckFailed(
            f"{exercise}: {what} must return a tuple ({', '.join(names)}); it returned {got}"
        )
    return tuple(result)


def compare(
    exercise: str,
    output: str,
    actual: object,
    expected: np.ndarray | float,
    tol: float,
    hint: str,
    dtype: np.dtype | None = None,
) -> float:
    """Compare one output with its expected value and return the relative error.

    Checks, in order: it is an array (or a number, where a number is
    expected), its shape, its dtype (when ``dtype`` is given), that it holds
    no NaN or inf, and that ``rel_error <= tol``. The first failure raises
    :class:`CheckFailed` naming ``output``.
    """
    expected_arr = np.asarray(expected)
    if expected_arr.ndim == 0:
        if isinstance(actual, np.ndarray) and actual.size == 1:
            actual = actual.reshape(())
        if not isinstance(actual, (float, int, np.floating, np.integer, np.ndarray)):
            raise CheckFailed(
                f"{exercise}: {output} should be a number, got {type(actual).__name__}"
            )
    elif not isinstance(actual, np.ndarray):
        raise CheckFailed(
            f"{exercise}: {output} should be a numpy array of shape {expected_arr.shape}, "
            f"got {type(actual).__name__}"
        )
    actual_arr = np.asarray(actual)
    if actual_arr.shape != expected_arr.shape:
        raise CheckFailed(
            f"{exercise}: {output} has the wrong shape: got {actual_arr.shape}, "
            f"expected {expected_arr.shape}. Hint: {hint}"
        )
    if dtype is not None and actual_arr.dtype != dtype:
        upcast = actual_arr.dtype == np.float64 and np.dtype(dtype) == np.float32
        why = (
            ": a float64 array (np.zeros without dtype=, a mask built in float64) upcasts "
            "everything it touches"
            if upcast
            else ""
        )
        raise CheckFailed(
            f"{exercise}: {output} has dtype {actual_arr.dtype} for {np.dtype(dtype)} inputs; "
            f"keep the dtype of the inputs{why}"
        )
    if not np.issubdtype(actual_arr.dtype, np.number) or np.iscomplexobj(actual_arr):
        raise CheckFailed(
            f"{exercise}: {output} has dtype {actual_arr.dtype}; expected real numbers"
        )
    if not np.all(np.isfinite(actual_arr)):
        bad = int(np.size(actual_arr) - np.isfinite(actual_arr).sum())
        raise CheckFailed(
            f"{exercise}: {output} contains NaN or inf ({bad} of {actual_arr.size} entries). "
            f"Hint: {hint}"
        )
    error = rel_error(actual_arr, expected_arr)
    if not error <= tol:
        raise CheckFailed(
            f"{exercise}: {output} is wrong: relative error {error:.1e} > threshold {tol:.0e}. "
            f"Hint: {hint}"
        )
    return error


def require(exercise: str, condition: bool, message: str) -> None:
    """Raise :class:`CheckFailed` with ``exercise: message`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailed(f"{exercise}: {message}")


def report(exercise: str, errors: dict[str, float], tol: float | dict[str, float]) -> None:
    """Print the one line of success: every measured error against its threshold.

    ``tol`` is one threshold for all errors or a dict giving each its own.
    """
    tols = tol if isinstance(tol, dict) else dict.fromkeys(errors, tol)
    measured = ", ".join(f"{name} {errors[name]:.1e} <= {tols[name]:.0e}" for name in errors)
    print(f"OK {exercise}: relative errors {measured}")


def check_layer_backward(
    name: str,
    student_forward: Callable,
    student_backward: Callable,
    reference_forward: Callable,
    inputs: tuple,
    hints: dict[str, str],
    seed: int = 0,
    state_args: tuple[int, ...] = (),
    label: str = "",
) -> dict[str, float]:
    """Run a student's forward then backward; compare each gradient with centred differences.

    The numerical gradients come from the *reference* forward, so they are the
    true gradients even when the student's forward is wrong. Returns the errors
    (each below GRAD_TOL) keyed by gradient name plus ``label`` (e.g. ' (test)',
    which also appears in the messages); the caller reports them.
    """
    forward_name = name.replace("_backward", "_forward")
    result = call_student(name, student_forward, *inputs, what=forward_name, state_args=state_args)
    out, cache = expect_tuple(name, result, ("out", "cache"), forward_name)
    dout = np.random.default_rng(seed).standard_normal(np.shape(out))
    grads = call_student(name, student_backward, dout, cache)
    grads = expect_tuple(name, grads, tuple(hints), name)
    numeric = numerical_backward(reference_forward, inputs, dout)
    errors = {
        grad_name + label: compare(
            name, grad_name + label, grad, expected, GRAD_TOL, hints[grad_name]
        )
        for grad_name, grad, expected in zip(hints, grads, numeric, strict=True)
    }
    return errors


def _private_copy(value: object) -> object:
    """A deep copy of containers and arrays; anything else (or what cannot be copied) as is."""
    if not isinstance(value, (np.ndarray, dict, tuple, list)):
        return value
    try:
        return copy.deepcopy(value)
    except Exception:  # an exotic object in a student's cache: pass it unchecked
        return value


def _same(a: object, b: object) -> bool:
    """Whether a deep copy ``a`` still equals its original ``b``, recursively."""
    if isinstance(a, np.ndarray):
        return (
            isinstance(b, np.ndarray)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and np.array_equal(a, b, equal_nan=np.issubdtype(a.dtype, np.floating))
        )
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if type(a).__eq__ is object.__eq__:
        return True  # no notion of equality beyond identity, which a copy never has
    try:
        return bool(a == b)
    except Exception:
        return True
