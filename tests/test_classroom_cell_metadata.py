"""Tests for course/classroom/cell_metadata.py.

Its errors inside whole notebooks are tested in tests/test_classroom_release.py.
"""

from __future__ import annotations

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell

from course.classroom.cell_metadata import read_cell_settings, validate_cell_ids
from course.classroom.markers import MarkerError

SETTINGS = {"check": True, "points": 3, "checks": ["affine_forward"]}


def test_a_check_cell_gives_its_settings():
    cell = new_code_cell("check_affine_forward(affine_forward)", metadata={"course": SETTINGS})
    assert read_cell_settings(cell, 1, "m.ipynb") == SETTINGS


@pytest.mark.parametrize(
    "metadata",
    [{}, {"course": {"title": "FC nets"}}, {"course": {"check": False}}, {"course": "check"}],
    ids=repr,
)
def test_other_cells_give_none(metadata):
    assert read_cell_settings(new_code_cell("x = 1", metadata=metadata), 1, "m.ipynb") is None
    assert read_cell_settings(new_markdown_cell("text", metadata=metadata), 1, "m.ipynb") is None


def test_check_must_be_true_not_merely_truthy():
    cell = new_code_cell("x", metadata={"course": {**SETTINGS, "check": "yes"}})
    with pytest.raises(MarkerError, match=r"m\.ipynb: cell 2: course.check must be true or false"):
        read_cell_settings(cell, 2, "m.ipynb")


def test_validate_cell_ids_reads_the_plain_json_of_a_notebook():
    validate_cell_ids([{"id": "a"}, {"id": "b"}], "m.ipynb")
    with pytest.raises(MarkerError, match=r"m\.ipynb: cell 2 has no id"):
        validate_cell_ids([{"id": "a"}, "not a cell"], "m.ipynb")
    with pytest.raises(MarkerError, match=r"m\.ipynb: cell 3 has the same id 'a' as cell 1"):
        validate_cell_ids([{"id": "a"}, {"id": "b"}, {"id": "a"}], "m.ipynb")
