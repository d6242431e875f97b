"""The machinery every autograded check shares: one tolerance table and one harness.

A check calls the student's function through :func:`call_student` (or
:func:`call_forward`), which turns "not implemented yet" into a one-line
message and catches in-place edits of the inputs; it compares outputs with
:func:`compare`, which tests type, shape, dtype, finiteness and value in that
order, so the message names the first thing that is wrong; and it ends with
:func:`report`, one line of success with the measured errors.

The harness holds the procedures several checks share, each returning
``(errors, thresholds)`` for the check to report: :func:`compare_forward`
(worked example, random float64, float32), :func:`compare_backward`
(numerical gradients, any number of outputs), :func:`compare_float32_backward`
and :func:`compare_backward_both_dtypes` (the two in a row), :func:`compare_loss`
and :func:`compare_diagnosed` (a hint that names a known mistake); with
:func:`student_gradients` (a student's forward then backward) and
:func:`cast_floats`. The topic modules (``checks/fc.py`` ... ``checks/temporal.py``,
mirroring ``course/layers/``) hold only their inputs, worked examples, hints
and the checks.

Every call of a student's function has a time limit, so a check cannot hang
on a loop that never ends: 60 s by default, set by :func:`set_time_limit`
or the environment variable ``COURSE_CHECK_TIME_LIMIT`` (seconds; 0 turns
the limit off). A call that runs longer is stopped and the check fails with
``<name> did not return within 60 s; look for a loop that never ends ...``.
The limit uses ``SIGALRM``, so it holds in the main thread on Linux and
macOS (where a Jupyter kernel runs its cells); elsewhere (Windows, another
thread) a call has no limit. A single long numpy call is stopped only when it
returns to Python.

While a student's function runs, :func:`call_student` also watches the
functions it enters (a profile hook, only for the duration of the call): a
function that hands its work to the course's own implementation of the
exercise being checked (``return course.layers.affine_forward(x, w, b)``, an
alias of it, or a copy of its code) fails the check; the course's other
functions stay allowed, as the building blocks an exercise is meant to use
(see :mod:`course.references`). When the student's function raises, the
:class:`CheckFailed` is raised from the student's exception with its
traceback cut to the student's own frames (none inside ``course``), and the
message says where: ``affine_forward: your function raised ValueError: ...
(line 14 of your cell)``.

This module is longer than the ~400 lines a module aims for: it is the one
place that says how every check measures, and splitting it would make two.
"""

from __future__ import annotations

import copy
import os
import signal
import sys
import sysconfig
import threading
import time
import traceback
import types
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from course.gradcheck import numerical_backward, numerical_gradient, rel_error
from course.references import (
    PACKAGE_ROOT,
    forbidden_names,
    reference_entered,
    reference_signatures,
)

# The tolerance table: every check compares against one of these, and no check
# module defines its own.
VALUE_TOL = 1e-9  # float64 values against the reference: only rounding separates a right answer
GRAD_TOL = 1e-7  # float64 gradients against centred differences (h = 1e-5)
FLOAT32_TOL = 1e-5  # float32 results against the reference's values for the same inputs
FORM_ONLY = np.inf  # no bound on the value: compare type, shape, dtype and finiteness only
# A random mask (dropout) is checked by its statistics on a large input (100,000 units):
RATE_TOL = 0.01  # the fraction of units kept, against p (absolute difference)
MEAN_TOL = 0.02  # the mean activation, against the input's (relative difference)

# How long one call of a student's function may run (see set_time_limit).
DEFAULT_TIME_LIMIT = 60.0  # seconds
TIME_LIMIT_ENV = "COURSE_CHECK_TIME_LIMIT"  # seconds; 0 turns the limit off
# What a "not implemented yet" message tells the student to do: the released stub shows
# `# YOUR CODE HERE` and a `raise NotImplementedError(...)` line.
NOT_IMPLEMENTED_ADVICE = (
    "replace the `raise NotImplementedError(...)` line under `# YOUR CODE HERE` with your "
    "code, run its cell, then run this check again"
)
_UNSET = object()
_time_limit_setting: object = _UNSET  # what set_time_limit chose; _UNSET: the env var or default


class CheckFailed(AssertionError):
    """An autograded check failed; the message names the exercise, the output and a hint."""


class _OutOfTime(BaseException):
    """Raised inside a student's function when its time limit passes (never seen by students).

    A BaseException, so that ``except Exception:`` in the student's loop does not swallow it.
    """


def set_time_limit(seconds: float | None) -> float | None:
    """Set how long one call of a student's function may run; return the previous limit.

    ``seconds`` > 0 is the limit; None or 0 turns it off. Until this is
    called the limit is ``COURSE_CHECK_TIME_LIMIT`` from the environment
    when set, else DEFAULT_TIME_LIMIT (60 s). In a notebook, before a check
    that legitimately runs long::

        from course.checks import set_time_limit
        set_time_limit(300)
    """
    global _time_limit_setting
    previous = time_limit()
    if seconds is not None and (
        isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds >= 0
    ):
        raise ValueError(
            f"set_time_limit: seconds must be a number >= 0 (0 or None: no limit), got {seconds!r}"
        )
    _time_limit_setting = float(seconds) if seconds and seconds != float("inf") else None
    return previous


def time_limit() -> float | None:
    """The time limit in seconds of one call of a student's function; None when there is none."""
    if _time_limit_setting is not _UNSET:
        return _time_limit_setting  # type: ignore[return-value]
    text = os.environ.get(TIME_LIMIT_ENV, "").strip()
    if not text:
        return DEFAULT_TIME_LIMIT
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not seconds >= 0:
        raise ValueError(
            f"{TIME_LIMIT_ENV}={text!r}: expected a number of seconds >= 0 "
            "(0 turns the time limit of checks off)"
        )
    return seconds if 0 < seconds < float("inf") else None


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

    The call may run for :func:`time_limit` seconds (60 by default); one
    that runs longer is stopped and fails the check (see the module docstring).
    A call that enters the course's own implementation of ``exercise`` (by
    name, alias or a copy of its code; :mod:`course.references`) fails too.
    When ``func`` raises, the :class:`CheckFailed` is raised from its
    exception, whose traceback keeps only the frames outside ``course``.
    """
    name = what or getattr(func, "__name__", exercise)
    if not callable(func):
        raise CheckFailed(
            f"{exercise}: expected a function, got {type(func).__name__}. "
            f"Pass the function itself: check_{exercise}({exercise})"
        )
    passed = [arg if i in state_args else _private_copy(arg) for i, arg in enumerate(args)]
    limit = time_limit()
    entered: list[str] = []  # what of the course's own implementation the call entered
    try:
        with _stopped_after(limit), np.errstate(all="ignore"), _watched(exercise, entered):
            result = func(*passed)
    except _OutOfTime as stopped:
        _refuse_delegation(exercise, name, entered)
        raise CheckFailed(
            f"{exercise}: {name} did not return within {limit:g} s; look for a loop that never "
            "ends (a while loop whose condition never changes, an index never incremented)"
            f"{_where_stopped(stopped)}. If it is only slow, allow more time with "
            "course.checks.set_time_limit(seconds)"
        ) from None
    except NotImplementedError:
        _refuse_delegation(exercise, name, entered)
        raise CheckFailed(
            f"{exercise}: {name} is not implemented yet; {NOT_IMPLEMENTED_ADVICE}"
        ) from None
    except CheckFailed:
        _refuse_delegation(exercise, name, entered)
        raise
    except Exception as error:
        _refuse_delegation(exercise, name, entered)
        error = error.with_traceback(student_traceback(error.__traceback__))
        who = "your function" if name == exercise else f"your {name}"
        raise CheckFailed(
            f"{exercise}: {who} raised {type(error).__name__}: {error}{_where_raised(error, name)}"
        ) from error
    _refuse_delegation(exercise, name, entered)
    for position, (original, copied) in enumerate(zip(args, passed, strict=True)):
        if copied is not original and not _same(copied, original):
            if isinstance(original, (tuple, list)):
                hint = "a backward pass must leave the cache as the forward left it; "
                hint += _cache_hint(copied, original)
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
        raise CheckFailed(
            f"{exercise}: {output} has dtype {actual_arr.dtype} for {np.dtype(dtype)} inputs; "
            f"keep the dtype of the inputs. Hint: {_dtype_hint(actual_arr.dtype, dtype)}"
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


def _dtype_hint(actual: np.dtype, expected: np.dtype) -> str:
    """The hint of an output whose dtype is not the inputs' (``actual`` instead of ``expected``).

    Every check gives the same hint through :func:`compare`: the fix is to
    make new arrays in the inputs' dtype, the usual cause an array made
    without one (``np.zeros(shape)`` is float64 and upcasts what it touches).
    """
    actual, expected = np.dtype(actual), np.dtype(expected)
    make = (
        "make new arrays with the inputs' dtype: np.zeros(shape, dtype=x.dtype) or "
        "np.zeros_like(x)"
    )
    if actual == np.bool_ or np.issubdtype(actual, np.integer):
        return (
            f"return {expected} values computed from the inputs, not a boolean mask or integer "
            f"indices; {make}"
        )
    if np.issubdtype(actual, np.floating) and actual.itemsize > expected.itemsize:
        return (
            f"{make}, because a {actual} array (np.zeros(shape) without dtype=, a mask or "
            f"np.random array made in {actual}) upcasts everything it touches to {actual}"
        )
    if not np.issubdtype(actual, np.floating):
        return make
    return f"{make}, and convert nothing to {actual} (.astype): the result loses precision"


def require(exercise: str, condition: bool, message: str) -> None:
    """Raise :class:`CheckFailed` with ``exercise: message`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailed(f"{exercise}: {message}")


def require_grads(
    exercise: str, grads: object, keys: Iterable[str], label: str, note: str = ""
) -> None:
    """Raise :class:`CheckFailed` unless ``grads`` is a dict holding a gradient for every key.

    ``label`` names the case (``grads (no reg) has no 'W2'``); ``note`` is
    added to the message about missing keys.
    """
    require(
        exercise,
        isinstance(grads, dict),
        f"grads ({label}) should be a dict keyed like params, got {type(grads).__name__}",
    )
    missing = [key for key in keys if key not in grads]
    require(
        exercise,
        not missing,
        f"grads ({label}) has no {', '.join(map(repr, missing))}; return the gradient of every "
        f"parameter, keyed like params{note}",
    )


def by_output_kind(errors: dict[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    """The largest error of each kind of output, float32 cases apart, and each one's threshold.

    ``errors`` is keyed by output and case, e.g. ``"loss (example)"``,
    ``"grads['W1'] (float32)"``; the result is keyed by kind, ``"loss"``,
    ``"grads (float32)"`` (a case whose label holds 'float32' is a float32
    case), in the order the kinds first appear, for :func:`report`.
    """
    summary: dict[str, float] = {}
    for output, error in errors.items():
        kind = output.split(" (")[0].split("[")[0]
        key = kind + (" (float32)" if "float32" in output else "")
        summary[key] = max(summary.get(key, 0.0), error)
    tols = {key: FLOAT32_TOL if key.endswith("(float32)") else VALUE_TOL for key in summary}
    return summary, tols


def report(exercise: str, errors: dict[str, float], tol: float | dict[str, float]) -> None:
    """Print the one line of success: every measured error against its threshold.

    ``tol`` is one threshold for all errors or a dict giving each its own.
    """
    tols = tol if isinstance(tol, dict) else dict.fromkeys(errors, tol)
    measured = ", ".join(f"{name} {errors[name]:.1e} <= {tols[name]:.0e}" for name in errors)
    print(f"OK {exercise}: relative errors {measured}")


# ---------------------------------------------------------------------------
# The harness: the procedures that several checks share
# ---------------------------------------------------------------------------

# What a harness procedure returns: (errors, thresholds), both keyed by output label;
# a check merges them and hands them to report().
Measured = tuple[dict[str, float], dict[str, float]]
# Classic mistakes, for compare_diagnosed: output name -> [(the mistake's value, its hint)],
# from the (float64) inputs of a forward, or the inputs and upstream gradients of a backward.
Suspects = Callable[[tuple], dict[str, list[tuple[np.ndarray, str]]]]
BackwardSuspects = Callable[[tuple, list[np.ndarray]], dict[str, list[tuple[np.ndarray, str]]]]


def value_tol(dtype: type | np.dtype) -> float:
    """The threshold for values computed in ``dtype``: VALUE_TOL, or FLOAT32_TOL for float32."""
    return FLOAT32_TOL if np.dtype(dtype) == np.float32 else VALUE_TOL


def cast_floats(values: Sequence, dtype: type) -> tuple:
    """Cast the floating-point arrays among ``values`` to ``dtype``; leave the rest as they are."""
    return tuple(
        v.astype(dtype) if isinstance(v, np.ndarray) and np.issubdtype(v.dtype, np.floating) else v
        for v in values
    )


def call_forward(
    exercise: str,
    forward: Callable,
    *args,
    outputs: tuple[str, ...] = ("out",),
    what: str | None = None,
    state_args: tuple[int, ...] = (),
) -> tuple:
    """Call a student's forward (see :func:`call_student`); return its outputs and cache.

    ``outputs`` names what comes before the cache (``('next_h', 'next_c')``
    for an LSTM step); ``what`` names the call in messages.
    """
    result = call_student(exercise, forward, *args, what=what, state_args=state_args)
    return expect_tuple(exercise, result, (*outputs, "cache"), what or exercise)


def compare_diagnosed(
    exercise: str,
    output: str,
    actual: object,
    expected: np.ndarray,
    tol: float,
    hint: str,
    suspects: Sequence[tuple[np.ndarray, str]],
    dtype: np.dtype | None = None,
) -> float:
    """:func:`compare`, but a wrong value that matches a known mistake gets that mistake's hint.

    ``suspects`` pairs the output of a classic wrong implementation with the
    hint that names it (a flipped kernel, a gradient sent to every tie).
    """
    try:
        return compare(exercise, output, actual, expected, tol, hint, dtype=dtype)
    except CheckFailed as failure:
        if " is wrong: relative error " not in str(failure):
            raise  # a wrong type, shape, dtype or a NaN: the general hint fits
        for wrong, diagnosis in suspects:
            if np.shape(wrong) != np.shape(actual):
                continue  # e.g. padding the output changes its size when the stride is not 1
            if rel_error(wrong, expected) > tol >= rel_error(actual, wrong):
                compare(exercise, output, actual, expected, tol, diagnosis, dtype=dtype)
        raise


def compare_forward(
    exercise: str,
    student: Callable,
    reference: Callable,
    example: tuple[tuple, dict[str, np.ndarray]],
    random_inputs: tuple,
    hints: dict[str, str],
    order: Sequence[str] | None = None,
    suspects: Suspects | None = None,
) -> Measured:
    """A forward on its worked example, on random float64 inputs, then on them in float32.

    ``example`` is (inputs, expected outputs by name). ``hints`` names the
    outputs before the cache, in the order the function returns them;
    ``order`` is the order in which to compare them (the one whose mistakes
    cause the others' first). The float32 outputs must stay float32 and
    agree with the exact (float64) values of the same numbers.
    ``suspects(inputs)`` (float64 inputs) gives, per output name, the values
    of classic mistakes with the hints that name them (:func:`compare_diagnosed`).
    Errors are keyed ``'out'``, ``'out (float64)'``, ``'out (float32)'``.
    """
    out_names = tuple(hints)
    example_inputs, example_expected = example
    cases = [
        ("", example_inputs, example_expected, np.float64),
        (" (float64)", random_inputs, None, np.float64),
        (" (float32)", cast_floats(random_inputs, np.float32), None, np.float32),
    ]
    errors, tols = {}, {}
    for label, inputs, expected, dtype in cases:
        outs = call_forward(exercise, student, *inputs, outputs=out_names)
        if expected is None:  # exact values of these inputs, computed in float64
            reference_outs = reference(*cast_floats(inputs, np.float64))
            expected = dict(zip(out_names, reference_outs, strict=False))
        wrong = suspects(cast_floats(inputs, np.float64)) if suspects else {}
        for out_name in order or out_names:
            output = out_name + label
            actual = outs[out_names.index(out_name)]
            tols[output] = value_tol(dtype)
            errors[output] = compare_diagnosed(
                exercise,
                output,
                actual,
                expected[out_name],
                tols[output],
                hints[out_name],
                wrong.get(out_name, ()),
                np.dtype(dtype),
            )
    return errors, tols


def student_gradients(
    exercise: str,
    forward: Callable,
    backward: Callable,
    inputs: tuple,
    upstream: Sequence[np.ndarray],
    grad_names: Sequence[str],
    *,
    outputs: tuple[str, ...] = ("out",),
    state_args: tuple[int, ...] = (),
) -> tuple:
    """The student's forward on ``inputs``, then its backward on ``upstream`` and the cache.

    Returns the gradients, checked to be a tuple of ``len(grad_names)``
    items (a single gradient comes back as a 1-tuple).
    """
    forward_name = exercise.replace("_backward", "_forward")
    *_, cache = call_forward(
        exercise, forward, *inputs, outputs=outputs, what=forward_name, state_args=state_args
    )
    grads = call_student(exercise, backward, *upstream, cache)
    return expect_tuple(exercise, grads, tuple(grad_names), exercise)


def compare_backward(
    exercise: str,
    forward: Callable,
    backward: Callable,
    reference_forward: Callable,
    inputs: tuple,
    hints: dict[str, str],
    *,
    outputs: tuple[str, ...] = ("out",),
    seed: int = 0,
    state_args: tuple[int, ...] = (),
    label: str = "",
    suspects: BackwardSuspects | None = None,
) -> Measured:
    """Run a student's forward then backward; compare each gradient with centred differences.

    The backward gets one random upstream gradient per output (``outputs``:
    ``('next_h', 'next_c')`` gives ``backward(dnext_h, dnext_c, cache)``).
    The numerical gradients are those of ``sum(out * dout)`` over all outputs,
    taken through the *reference* forward, so they are the true gradients
    even when the student's forward is wrong. ``hints`` names the gradients
    in the order the backward returns them. Errors are keyed by gradient
    name plus ``label`` (e.g. ' (test)', which also appears in the messages).
    ``suspects(inputs, upstream)`` gives, per gradient name, the gradients of
    classic mistakes with the hints that name them (:func:`compare_diagnosed`).
    """
    reference_outs = reference_forward(*_copies(inputs))[: len(outputs)]
    upstream = _random_like(reference_outs, seed, np.float64)
    grads = student_gradients(
        exercise,
        forward,
        backward,
        inputs,
        upstream,
        hints,
        outputs=outputs,
        state_args=state_args,
    )

    def joined_forward(*args):  # every output as one flat vector, for numerical gradients
        outs = reference_forward(*args)[: len(outputs)]
        return np.concatenate([np.ravel(out) for out in outs]), None

    dout = np.concatenate([np.ravel(u) for u in upstream])
    numeric = numerical_backward(joined_forward, inputs, dout)
    wrong = suspects(_copies(inputs), upstream) if suspects else {}
    errors = {
        name + label: compare_diagnosed(
            exercise, name + label, grad, expected, GRAD_TOL, hints[name], wrong.get(name, ())
        )
        for name, grad, expected in zip(hints, grads, numeric, strict=True)
    }
    return errors, dict.fromkeys(errors, GRAD_TOL)


def compare_float32_backward(
    exercise: str,
    forward: Callable,
    backward: Callable,
    reference_forward: Callable,
    reference_backward: Callable,
    inputs: tuple,
    hints: dict[str, str],
    *,
    outputs: tuple[str, ...] = ("out",),
    seed: int = 0,
    state_args: tuple[int, ...] = (),
) -> Measured:
    """Run a student's forward and backward on ``inputs`` cast to float32, float32 upstream.

    Each gradient must be float32 and agree to FLOAT32_TOL with the exact
    gradient of the same numbers: the reference backward in float64.
    Errors are keyed ``'<grad> (float32)'``.
    """
    inputs32 = cast_floats(inputs, np.float32)
    inputs64 = cast_floats(inputs32, np.float64)  # the same numbers, for the exact gradients
    *reference_outs, reference_cache = reference_forward(*_copies(inputs64))
    upstream = _random_like(reference_outs[: len(outputs)], seed, np.float32)
    grads = student_gradients(
        exercise,
        forward,
        backward,
        inputs32,
        upstream,
        hints,
        outputs=outputs,
        state_args=state_args,
    )
    expected = reference_backward(*cast_floats(upstream, np.float64), reference_cache)
    expected = (expected,) if isinstance(expected, np.ndarray) else expected
    float32 = np.dtype(np.float32)
    errors = {
        f"{name} (float32)": compare(
            exercise, f"{name} (float32)", grad, value, FLOAT32_TOL, hints[name], float32
        )
        for name, grad, value in zip(hints, grads, expected, strict=True)
    }
    return errors, dict.fromkeys(errors, FLOAT32_TOL)


def compare_backward_both_dtypes(
    exercise: str,
    forward: Callable,
    backward: Callable,
    reference_forward: Callable,
    reference_backward: Callable,
    inputs: tuple,
    hints: dict[str, str],
    *,
    seed: int,
    outputs: tuple[str, ...] = ("out",),
    suspects: BackwardSuspects | None = None,
) -> Measured:
    """:func:`compare_backward` (``seed``, ``suspects``), then :func:`compare_float32_backward`."""
    student = (exercise, forward, backward, reference_forward)
    errors, tols = compare_backward(
        *student, inputs, hints, outputs=outputs, seed=seed, suspects=suspects
    )
    errors32, tols32 = compare_float32_backward(
        *student, reference_backward, inputs, hints, outputs=outputs, seed=seed + 1
    )
    return errors | errors32, tols | tols32


def compare_loss(
    exercise: str,
    student: Callable,
    reference: Callable,
    cases: Sequence[tuple[str, tuple, type]],
    hints: dict[str, str],
    example_loss: float,
    suspects: Suspects | None = None,
) -> Measured:
    """A loss ``loss(x, ...) -> (loss, dx)`` on each case, then dx against centred differences.

    ``cases`` are (case, inputs, dtype); the 'example' case expects
    ``example_loss`` (written out in the check), every other case the
    reference's values of the same numbers in float64; dx must keep the
    dtype of x. On the 'random' case dx is also compared with the
    numerical gradient of the reference loss. ``hints`` has 'loss' and 'dx';
    ``suspects(inputs)`` (float64 inputs) gives, for 'loss' and 'dx', the values
    of classic mistakes with the hints that name them (:func:`compare_diagnosed`).
    """
    errors, tols = {}, {}
    for case, inputs, dtype in cases:
        result = call_student(exercise, student, *inputs)
        loss, dx = expect_tuple(exercise, result, ("loss", "dx"), exercise)
        expected_loss, expected_dx = reference(*cast_floats(inputs, np.float64))
        if case == "example":
            expected_loss = example_loss
        wrong = suspects(cast_floats(inputs, np.float64)) if suspects else {}
        for output, actual, expected, out_dtype in (
            (f"loss ({case})", loss, expected_loss, None),
            (f"dx ({case})", dx, expected_dx, np.dtype(dtype)),
        ):
            tols[output] = value_tol(dtype)
            key = output.split()[0]
            errors[output] = compare_diagnosed(
                exercise,
                output,
                actual,
                expected,
                tols[output],
                hints[key],
                wrong.get(key, ()),
                out_dtype,
            )
        if case == "random":
            x, *rest = inputs
            numeric = numerical_gradient(lambda s, rest=rest: reference(s, *rest)[0], x)
            output = "dx (numerical gradient)"
            errors[output] = compare(exercise, output, dx, numeric, GRAD_TOL, hints["dx"])
            tols[output] = GRAD_TOL
    return errors, tols


@contextmanager
def _stopped_after(seconds: float | None) -> Iterator[None]:
    """Raise :class:`_OutOfTime` in the code of the ``with`` body after ``seconds``.

    Uses a one-shot ``ITIMER_REAL`` timer and a SIGALRM handler; afterwards
    (also on error) the previous handler is back and a timer that was
    already running is re-armed with the time it has left, firing at once if
    that passed meanwhile. When that outer timer fires first anyway, it is
    left alone. Without SIGALRM (Windows) or outside the main thread the
    body runs without a limit.
    """
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not seconds or not usable:
        yield
        return
    outer_delay, outer_interval = signal.getitimer(signal.ITIMER_REAL)
    if outer_delay and outer_delay <= seconds:
        yield  # an outer timer fires first: it limits the body already
        return
    previous = signal.getsignal(signal.SIGALRM)
    started = time.monotonic()

    def on_alarm(signum, frame):
        raise _OutOfTime

    signal.signal(signal.SIGALRM, on_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        yield
    finally:
        try:
            signal.setitimer(signal.ITIMER_REAL, 0)  # the alarm is one-shot: it can fire only once
        finally:
            signal.signal(signal.SIGALRM, signal.SIG_DFL if previous is None else previous)
            if outer_delay:
                left = outer_delay - (time.monotonic() - started)
                signal.setitimer(signal.ITIMER_REAL, max(left, 1e-6), outer_interval)


def _where_stopped(stopped: _OutOfTime) -> str:
    """`` (it was at line <n> of <function>: <code>)`` for the deepest frame run, or ''."""
    frames = [
        frame
        for frame in traceback.extract_tb(stopped.__traceback__)
        if frame.filename != __file__
    ]
    if not frames:
        return ""
    frame = frames[-1]
    code = f": {frame.line.strip()}" if frame.line and frame.line.strip() else ""
    return f" (it was at line {frame.lineno} of {frame.name}{code})"


# ---------------------------------------------------------------------------
# The student's own code: delegation to the course's implementation, their frames
# ---------------------------------------------------------------------------

_SIGNATURE_CACHE: dict[types.CodeType, str] = {}  # code -> code_signature, kept between calls
_references_allowed = False  # see references_allowed()


@contextmanager
def references_allowed() -> Iterator[None]:
    """Within the ``with`` body, the checks accept the course's own implementations.

    For the tests of the checks themselves, which hand a check the reference
    (``check_affine_forward(layers.affine_forward)`` must pass) or a mistake
    built on it. Grading never uses it: the grader's worker watches the
    student's calls itself (``course.grading.worker.Worker.forbid``).
    """
    global _references_allowed
    previous, _references_allowed = _references_allowed, True
    try:
        yield
    finally:
        _references_allowed = previous


@contextmanager
def _watched(exercise: str, entered: list[str]) -> Iterator[None]:
    """Append to ``entered`` what of the course's own ``exercise`` the body enters.

    A profile hook (``sys.setprofile``, this thread only, for the body only)
    sees every Python function entered; :func:`course.references.reference_entered`
    tells whether it is the course's implementation of the exercise, by name,
    alias or a copy of its code. When a profiler already runs (``%prun``, a
    nested check) the body runs unwatched, and that profiler is left alone.
    """
    if _references_allowed or sys.getprofile() is not None:
        yield
        return
    names = frozenset(forbidden_names([exercise]))
    signatures = reference_signatures([exercise])

    def watch(frame, event, arg):  # every Python call and C call of the body
        if event == "call" and not entered:
            found = reference_entered(frame.f_code, names, signatures, _SIGNATURE_CACHE)
            if found is not None:
                entered.append(found)

    sys.setprofile(watch)
    try:
        yield
    finally:
        sys.setprofile(None)


def _refuse_delegation(exercise: str, name: str, entered: list[str]) -> None:
    """Fail the check when the student's call entered the course's own implementation."""
    if entered:
        raise CheckFailed(
            f"{exercise}: your {name} calls {entered[0]}; the check grades your code, so write "
            "the computation yourself (the course's other functions, the building blocks, stay "
            "allowed)"
        )


def student_traceback(tb: types.TracebackType | None) -> types.TracebackType | None:
    """``tb`` without its frames inside the ``course`` package: the student's frames only.

    The frames of other libraries (numpy) stay, as in any traceback; those of
    the check that called the student's function, and of course functions
    the student's code called, go. Idempotent; None when no frame is left.
    """
    kept = []
    while tb is not None:
        if not _in_course(tb.tb_frame.f_code.co_filename):
            kept.append(tb)
        tb = tb.tb_next
    trimmed = None
    for entry in reversed(kept):
        trimmed = types.TracebackType(trimmed, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return trimmed


def _in_course(filename: str) -> bool:
    """Whether ``filename`` is a file of the ``course`` package."""
    return filename.startswith(PACKAGE_ROOT + os.sep)


_LIBRARY_PATHS = tuple(
    {
        os.path.abspath(path) + os.sep
        for key in ("stdlib", "platstdlib", "purelib", "platlib")
        if (path := sysconfig.get_paths().get(key))
    }
)


def _where_raised(error: BaseException, name: str) -> str:
    """`` (line 14 of your cell)``: where in the student's own code ``error`` was raised.

    The deepest frame outside ``course``, the standard library and installed
    packages (numpy); ``your cell`` when it is a notebook cell, else the
    file's name; the function named when it is not ``name``, the one checked. '' when
    no frame is the student's (the grader calls the student's code elsewhere).
    """
    frame = None
    for entry in traceback.extract_tb(error.__traceback__):
        path = os.path.abspath(entry.filename) if not entry.filename.startswith("<") else ""
        if not _in_course(entry.filename) and not path.startswith(_LIBRARY_PATHS):
            frame = entry
    if frame is None:
        return ""
    cell = "ipykernel_" in frame.filename or frame.filename.startswith("<ipython-input-")
    place = "your cell" if cell else os.path.basename(frame.filename)
    inside = f", in {frame.name}" if frame.name not in (name, "<module>") else ""
    return f" (line {frame.lineno} of {place}{inside})"


def _cache_hint(copied: object, original: object) -> str:
    """What to do instead of how a backward changed its cache (``copied``, was ``original``).

    A list or tuple that lost or gained items was consumed (``caches.pop()``):
    a second backward on the same cache would find it empty. An array whose
    shape changed was reshaped in place; any other change edited values.
    """
    if _changed_length(copied, original):
        return (
            "it lost or gained items (caches.pop(), del, append), so a second backward on the "
            "same cache would fail or give other gradients: read it by index "
            "(caches[t] for t in reversed(range(T))) and never pop it"
        )
    if _changed_shape(copied, original):
        return "reshape into a new name (x_flat = x.reshape(N, -1)), never x.shape = ..."
    return (
        "compute into new arrays (mask = x > 0, not x[x <= 0] = 0 on the cached x): another "
        "backward on the same cache must find the forward's arrays unchanged"
    )


def _changed_length(a: object, b: object) -> bool:
    """Whether a list or tuple inside ``a`` has another length than its original in ``b``."""
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) != len(b) or any(map(_changed_length, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return any(_changed_length(a[k], b[k]) for k in a.keys() & b.keys())
    return False


def _changed_shape(a: object, b: object) -> bool:
    """Whether an array inside ``a`` has another shape than its original in ``b``."""
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return a.shape != b.shape
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return any(map(_changed_shape, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return any(_changed_shape(a[k], b[k]) for k in a.keys() & b.keys())
    return False


def _random_like(arrays: Sequence[np.ndarray], seed: int, dtype: type) -> list[np.ndarray]:
    """Standard normal arrays (drawn in float64, cast to ``dtype``) shaped like ``arrays``."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(np.shape(a)).astype(dtype) for a in arrays]


def _copies(values: Sequence) -> tuple:
    """Private copies of the arrays and dicts among ``values``, so no call sees another's state."""
    return tuple(_private_copy(v) for v in values)


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
