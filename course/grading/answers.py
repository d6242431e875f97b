"""Written answers: taken from the submissions as text, exported for a person to mark.

A master's written-answer cell is a markdown cell with metadata
``"course": {"answer": true, "points": 4, "question": "why-lstm-trains"}``
(see :mod:`course.classroom.cell_metadata`); its source is the model answer,
and the markdown cell just before it is the question. The release gives the
student a placeholder there (``ANSWER_PLACEHOLDER``).

Grading matches each answer cell of a submission by cell id, or, when that
id is gone (a student who retyped the cell), by the ``question`` in a cell's
metadata. The text is data: it is never run, rendered or interpreted, and it
is cut to ``MAX_ANSWER_CHARS`` characters. An empty answer, or the
untouched placeholder, is "(no answer)". Each answer becomes a gradebook
result named ``written: <question>`` worth the cell's points, with status
'to mark' and 0 points ('missing' when there is no answer).

The batch (:func:`~course.grading.batch.grade_batch`) writes, in its ``OUT``
folder:

- ``answers.md``: per question, the question, the model answer (for the
  marker) and every student's answer, each in a fenced block;
- ``answers.csv``: student, notebook, question, points, answer (an answer that
  starts with ``=``, ``+``, ``-`` or ``@`` gets a leading ``'``, so that a
  spreadsheet shows it as text instead of running it as a formula);
- ``marks.csv``, only when it does not exist yet: student, question,
  points, mark, comment, one row per answer, ``mark`` empty. The marker fills
  in ``mark`` (a number from 0 to ``points``) and, if they like, ``comment``
  (shown to the student), then runs the same ``course grade`` command again:
  every filled-in mark becomes that result's points, status 'marked'. Rows
  left empty stay 'to mark'; the file is never overwritten.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from course.classroom.cell_metadata import ANSWER_PLACEHOLDER
from course.classroom.notebook_io import source_text
from course.grading.gradebook import (
    CheckResult,
    _fenced,
    _format_points,
    _write_csv_atomically,
)

__all__ = [
    "AnswerCell",
    "WrittenAnswer",
    "answer_results",
    "apply_marks",
    "read_marks",
    "write_answer_exports",
    "written_answers",
]

MAX_ANSWER_CHARS = 5000  # an answer is a few sentences; anything longer is cut in the export
NO_ANSWER = "(no answer)"
RESULT_PREFIX = "written: "
TO_MARK, MARKED = "to mark", "marked"
MARKS_COLUMNS = ("student", "question", "points", "mark", "comment")


@dataclass(frozen=True)
class AnswerCell:
    """A master's written-answer cell: id, question id, points, question text, model answer."""

    cell_id: str
    question: str
    points: int
    prompt: str
    model_answer: str

    @property
    def result_name(self) -> str:
        return f"{RESULT_PREFIX}{self.question}"


@dataclass(frozen=True)
class WrittenAnswer:
    """A student's answer to one question: the text (cut), or None when unanswered."""

    question: str
    points: int
    text: str | None


def written_answers(
    answer_cells: Sequence[AnswerCell], cells: Sequence[object], by_id: Mapping[str, dict]
) -> list[WrittenAnswer]:
    """The submission's answer to each of ``answer_cells``, matched by id, else by question.

    ``cells`` are the submission's raw JSON cells and ``by_id`` the first cell
    of each id; nothing in a cell is run or trusted beyond its text.
    """
    by_question: dict[str, dict] = {}
    for cell in cells:
        meta = cell.get("metadata") if isinstance(cell, dict) else None
        course = meta.get("course") if isinstance(meta, dict) else None
        question = course.get("question") if isinstance(course, dict) else None
        if isinstance(question, str):
            by_question.setdefault(question, cell)
    answers = []
    for master in answer_cells:
        cell = by_id.get(master.cell_id) or by_question.get(master.question)
        text = _answer_text(cell) if isinstance(cell, dict) else None
        answers.append(WrittenAnswer(master.question, master.points, text))
    return answers


def answer_results(
    answer_cells: Sequence[AnswerCell], answers: Sequence[WrittenAnswer] | None
) -> list[CheckResult]:
    """One gradebook result per answer cell: 0 points, 'to mark' (or 'missing' / 'not run')."""
    results = []
    for i, master in enumerate(answer_cells):
        name = master.result_name
        if answers is None:  # the notebook could not be read
            results.append(
                CheckResult(
                    name, 0, master.points, "not run", f"{name}: the notebook could not be read"
                )
            )
        elif answers[i].text is None:
            results.append(CheckResult(name, 0, master.points, "missing", f"{name}: no answer"))
        else:
            results.append(
                CheckResult(name, 0, master.points, TO_MARK, f"{name}: to be marked by a person")
            )
    return results


def _answer_text(cell: dict) -> str | None:
    """The cell's text, cut to MAX_ANSWER_CHARS; None when empty or still the placeholder."""
    text = source_text(cell).strip()
    if not text or text == ANSWER_PLACEHOLDER:
        return None
    if len(text) > MAX_ANSWER_CHARS:
        cut = len(text) - MAX_ANSWER_CHARS
        text = f"{text[:MAX_ANSWER_CHARS]}\n[... {cut} more characters cut by the grader]"
    return text


# ---------------------------------------------------------------------------
# The exports for the marker
# ---------------------------------------------------------------------------


def write_answer_exports(
    out: Path,
    notebook: str,
    answer_cells: Sequence[AnswerCell],
    answers: Mapping[str, Sequence[WrittenAnswer] | None],
) -> list[Path]:
    """Write ``answers.md``, ``answers.csv`` and (when absent) ``marks.csv`` in ``out``.

    ``answers`` maps each student to their WrittenAnswers (None when the
    notebook could not be read). Returns the paths written; nothing when the
    master has no answer cells.
    """
    if not answer_cells:
        return []
    out.mkdir(parents=True, exist_ok=True)
    students = sorted(answers)
    text_of = {
        (student, master.question): _text_or_none(answers[student], i)
        for student in students
        for i, master in enumerate(answer_cells)
    }
    lines = [f"# Written answers: {notebook}", ""]
    lines += [f"{len(students)} submission(s); mark them in marks.csv (see its columns).", ""]
    for master in answer_cells:
        lines += [f"## {master.question} ({master.points} points)", "", "**Question:**", ""]
        lines += [master.prompt.strip() or "(no question text before the answer cell)", ""]
        lines += ["**Model answer:**", "", master.model_answer.strip(), ""]
        for student in students:
            text = text_of[student, master.question]
            lines += [f"### {student}", "", *_fenced(text or NO_ANSWER), ""]
    written = [out / "answers.md"]
    (out / "answers.md").write_text("\n".join(lines), encoding="utf-8")
    rows = [("student", "notebook", "question", "points", "answer")]
    rows += [
        (
            student,
            notebook,
            master.question,
            master.points,
            _inert(text_of[student, master.question] or NO_ANSWER),
        )
        for master in answer_cells
        for student in students
    ]
    written.append(_write_csv_atomically(out / "answers.csv", rows))
    marks = out / "marks.csv"
    if not marks.exists():
        template = [MARKS_COLUMNS] + [
            (student, master.question, master.points, "", "")
            for master in answer_cells
            for student in students
        ]
        written.append(_write_csv_atomically(marks, template))
    return written


def _inert(text: str) -> str:
    """``text`` as a spreadsheet shows it, never as a formula: a leading = + - @ gets a '."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _text_or_none(answers: Sequence[WrittenAnswer] | None, i: int) -> str | None:
    return None if answers is None else answers[i].text


# ---------------------------------------------------------------------------
# Marks entered by a person
# ---------------------------------------------------------------------------


def read_marks(
    path: Path, answer_cells: Sequence[AnswerCell]
) -> dict[tuple[str, str], tuple[float, str]]:
    """Read ``marks.csv``: (student, question) -> (mark, comment), for rows with a mark.

    Raises ValueError naming the file and line for a missing column, an
    unknown question, or a mark that is not a number from 0 to the
    question's points. Returns {} when the file does not exist.
    """
    path = Path(path)
    if not path.exists():
        return {}
    points = {master.question: master.points for master in answer_cells}
    with path.open(encoding="utf-8", newline="") as file:
        reader = csv.DictReader(file)
        missing = [
            c for c in ("student", "question", "mark") if c not in (reader.fieldnames or [])
        ]
        if missing:
            raise ValueError(
                f"{path}: has no column {', '.join(missing)}; its header must be "
                f"{','.join(MARKS_COLUMNS)} (delete it to get a fresh template)"
            )
        marks = {}
        for line, row in enumerate(reader, start=2):
            mark_text = (row.get("mark") or "").strip()
            if not mark_text:
                continue
            student, question = (row.get("student") or "").strip(), (row.get("question") or "")
            question = question.strip()
            if question not in points:
                raise ValueError(
                    f"{path}: line {line}: unknown question {question!r}; the master's questions "
                    f"are {', '.join(points) or 'none'}"
                )
            try:
                mark = float(mark_text)
            except ValueError:
                mark = math.nan
            if not 0 <= mark <= points[question]:
                raise ValueError(
                    f"{path}: line {line}: mark {mark_text!r} for {student}, {question} must be a "
                    f"number from 0 to {points[question]}"
                )
            marks[student, question] = (mark, (row.get("comment") or "").strip())
    return marks


def apply_marks(
    student: str,
    results: Sequence[CheckResult],
    marks: Mapping[tuple[str, str], tuple[float, str]],
) -> list[CheckResult]:
    """``results`` with each written answer that has a mark given those points, 'marked'."""
    applied = []
    for result in results:
        question = result.check.removeprefix(RESULT_PREFIX)
        if result.check.startswith(RESULT_PREFIX) and (student, question) in marks:
            mark, comment = marks[student, question]
            message = (
                f"{result.check}: marked {_format_points(mark)} / "
                f"{_format_points(result.possible)}"
            )
            result = replace(
                result,
                points=mark,
                status=MARKED,
                message=f"{message}; {comment}" if comment else message,
            )
        applied.append(result)
    return applied
