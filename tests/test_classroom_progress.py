"""Tests for course/classroom/progress.py and notebook_run.py: statuses from a real headless
run (timeouts, cells that will not stop, Ctrl-C), and the table (cut details, --verbose,
cells numbered as JupyterLab counts, no kernel warning before it).

One small notebook is executed once (module fixture) and covers every status: a kernel
start dominates the time, so the tests share it. Then the cells that do not stop when
interrupted (the kernel is restarted), a run started from a running event loop (as in a
notebook), and Ctrl-C during ``course progress`` (one line, exit status 130, no kernel
left). The rest of the ``course progress`` command is tested in tests/test_cli.py, the
IPython display of failed checks in tests/test_checks_display.py.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course.classroom import notebook_run
from course.classroom.notebook_run import INTERRUPT_GRACE
from course.classroom.progress import (
    CELL_LEGEND,
    CUT_NOTE,
    DETAIL_WIDTH,
    VERBOSE_WIDTH,
    ExerciseResult,
    format_progress,
    notebook_progress,
)
from course.cli import main

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
    assert lines[-3:] == ["Score: 4 / 16 points; 2 of 9 checks pass", CELL_LEGEND, CUT_NOTE]
    columns = {line.index(line.split()[1]) for line in lines[1:-3]}
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
    assert lines[3:] == ["Score: 3 / 5 points; 1 of 2 checks pass", CELL_LEGEND, CUT_NOTE]


def test_the_cut_note_is_printed_only_when_a_detail_was_cut():
    short = [ExerciseResult(3, ("f",), 1, "pass", "relative errors out 2e-16 <= 1e-09")]
    assert format_progress(short).splitlines()[-2:] == [
        "Score: 1 / 1 points; 1 of 1 checks pass",
        CELL_LEGEND,
    ]
    assert "--verbose" in CUT_NOTE and "..." in CUT_NOTE


def test_verbose_prints_every_full_detail_wrapped_under_the_table():
    long = "relu_backward: dx is wrong: relative error 0.5 > 1e-09; " + "hint words " * 20
    results = [
        ExerciseResult(3, ("affine_forward",), 3, "pass", "relative errors out 2e-16 <= 1e-09"),
        ExerciseResult(7, ("relu_forward", "relu_backward"), 2, "fail", long + "\nsecond line"),
    ]
    compact = format_progress(results)
    lines = format_progress(results, verbose=True).splitlines()
    assert lines[: len(compact.splitlines()) - 1] == compact.splitlines()[:-1]  # same table
    assert CUT_NOTE not in lines
    listing = lines[lines.index(CELL_LEGEND) + 1 :]
    assert listing[0] == "" and listing[1] == "cell 3  affine_forward: pass"
    assert listing[2] == "    relative errors out 2e-16 <= 1e-09"
    assert listing[4] == "cell 7  relu_forward, relu_backward: fail"
    body = listing[5:]
    assert len(body) > 2 and all(len(line) <= VERBOSE_WIDTH for line in body)
    assert all(line.startswith("    ") for line in body)
    assert " ".join(" ".join(body).split()) == " ".join((long + " second line").split())
    assert body[-1] == "    second line"  # the message's own lines are kept


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


# ---------------------------------------------------------------------------
# What a student sees: only the table, cells numbered as in JupyterLab, --verbose
# ---------------------------------------------------------------------------

LONG_FAILURE = (
    "g: out is wrong: relative error 0.5 > 1e-09 at out[0, 1]; check the sign of the bias "
    "term and the order of the matrix product"
)
STUDENT_CELLS = [
    new_markdown_cell("# Exercise 1"),  # JupyterLab's cell 1
    new_markdown_cell("Read this first."),  # 2
    new_code_cell(  # 3
        "from course.checks.core import CheckFailed\n"
        "from course.checks.display import install_check_display\n"
        "install_check_display()"
    ),
    new_markdown_cell("## Your turn"),  # 4
    check_cell('print("OK f: relative errors x 1e-10 <= 1e-07")', "f", 2),  # 5
    new_markdown_cell("## The next one"),  # 6
    check_cell(f"raise CheckFailed({LONG_FAILURE!r})", "g", 3),  # 7
]


@pytest.fixture(scope="module")
def student_notebook(tmp_path_factory) -> Path:
    return write_notebook(tmp_path_factory.mktemp("lab"), STUDENT_CELLS)


def test_course_progress_prints_only_its_table_numbered_as_jupyterlab(student_notebook):
    command = subprocess.run(
        [sys.executable, "-m", "course", "progress", str(student_notebook)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert command.returncode == 0, command.stderr
    assert "TCP" not in command.stdout + command.stderr  # no kernel warning
    assert command.stderr.splitlines() == [
        f"running {student_notebook} in a fresh kernel (a cell may take up to 600 s)..."
    ]
    lines = command.stdout.splitlines()
    assert lines[0].split() == ["cell", "exercise(s)", "points", "status", "detail"]
    # the markdown cells count: the checks are JupyterLab's cells 5 and 7
    assert [line.split()[0] for line in lines[1:3]] == ["5", "7"]
    assert lines[1].split()[1:5] == ["f", "2", "/", "2"]
    assert lines[2].endswith("...") and LONG_FAILURE not in command.stdout
    assert lines[3:] == ["Score: 2 / 5 points; 1 of 2 checks pass", CELL_LEGEND, CUT_NOTE]
    assert "JupyterLab" in CELL_LEGEND and "markdown" in CELL_LEGEND


def test_course_progress_verbose_prints_the_full_messages(student_notebook, capsys):
    assert main(["progress", "-v", str(student_notebook)]) == 0
    out = capsys.readouterr().out
    listing = out[out.index("cell 7  g: fail") :]
    assert " ".join(listing.split()[4:]) == LONG_FAILURE  # whole, wrapped, not cut
    assert CUT_NOTE not in out


class FakeKernelManager:
    """What :func:`notebook_run._choose_transport` reads of a jupyter_client KernelManager."""

    def __init__(self, supported_encryption, has_encryption_setting=True):
        self.kernel_spec = type("Spec", (), {"metadata": {}})()
        if supported_encryption is not None:
            self.kernel_spec.metadata["supported_encryption"] = supported_encryption
        self.has_encryption_setting = has_encryption_setting

    def has_trait(self, name):
        return name == "transport_encryption" and self.has_encryption_setting


def test_the_kernel_gets_curve_encryption_else_ipc_never_plain_tcp_where_avoidable():
    zmq = pytest.importorskip("zmq")
    fallback = "ipc" if zmq.has("ipc") and os.name != "nt" else "tcp"
    choose = notebook_run._choose_transport
    if zmq.has("curve"):
        assert choose(FakeKernelManager(["curve"])) == "curve"
        assert choose(FakeKernelManager("Curve")) == "curve"
    assert choose(FakeKernelManager(None)) == fallback  # the kernel does not declare Curve
    assert choose(FakeKernelManager(["curve"], has_encryption_setting=False)) == fallback


def test_ipc_transport_runs_quietly_and_leaves_no_sockets(tmp_path, monkeypatch, capfd):
    # Where the kernel cannot be given CurveZMQ keys, it talks over IPC sockets in a private
    # folder (not plain TCP, which makes ipykernel warn on stderr); the folder is removed.
    monkeypatch.setattr(notebook_run, "_choose_transport", lambda km: "ipc")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    path = write_notebook(tmp_path, [check_cell('print("OK f: x 0 <= 1")', "f", 1)])
    (result,) = notebook_progress(path, timeout=30)
    assert result.status == "pass"
    assert "TCP" not in capfd.readouterr().err
    assert not list(tmp_path.glob("course-kernel-*"))


# ---------------------------------------------------------------------------
# A cell that does not stop when interrupted
# ---------------------------------------------------------------------------

SWALLOWS_INTERRUPTS = (
    "import time\n"
    "while True:\n"
    "    try:\n"
    "        time.sleep(1)\n"
    "    except KeyboardInterrupt:\n"
    "        pass"
)


def write_notebook(folder: Path, cells: list) -> Path:
    path = folder / "student.ipynb"
    nbformat.write(new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC}), str(path))
    return path


def test_a_cell_that_swallows_the_interrupt_is_the_only_timeout(tmp_path):
    path = write_notebook(
        tmp_path,
        [
            new_code_cell("value = 21\nprint('setup')"),
            check_cell('assert value == 21\nprint("OK before: x 0 <= 1")', "before", 1),
            check_cell(SWALLOWS_INTERRUPTS, "stuck", 2),
            # each later cell uses what the cells above the stuck one defined
            check_cell('assert value == 21\nprint("OK after: x 0 <= 1")', "after", 3),
            new_code_cell("value = value * 2"),
            check_cell('assert value == 42\nprint("OK later: x 0 <= 1")', "later", 1),
            check_cell('print("OK last: x 0 <= 1")', "last", 1),
        ],
    )
    timeout = 2
    started = time.monotonic()
    results = by_name(notebook_progress(path, timeout=timeout))
    elapsed = time.monotonic() - started
    statuses = {name: result.status for name, result in results.items()}
    assert statuses == {
        "before": "pass",
        "stuck": "timeout",
        "after": "pass",
        "later": "pass",
        "last": "pass",
    }
    assert results["stuck"].detail == (
        "ran longer than 2 s, ignored the interrupt: kernel restarted"
    )
    # One timeout, one grace period and one restart; not a timeout for every later cell.
    assert elapsed < timeout + INTERRUPT_GRACE + 10, elapsed


def test_when_a_cell_fails_on_the_rerun_the_rest_is_not_run(tmp_path):
    once = (
        "import pathlib\n"
        "marker = pathlib.Path('ran-once')\n"
        "assert not marker.exists(), 'this cell runs only once'\n"
        "marker.touch()"
    )
    path = write_notebook(
        tmp_path,
        [
            new_code_cell(once),
            new_code_cell(SWALLOWS_INTERRUPTS),
            check_cell('print("OK after: x 0 <= 1")', "after", 1),
        ],
    )
    (result,) = notebook_progress(path, timeout=2)
    assert result.status == "not run"
    assert result.detail == (
        "cell 2 did not stop when interrupted, and in the restarted kernel cell 1 failed "
        "when run again, so this cell did not run"
    )


def test_progress_runs_from_a_running_event_loop(tmp_path):
    # In a notebook (an instructor's), an event loop already runs in the thread.
    path = write_notebook(tmp_path, [check_cell('print("OK f: x 0 <= 1")', "f", 1)])

    async def from_a_notebook():
        return notebook_progress(path, timeout=30)

    (result,) = asyncio.run(from_a_notebook())
    assert result.status == "pass"


# ---------------------------------------------------------------------------
# Ctrl-C during `course progress`
# ---------------------------------------------------------------------------


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT")
def test_ctrl_c_prints_one_line_exits_130_and_leaves_no_kernel(tmp_path):
    psutil = pytest.importorskip("psutil")
    path = write_notebook(
        tmp_path,
        [
            new_code_cell("import pathlib, time\npathlib.Path('started').touch()\ntime.sleep(60)"),
            check_cell('print("OK f: x 0 <= 1")', "f", 1),
        ],
    )
    command = subprocess.Popen(
        [sys.executable, "-m", "course", "progress", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "started").exists():
            assert command.poll() is None, command.communicate()
            assert time.monotonic() < deadline, "the sleeping cell never started"
            time.sleep(0.1)
        kernels = psutil.Process(command.pid).children(recursive=True)
        assert kernels, "the kernel should be a child of course progress"
        command.send_signal(signal.SIGINT)
        stdout, stderr = command.communicate(timeout=15)
    finally:
        if command.poll() is None:
            command.kill()
            command.communicate()
    assert command.returncode == 130, stderr
    assert "Traceback" not in stderr, stderr
    assert stderr.rstrip().endswith("course progress: interrupted; no results")
    assert stdout == ""  # no table
    _, alive = psutil.wait_procs(kernels, timeout=5)
    assert not alive, f"kernel processes left running: {alive}"
