"""The course's own implementation of an exercise, and how to recognise its code.

A student's function may not hand its work to the package's implementation of
the same exercise: ``def affine_forward(x, w, b): return
course.layers.affine_forward(x, w, b)`` would pass every check without being
the student's work. Two places watch for it while a student's function runs,
and both recognise the implementation here:

- the checks, in the student's kernel (``course.checks.core.call_student``);
- the grader's worker (``course.grading.worker.Worker.forbid``).

A function entered during the call is the course's implementation of an
exercise when

- its code lives in the ``course`` package and it is named like the exercise,
  or like one of its :data:`ALIASES` (where the reference has another name or
  is a method, given by qualified name); or
- its code is a copy of such a function, wherever it was loaded from:
  :func:`code_signature` hashes a code object's bytecode, names and constants
  (nested code objects by their own signature; file names, line numbers and
  local variable names left out), so a copy made with
  ``exec(inspect.getsource(...))``, renamed, or loaded from a copied file has
  the same signature as the original.

Other course functions stay allowed: they are the building blocks an exercise
is meant to use (a model's loss may call ``course.layers.affine_forward``).
This module imports only the standard library, so the checks and the
instructor tools can both use it.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import marshal
import os
import sys
import types
from collections.abc import Iterable

__all__ = [
    "ALIASES",
    "PACKAGE_ROOT",
    "code_signature",
    "forbidden_names",
    "reference_entered",
    "reference_signatures",
]

# Exercises whose reference has another name, or is a model's method (by qualified name).
ALIASES: dict[str, tuple[str, ...]] = {
    "beam_search": ("beam_search_one_image",),
    "captioning_loss": ("CaptioningRNN.loss",),
    "fully_connected_net_loss": ("FullyConnectedNet.loss",),
    "sample_captions": ("CaptioningRNN.sample",),
    "three_layer_conv_net_loss": ("ThreeLayerConvNet.loss",),
    # A two-layer net is a fully connected net of depth 2: either reference would do its work.
    "two_layer_net_loss": (
        "TwoLayerNet.loss",
        "fully_connected_net_loss",
        "FullyConnectedNet.loss",
    ),
}
# The modules that hold references; imported before their functions are looked up.
REFERENCE_MODULES = ("course.layers", "course.optim", "course.viz", "course.models")
PACKAGE_ROOT = os.path.dirname(os.path.abspath(__file__))  # .../course


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
    return dict(_signatures(tuple(sorted(set(exercises)))))


@functools.lru_cache(maxsize=128)
def _signatures(exercises: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """:func:`reference_signatures`, computed once per set of exercises."""
    for module in REFERENCE_MODULES:
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
    return tuple(sorted(signatures.items()))


def reference_entered(
    code: types.CodeType,
    names: frozenset[str],
    signatures: dict[str, str],
    known: dict[types.CodeType, str],
) -> str | None:
    """What ``code`` is, when it is the course's implementation of an exercise; else None.

    Inputs:
    - code: the code of a function entered while a student's function runs
    - names: the forbidden names (:func:`forbidden_names`)
    - signatures: :func:`reference_signatures` of the same exercises
    - known: code -> signature, a cache the caller keeps between calls

    Returns ``"the course's own affine_forward (course/layers/fc.py)"`` or
    ``"a copy of the course's own affine_forward"``.
    """
    filename = code.co_filename
    if filename.startswith(PACKAGE_ROOT):
        qualname = getattr(code, "co_qualname", code.co_name)
        if code.co_name in names or qualname in names:
            path = os.path.relpath(filename, PACKAGE_ROOT).replace(os.sep, "/")
            return f"the course's own {qualname} (course/{path})"
        return None
    signature = known.get(code)
    if signature is None:
        signature = known[code] = code_signature(code)
    if signature in signatures:
        return f"a copy of the course's own {signatures[signature]}"
    return None


def _functions(value: object, module: str):
    """``value`` if it is a function of ``module``, or the methods of a class of ``module``."""
    if inspect.isfunction(value) and value.__module__ == module:
        yield value
    elif inspect.isclass(value) and value.__module__ == module:
        for member in vars(value).values():
            if inspect.isfunction(member):
                yield member
