"""Tests for course/classroom/markers.py on single cells.

Whole notebooks, and every marker error, are tested in tests/test_classroom_release.py.
"""

from __future__ import annotations

import pytest

from course.classroom.markers import (
    MarkerError,
    release_code,
    release_code_cell,
    require_no_markers,
)


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


# ----- near misses, and releases that no longer parse (issue 10) ---------------------


@pytest.mark.parametrize(
    "line",
    [
        "# BEGIN SOLUTION",
        "### BEGIN SOLUTIONS",
        "###BEGIN_SOLUTION",
        "### BEGIN-SOLUTION",
        "### begin solution",
        "### BEGIN SOL",
        "### BEGIN HIDDEN",
        "### END HIDDEN TEST",
        "### BEGİN SOLUTİON",
        "### BEGIN\ufeffSOLUTION",
        "### BEGIN\u3000SOLUTION",
        "BEGIN SOLUTION",
        "print('### END SOLUTION')",
        "x = 1  # end solution",
    ],
    ids=ascii,
)
def test_every_spelling_of_a_marker_is_refused(line):
    with pytest.raises(MarkerError, match="cell 3 line 2 looks like a marker but is not exactly"):
        release_code(f"x = 1\n{line}\ny = 2", 3, "m.ipynb")


@pytest.mark.parametrize(
    "line",
    [
        "# begin solving for x",
        "# the end hidden state h_T",
        "x = 1  # (N, Hd), nothing flows back from after the end",
        "end_solution = 3",
        "begin_solution()",
        "# see the solutions notebook",
    ],
)
def test_lines_that_only_mention_the_words_are_code(line):
    text = f"x = 1\n{line}\n"
    assert release_code(text, 1, "m.ipynb") is text


def test_exact_markers_may_have_tabs_and_spaces_around_them():
    text = "def f(x):\n\t### BEGIN SOLUTION \r\n\treturn x\n\t### END SOLUTION\t\n"
    assert 'raise NotImplementedError("f: write your code here")' in release_code(text, 1, "m")


def test_release_code_cell_names_every_def_around_a_stub():
    text = (
        "def outer(x):\n"
        "    def inner(y):\n"
        "        ### BEGIN SOLUTION\n"
        "        return y\n"
        "        ### END SOLUTION\n"
        "    return inner(x)\n"
        "### BEGIN SOLUTION\n"
        "z = 1\n"
        "### END SOLUTION\n"
    )
    released = release_code_cell(text, 1, "m.ipynb")
    assert released.stubbed == {"outer", "inner"}
    assert 'raise NotImplementedError("inner: write your code here")' in released.text
    assert release_code_cell("x = 1", 1, "m").stubbed == frozenset()


def test_a_cell_that_is_not_python_names_its_functions_by_indentation():
    text = (
        "%%capture\nx = (\ndef f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n"
    )
    assert release_code_cell(text, 1, "m.ipynb").stubbed == {"f"}


def test_a_release_that_no_longer_parses_names_the_line_and_the_fix():
    text = "def f(x):\n### BEGIN SOLUTION\n    y = x\n### END SOLUTION\n    return y"
    with pytest.raises(MarkerError) as info:
        release_code(text, 5, "m.ipynb")
    message = str(info.value)
    assert message.startswith(
        "m.ipynb: cell 5 is valid Python in the master but not once released"
    )
    assert "(line 3 of the released cell, 'raise NotImplementedError(" in message
    assert "IndentationError" in message and "indent the markers like the code" in message


def test_top_level_await_is_python_as_in_ipython():
    text = "await g()\n### BEGIN SOLUTION\nx = await h()\n### END SOLUTION\n"
    assert "NotImplementedError" in release_code(text, 1, "m.ipynb")


def test_require_no_markers_refuses_a_near_miss_line_but_not_a_heading():
    with pytest.raises(MarkerError, match="cell 1 line 1 is a markdown cell holding a line that"):
        require_no_markers("  ## Begin\u00a0Solution", "markdown", 1, "m")
    require_no_markers(
        "## Beginning a solution\n## End-to-end\nBegin solution here.", "raw", 1, "m"
    )


def test_a_marker_without_hashes_is_refused_and_the_message_says_so():
    with pytest.raises(MarkerError, match=r"'END SOLUTION' \(a marker starts with ###\)"):
        release_code("def f():\n    END SOLUTION\n", 1, "m.ipynb")


def test_hidden_tests_that_leave_a_block_empty_are_refused():
    text = "for i in x:\n    ### BEGIN HIDDEN TESTS\n    assert i\n    ### END HIDDEN TESTS\ny = 1"
    with pytest.raises(MarkerError, match="leave no block empty"):
        release_code(text, 1, "m.ipynb")
