"""Tests for course/grading/worker.py: student code runs in a worker, checks run in the grader."""

from __future__ import annotations

import io
import os
import time

import numpy as np
import pytest

from course.checks import CheckFailed, check_affine_backward, check_affine_forward
from course.grading._protocol import ProtocolError, load_array, pack_frame
from course.grading.worker import RemoteHandle, StudentError, Untransferable, Worker, WorkerDied

LIMITS = {"cell_timeout": 2, "total_timeout": 30, "memory_mb": 512}

AFFINE = """
import numpy as np
%matplotlib inline

def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b  # (N, M)
    return out, (x, w, b)

def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    return dx, dw, dout.sum(axis=0)
"""

WRONG_AFFINE = """
import numpy as np

def affine_forward(x, w, b):
    return x.reshape(x.shape[0], -1) @ w, (x, w, b)  # forgets the bias

def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    return dx, x.reshape(x.shape[0], -1).T @ dout, dout.mean(axis=0)  # mean, not sum
"""


def run(cells: list[str], **limits) -> tuple[Worker, list]:
    worker = Worker(cells, **(LIMITS | limits))
    return worker, worker.run_cells()


def test_a_correct_affine_layer_passes_the_checks_through_proxies(capsys):
    worker, results = run([AFFINE, "print('ready')"])
    with worker:
        assert [r.status for r in results] == ["ok", "ok"]
        assert results[1].output == "ready\n"
        forward, backward = worker.function("affine_forward"), worker.function("affine_backward")
        check_affine_forward(forward)
        check_affine_backward(forward, backward)
    assert capsys.readouterr().out.count("OK affine_") == 2


def test_a_wrong_affine_layer_fails_the_checks_with_their_usual_message():
    worker, _ = run([WRONG_AFFINE])
    with worker:
        forward, backward = worker.function("affine_forward"), worker.function("affine_backward")
        with pytest.raises(CheckFailed, match=r"affine_forward: out .*is wrong"):
            check_affine_forward(forward)
        with pytest.raises(CheckFailed, match=r"affine_backward: db is wrong"):
            check_affine_backward(forward, backward)


def test_a_cache_object_stays_in_the_worker_and_comes_back_as_the_object():
    cache_class = AFFINE.replace("return out, (x, w, b)", "return out, Cache(x, w, b)").replace(
        "x, w, b = cache", "x, w, b = cache.x, cache.w, cache.b"
    )
    cells = ["class Cache:\n    def __init__(self, *xwb):\n        self.x, self.w, self.b = xwb"]
    worker, results = run([*cells, cache_class])
    with worker:
        assert all(r.ok for r in results)
        out, cache = worker.function("affine_forward")(
            np.ones((2, 3)), np.ones((3, 4)), np.zeros(4)
        )
        assert isinstance(out, np.ndarray) and type(out) is np.ndarray and out.shape == (2, 4)
        assert isinstance(cache, RemoteHandle) and cache.type_name == "Cache"
        check_affine_backward(
            worker.function("affine_forward"), worker.function("affine_backward")
        )


def test_an_in_place_edit_of_an_input_is_seen_by_the_check():
    mutating = AFFINE.replace("x, w, b = cache\n", "x, w, b = cache\n    x *= 2\n", 1)
    worker, _ = run([mutating])
    with worker, pytest.raises(CheckFailed, match="changed its input argument 2 in place"):
        check_affine_backward(
            worker.function("affine_forward"), worker.function("affine_backward")
        )


def test_an_infinite_loop_is_a_timeout_and_earlier_results_are_kept():
    worker, results = run([AFFINE, "while True:\n    pass", "x = 1"], cell_timeout=1)
    with worker:
        assert [r.status for r in results] == ["ok", "timeout", "not run"]
        assert "timeout after 1 s in cell 1" in results[1].message
        assert results[2].message == results[1].message
        with pytest.raises(WorkerDied, match="timeout after 1 s"):
            worker.function("affine_forward")(np.ones((1, 1)), np.ones((1, 1)), np.ones(1))


def test_a_call_that_never_returns_kills_the_worker_and_later_calls_fail_at_once():
    worker, _ = run(["def spin(*args):\n    while True:\n        pass"], cell_timeout=1)
    with worker:
        with pytest.raises(CheckFailed, match="raised WorkerDied: timeout after 1 s in spin"):
            check_affine_forward(worker.function("spin"))
        with pytest.raises(WorkerDied, match="timeout after 1 s in spin"):
            worker.function("spin")(1)  # the first death's reason: nothing ran again


def test_os_exit_in_a_cell_is_reported_as_the_worker_exiting():
    worker, results = run(["x = 1", "import os\nos._exit(3)", "y = 2"])
    with worker:
        assert [r.status for r in results] == ["ok", "died", "not run"]
        assert "worker exited with status 3 during cell 1" in results[1].message


def test_a_segfault_is_reported_as_a_crash():
    worker, results = run(["import ctypes\nctypes.string_at(0)"])
    with worker:
        assert results[0].status == "died"
        assert "crashed with SIGSEGV" in results[0].message


def test_a_memory_bomb_fails_its_cell_within_the_limit():
    worker, results = run(
        [
            "x = bytearray(4 * 1024**3)",
            "import numpy as np\ny = np.ones((1024, 1024, 1024))",
            "z = 3",
        ]
    )
    with worker:
        if not worker.limits.get("RLIMIT_AS"):
            pytest.skip("RLIMIT_AS is not enforced on this platform")
        for result in results[:2]:
            assert result.status in ("error", "died"), result
            assert "MemoryError" in (result.error_type or "") or "killed" in result.message
            assert "512 MB" in result.message
        assert results[2].ok  # a MemoryError costs only its cell


def test_fifty_megabytes_of_output_finish_and_only_the_tail_is_kept():
    cells = [
        "for i in range(50):\n    print(str(i) * 1_000_000)",
        "import os\nos.write(1, b'y' * 50_000_000)\nos.write(2, b'END')",
    ]
    worker, results = run(cells)
    with worker:
        assert [r.status for r in results] == ["ok", "ok"]
        assert len(results[0].output) <= 64 * 1024 and results[0].output.endswith("49\n")
        for _ in range(200):  # the grader drains the worker's own stdout in a thread
            if worker.stray_output.endswith("END"):
                break
            time.sleep(0.05)
        assert len(worker.stray_output) <= 64 * 1024 and worker.stray_output.endswith("END")


def test_an_always_equal_object_comes_back_as_a_handle_and_fails_the_check():
    cell = (
        "class E:\n    __eq__ = lambda self, other: True\n    __array_priority__ = 1000\n"
        "def affine_forward(x, w, b):\n    return E(), E()\n"
        "def always_equal():\n    return E()"
    )
    worker, _ = run([cell])
    with worker:
        value = worker.function("always_equal")()
        assert isinstance(value, RemoteHandle) and value.type_name == "E"
        assert not np.array_equal(value, np.zeros(3))
        with pytest.raises(CheckFailed, match="should be a numpy array .* got RemoteHandle"):
            check_affine_forward(worker.function("affine_forward"))


def test_monkeypatching_numpy_or_the_checks_in_the_worker_changes_nothing_in_the_grader():
    cheat = (
        "import numpy, course.checks.core as core\n"
        "numpy.allclose = lambda *a, **k: True\n"
        "core.compare = lambda *a, **k: 0.0\n"
        "core.rel_error = lambda *a, **k: 0.0\n"
        "import builtins\nbuiltins.isinstance = lambda *a: True"
    )
    worker, results = run([WRONG_AFFINE, cheat])
    with worker:
        assert results[1].ok
        with pytest.raises(CheckFailed, match="affine_forward: out .*is wrong"):
            check_affine_forward(worker.function("affine_forward"))
    assert not np.allclose(0.0, 1.0)


def test_a_pickle_never_crosses_the_boundary():
    pickled = io.BytesIO()
    np.save(pickled, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ProtocolError, match="refused an array payload of dtype object"):
        load_array(pickled.getvalue())
    cell = (
        "import numpy as np, io, os, sys\n"
        "from course.grading._protocol import pack_frame\n"
        "def objects():\n    return np.array([object()], dtype=object)\n"
        "def forge(seq, frame):\n    os.write(int(sys.argv[2]), frame)\n    return 0"
    )
    worker, _ = run([cell])
    with worker:
        assert isinstance(worker.function("objects")(), RemoteHandle)  # never unpickled
        with pytest.raises(Untransferable, match="dtype object"):
            worker.function("objects")(np.array([None], dtype=object))
        seq = worker._seq + 1  # a malicious worker can guess it: the reply is refused anyway
        forged = pack_frame(
            {"seq": seq, "status": "ok", "value": {"$": "array", "i": 0}}, [pickled.getvalue()]
        )
        with pytest.raises(ProtocolError, match="refused an array payload of dtype object"):
            worker.function("forge")(seq, np.frombuffer(forged, dtype=np.uint8))
        with pytest.raises(WorkerDied, match="out of order"):  # its real reply is now stale
            worker.function("objects")()


def test_the_students_exception_is_raised_as_a_student_error():
    cell = (
        "def affine_forward(x, w, b):\n    raise ValueError('shapes do not match')\n"
        "def stub(*args):\n    raise NotImplementedError"
    )
    worker, _ = run([cell])
    with worker:
        with pytest.raises(StudentError) as caught:
            worker.function("affine_forward")(1, 2, 3)
        assert type(caught.value).__name__ == "ValueError"
        assert caught.value.message == "shapes do not match"
        assert "cell 0, line 2, in affine_forward" in str(caught.value)
        with pytest.raises(
            CheckFailed, match="affine_forward: your function raised ValueError: shapes do not"
        ):
            check_affine_forward(worker.function("affine_forward"))
        with pytest.raises(CheckFailed, match="stub is not implemented yet"):
            check_affine_forward(worker.function("stub"))
        with pytest.raises(StudentError, match="'missing' is not defined in the notebook"):
            worker.function("missing")()


def test_a_syntax_error_or_sys_exit_costs_only_its_cell():
    worker, results = run(["def broken(:\n    pass", "import sys\nsys.exit(2)", AFFINE])
    with worker:
        assert [r.status for r in results] == ["error", "error", "ok"]
        assert results[0].error_type == "SyntaxError" and "line 1" in results[0].message
        assert results[1].error_type == "SystemExit"
        check_affine_forward(worker.function("affine_forward"))


def test_the_total_time_limit_ends_the_worker():
    cells = ["x = 1", "import time\ntime.sleep(10)", "y = 2"]
    worker, results = run(cells, cell_timeout=5, total_timeout=2)
    with worker:
        assert [r.status for r in results] == ["ok", "timeout", "not run"]
        assert "total time limit of 2 s reached during cell 1" in results[1].message


def test_close_reaps_the_worker_and_removes_its_folder():
    worker, results = run(["def pid():\n    import os\n    return os.getpid()"])
    assert results[0].ok
    pid = worker.function("pid")()
    cwd = worker.cwd
    worker.close()
    assert worker._process.returncode is not None  # reaped: no zombie
    assert not os.path.exists(cwd)
    assert not _running(pid)
    with pytest.raises(WorkerDied, match="closed"):
        worker.function("pid")()


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] not in "ZX"
    except FileNotFoundError:
        return False


def test_a_student_who_breaks_builtins_breaks_only_their_own_call():
    cell = (
        "import builtins\n"
        "def affine_forward(x, w, b):\n"
        "    builtins.isinstance = builtins.str = lambda *a: True\n"
        "    raise ValueError('after patching builtins')"
    )
    worker, results = run([cell, "builtins.isinstance = None\nraise KeyError('k')", "x = 1"])
    with worker:
        assert [r.status for r in results] == ["ok", "error", "ok"]
        with pytest.raises(CheckFailed, match="raised ValueError: after patching builtins"):
            check_affine_forward(worker.function("affine_forward"))


def test_the_checks_own_time_limit_stops_a_call_and_ends_the_worker():
    from course.checks import set_time_limit

    worker, _ = run(["def spin(*args):\n    while True:\n        pass"], cell_timeout=10)
    previous = set_time_limit(0.5)
    try:
        with worker, pytest.raises(CheckFailed, match="spin did not return within 0.5 s"):
            check_affine_forward(worker.function("spin"))
    finally:
        set_time_limit(previous)
    assert "interrupted while waiting for spin()" in worker.died or "closed" in worker.died


def test_a_course_model_travels_as_data_and_its_changes_come_back():
    from course.models.cnn import TinyVGG

    model = TinyVGG(
        input_dim=(3, 8, 8),
        stages=((4,),),
        hidden_dims=(),
        num_classes=3,
        normalization="batchnorm",
        dtype=np.float64,
        seed=1,
    )
    for bn_param in model.bn_params:
        bn_param.update(running_mean=np.ones(4), running_var=np.full(4, 2.0))
    model.mean_image = np.full((3, 8, 8), 0.5)
    X = np.random.default_rng(0).standard_normal((2, 3, 8, 8))
    cell = (
        "def scores(model, X):\n    return model.loss(X - model.mean_image)\n\n"
        "def spoil(model):\n    model.params['W1'] *= 0\n"
    )
    worker, results = run([cell])
    with worker:
        assert results[0].ok
        np.testing.assert_array_equal(worker.function("scores")(model, X), model.loss(X - 0.5))
        worker.function("spoil")(model)
        assert not model.params["W1"].any()  # the check sees the student's in-place edit


def test_a_model_tree_that_does_not_fit_its_config_is_refused():
    from course.grading._protocol import decode, encode
    from course.models.cnn import TinyVGG

    payloads: list[bytes] = []
    tree = encode(TinyVGG(input_dim=(3, 8, 8), stages=((4,),), hidden_dims=()), payloads)
    assert tree["$"] == "model"
    tree["params"]["v"] = tree["params"]["v"][:-1]  # a parameter missing
    with pytest.raises(ProtocolError, match="malformed model"):
        decode(tree, payloads, lambda handle: handle)


COPIED_REFERENCE = """
import inspect
import course.layers.fc as fc

source = inspect.getsource(fc.affine_forward).replace("def affine_forward", "def borrowed")
namespace = dict(vars(fc))
exec(source, namespace)

def affine_forward(x, w, b):
    return namespace["borrowed"](x, w, b)
"""


def test_a_copy_of_the_reference_made_from_its_source_is_recognised():
    worker, results = run([COPIED_REFERENCE])
    with worker:
        assert results[0].ok
        x, w, b = np.ones((2, 3)), np.ones((3, 4)), np.zeros(4)
        worker.function("affine_forward")(x, w, b)  # not graded yet: allowed
        worker.forbid(["affine_forward"])
        with pytest.raises(StudentError, match="a copy of the course's own affine_forward"):
            worker.function("affine_forward")(x, w, b)


def test_the_grader_s_function_can_be_called_back_from_the_worker():
    cell = "def twice(f, x):\n    return f(x) + f(x + 1)\n"
    seen = []

    def square(x):
        seen.append(x.copy())
        return x * x

    worker, results = run([cell])
    with worker:
        assert results[0].ok
        out = worker.function("twice")(square, np.arange(3.0))
        np.testing.assert_array_equal(out, [1.0, 5.0, 13.0])
        assert len(seen) == 2  # both calls ran here, in the grader


def test_a_callback_s_error_reaches_the_grader_even_when_the_student_catches_it():
    cell = (
        "def stubborn(f):\n    try:\n        f(-1)\n    except Exception:\n        pass\n"
        "    return 0\n"
    )

    def refuse(x):
        raise CheckFailed("step: words must be >= 0")

    worker, results = run([cell])
    with worker:
        assert results[0].ok
        with pytest.raises(CheckFailed, match="words must be >= 0"):
            worker.function("stubborn")(refuse)
        assert worker.function("stubborn")(lambda x: x) == 0  # the next call is clean
