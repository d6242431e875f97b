"""What the catalogue tests of the recurrent and temporal checks share.

A catalogue maps each check's name to ``(check, reference arguments,
mistakes)``; every mistake is a ``pytest.param`` made by :func:`mistake`. The
test modules parametrise their tests over :func:`mistake_params` and call the
assertions below, so each catalogue is run the same way.
"""

from __future__ import annotations

import pytest

from course.checks import CheckFailed
from course.checks.core import references_allowed

WRONG = r"is wrong: relative error .* > threshold"


def mistake(*args, match: str, id: str):
    """A catalogue entry: the check's arguments, the message it must give, a short name."""
    return pytest.param(args, match, id=id)


def not_implemented(*args):
    """The released stub, not yet replaced."""
    raise NotImplementedError


def mistake_params(checks: dict) -> list:
    """One ``(name, student, expected)`` param per mistake of every check in ``checks``."""
    return [
        pytest.param(name, *entry.values, id=f"{name}:{entry.id}")
        for name, (_, _, mistakes) in checks.items()
        for entry in mistakes
    ]


def assert_check_fails(check, name: str, student: tuple, expected: str, capsys) -> None:
    """The check raises CheckFailed naming its exercise, with the expected message, no OK."""
    with pytest.raises(CheckFailed, match=expected) as failure:
        check(*student)
    assert str(failure.value).startswith(f"{name}: ")
    assert "OK" not in capsys.readouterr().out


def assert_check_passes_with_one_line(check, name: str, reference: tuple, capsys) -> None:
    """The check passes the reference and prints one line of measured errors."""
    with references_allowed():  # the course's own reference is the right answer
        check(*reference)
    out = capsys.readouterr().out
    assert out.startswith(f"OK {name}: relative errors ")
    assert out.count("\n") == 1


def assert_distinct_mistakes(mistakes: list, minimum: int = 6) -> None:
    """At least ``minimum`` mistakes, each a different function with a different name."""
    students = [entry.values[0] for entry in mistakes]
    assert len(mistakes) >= minimum
    assert len(set(students)) == len(students)
    assert len({entry.id for entry in mistakes}) == len(mistakes)
