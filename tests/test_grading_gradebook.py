"""Tests for course/grading/gradebook.py: the schema, files that are not gradebooks,
re-grading, the CSV export, student feedback, bad input, and parallel writers.

The parallel test starts 4 processes (spawn) that create and fill one gradebook at
once while this process keeps reading it: every submission it ever sees is complete.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import sqlite3
import traceback
from pathlib import Path

import pytest

from course.grading import gradebook as gradebook_module
from course.grading.gradebook import (
    APPLICATION_ID,
    SCHEMA_VERSION,
    CheckResult,
    Gradebook,
    GradebookError,
    StudentScore,
)

FC = "01_fully_connected"
CHECKS = ("affine_forward", "affine_backward", "relu_forward")
FIRST_GRADING = "2024-05-01T12:00:00Z"
REASON = "hidden case 3: x[0, 1] = 0.25, expected 0.5"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def passed(check: str, possible: float = 3) -> CheckResult:
    return CheckResult(check, possible, possible, "passed", f"OK {check}: rel error 1e-12")


def failed(check: str, possible: float = 3, points: float = 0) -> CheckResult:
    return CheckResult(
        check, points, possible, "failed", f"{check}: output out is wrong", reason=REASON
    )


def dump(path: Path) -> list[str]:
    with sqlite3.connect(path) as db:
        return list(db.iterdump())


def graded_at(path: Path, student: str) -> str:
    with sqlite3.connect(path) as db:
        query = "SELECT graded_at FROM submissions WHERE student = ?"
        return db.execute(query, (student,)).fetchone()[0]


@pytest.fixture
def book_path(tmp_path: Path, monkeypatch) -> Path:
    """A gradebook of three students graded at FIRST_GRADING: bob fully, alice without
    relu_forward, carol's notebook malformed."""
    monkeypatch.setattr(gradebook_module, "_utc_now", lambda: FIRST_GRADING)
    path = tmp_path / "grades" / "gradebook.sqlite"
    with Gradebook(path) as gradebook:
        gradebook.record(
            "bob", FC, sha("bob"), [passed(c) for c in CHECKS], path="/subs/bob.ipynb"
        )
        gradebook.record(
            "alice",
            FC,
            sha("alice"),
            [passed("affine_forward"), failed("affine_backward", points=1.5)],
        )
        gradebook.record("carol", FC, sha("carol"), [], error="bad JSON at line 3")
    return path


# -- the file ------------------------------------------------------------------------------


def test_a_new_gradebook_has_the_schema_and_reopens_with_its_rows(book_path: Path) -> None:
    with sqlite3.connect(book_path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    assert {"submissions", "results", "assignment_checks"} <= tables
    with Gradebook(book_path) as gradebook:
        assert gradebook.assignments() == [FC]
        assert gradebook.results("bob", FC) == [passed(c) for c in CHECKS]
        assert gradebook.results("alice", FC)[1].reason == REASON
        assert gradebook.results("nobody", FC) == []


def test_an_sqlite_file_of_another_program_is_refused_and_left_unchanged(tmp_path) -> None:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE photos (name TEXT)")
    before = path.read_bytes()
    with pytest.raises(GradebookError, match="not a gradebook") as error:
        Gradebook(path)
    assert str(path) in str(error.value) and "photos" in str(error.value)
    assert path.read_bytes() == before


@pytest.mark.parametrize("content", [b"student,total\nbob,3\n", b"\x00" * 200 + b"garbage"])
def test_a_file_that_is_not_a_database_is_refused_and_left_unchanged(
    tmp_path, content: bytes
) -> None:
    path = tmp_path / "grades.csv"
    path.write_bytes(content)
    with pytest.raises(GradebookError, match="not a gradebook") as error:
        Gradebook(path)
    assert str(path) in str(error.value)
    assert path.read_bytes() == content


def test_a_gradebook_of_a_newer_schema_or_a_directory_is_refused(book_path: Path) -> None:
    with sqlite3.connect(book_path) as db:
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(GradebookError, match=f"schema version {SCHEMA_VERSION + 1}"):
        Gradebook(book_path)
    with pytest.raises(GradebookError, match="is a directory") as error:
        Gradebook(book_path.parent)
    assert str(book_path.parent) in str(error.value)


# -- re-grading ---------------------------------------------------------------------------


def test_regrading_replaces_the_previous_submission_and_its_rows(book_path: Path) -> None:
    new_results = [failed("affine_forward"), passed("relu_forward")]
    with Gradebook(book_path) as gradebook:
        assert gradebook.record("bob", FC, sha("bob v2"), new_results) is True
        assert gradebook.results("bob", FC) == new_results
        assert gradebook.record("carol", FC, sha("carol v2"), [passed("affine_forward")])
        [carol] = [s for s in gradebook.scores(FC) if s.student == "carol"]
    assert carol == StudentScore("carol", "graded", {"affine_forward": 3}, 3, 3, None)
    with sqlite3.connect(book_path) as db:
        assert db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 3
        assert db.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 2 + 2 + 1
        row = db.execute("SELECT sha256, path FROM submissions WHERE student = 'bob'").fetchone()
    assert row == (sha("bob v2"), None)


def test_recording_the_same_results_again_changes_nothing(book_path: Path, monkeypatch) -> None:
    before = dump(book_path)
    monkeypatch.setattr(gradebook_module, "_utc_now", lambda: "2024-05-02T08:30:00Z")
    with Gradebook(book_path) as gradebook:
        results = [passed(c) for c in CHECKS]
        assert gradebook.record("bob", FC, sha("bob"), results, path="/subs/bob.ipynb") is False
        assert gradebook.record("carol", FC, sha("carol"), [], error="bad JSON at line 3") is False
    assert dump(book_path) == before
    with Gradebook(book_path) as gradebook:  # a new sha is a new grading
        assert gradebook.record("bob", FC, sha("bob v2"), results, path="/subs/bob.ipynb")
    assert graded_at(book_path, "bob") == "2024-05-02T08:30:00Z"
    assert graded_at(book_path, "carol") == FIRST_GRADING


# -- scores and CSV -----------------------------------------------------------------------


def test_scores_are_one_row_per_student_sorted(book_path: Path) -> None:
    with Gradebook(book_path) as gradebook:
        scores = gradebook.scores(FC)
        with pytest.raises(LookupError, match="'02_cnn'.*recorded: 01_fully_connected"):
            gradebook.scores("02_cnn")
    assert scores == [
        StudentScore(
            "alice", "graded", {"affine_forward": 3, "affine_backward": 1.5}, 4.5, 6, None
        ),
        StudentScore("bob", "graded", dict.fromkeys(CHECKS, 3), 9, 9, None),
        StudentScore("carol", "error", {}, 0, 0, "bad JSON at line 3"),
    ]


def test_the_csv_has_a_column_per_check_in_first_recorded_order(book_path: Path) -> None:
    with Gradebook(book_path) as gradebook:
        written = gradebook.export_csv(FC, book_path.parent / "fc.csv")
    assert written.read_text(encoding="utf-8") == (
        "student,affine_forward,affine_backward,relu_forward,total,status,error\n"
        "alice,3,1.5,,4.5,graded,\n"
        "bob,3,3,3,9,graded,\n"
        "carol,,,,0,error,bad JSON at line 3\n"
    )


def test_the_csv_follows_the_masters_order_and_replaces_the_file_atomically(
    book_path: Path,
) -> None:
    out = book_path.parent / "fc.csv"
    out.write_text("an older export\n")
    master = ["relu_forward", "affine_forward", "softmax_loss", "affine_backward"]
    with Gradebook(book_path) as gradebook:
        gradebook.export_csv(FC, out, checks=master)
    assert out.read_text(encoding="utf-8") == (
        "student,relu_forward,affine_forward,softmax_loss,affine_backward,total,status,error\n"
        "alice,,3,,1.5,4.5,graded,\n"
        "bob,3,3,,3,9,graded,\n"
        "carol,,,,,0,error,bad JSON at line 3\n"
    )
    assert not list(out.parent.glob(".fc.csv.*"))  # no temporary file left


# -- feedback -----------------------------------------------------------------------------


def test_markdown_feedback_shows_points_messages_and_total_but_no_reason(
    book_path: Path,
) -> None:
    with Gradebook(book_path) as gradebook:
        text = gradebook.feedback("alice", FC)
        carol = gradebook.feedback("carol", FC)
        with pytest.raises(LookupError, match="'dave'"):
            gradebook.feedback("dave", FC)
    assert text == (
        f"# Feedback: {FC}\n\n"
        "Student: alice  \n"
        f"Graded at: {FIRST_GRADING}  \n"
        f"Submission SHA-256: `{sha('alice')}`\n\n"
        "**Total: 4.5 / 6 points**\n\n"
        "## affine_forward: 3 / 3 points (passed)\n\n"
        "```text\nOK affine_forward: rel error 1e-12\n```\n\n"
        "## affine_backward: 1.5 / 3 points (failed)\n\n"
        "```text\naffine_backward: output out is wrong\n```\n"
    )
    assert "bad JSON at line 3" in carol and "**Total: 0 / 0 points**" in carol
    with Gradebook(book_path) as gradebook:
        bob = gradebook.feedback("bob", FC) + gradebook.feedback_html("bob", FC)
    assert REASON not in text and "hidden" not in text and "/subs/" not in bob


def test_html_feedback_is_escaped_self_contained_and_has_no_reason(tmp_path) -> None:
    message = "relu_forward: <script>alert('x')</script> & out[0] < 0\n```"
    results = [
        passed("affine_forward"),
        CheckResult("relu_forward", 0, 2, "not run", message, reason=REASON),
    ]
    with Gradebook(tmp_path / "book.sqlite") as gradebook:
        gradebook.record("<b>eve</b>", FC, sha("eve"), results, path="/secret/eve.ipynb")
        page = gradebook.feedback_html("<b>eve</b>", FC)
        markdown = gradebook.feedback("<b>eve</b>", FC)
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; out[0] &lt; 0" in page
    assert "<td>0 / 2</td><td>not run</td>" in page and "<td>3 / 3</td>" in page
    assert "<strong>Total: 3 / 5 points</strong>" in page and "&lt;b&gt;eve&lt;/b&gt;" in page
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n")
    for leak in (REASON, "/secret/", "http", "src=", "href=", "<link", "<b>"):
        assert leak not in page
    assert "````text\n" + message + "\n````" in markdown  # the fence outlasts the message's
    assert REASON not in markdown


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"points": -1}, "-1"),
        ({"points": 4}, "points 4 exceed the possible 3"),
        ({"points": float("nan")}, "nan"),
        ({"points": True}, "True"),
        ({"status": "ok"}, "unknown status 'ok'"),
        ({"check": ""}, "CheckResult.check"),
    ],
)
def test_a_bad_check_result_is_refused_naming_the_value(fields: dict, words: str) -> None:
    values = {"check": "affine_forward", "points": 1, "possible": 3, "status": "passed"}
    with pytest.raises(ValueError) as error:
        CheckResult(**{**values, **fields, "message": "m"})
    assert words in str(error.value)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("", FC, sha("x"), []), "student must be a non-empty string; got ''"),
        (("bob", "  ", sha("x"), []), "assignment must be a non-empty string; got '  '"),
        (("bob", FC, "abc", []), "got 'abc'"),
        (("bob", FC, sha("x"), [passed("a"), passed("a")]), "'a' appears twice"),
        (("bob", FC, sha("x"), [("a", 1)]), "('a', 1)"),
    ],
)
def test_a_bad_submission_is_refused_naming_the_value(tmp_path, args, words: str) -> None:
    with Gradebook(tmp_path / "book.sqlite") as gradebook:
        with pytest.raises(ValueError) as error:
            gradebook.record(*args)
        assert gradebook.assignments() == []  # nothing was written
    assert words in str(error.value)


# -- parallel writers -----------------------------------------------------------------------

WRITERS, STUDENTS_EACH = 4, 25
PARALLEL_CHECKS = [f"check_{k}" for k in range(6)]


def parallel_results(student: str, attempt: int) -> list[CheckResult]:
    return [
        CheckResult(check, (len(student) + k + attempt) % 3, 2, "passed", f"{student} {check}")
        for k, check in enumerate(PARALLEL_CHECKS)
    ]


def record_students(path: Path, writer: int, start, report) -> None:
    """One writer process: open (maybe create) the gradebook, grade 25 students twice."""
    try:
        start.wait()
        with Gradebook(path) as gradebook:
            for i in range(STUDENTS_EACH):
                student = f"w{writer}-s{i:02d}"
                for attempt in (0, 1):  # a first grading, then a re-grading
                    results = parallel_results(student, attempt)
                    gradebook.record(student, "parallel", sha(f"{student}{attempt}"), results)
        report.put((writer, None))
    except BaseException:
        report.put((writer, traceback.format_exc()))


def test_parallel_writers_never_lock_out_nor_leave_a_partial_submission(tmp_path) -> None:
    path = tmp_path / "parallel.sqlite"
    context = multiprocessing.get_context("spawn")
    start, report = context.Barrier(WRITERS + 1), context.Queue()
    writers = [
        context.Process(target=record_students, args=(path, w, start, report))
        for w in range(WRITERS)
    ]
    for process in writers:
        process.start()
    try:
        start.wait(timeout=60)
        with Gradebook(path) as reader:  # reads while they write: never half a submission
            while any(p.is_alive() for p in writers):
                for score in reader.scores("parallel") if reader.assignments() else []:
                    assert len(score.points) == len(PARALLEL_CHECKS), score
        errors = dict(report.get(timeout=60) for _ in writers)
    finally:
        for process in writers:
            process.join(timeout=60)
    assert errors == dict.fromkeys(range(WRITERS))
    assert [p.exitcode for p in writers] == [0] * WRITERS
    with Gradebook(path) as gradebook:
        scores = gradebook.scores("parallel")
        assert len(scores) == WRITERS * STUDENTS_EACH == 100
        for score in scores:
            assert gradebook.results(score.student, "parallel") == parallel_results(
                score.student, 1
            )
