"""Tests for course/checks/display.py: a failed check shown as one line in IPython, installed
by an explicit call and never by importing ``course.checks``."""

from __future__ import annotations

import subprocess
import sys

from course.checks import check_affine_forward
from course.checks import install_check_display as exported
from course.checks.core import CheckFailed
from course.checks.display import format_check_failure, install_check_display, show_check_failure


class FakeShell:
    """Records what the handler asks of IPython."""

    def __init__(self):
        self.tracebacks = []
        self.custom = None

    def showtraceback(self, exc_tuple=None, tb_offset=None):
        self.tracebacks.append((exc_tuple, tb_offset))

    def set_custom_exc(self, exc_tuple, handler):
        self.custom = (exc_tuple, handler)


def raised(error: BaseException):
    try:
        raise error
    except BaseException as caught:
        return type(caught), caught, caught.__traceback__


def test_a_failed_check_is_one_line(capsys):
    shell = FakeShell()
    etype, value, tb = raised(CheckFailed("affine_forward: dx is wrong: 0.3 > 1e-07"))
    assert show_check_failure(shell, etype, value, tb) is None
    captured = capsys.readouterr()
    assert captured.err == "CheckFailed: affine_forward: dx is wrong: 0.3 > 1e-07\n"
    assert captured.out == "" and shell.tracebacks == []


def parse_seven(x, w, b):
    return int("seven")  # the student's mistake


def test_a_failure_caused_by_the_students_code_shows_their_frames_then_one_line(capsys):
    """The student's frames (none of the check's inside course/), then the one-line message."""
    shell = FakeShell()
    try:
        check_affine_forward(parse_seven)
    except CheckFailed as caught:
        etype, value, tb = type(caught), caught, caught.__traceback__
    show_check_failure(shell, etype, value, tb, tb_offset=1)
    err = capsys.readouterr().err
    assert shell.tracebacks == []
    line = parse_seven.__code__.co_firstlineno + 1
    assert err.endswith(
        "CheckFailed: affine_forward: your parse_seven raised ValueError: invalid literal for "
        f"int() with base 10: 'seven' (line {line} of test_checks_display.py)\n"
    )
    assert err.startswith("Traceback of your code (most recent call last):\n")
    assert f'test_checks_display.py", line {line}, in parse_seven' in err
    assert 'return int("seven")' in err
    assert "course/checks" not in err and "core.py" not in err
    assert format_check_failure(value) == err


def test_install_check_display_outside_ipython_does_nothing(monkeypatch):
    import IPython

    monkeypatch.setattr(IPython, "get_ipython", lambda: None)
    assert install_check_display() is False


def test_install_check_display_registers_the_handler(monkeypatch):
    import IPython

    shell = FakeShell()
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    assert install_check_display() is True
    assert shell.custom == ((CheckFailed,), show_check_failure)


def test_install_check_display_is_exported_by_course_checks():
    assert exported is install_check_display


def test_importing_the_checks_has_no_side_effects_and_stays_in_the_core():
    """No IPython hook at import, no Jupyter machinery, no instructor tools or CLI."""
    code = (
        "import sys\n"
        "import course.checks\n"
        "loaded = set(sys.modules)\n"
        "heavy = {'IPython', 'nbformat', 'nbclient'} & loaded\n"
        "assert not heavy, heavy\n"
        "above = sorted(m for m in loaded if m.startswith(('course.classroom', "
        "'course.recipes', 'course.cli', 'course.demo')))\n"
        "assert not above, above\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_importing_the_checks_inside_ipython_installs_nothing(monkeypatch):
    """The hook is the setup cell's explicit call: importing course.checks leaves the shell be."""
    import importlib

    import IPython

    import course.checks

    shell = FakeShell()
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)
    importlib.reload(course.checks)
    assert shell.custom is None
