"""Tests for the machinery every check shares (``course.checks.core``).

``call_student`` (one-line "not implemented yet", wrapped exceptions that keep
their cause, in-place edits of inputs), ``expect_tuple``, ``compare`` (type,
shape, dtype, finiteness, value, in that order), ``require``, ``report``, the
tolerance table, and the harness: ``call_forward``, ``compare_diagnosed``,
``compare_forward``, ``compare_backward`` (one output or several),
``compare_float32_backward``, ``compare_backward_both_dtypes``,
``compare_loss`` and ``student_gradients``; and the time limit of every call
of a student's function (``set_time_limit``, ``COURSE_CHECK_TIME_LIMIT``).
"""

from __future__ import annotations

import re
import signal
import threading
import time
import warnings

import numpy as np
import pytest

from course import layers
from course.checks import check_relu_forward, core
from course.checks.core import (
    DEFAULT_TIME_LIMIT,
    FLOAT32_TOL,
    GRAD_TOL,
    VALUE_TOL,
    CheckFailed,
    call_forward,
    call_student,
    cast_floats,
    compare,
    compare_backward,
    compare_backward_both_dtypes,
    compare_diagnosed,
    compare_float32_backward,
    compare_forward,
    compare_loss,
    expect_tuple,
    report,
    require,
    set_time_limit,
    student_gradients,
    time_limit,
    value_tol,
)


@pytest.fixture(autouse=True)
def _references_allowed():
    """The harness's tests hand it the course's own layers as the student's functions.

    The watch for delegation to them is tested in ``tests/test_checks_delegation.py``.
    """
    with core.references_allowed():
        yield


def test_check_failed_is_an_assertion_error():
    assert issubclass(CheckFailed, AssertionError)


# ---------------------------------------------------------------------------
# call_student
# ---------------------------------------------------------------------------


def test_call_student_returns_the_result():
    def add(a, b):
        return a + b

    assert call_student("add", add, 2, 3) == 5


@pytest.mark.parametrize(
    "error", [NotImplementedError, NotImplementedError("write me")], ids=["class", "instance"]
)
def test_call_student_not_implemented_is_one_line_without_a_chained_traceback(error):
    def affine_forward(x, w, b):
        raise error

    with pytest.raises(CheckFailed) as failure:
        call_student("affine_forward", affine_forward, np.ones((2, 3)), np.ones((3, 4)), None)
    message = str(failure.value)
    assert message.startswith("affine_forward: affine_forward is not implemented yet; ")
    assert "replace the `raise NotImplementedError(...)` line under `# YOUR CODE HERE`" in message
    assert "BEGIN SOLUTION" not in message  # students never see the markers
    assert "\n" not in message
    assert failure.value.__cause__ is None
    assert failure.value.__suppress_context__


def test_call_student_names_the_call_with_what():
    def helper(x):
        raise NotImplementedError

    with pytest.raises(CheckFailed, match=r"^relu_backward: relu_forward is not implemented"):
        call_student("relu_backward", helper, np.ones(3), what="relu_forward")


def test_call_student_wraps_other_exceptions_and_keeps_the_cause():
    original = ValueError("shapes (2,3) and (4,5) not aligned")

    def affine_forward(x, w, b):
        raise original

    with pytest.raises(CheckFailed) as failure:
        call_student("affine_forward", affine_forward, np.ones(2), np.ones(2), np.ones(2))
    line = affine_forward.__code__.co_firstlineno + 1
    assert str(failure.value) == (
        "affine_forward: your function raised ValueError: shapes (2,3) and (4,5) not aligned "
        f"(line {line} of test_checks_core.py)"
    )
    assert failure.value.__cause__ is original


def test_call_student_lets_a_check_failed_through_unchanged():
    inner = CheckFailed("inner_check: dx is wrong")

    def student(x):
        raise inner

    with pytest.raises(CheckFailed) as failure:
        call_student("outer", student, np.ones(2))
    assert failure.value is inner


def test_call_student_refuses_something_that_is_not_a_function():
    with pytest.raises(
        CheckFailed,
        match=r"^relu_forward: expected a function, got ndarray\. "
        r"Pass the function itself: check_relu_forward\(relu_forward\)",
    ):
        call_student("relu_forward", np.zeros(3), np.ones(3))


def _zero_negatives_in_place(x):
    x[x < 0] = 0
    return x


def _flatten_in_place(x):
    x.shape = (x.shape[0], -1)
    return x


def _add_a_key(x, param):
    param["mask"] = x > 0
    return x.copy()


def _replace_a_value(x, param):
    param["p"] = 0.5
    return x.copy()


@pytest.mark.parametrize(
    "student, position",
    [
        pytest.param(_zero_negatives_in_place, 1, id="values"),
        pytest.param(_flatten_in_place, 1, id="shape"),
        pytest.param(_add_a_key, 2, id="dict-key-added"),
        pytest.param(_replace_a_value, 2, id="dict-value-replaced"),
    ],
)
def test_call_student_catches_in_place_edits(student, position):
    x = np.linspace(-1, 1, 12).reshape(3, 2, 2)
    args = (x,) if student.__code__.co_argcount == 1 else (x, {"p": 0.3, "mode": "train"})
    with pytest.raises(
        CheckFailed,
        match=rf"^ex: {student.__name__} changed its input argument {position} in place\. Hint",
    ):
        call_student("ex", student, *args)


def _backward_pops_step_caches(dout, caches):
    return sum(dout * caches.pop()[0] for _ in range(len(caches)))


def _backward_flattens_cached_x(dout, cache):
    x, _ = cache
    x.shape = (x.shape[0], -1)
    return dout


def _backward_zeroes_cached_x(dout, cache):
    x, _ = cache
    x[x < 0] = 0
    return dout * (x > 0)


@pytest.mark.parametrize(
    "student, cache, hint",
    [
        pytest.param(
            _backward_pops_step_caches,
            [(np.linspace(-1, 1, 4), 1.0), (np.ones(4), 2.0)],
            r"it lost or gained items \(caches\.pop\(\), del, append\), so a second backward on "
            r"the same cache would fail or give other gradients: read it by index "
            r"\(caches\[t\] for t in reversed\(range\(T\)\)\) and never pop it$",
            id="consumed",
        ),
        pytest.param(
            _backward_flattens_cached_x,
            (np.linspace(-1, 1, 8).reshape(2, 2, 2), {"p": 0.5}),
            r"reshape into a new name \(x_flat = x\.reshape\(N, -1\)\), never x\.shape = \.\.\.$",
            id="reshaped",
        ),
        pytest.param(
            _backward_zeroes_cached_x,
            (np.linspace(-1, 1, 4), {"p": 0.5}),
            r"compute into new arrays \(mask = x > 0, not x\[x <= 0\] = 0 on the cached x\)",
            id="values",
        ),
    ],
)
def test_call_student_names_how_a_backward_changed_its_cache(student, cache, hint):
    """A popped cache, a reshaped cached array and edited values each get their own hint."""
    with pytest.raises(CheckFailed) as failure:
        call_student("ex", student, np.ones(4), cache)
    message = str(failure.value)
    assert message.startswith(
        f"ex: {student.__name__} changed its input argument 2 in place. Hint: a backward pass "
        "must leave the cache as the forward left it; "
    )
    assert re.search(hint, message), message


def test_call_student_allows_documented_state_arguments_to_change():
    def batchnorm_like(x, bn_param):
        bn_param["running_mean"] = x.mean(axis=0)
        return x - bn_param["running_mean"]

    bn_param = {"mode": "train"}
    out = call_student("ex", batchnorm_like, np.ones((3, 2)), bn_param, state_args=(1,))
    assert np.array_equal(out, np.zeros((3, 2)))
    assert np.array_equal(bn_param["running_mean"], np.ones(2))


def test_call_student_does_not_flag_inputs_that_hold_nan():
    x = np.array([1.0, np.nan, -2.0])
    out = call_student("ex", lambda a: a * 2, x)
    assert np.isnan(out[1]) and out[2] == -4.0


def test_call_student_silences_floating_point_warnings_of_the_student_code():
    def overflows(x):
        return np.exp(x) / np.exp(x).sum()

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = call_student("ex", overflows, np.array([1000.0, 0.0]))
    assert np.isnan(out[0])


# ---------------------------------------------------------------------------
# The time limit of a call
# ---------------------------------------------------------------------------

needs_sigalrm = pytest.mark.skipif(
    not hasattr(signal, "setitimer"), reason="the time limit needs SIGALRM (not on Windows)"
)


@pytest.fixture
def limit(monkeypatch):
    """Start every test from no setting and no COURSE_CHECK_TIME_LIMIT; undo what it sets."""
    monkeypatch.setattr(core, "_time_limit_setting", core._UNSET)
    monkeypatch.delenv(core.TIME_LIMIT_ENV, raising=False)
    return monkeypatch


def loops_forever(x):
    total = 0
    while True:
        total += 1


def test_time_limit_is_60_s_unless_set(limit):
    assert DEFAULT_TIME_LIMIT == 60 and time_limit() == 60
    limit.setenv("COURSE_CHECK_TIME_LIMIT", "2.5")
    assert time_limit() == 2.5
    limit.setenv("COURSE_CHECK_TIME_LIMIT", "0")
    assert time_limit() is None
    limit.setenv("COURSE_CHECK_TIME_LIMIT", "inf")
    assert time_limit() is None
    assert set_time_limit(7) is None  # returns the limit it replaces; the setting wins
    assert time_limit() == 7
    assert set_time_limit(None) == 7 and time_limit() is None
    assert set_time_limit(0) is None and time_limit() is None


@pytest.mark.parametrize("bad", [-1, "10", True, float("nan")])
def test_set_time_limit_refuses_what_is_not_seconds(limit, bad):
    with pytest.raises(ValueError, match=r"set_time_limit: seconds must be a number >= 0"):
        set_time_limit(bad)


def test_a_bad_environment_variable_is_named(limit):
    limit.setenv("COURSE_CHECK_TIME_LIMIT", "ten")
    with pytest.raises(ValueError, match=r"COURSE_CHECK_TIME_LIMIT='ten': expected a number"):
        call_student("relu_forward", lambda x: x, np.ones(2))


@needs_sigalrm
def test_call_student_stops_a_function_that_never_returns(limit):
    set_time_limit(0.5)
    started = time.monotonic()
    with pytest.raises(CheckFailed) as failure:
        call_student("relu_forward", loops_forever, np.ones(3))
    assert time.monotonic() - started < 5
    message = str(failure.value)
    assert message.startswith(
        "relu_forward: loops_forever did not return within 0.5 s; look for a loop that never ends"
    )
    where = r"\(it was at line \d+ of loops_forever: (while True:|total \+= 1)\)"
    assert re.search(where, message)  # the line the loop was running
    assert "raised" not in message and "_OutOfTime" not in message
    assert failure.value.__cause__ is None and failure.value.__suppress_context__
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


@needs_sigalrm
def test_except_exception_in_the_student_code_does_not_swallow_the_limit(limit):
    def retries_forever(x):
        while True:
            try:
                time.sleep(0.01)
            except Exception:
                pass

    set_time_limit(0.3)
    with pytest.raises(CheckFailed, match=r"did not return within 0\.3 s"):
        call_student("ex", retries_forever, np.ones(2))


@needs_sigalrm
def test_a_check_with_an_endless_student_function_fails_with_the_message(limit):
    set_time_limit(0.5)
    with pytest.raises(CheckFailed, match=r"^relu_forward: loops_forever did not return within"):
        check_relu_forward(loops_forever)
    check_relu_forward(layers.relu_forward)  # a right answer still passes under the limit


@needs_sigalrm
@pytest.mark.parametrize("ends", ["returns", "raises", "times out"])
def test_the_previous_handler_and_timer_are_restored(limit, ends):
    class OuterAlarm(BaseException):
        pass

    def outer_handler(signum, frame):
        raise OuterAlarm

    students = {
        "returns": lambda x: x,
        "raises": lambda x: 1 / 0,
        "times out": loops_forever,
    }
    set_time_limit(0.3)
    previous = signal.signal(signal.SIGALRM, outer_handler)
    signal.setitimer(signal.ITIMER_REAL, 30)
    try:
        try:
            call_student("ex", students[ends], np.ones(2))
        except CheckFailed:
            assert ends != "returns"
        assert signal.getsignal(signal.SIGALRM) is outer_handler
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 25 < left < 30  # the outer timer runs on with the time it had left
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@needs_sigalrm
def test_an_outer_timer_that_fires_first_is_left_to_fire(limit):
    class OuterAlarm(BaseException):
        pass

    def outer_handler(signum, frame):
        raise OuterAlarm

    set_time_limit(30)
    previous = signal.signal(signal.SIGALRM, outer_handler)
    signal.setitimer(signal.ITIMER_REAL, 0.2)
    try:
        with pytest.raises(OuterAlarm):
            call_student("ex", loops_forever, np.ones(2))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_no_timer_when_the_limit_is_off(limit):
    set_time_limit(None)
    seen = call_student("ex", lambda x: signal.getitimer(signal.ITIMER_REAL), np.ones(2))
    assert seen == (0.0, 0.0)


def test_outside_the_main_thread_a_call_runs_without_a_limit(limit):
    set_time_limit(0.05)
    results = []

    def slow(x):
        time.sleep(0.2)
        return x * 2

    worker = threading.Thread(target=lambda: results.append(call_student("ex", slow, 3)))
    worker.start()
    worker.join()
    assert results == [6]


# ---------------------------------------------------------------------------
# expect_tuple
# ---------------------------------------------------------------------------


def test_expect_tuple_wraps_a_single_output():
    x = np.ones(3)
    assert expect_tuple("ex", x, ("dx",), "f")[0] is x
    assert expect_tuple("ex", None, ("dx",), "f") == (None,)


def test_expect_tuple_accepts_tuples_and_lists():
    assert expect_tuple("ex", (1, 2), ("out", "cache"), "f") == (1, 2)
    result = expect_tuple("ex", [1, 2], ("out", "cache"), "f")
    assert result == (1, 2) and isinstance(result, tuple)


@pytest.mark.parametrize(
    "result, got",
    [
        (None, "NoneType"),
        (np.zeros(2), "ndarray"),
        ((1, 2, 3), "a tuple of length 3"),
        ([1], "a list of length 1"),
    ],
    ids=["none", "array", "long-tuple", "short-list"],
)
def test_expect_tuple_names_what_came_back(result, got):
    with pytest.raises(CheckFailed) as failure:
        expect_tuple("affine_forward", result, ("out", "cache"), "affine_forward")
    assert str(failure.value) == (
        f"affine_forward: affine_forward must return a tuple (out, cache); it returned {got}"
    )


# ---------------------------------------------------------------------------
# compare
# ---------------------------------------------------------------------------

_EXPECTED = np.arange(6.0).reshape(2, 3)


def _with_nan(a):
    a = np.array(a, dtype=float)
    a.flat[0] = np.nan
    return a


@pytest.mark.parametrize(
    "actual, kwargs, message",
    [
        pytest.param(
            _EXPECTED.tolist(),
            {},
            r"^ex: out should be a numpy array of shape \(2, 3\), got list$",
            id="list",
        ),
        pytest.param(
            None, {}, r"should be a numpy array of shape \(2, 3\), got NoneType", id="none"
        ),
        pytest.param(
            _with_nan(np.zeros((3, 2))),
            {"dtype": np.dtype(np.float32)},
            r"^ex: out has the wrong shape: got \(3, 2\), expected \(2, 3\)\. Hint: the hint$",
            id="shape-before-dtype-and-nan",
        ),
        pytest.param(
            _with_nan(_EXPECTED),
            {"dtype": np.dtype(np.float32)},
            r"^ex: out has dtype float64 for float32 inputs; keep the dtype of the inputs",
            id="dtype-before-nan",
        ),
        pytest.param(
            _EXPECTED > 2, {}, r"^ex: out has dtype bool; expected real numbers$", id="bool"
        ),
        pytest.param(
            _EXPECTED + 0j, {}, r"out has dtype complex128; expected real numbers", id="complex"
        ),
        pytest.param(
            _EXPECTED.astype(object),
            {},
            r"out has dtype object; expected real numbers",
            id="object",
        ),
        pytest.param(
            _with_nan(_EXPECTED),
            {},
            r"^ex: out contains NaN or inf \(1 of 6 entries\)\. Hint: the hint$",
            id="nan-before-value",
        ),
        pytest.param(
            np.full((2, 3), np.inf),
            {},
            r"out contains NaN or inf \(6 of 6 entries\)",
            id="inf",
        ),
        pytest.param(
            _EXPECTED * 2,
            {},
            r"^ex: out is wrong: relative error 5\.0e-01 > threshold 1e-09\. Hint: the hint$",
            id="value",
        ),
    ],
)
def test_compare_names_the_first_thing_that_is_wrong(actual, kwargs, message):
    with pytest.raises(CheckFailed, match=message):
        compare("ex", "out", actual, _EXPECTED, VALUE_TOL, "the hint", **kwargs)


_MAKE = (
    "make new arrays with the inputs' dtype: np.zeros(shape, dtype=x.dtype) or np.zeros_like(x)"
)


@pytest.mark.parametrize(
    "actual, dtype, hint",
    [
        pytest.param(
            _EXPECTED,
            np.float32,
            f"{_MAKE}, because a float64 array (np.zeros(shape) without dtype=, a mask or "
            "np.random array made in float64) upcasts everything it touches to float64",
            id="float64-for-float32",
        ),
        pytest.param(
            _EXPECTED.astype(np.float32),
            np.float64,
            f"{_MAKE}, and convert nothing to float32 (.astype): the result loses precision",
            id="float32-for-float64",
        ),
        pytest.param(
            _EXPECTED > 2,
            np.float64,
            "return float64 values computed from the inputs, not a boolean mask or integer "
            f"indices; {_MAKE}",
            id="mask-for-float64",
        ),
    ],
)
def test_compare_ends_a_wrong_dtype_with_one_hint_that_names_the_fix(actual, dtype, hint):
    """Every check's dtype failure ends with the same hint, whatever hint the check passed."""
    with pytest.raises(CheckFailed) as failure:
        compare("ex", "out", actual, _EXPECTED, VALUE_TOL, "the hint", dtype=np.dtype(dtype))
    assert str(failure.value) == (
        f"ex: out has dtype {actual.dtype} for {np.dtype(dtype)} inputs; "
        f"keep the dtype of the inputs. Hint: {hint}"
    )


def test_compare_returns_the_relative_error():
    assert compare("ex", "out", _EXPECTED.copy(), _EXPECTED, VALUE_TOL, "h") == 0.0
    nearly = _EXPECTED + 1e-12
    assert 0 < compare("ex", "out", nearly, _EXPECTED, VALUE_TOL, "h") < VALUE_TOL


def test_compare_accepts_an_error_equal_to_the_threshold():
    assert compare("ex", "out", np.array([1.0, 0.5]), np.array([1.0, 0.0]), 0.5, "h") == 0.5


def test_compare_checks_the_dtype_only_when_asked():
    actual = _EXPECTED.astype(np.float32)
    assert compare("ex", "out", actual, _EXPECTED, 1e-6, "h") == 0.0
    assert compare("ex", "out", actual, _EXPECTED, 1e-6, "h", dtype=np.dtype(np.float32)) == 0.0


@pytest.mark.parametrize(
    "actual",
    [1.5, np.float64(1.5), np.array(1.5), np.array([1.5]), np.array([[1.5]])],
    ids=["float", "numpy-float", "0-d-array", "1-element", "1x1"],
)
def test_compare_accepts_any_single_number_where_a_number_is_expected(actual):
    assert compare("ex", "loss", actual, 1.5, VALUE_TOL, "h") == 0.0


@pytest.mark.parametrize(
    "actual, message",
    [
        (None, r"^ex: loss should be a number, got NoneType$"),
        ("1.5", r"^ex: loss should be a number, got str$"),
        ((1.5,), r"^ex: loss should be a number, got tuple$"),
        (np.array([1.5, 2.0]), r"^ex: loss has the wrong shape: got \(2,\), expected \(\)"),
        (np.nan, r"^ex: loss contains NaN or inf \(1 of 1 entries\)"),
        (2.5, r"^ex: loss is wrong: relative error 4\.0e-01 > threshold 1e-09"),
    ],
    ids=["none", "string", "tuple", "vector", "nan", "value"],
)
def test_compare_scalar_failures(actual, message):
    with pytest.raises(CheckFailed, match=message):
        compare("ex", "loss", actual, 1.5, VALUE_TOL, "h")


# ---------------------------------------------------------------------------
# require and report
# ---------------------------------------------------------------------------


def test_require():
    require("ex", True, "never shown")
    with pytest.raises(CheckFailed, match=r"^ex: kept 70\.0% of the units$"):
        require("ex", False, "kept 70.0% of the units")


def test_report_with_one_threshold(capsys):
    report("affine_backward", {"dx": 6.1e-11, "dw": 7.44e-11, "db": 0.0}, GRAD_TOL)
    assert capsys.readouterr().out == (
        "OK affine_backward: relative errors dx 6.1e-11 <= 1e-07, dw 7.4e-11 <= 1e-07, "
        "db 0.0e+00 <= 1e-07\n"
    )


def test_report_with_a_threshold_per_error(capsys):
    report(
        "affine_forward",
        {"out": 1.23e-16, "out (float32)": 3.4e-8},
        {"out": 1e-9, "out (float32)": 1e-5},
    )
    assert capsys.readouterr().out == (
        "OK affine_forward: relative errors out 1.2e-16 <= 1e-09, out (float32) 3.4e-08 <= 1e-05\n"
    )


# ---------------------------------------------------------------------------
# compare_backward
# ---------------------------------------------------------------------------


def _affine_inputs():
    rng = np.random.default_rng(0)
    return rng.standard_normal((4, 2, 3)), rng.standard_normal((6, 5)), rng.standard_normal(5)


def test_compare_backward_returns_one_error_per_gradient():
    hints = {"dx": "hx", "dw": "hw", "db": "hb"}
    errors, tols = compare_backward(
        "affine_backward",
        layers.affine_forward,
        layers.affine_backward,
        layers.affine_forward,
        _affine_inputs(),
        hints,
    )
    assert list(errors) == ["dx", "dw", "db"]
    assert all(error < GRAD_TOL for error in errors.values())
    assert tols == dict.fromkeys(errors, GRAD_TOL)


def test_compare_backward_takes_the_true_gradient_from_the_reference_forward():
    """A wrong forward does not make a right backward fail: the forward has its own check."""

    def affine_forward_no_bias(x, w, b):
        return x.reshape(x.shape[0], -1) @ w, (x, w)

    errors, _ = compare_backward(
        "affine_backward",
        affine_forward_no_bias,
        layers.affine_backward,
        layers.affine_forward,
        _affine_inputs(),
        {"dx": "", "dw": "", "db": ""},
    )
    assert max(errors.values()) < GRAD_TOL


def test_compare_backward_names_the_wrong_gradient_with_its_hint():
    def affine_backward_db_mean(dout, cache):
        dx, dw, db = layers.affine_backward(dout, cache)
        return dx, dw, dout.mean(axis=0)

    with pytest.raises(
        CheckFailed, match=r"^affine_backward: db is wrong: relative error .* Hint: sum it$"
    ):
        compare_backward(
            "affine_backward",
            layers.affine_forward,
            affine_backward_db_mean,
            layers.affine_forward,
            _affine_inputs(),
            {"dx": "", "dw": "", "db": "sum it"},
        )


def test_compare_backward_calls_the_forward_by_its_exercise_name():
    def stub(x, w, b):
        raise NotImplementedError

    with pytest.raises(CheckFailed, match=r"^affine_backward: affine_forward is not implemented"):
        compare_backward(
            "affine_backward",
            stub,
            layers.affine_backward,
            layers.affine_forward,
            _affine_inputs(),
            {"dx": "", "dw": "", "db": ""},
        )


def test_compare_backward_lets_a_state_dict_change():
    x = np.random.default_rng(1).standard_normal((6, 3))
    bn_param = {"mode": "train"}
    errors, _ = compare_backward(
        "batchnorm_backward",
        layers.batchnorm_forward,
        layers.batchnorm_backward,
        layers.batchnorm_forward,
        (x, np.ones(3), np.zeros(3), bn_param),
        {"dx": "", "dgamma": "", "dbeta": ""},
        state_args=(3,),
    )
    assert max(errors.values()) < GRAD_TOL
    assert set(bn_param) == {"mode", "running_mean", "running_var"}


def test_compare_backward_labels_the_errors():
    errors, tols = compare_backward(
        "affine_backward",
        layers.affine_forward,
        layers.affine_backward,
        layers.affine_forward,
        _affine_inputs(),
        {"dx": "", "dw": "", "db": ""},
        label=" (case 2)",
    )
    assert list(errors) == ["dx (case 2)", "dw (case 2)", "db (case 2)"]
    assert list(tols) == list(errors)


def _lstm_step_inputs(seed=3, N=2, D=3, Hd=4):
    rng = np.random.default_rng(seed)
    return (
        rng.standard_normal((N, D)),
        rng.standard_normal((N, Hd)),
        rng.standard_normal((N, Hd)),
        rng.standard_normal((D, 4 * Hd)),
        rng.standard_normal((Hd, 4 * Hd)),
        rng.standard_normal(4 * Hd),
    )


_LSTM_STEP_GRADS = {"dx": "", "dprev_h": "", "dprev_c": "", "dWx": "", "dWh": "", "db": ""}


def test_compare_backward_with_several_outputs_passes_one_upstream_gradient_each():
    seen = []

    def lstm_step_backward(dnext_h, dnext_c, cache):
        seen.append((dnext_h.shape, dnext_c.shape))
        return layers.lstm_step_backward(dnext_h, dnext_c, cache)

    errors, _ = compare_backward(
        "lstm_step_backward",
        layers.lstm_step_forward,
        lstm_step_backward,
        layers.lstm_step_forward,
        _lstm_step_inputs(),
        _LSTM_STEP_GRADS,
        outputs=("next_h", "next_c"),
    )
    assert seen == [((2, 4), (2, 4))]
    assert list(errors) == list(_LSTM_STEP_GRADS)
    assert max(errors.values()) < GRAD_TOL


def test_compare_backward_with_several_outputs_sees_a_gradient_that_ignores_one():
    """The numerical gradient runs through both outputs: ignoring dnext_c shows."""

    def lstm_step_backward_without_dnext_c(dnext_h, dnext_c, cache):
        return layers.lstm_step_backward(dnext_h, np.zeros_like(dnext_c), cache)

    with pytest.raises(CheckFailed, match=r"^lstm_step_backward: dx is wrong: .* Hint: gate$"):
        compare_backward(
            "lstm_step_backward",
            layers.lstm_step_forward,
            lstm_step_backward_without_dnext_c,
            layers.lstm_step_forward,
            _lstm_step_inputs(),
            {**_LSTM_STEP_GRADS, "dx": "gate"},
            outputs=("next_h", "next_c"),
        )


def test_compare_backward_expects_every_output_of_the_forward():
    def lstm_step_forward_without_next_c(*args):
        next_h, _, cache = layers.lstm_step_forward(*args)
        return next_h, cache

    with pytest.raises(
        CheckFailed,
        match=r"^lstm_step_backward: lstm_step_forward must return a tuple "
        r"\(next_h, next_c, cache\); it returned a tuple of length 2$",
    ):
        compare_backward(
            "lstm_step_backward",
            lstm_step_forward_without_next_c,
            layers.lstm_step_backward,
            layers.lstm_step_forward,
            _lstm_step_inputs(),
            _LSTM_STEP_GRADS,
            outputs=("next_h", "next_c"),
        )


def test_compare_backward_draws_upstream_gradients_in_the_reference_shapes():
    """A forward with a wrong output shape does not change what its backward is given."""
    shapes = []

    def affine_forward_transposed(x, w, b):
        out, cache = layers.affine_forward(x, w, b)
        return out.T, cache

    def affine_backward(dout, cache):
        shapes.append(dout.shape)
        return layers.affine_backward(dout, cache)

    compare_backward(
        "affine_backward",
        affine_forward_transposed,
        affine_backward,
        layers.affine_forward,
        _affine_inputs(),
        {"dx": "", "dw": "", "db": ""},
    )
    assert shapes == [(4, 5)]


# ---------------------------------------------------------------------------
# compare_float32_backward and compare_backward_both_dtypes
# ---------------------------------------------------------------------------


def test_compare_float32_backward_runs_in_float32():
    dtypes = []

    def affine_backward(dout, cache):
        dtypes.append((dout.dtype, cache[0].dtype))
        return layers.affine_backward(dout, cache)

    errors, tols = compare_float32_backward(
        "affine_backward",
        layers.affine_forward,
        affine_backward,
        layers.affine_forward,
        layers.affine_backward,
        _affine_inputs(),  # float64: cast to float32 inside
        {"dx": "", "dw": "", "db": ""},
    )
    assert dtypes == [(np.float32, np.float32)]
    assert list(errors) == ["dx (float32)", "dw (float32)", "db (float32)"]
    assert tols == dict.fromkeys(errors, FLOAT32_TOL)
    assert max(errors.values()) < FLOAT32_TOL


def test_compare_float32_backward_fails_gradients_that_upcast():
    def affine_backward_float64(dout, cache):
        return tuple(grad.astype(np.float64) for grad in layers.affine_backward(dout, cache))

    with pytest.raises(
        CheckFailed,
        match=r"^affine_backward: dx \(float32\) has dtype float64 for float32 inputs; "
        r"keep the dtype of the inputs\. Hint: make new arrays with the inputs' dtype: "
        r"np\.zeros\(shape, dtype=x\.dtype\) or np\.zeros_like\(x\), because a float64 array",
    ):
        compare_float32_backward(
            "affine_backward",
            layers.affine_forward,
            affine_backward_float64,
            layers.affine_forward,
            layers.affine_backward,
            _affine_inputs(),
            {"dx": "", "dw": "", "db": ""},
        )


def test_compare_float32_backward_accepts_a_single_gradient():
    x = np.random.default_rng(2).standard_normal((3, 4))
    errors, _ = compare_float32_backward(
        "relu_backward",
        layers.relu_forward,
        layers.relu_backward,
        layers.relu_forward,
        layers.relu_backward,
        (x,),
        {"dx": ""},
    )
    assert list(errors) == ["dx (float32)"]


def test_compare_backward_both_dtypes_merges_both_comparisons():
    errors, tols = compare_backward_both_dtypes(
        "lstm_step_backward",
        layers.lstm_step_forward,
        layers.lstm_step_backward,
        layers.lstm_step_forward,
        layers.lstm_step_backward,
        _lstm_step_inputs(),
        _LSTM_STEP_GRADS,
        seed=4,
        outputs=("next_h", "next_c"),
    )
    float32 = [f"{name} (float32)" for name in _LSTM_STEP_GRADS]
    assert list(errors) == [*_LSTM_STEP_GRADS, *float32]
    assert tols == {
        **dict.fromkeys(_LSTM_STEP_GRADS, GRAD_TOL),
        **dict.fromkeys(float32, FLOAT32_TOL),
    }


# ---------------------------------------------------------------------------
# The smaller harness pieces: value_tol, cast_floats, call_forward, compare_diagnosed
# ---------------------------------------------------------------------------


def test_value_tol_follows_the_dtype():
    assert value_tol(np.float64) == VALUE_TOL
    assert value_tol(np.dtype(np.float32)) == FLOAT32_TOL


def test_cast_floats_casts_only_floating_arrays():
    x, y, param = np.ones(2), np.arange(3), {"mode": "train"}
    x32, y_out, param_out = cast_floats((x, y, param), np.float32)
    assert x32.dtype == np.float32 and x.dtype == np.float64
    assert y_out is y and param_out is param


def test_call_forward_returns_the_outputs_then_the_cache():
    next_h, next_c, cache = call_forward(
        "lstm_step_forward",
        layers.lstm_step_forward,
        *_lstm_step_inputs(),
        outputs=("next_h", "next_c"),
    )
    assert next_h.shape == next_c.shape == (2, 4) and isinstance(cache, tuple)


def test_call_forward_names_the_forward_with_what():
    def stub(x):
        raise NotImplementedError

    with pytest.raises(CheckFailed, match=r"^relu_backward: relu_forward is not implemented"):
        call_forward("relu_backward", stub, np.ones(3), what="relu_forward")
    with pytest.raises(
        CheckFailed, match=r"^relu_backward: relu_forward must return a tuple \(out, cache\)"
    ):
        call_forward("relu_backward", lambda x: x, np.ones(3), what="relu_forward")


_SUSPECTS = [(2 * _EXPECTED, "you doubled it"), (-_EXPECTED, "you negated it")]


def test_compare_diagnosed_names_a_known_mistake():
    with pytest.raises(CheckFailed, match=r"^ex: out is wrong: .* Hint: you negated it$"):
        compare_diagnosed("ex", "out", -_EXPECTED, _EXPECTED, VALUE_TOL, "general", _SUSPECTS)


def test_compare_diagnosed_keeps_the_general_hint_for_other_mistakes():
    with pytest.raises(CheckFailed, match=r"^ex: out is wrong: .* Hint: general$"):
        compare_diagnosed("ex", "out", _EXPECTED + 1, _EXPECTED, VALUE_TOL, "general", _SUSPECTS)
    with pytest.raises(CheckFailed, match=r"^ex: out has the wrong shape"):
        compare_diagnosed("ex", "out", _EXPECTED.T, _EXPECTED, VALUE_TOL, "general", _SUSPECTS)


def test_compare_diagnosed_returns_the_error_of_a_right_answer():
    assert compare_diagnosed("ex", "out", _EXPECTED, _EXPECTED, VALUE_TOL, "h", _SUSPECTS) == 0.0


# ---------------------------------------------------------------------------
# compare_forward
# ---------------------------------------------------------------------------

_EXAMPLE_X = np.linspace(-1, 1, 6).reshape(2, 3)
_RANDOM_X = (np.random.default_rng(5).standard_normal((4, 5)),)


def test_compare_forward_runs_the_example_then_float64_then_float32():
    errors, tols = compare_forward(
        "relu_forward",
        layers.relu_forward,
        layers.relu_forward,
        ((_EXAMPLE_X,), {"out": np.maximum(_EXAMPLE_X, 0)}),
        _RANDOM_X,
        {"out": "h"},
    )
    assert list(errors) == ["out", "out (float64)", "out (float32)"]
    assert tols == {"out": VALUE_TOL, "out (float64)": VALUE_TOL, "out (float32)": FLOAT32_TOL}


def test_compare_forward_checks_the_worked_example_against_its_written_values():
    with pytest.raises(CheckFailed, match=r"^relu_forward: out is wrong: .* Hint: h$"):
        compare_forward(
            "relu_forward",
            layers.relu_forward,
            layers.relu_forward,
            ((_EXAMPLE_X,), {"out": np.abs(_EXAMPLE_X)}),
            _RANDOM_X,
            {"out": "h"},
        )


def test_compare_forward_wants_float32_outputs_for_float32_inputs():
    def relu_forward_float64(x):
        return np.maximum(x, 0).astype(np.float64), x

    with pytest.raises(CheckFailed, match=r"^relu_forward: out \(float32\) has dtype float64"):
        compare_forward(
            "relu_forward",
            relu_forward_float64,
            layers.relu_forward,
            ((_EXAMPLE_X,), {"out": np.maximum(_EXAMPLE_X, 0)}),
            _RANDOM_X,
            {"out": "h"},
        )


def test_compare_forward_compares_outputs_in_the_given_order():
    def lstm_step_forward_wrong_cell(*args):
        next_h, next_c, cache = layers.lstm_step_forward(*args)
        return next_h + 1, next_c + 1, cache

    inputs = _lstm_step_inputs()
    next_h, next_c, _ = layers.lstm_step_forward(*inputs)
    example = (inputs, {"next_h": next_h, "next_c": next_c})
    hints = {"next_h": "h", "next_c": "c"}
    args = ("lstm_step_forward", lstm_step_forward_wrong_cell, layers.lstm_step_forward)
    with pytest.raises(CheckFailed, match=r"^lstm_step_forward: next_h is wrong"):
        compare_forward(*args, example, inputs, hints)
    with pytest.raises(CheckFailed, match=r"^lstm_step_forward: next_c is wrong"):
        compare_forward(*args, example, inputs, hints, order=("next_c", "next_h"))


# ---------------------------------------------------------------------------
# compare_loss
# ---------------------------------------------------------------------------


def _loss_cases():
    rng = np.random.default_rng(6)
    x, y = rng.standard_normal((5, 4)), rng.integers(0, 4, size=5)
    return [
        ("example", (x[:2], y[:2]), np.float64),
        ("random", (x, y), np.float64),
        ("float32", (x.astype(np.float32), y), np.float32),
    ]


def test_compare_loss_measures_each_case_and_the_numerical_gradient():
    cases = _loss_cases()
    example_loss, _ = layers.softmax_loss(*cases[0][1])
    errors, tols = compare_loss(
        "softmax_loss",
        layers.softmax_loss,
        layers.softmax_loss,
        cases,
        {"loss": "", "dx": ""},
        example_loss,
    )
    assert list(errors) == [
        "loss (example)",
        "dx (example)",
        "loss (random)",
        "dx (random)",
        "dx (numerical gradient)",
        "loss (float32)",
        "dx (float32)",
    ]
    assert tols["dx (numerical gradient)"] == GRAD_TOL
    assert tols["dx (float32)"] == tols["loss (float32)"] == FLOAT32_TOL
    assert tols["dx (random)"] == VALUE_TOL


def test_compare_loss_checks_the_example_against_its_written_loss():
    cases = _loss_cases()
    with pytest.raises(CheckFailed, match=r"^softmax_loss: loss \(example\) is wrong.* Hint: L$"):
        compare_loss(
            "softmax_loss",
            layers.softmax_loss,
            layers.softmax_loss,
            cases,
            {"loss": "L", "dx": "D"},
            example_loss=123.0,
        )


def test_compare_loss_wants_dx_in_the_dtype_of_x():
    def softmax_loss_float64(x, y):
        loss, dx = layers.softmax_loss(x.astype(np.float64), y)
        return loss, dx

    with pytest.raises(CheckFailed, match=r"^softmax_loss: dx \(float32\) has dtype float64"):
        compare_loss(
            "softmax_loss",
            softmax_loss_float64,
            layers.softmax_loss,
            _loss_cases(),
            {"loss": "", "dx": ""},
            layers.softmax_loss(*_loss_cases()[0][1])[0],
        )


# ---------------------------------------------------------------------------
# The tolerance table is the only one
# ---------------------------------------------------------------------------


def test_no_check_module_defines_a_tolerance_or_compares_with_a_bare_number():
    """Every threshold lives in core's table, so one place says how strict the checks are."""
    import ast
    from pathlib import Path

    import course.checks

    folder = Path(course.checks.__file__).parent
    for path in sorted(folder.glob("*.py")):
        if path.name == "core.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                assert not any(name.endswith("_TOL") for name in names), (path.name, names)
            if isinstance(node, ast.Compare):
                numbers = [
                    n
                    for n in [node.left, *node.comparators]
                    if isinstance(n, ast.Constant) and isinstance(n.value, float)
                ]
                assert not numbers, f"{path.name}:{node.lineno} compares with a bare number"


def test_student_gradients_runs_the_forward_then_the_backward():
    x = np.random.default_rng(7).standard_normal((3, 4))
    dout = np.ones((3, 4))
    (dx,) = student_gradients(
        "relu_backward", layers.relu_forward, layers.relu_backward, (x,), [dout], ("dx",)
    )
    assert np.array_equal(dx, (x > 0).astype(float))
    with pytest.raises(
        CheckFailed, match=r"^relu_backward: relu_backward must return a tuple \(dx, extra\)"
    ):
        student_gradients(
            "relu_backward",
            layers.relu_forward,
            layers.relu_backward,
            (x,),
            [dout],
            ("dx", "extra"),
        )
