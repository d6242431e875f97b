"""The notebooks as a whole: assignments in sync with solutions, and coherent for a student.

The master notebooks in solutions/ and the lecture notebooks in notebooks/ are
run by nbval (``make test`` collects them). Here: the committed assignments
are exactly what ``course release`` makes from the masters, and a student's
starting notebook fails only at the check cells of unwritten exercises (and
at an exercise stub tagged ``raises-exception``, whose result a check reads
from a file).
"""

from pathlib import Path

import nbformat
import pytest

from course.classroom.notebook_run import execute_notebook
from course.classroom.release import release

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS, ASSIGNMENTS = ROOT / "solutions", ROOT / "assignments"
ASSIGNMENT_FILES = sorted(ASSIGNMENTS.glob("*.ipynb"))


def test_assignments_are_in_sync_with_solutions():
    stale = release(SOLUTIONS, ASSIGNMENTS, check=True)
    assert stale == [], (
        f"assignments/ is out of date for {[p.name for p in stale]}: "
        "run `course release solutions/ --out assignments/` and commit the result"
    )


def test_every_master_has_an_assignment():
    masters = {p.name for p in SOLUTIONS.glob("*.ipynb")}
    assert masters == {p.name for p in ASSIGNMENT_FILES}


@pytest.mark.parametrize("path", ASSIGNMENT_FILES, ids=lambda p: p.name)
def test_a_starting_notebook_fails_only_at_its_check_cells(path):
    nb = nbformat.read(path, as_version=4)
    replies, stopped = execute_notebook(nb, path.parent, timeout=300)
    assert stopped is None, stopped
    check_cells = [
        i
        for i, cell in enumerate(nb.cells)
        if cell.get("metadata", {}).get("course", {}).get("check")
    ]
    assert check_cells, "an assignment without check cells"
    for index, reply in replies.items():
        cell = nb.cells[index]
        number = index + 1
        if index in check_cells:
            assert reply.get("status") == "error", f"check cell {number} passed on a stub"
            artefact = cell.metadata["course"].get("artefact")
            if artefact is not None:  # a check of a saved file: the file is not there yet
                assert f"no file {artefact}" in reply.get("evalue", ""), reply.get("evalue")
                continue
            assert "is not implemented yet" in reply.get("evalue", ""), (
                f"check cell {number} failed with {reply.get('ename')}: {reply.get('evalue')}; "
                "expected the one-line 'not implemented yet' message"
            )
        elif "raises-exception" in cell.get("metadata", {}).get("tags", []):
            # an exercise whose result is graded as a file (02's best-model training):
            # its stub raises, and the tag lets Run All go on past it
            assert "# YOUR CODE HERE" in cell.source, f"cell {number} is tagged but no stub"
            assert reply.get("ename") == "NotImplementedError", (
                f"stub cell {number} failed with {reply.get('ename')}: {reply.get('evalue')}"
            )
        else:
            assert reply.get("status") == "ok", (
                f"cell {number} (not a check cell) failed with {reply.get('ename')}: "
                f"{reply.get('evalue')}\n{cell.source[:300]}"
            )
