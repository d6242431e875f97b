"""Tests for course/classroom/markers.py on single cells.

Whole notebooks, and every marker error, are tested in tests/test_classroom_release.py.
"""

from __future__ import annotations

import pytest

from course.classroom.markers import MarkerError, release_code, require_no_markers


def test_a_cell_without_markers_is_returned_unchanged():
    text = "import numpy as np\n\nx = np.zeros(3)  # no markers here\n"
    assert release_code(text, 1, "m.ipynb") is text


def test_a_solution_becomes_a_stub_naming_its_function():
    text = "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
    assert release_code(text, 1, "m.ipynb") == (
        "def f(x):\n"
        "    # YOUR CODE HERE\n"
        '    raise NotImplementedError("f: write your code here")\n'
    )


def test_hidden_tests_leave_nothing_behind():
    text = "a = 1\n### BEGIN HIDDEN TESTS\nassert a == 1\n### END HIDDEN TESTS\nb = 2"
    assert release_code(text, 1, "m.ipynb") == "a = 1\nb = 2"


def test_a_malformed_region_names_the_file_cell_and_line():
    with pytest.raises(MarkerError, match=r"m\.ipynb: ### END SOLUTION at cell 4 line 2"):
        release_code("x = 1\n### END SOLUTION", 4, "m.ipynb")


def test_marker_error_is_a_value_error():
    assert issubclass(MarkerError, ValueError)


def test_require_no_markers_allows_a_mention_and_refuses_a_marker_line():
    require_no_markers("Answer between `### BEGIN SOLUTION` and the end.", "markdown", 1, "m")
    with pytest.raises(MarkerError, match="cell 2 line 2 is a raw cell holding the marker"):
        require_no_markers("text\n  ### END HIDDEN TESTS  \n", "raw", 2, "m")
