"""How far a student has got: run a notebook headless and read its check cells.

``course progress assignments/01_fully_connected.ipynb`` runs the notebook
top to bottom in a fresh kernel (the file on disk is never changed), then
reports every check cell (a code cell whose metadata holds
``"course": {"check": true, "points": 3, "checks": ["affine_forward"]}``)::

    cell  exercise(s)     points  status           detail
       8  affine_forward   3 / 3  pass             relative errors out 2.1e-16 <= 1e-09
      14  relu_forward     0 / 2  not implemented  relu_forward: relu_forward is not ...
    Score: 3 / 5 points; 1 of 2 checks pass
    cell = the cell's number as JupyterLab counts: every cell from 1, markdown included
    details ending in '...' are cut; course progress --verbose shows them in full

A cell's number is its position in the notebook counting every cell from 1,
markdown cells included, as JupyterLab counts ("Cell 8/68" in its status
bar); it is not the ``In [n]`` execution count. Every cell number the
command prints, in the table or in a detail, is that number.

A check passes when it printed a line ``OK <name>: <measured errors>``; it
fails with the message of the :class:`~course.checks.core.CheckFailed` it
raised; a cell that runs longer than the timeout is interrupted (so an
infinite loop is reported, not waited for) and the rest of the notebook
still runs. A cell that does not stop when interrupted (it catches
KeyboardInterrupt) is the only timeout too: the kernel is restarted, the
cells above it run again, and the run goes on (see
:func:`~course.classroom.notebook_run.execute_notebook`).
Ctrl-C ends the run and shuts its kernel down (KeyboardInterrupt).

:func:`notebook_progress` runs the notebook (through
:func:`course.classroom.notebook_run.execute_notebook`, which owns the
kernel's life) and judges its check cells, :func:`format_progress` makes the
table; the command is in :mod:`course.cli`.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from course.classroom.cell_metadata import (
    ANSWER_PLACEHOLDER,
    read_answer_settings,
    read_cell_settings,
)
from course.classroom.notebook_io import read_notebook
from course.classroom.notebook_run import TIMEOUT_ENAME, execute_notebook

if TYPE_CHECKING:
    from collections.abc import Sequence

    from nbformat import NotebookNode

PASS = "pass"
FAIL = "fail"
NOT_IMPLEMENTED = "not implemented"
NOT_RUN = "not run"
TIMEOUT = "timeout"
ANSWERED = "answered"  # a written answer: marked by a person after submission
NOT_ANSWERED = "not answered"
STATUSES = (PASS, FAIL, NOT_IMPLEMENTED, NOT_RUN, TIMEOUT, ANSWERED, NOT_ANSWERED)

_NOT_IMPLEMENTED_TEXT = "is not implemented yet"
DETAIL_WIDTH = 64
EXERCISE_WIDTH = 40
VERBOSE_WIDTH = 88  # the full details are wrapped to this width
CELL_LEGEND = "cell = the cell's number as JupyterLab counts: every cell from 1, markdown included"
CUT_NOTE = "details ending in '...' are cut; course progress --verbose shows them in full"


@dataclass(frozen=True)
class ExerciseResult:
    """The outcome of one check cell.

    - cell_number: the cell's position in the notebook, counting every cell
      from 1, markdown included (as JupyterLab counts)
    - checks: the names of the functions the cell checks
    - points: the points the cell is worth
    - status: 'pass', 'fail', 'not implemented', 'not run' or 'timeout';
      for a written answer 'answered' or 'not answered'
    - detail: the measured errors of a pass, or what went wrong, in full
      (the table cuts it; the verbose listing wraps it)
    - written: True for a written-answer cell (its points are a person's to give)
    """

    cell_number: int
    checks: tuple[str, ...]
    points: int
    status: str
    detail: str
    written: bool = False

    @property
    def earned(self) -> int:
        """Points earned: all of them for a pass, none otherwise (nor for a written answer)."""
        return self.points if self.status == PASS else 0


def notebook_progress(path: Path, timeout: int = 600) -> list[ExerciseResult]:
    """Run a student's notebook headless and return the result of every check cell.

    Inputs:
    - path: the notebook; it is run in a fresh 'python3' kernel whose working
      folder is the notebook's folder, and the file itself is never written
    - timeout: seconds one cell may run before it is interrupted and
      reported as 'timeout'; the cells after it still run (after a kernel
      restart when the interrupt does not stop it: see :func:`execute_notebook`)

    Returns one :class:`ExerciseResult` per check cell and per written-answer
    cell ('answered' once the student wrote over the placeholder, else 'not
    answered'), in notebook order.
    Raises FileNotFoundError when ``path`` is missing and ValueError when it
    is not a notebook or a check cell's metadata is malformed.
    """
    path = Path(path)
    if timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout}")
    nb = read_notebook(path)
    check_cells = {
        index: settings
        for index, cell in enumerate(nb.cells)
        if (settings := read_cell_settings(cell, index + 1, str(path))) is not None
    }
    replies, stopped = execute_notebook(nb, path.parent, timeout)
    results = []
    for index, settings in check_cells.items():
        status, detail = _judge(nb.cells[index], replies.get(index), stopped, timeout)
        results.append(
            ExerciseResult(
                cell_number=index + 1,
                checks=tuple(settings["checks"]),
                points=settings["points"],
                status=status,
                detail=detail,
            )
        )
    results += _written_answers(nb, str(path))
    return sorted(results, key=lambda result: result.cell_number)


def _written_answers(nb: NotebookNode, source: str) -> list[ExerciseResult]:
    """An ExerciseResult per written-answer cell: answered or not (a person marks it later)."""
    results = []
    for index, cell in enumerate(nb.cells):
        settings = read_answer_settings(cell, index + 1, source)
        if settings is None:
            continue
        text = cell.get("source", "")
        text = ("".join(text) if isinstance(text, list) else text).strip()
        answered = bool(text) and text != ANSWER_PLACEHOLDER
        detail = (
            "marked by a person after you hand the notebook in"
            if answered
            else "double-click the cell and write your answer in place of the placeholder"
        )
        results.append(
            ExerciseResult(
                cell_number=index + 1,
                checks=(f"written: {settings['question']}",),
                points=settings["points"],
                status=ANSWERED if answered else NOT_ANSWERED,
                detail=detail,
                written=True,
            )
        )
    return results


def format_progress(results: Sequence[ExerciseResult], verbose: bool = False) -> str:
    """Return a fixed-width table of the results, a score line and a legend.

    Columns: cell (numbered as JupyterLab counts), exercise(s), points
    (earned / possible; ``- / P`` for a written answer), status and detail,
    cut to DETAIL_WIDTH characters ending in '...'; then ``Score: 7 / 12
    points; 3 of 5 checks pass`` (checks only), a line counting the written
    answers when there are any, and a legend of the cell numbers, and of the
    cut details when one was cut.
    With ``verbose`` every check's full detail follows, wrapped, not cut.
    """
    header = ("cell", "exercise(s)", "points", "status", "detail")
    rows = [
        (
            str(result.cell_number),
            _shorten(", ".join(result.checks), EXERCISE_WIDTH),
            f"- / {result.points}" if result.written else f"{result.earned} / {result.points}",
            result.status,
            _shorten(result.detail, DETAIL_WIDTH),
        )
        for result in results
    ]
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(5)]
    lines = []
    for row in [header, *rows]:
        cell, exercises, points, status, detail = row
        lines.append(
            f"{cell:>{widths[0]}}  {exercises:<{widths[1]}}  {points:>{widths[2]}}  "
            f"{status:<{widths[3]}}  {detail}".rstrip()
        )
    checks = [result for result in results if not result.written]
    written = [result for result in results if result.written]
    if not checks:
        lines.append("(no check cells: this notebook has no cells with course.check metadata)")
    earned = sum(result.earned for result in checks)
    possible = sum(result.points for result in checks)
    passed = sum(result.status == PASS for result in checks)
    lines.append(f"Score: {earned} / {possible} points; {passed} of {len(checks)} checks pass")
    if written:
        answered = sum(result.status == ANSWERED for result in written)
        worth = sum(result.points for result in written)
        lines.append(
            f"Written answers: {answered} of {len(written)} answered ({worth} points, "
            "marked by a person after you hand the notebook in)"
        )
    if results:
        lines.append(CELL_LEGEND)
    if verbose:
        lines.extend(_full_details(results))
    elif any(len(" ".join(result.detail.split())) > DETAIL_WIDTH for result in results):
        lines.append(CUT_NOTE)
    return "\n".join(lines)


def _full_details(results: Sequence[ExerciseResult]) -> list[str]:
    """Return every check's full detail under a heading line, wrapped to VERBOSE_WIDTH."""
    lines = []
    for result in results:
        lines.append("")
        lines.append(f"cell {result.cell_number}  {', '.join(result.checks)}: {result.status}")
        for paragraph in result.detail.splitlines() or [""]:
            lines.extend(
                textwrap.wrap(
                    paragraph,
                    VERBOSE_WIDTH,
                    initial_indent="    ",
                    subsequent_indent="    ",
                    break_long_words=False,
                    break_on_hyphens=False,
                )
                or [""]
            )
    return lines


def _judge(
    cell: NotebookNode, reply: dict | None, stopped: str | None, timeout: int
) -> tuple[str, str]:
    """Return (status, detail) for a check cell from its reply and its outputs."""
    if reply is None:
        if not cell.get("source", "").strip():
            return NOT_RUN, "the cell is empty; restore the check call from the released notebook"
        return NOT_RUN, stopped or "the cell did not run"
    if reply.get("ename") == TIMEOUT_ENAME:
        if reply.get("restarted"):
            return TIMEOUT, f"ran longer than {timeout} s, ignored the interrupt: kernel restarted"
        return TIMEOUT, (f"ran longer than {timeout} s and was interrupted (an endless loop?)")
    error = _error_of(cell, reply)
    if error is not None:
        ename, evalue = error
        message = evalue.strip()
        if _NOT_IMPLEMENTED_TEXT in evalue or ename == "NotImplementedError":
            return NOT_IMPLEMENTED, message or f"{ename}: not implemented yet"
        if ename in ("CheckFailed", "AssertionError") and message:
            return FAIL, message
        return FAIL, f"{ename}: {message}" if message else ename
    passes = [
        line[3:].partition(":")[2].strip() or line[3:].strip()
        for line in _stdout_lines(cell)
        if line.startswith("OK ")
    ]
    if passes:
        return PASS, "; ".join(passes)
    return FAIL, "the cell ran but printed no OK line; restore its check call"


def _error_of(cell: NotebookNode, reply: dict) -> tuple[str, str] | None:
    """Return (ename, evalue) of the cell's error, from the reply or else its outputs."""
    if reply.get("status") == "error":
        return str(reply.get("ename", "Error")), str(reply.get("evalue", ""))
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return str(output.get("ename", "Error")), str(output.get("evalue", ""))
    return None


def _stdout_lines(cell: NotebookNode) -> list[str]:
    """Return the lines the cell printed to stdout."""
    lines: list[str] = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            text = output.get("text", "")
            lines.extend(("".join(text) if isinstance(text, list) else text).splitlines())
    return lines


def _shorten(text: str, width: int) -> str:
    """Return ``text`` on one line, cut to ``width`` characters with '...' when longer."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."
