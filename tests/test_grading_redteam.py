"""The red-team suite: one batch of every known trick, each with the exact grade it must get.

The batch (``tests/grading_redteam.py``: 29 submissions of notebook 01)
is graded once with ``course grade``'s engine in two processes; each test
reads one student's results. A trick earns nothing for the checks it
targets, and every honest exercise of the same submission keeps its points.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from grading_redteam import CELL_TIMEOUT, MASTER, POINTS, QUESTIONS, TRICKS, write_submission

from course.grading.answers import RESULT_PREFIX
from course.grading.batch import grade_batch
from course.grading.engine import grade_submission


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("redteam")
    out = tmp_path_factory.mktemp("grades")
    gradebook = out / "gradebook.sqlite"
    paths = [write_submission(name, folder, gradebook) for name in TRICKS]
    before = {path: path.read_bytes() for path in paths}
    report = grade_batch(
        MASTER,
        paths,
        out,
        workers=2,
        cell_timeout=CELL_TIMEOUT,
        total_timeout=120,
        memory_mb=1024,
        progress=False,
    )
    print(f"red-team batch of {len(paths)}: {report.seconds:.1f} s")
    assert all(path.read_bytes() == data for path, data in before.items()), "a file changed"
    with sqlite3.connect(gradebook) as db:
        rows = db.execute(
            "SELECT s.student, r.check_name, r.points, r.possible, r.status, r.message, "
            "r.reason FROM results r JOIN submissions s ON s.id = r.submission_id"
        ).fetchall()
        notes = dict(db.execute("SELECT student, COALESCE(error, '') FROM submissions"))
    results: dict[str, dict[str, tuple]] = {}
    for student, check, *rest in rows:
        results.setdefault(student, {})[check] = tuple(rest)
    return report, results, notes, out


def test_the_batch_completes_with_every_student(batch):
    report, results, _, out = batch
    assert sorted(s.student for s in report.students) == sorted(TRICKS)
    assert set(results) == set(TRICKS)
    assert not (out / "gradebook.sqlite.json").exists()  # the fake results file was refused
    csv_rows = (out / "grades.csv").read_text(encoding="utf-8").splitlines()
    assert len(csv_rows) == 1 + len(TRICKS)


@pytest.mark.parametrize("name", TRICKS)
def test_each_trick_gets_its_exact_grade(batch, name):
    report, results, _, _ = batch
    trick = TRICKS[name]
    theirs = {c: r for c, r in results[name].items() if not c.startswith(RESULT_PREFIX)}
    written = {c: r for c, r in results[name].items() if c.startswith(RESULT_PREFIX)}
    assert set(theirs) == set(POINTS)
    if not trick.error:  # the master's answers are carried over, to mark and worth 0 until marked
        assert {c.removeprefix(RESULT_PREFIX) for c in written} == set(QUESTIONS)
        assert {(r[0], r[2]) for r in written.values()} <= {(0, "to mark"), (0, "missing")}
    for check, possible in POINTS.items():
        points, recorded_possible, status, message, reason = theirs[check]
        assert recorded_possible == possible
        if check in trick.zero:
            assert (points, status) == (0, trick.zero[check]), (check, message, reason)
        else:
            assert (points, status) == (possible, "passed"), (check, message, reason)
    student = next(s for s in report.students if s.student == name)
    assert student.points == trick.expected_points()
    assert (student.error is not None) == trick.error


@pytest.mark.parametrize("name", [n for n, t in TRICKS.items() if t.note])
def test_the_instructor_is_told_what_happened(tmp_path, name):
    """The engine's notes name the edited, deleted or duplicated cells and the restarts."""
    path = write_submission(name, tmp_path, tmp_path / "gradebook.sqlite")
    grade = grade_submission(MASTER, path, cell_timeout=CELL_TIMEOUT, total_timeout=120)
    assert any(TRICKS[name].note in note for note in grade.notes), grade.notes


def test_a_function_right_only_on_the_visible_inputs_fails_its_hidden_cases(batch):
    _, results, _, _ = batch
    _, _, _, message, reason = results["right-only-on-the-visible-inputs"]["adam"]
    assert message.startswith("adam: hidden case 1 of 3: adam raised ValueError")
    assert reason == "its visible check passed"
    assert "(4, 5)" not in message and "4, 5" not in message  # the hidden shapes stay hidden


def test_the_fifty_megabytes_are_cut_and_the_feedback_stays_small(batch):
    _, _, _, out = batch
    feedback = Path(out / "feedback" / "fifty-megabytes-of-output.md")
    assert feedback.stat().st_size < 20_000
