"""What a master notebook's cells must carry: a unique id each, and on check cells their points.

A check cell is a code cell whose metadata holds
``"course": {"check": true, "points": 3, "checks": ["affine_forward"]}``:
the release keeps that metadata, and grading reads it to know what each cell
is worth and which functions it checks. Cell ids let a released or submitted
cell always be matched with its master. Both are validated here, with
:class:`~course.classroom.markers.MarkerError` naming the file and the cell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from course.classroom.markers import MarkerError

if TYPE_CHECKING:
    from nbformat import NotebookNode


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
    return settings


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
