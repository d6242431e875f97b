"""The course's own implementations of a graded function, and how to recognise their code.

A graded function may not hand its work to the package's implementation of
the same exercise (see ``Worker.forbid``). The worker recognises that
implementation two ways while a graded call runs:

- by name and place: a function named like the exercise (or like one of
  its ``ALIASES``, where the reference has another name or is a method)
  whose code lives in the ``course`` package;
- by its code, wherever it was loaded from: :func:`code_signature` hashes a
  code object's bytecode, names and constants (nested code objects by their
  own signature; file names and line numbers left out), so a copy of the
  reference made with ``exec(inspect.getsource(...))``, renamed, or loaded
  from a copied file has the same signature as the original.

:func:`reference_signatures` computes, in the grader, the signatures of
every course implementation of the given exercises.
"""

from __future__ import annotations

import hashlib
import inspect
import marshal
import sys
import types
from collections.abc import Iterable

__all__ = ["ALIASES", "code_signature", "forbidden_names", "reference_signatures"]

# Exercises whose reference has another name, or is a model's method (by qualified name).
ALIASES: dict[str, tuple[str, ...]] = {
    "beam_search": ("beam_search_one_image",),
    "captioning_loss": ("CaptioningRNN.loss",),
    "sample_captions": ("CaptioningRNN.sample",),
}
_REFERENCE_MODULES = ("course.layers", "course.optim", "course.viz", "course.models")


def forbidden_names(exercises: Iterable[str]) -> list[str]:
    """The exercises' names and their references' other names (qualified for methods)."""
    names = set()
    for exercise in exercises:
        names.add(exercise)
        names.update(ALIASES.get(exercise, ()))
    return sorted(names)


def code_signature(code: types.CodeType) -> str:
    """A hash of what a code object computes, the same for every copy of its source."""
    consts = tuple(
        ("<code>", code_signature(c)) if isinstance(c, types.CodeType) else c
        for c in code.co_consts
    )
    try:
        data = marshal.dumps((code.co_code, code.co_names, consts))
    except ValueError:  # a constant marshal cannot write: fall back to its repr
        data = repr((code.co_code, code.co_names, consts)).encode()
    return hashlib.sha256(data).hexdigest()


def reference_signatures(exercises: Iterable[str]) -> dict[str, str]:
    """Signature -> qualified name of every implementation of ``exercises`` in the package."""
    for module in _REFERENCE_MODULES:
        __import__(module)
    wanted = set(forbidden_names(exercises))
    signatures = {}
    for name, module in list(sys.modules.items()):
        if not (name == "course" or name.startswith("course.")) or module is None:
            continue
        for value in list(vars(module).values()):
            for function in _functions(value, module.__name__):
                qualname = function.__qualname__
                if function.__name__ in wanted or qualname in wanted:
                    signatures[code_signature(function.__code__)] = qualname
    return dict(sorted(signatures.items()))


def _functions(value: object, module: str):
    """``value`` if it is a function of ``module``, or the methods of a class of ``module``."""
    if inspect.isfunction(value) and value.__module__ == module:
        yield value
    elif inspect.isclass(value) and value.__module__ == module:
        for member in vars(value).values():
            if inspect.isfunction(member):
                yield member
