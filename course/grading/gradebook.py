"""The gradebook: every graded submission and check result in one SQLite file.

``Gradebook("grades/gradebook.sqlite")`` opens the file, creating it when missing.
The grader :meth:`~Gradebook.record`\\ s one submission at a time; the instructor
reads :meth:`~Gradebook.scores`, writes the CSV with :meth:`~Gradebook.export_csv`,
and hands each student :meth:`~Gradebook.feedback` (Markdown) or
:meth:`~Gradebook.feedback_html`. Standard library only (sqlite3, csv, html).

Schema (version ``SCHEMA_VERSION`` in ``PRAGMA user_version``; the file is marked as a
gradebook by ``PRAGMA application_id = APPLICATION_ID``)::

    submissions        one row per (student, assignment): the latest grading
      id               INTEGER PRIMARY KEY
      student          TEXT, not empty              UNIQUE (student, assignment)
      assignment       TEXT, not empty              (the notebook name)
      path             TEXT or NULL                 the submitted file (instructor only)
      sha256           TEXT                         of the submitted file's bytes
      graded_at        TEXT                         UTC, ISO 8601: 2024-05-01T12:00:00Z
      status           'graded' | 'error'           'error': the notebook is malformed
      error            TEXT or NULL                 why, shown to the student

    results            one row per check of a submission
      submission_id    -> submissions.id            PRIMARY KEY (submission_id, check_name)
      position         INTEGER                      order within the submission
      check_name       TEXT                         as the master notebook names it
      points, possible REAL, 0 <= points <= possible
      status           one of CHECK_STATUSES
      message          TEXT                         shown to the student
      reason           TEXT or NULL                 for the instructor only

    assignment_checks  the order in which each assignment's checks were first recorded
      assignment, position, check_name              PRIMARY KEY (assignment, check_name)

So a result is unique per (student, assignment, check). A check may earn part of its
points (status 'partial': the best-model task scores by accuracy); a written answer is a
result named ``written: <question>`` with status 'to mark' (0 points) until a person's
mark makes it 'marked' (see :mod:`course.grading.answers`).

Parallel writers: the file is in WAL mode, every connection waits up to
``BUSY_TIMEOUT_S`` for a lock, and each :meth:`~Gradebook.record` writes its
submission in one ``BEGIN IMMEDIATE`` transaction, so processes grading different
submissions at once never see "database is locked" nor leave a partial submission.
Open one ``Gradebook`` per process (a connection is not shared across processes).

Re-grading a student's assignment replaces their submission and all its results.
Recording exactly what is already stored (same sha256, path, error and results)
writes nothing and keeps the first ``graded_at``, so a re-run of a whole batch leaves
the file unchanged; any difference is written with a new ``graded_at``.

Feedback shows only what is meant for the student: each check's points, status and
``message``, the total, the submission's ``error``, sha256 and time. The queries
behind it never read ``reason`` nor ``path``. Messages that do not leak hidden tests
are the grading engine's responsibility.
"""

from __future__ import annotations

import csv
import html
import math
import os
import re
import sqlite3
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from datetime import datetime, timezone
from pathlib import Path

SCHEMA_VERSION = 1
APPLICATION_ID = int.from_bytes(b"CRSG", "big")  # "course gradebook"
BUSY_TIMEOUT_S = 60.0

PASSED = "passed"
FAILED = "failed"
CHECK_STATUSES = (
    PASSED,
    FAILED,
    "not implemented",
    "not run",  # an earlier cell failed, or the total time limit was reached
    "timeout",
    "crashed",  # the worker died: os._exit, a segfault
    "out of memory",
    "missing",  # the submission has no such check cell or function (or file, or answer)
    "partial",  # a check that scores by degree earned some of its points (the best model)
    "to mark",  # a written answer, waiting for a person's mark (0 points until then)
    "marked",  # a written answer that a person marked (see course.grading.answers)
)
GRADED, ERROR = "graded", "error"

_SCHEMA = (
    """CREATE TABLE submissions (
        id INTEGER PRIMARY KEY,
        student TEXT NOT NULL CHECK (student <> ''),
        assignment TEXT NOT NULL CHECK (assignment <> ''),
        path TEXT,
        sha256 TEXT NOT NULL,
        graded_at TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('graded', 'error')),
        error TEXT,
        UNIQUE (student, assignment)
    )""",
    """CREATE TABLE results (
        submission_id INTEGER NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        check_name TEXT NOT NULL CHECK (check_name <> ''),
        points REAL NOT NULL CHECK (points >= 0 AND points <= possible),
        possible REAL NOT NULL,
        status TEXT NOT NULL,
        message TEXT NOT NULL,
        reason TEXT,
        PRIMARY KEY (submission_id, check_name)
    )""",
    """CREATE TABLE assignment_checks (
        assignment TEXT NOT NULL,
        position INTEGER NOT NULL,
        check_name TEXT NOT NULL,
        PRIMARY KEY (assignment, check_name)
    )""",
    f"PRAGMA application_id = {APPLICATION_ID}",
    f"PRAGMA user_version = {SCHEMA_VERSION}",
)


class GradebookError(Exception):
    """A file that cannot be used as a gradebook."""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check for one submission.

    - check: the check's name, as the master notebook names it
    - points: points earned, 0 <= points <= possible
    - possible: points the check is worth
    - status: one of CHECK_STATUSES
    - message: what the student is shown
    - reason: what only the instructor is shown (a traceback, the hidden case), or None
    """

    check: str
    points: float
    possible: float
    status: str
    message: str
    reason: str | None = None

    def __post_init__(self) -> None:
        _require_check_result(self)


@dataclass(frozen=True)
class StudentScore:
    """One student's scores on one assignment (a row of the CSV).

    - points: check name -> points earned; a check without a result is absent
    - total, possible: sums over the student's results
    - status: 'graded' or 'error'; error: why the notebook could not be graded
    """

    student: str
    status: str
    points: Mapping[str, float]
    total: float
    possible: float
    error: str | None


class Gradebook:
    """Submissions and check results of any number of assignments, in one SQLite file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise GradebookError(f"{self.path} is a directory; expected a gradebook file")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as exc:
            raise GradebookError(f"cannot open the gradebook {self.path}: {exc}") from exc
        try:
            self._open_schema_when_free()
        except sqlite3.OperationalError as exc:  # locked past the timeout, disk full, ...
            self._db.close()
            raise GradebookError(f"cannot open the gradebook {self.path}: {exc}") from exc
        except sqlite3.DatabaseError as exc:  # "file is not a database"
            self._db.close()
            raise GradebookError(
                f"{self.path} is not a gradebook ({exc}); give a new file name "
                "or a gradebook that `course grade` wrote"
            ) from exc
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def record(
        self,
        student: str,
        assignment: str,
        submission_sha256: str,
        results: Sequence[CheckResult],
        *,
        error: str | None = None,
        path: str | os.PathLike[str] | None = None,
    ) -> bool:
        """Store one graded submission, replacing the student's previous one.

        Inputs:
        - student, assignment: not empty
        - submission_sha256: 64 hex digits, the SHA-256 of the submitted file
        - results: one CheckResult per check, check names unique
        - error: why the notebook could not be graded (shown to the student), or None
        - path: the submitted file (shown to no student), or None

        Returns True when the gradebook changed, False when it held these results already.
        """
        _require_submission(student, assignment, submission_sha256, results, error)
        status = GRADED if error is None else ERROR
        path_text = None if path is None else os.fspath(path)
        with self._transaction("BEGIN IMMEDIATE"):
            stored = self._db.execute(
                "SELECT id, sha256, path, status, error FROM submissions "
                "WHERE student = ? AND assignment = ?",
                (student, assignment),
            ).fetchone()
            if stored is not None and (
                stored[1:] == (submission_sha256, path_text, status, error)
                and self.results(student, assignment) == list(results)
            ):
                return False
            row = (path_text, submission_sha256, _utc_now(), status, error)
            if stored is None:
                cursor = self._db.execute(
                    "INSERT INTO submissions (path, sha256, graded_at, status, error, "
                    "student, assignment) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (*row, student, assignment),
                )
                submission_id = cursor.lastrowid
            else:
                submission_id = stored[0]
                self._db.execute(
                    "UPDATE submissions SET path = ?, sha256 = ?, graded_at = ?, status = ?, "
                    "error = ? WHERE id = ?",
                    (*row, submission_id),
                )
                self._db.execute("DELETE FROM results WHERE submission_id = ?", (submission_id,))
            self._db.executemany(
                "INSERT INTO results (submission_id, position, check_name, points, possible, "
                "status, message, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(submission_id, i, *astuple(r)) for i, r in enumerate(results)],
            )
            self._remember_check_order(assignment, [r.check for r in results])
        return True

    def results(self, student: str, assignment: str) -> list[CheckResult]:
        """The stored results of a student's assignment, reasons included (for instructors).

        Returns [] when nothing is recorded.
        """
        rows = self._db.execute(
            "SELECT r.check_name, r.points, r.possible, r.status, r.message, r.reason "
            "FROM results r JOIN submissions s ON s.id = r.submission_id "
            "WHERE s.student = ? AND s.assignment = ? ORDER BY r.position",
            (student, assignment),
        )
        return [CheckResult(*row) for row in rows]

    def assignments(self) -> list[str]:
        """The assignments with at least one recorded submission, sorted."""
        rows = self._db.execute("SELECT DISTINCT assignment FROM submissions ORDER BY 1")
        return [name for (name,) in rows]

    def check_order(self, assignment: str, checks: Sequence[str] | None = None) -> list[str]:
        """The columns of an assignment: `checks` (the master's order) when given, else the
        order first recorded; recorded checks missing from `checks` follow, so none is lost.
        """
        recorded = [
            name
            for (name,) in self._db.execute(
                "SELECT check_name FROM assignment_checks WHERE assignment = ? ORDER BY position",
                (assignment,),
            )
        ]
        if checks is None:
            return recorded
        given = list(dict.fromkeys(checks))
        return given + [name for name in recorded if name not in given]

    def scores(self, assignment: str, checks: Sequence[str] | None = None) -> list[StudentScore]:
        """One StudentScore per student who submitted `assignment`, sorted by student."""
        with self._transaction("BEGIN"):  # one snapshot, even while others write
            self._require_assignment(assignment)
            submissions = self._db.execute(
                "SELECT id, student, status, error FROM submissions WHERE assignment = ?",
                (assignment,),
            ).fetchall()
            points: dict[int, dict[str, tuple[float, float]]] = {s[0]: {} for s in submissions}
            for submission_id, check, earned, possible in self._db.execute(
                "SELECT r.submission_id, r.check_name, r.points, r.possible FROM results r "
                "JOIN submissions s ON s.id = r.submission_id WHERE s.assignment = ?",
                (assignment,),
            ):
                points[submission_id][check] = (earned, possible)
        columns = self.check_order(assignment, checks)
        scores = []
        for submission_id, student, status, error in sorted(submissions, key=lambda s: s[1]):
            shown = {c: points[submission_id][c] for c in columns if c in points[submission_id]}
            scores.append(
                StudentScore(
                    student=student,
                    status=status,
                    points={c: earned for c, (earned, _) in shown.items()},
                    total=sum(earned for earned, _ in shown.values()),
                    possible=sum(possible for _, possible in shown.values()),
                    error=error,
                )
            )
        return scores

    def export_csv(
        self,
        assignment: str,
        path: str | os.PathLike[str],
        checks: Sequence[str] | None = None,
    ) -> Path:
        """Write the scores of `assignment` as CSV, atomically (a reader never sees half).

        Columns: student, one per check (points earned; empty when there is no result),
        total, status, error. Rows are sorted by student. Returns the path written.
        """
        scores = self.scores(assignment, checks)
        columns = self.check_order(assignment, checks)
        rows = [["student", *columns, "total", "status", "error"]]
        for score in scores:
            cells = [_format_points(score.points[c]) if c in score.points else "" for c in columns]
            rows.append(
                [score.student, *cells, _format_points(score.total), score.status, score.error]
            )
        return _write_csv_atomically(Path(path), rows)

    def feedback(self, student: str, assignment: str) -> str:
        """A student's feedback on one assignment, as Markdown."""
        submission, results = self._student_view(student, assignment)
        _, _, sha256, graded_at, _, error = submission
        total, possible = _totals(results)
        lines = [
            f"# Feedback: {assignment}",
            "",
            f"Student: {student}  ",
            f"Graded at: {graded_at}  ",
            f"Submission SHA-256: `{sha256}`",
            "",
            f"**Total: {_format_points(total)} / {_format_points(possible)} points**",
        ]
        if error is not None:
            lines += ["", "This notebook could not be graded:", "", *_fenced(error)]
        for check, earned, worth, status, message in results:
            heading = f"## {check}: {_format_points(earned)} / {_format_points(worth)} points"
            lines += ["", f"{heading} ({status})"]
            if message:
                lines += ["", *_fenced(message)]
        return "\n".join(lines) + "\n"

    def feedback_html(self, student: str, assignment: str) -> str:
        """A student's feedback on one assignment, as one self-contained HTML page."""
        submission, results = self._student_view(student, assignment)
        _, _, sha256, graded_at, _, error = submission
        total, possible = _totals(results)
        e = html.escape
        rows = [
            f'<tr class="{e(status.replace(" ", "-"))}"><td>{e(check)}</td>'
            f"<td>{_format_points(earned)} / {_format_points(worth)}</td><td>{e(status)}</td>"
            f"<td><pre>{e(message)}</pre></td></tr>"
            for check, earned, worth, status, message in results
        ]
        error_html = ""
        if error is not None:
            error_html = f"<p>This notebook could not be graded:</p>\n<pre>{e(error)}</pre>\n"
        return (
            "<!DOCTYPE html>\n"
            '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>Feedback: {e(assignment)} ({e(student)})</title>\n"
            f"<style>{_HTML_STYLE}</style>\n</head>\n<body>\n"
            f"<h1>Feedback: {e(assignment)}</h1>\n"
            f"<p>Student: {e(student)}<br>Graded at: {e(graded_at)}<br>"
            f"Submission SHA-256: <code>{e(sha256)}</code></p>\n"
            f'<p class="total"><strong>Total: {_format_points(total)} / '
            f"{_format_points(possible)} points</strong></p>\n"
            f"{error_html}"
            "<table>\n<thead><tr><th>Check</th><th>Points</th><th>Status</th>"
            "<th>Message</th></tr></thead>\n<tbody>\n"
            + "".join(row + "\n" for row in rows)
            + "</tbody>\n</table>\n</body>\n</html>\n"
        )

    # -- internals ------------------------------------------------------------------------

    def _open_schema_when_free(self) -> None:
        """:meth:`_open_schema`, retried while another process holds the file.

        Switching a new file to WAL needs it to itself, and SQLite answers
        "database is locked" at once, without waiting, when another process
        is opening it at the same moment: so retry until ``BUSY_TIMEOUT_S``.
        """
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                return self._open_schema()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                time.sleep(0.05)

    def _open_schema(self) -> None:
        """Create the schema in a new file, or check that an existing file is a gradebook."""
        if self._identity() == (0, 0, ()):  # empty: ours to create
            self._db.execute("PRAGMA journal_mode = WAL")
            with self._transaction("BEGIN IMMEDIATE"):
                if self._identity() == (0, 0, ()):  # another process may have won the race
                    for statement in _SCHEMA:
                        self._db.execute(statement)
        application_id, version, tables = self._identity()
        if application_id != APPLICATION_ID:
            found = ", ".join(tables) or "none"
            raise GradebookError(
                f"{self.path} is an SQLite database but not a gradebook (tables: {found}); "
                "give a new file name or a gradebook that `course grade` wrote"
            )
        if version != SCHEMA_VERSION:
            raise GradebookError(
                f"{self.path} is a gradebook of schema version {version}; this version of "
                f"course reads version {SCHEMA_VERSION}: upgrade course or use a new file"
            )
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA foreign_keys = ON")

    def _identity(self) -> tuple[int, int, tuple[str, ...]]:
        """(application_id, user_version, table names) of the open file."""
        (application_id,) = self._db.execute("PRAGMA application_id").fetchone()
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        tables = self._db.execute("SELECT name FROM sqlite_master ORDER BY name").fetchall()
        return application_id, version, tuple(name for (name,) in tables)

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[None]:
        self._db.execute(begin)
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _remember_check_order(self, assignment: str, checks: list[str]) -> None:
        known = set(self.check_order(assignment))
        (start,) = self._db.execute(
            "SELECT COALESCE(MAX(position) + 1, 0) FROM assignment_checks WHERE assignment = ?",
            (assignment,),
        ).fetchone()
        new = [name for name in checks if name not in known]
        self._db.executemany(
            "INSERT INTO assignment_checks (assignment, position, check_name) VALUES (?, ?, ?)",
            [(assignment, start + i, name) for i, name in enumerate(new)],
        )

    def _require_assignment(self, assignment: str) -> None:
        recorded = self.assignments()
        if assignment not in recorded:
            known = ", ".join(recorded) or "none yet"
            raise LookupError(
                f"no submission of assignment {assignment!r} in {self.path} (recorded: {known})"
            )

    def _student_view(
        self, student: str, assignment: str
    ) -> tuple[tuple, list[tuple[str, float, float, str, str]]]:
        """What a student may see: never `reason` nor `path`, which are not even read."""
        with self._transaction("BEGIN"):
            submission = self._db.execute(
                "SELECT id, student, sha256, graded_at, status, error FROM submissions "
                "WHERE student = ? AND assignment = ?",
                (student, assignment),
            ).fetchone()
            if submission is None:
                raise LookupError(
                    f"no submission of assignment {assignment!r} by student {student!r} "
                    f"in {self.path}"
                )
            results = self._db.execute(
                "SELECT check_name, points, possible, status, message FROM results "
                "WHERE submission_id = ?",
                (submission[0],),
            ).fetchall()
        order = {name: i for i, name in enumerate(self.check_order(assignment))}
        return submission, sorted(results, key=lambda r: order.get(r[0], len(order)))


_HTML_STYLE = (
    "body{font-family:sans-serif;margin:2em;max-width:60em}"
    "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.3em .6em;"
    "text-align:left;vertical-align:top}pre{margin:0;white-space:pre-wrap}"
    ".passed td:nth-child(2){color:#060}"
)


def _utc_now() -> str:
    """The time of a grading: UTC, ISO 8601, to the second (2024-05-01T12:00:00Z)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _totals(results: list[tuple[str, float, float, str, str]]) -> tuple[float, float]:
    return sum(r[1] for r in results), sum(r[2] for r in results)


def _format_points(points: float) -> str:
    """3.0 -> '3', 1.5 -> '1.5', 0.1 + 0.2 -> '0.3'."""
    points = round(points, 6)
    return str(int(points)) if points == int(points) else repr(points)


def _fenced(text: str) -> list[str]:
    """`text` as a Markdown code block whose fence no backtick run inside can close."""
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + "text", text, fence]


def _write_csv_atomically(path: Path, rows: list[list[object]]) -> Path:
    """Write `rows` to a temporary file beside `path`, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with open(fd, "w", encoding="utf-8", newline="") as file:
            csv.writer(file, lineterminator="\n").writerows(rows)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


# -- validation ---------------------------------------------------------------------------


def _require_text(what: str, value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string; got {value!r}")


def _require_check_result(result: CheckResult) -> None:
    _require_text("CheckResult.check", result.check)
    for what in ("points", "possible"):
        value = getattr(result, what)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{result.check}: {what} must be a number; got {value!r}")
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{result.check}: {what} must be finite and >= 0; got {value!r}")
    if result.points > result.possible:
        raise ValueError(
            f"{result.check}: points {result.points!r} exceed the possible {result.possible!r}"
        )
    if result.status not in CHECK_STATUSES:
        raise ValueError(
            f"{result.check}: unknown status {result.status!r}; expected one of "
            + ", ".join(repr(s) for s in CHECK_STATUSES)
        )
    if not isinstance(result.message, str):
        raise ValueError(f"{result.check}: message must be a string; got {result.message!r}")
    if result.reason is not None and not isinstance(result.reason, str):
        raise ValueError(f"{result.check}: reason must be a string or None; got {result.reason!r}")


def _require_submission(
    student: object,
    assignment: object,
    sha256: object,
    results: Sequence[CheckResult],
    error: object,
) -> None:
    _require_text("student", student)
    _require_text("assignment", assignment)
    if not (
        isinstance(sha256, str)
        and len(sha256) == 64
        and all(c in "0123456789abcdef" for c in sha256)
    ):
        raise ValueError(f"submission_sha256 must be 64 lowercase hex digits; got {sha256!r}")
    if error is not None:
        _require_text("error", error)
    seen = set()
    for result in results:
        if not isinstance(result, CheckResult):
            raise ValueError(f"results must hold CheckResult objects; got {result!r}")
        if result.check in seen:
            raise ValueError(f"check {result.check!r} appears twice in the results of {student}")
        seen.add(result.check)
