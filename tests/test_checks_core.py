"""Tests for the machinery every check shares (``course.checks.core``).

``call_student`` (one-line "not implemented yet", wrapped exceptions that keep
their cause, in-place edits of inputs), ``expect_tuple``, ``compare`` (type,
shape, dtype, finiteness, value, in that order), ``require``, ``report`` and
``check_layer_backward``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from course import layers
from course.checks.core import (
    GRAD_TOL,
    VALUE_TOL,
    CheckFailed,
    call_student,
    check_layer_backward,
    compare,
    expect_tuple,
    report,
    require,
)


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
    assert "### BEGIN SOLUTION and ### END SOLUTION" in message
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
    assert str(failure.value).startswith(
        "affine_forward: affine_forward raised ValueError: shapes (2,3) and (4,5) not aligned "
        "(the traceback above shows where in your code)"
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
# check_layer_backward
# ---------------------------------------------------------------------------


def _affine_inputs():
    rng = np.random.default_rng(0)
    return rng.standard_normal((4, 2, 3)), rng.standard_normal((6, 5)), rng.standard_normal(5)


def test_check_layer_backward_returns_one_error_per_gradient():
    hints = {"dx": "hx", "dw": "hw", "db": "hb"}
    errors = check_layer_backward(
        "affine_backward",
        layers.affine_forward,
        layers.affine_backward,
        layers.affine_forward,
        _affine_inputs(),
        hints,
    )
    assert list(errors) == ["dx", "dw", "db"]
    assert all(error < GRAD_TOL for error in errors.values())


def test_check_layer_backward_takes_the_true_gradient_from_the_reference_forward():
    """A wrong forward does not make a right backward fail: the forward has its own check."""

    def affine_forward_no_bias(x, w, b):
        return x.reshape(x.shape[0], -1) @ w, (x, w)

    errors = check_layer_backward(
        "affine_backward",
        affine_forward_no_bias,
        layers.affine_backward,
        layers.affine_forward,
        _affine_inputs(),
        {"dx": "", "dw": "", "db": ""},
    )
    assert max(errors.values()) < GRAD_TOL


def test_check_layer_backward_names_the_wrong_gradient_with_its_hint():
    def affine_backward_db_mean(dout, cache):
        dx, dw, db = layers.affine_backward(dout, cache)
        return dx, dw, dout.mean(axis=0)

    with pytest.raises(
        CheckFailed, match=r"^affine_backward: db is wrong: relative error .* Hint: sum it$"
    ):
        check_layer_backward(
            "affine_backward",
            layers.affine_forward,
            affine_backward_db_mean,
            layers.affine_forward,
            _affine_inputs(),
            {"dx": "", "dw": "", "db": "sum it"},
        )


def test_check_layer_backward_calls_the_forward_by_its_exercise_name():
    def stub(x, w, b):
        raise NotImplementedError

    with pytest.raises(CheckFailed, match=r"^affine_backward: affine_forward is not implemented"):
        check_layer_backward(
            "affine_backward",
            stub,
            layers.affine_backward,
            layers.affine_forward,
            _affine_inputs(),
            {"dx": "", "dw": "", "db": ""},
        )


def test_check_layer_backward_lets_a_state_dict_change():
    x = np.random.default_rng(1).standard_normal((6, 3))
    bn_param = {"mode": "train"}
    errors = check_layer_backward(
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
