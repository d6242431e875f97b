"""Grade submissions from pytest: ``pytest --course-grade=MASTER SUBMISSION.ipynb ...``.

Each submission becomes one test item per master check cell, with node ids
like ``alice.ipynb::affine_forward``, so ``-x``, ``-k`` and ``--junitxml``
work as for any test. A submission is graded once, by
:func:`course.grading.engine.grade_submission`, when its first item runs; an
item passes when its check earned full points and otherwise fails with the
check's message, the points, the status and the reason for the instructor.
Each item records ``points``, ``possible`` and ``status`` as user properties,
which junit XML carries.

Without ``--course-grade`` the plugin only adds its options: it collects
nothing and imports nothing of the course, and nbval collects notebooks as
before. With it, ``.ipynb`` files are collected as submissions here and
nbval's collector is set aside for them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

__all__ = ["CheckItem", "CheckNotPassed", "SubmissionFile"]

_GRADE = "course_grade"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("course-grade", "Grading submissions against a master notebook")
    group.addoption(
        "--course-grade",
        dest=_GRADE,
        metavar="MASTER",
        default=None,
        help="grade the .ipynb arguments as submissions against the MASTER notebook",
    )
    group.addoption(
        "--course-cell-timeout",
        type=float,
        default=30.0,
        help="seconds one submission cell or checked call may run (default 30)",
    )
    group.addoption(
        "--course-total-timeout",
        type=float,
        default=600.0,
        help="seconds one submission's worker may run in all (default 600)",
    )
    group.addoption(
        "--course-memory-mb",
        type=int,
        default=2048,
        help="MiB of address space one submission's worker may use (default 2048)",
    )
    group.addoption(
        "--course-hidden-salt",
        default="",
        help="renews every hidden test input (seeded from the master and this text)",
    )


def _master(config: pytest.Config) -> Path | None:
    master = config.getoption(_GRADE)
    return None if master is None else Path(master).resolve()


@pytest.hookimpl(wrapper=True)
def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    """When grading, a notebook is a submission, collected here only (nbval's is dropped)."""
    collected = yield
    master = _master(parent.config)
    if master is None or file_path.suffix != ".ipynb":
        return collected
    if file_path.resolve() == master:
        return []
    return [SubmissionFile.from_parent(parent, path=file_path)]


class CheckNotPassed(Exception):
    """A check that earned less than its possible points (raised by CheckItem.runtest)."""


class SubmissionFile(pytest.File):
    """One submitted notebook: an item per master check cell, graded once, lazily."""

    def collect(self):
        from course.grading.engine import read_master

        master = read_master(_master(self.config))
        for index, cell in enumerate(master.check_cells):
            yield CheckItem.from_parent(self, name=cell.name.replace(", ", "+"), index=index)

    def grade(self):
        """The submission's SubmissionGrade, computed on the first call."""
        if not hasattr(self, "_grade"):
            from course.grading.engine import grade_submission

            option = self.config.getoption
            self._grade = grade_submission(
                _master(self.config),
                self.path,
                cell_timeout=option("course_cell_timeout"),
                total_timeout=option("course_total_timeout"),
                memory_mb=option("course_memory_mb"),
                hidden_salt=option("course_hidden_salt"),
            )
        return self._grade


class CheckItem(pytest.Item):
    """One check of one submission: passes when the check earned all its points."""

    def __init__(self, *, index: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.index = index

    def runtest(self) -> None:
        grade = self.parent.grade()
        result = grade.results[self.index]
        self.user_properties += [
            ("points", result.points),
            ("possible", result.possible),
            ("status", result.status),
        ]
        if result.points < result.possible:
            lines = [
                result.message,
                f"points: {result.points:g}/{result.possible:g} ({result.status})",
            ]
            if result.reason:
                lines.append(f"reason: {result.reason}")
            lines += [f"note: {note}" for note in grade.notes]
            raise CheckNotPassed("\n".join(lines))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, CheckNotPassed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self):
        # Not a suffix of the node id: pytest's verbose line would show its dots as '::'.
        return self.path, None, f"{self.path.name}: {self.name}"
