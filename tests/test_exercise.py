"""Tests for course/exercise.py."""

import pytest

from course.exercise import with_fallback


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
