"""Tests of grading written answers and a saved best model (tests/small_master.py's master).

Grading here starts real workers, so each test grades few submissions; the
best model is the pretrained TinyVGG slightly changed (no training in tests).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest
from small_master import A1, A2, Q1, save_stand_in_as, small_master, write_notebook

from course.checks.best_model import evaluate_saved_model, hidden_test_set
from course.classroom.cell_metadata import ANSWER_PLACEHOLDER
from course.classroom.release import release_notebook
from course.grading import artefact_checks
from course.grading.answers import (
    MAX_ANSWER_CHARS,
    NO_ANSWER,
    WrittenAnswer,
    read_marks,
    write_answer_exports,
)
from course.grading.artefact_checks import artefact_path, grade_best_model
from course.grading.batch import grade_batch
from course.grading.engine import grade_submission, read_master
from course.grading.hidden import seed_for, stable_hash
from course.models import TwoLayerNet, load_pretrained, save_model

LIMITS = {"cell_timeout": 30, "total_timeout": 120, "memory_mb": 2048}
CHECKS = ["relu_forward", "best_model", "written: why-relu", "written: what-bias"]


@pytest.fixture(scope="module")
def master(tmp_path_factory) -> Path:
    return write_notebook(small_master(), tmp_path_factory.mktemp("master") / "master.ipynb")


def released():
    return release_notebook(small_master(), "master.ipynb")


def answered(nb, **answers):
    """``nb`` with the answer cells of the given question ids (underscores for hyphens) set."""
    for cell in nb.cells:
        question = cell.metadata.get("course", {}).get("question", "").replace("-", "_")
        if question in answers:
            cell.source = answers[question]
    return nb


def by_check(grade) -> dict:
    return {result.check: result for result in grade.all_results}


def test_the_master_reads_its_answer_cells_with_question_and_model_answer(master):
    read = read_master(master)
    assert [(a.question, a.points) for a in read.answer_cells] == [
        ("why-relu", 3),
        ("what-bias", 2),
    ]
    assert read.answer_cells[0].prompt == Q1 and read.answer_cells[0].model_answer == A1
    (best,) = [cell for cell in read.check_cells if cell.artefact]
    assert best.artefact == "best_model.npz" and best.points == 10


def test_a_full_submission_earns_the_checks_and_leaves_answers_to_mark(master, tmp_path):
    student = write_notebook(small_master(), tmp_path / "alice.ipynb")
    save_stand_in_as(tmp_path / "alice.best_model.npz")
    grade = grade_submission(master, student, **LIMITS)
    results = by_check(grade)
    assert list(results) == CHECKS
    assert results["relu_forward"].status == "passed"
    best = results["best_model"]
    assert best.status == "passed" and best.points == 10
    assert "hidden test accuracy" in best.message and str(tmp_path) not in best.message
    for name, points in (("written: why-relu", 3), ("written: what-bias", 2)):
        assert (results[name].points, results[name].possible) == (0, points)
        assert results[name].status == "to mark"
    assert [answer.text for answer in grade.answers] == [A1, A2]
    assert grade.possible == 2 + 10  # the checks; the written answers are in grade.written
    assert sum(result.possible for result in grade.all_results) == 2 + 10 + 3 + 2


def test_the_best_model_is_scored_on_the_hidden_set_from_the_masters_hash_and_salt(
    master, tmp_path
):
    path = save_stand_in_as(tmp_path / "best.npz")
    sha = hashlib.sha256(master.read_bytes()).hexdigest()
    for salt in ("", "2027-spring"):
        seed = seed_for(sha, salt)
        result = grade_best_model("best_model", path, 10, seed)
        images, labels = hidden_test_set(stable_hash(f"course-best-model\0{seed}"))
        accuracy, _ = evaluate_saved_model(path, images, labels)
        assert f"hidden test accuracy {accuracy:.1%}" in result.message


@pytest.mark.parametrize(
    "accuracy, points, status", [(0.95, 10, "passed"), (0.7, 5, "partial"), (0.3, 0, "failed")]
)
def test_the_best_model_earns_partial_points(tmp_path, monkeypatch, accuracy, points, status):
    monkeypatch.setattr(
        artefact_checks, "evaluate_saved_model", lambda path, images, labels: (accuracy, object())
    )
    result = grade_best_model("best_model", tmp_path / "any.npz", 10, seed=1)
    assert (result.points, result.possible, result.status) == (points, 10, status)


def forged_class(path: Path) -> None:
    """A TwoLayerNet's arrays whose record claims a TinyVGG."""
    save_model(TwoLayerNet(), path)
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    record = json.loads(arrays["model.json"].tobytes())
    record["class"] = "TinyVGG"
    record["config"] = load_pretrained().config()
    arrays["model.json"] = np.frombuffer(json.dumps(record).encode(), np.uint8)
    path.unlink()
    np.savez(path, **arrays)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: np.savez(p, W1=np.array([print], dtype=object)), "Python objects"),
        (lambda p: save_model(TwoLayerNet(num_classes=4), p), "scores 4 classes"),
        (forged_class, "has no array|has shape"),
        (lambda p: p.write_bytes(b"\x80\x04pickle"), "not an .npz"),
        (lambda p: save_model(load_pretrained(), p), "shipped pretrained"),
    ],
    ids=["pickle", "wrong-architecture", "claims-another-class", "raw-pickle", "pretrained"],
)
def test_a_bad_best_model_file_scores_zero_with_a_reason(tmp_path, make, message):
    path = tmp_path / "alice.best_model.npz"
    make(path)
    result = grade_best_model("best_model", path, 10, seed=3)
    assert (result.points, result.status) == (0, "failed")
    assert pytest.approx(result.possible) == 10
    assert re.search(message, result.message), result.message
    assert str(tmp_path) not in result.message  # the grader's paths stay private


def test_where_the_artefact_is_looked_for(tmp_path):
    master = tmp_path / "02_convolutional_networks.ipynb"
    flat = tmp_path / "subs" / "alice.ipynb"
    folder = tmp_path / "bob" / "02_convolutional_networks.ipynb"
    for path in (flat, folder):
        write_notebook(small_master(), path)
    assert artefact_path(flat, master, "best_model.npz") is None
    (tmp_path / "subs" / "best_model.npz").write_bytes(b"")  # someone else's, in a shared folder
    assert artefact_path(flat, master, "best_model.npz") is None
    (tmp_path / "subs" / "alice.best_model.npz").write_bytes(b"")
    assert artefact_path(flat, master, "best_model.npz") == tmp_path / "subs/alice.best_model.npz"
    (tmp_path / "bob" / "best_model.npz").write_bytes(b"")
    assert artefact_path(folder, master, "best_model.npz") == tmp_path / "bob/best_model.npz"


def test_answers_are_matched_by_id_then_question_and_cut(master, tmp_path):
    nb = answered(released(), why_relu="x" * (MAX_ANSWER_CHARS + 100))
    retyped = next(c for c in nb.cells if c.id == "q2-answer")
    retyped.id = "retyped-cell"  # a student who deleted the cell and made it again
    retyped.source = "My own words on the bias."
    student = write_notebook(nb, tmp_path / "bob.ipynb")
    grade = grade_submission(master, student, **LIMITS)
    first, second = grade.answers
    assert (
        first.text.startswith("x" * MAX_ANSWER_CHARS) and "100 more characters cut" in first.text
    )
    assert second.text == "My own words on the bias."
    results = by_check(grade)
    assert results["best_model"].status == "missing" and results["best_model"].points == 0
    assert "no best_model.npz was submitted" in results["best_model"].message
    assert results["relu_forward"].status == "not implemented"


def test_an_unreadable_notebook_scores_every_check_and_answer_not_run(master, tmp_path):
    student = tmp_path / "carol.ipynb"
    student.write_text("{", encoding="utf-8")
    grade = grade_submission(master, student, **LIMITS)
    assert [r.check for r in grade.all_results] == CHECKS
    assert {r.status for r in grade.all_results} == {"not run"} and grade.answers is None


@pytest.fixture(scope="module")
def batch(master, tmp_path_factory):
    """alice hands in everything (flat layout), bob the released notebook with one answer."""
    subs = tmp_path_factory.mktemp("subs")
    write_notebook(small_master(), subs / "alice.ipynb")
    save_stand_in_as(subs / "alice.best_model.npz")
    bob = answered(released(), what_bias="It shifts the output.\n\n<script>alert(1)</script>")
    write_notebook(bob, subs / "bob.ipynb")
    out = tmp_path_factory.mktemp("grades")
    report = grade_batch(master, [subs / "alice.ipynb", subs / "bob.ipynb"], out, workers=1,
                         progress=False, **LIMITS)  # fmt: skip
    return report, out, subs


def test_the_batch_exports_answers_for_the_marker(batch):
    report, out, _ = batch
    assert {path.name for path in report.answers} == {"answers.md", "answers.csv", "marks.csv"}
    text = (out / "answers.md").read_text(encoding="utf-8")
    assert Q1 in text and A1 in text and A2 in text
    assert text.index("## why-relu") < text.index("### alice") < text.index("## what-bias")
    assert "It shifts the output." in text and NO_ANSWER in text
    rows = list(csv.DictReader((out / "answers.csv").open(encoding="utf-8")))
    assert {(r["student"], r["question"], r["points"]) for r in rows} == {
        ("alice", "why-relu", "3"),
        ("alice", "what-bias", "2"),
        ("bob", "why-relu", "3"),
        ("bob", "what-bias", "2"),
    }
    assert {r["notebook"] for r in rows} == {"master.ipynb"}
    bob = {r["question"]: r["answer"] for r in rows if r["student"] == "bob"}
    assert bob["why-relu"] == NO_ANSWER and "<script>" in bob["what-bias"]  # kept as text
    grades = list(csv.DictReader(report.csv.open(encoding="utf-8")))
    assert list(grades[0])[1:5] == CHECKS
    assert grades[0]["best_model"] == "10" and grades[1]["best_model"] == "0"


def test_marks_entered_in_marks_csv_are_read_back_by_the_next_run(master, batch, tmp_path):
    report, out, subs = batch
    marks = out / "marks.csv"
    rows = list(csv.DictReader(marks.open(encoding="utf-8")))
    assert [r["mark"] for r in rows] == ["", "", "", ""]
    for row in rows:
        if row["student"] == "alice" and row["question"] == "why-relu":
            row.update(mark="2.5", comment="Right, but say why the slope is zero.")
    with marks.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    before = marks.read_text(encoding="utf-8")
    again = grade_batch(master, [subs / "alice.ipynb", subs / "bob.ipynb"], out, workers=1,
                        progress=False, **LIMITS)  # fmt: skip
    assert marks.read_text(encoding="utf-8") == before  # the marker's file is never rewritten
    alice = next(s for s in again.students if s.student == "alice")
    assert alice.points == 2 + 10 + 2.5
    grades = {r["student"]: r for r in csv.DictReader(again.csv.open(encoding="utf-8"))}
    assert grades["alice"]["written: why-relu"] == "2.5"
    assert grades["alice"]["written: what-bias"] == "0"
    feedback = (out / "feedback" / "alice.md").read_text(encoding="utf-8")
    assert "marked 2.5 / 3; Right, but say why the slope is zero." in feedback
    assert "(marked)" in feedback and "(to mark)" in feedback


@pytest.mark.parametrize(
    "row, message",
    [
        ("alice,why-relu,3,4,", "must be a number from 0 to 3"),
        ("alice,why-relu,3,lots,", "must be a number from 0 to 3"),
        ("alice,no-such,3,1,", "unknown question 'no-such'"),
    ],
)
def test_a_bad_mark_stops_the_batch_before_grading(master, tmp_path, row, message):
    (tmp_path / "marks.csv").write_text(
        "student,question,points,mark,comment\n" + row + "\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match=message):
        grade_batch(master, [], tmp_path, progress=False)


def test_a_folder_per_student_keeps_the_masters_name_and_the_folders_student_id(master, tmp_path):
    student = write_notebook(small_master(), tmp_path / "dana" / "master.ipynb")
    save_stand_in_as(tmp_path / "dana" / "best_model.npz")
    report = grade_batch(master, [student], tmp_path / "out", workers=1, progress=False, **LIMITS)
    (dana,) = report.students
    assert dana.student == "dana" and dana.points == 12


def test_the_release_never_contains_a_model_answer():
    nb = released()
    text = json.dumps(nb)
    assert A1 not in text and A2 not in text
    answers = [c for c in nb.cells if c.metadata.get("course", {}).get("answer")]
    assert [c.source for c in answers] == [ANSWER_PLACEHOLDER] * 2


def test_the_exports_keep_a_formula_as_text_and_need_no_grading(tmp_path):
    cells = read_master_cells(tmp_path / "master")
    answers = {
        "eve": [
            WrittenAnswer("why-relu", 3, "=HYPERLINK(1)"),
            WrittenAnswer("what-bias", 2, None),
        ],
        "fay": None,  # a notebook that could not be read
    }
    written = write_answer_exports(tmp_path, "master.ipynb", cells, answers)
    assert [path.name for path in written] == ["answers.md", "answers.csv", "marks.csv"]
    rows = list(csv.DictReader((tmp_path / "answers.csv").open(encoding="utf-8")))
    assert [r["answer"] for r in rows] == ["'=HYPERLINK(1)", NO_ANSWER, NO_ANSWER, NO_ANSWER]
    assert write_answer_exports(tmp_path, "master.ipynb", (), answers) == []


def test_a_marks_file_without_its_columns_is_refused(tmp_path):
    (tmp_path / "marks.csv").write_text("name,score\nalice,3\n", encoding="utf-8")
    with pytest.raises(ValueError, match="has no column student, question, mark"):
        read_marks(tmp_path / "marks.csv", read_master_cells(tmp_path))


def read_master_cells(folder: Path):
    return read_master(write_notebook(small_master(), folder / "m.ipynb")).answer_cells
