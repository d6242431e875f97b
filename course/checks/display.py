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
from typing import Any

from course.checks.core import CheckFailed


def install_check_display() -> bool:
    """Show failed checks as one line in IPython; return whether it was installed.

    Inside IPython (a notebook, a console) a :class:`CheckFailed` raised by a
    check is then shown as ``CheckFailed: affine_forward: dx is wrong: ...``
    instead of a traceback through ``course``; when the check failed because
    the student's own function raised, the full traceback is still shown,
    since it points into the student's code. Outside IPython it does
    nothing. It replaces any other custom exception handler of the shell.
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

    Prints ``CheckFailed: <message>`` to stderr (shown on a red background in
    Jupyter) when the check itself found the problem; when the failure was
    caused by an exception in the student's code (``raise ... from error``)
    it shows the standard traceback, which runs through the student's frames.
    """
    if value.__cause__ is not None:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
        return None
    print(f"{etype.__name__}: {value}", file=sys.stderr)
    return None
