"""Grade a batch of submissions, here in processes or on a Dask cluster, into one gradebook.

:func:`grade_batch` grades every submission against one master with
:func:`~course.grading.engine.grade_submission`, records each result in
``OUT/gradebook.sqlite`` as it completes (the grader's process is the only
writer), then writes ``OUT/grades.csv`` and ``OUT/feedback/<student>.md``
and ``.html``.

- The student id is the submission file's stem (``alice.ipynb`` -> ``alice``),
  or, for a notebook that keeps the master's file name, its folder's name
  (``alice/02_convolutional_networks.ipynb`` -> ``alice``); two submissions
  with the same id are an error naming both files.
- A saved file a check cell names (``"artefact": "best_model.npz"``) is
  handed in beside the notebook: ``alice.best_model.npz`` beside
  ``alice.ipynb``, or ``alice/best_model.npz`` in a student's folder (see
  :mod:`course.grading.artefact_checks`).
- Written answers (see :mod:`course.grading.answers`) are exported to
  ``OUT/answers.md`` and ``OUT/answers.csv`` for a person to mark; the marks
  go into ``OUT/marks.csv`` (a template is written when it is missing), which
  the next run of the same batch reads: each filled-in mark becomes that
  answer's points (status 'marked') in the gradebook, the CSV and the feedback.
- The assignment is the master file's stem (``01_fully_connected``).
- Locally (the default) a pool of ``workers`` processes grades, one
  submission per task, so a slow submission holds only its own process.
- With ``scheduler='tcp://HOST:PORT'`` the same tasks go to a running Dask
  distributed cluster. Its workers must have this package installed and see
  the master and submissions at the same absolute paths (a shared filesystem).

Why processes and not threads: :func:`grade_submission` captures what each
check prints with ``contextlib.redirect_stdout`` (it swaps the process-wide
``sys.stdout``) and sets the process-wide ``course.checks.set_time_limit``,
whose SIGALRM limit works only in a main thread. Two grades in threads of one
process would mix up each other's check messages (a re-run would then differ)
and run without that limit. A Dask worker runs tasks in threads, so there
grades take turns within one worker process (a lock): start workers with
``dask worker --nthreads 1 --nworkers N``; the worker's ``cell_timeout``
bounds every call of a student's function there.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from course.grading.answers import apply_marks, read_marks, write_answer_exports
from course.grading.engine import SubmissionGrade, grade_submission, read_master
from course.grading.gradebook import Gradebook

__all__ = ["BatchReport", "StudentReport", "grade_batch"]

SCHEDULER_TIMEOUT_S = 30  # s to wait for a Dask scheduler before giving up
INSTALL_HINT = "pip install 'nn-practitioner[grading]'"
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()  # for a file that could not be read
_ONE_GRADE_AT_A_TIME = threading.Lock()  # per process: stdout capture and time limit are global


@dataclass(frozen=True)
class StudentReport:
    """One student's line of the batch: points, possible, error (None when graded), seconds.

    points and possible count every result recorded: checks and written answers.
    """

    student: str
    points: float
    possible: float
    error: str | None
    seconds: float


@dataclass(frozen=True)
class BatchReport:
    """What a batch graded and wrote.

    - assignment: the master's stem; students: one StudentReport each, sorted by student
    - seconds: wall time of the whole batch
    - gradebook, csv: the files written; feedback: the Markdown and HTML files written
    - answers: the written answers' exports (answers.md, answers.csv, a new marks.csv);
      empty when the master has no answer cells
    """

    assignment: str
    students: list[StudentReport]
    seconds: float
    gradebook: Path
    csv: Path
    feedback: list[Path]
    answers: list[Path] = field(default_factory=list)


def grade_batch(
    master: str | Path,
    submissions: Sequence[str | Path],
    out: str | Path,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    cell_timeout: float = 30,
    total_timeout: float = 600,
    memory_mb: int = 2048,
    hidden_salt: str = "",
    progress: bool = True,
) -> BatchReport:
    """Grade ``submissions`` against ``master``; write the gradebook, CSV and feedback in ``out``.

    ``workers`` processes grade at once here, or with ``scheduler`` a Dask cluster does.
    Raises ValueError for two submissions with the same student id, ``workers`` < 1,
    or an ``OUT/marks.csv`` with a bad row (before anything is graded),
    ModuleNotFoundError when ``scheduler`` is given without ``distributed`` installed,
    and ConnectionError when the scheduler cannot be reached.
    """
    started = time.monotonic()
    master = Path(master).resolve()
    students = _students(submissions, master)
    if workers < 1:
        raise ValueError(f"grade_batch: workers must be >= 1; got {workers}")
    read = read_master(master)  # a broken master raises
    checks = [cell.name for cell in read.check_cells]
    checks += [cell.result_name for cell in read.answer_cells]
    assignment = master.stem
    out = Path(out)
    marks = read_marks(out / "marks.csv", read.answer_cells)
    answers = {}
    limits = {
        "cell_timeout": cell_timeout,
        "total_timeout": total_timeout,
        "memory_mb": memory_mb,
        "hidden_salt": hidden_salt,
    }
    grade_all = _grade_on_dask if scheduler else _grade_in_processes
    option = scheduler if scheduler else workers
    reports = []
    with Gradebook(out / "gradebook.sqlite") as book:
        completed = grade_all(master, students, option, limits)
        for student, grade, seconds in _progress_bar(completed, len(students), progress):
            results = apply_marks(student, grade.all_results, marks)
            book.record(
                student,
                assignment,
                grade.sha256 or _EMPTY_SHA256,
                results,
                error=grade.error,
                path=students[student],
            )
            answers[student] = grade.answers
            points = sum(result.points for result in results)
            possible = sum(result.possible for result in results)
            reports.append(StudentReport(student, points, possible, grade.error, seconds))
        csv = book.export_csv(assignment, out / "grades.csv", checks)
        feedback = _write_feedback(book, assignment, sorted(students), out / "feedback")
    exports = write_answer_exports(out, master.name, read.answer_cells, answers)
    reports.sort(key=lambda report: report.student)
    return BatchReport(
        assignment,
        reports,
        time.monotonic() - started,
        out / "gradebook.sqlite",
        csv,
        feedback,
        exports,
    )


def _students(submissions: Sequence[str | Path], master: Path) -> dict[str, Path]:
    """Student id -> absolute path; ValueError naming both files of a clash.

    The id is the file's stem, or its folder's name when the file keeps the
    master's name (one folder per student).
    """
    students: dict[str, Path] = {}
    for submission in submissions:
        path = Path(submission).resolve()
        by_folder = path.name == master.name
        student = path.parent.name if by_folder else path.stem
        if student in students:
            how = "its folder's name" if by_folder else "the file's stem"
            raise ValueError(
                f"grade_batch: {students[student]} and {path} both give the student id "
                f"{student!r} ({how}); rename one of them"
            )
        students[student] = path
    return students


# ---------------------------------------------------------------------------
# Where the grading runs: processes here, or a Dask cluster
# ---------------------------------------------------------------------------

Completed = Iterator[tuple[str, SubmissionGrade, float]]  # (student, grade, seconds) as done


def _grade_timed(master: Path, submission: Path, limits: dict) -> tuple[SubmissionGrade, float]:
    """Grade one submission; return the grade and the seconds it took (one at a time here)."""
    with _ONE_GRADE_AT_A_TIME:
        started = time.monotonic()
        grade = grade_submission(master, submission, **limits)
        return grade, time.monotonic() - started


def _grade_in_processes(
    master: Path, students: dict[str, Path], workers: int, limits: dict
) -> Completed:
    """Grade in a pool of ``workers`` fresh processes; yield each grade as it completes."""
    spawn = multiprocessing.get_context("spawn")  # not fork: the grader may hold threads
    with ProcessPoolExecutor(max_workers=workers, mp_context=spawn) as pool:
        futures = {
            pool.submit(_grade_timed, master, path, limits): student
            for student, path in students.items()
        }
        for future in as_completed(futures):
            grade, seconds = future.result()
            yield futures[future], grade, seconds


def _grade_on_dask(
    master: Path, students: dict[str, Path], scheduler: str, limits: dict
) -> Completed:
    """Send one task per submission to the Dask ``scheduler``; yield each grade as it completes."""
    try:
        import distributed
    except ModuleNotFoundError as error:
        raise ModuleNotFoundError(
            f"grading on a Dask cluster (--scheduler) needs distributed: {INSTALL_HINT}"
        ) from error
    try:
        client = distributed.Client(scheduler, timeout=SCHEDULER_TIMEOUT_S)
    except (OSError, TimeoutError) as error:
        raise ConnectionError(
            f"cannot reach the Dask scheduler at {scheduler} within {SCHEDULER_TIMEOUT_S} s "
            f"({error}); start it with `dask scheduler` and its workers with "
            f"`dask worker --nthreads 1 {scheduler}`, or grade here without --scheduler"
        ) from error
    with client:
        names = list(students)
        futures = client.map(
            _grade_timed,
            [master] * len(names),
            [students[name] for name in names],
            [limits] * len(names),
            pure=False,
        )
        student_of = dict(zip(futures, names, strict=True))
        for future in distributed.as_completed(futures):
            grade, seconds = future.result()
            yield student_of[future], grade, seconds


def _progress_bar(completed: Completed, total: int, shown: bool) -> Completed:
    """``completed``, with a tqdm bar over the submissions when ``shown``."""
    if not shown:
        yield from completed
        return
    from tqdm.auto import tqdm

    with tqdm(total=total, desc="grading", unit="submission") as bar:
        for item in completed:
            bar.set_postfix_str(item[0])
            bar.update()
            yield item


# ---------------------------------------------------------------------------
# Feedback files
# ---------------------------------------------------------------------------


def _write_feedback(
    book: Gradebook, assignment: str, students: list[str], folder: Path
) -> list[Path]:
    """Write ``<student>.md`` and ``.html`` for each student; return the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    views: tuple[tuple[str, Callable[[str, str], str]], ...] = (
        (".md", book.feedback),
        (".html", book.feedback_html),
    )
    for student in students:
        for suffix, view in views:
            path = folder / f"{student}{suffix}"
            path.write_text(view(student, assignment), encoding="utf-8")
            written.append(path)
    return written
