"""Tests of written-answer cells and artefact check cells in the classroom tools.

cell_metadata validates them, release replaces each model answer with the
placeholder (keeping id and metadata), and progress lists answer cells as
answered or not.
"""

from __future__ import annotations

import copy

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from small_master import A1, small_master

from course.classroom.cell_metadata import ANSWER_PLACEHOLDER, read_answer_settings
from course.classroom.markers import MarkerError
from course.classroom.progress import (
    ANSWERED,
    NOT_ANSWERED,
    PASS,
    ExerciseResult,
    _written_answers,
    format_progress,
)
from course.classroom.release import release_notebook

ANSWER = {"answer": True, "points": 3, "question": "why-relu"}


def with_cells(*cells):
    nb = new_notebook(cells=list(cells))
    for number, cell in enumerate(nb.cells):
        cell.id = f"cell-{number}"
    return nb


def answer_cell(kind=new_markdown_cell, **settings):
    return kind("A model answer.", metadata={"course": {**ANSWER, **settings}})


@pytest.mark.parametrize(
    "cell, message",
    [
        (answer_cell(new_code_cell), "is a code cell marked as an answer cell"),
        (answer_cell(points=0), "points must be a whole number >= 1, got 0"),
        (answer_cell(points=2.5), "points must be a whole number >= 1, got 2.5"),
        (answer_cell(points=True), "points must be a whole number >= 1"),
        (answer_cell(question="Why ReLU?"), "short kebab-case id"),
        (answer_cell(question=None), "short kebab-case id"),
        (answer_cell(answer="yes"), "course.answer must be true or false"),
        (answer_cell(check=True), "both as an answer cell"),
    ],
)
def test_a_malformed_answer_cell_is_refused_naming_file_and_cell(cell, message):
    nb = with_cells(new_markdown_cell("Question?"), cell)
    with pytest.raises(MarkerError, match=message) as error:
        release_notebook(nb, "solutions/x.ipynb")
    assert "solutions/x.ipynb: cell 2" in str(error.value)


def test_a_check_cell_that_is_also_an_answer_cell_is_refused():
    settings = {"check": True, "points": 1, "checks": ["f"], "answer": True, "question": "q"}
    nb = with_cells(new_code_cell("check_f(f)", metadata={"course": settings}))
    with pytest.raises(MarkerError, match="marked both as an? (answer|check) cell"):
        release_notebook(nb, "x.ipynb")


def test_question_ids_are_unique_in_a_notebook():
    nb = with_cells(answer_cell(), new_markdown_cell("Q2"), answer_cell())
    with pytest.raises(
        MarkerError, match="cell 3 is an answer cell for question 'why-relu', like cell 1"
    ):
        release_notebook(nb, "x.ipynb")


def test_answer_false_is_not_an_answer_cell():
    cell = answer_cell(answer=False)
    assert read_answer_settings(cell, 1, "x.ipynb") is None


def test_release_replaces_the_model_answer_and_keeps_id_and_metadata():
    master = small_master()
    before = copy.deepcopy(master)
    released = release_notebook(master, "master.ipynb")
    assert master == before  # the master is left unchanged
    for old, new in zip(master.cells, released.cells, strict=True):
        assert new.id == old.id and new.cell_type == old.cell_type
        settings = old.metadata.get("course", {})
        if settings.get("answer"):
            assert new.source == ANSWER_PLACEHOLDER and new.metadata == old.metadata
    assert A1 not in str(released)


def test_an_artefact_check_needs_no_stub_but_a_plain_name():
    settings = {
        "check": True,
        "points": 10,
        "checks": ["best_model"],
        "artefact": "best_model.npz",
    }
    nb = with_cells(
        new_code_cell('check_best_model("best_model.npz")', metadata={"course": settings})
    )
    released = release_notebook(nb, "x.ipynb")  # no def best_model anywhere: still released
    assert released.cells[0].metadata["course"]["artefact"] == "best_model.npz"
    for bad in ("../best.npz", "a/b.npz", "", 3):
        nb.cells[0].metadata["course"]["artefact"] = bad
        with pytest.raises(MarkerError, match="artefact must be a plain file name"):
            release_notebook(nb, "x.ipynb")


def test_progress_lists_answer_cells_as_answered_or_not():
    nb = release_notebook(small_master(), "master.ipynb")
    next(c for c in nb.cells if c.id == "q2-answer").source = "The bias shifts the output."
    written = _written_answers(nb, "master.ipynb")
    assert [(r.cell_number, r.checks, r.points, r.status) for r in written] == [
        (5, ("written: why-relu",), 3, NOT_ANSWERED),
        (7, ("written: what-bias",), 2, ANSWERED),
    ]
    check = ExerciseResult(3, ("relu_forward",), 2, PASS, "relative errors out 1e-17")
    table = format_progress([check, *written]).splitlines()
    assert "- / 3  not answered" in table[2] and "- / 2  answered" in table[3]
    assert "Score: 2 / 2 points; 1 of 1 checks pass" in table
    assert (
        "Written answers: 1 of 2 answered (5 points, marked by a person after you hand the "
        "notebook in)"
    ) in table
