"""Tests for course/grading/engine.py: the master decides, the submission's cells only run."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from grading_redteam import POINTS

from course.grading.engine import grade_submission, read_master

ROOT = Path(__file__).resolve().parent.parent
MASTER = ROOT / "solutions" / "01_fully_connected.ipynb"
RELEASED = ROOT / "assignments" / "01_fully_connected.ipynb"
LIMITS = {"cell_timeout": 10, "total_timeout": 120, "memory_mb": 2048}
EXERCISE_CHECKS = POINTS  # check -> points, in the master's order


def submission(tmp_path: Path, edit=None, name: str = "student.ipynb") -> Path:
    """Write a copy of the master, changed by ``edit(nb)``, and return its path."""
    nb = nbformat.read(MASTER, as_version=4)
    if edit is not None:
        edit(nb)
    path = tmp_path / name
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    return path


def cell(nb, cell_id: str):
    return next(c for c in nb.cells if c.get("id") == cell_id)


def grade(path: Path, **limits):
    before = path.read_bytes()
    result = grade_submission(MASTER, path, **{**LIMITS, **limits})
    assert path.read_bytes() == before, "grading changed the submitted file"
    return result


def by_check(grade_result) -> dict:
    return {r.check: r for r in grade_result.results}


def test_master_checks_are_those_of_its_exercise_cells():
    master = read_master(MASTER)
    defined = set().union(*master.defines.values())
    checked = {c.name: c.points for c in master.check_cells}
    assert checked == EXERCISE_CHECKS
    assert set(checked) <= defined
    assert master.setup and "affine-forward-code" in master.exercises
    assert "two-layer-train" not in master.exercises  # training is never run when grading


def test_an_exercise_no_check_reads_is_not_run():
    """Notebook 02's best-model training is graded as a saved file, never re-run."""
    master = read_master(ROOT / "solutions" / "02_convolutional_networks.ipynb")
    assert "cnn-loss-code" in master.exercises
    assert "best-model-train" not in master.exercises
    assert set(master.defines) == set(master.exercises)


def test_the_master_as_submission_gets_full_points(tmp_path):
    result = grade(submission(tmp_path))
    assert result.error is None and result.notes == []
    assert [r.check for r in result.results] == list(EXERCISE_CHECKS)
    for r in result.results:
        assert (r.status, r.points) == ("passed", r.possible), r
        assert r.message.startswith(f"OK {r.check}")
    assert len(result.sha256) == 64


def test_the_released_assignment_is_not_implemented():
    result = grade(RELEASED)
    assert result.error is None
    assert {r.status for r in result.results} == {"not implemented"}
    assert result.points == 0 and result.possible == sum(EXERCISE_CHECKS.values())


def test_tampered_check_cells_earn_only_what_the_functions_earn(tmp_path):
    def tamper(nb):
        for c in nb.cells:
            if c.get("metadata", {}).get("course", {}).get("check"):
                c.source = 'print("OK affine_forward")' if "affine" in c.id else "pass"
        # one honest mistake: relu_forward lets negatives through
        code = cell(nb, "relu-forward-code")
        code.source = "def relu_forward(x):\n    return x.copy(), x\n"
        # metadata and kernelspec claims change nothing
        nb.metadata["course"] = {"cell_timeout": 10_000, "skip": ["relu-forward-code"]}
        nb.metadata["kernelspec"] = {"name": "cheat", "display_name": "cheat", "language": "py"}

    result = grade(submission(tmp_path, tamper))
    results = by_check(result)
    assert (results["relu_forward"].status, results["relu_forward"].points) == ("failed", 0)
    for name, points in EXERCISE_CHECKS.items():
        if name != "relu_forward":
            assert (results[name].status, results[name].points) == ("passed", points), name
    assert result.points == sum(EXERCISE_CHECKS.values()) - EXERCISE_CHECKS["relu_forward"]
    assert any("'affine-forward-check' edited" in note for note in result.notes)


def test_deleted_and_duplicated_cells(tmp_path):
    def delete(nb):
        nb.cells = [c for c in nb.cells if c.id not in ("adam-code", "adam-check")]

    path = submission(tmp_path, delete)
    data = json.loads(path.read_text(encoding="utf-8"))  # nbformat would repair the duplicate
    index = next(i for i, c in enumerate(data["cells"]) if c["id"] == "svm-loss-code")
    wrong = dict(data["cells"][index], source="def svm_loss(x, y):\n    raise ValueError('no')\n")
    data["cells"].insert(index + 1, wrong)  # a later duplicate: ignored
    path.write_text(json.dumps(data), encoding="utf-8")
    result = grade(path)
    results = by_check(result)
    assert results["adam"].points == 0 and results["adam"].status == "missing"
    assert "adam-code" in results["adam"].reason
    assert results["svm_loss"].status == "passed"
    assert any("repeats the id 'svm-loss-code'" in note for note in result.notes)
    assert any("'adam-check' deleted" in note for note in result.notes)


def test_an_infinite_loop_costs_only_the_checks_it_reaches(tmp_path):
    def loop(nb):
        code = cell(nb, "softmax-loss-code")
        code.source = "def softmax_loss(x, y):\n    return x, y\n\nwhile True:\n    pass\n"
        code.metadata["course"] = {"timeout": 1000}
        nb.metadata["course"] = {"cell_timeout": 1000}

    result = grade(submission(tmp_path, loop), cell_timeout=2)
    results = by_check(result)
    assert results["softmax_loss"].status == "timeout"
    assert results["softmax_loss"].points == 0
    assert "timeout after 2 s" in results["softmax_loss"].reason
    for name in ("affine_forward", "affine_backward", "svm_loss", "dropout_backward"):
        assert results[name].status == "passed", results[name]
    assert any("restarted without exercise cell 'softmax-loss-code'" in n for n in result.notes)


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        '{"nbformat": 3, "cells": []}',
        '{"nbformat": 4, "metadata": {}}',
        "[1, 2]",
    ],
)
def test_a_malformed_submission_is_an_error_row(tmp_path, text):
    path = tmp_path / "broken.ipynb"
    path.write_text(text, encoding="utf-8")
    result = grade(path)
    assert result.error
    assert [r.check for r in result.results] == list(EXERCISE_CHECKS)
    assert {(r.status, r.points) for r in result.results} == {("not run", 0)}


DELEGATIONS = {
    "import": "from course.layers import affine_forward as reference\n",
    "a copy of the package's file": (
        "import importlib.util\nfrom pathlib import Path\nimport course\n"
        "spec = importlib.util.spec_from_file_location(\n"
        "    'fc_copy', Path(course.__file__).parent / 'layers' / 'fc.py'\n)\n"
        "module = importlib.util.module_from_spec(spec)\nspec.loader.exec_module(module)\n"
        "reference = module.affine_forward\n"
    ),
}


@pytest.mark.parametrize("how", DELEGATIONS)
def test_a_function_that_calls_the_course_reference_earns_nothing(tmp_path, how):
    def delegate(nb):
        code = cell(nb, "affine-forward-code")
        code.source = (
            DELEGATIONS[how] + "\n\ndef affine_forward(x, w, b):\n    return reference(x, w, b)\n"
        )

    results = by_check(grade(submission(tmp_path, delegate)))
    assert (results["affine_forward"].status, results["affine_forward"].points) == ("failed", 0)
    assert "calls the course's own affine_forward (course/layers/fc.py)" in (
        results["affine_forward"].message
    )
    # The other checks, the backward included (it calls the student's forward), keep theirs.
    for name, points in EXERCISE_CHECKS.items():
        if name != "affine_forward":
            assert results[name].points == points, results[name]


MASTER_03 = ROOT / "solutions" / "03_visualizing_convnets.ipynb"


def test_notebook_03_sends_its_model_to_the_worker_and_catches_delegation(tmp_path):
    """The visualisation checks pass a TinyVGG: it travels as data, and copying viz fails."""

    def delegate(nb):
        cell(nb, "saliency-code").source = (
            "from course import viz\n\ndef saliency_maps(model, X, y):\n"
            "    return viz.saliency_maps(model, X, y)\n"
        )

    path = tmp_path / "student.ipynb"
    nb = nbformat.read(MASTER_03, as_version=4)
    delegate(nb)
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    results = by_check(grade_submission(MASTER_03, path, **LIMITS))
    assert results["saliency_maps"].points == 0
    assert "calls the course's own saliency_maps (course/viz/saliency.py)" in (
        results["saliency_maps"].message
    )
    for name in ("class_visualisation_step", "make_fooling_image"):
        assert results[name].status == "passed", results[name]


MASTER_05 = ROOT / "solutions" / "05_image_captioning.ipynb"


def test_notebook_05_s_beam_search_is_graded_through_callbacks_and_delegation_fails(tmp_path):
    """check_beam_search passes a decoder, a function: the worker calls it back in the grader."""
    master = by_check(grade_submission(MASTER_05, MASTER_05, **LIMITS))
    assert {r.status for r in master.values()} == {"passed"}
    assert master["beam_search"].points == 6

    nb = nbformat.read(MASTER_05, as_version=4)
    cell(nb, "beam-code").source = (
        "from course.models.captioning import beam_search_one_image\n\n"
        "def beam_search(step, state, beam_width, max_length, start_index, end_index, "
        "null_index):\n"
        "    return beam_search_one_image(step, state, beam_width, max_length, start_index, "
        "end_index, null_index)\n"
    )
    path = tmp_path / "student.ipynb"
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    results = by_check(grade_submission(MASTER_05, path, **LIMITS))
    assert results["beam_search"].points == 0
    assert "calls the course's own beam_search_one_image" in results["beam_search"].message
