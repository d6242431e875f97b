"""Tests for course/classroom/progress.py: statuses from a real headless run, and the table.

One small notebook is executed once (module fixture) and covers every status: a kernel
start dominates the time, so the tests share it. The ``course progress`` command is
tested in tests/test_cli.py, the IPython display of failed checks in
tests/test_checks_display.py.
"""

from __future__ import annotations

import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course.classroom.progress import (
    DETAIL_WIDTH,
    ExerciseResult,
    format_progress,
    notebook_progress,
)

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def check_cell(source: str, name: str, points: int):
    return new_code_cell(
        source, metadata={"course": {"check": True, "points": points, "checks": [name]}}
    )


CELLS = [
    new_markdown_cell("# A tiny exercise notebook"),
    new_code_cell(
        "from course.checks.core import CheckFailed\n"
        "from course.checks.display import install_check_display\n"
        "install_check_display()"
    ),
    new_code_cell("def f(x):\n    return 2 * x\n\ndef s(x):\n    raise NotImplementedError('s')"),
    # 4: passes (two OK lines: the details are joined)
    check_cell(
        'assert f(2) == 4\nprint("OK f: relative errors x 1e-10 <= 1e-07")\n'
        'print("OK f2: relative errors y 2e-12 <= 1e-07")',
        "f",
        3,
    ),
    # 5: the check raises CheckFailed (shown as one line by install_check_display)
    check_cell('raise CheckFailed("g: out is wrong: relative error 0.5 > 1e-09")', "g", 2),
    # 6: the check reports an unimplemented function
    check_cell(
        'raise CheckFailed("h: h is not implemented yet; write it between the markers")', "h", 1
    ),
    # 7: a stub called directly
    check_cell("s(1)", "s", 1),
    # 8: the student's own error, chained: the traceback is shown, the status is fail
    check_cell(
        "try:\n    1 / 0\nexcept ZeroDivisionError as error:\n"
        '    raise CheckFailed("k: k raised ZeroDivisionError: division by zero") from error',
        "k",
        1,
    ),
    # 9: an endless loop
    check_cell("while True:\n    pass", "loop", 4),
    # 10: runs after the timeout, in the notebook's own folder
    check_cell(
        "import pathlib\n"
        "assert pathlib.Path('data.txt').read_text() == 'here'\n"
        'print("OK cwd: relative errors x 0 <= 1e-07")',
        "cwd",
        1,
    ),
    # 11: printed nothing
    check_cell("x = 1", "silent", 1),
    new_code_cell("import os\nos._exit(1)"),
    # 13: never runs: the kernel died
    check_cell('print("OK never: x")', "never", 2),
]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Run the notebook once; return (path, bytes before, mtime before, results)."""
    folder = tmp_path_factory.mktemp("student")
    (folder / "data.txt").write_text("here")
    path = folder / "01_tiny.ipynb"
    nbformat.write(new_notebook(cells=CELLS, metadata={"kernelspec": KERNELSPEC}), str(path))
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    return path, before, notebook_progress(path, timeout=2)


def by_name(results) -> dict[str, ExerciseResult]:
    return {result.checks[0]: result for result in results}


def test_every_check_cell_gets_a_status(executed):
    _, _, results = executed
    assert [result.cell_number for result in results] == [4, 5, 6, 7, 8, 9, 10, 11, 13]
    statuses = {name: result.status for name, result in by_name(results).items()}
    assert statuses == {
        "f": "pass",
        "g": "fail",
        "h": "not implemented",
        "s": "not implemented",
        "k": "fail",
        "loop": "timeout",
        "cwd": "pass",
        "silent": "fail",
        "never": "not run",
    }


def test_details_say_what_was_measured_or_what_went_wrong(executed):
    results = by_name(executed[2])
    assert results["f"].detail == (
        "relative errors x 1e-10 <= 1e-07; relative errors y 2e-12 <= 1e-07"
    )
    assert results["g"].detail == "g: out is wrong: relative error 0.5 > 1e-09"
    assert results["h"].detail.startswith("h: h is not implemented yet")
    assert results["s"].detail == "s"
    assert results["k"].detail == "k: k raised ZeroDivisionError: division by zero"
    assert "2 s" in results["loop"].detail and "interrupted" in results["loop"].detail
    assert "no OK line" in results["silent"].detail
    assert "kernel died while cell 12 ran" in results["never"].detail
    assert results["f"].points == 3 and results["f"].earned == 3
    assert results["loop"].points == 4 and results["loop"].earned == 0


def test_the_notebook_file_is_not_modified(executed):
    path, (data, mtime), _ = executed
    assert path.read_bytes() == data and path.stat().st_mtime_ns == mtime


def test_table_of_the_run(executed):
    table = format_progress(executed[2])
    lines = table.splitlines()
    assert lines[0].split() == ["cell", "exercise(s)", "points", "status", "detail"]
    assert lines[1].split()[:5] == ["4", "f", "3", "/", "3"]
    assert "  pass  " in lines[1]
    assert "not implemented" in lines[3]
    assert lines[-1] == "Score: 4 / 16 points; 2 of 9 checks pass"
    columns = {line.index(line.split()[1]) for line in lines[1:-1]}
    assert len(columns) == 1  # the exercise column is aligned


def test_format_progress_truncates_long_details_and_joins_exercises():
    results = [
        ExerciseResult(3, ("affine_forward",), 3, "pass", "relative errors out 2e-16 <= 1e-09"),
        ExerciseResult(7, ("relu_forward", "relu_backward"), 2, "fail", "relu_backward: " * 20),
    ]
    lines = format_progress(results).splitlines()
    assert lines[0] == ("cell  exercise(s)                  points  status  detail")
    assert lines[1] == (
        "   3  affine_forward                3 / 3  pass    relative errors out 2e-16 <= 1e-09"
    )
    assert lines[2].startswith("   7  relu_forward, relu_backward   0 / 2  fail    relu_backward:")
    detail = lines[2][lines[2].index("relu_backward:") :]
    assert detail.endswith("...") and len(detail) == DETAIL_WIDTH
    assert lines[3] == "Score: 3 / 5 points; 1 of 2 checks pass"


def test_format_progress_of_a_notebook_without_checks():
    table = format_progress([])
    assert "no check cells" in table
    assert table.endswith("Score: 0 / 0 points; 0 of 0 checks pass")


def test_bad_check_metadata_is_rejected_before_running(tmp_path):
    cell = new_code_cell("x", metadata={"course": {"check": True, "points": "3", "checks": ["f"]}})
    path = tmp_path / "bad.ipynb"
    nbformat.write(new_notebook(cells=[cell], metadata={"kernelspec": KERNELSPEC}), str(path))
    with pytest.raises(ValueError, match="cell 1 is a check cell whose points must be"):
        notebook_progress(path)


def test_progress_module_imports_without_jupyter_machinery():
    # The course CLI and the graders import it: it stays light (nbformat, nbclient
    # and IPython are imported only when used).
    code = (
        "import sys, course.classroom.progress\n"
        "heavy = {'nbformat', 'nbclient', 'IPython'} & set(sys.modules)\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
