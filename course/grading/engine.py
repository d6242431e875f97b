"""Grade one submission against its master notebook: the master is the only authority.

:func:`grade_submission` reads the master's setup cells, exercise cells (code
cells holding a ``### BEGIN SOLUTION`` region) and check cells (metadata
``course.check``), all matched by cell id. A :class:`~course.grading.worker.Worker`
runs the master's setup sources and, for each master exercise cell, the
submission's code cell with the same id; nothing else of the submission runs,
and nothing in its metadata, tags or kernelspec is read (but for the
``question`` that finds a retyped answer cell: :mod:`course.grading.answers`).
Each master check cell then runs in the grader's own process, with the
student's functions as worker proxies, so a student who edits a check cell,
prints ``OK ...`` or patches ``course.checks`` in a cell gains nothing. A
check cell naming an ``artefact`` grades a file saved beside the submission
(:mod:`course.grading.artefact_checks`), and written-answer cells are taken
as text for a person to mark.

A cell that kills the worker (a timeout, a crash, the memory limit) costs
only the checks of the functions it defines: the worker is restarted once
without that cell, and every other check is graded as usual. A submission
that cannot be read becomes a :class:`SubmissionGrade` with ``error`` set and
every check 'not run'; grading never raises for a student's file.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import hashlib
import io
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import course.checks as checks_module
from course.checks import CheckFailed, set_time_limit
from course.classroom.cell_metadata import (
    read_answer_settings,
    read_cell_settings,
    validate_answer_cells,
)
from course.classroom.markers import BEGIN_SOLUTION
from course.classroom.notebook_io import read_notebook, source_text
from course.grading.answers import AnswerCell, WrittenAnswer, answer_results, written_answers
from course.grading.artefact_checks import ARTEFACT_GRADERS, artefact_path
from course.grading.gradebook import PASSED, CheckResult
from course.grading.hidden import HIDDEN_CASES, run_hidden_cases, seed_for
from course.grading.worker import CellResult, Worker, WorkerDied, strip_magics

__all__ = ["MasterNotebook", "SubmissionGrade", "grade_submission", "read_master"]

CHECK_TIME_MARGIN = 5.0  # s the checks' own alarm waits beyond the worker's cell timeout
MIN_RESTART_S = 5.0  # s of the total time limit a restarted worker needs to be worth starting
MAX_CHECK_RESTARTS = 3  # fresh workers after functions that hang or crash during checks
_CHECK_NAMESPACE = {name: getattr(checks_module, name) for name in checks_module.__all__}


@dataclass(frozen=True)
class CheckCell:
    """A master check cell: its id, source, points and the functions it checks."""

    cell_id: str
    source: str
    points: int
    checks: tuple[str, ...]
    artefact: str | None = None  # a file the student saved, graded here without the worker

    @property
    def name(self) -> str:
        return ", ".join(self.checks)


@dataclass(frozen=True)
class MasterNotebook:
    """What grading takes from the master: setup sources, exercise ids, check cells."""

    setup: tuple[str, ...]
    exercises: tuple[str, ...]  # ids of the exercise cells, in order
    defines: dict[str, frozenset[str]]  # exercise id -> names its master source defines
    check_cells: tuple[CheckCell, ...]
    sha256: str = ""  # of the master file: the hidden cases' seed derives from it
    answer_cells: tuple[AnswerCell, ...] = ()  # written questions, marked by a person


@dataclass
class SubmissionGrade:
    """The grade of one submission.

    - results: one CheckResult per master check cell, in the master's order
    - error: why the submission could not be read, or None
    - sha256: of the submitted file's bytes ('' when the file could not be read)
    - notes: for the instructor (edited check cells, duplicated ids, restarts)
    - answers: the student's written answers (text, cut), in the master's order;
      None when the submission could not be read
    - written: one CheckResult per written-answer cell, named ``written: <question>``,
      0 points, status 'to mark' ('missing' when unanswered), for the gradebook

    ``points`` and ``possible`` count the checks; ``all_results`` is what the
    gradebook records: the checks, then the written answers.
    """

    results: list[CheckResult]
    error: str | None
    sha256: str
    notes: list[str] = field(default_factory=list)
    answers: list[WrittenAnswer] | None = None
    written: list[CheckResult] = field(default_factory=list)

    @property
    def points(self) -> float:
        return sum(result.points for result in self.results)

    @property
    def possible(self) -> float:
        return sum(result.possible for result in self.results)

    @property
    def all_results(self) -> list[CheckResult]:
        return [*self.results, *self.written]


def read_master(master_path: str | Path) -> MasterNotebook:
    """Read the master's setup, exercise, check and answer cells (raises for a broken master)."""
    nb = read_notebook(Path(master_path))
    sha256 = hashlib.sha256(Path(master_path).read_bytes()).hexdigest()
    validate_answer_cells(nb.cells, str(master_path))
    setup, exercises, defines, check_cells, answer_cells = [], [], {}, [], []
    reads = {}  # exercise id -> the names its master source mentions
    for number, cell in enumerate(nb.cells, start=1):
        answer = read_answer_settings(cell, number, str(master_path))
        if answer is not None:
            before = nb.cells[number - 2] if number > 1 else None
            prompt = source_text(before) if before and before.cell_type == "markdown" else ""
            answer_cells.append(
                AnswerCell(
                    cell.id, answer["question"], answer["points"], prompt, source_text(cell)
                )
            )
        if cell.cell_type != "code":
            continue
        source = source_text(cell)
        course_meta = cell.get("metadata", {}).get("course")
        settings = read_cell_settings(cell, number, str(master_path))
        if settings is not None:
            artefact = settings.get("artefact")
            checks = settings["checks"]
            if artefact is not None and (len(checks) != 1 or checks[0] not in ARTEFACT_GRADERS):
                raise ValueError(
                    f"{master_path}: cell {number} names the artefact {artefact!r} but checks "
                    f"{settings['checks']}; an artefact check cell checks one of "
                    f"{', '.join(ARTEFACT_GRADERS)}"
                )
            check_cells.append(
                CheckCell(cell.id, source, settings["points"], tuple(settings["checks"]), artefact)
            )
        elif cell.get("id") == "setup" or (
            isinstance(course_meta, dict) and course_meta.get("setup") is True
        ):
            setup.append(source)
        elif any(line.strip() == BEGIN_SOLUTION for line in source.splitlines()):
            exercises.append(cell.id)
            defines[cell.id] = _defined_names(source)
            reads[cell.id] = _referenced_names(strip_magics(source))
    exercises = _exercises_checks_use(exercises, defines, reads, check_cells)
    defines = {cell_id: defines[cell_id] for cell_id in exercises}
    return MasterNotebook(
        tuple(setup), tuple(exercises), defines, tuple(check_cells), sha256, tuple(answer_cells)
    )


def _exercises_checks_use(
    exercises: list[str],
    defines: dict[str, frozenset[str]],
    reads: dict[str, set[str]],
    check_cells: list[CheckCell],
) -> list[str]:
    """The exercise cells whose names a check cell uses, directly or through other exercises.

    An exercise no check reads (notebook 02's best-model training, whose result
    is graded as a saved file) is never run when grading: it would only spend
    the worker's time.
    """
    wanted = set().union(*(_referenced_names(strip_magics(check.source)) for check in check_cells))
    kept: set[str] = set()
    while True:
        new = {c for c in exercises if c not in kept and defines[c] & wanted}
        if not new:
            return [c for c in exercises if c in kept]
        kept |= new
        wanted |= set().union(*(reads[c] for c in new))


def grade_submission(
    master_path: str | Path,
    submission_path: str | Path,
    *,
    cell_timeout: float = 30,
    total_timeout: float = 600,
    memory_mb: int = 2048,
    hidden_salt: str = "",
) -> SubmissionGrade:
    """Grade ``submission_path`` against ``master_path``; never raises for a bad submission.

    The worker runs the master's setup cells and the submission's exercise
    cells (matched by id); the master's check cells run here, calling the
    student's functions in the worker. A function whose visible check passes
    is then run on hidden cases (:mod:`course.grading.hidden`), seeded from
    the master's SHA-256 and ``hidden_salt``. A check cell naming an
    ``artefact`` grades the file the student saved beside the submission
    (:mod:`course.grading.artefact_checks`: ``alice.ipynb`` ->
    ``alice.best_model.npz``; ``alice/<master name>.ipynb`` ->
    ``alice/best_model.npz``) here, without the worker. Written answers are
    read as text (:mod:`course.grading.answers`), each a 'to mark' result in
    ``written``.
    Limits: ``cell_timeout`` s per cell or call, ``total_timeout`` s per
    worker, ``memory_mb`` MiB of address space.
    """
    master = read_master(master_path)
    name = Path(submission_path).name  # what the student sees: never the grader's paths
    try:
        data = Path(submission_path).read_bytes()
    except OSError as error:
        return _unreadable(master, f"{name}: cannot be read ({error.strerror})", "")
    sha256 = hashlib.sha256(data).hexdigest()
    try:
        cells = _submission_cells(data, name)
    except ValueError as error:
        return _unreadable(master, str(error), sha256)
    notes: list[str] = []
    by_id = _cells_by_id(cells, notes)
    _note_check_cells(master, by_id, notes)
    exercise_sources = {}
    for cell_id in master.exercises:
        cell = by_id.get(cell_id)
        if cell is None:
            notes.append(f"exercise cell {cell_id!r} is missing from the submission")
        elif cell.get("cell_type") != "code":
            notes.append(f"exercise cell {cell_id!r} is a {cell.get('cell_type')} cell: not run")
        else:
            exercise_sources[cell_id] = source_text(cell)
    answers = written_answers(master.answer_cells, cells, by_id)
    artefacts = {
        cell.artefact: artefact_path(Path(submission_path), Path(master_path), cell.artefact)
        for cell in master.check_cells
        if cell.artefact is not None
    }
    previous_limit = set_time_limit(cell_timeout + CHECK_TIME_MARGIN)
    try:
        limits = {"cell_timeout": cell_timeout, "memory_mb": memory_mb}
        seed = seed_for(master.sha256, hidden_salt)
        results = _run_and_check(
            master, exercise_sources, notes, limits, total_timeout, seed, artefacts
        )
    finally:
        set_time_limit(previous_limit)
    written = answer_results(master.answer_cells, answers)
    return SubmissionGrade(results, None, sha256, notes, answers, written)


# ---------------------------------------------------------------------------
# Running the student's cells and the master's checks
# ---------------------------------------------------------------------------


def _run_and_check(
    master: MasterNotebook,
    exercise_sources: dict[str, str],
    notes: list[str],
    limits: dict,
    total_timeout: float,
    seed: int,
    artefacts: dict[str, Path | None],
) -> list[CheckResult]:
    """Run the cells, then the checks; a worker that dies during a check is started again.

    A function that hangs or crashes when a check calls it costs that check
    only: the next check gets a fresh worker (the same cells run again), up
    to ``MAX_CHECK_RESTARTS`` times and while the total time limit allows.
    """
    deadline = time.monotonic() + total_timeout
    lost: dict[str, tuple[str, str]] = {}  # exercise id -> (status, reason) of the worker's death
    ids = [cell_id for cell_id in master.exercises if cell_id in exercise_sources]
    start = (master, exercise_sources, ids, lost, notes, limits, deadline)
    worker = _start_worker(*start)
    results, restarts = [], 0
    try:
        for cell in master.check_cells:
            if cell.artefact is not None:
                results.append(_grade_artefact(cell, artefacts[cell.artefact], seed))
                continue
            alive = worker.died is None
            results.append(_grade_check(cell, master, exercise_sources, lost, worker, seed))
            if alive and worker.died is not None:  # this check's call hung or crashed
                if restarts == MAX_CHECK_RESTARTS or deadline - time.monotonic() < MIN_RESTART_S:
                    continue  # the later checks report the death as their reason
                restarts += 1
                notes.append(f"worker restarted after the check of {cell.name}: {worker.died}")
                worker.close()
                worker = _start_worker(*start)  # ids and lost, updated in place
    finally:
        worker.close()
    return results


def _start_worker(
    master: MasterNotebook,
    exercise_sources: dict[str, str],
    ids: list[str],
    lost: dict[str, tuple[str, str]],
    notes: list[str],
    limits: dict,
    deadline: float,
) -> Worker:
    """A worker that has run the setup and exercise cells, restarted once without a killer cell.

    A cell that ends the worker (timeout, crash, memory) is removed from
    ``ids`` and recorded in ``lost``; the checks of what it defines score 0.
    """
    for attempt in range(2):
        budget = max(deadline - time.monotonic(), 0.1)
        sources = [*master.setup, *(exercise_sources[cell_id] for cell_id in ids)]
        worker = Worker(sources, total_timeout=budget, **limits)
        cell_results = worker.run_cells()
        killer = next((r for r in cell_results if _kills(r)), None)
        position = None if killer is None else killer.index - len(master.setup)
        can_restart = deadline - time.monotonic() > MIN_RESTART_S
        if position is None or position < 0 or attempt == 1 or not can_restart:
            return worker
        cell_id = ids.pop(position)
        status = "timeout" if killer.status == "timeout" else _death_status(killer.message)
        if killer.error_type == "MemoryError":
            status = "out of memory"
        lost[cell_id] = (status, f"exercise cell {cell_id!r}: {killer.message}")
        notes.append(f"worker restarted without exercise cell {cell_id!r}: {killer.message}")
        worker.close()
    return worker


def _grade_check(
    cell: CheckCell,
    master: MasterNotebook,
    exercise_sources: dict[str, str],
    lost: dict[str, tuple[str, str]],
    worker: Worker,
    seed: int,
) -> CheckResult:
    """Run one master check cell here, against the worker's functions, then the hidden cases."""
    names = _referenced_names(cell.source) - _CHECK_NAMESPACE.keys() - vars(builtins).keys()
    for cell_id, (status, reason) in lost.items():
        defined = master.defines[cell_id] | _defined_names(exercise_sources[cell_id])
        if names & defined:
            return _not_graded(cell, status, reason)
    if worker.died is not None:
        status = "timeout" if "timeout" in worker.died or "time limit" in worker.died else None
        return _not_graded(cell, status or _death_status(worker.died), worker.died)
    namespace = {"__builtins__": builtins, **_CHECK_NAMESPACE}
    namespace.update({name: worker.function(name) for name in names})
    worker.forbid(cell.checks)  # the checked functions may not call the course's own
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(cell.source, f"<check {cell.cell_id}>", "exec"), namespace)
    except CheckFailed as failure:
        died = _worker_died(failure)
        if died is not None:
            return _lost_to(cell, died)
        message = _one_line(str(failure))
        missing = _missing_reason(names, master, exercise_sources)
        status = "not implemented" if "not implemented" in message else "failed"
        return _zero(cell, "missing" if missing else status, message, missing)
    except WorkerDied as died:
        return _lost_to(cell, died)
    except Exception as error:  # a proxy error, an untransferable value: the check could not run
        message = f"{cell.name}: the check raised {type(error).__name__}: {_one_line(str(error))}"
        return _zero(cell, "crashed", message, message)
    lines = [line for line in printed.getvalue().splitlines() if line.strip()]
    ok = next((line for line in reversed(lines) if line.startswith("OK")), None)
    messages = [ok or (lines[-1] if lines else f"{cell.name}: passed")]
    for name in cell.checks:
        if name not in HIDDEN_CASES:
            continue
        functions = {need: worker.function(need) for need in HIDDEN_CASES[name].needs}
        try:
            hidden = run_hidden_cases(name, functions, seed)
        except WorkerDied as died:
            return _lost_to(cell, died)
        if not hidden.passed:
            return _zero(cell, "failed", hidden.message, "its visible check passed")
        messages.append(hidden.message)
    return CheckResult(cell.name, cell.points, cell.points, PASSED, "; ".join(messages))


def _grade_artefact(cell: CheckCell, path: Path | None, seed: int) -> CheckResult:
    """Grade the file a check cell names (no worker: the file is data, loaded safely)."""
    if path is None:
        message = (
            f"{cell.name}: no {cell.artefact} was submitted with the notebook "
            f"(the notebook saves it with save_model; hand it in beside the notebook)"
        )
        return _zero(cell, "missing", message, f"no {cell.artefact} beside the submission")
    return ARTEFACT_GRADERS[cell.checks[0]](cell.name, path, cell.points, seed)


def _missing_reason(
    names: set[str], master: MasterNotebook, exercise_sources: dict[str, str]
) -> str | None:
    """Name the exercise cells this check needs that the submission lacks (None when none)."""
    missing = [
        cell_id
        for cell_id in master.exercises
        if cell_id not in exercise_sources and names & master.defines[cell_id]
    ]
    return (
        f"exercise cell(s) missing from the submission: {', '.join(missing)}" if missing else None
    )


def _kills(result: CellResult) -> bool:
    """Whether a cell leaves the worker unfit to go on: it ended it, or ran out of memory.

    After a ``MemoryError`` the cell's data may still hold the memory (a list
    the student grew to the limit), and every later import or allocation
    would fail; so such a cell is dropped like one that crashed.
    """
    return result.status in ("timeout", "died") or result.error_type == "MemoryError"


def _worker_died(error: BaseException) -> WorkerDied | None:
    """The WorkerDied behind a CheckFailed (the checks wrap a proxy's exceptions), or None."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, WorkerDied):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def _death_status(reason: str) -> str:
    return "out of memory" if "memory" in reason else "crashed"


def _lost_to(cell: CheckCell, died: WorkerDied) -> CheckResult:
    """The check's 0 when the worker died under it (a timeout, a crash, the memory limit)."""
    status = "timeout" if died.timeout else _death_status(died.reason)
    return _not_graded(cell, status, died.reason)


def _not_graded(cell: CheckCell, status: str, reason: str) -> CheckResult:
    return _zero(cell, status, f"{cell.name}: not graded ({status})", reason)


def _zero(cell: CheckCell, status: str, message: str, reason: str | None) -> CheckResult:
    return CheckResult(cell.name, 0, cell.points, status, message, reason)


def _one_line(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------
# Reading the submission (raw JSON: nbformat would silently repair duplicate ids)
# ---------------------------------------------------------------------------


def _submission_cells(data: bytes, path: str | Path) -> list[dict]:
    """The submission's cells as plain JSON dicts; ValueError naming the file when malformed."""
    try:
        notebook = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ValueError(f"{path}: is not a notebook (not JSON: {error})") from None
    if not isinstance(notebook, dict):
        raise ValueError(f"{path}: is not a notebook (its JSON is not an object)")
    if notebook.get("nbformat") != 4:
        raise ValueError(
            f"{path}: is nbformat {notebook.get('nbformat')!r}; expected 4 (save it with Jupyter)"
        )
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        raise ValueError(f'{path}: is not a notebook (no "cells" list)')
    return cells


def _cells_by_id(cells: list, notes: list[str]) -> dict[str, dict]:
    """The first cell for each id; later duplicates are noted and ignored."""
    by_id: dict[str, dict] = {}
    for number, cell in enumerate(cells, start=1):
        cell_id = cell.get("id") if isinstance(cell, dict) else None
        if not isinstance(cell_id, str):
            continue
        if cell_id in by_id:
            notes.append(f"cell {number} repeats the id {cell_id!r}: the first one is used")
        else:
            by_id[cell_id] = cell
    return by_id


def _note_check_cells(master: MasterNotebook, by_id: dict[str, dict], notes: list[str]) -> None:
    """Note each check cell the student deleted, retyped or edited (the master's runs anyway)."""
    for cell in master.check_cells:
        theirs = by_id.get(cell.cell_id)
        if theirs is None:
            notes.append(f"check cell {cell.cell_id!r} deleted in the submission: ignored")
        elif theirs.get("cell_type") != "code":
            notes.append(
                f"check cell {cell.cell_id!r} turned into {theirs.get('cell_type')}: ignored"
            )
        elif source_text(theirs) != cell.source:
            notes.append(f"check cell {cell.cell_id!r} edited in the submission: ignored")


def _unreadable(master: MasterNotebook, error: str, sha256: str) -> SubmissionGrade:
    results = [
        _zero(cell, "not run", f"{cell.name}: not graded; the notebook could not be read", error)
        for cell in master.check_cells
    ]
    written = answer_results(master.answer_cells, None)
    return SubmissionGrade(results, error, sha256, written=written)


# ---------------------------------------------------------------------------
# Names in a cell's source
# ---------------------------------------------------------------------------


def _referenced_names(source: str) -> set[str]:
    """Every name a cell reads (``affine_forward`` in ``check_affine_forward(affine_forward)``)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _defined_names(source: str) -> frozenset[str]:
    """The names a cell defines at top level (functions, classes, assignments)."""
    try:
        tree = ast.parse(strip_magics(source))
    except SyntaxError:
        return frozenset()
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return frozenset(names)
