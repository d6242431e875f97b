"""Tests for course/classroom/fallback.py."""

import pytest

from course.classroom.fallback import with_fallback, with_fallback_pair


def test_uses_the_student_function_when_written(capsys):
    f = with_fallback(lambda x: x + 1, lambda x: x + 100)
    assert f(1) == 2
    assert capsys.readouterr().out == ""


def test_falls_back_once_with_a_note(capsys):
    def adam(w):
        raise NotImplementedError("adam: write your code here")

    f = with_fallback(adam, lambda w: w * 2)
    assert f(3) == 6 and f(4) == 8
    out = capsys.readouterr().out
    assert out.count("note: adam is not written yet") == 1


def test_other_errors_propagate():
    def broken(w):
        raise ValueError("bad shape")

    with pytest.raises(ValueError, match="bad shape"):
        with_fallback(broken, lambda w: w)(1)


def _stub(name):
    def f(*args):
        raise NotImplementedError(f"{name}: write your code here")

    f.__name__ = name
    return f


def _ref_forward(x):
    return x * 2, ("ref", x)


def _ref_backward(dout, cache):
    assert cache[0] == "ref", "the reference backward got a student's cache"
    return dout * 2


def _student_forward(x):
    return x * 2, {"x": x}  # a cache the reference cannot read


def _student_backward(dout, cache):
    return dout * 2  # right, from its own cache format


def test_pair_uses_both_student_functions_when_written(capsys):
    fwd, bwd = with_fallback_pair(_student_forward, _student_backward, _ref_forward, _ref_backward)
    out, cache = fwd(3.0)
    assert out == 6.0 and bwd(1.0, cache) == 2.0
    assert capsys.readouterr().out == ""


def test_pair_backward_falls_back_with_the_references_own_cache(capsys):
    fwd, bwd = with_fallback_pair(
        _student_forward, _stub("my_backward"), _ref_forward, _ref_backward
    )
    out, cache = fwd(3.0)
    assert bwd(1.0, cache) == 2.0  # the reference backward ran on a reference cache
    assert "note: my_backward is not written yet" in capsys.readouterr().out


def test_pair_forward_falls_back_and_backward_follows(capsys):
    fwd, bwd = with_fallback_pair(
        _stub("my_forward"), _student_backward, _ref_forward, _ref_backward
    )
    out, cache = fwd(3.0)
    assert out == 6.0 and bwd(1.0, cache) == 2.0
    assert "note: my_forward is not written yet" in capsys.readouterr().out
