"""Tests for course/classroom/release.py: stubs, hidden tests, metadata, errors, the folder.

The ``course release`` command is tested in tests/test_cli.py.
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
    source = release_notebook(master(check_cell(code))).cells[0].source
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
    assert released.cells[2].metadata == CHECK
    assert released.cells[3].source == "raw text"
    assert released.metadata["kernelspec"] == KERNELSPEC
    assert released.metadata["course"]["title"] == "FC nets"
    assert released.metadata["course"]["released_from"] == "01_fc.ipynb"
    nbformat.validate(released)


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
    assert released.cells[1].metadata == CHECK
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


def test_a_released_notebook_that_was_only_run_is_refreshed(course_dir):
    src, out = course_dir / "solutions", course_dir / "assignments"
    release(src, out)
    ran = nbformat.read(out / "01_fc.ipynb", as_version=4)
    with_output(ran.cells[0])
    write(ran, out / "01_fc.ipynb")
    assert release(src, out) == [out / "01_fc.ipynb"]
    assert nbformat.read(out / "01_fc.ipynb", as_version=4).cells[0].outputs == []


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
    assert data["cells"][1]["metadata"] == CHECK
    assert data["nbformat"] == 4 and data["nbformat_minor"] == 5
