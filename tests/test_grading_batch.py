"""Tests of course.grading.batch: a batch graded in threads and on a local Dask cluster."""

from __future__ import annotations

import csv
import shutil
import sqlite3
from dataclasses import astuple
from pathlib import Path

import pytest

from course.cli import main
from course.grading import batch
from course.grading.batch import grade_batch
from course.grading.engine import grade_submission, read_master

ROOT = Path(__file__).resolve().parents[1]
MASTER = ROOT / "solutions" / "01_fully_connected.ipynb"
RELEASED = ROOT / "assignments" / "01_fully_connected.ipynb"
LIMITS = {"cell_timeout": 30, "total_timeout": 300, "memory_mb": 2048}
# The written answers' points: recorded as possible, 'to mark' with 0 points until marked.
WRITTEN = sum(cell.points for cell in read_master(MASTER).answer_cells)


@pytest.fixture(scope="module")
def submissions(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """alice hands in the master, bob the released stubs, carol a file that is not JSON."""
    folder = tmp_path_factory.mktemp("submissions")
    shutil.copy(MASTER, folder / "alice.ipynb")
    shutil.copy(RELEASED, folder / "bob.ipynb")
    (folder / "carol.ipynb").write_text('{"cells": [', encoding="utf-8")
    return [folder / "alice.ipynb", folder / "bob.ipynb", folder / "carol.ipynb"]


@pytest.fixture(scope="module")
def local_batch(submissions, tmp_path_factory):
    out = tmp_path_factory.mktemp("grades")
    report = grade_batch(MASTER, submissions, out, workers=2, progress=False, **LIMITS)
    print(f"local batch: {report.seconds:.1f} s")
    return report, out


def gradebook_rows(path: Path) -> tuple[list[tuple], list[tuple]]:
    """Submissions (without graded_at) and results of a gradebook, in a fixed order."""
    with sqlite3.connect(path) as db:
        submissions = db.execute(
            "SELECT student, assignment, path, sha256, status, error FROM submissions ORDER BY 1"
        ).fetchall()
        results = db.execute(
            "SELECT s.student, r.position, r.check_name, r.points, r.possible, r.status, "
            "r.message, r.reason FROM results r JOIN submissions s ON s.id = r.submission_id "
            "ORDER BY 1, 2"
        ).fetchall()
    return submissions, results


def test_local_batch_scores_each_student(local_batch):
    report, _ = local_batch
    by_student = {s.student: s for s in report.students}
    assert list(by_student) == ["alice", "bob", "carol"]
    alice, bob, carol = by_student["alice"], by_student["bob"], by_student["carol"]
    assert alice.possible > 0 and alice.points == alice.possible - WRITTEN
    assert alice.error is None
    assert bob.points == 0 and bob.possible == alice.possible and bob.error is None
    assert carol.points == 0 and "not a notebook" in carol.error


def test_parallel_grades_keep_each_checks_own_message(local_batch, submissions):
    """Concurrent grades must not swap each other's captured output (redirect_stdout is global)."""
    report, _ = local_batch
    alone = grade_submission(MASTER, submissions[0], **LIMITS)
    _, stored = gradebook_rows(report.gradebook)
    in_batch = [row[2:] for row in stored if row[0] == "alice"]
    assert in_batch == [astuple(result) for result in alone.all_results]
    assert all(result.message.startswith("OK") for result in alone.results)


def test_csv_has_one_row_per_student(local_batch):
    report, out = local_batch
    assert report.csv == out / "grades.csv"
    rows = list(csv.DictReader(report.csv.read_text(encoding="utf-8").splitlines()))
    assert [row["student"] for row in rows] == ["alice", "bob", "carol"]
    assert [row["status"] for row in rows] == ["graded", "graded", "error"]
    assert float(rows[0]["total"]) == report.students[0].possible - WRITTEN
    assert float(rows[1]["total"]) == 0 and "not a notebook" in rows[2]["error"]


def test_feedback_files_hold_no_instructor_reason(local_batch):
    report, out = local_batch
    expected = {out / "feedback" / f"{s}{suffix}" for s in ("alice", "bob", "carol")
                for suffix in (".md", ".html")}  # fmt: skip
    assert set(report.feedback) == expected and all(path.exists() for path in expected)
    submitted, results = gradebook_rows(report.gradebook)
    shown = {row[-1] for row in submitted}  # a submission's error is meant for the student
    reasons = {row[-1] for row in results if row[-1] and row[-1] not in shown | {row[-2]}}
    text = "".join(path.read_text(encoding="utf-8") for path in expected)
    assert not [reason for reason in reasons if reason in text]


def test_cli_regrades_idempotently_and_prints_the_table(local_batch, submissions, capsys):
    report, out = local_batch
    before = sqlite3.connect(report.gradebook).execute("SELECT * FROM submissions").fetchall()
    argv = ["grade", "--master", str(MASTER), *map(str, submissions), "--out", str(out)]
    argv += ["--workers", "2", "--total-timeout", "300"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    for student in ("alice", "bob", "carol"):
        assert student in printed
    assert str(out / "grades.csv") in printed
    after = sqlite3.connect(report.gradebook).execute("SELECT * FROM submissions").fetchall()
    assert after == before  # same rows, same graded_at: nothing rewritten


def test_two_submissions_with_one_stem_are_an_error(tmp_path, submissions):
    other = tmp_path / "elsewhere" / "alice.ipynb"
    other.parent.mkdir()
    shutil.copy(MASTER, other)
    with pytest.raises(ValueError, match="alice.ipynb.*alice.ipynb.*'alice'"):
        grade_batch(MASTER, [submissions[0], other], tmp_path / "out", progress=False)


def test_dask_cluster_gives_the_local_gradebook(local_batch, submissions, tmp_path):
    hint = "distributed is not installed: pip install 'nn-practitioner[grading]'"
    distributed = pytest.importorskip("distributed", reason=hint)
    report, _ = local_batch
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        remote = grade_batch(
            MASTER,
            submissions,
            tmp_path,
            scheduler=cluster.scheduler_address,
            progress=False,
            **LIMITS,
        )
    print(f"dask batch: {remote.seconds:.1f} s")
    assert gradebook_rows(remote.gradebook) == gradebook_rows(report.gradebook)


def test_an_unreachable_scheduler_is_a_clear_error(submissions, tmp_path, monkeypatch):
    pytest.importorskip("distributed", reason="distributed is not installed")
    monkeypatch.setattr(batch, "SCHEDULER_TIMEOUT_S", 2)
    with pytest.raises(ConnectionError, match="cannot reach the Dask scheduler at tcp://127"):
        grade_batch(MASTER, submissions[:1], tmp_path, scheduler="tcp://127.0.0.1:1", workers=1)
