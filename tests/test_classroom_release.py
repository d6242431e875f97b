"""Tests for course/classroom/release.py: stubs, hidden tests, metadata, errors, the folder.

The ``course release`` command's basics are tested in tests/test_cli.py; its
refusals, --force and backups are tested here, at the end.
"""

from __future__ import annotations

import copy
import json
import os
import time

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

from course.classroom.markers import MarkerError
from course.classroom.release import release, release_notebook

FORWARD = '''\
import numpy as np


def affine_forward(x, w, b):
    """Compute x @ w + b."""
    ### BEGIN SOLUTION
    out = x.reshape(x.shape[0], -1) @ w + b  # (N, M)
    ### END SOLUTION
    return out, (x, w, b)
'''

TWO_REGIONS = """\
def relu_forward(x):
    ### BEGIN SOLUTION
    out = np.maximum(0, x)
    ### END SOLUTION
    return out, x


def relu_backward(dout, cache):
    x = cache
    ### BEGIN SOLUTION
    dx = dout * (x > 0)
    ### END SOLUTION
    return dx
"""

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
CHECK = {"course": {"check": True, "points": 3, "checks": ["affine_forward"]}}


def check_cell(source: str = "check_affine_forward(affine_forward)", **metadata):
    """Return a check cell; keyword arguments replace entries of its course metadata."""
    settings = {**CHECK["course"], **metadata}
    return new_code_cell(source, metadata={"course": settings})


def master(*cells) -> nbformat.NotebookNode:
    """Return a master notebook of the given cells (each with a fresh id)."""
    return new_notebook(cells=list(cells), metadata={"kernelspec": KERNELSPEC})


def write(nb: nbformat.NotebookNode, path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))


def with_output(cell):
    """Return the cell as if it had been run: an output and an execution count."""
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="OK\n")]
    cell.execution_count = 7
    cell.metadata["execution"] = {"iopub.status.idle": "2024-01-01T00:00:00Z"}
    return cell


# ----- release_notebook: what the student gets ---------------------------------------


def test_solution_becomes_an_indented_stub_that_raises():
    released = release_notebook(master(new_code_cell(FORWARD)))
    source = released.cells[0].source
    assert "x.reshape" not in source and "### " not in source
    assert (
        '    """Compute x @ w + b."""\n'
        "    # YOUR CODE HERE\n"
        '    raise NotImplementedError("affine_forward: write your code here")\n'
        "    return out, (x, w, b)\n"
    ) in source
    namespace: dict = {}
    exec(source, namespace)
    with pytest.raises(NotImplementedError, match="affine_forward: write your code here"):
        namespace["affine_forward"](None, None, None)


def test_nbval_markers_are_tests_and_are_not_released():
    demo = "# NBVAL_CHECK_OUTPUT\nprint(1 + 1)\n  #  NBVAL_IGNORE_OUTPUT \nx = 2  # NBVAL_ kept\n"
    exercise = "# NBVAL_CHECK_OUTPUT\n" + FORWARD
    released = release_notebook(master(new_code_cell(demo), new_code_cell(exercise)))
    assert released.cells[0].source == "print(1 + 1)\nx = 2  # NBVAL_ kept\n"
    stub = released.cells[1].source
    assert "NBVAL" not in stub and 'raise NotImplementedError("affine_forward' in stub


def test_several_regions_in_one_cell_each_name_their_function():
    source = release_notebook(master(new_code_cell(TWO_REGIONS))).cells[0].source
    assert source.count("# YOUR CODE HERE") == 2
    assert 'raise NotImplementedError("relu_forward: write your code here")' in source
    assert 'raise NotImplementedError("relu_backward: write your code here")' in source
    assert "x = cache" in source and "np.maximum" not in source and "dout * " not in source


def test_the_innermost_def_names_the_stub_and_top_level_regions_say_this_exercise():
    code = """\
def outer(x):
    def inner(
        y,
        z,
    ):
        for i in range(3):
            ### BEGIN SOLUTION
            y = y + i
            ### END SOLUTION
        return y
    ### BEGIN SOLUTION
    x = inner(x, 0)
    ### END SOLUTION
    return x

### BEGIN SOLUTION
learning_rate = 1e-3
### END SOLUTION
"""
    source = release_notebook(master(new_code_cell(code))).cells[0].source
    assert '            raise NotImplementedError("inner: write your code here")' in source
    assert '    raise NotImplementedError("outer: write your code here")' in source
    assert '\nraise NotImplementedError("this exercise: write your code here")' in source


def test_a_cell_with_ipython_magics_still_names_the_function():
    code = "%matplotlib inline\n" + FORWARD
    source = release_notebook(master(new_code_cell(code))).cells[0].source
    assert source.startswith("%matplotlib inline\n")
    assert 'raise NotImplementedError("affine_forward: write your code here")' in source


def test_tab_indentation_is_kept():
    code = "def f(x):\n\t### BEGIN SOLUTION\n\treturn x\n\t### END SOLUTION\n"
    source = release_notebook(master(new_code_cell(code))).cells[0].source
    assert source == (
        'def f(x):\n\t# YOUR CODE HERE\n\traise NotImplementedError("f: write your code here")\n'
    )


def test_hidden_tests_are_removed_with_their_markers():
    code = (
        "check_affine_forward(affine_forward)\n"
        "### BEGIN HIDDEN TESTS\n"
        "assert affine_forward(x, w, b)[0].shape == (2, 3)\n"
        "### END HIDDEN TESTS\n"
        "print('done')"
    )
    source = release_notebook(master(new_code_cell(FORWARD), check_cell(code))).cells[1].source
    assert source == "check_affine_forward(affine_forward)\nprint('done')"


def test_outputs_and_execution_counts_are_cleared():
    nb = master(with_output(new_code_cell(FORWARD)), with_output(check_cell()))
    released = release_notebook(nb)
    for cell in released.cells:
        assert cell.outputs == [] and cell.execution_count is None
        assert "execution" not in cell.metadata


def test_ids_metadata_and_other_cells_are_kept():
    nb = master(
        new_markdown_cell("# Fully connected nets", metadata={"tags": ["intro"]}),
        new_code_cell(FORWARD, metadata={"tags": ["exercise"]}),
        check_cell(),
        new_raw_cell("raw text"),
    )
    nb.metadata["course"] = {"title": "FC nets"}
    released = release_notebook(nb, "solutions/01_fc.ipynb")
    assert [cell.id for cell in released.cells] == [cell.id for cell in nb.cells]
    assert [cell.cell_type for cell in released.cells] == ["markdown", "code", "code", "raw"]
    assert released.cells[0].source == "# Fully connected nets"
    assert released.cells[0].metadata == {"tags": ["intro"]}
    assert released.cells[1].metadata == {"tags": ["exercise"]}
    assert released.cells[2].metadata == {**CHECK, "tags": ["raises-exception"]}
    assert released.cells[3].source == "raw text"
    assert released.metadata["kernelspec"] == KERNELSPEC
    assert released.metadata["course"]["title"] == "FC nets"
    assert released.metadata["course"]["released_from"] == "01_fc.ipynb"
    nbformat.validate(released)


def test_check_cells_let_run_all_go_on_and_keep_their_own_tags():
    # JupyterLab's Run All stops at a cell that raises unless it is tagged raises-exception.
    tagged = check_cell()
    tagged.metadata["tags"] = ["graded", "raises-exception"]
    released = release_notebook(master(new_code_cell(FORWARD), check_cell(), tagged))
    assert "tags" not in released.cells[0].metadata
    assert released.cells[1].metadata["tags"] == ["raises-exception"]
    assert released.cells[2].metadata["tags"] == ["graded", "raises-exception"]


def test_the_master_is_not_mutated():
    nb = master(with_output(new_code_cell(FORWARD)), check_cell(), new_markdown_cell("text"))
    before = copy.deepcopy(nb)
    release_notebook(nb, "m.ipynb")
    assert nb == before


# ----- release_notebook: errors name the file, the cell and the problem --------------


def error_of(*cells, source="solutions/01_fc.ipynb") -> str:
    with pytest.raises(MarkerError) as info:
        release_notebook(master(*cells), source)
    message = str(info.value)
    assert source in message
    return message


def test_unclosed_region():
    code = "x = 1\ndef f():\n    ### BEGIN SOLUTION\n    return 1\n"
    message = error_of(new_markdown_cell("intro"), new_code_cell(code))
    assert "### BEGIN SOLUTION at cell 2 line 3 is never closed by ### END SOLUTION" in message


def test_unclosed_hidden_tests():
    message = error_of(new_code_cell("### BEGIN HIDDEN TESTS\nassert True"))
    assert "### BEGIN HIDDEN TESTS at cell 1 line 1 is never closed by ### END HIDDEN TESTS" in (
        message
    )


def test_end_without_begin():
    message = error_of(new_code_cell("x = 1\n    ### END SOLUTION"))
    assert "### END SOLUTION at cell 1 line 2" in message
    assert "no ### BEGIN SOLUTION before it" in message


def test_nested_regions():
    code = "### BEGIN SOLUTION\nx = 1\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS\n"
    message = error_of(new_code_cell("pass"), new_code_cell(code))
    assert "### BEGIN HIDDEN TESTS at cell 2 line 3" in message
    assert "inside the ### BEGIN SOLUTION region opened at line 1" in message
    assert "cannot nest" in message


def test_hidden_tests_closed_by_end_solution():
    code = "### BEGIN HIDDEN TESTS\nassert True\n### END SOLUTION\n"
    message = error_of(new_code_cell(code))
    assert "### END SOLUTION at cell 1 line 3 closes the ### BEGIN HIDDEN TESTS region" in message
    assert "### END HIDDEN TESTS" in message


@pytest.mark.parametrize("make_cell", [new_markdown_cell, new_raw_cell], ids=["markdown", "raw"])
def test_marker_outside_a_code_cell(make_cell):
    message = error_of(new_code_cell("x = 1"), make_cell("Some text\n### BEGIN SOLUTION\nmore"))
    assert "cell 2 line 2" in message and "### BEGIN SOLUTION" in message
    assert "only in code cells" in message


def test_markdown_may_mention_the_markers_inside_a_sentence():
    text = "Write your answer between `### BEGIN SOLUTION` and `### END SOLUTION`."
    released = release_notebook(master(new_markdown_cell(text)))
    assert released.cells[0].source == text


@pytest.mark.parametrize(
    "line", ["##BEGIN SOLUTION", "### begin solution", "# END SOLUTION", "### END SOLUTION now"]
)
def test_a_near_miss_marker_is_an_error_not_a_leaked_answer(line):
    message = error_of(new_code_cell(f"def f():\n    {line}\n    return 1"))
    assert "cell 1 line 2 looks like a marker" in message and line in message


def test_check_cell_without_points():
    cell = new_code_cell("check()", metadata={"course": {"check": True, "checks": ["f"]}})
    message = error_of(new_code_cell("x = 1"), cell)
    assert "cell 2 is a check cell without points" in message


@pytest.mark.parametrize("points", ["3", 2.5, True, -1])
def test_check_cell_with_points_that_are_not_a_whole_number(points):
    message = error_of(check_cell(points=points))
    assert "cell 1 is a check cell whose points must be a whole number" in message
    assert repr(points) in message


@pytest.mark.parametrize("checks", [None, [], "affine_forward", [3]])
def test_check_cell_without_a_list_of_checks(checks):
    message = error_of(check_cell(checks=checks))
    assert "cell 1 is a check cell whose checks must be a non-empty list" in message


def test_check_metadata_on_a_markdown_cell():
    cell = new_markdown_cell("text", metadata=CHECK)
    message = error_of(cell)
    assert "cell 1 is a markdown cell marked as a check cell" in message


def test_cell_without_an_id():
    nb = master(new_code_cell("x = 1"), new_code_cell("y = 2"))
    nb.nbformat_minor = 4
    del nb.cells[1]["id"]
    with pytest.raises(MarkerError, match=r"m\.ipynb: cell 2 has no id"):
        release_notebook(nb, "m.ipynb")


def test_duplicate_cell_ids():
    nb = master(new_code_cell("a"), new_code_cell("b"), new_code_cell("c"))
    nb.cells[2].id = nb.cells[0].id
    with pytest.raises(MarkerError) as info:
        release_notebook(nb, "m.ipynb")
    assert f"m.ipynb: cell 3 has the same id {nb.cells[0].id!r} as cell 1" in str(info.value)


def test_duplicate_cell_ids_in_a_file_are_an_error_not_silently_renamed(tmp_path):
    # nbformat "repairs" a duplicate id with a random one when it reads a file;
    # the release must refuse instead, or the released ids would change every run.
    data = json.loads(nbformat.writes(master(new_code_cell("a"), new_code_cell("b"))))
    data["cells"][1]["id"] = data["cells"][0]["id"]
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "m.ipynb").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(MarkerError, match=r"m\.ipynb: cell 2 has the same id .* as cell 1"):
        release(tmp_path / "src", tmp_path / "out")
    assert not (tmp_path / "out").exists()


# ----- release(): folders, idempotence, safety ---------------------------------------


@pytest.fixture
def course_dir(tmp_path):
    """A course folder with two valid masters in solutions/."""
    write(master(new_code_cell(FORWARD), check_cell()), tmp_path / "solutions" / "01_fc.ipynb")
    write(master(new_code_cell(TWO_REGIONS)), tmp_path / "solutions" / "02_relu.ipynb")
    checkpoint = tmp_path / "solutions" / ".ipynb_checkpoints" / "01_fc-checkpoint.ipynb"
    write(master(new_code_cell("### BEGIN SOLUTION")), checkpoint)
    return tmp_path


def test_release_writes_every_master(course_dir):
    src, out = course_dir / "solutions", course_dir / "assignments"
    written = release(src, out)
    assert written == [out / "01_fc.ipynb", out / "02_relu.ipynb"]
    assert sorted(p.name for p in out.iterdir()) == ["01_fc.ipynb", "02_relu.ipynb"]
    released = nbformat.read(out / "01_fc.ipynb", as_version=4)
    assert "# YOUR CODE HERE" in released.cells[0].source
    assert released.cells[1].metadata == {**CHECK, "tags": ["raises-exception"]}
    assert released.metadata["course"]["released_from"] == "01_fc.ipynb"
    text = (out / "01_fc.ipynb").read_text(encoding="utf-8")
    assert text == nbformat.writes(released) + "\n"  # the bytes nbformat.write gives
    assert text.startswith('{\n "cells": [\n  {\n')  # indent 1


def test_release_is_idempotent(course_dir):
    src, out = course_dir / "solutions", course_dir / "assignments"
    release(src, out)
    old = time.time() - 1000
    for path in out.iterdir():
        os.utime(path, (old, old))
    before = {path: (path.read_bytes(), path.stat().st_mtime) for path in out.iterdir()}
    assert release(src, out) == []
    assert {path: (path.read_bytes(), path.stat().st_mtime) for path in out.iterdir()} == before
    assert release(src, out, check=True) == []


def test_release_rewrites_only_the_changed_notebook(course_dir):
    src, out = course_dir / "solutions", course_dir / "assignments"
    release(src, out)
    nb = nbformat.read(src / "02_relu.ipynb", as_version=4)
    nb.cells.append(new_markdown_cell("One more note."))
    write(nb, src / "02_relu.ipynb")
    assert release(src, out) == [out / "02_relu.ipynb"]
    assert nbformat.read(out / "02_relu.ipynb", as_version=4).cells[-1].source == "One more note."


def test_check_reports_stale_and_missing_files_and_writes_nothing(course_dir):
    src, out = course_dir / "solutions", course_dir / "assignments"
    release(src, out)
    nb = nbformat.read(src / "01_fc.ipynb", as_version=4)
    nb.cells[0].source = nb.cells[0].source.replace("Compute", "Return")
    write(nb, src / "01_fc.ipynb")
    (out / "02_relu.ipynb").unlink()
    stale_bytes = (out / "01_fc.ipynb").read_bytes()
    assert release(src, out, check=True) == [out / "01_fc.ipynb", out / "02_relu.ipynb"]
    assert (out / "01_fc.ipynb").read_bytes() == stale_bytes
    assert not (out / "02_relu.ipynb").exists()


def test_check_on_a_missing_out_folder_lists_everything(course_dir):
    src, out = course_dir / "solutions", course_dir / "assignments"
    assert release(src, out, check=True) == [out / "01_fc.ipynb", out / "02_relu.ipynb"]
    assert not out.exists()


@pytest.mark.parametrize("inside", [".", "released", "a/b"])
def test_release_refuses_to_write_into_solutions(course_dir, inside):
    src = course_dir / "solutions"
    with pytest.raises(ValueError, match="never writes into the masters' folder"):
        release(src, src / inside)
    assert sorted(p.name for p in src.iterdir()) == [
        ".ipynb_checkpoints",
        "01_fc.ipynb",
        "02_relu.ipynb",
    ]


def test_release_refuses_to_overwrite_a_notebook_a_person_wrote(course_dir):
    src, out = course_dir / "solutions", course_dir / "assignments"
    mine = master(new_code_cell("my own work"))
    write(mine, out / "02_relu.ipynb")
    before = (out / "02_relu.ipynb").read_bytes()
    with pytest.raises(ValueError) as info:
        release(src, out)
    message = str(info.value)
    assert "02_relu.ipynb" in message and "not a released notebook" in message
    assert "nothing was written" in message
    assert (out / "02_relu.ipynb").read_bytes() == before
    assert not (out / "01_fc.ipynb").exists()


def test_release_refuses_to_overwrite_a_released_notebook_edited_since(course_dir):
    src, out = course_dir / "solutions", course_dir / "assignments"
    release(src, out)
    student = nbformat.read(out / "01_fc.ipynb", as_version=4)
    student.cells[0].source = student.cells[0].source.replace(
        'raise NotImplementedError("affine_forward: write your code here")', "out = x @ w + b"
    )
    write(student, out / "01_fc.ipynb")
    nb = nbformat.read(src / "01_fc.ipynb", as_version=4)
    nb.cells.append(new_markdown_cell("new"))
    write(nb, src / "01_fc.ipynb")
    with pytest.raises(
        ValueError, match="01_fc.ipynb: its cells were edited after it was released"
    ):
        release(src, out)
    assert "out = x @ w + b" in nbformat.read(out / "01_fc.ipynb", as_version=4).cells[0].source


def test_a_released_notebook_that_is_only_stale_is_replaced(course_dir):
    src, out = course_dir / "solutions", course_dir / "assignments"
    release(src, out)
    nb = nbformat.read(src / "01_fc.ipynb", as_version=4)
    nb.cells.append(new_markdown_cell("One more note."))
    write(nb, src / "01_fc.ipynb")
    assert release(src, out) == [out / "01_fc.ipynb"]
    assert sorted(p.name for p in out.iterdir()) == ["01_fc.ipynb", "02_relu.ipynb"]  # no backup


def test_nothing_is_written_when_one_master_of_several_is_malformed(course_dir):
    src, out = course_dir / "solutions", course_dir / "assignments"
    write(master(new_code_cell("def f():\n    ### BEGIN SOLUTION\n")), src / "03_bad.ipynb")
    with pytest.raises(MarkerError) as info:
        release(src, out)
    message = str(info.value)
    assert "03_bad.ipynb" in message and "cell 1 line 2 is never closed" in message
    assert "nothing was written" in message
    assert not out.exists()


def test_every_broken_master_is_reported_at_once(course_dir):
    src, out = course_dir / "solutions", course_dir / "assignments"
    write(master(new_code_cell("### END SOLUTION")), src / "03_bad.ipynb")
    (src / "04_broken.ipynb").write_text('{"cells": [', encoding="utf-8")
    with pytest.raises(ValueError) as info:
        release(src, out)
    message = str(info.value)
    assert "2 problems" in message and "03_bad.ipynb" in message and "04_broken.ipynb" in message
    assert not out.exists()


@pytest.mark.parametrize(
    "text", ["", "{not json", "[1, 2]", '{"nbformat": 4, "nbformat_minor": 5}'], ids=repr
)
def test_a_malformed_notebook_file_is_named(course_dir, text):
    src, out = course_dir / "solutions", course_dir / "assignments"
    (src / "00_broken.ipynb").write_text(text, encoding="utf-8")
    with pytest.raises(ValueError) as info:
        release(src, out)
    assert "00_broken.ipynb: is not a valid Jupyter notebook" in str(info.value)
    assert not out.exists()


def test_missing_src_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder"):
        release(tmp_path / "nowhere", tmp_path / "out")


def test_released_check_cell_metadata_survives_json(course_dir):
    release(course_dir / "solutions", course_dir / "assignments")
    data = json.loads((course_dir / "assignments" / "01_fc.ipynb").read_text(encoding="utf-8"))
    assert data["cells"][1]["metadata"] == {**CHECK, "tags": ["raises-exception"]}
    assert data["nbformat"] == 4 and data["nbformat_minor"] == 5


# ----- near-miss markers and markers that break the code (issue 10) ------------------

NEAR_MISSES = [
    "### BEGIN SOLUTIONS",
    "###BEGIN_SOLUTION",
    "# begin solution",
    "## BEGIN SOLUTION",
    "#### BEGIN SOLUTION",
    "### Begin Solution",
    "### BEGIN_SOLUTION",
    "### BEGINSOLUTION",
    "###  BEGIN  SOLUTION",
    "### BEGIN SOLUTION please",
    "### BEGIN HIDDEN TEST",
    "### BEGIN\u200b SOLUTION",
    "### BEGIN\u200cSOLUTION",
    "### BEGIN SOLUTION\u200d",
    "\ufeff### BEGIN SOLUTION",
    "###\u2060 BEGIN SOLUTION",
    "###\u00a0BEGIN SOLUTION",
    "### BEGIN\u202fSOLUTION",
    "\u00a0### BEGIN SOLUTION",
    "\uff03\uff03\uff03 BEGIN SOLUTION",
    "x = 1  ### BEGIN SOLUTION",
    "x = '### BEGIN SOLUTION'",
]


@pytest.mark.parametrize("line", NEAR_MISSES, ids=ascii)
def test_a_near_miss_begin_is_refused_and_nothing_is_released(course_dir, line):
    src, out = course_dir / "solutions", course_dir / "assignments"
    code = f"def g(x):\n    {line}\n    return 42 * x\n    ### END SOLUTION\n"
    write(master(new_markdown_cell("intro"), new_code_cell(code)), src / "03_g.ipynb")
    with pytest.raises(MarkerError) as info:
        release(src, out)
    message = str(info.value)
    assert "03_g.ipynb: cell 2 line 2 looks like a marker but is not exactly one" in message
    assert repr(line.strip(" ")) in message
    assert "nothing was written" in message
    assert not out.exists()


@pytest.mark.parametrize(
    "line", ["### END SOLUTIONS", "# end solution", "### END_SOLUTION", "### END SOLUTION ok"]
)
def test_a_near_miss_end_is_refused(line):
    code = f"def g(x):\n    ### BEGIN SOLUTION\n    return 42 * x\n    {line}\n"
    assert "cell 1 line 4 looks like a marker" in error_of(new_code_cell(code))


def test_a_near_miss_names_its_invisible_characters():
    message = error_of(new_code_cell("def g():\n    ### BEGIN\u200b SOLUTION\n    return 1\n"))
    assert "U+200B ZERO WIDTH SPACE" in message
    message = error_of(new_code_cell("###\u00a0END SOLUTION"))
    assert "U+00A0 NO-BREAK SPACE" in message


def test_a_marker_after_code_says_a_marker_stands_alone():
    message = error_of(new_code_cell("x = 1  ### BEGIN SOLUTION\ny = 2\n### END SOLUTION"))
    assert "cell 1 line 1" in message and "alone on its line" in message


def test_a_near_miss_in_markdown_is_refused_but_a_mention_is_not():
    message = error_of(new_code_cell("x = 1"), new_markdown_cell("text\n###BEGIN_SOLUTION\n"))
    assert "cell 2 line 2 is a markdown cell holding a line that looks like a marker" in message
    text = "`### BEGIN SOLUTION` opens the answer.\n## End-to-end training\n## Hidden tests"
    assert release_notebook(master(new_markdown_cell(text))).cells[0].source == text


def test_markers_indented_less_than_their_code_are_refused():
    code = "def g(x):\n### BEGIN SOLUTION\n    y = 2 * x\n### END SOLUTION\n    return y\n"
    message = error_of(new_code_cell("x = 1"), new_code_cell(code))
    assert "cell 2 is valid Python in the master but not once released" in message
    assert "line 3 of the released cell" in message and "IndentationError" in message
    assert "indent the markers like the code they surround" in message


def test_markers_inside_brackets_are_refused():
    code = "out = np.maximum(\n    ### BEGIN SOLUTION\n    0, x\n    ### END SOLUTION\n)\n"
    message = error_of(new_code_cell(code))
    assert "cell 1 is valid Python in the master but not once released" in message
    assert "SyntaxError" in message and "do not put markers inside brackets" in message


def test_magics_are_read_as_pass_in_master_and_release_alike():
    good = "%timeit -n1 g(1)\n!echo hi\n" + FORWARD
    source = release_notebook(master(new_code_cell(good))).cells[0].source
    assert source.startswith("%timeit -n1 g(1)\n!echo hi\n")
    bad = "%timeit g(1)\ndef g(x):\n### BEGIN SOLUTION\n    return x\n### END SOLUTION\n"
    assert "line 4 of the released cell" in error_of(new_code_cell(bad))


def test_a_cell_that_is_not_python_in_the_master_is_not_parsed():
    code = "%%bash\nfor f in *; do\n### BEGIN SOLUTION\necho $f\n### END SOLUTION\ndone\n"
    source = release_notebook(master(new_code_cell(code))).cells[0].source
    assert "echo $f" not in source and "NotImplementedError" in source


# ----- check cells need an exercise (issue 10) ---------------------------------------


def test_a_check_cell_for_a_function_without_a_stub_is_refused(course_dir):
    src, out = course_dir / "solutions", course_dir / "assignments"
    answer = "def relu_forward(x):\n    return np.maximum(0, x), x\n"
    check = check_cell("check_relu_forward(relu_forward)", checks=["relu_forward"])
    write(master(new_code_cell(answer), check), src / "03_relu.ipynb")
    with pytest.raises(MarkerError) as info:
        release(src, out)
    message = str(info.value)
    assert "03_relu.ipynb: cell 2 is a check cell for relu_forward" in message
    assert "no released cell has a stub for relu_forward" in message
    assert "released with no exercise" in message
    assert not out.exists()


def test_a_check_cell_names_only_its_functions_without_a_stub():
    check = check_cell(checks=["affine_forward", "affine_backward"])
    message = error_of(new_code_cell(FORWARD), new_markdown_cell("x"), check)
    assert "cell 3 is a check cell for affine_backward," in message


def test_a_stub_outside_the_checked_function_does_not_count():
    code = "def helper(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n"
    message = error_of(new_code_cell(code), check_cell(checks=["affine_forward"]))
    assert "cell 2 is a check cell for affine_forward" in message


def test_a_check_cell_may_come_before_its_exercise_and_check_a_nested_stub():
    nested = "def outer(x):\n    def inner(y):\n        ### BEGIN SOLUTION\n        return y\n"
    nested += "        ### END SOLUTION\n    return inner(x)\n"
    nb = master(check_cell(checks=["affine_forward", "outer", "inner"]), new_code_cell(FORWARD))
    nb.cells.append(new_code_cell(nested))
    assert "NotImplementedError" in release_notebook(nb).cells[1].source


# ----- malformed masters and folders (issue 10) --------------------------------------


def test_a_folder_without_masters_is_an_error_not_up_to_date(tmp_path):
    (tmp_path / "solutions" / ".ipynb_checkpoints").mkdir(parents=True)
    (tmp_path / "solutions" / "notes.txt").write_text("no notebooks", encoding="utf-8")
    for check in (False, True):
        with pytest.raises(ValueError, match="solutions: holds no master notebooks"):
            release(tmp_path / "solutions", tmp_path / "out", check=check)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda data: data.update(cells={}), '"cells" is an object, not a list'),
        (lambda data: data["cells"][1].update(source=3), "cell 2 has a source that is a number"),
        (lambda data: data["cells"][1].update(source=["a", None]), "cell 2 has a source that"),
        (lambda data: data["cells"][0].pop("cell_type"), "cell 1 has cell_type missing"),
        (lambda data: data["cells"][1].update(metadata=[]), "cell 2 has metadata that is a list"),
    ],
    ids=["cells-object", "source-number", "source-list-null", "no-cell-type", "metadata-list"],
)
def test_a_malformed_master_is_refused_naming_the_cell(course_dir, change, expected):
    src, out = course_dir / "solutions", course_dir / "assignments"
    data = json.loads(nbformat.writes(master(new_markdown_cell("intro"), new_code_cell(FORWARD))))
    change(data)
    (src / "03_bad.ipynb").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError) as info:
        release(src, out)
    message = str(info.value)
    assert "03_bad.ipynb: is not a valid Jupyter notebook" in message and expected in message
    assert not out.exists()


@pytest.mark.parametrize("where", [".", "sub"])
def test_out_that_is_a_file_is_an_error(course_dir, where):
    src, afile = course_dir / "solutions", course_dir / "assignments.txt"
    afile.write_text("mine", encoding="utf-8")
    with pytest.raises(ValueError, match="assignments.txt: is a file"):
        release(src, afile / where)
    assert afile.read_text(encoding="utf-8") == "mine"


# ----- never lose a student's work; --force backs up first (issue 10) ----------------


def released_then(course_dir, change):
    """Release the course, change the released 01_fc.ipynb, make the master newer; return paths."""
    src, out = course_dir / "solutions", course_dir / "assignments"
    release(src, out)
    student = nbformat.read(out / "01_fc.ipynb", as_version=4)
    change(student)
    write(student, out / "01_fc.ipynb")
    nb = nbformat.read(src / "01_fc.ipynb", as_version=4)
    nb.cells.append(new_markdown_cell("A new note."))
    write(nb, src / "01_fc.ipynb")
    return src, out


def run_cell(nb):
    with_output(nb.cells[0])


def only_count(nb):
    nb.cells[1].execution_count = 3


def drop_digest(nb):
    del nb.metadata["course"]["sources_sha256"]
    nb.cells[0].source += "\nmy_work = 1"


def edit_cell(nb):
    nb.cells[0].source += "\nmy_work = 1"


def not_released(nb):
    del nb.metadata["course"]


CHANGES = {
    "run": (run_cell, "it was run (it holds outputs or execution counts)"),
    "counted": (only_count, "it was run"),
    "no-digest": (drop_digest, "is a released notebook without the digest of its cells"),
    "edited": (edit_cell, "its cells were edited after it was released"),
    "not-released": (not_released, "exists and is not a released notebook"),
}


@pytest.mark.parametrize("name", CHANGES)
def test_a_notebook_holding_work_is_not_replaced(course_dir, name):
    change, reason = CHANGES[name]
    src, out = released_then(course_dir, change)
    (out / "02_relu.ipynb").unlink()
    before = (out / "01_fc.ipynb").read_bytes()
    with pytest.raises(ValueError) as info:
        release(src, out)
    message = str(info.value)
    assert f"{out / '01_fc.ipynb'}: {reason}" in message
    assert "release to another folder (--out)" in message and "--force" in message
    assert "nothing was written" in message
    assert (out / "01_fc.ipynb").read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["01_fc.ipynb"]  # 02 not written either
    assert release(src, out, check=True) == [out / "01_fc.ipynb", out / "02_relu.ipynb"]


@pytest.mark.parametrize("name", CHANGES)
def test_force_backs_up_then_replaces(course_dir, name):
    src, out = released_then(course_dir, CHANGES[name][0])
    before = (out / "01_fc.ipynb").read_bytes()
    backups = []
    written = release(src, out, force=True, on_backup=lambda *pair: backups.append(pair))
    assert written == [out / "01_fc.ipynb"]
    [(target, backup)] = backups
    assert target == out / "01_fc.ipynb" and backup.parent == out
    assert backup.name.startswith("01_fc.backup-") and backup.suffix == ".ipynb"
    assert backup.read_bytes() == before
    assert nbformat.read(target, as_version=4).cells[-1].source == "A new note."
    assert release(src, out) == []  # the backup is left alone


def test_force_backs_up_a_file_that_is_no_notebook(course_dir):
    src, out = course_dir / "solutions", course_dir / "assignments"
    out.mkdir()
    (out / "01_fc.ipynb").write_bytes(b"\xffnot a notebook")
    backups = []
    release(src, out, force=True, on_backup=lambda *pair: backups.append(pair))
    assert backups[0][1].read_bytes() == b"\xffnot a notebook"
    assert "cells" in json.loads((out / "01_fc.ipynb").read_text(encoding="utf-8"))


def test_a_folder_in_the_way_is_refused_even_with_force(course_dir):
    src, out = course_dir / "solutions", course_dir / "assignments"
    (out / "01_fc.ipynb").mkdir(parents=True)
    with pytest.raises(ValueError, match="01_fc.ipynb: is a folder where the release would"):
        release(src, out, force=True)
    assert sorted(p.name for p in out.iterdir()) == ["01_fc.ipynb"]


def test_force_leaves_an_unchanged_notebook_alone(course_dir):
    src, out = course_dir / "solutions", course_dir / "assignments"
    release(src, out)
    old = time.time() - 1000
    os.utime(out / "01_fc.ipynb", (old, old))
    assert release(src, out, force=True, on_backup=pytest.fail) == []
    assert (out / "01_fc.ipynb").stat().st_mtime == old


# ----- the command line (issue 10) ----------------------------------------------------


def cli(*argv: str) -> int:
    from course.cli import main

    return main(list(argv))


def test_cli_force_prints_the_backup(course_dir, capsys):
    src, out = released_then(course_dir, run_cell)
    assert cli("release", str(src), "--out", str(out)) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"course release: error: {out / '01_fc.ipynb'}: it was run")
    assert cli("release", str(src), "--out", str(out), "--force") == 0
    printed = capsys.readouterr().out.splitlines()
    backup = next(out.glob("01_fc.backup-*.ipynb"))
    assert printed == [
        f"backed up {out / '01_fc.ipynb'} to {backup}",
        f"wrote {out / '01_fc.ipynb'}",
    ]


def test_cli_check_says_which_stale_notebooks_need_force(course_dir, capsys):
    src, out = released_then(course_dir, edit_cell)
    assert cli("release", str(src), "--out", str(out), "--check") == 1
    printed = capsys.readouterr().out
    assert (
        f"  {out / '01_fc.ipynb'} (out of date; its cells were edited after it was released: "
        "the release replaces it only with --force)\n"
    ) in printed


def test_cli_check_and_force_exclude_each_other(course_dir, capsys):
    with pytest.raises(SystemExit) as info:
        cli("release", "solutions", "--out", "assignments", "--check", "--force")
    assert info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


@pytest.mark.parametrize("case", ["out-is-a-file", "empty-src", "near-miss"])
def test_cli_refusals_are_one_line_errors(course_dir, capsys, case):
    src, out = course_dir / "solutions", course_dir / "assignments"
    if case == "out-is-a-file":
        out.write_text("mine", encoding="utf-8")
        expected = f"{out}: is a file"
    elif case == "empty-src":
        src = course_dir / "empty"
        src.mkdir()
        expected = f"{src}: holds no master notebooks"
    else:
        write(master(new_code_cell("###BEGIN_SOLUTION\nx = 1\n")), src / "03_bad.ipynb")
        expected = "03_bad.ipynb: cell 1 line 1 looks like a marker"
    assert cli("release", str(src), "--out", str(out)) == 1
    err = capsys.readouterr().err
    assert err.startswith("course release: error: ") and expected in err
    assert "Traceback" not in err
    if case != "near-miss":
        assert err.count("\n") == 1
