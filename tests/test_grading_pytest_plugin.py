"""Tests for course/grading/pytest_plugin.py: one pytest item per student per check."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from importlib.metadata import entry_points
from pathlib import Path

import nbformat
import pytest
from grading_redteam import POINTS

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
MASTER = ROOT / "solutions" / "01_fully_connected.ipynb"
RELEASED = ROOT / "assignments" / "01_fully_connected.ipynb"
CHECKS = tuple(POINTS)  # notebook 01's checks, in the master's order
# Loading the plugin by -p as well as by its entry point would register it twice.
ENTRY_POINT_ACTIVE = any(
    ep.value == "course.grading.pytest_plugin" for ep in entry_points(group="pytest11")
)
PLUGIN_ARGS = () if ENTRY_POINT_ACTIVE else ("-p", "course.grading.pytest_plugin")


def run_grading(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        *PLUGIN_ARGS,
        "-p",
        "no:cacheprovider",
        f"--course-grade={MASTER}",
        "--course-cell-timeout=10",
        "--course-total-timeout=120",
        *args,
    )


@pytest.fixture
def alice(pytester: pytest.Pytester) -> Path:
    """The master itself, submitted: every check passes."""
    return Path(shutil.copy(MASTER, pytester.path / "alice.ipynb"))


@pytest.fixture
def bob(pytester: pytest.Pytester) -> Path:
    """The released assignment, untouched: every check is not implemented."""
    return Path(shutil.copy(RELEASED, pytester.path / "bob.ipynb"))


def test_a_correct_submission_passes_every_check_and_junit_carries_points(
    pytester: pytest.Pytester, alice: Path
):
    result = run_grading(pytester, "--nbval-lax", "--junitxml=grades.xml", alice.name)
    result.assert_outcomes(passed=len(CHECKS))
    cases = ET.parse(pytester.path / "grades.xml").getroot().iter("testcase")
    properties = {
        case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")}
        for case in cases
    }
    assert set(properties) == set(CHECKS)
    assert properties["affine_forward"] == {"points": "2", "possible": "2", "status": "passed"}
    assert properties["batchnorm_backward"]["points"] == "4"


def test_the_released_assignment_fails_every_check_as_not_implemented(
    pytester: pytest.Pytester, bob: Path
):
    result = run_grading(pytester, bob.name)
    result.assert_outcomes(failed=len(CHECKS))
    result.stdout.fnmatch_lines(
        [
            "*_ bob.ipynb: affine_forward _*",
            "*not implemented yet*",
            "points: 0/2 (not implemented)",
        ]
    )
    for check in CHECKS:
        result.stdout.fnmatch_lines([f"FAILED bob.ipynb::{check} - *"])


def test_k_selects_checks_by_name_across_students(
    pytester: pytest.Pytester, alice: Path, bob: Path
):
    result = run_grading(pytester, "-k", "affine_forward", "-v", alice.name, bob.name)
    result.assert_outcomes(passed=1, failed=1, deselected=2 * len(CHECKS) - 2)
    result.stdout.fnmatch_lines(
        ["*alice.ipynb::affine_forward PASSED*", "*bob.ipynb::affine_forward FAILED*"]
    )


def test_x_stops_at_the_first_failed_check(pytester: pytest.Pytester, bob: Path):
    result = run_grading(pytester, "-x", bob.name)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["FAILED bob.ipynb::affine_forward - *"])


def test_a_malformed_submission_fails_every_check_with_its_error(pytester: pytest.Pytester):
    (pytester.path / "carol.ipynb").write_text('{"cells": [', encoding="utf-8")
    # -rN: no short summary, which repeats whole messages when pytest sees a CI
    # environment (it truncates them otherwise), so each check's text appears once.
    result = run_grading(pytester, "-rN", "carol.ipynb")
    result.assert_outcomes(failed=len(CHECKS))
    result.stdout.fnmatch_lines(["*reason: *carol.ipynb: is not a notebook (not JSON*"])
    assert result.stdout.str().count("points: 0/") == len(CHECKS)


def test_without_course_grade_nbval_still_collects_notebooks(pytester: pytest.Pytester):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("print(1 + 1)")]
    nbformat.write(nb, pytester.path / "tiny.ipynb")
    result = pytester.runpytest_subprocess(
        *PLUGIN_ARGS, "-p", "no:cacheprovider", "--nbval-lax", "-v", "tiny.ipynb"
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*Cell 0 PASSED*"])
