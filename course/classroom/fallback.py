"""Fallbacks to the reference that keep a half-finished exercise notebook runnable.

A demonstration cell that trains with the student's ``adam`` would crash
until ``adam`` is written, and every later cell that needs its result would
crash too. :func:`with_fallback` lets such a cell use the student's function
when it is written and the course's reference until then, saying so once;
:func:`with_fallback_pair` does the same for a forward and its backward.
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


def with_fallback_pair(
    forward: Callable, backward: Callable, ref_forward: Callable, ref_backward: Callable
) -> tuple[Callable, Callable]:
    """:func:`with_fallback` for a forward function and its backward, which share a cache.

    A student's cache need not look like the reference's, so the two must be
    swapped together: the wrapped forward tags its cache with whose forward
    made it and with the inputs. The wrapped backward uses the student's
    backward on the student's cache; on a reference cache, or while the
    student's backward is not written (then the reference forward is run again
    for a cache of its own), it uses the reference backward. The last value a
    forward returns must be its cache (``(out, cache)``, ``(h, c, cache)``).
    """
    noted: set[str] = set()

    def note(func: Callable) -> None:
        name = getattr(func, "__name__", "this function")
        if name not in noted:
            print(f"note: {name} is not written yet; this cell uses the course's reference")
            noted.add(name)

    def pair_forward(*inputs):
        try:
            *outputs, cache = forward(*inputs)
            return (*outputs, (True, inputs, cache))
        except NotImplementedError:
            note(forward)
            *outputs, cache = ref_forward(*inputs)
            return (*outputs, (False, inputs, cache))

    def pair_backward(*upstream_and_cache):
        *upstream, (yours, inputs, cache) = upstream_and_cache
        if yours:
            try:
                return backward(*upstream, cache)
            except NotImplementedError:
                note(backward)
                cache = ref_forward(*inputs)[-1]  # the reference's own cache
        return ref_backward(*upstream, cache)

    return pair_forward, pair_backward
