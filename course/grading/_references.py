"""The course's own implementations of a graded function, and how to recognise their code.

A graded function may not hand its work to the package's implementation of
the same exercise (see ``Worker.forbid``). The recognition lives in
:mod:`course.references`, which the checks use too (in the student's kernel);
this module re-exports what the grader needs:

- :data:`ALIASES`: exercises whose reference has another name or is a method
  (add new ones in ``course/references.py``);
- :func:`forbidden_names`, :func:`code_signature`, :func:`reference_signatures`
  and :func:`reference_entered` (what a function entered during a graded call
  is, when it is the course's own implementation or a copy of it).
"""

from __future__ import annotations

from course.references import (
    ALIASES,
    code_signature,
    forbidden_names,
    reference_entered,
    reference_signatures,
)

__all__ = [
    "ALIASES",
    "code_signature",
    "forbidden_names",
    "reference_entered",
    "reference_signatures",
]
