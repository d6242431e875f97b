"""How a failed check looks in a notebook: one line, not a traceback into ``course``.

Importing ``course.checks`` changes nothing in the process; a notebook's
setup cell asks for the display explicitly::

    from course.checks import install_check_display
    install_check_display()

IPython is imported only when :func:`install_check_display` is called, so the
checks run, and import, without it.
"""

from __future__ import annotations

import sys
import traceback
from typing import Any

from course.checks.core import CheckFailed, student_traceback


def install_check_display() -> bool:
    """Show failed checks as one line in IPython; return whether it was installed.

    Inside IPython (a notebook, a console) a :class:`CheckFailed` raised by a
    check is then shown as ``CheckFailed: affine_forward: dx is wrong: ...``
    instead of a traceback through ``course``; when the check failed because
    the student's own function raised, the frames of the student's code come
    first (:func:`format_check_failure`). Outside IPython it does nothing.
    It replaces any other custom exception handler of the shell.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.set_custom_exc((CheckFailed,), show_check_failure)
    return True


def show_check_failure(
    shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: int | None = None
) -> None:
    """IPython custom-exception handler for :class:`CheckFailed` (see install_check_display).

    Prints :func:`format_check_failure` to stderr (shown on a red background
    in Jupyter): the student's own frames when their code raised, then the
    one-line message; never the frames of the check inside ``course``.
    """
    print(format_check_failure(value), file=sys.stderr, end="")
    return None


def format_check_failure(failure: BaseException) -> str:
    """What a notebook shows of a failed check: the student's frames, then one line.

    When the failure was caused by an exception in the student's code
    (``raise CheckFailed(...) from error``), the cause's traceback cut to the
    frames outside ``course`` (:func:`course.checks.core.student_traceback`)
    comes first; the message already names the exception, so it ends with
    ``CheckFailed: <message>`` alone.
    """
    cause = failure.__cause__
    frames = student_traceback(cause.__traceback__) if cause is not None else None
    lines = []
    if frames is not None:
        lines.append("Traceback of your code (most recent call last):\n")
        lines.extend(traceback.format_tb(frames))
    lines.append(f"{type(failure).__name__}: {failure}\n")
    return "".join(lines)
