"""Tests for course/grading/_sandbox.py: what graded code may touch in the worker."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import course
from course.grading.worker import StudentError, Worker

LIMITS = {"cell_timeout": 10, "total_timeout": 60, "memory_mb": 1024}
SOLUTIONS = Path(course.__file__).resolve().parents[1] / "solutions"


def run_cell(source: str) -> tuple[str, str]:
    """(status, message) of one cell run in a fresh worker."""
    with Worker([source], **LIMITS) as worker:
        (result,) = worker.run_cells()
    return result.status, f"{result.error_type}: {result.message}"


@pytest.mark.parametrize(
    ("source", "refused"),
    [
        # the master notebook sits beside the package: the answers, in reach of a path guess
        (
            "import course, pathlib\nroot = pathlib.Path(course.__file__).parents[1]\n"
            "text = (root / 'solutions' / '01_fully_connected.ipynb').read_text()",
            "read",
        ),
        ("import os\nos.listdir(os.path.expanduser('/tmp'))", "list /tmp"),
        ("open('/tmp/course-fake-results.json', 'w').write('{}')", "write /tmp/course-fake"),
        ("import os\nos.remove('/etc/hostname')", "change /etc/hostname"),
        ("import subprocess\nsubprocess.run(['true'])", "start a process"),
        ("import os\nos.system('true')", "start a process"),
        ("import os\nos.fork()", "start a process"),
        ("import os\nos.kill(os.getppid(), 9)", "signal another process"),
        (
            "import socket\nsocket.create_connection(('127.0.0.1', 9), timeout=1)",
            "use the network",
        ),
        ("import ctypes\nctypes.CDLL(None)", "ctypes"),
        ("import resource\nresource.setrlimit(resource.RLIMIT_AS, (-1, -1))", "resource"),
        ("import gc\ngc.get_objects()", "walk the interpreter"),
    ],
    ids=[
        "read-master",
        "list-tmp",
        "write-outside",
        "delete-outside",
        "subprocess",
        "os-system",
        "fork",
        "kill-grader",
        "network",
        "ctypes",
        "rlimit",
        "gc-walk",
    ],
)
def test_the_fence_refuses(source, refused):
    status, message = run_cell(source)
    assert status == "error"
    assert message.startswith("PermissionError: graded code may not")
    assert refused in message


def test_what_a_notebook_needs_still_works():
    source = """
import numpy as np
import matplotlib.pyplot as plt
from course.models.pretrained import load_pretrained
from course.data.shapes import load_shapes

model = load_pretrained()                 # the package's weights: readable
np.save('x.npy', np.arange(3))            # its own folder: writable
assert np.load('x.npy').sum() == 3
plt.plot([1, 2]); plt.savefig('plot.png')
import threading
t = threading.Thread(target=print, args=('a thread outside a graded call',)); t.start(); t.join()
"""
    status, message = run_cell(source)
    assert status == "ok", message


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            "    import sys\n    watch = sys.getprofile()\n    sys.setprofile(None)\n"
            "    out = _ref(x, w, b)\n    sys.setprofile(watch)\n    return out",
            "profiler",
        ),
        (
            "    import threading\n    box = []\n"
            "    t = threading.Thread(target=lambda: box.append(_ref(x, w, b)))\n"
            "    t.start(); t.join()\n    return box[0]",
            "start.? a thread",
        ),
    ],
    ids=["profiler", "thread"],
)
def test_a_graded_call_cannot_hide_a_call_to_the_reference(body, reason):
    header = "from course.layers import affine_forward as _ref\ndef affine_forward(x, w, b):\n"
    cell = header + body
    with Worker([cell], **LIMITS) as worker:
        assert worker.run_cells()[0].ok
        x, w, b = np.ones((2, 3)), np.ones((3, 4)), np.zeros(4)
        out, _ = worker.function("affine_forward")(x, w, b)  # not graded: allowed
        assert out.shape == (2, 4)
        worker.forbid(["affine_forward"])
        with pytest.raises(StudentError, match=reason):
            worker.function("affine_forward")(x, w, b)
