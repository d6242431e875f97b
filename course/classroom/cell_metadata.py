"""What a master notebook's cells must carry: a unique id each, and on check cells their points.

A check cell is a code cell whose metadata holds
``"course": {"check": true, "points": 3, "checks": ["affine_forward"]}``:
the release keeps that metadata, and grading reads it to know what each cell
is worth and which functions it checks. A check cell may also name an
``"artefact"`` (e.g. ``"best_model.npz"``): a file the student saves beside
the notebook, which the grader evaluates itself (see
:mod:`course.grading.engine`). A written-answer cell is a markdown cell
whose metadata holds ``"course": {"answer": true, "points": 4, "question":
"why-lstm-trains"}``; in the master its source is the model answer, which
the release replaces with a placeholder. Cell ids let a released or submitted
cell always be matched with its master. Both are validated here, with
:class:`~course.classroom.markers.MarkerError` naming the file and the cell.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from course.classroom.markers import MarkerError

if TYPE_CHECKING:
    from nbformat import NotebookNode

# What a released answer cell holds until the student writes over it.
ANSWER_PLACEHOLDER = (
    "**Your answer:** *(double-click to edit this cell and write your answer here)*"
)
QUESTION_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_ARTEFACT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def read_cell_settings(cell: NotebookNode, number: int, source: str) -> dict | None:
    """Return a check cell's ``course`` metadata, validated; None for other cells.

    A check cell is a code cell whose metadata holds
    ``"course": {"check": true, "points": <int>, "checks": [<function names>]}``.
    Raises :class:`MarkerError` naming ``source`` and the 1-based cell
    ``number`` when that metadata is incomplete or of the wrong type.
    """
    settings = cell.get("metadata", {}).get("course")
    if not isinstance(settings, dict) or not settings.get("check"):
        return None
    where = f"{source}: cell {number}"
    if "answer" in settings:
        raise MarkerError(
            f"{where} is marked both as a check cell (course.check) and as an answer cell "
            "(course.answer); a cell is one or the other: remove one of the two keys"
        )
    if cell.get("cell_type") != "code":
        raise MarkerError(
            f"{where} is a {cell.get('cell_type')} cell marked as a check cell "
            "(metadata course.check); only code cells can be check cells"
        )
    if settings.get("check") is not True:
        raise MarkerError(
            f"{where}: course.check must be true or false, got {settings['check']!r}"
        )
    points = settings.get("points")
    if points is None:
        raise MarkerError(
            f'{where} is a check cell without points; add "points": <int> to its course metadata'
        )
    if isinstance(points, bool) or not isinstance(points, int) or points < 0:
        raise MarkerError(
            f"{where} is a check cell whose points must be a whole number >= 0, "
            f"got {points!r} ({type(points).__name__})"
        )
    checks = settings.get("checks")
    if (
        not isinstance(checks, list)
        or not checks
        or not all(isinstance(name, str) and name for name in checks)
    ):
        raise MarkerError(
            f"{where} is a check cell whose checks must be a non-empty list of the names of "
            f'the functions it checks (e.g. ["affine_forward"]), got {checks!r}'
        )
    artefact = settings.get("artefact")
    if artefact is not None and (
        not isinstance(artefact, str) or not _ARTEFACT_NAME.fullmatch(artefact)
    ):
        raise MarkerError(
            f"{where} is a check cell whose artefact must be a plain file name such as "
            f'"best_model.npz" (letters, digits, _ . -; no folder), got {artefact!r}'
        )
    return settings


def read_answer_settings(cell: NotebookNode, number: int, source: str) -> dict | None:
    """Return a written-answer cell's ``course`` metadata, validated; None for other cells.

    An answer cell is a markdown cell whose metadata holds
    ``"course": {"answer": true, "points": <int >= 1>, "question": "<short-kebab-id>"}``;
    in the master its source is the model answer. Raises :class:`MarkerError`
    naming ``source`` and the 1-based cell ``number`` when it is not markdown,
    is also a check cell, or its points or question id are malformed.
    """
    settings = cell.get("metadata", {}).get("course")
    if not isinstance(settings, dict) or "answer" not in settings:
        return None
    where = f"{source}: cell {number}"
    if settings["answer"] is not True:
        if settings["answer"] is False:
            return None
        raise MarkerError(
            f"{where}: course.answer must be true or false, got {settings['answer']!r}"
        )
    if "check" in settings:
        raise MarkerError(
            f"{where} is marked both as an answer cell (course.answer) and as a check cell "
            "(course.check); a cell is one or the other: remove one of the two keys"
        )
    if cell.get("cell_type") != "markdown":
        raise MarkerError(
            f"{where} is a {cell.get('cell_type')} cell marked as an answer cell "
            "(metadata course.answer); answer cells must be markdown cells (the student writes "
            "prose there, which is never run)"
        )
    points = settings.get("points")
    if isinstance(points, bool) or not isinstance(points, int) or points < 1:
        raise MarkerError(
            f"{where} is an answer cell whose points must be a whole number >= 1, "
            f'got {points!r}; add "points": <int> to its course metadata'
        )
    question = settings.get("question")
    if not isinstance(question, str) or not QUESTION_ID.fullmatch(question):
        raise MarkerError(
            f"{where} is an answer cell whose question must be a short kebab-case id "
            f'such as "why-lstm-trains" (lowercase letters, digits, hyphens), got {question!r}'
        )
    return settings


def validate_answer_cells(cells: list, source: str) -> dict[str, int]:
    """Validate every answer cell; raise MarkerError when two share a question id.

    Returns question id -> the 1-based number of its answer cell.
    """
    seen: dict[str, int] = {}
    for number, cell in enumerate(cells, start=1):
        settings = read_answer_settings(cell, number, source)
        if settings is None:
            continue
        question = settings["question"]
        if question in seen:
            raise MarkerError(
                f"{source}: cell {number} is an answer cell for question {question!r}, like "
                f"cell {seen[question]}; question ids must be unique in a notebook"
            )
        seen[question] = number
    return seen


def validate_cell_ids(cells: list, source: str) -> None:
    """Raise MarkerError unless every cell has an id and no two cells share one.

    ``cells`` may be nbformat cells or the plain dicts of a notebook's JSON.
    """
    seen: dict[str, int] = {}
    for number, cell in enumerate(cells, start=1):
        cell_id = cell.get("id") if isinstance(cell, dict) else None
        if not isinstance(cell_id, str) or not cell_id:
            raise MarkerError(
                f"{source}: cell {number} has no id; master cells need stable ids "
                "(nbformat 4.5 or later): save the notebook with a current Jupyter, which adds "
                "them, or set nb.nbformat_minor = 5 and give each cell an id"
            )
        if cell_id in seen:
            raise MarkerError(
                f"{source}: cell {number} has the same id {cell_id!r} as cell {seen[cell_id]}; "
                "cell ids must be unique (a copied cell keeps its id): give one a new id"
            )
        seen[cell_id] = number
