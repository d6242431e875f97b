"""Helpers for exercise notebooks: keep a half-finished notebook runnable.

A demonstration cell that trains with the student's ``adam`` would crash
until ``adam`` is written, and every later cell that needs its result would
crash too. :func:`with_fallback` lets such a cell use the student's function
when it is written and the course's reference until then, saying so once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable


def with_fallback(student: Callable, reference: Callable) -> Callable:
    """Call ``student``; while it raises NotImplementedError, call ``reference`` instead.

    The first fallback prints one line naming the function, so the student
    knows the figure they see is not yet made with their code. Any other
    error in the student's function propagates, as it should.
    """
    name = getattr(student, "__name__", "this function")
    announced = False

    @functools.wraps(student)
    def call(*args, **kwargs):
        nonlocal announced
        try:
            return student(*args, **kwargs)
        except NotImplementedError:
            if not announced:
                print(f"note: {name} is not written yet; this cell uses the course's reference")
                announced = True
            return reference(*args, **kwargs)

    return call
