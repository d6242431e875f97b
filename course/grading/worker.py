"""Run a student's code in a worker process and call its functions from the grader.

The grader never executes a student's code. A :class:`Worker` starts a fresh
Python process (its own session and process group, limits on memory, CPU
time and file size, a fresh temporary directory), runs the notebook's code
cells there in one namespace, and hands out proxies for the functions they
define. The grader passes the proxies to the ordinary checks::

    with Worker(cells, cell_timeout=30, memory_mb=2048) as worker:
        results = worker.run_cells()                # one CellResult per cell
        check_affine_backward(worker.function("affine_forward"),
                              worker.function("affine_backward"))

so comparisons, numerical gradients and the verdict happen in the grader's
process. A proxy call sends ``(name, args, kwargs)`` to the worker and gets
back plain data: numeric or bool numpy arrays, int, float, bool, None, str
and tuples, lists and dicts of these (``course/grading/_protocol.py``: JSON
headers and ``.npy`` payloads, never pickle). Anything else the student's
function returns (a cache object, an instance of their class, an object
that claims to equal everything) stays in the worker and comes back as a
:class:`RemoteHandle`; passing the handle to a later call gives the worker's
function the object itself. When the function changes an argument in place,
the change is mirrored onto the grader's argument, so a check still sees
in-place edits (and a batchnorm's ``bn_param`` updates) as it would locally.

Failures keep their meaning: an exception in the student's function is
raised in the grader as :class:`StudentError` (its class is named after the
student's exception, so a check reports ``affine_forward raised ValueError:
...``; a ``NotImplementedError`` is also one); a cell or call that runs past
``cell_timeout``, a crash (``os._exit``, a segfault, a kill) or the total time
limit end the worker, and every later call raises :class:`WorkerDied` with
the reason. :meth:`Worker.close` (or leaving the ``with``) kills the whole
process group.
"""

from __future__ import annotations

import builtins
import itertools
import linecache
import math
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import types
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from course.grading._protocol import (
    ProtocolError,
    RemoteHandle,
    Untransferable,
    decode,
    encode,
    is_model,
    read_frame,
    write_frame,
)
from course.grading._references import forbidden_names, reference_entered, reference_signatures
from course.grading._sandbox import Guard
from course.grading._sandbox import install as install_sandbox

__all__ = [
    "CellResult",
    "ProtocolError",
    "RemoteFunction",
    "RemoteHandle",
    "StudentError",
    "Untransferable",
    "Worker",
    "WorkerDied",
    "strip_magics",
]

OUTPUT_LIMIT = 64 * 1024  # characters of a cell's output (and bytes of stray output) kept
MESSAGE_LIMIT = 500  # characters of an error message kept
STARTUP_TIMEOUT = 60.0  # seconds for the worker to start (bounded by the total time limit)
_tokens = itertools.count(1)
_MODEL_STATE = ("params", "bn_params")  # what a call may change in a model argument


class WorkerDied(Exception):
    """The worker process is gone (timeout, crash, memory kill); ``reason`` says why."""

    def __init__(self, reason: str, timeout: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.timeout = timeout


class StudentError(Exception):
    """An exception raised by the student's code in the worker, re-raised in the grader.

    Instances are of a subclass named after the student's exception type
    (module ``student``), so ``type(error).__name__`` reads ``ValueError``;
    the subclass for ``NotImplementedError`` also derives from it.
    """

    def __init__(self, type_name: str, message: str, where: str = ""):
        super().__init__(type_name, message, where)
        self.type_name = type_name
        self.message = message
        self.where = where

    def __str__(self) -> str:
        return f"{self.message} [{self.where}]" if self.where else self.message


_student_error_classes: dict[str, type[StudentError]] = {}


def student_error(type_name: str, message: str, where: str = "") -> StudentError:
    """A :class:`StudentError` whose class is named ``type_name`` (when it is an identifier)."""
    name = type_name if type_name.isidentifier() and type_name.isascii() else "StudentError"
    if name not in _student_error_classes:
        bases = (StudentError, NotImplementedError) if name == "NotImplementedError" else ()
        _student_error_classes[name] = type(
            name, bases or (StudentError,), {"__module__": "student", "__qualname__": name}
        )
    return _student_error_classes[name](type_name, message, where)


@dataclass(frozen=True)
class CellResult:
    """What running one code cell gave.

    ``status``: 'ok', 'error' (``error_type`` and a one-line ``message``),
    'timeout' or 'died' (the worker ended here; ``message`` is the reason),
    or 'not run' (the worker had ended before; ``message`` is why).
    ``output``: the last OUTPUT_LIMIT characters the cell printed.
    """

    index: int
    status: str
    error_type: str | None = None
    message: str = ""
    output: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class RemoteFunction:
    """A proxy for a function defined in the worker: calling it calls that function there."""

    def __init__(self, worker: Worker, name: str):
        self._worker = worker
        self.__name__ = self.__qualname__ = name

    def __call__(self, *args, **kwargs):
        return self._worker.call(self.__name__, *args, **kwargs)

    def __repr__(self) -> str:
        return f"<remote function {self.__name__}>"


class Worker:
    """A process that runs a notebook's code cells and answers calls of their functions.

    Inputs:
    - cells: the code cells' sources, in order. Lines starting with ``%`` or
      ``!`` (IPython magics and shell commands) are replaced by ``pass``.
    - cell_timeout: seconds one cell or one function call may run
    - total_timeout: seconds the worker may live, from its start
    - memory_mb: its address-space limit (RLIMIT_AS), in MiB
    - cwd: its working directory (default: a fresh temporary one, removed on close)
    - file_mb: the largest file it may write (RLIMIT_FSIZE), in MiB
    - output_limit: characters of each cell's output that are kept
    """

    def __init__(
        self,
        cells: Sequence[str],
        *,
        cell_timeout: float = 30.0,
        total_timeout: float = 300.0,
        memory_mb: int = 2048,
        cwd: str | os.PathLike | None = None,
        file_mb: int = 256,
        output_limit: int = OUTPUT_LIMIT,
    ):
        if isinstance(cells, str) or not all(isinstance(c, str) for c in cells):
            raise TypeError("Worker: cells must be a list of source strings, one per code cell")
        for name, value in (("cell_timeout", cell_timeout), ("total_timeout", total_timeout)):
            if not value > 0:
                raise ValueError(f"Worker: {name} must be > 0 seconds, got {value!r}")
        self.cells = list(cells)
        self.cell_timeout = float(cell_timeout)
        self.forbidden: frozenset[str] = frozenset()  # see forbid()
        self.signatures: dict[str, str] = {}
        self.total_timeout = float(total_timeout)
        self.memory_mb = int(memory_mb)
        self.limits: dict[str, bool] = {}
        self._token = next(_tokens)
        self._seq = 0
        self._callbacks: list[Callable] = []  # the functions of the call in progress
        self._callback_error: Exception | None = None
        self._dead: str | None = None
        self._max_bytes = (self.memory_mb + 64) * 1024 * 1024
        tempdir = None if cwd is not None else tempfile.mkdtemp(prefix="course-worker-")
        self.cwd = str(cwd if cwd is not None else tempdir)
        request_r, self._request = os.pipe()
        self._response, response_w = os.pipe()
        command = [
            sys.executable,
            "-m",
            "course.grading.worker",
            str(request_r),
            str(response_w),
            str(self.memory_mb),
            str(math.ceil(self.total_timeout) + 5),  # CPU seconds: a backstop if we are gone
            str(int(file_mb)),
            str(int(output_limit)),
        ]
        try:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=self.cwd,
                env=_worker_environment(self.cwd),
                pass_fds=(request_r, response_w),
                start_new_session=True,
            )
        except BaseException:
            for fd in (request_r, response_w, self._request, self._response):
                os.close(fd)
            if tempdir:
                shutil.rmtree(tempdir, ignore_errors=True)
            raise
        finally:
            if hasattr(self, "_process"):
                os.close(request_r)
                os.close(response_w)
        self._stray = _TailReader(self._process.stdout, output_limit)
        self._finalizer = weakref.finalize(
            self, _terminate, self._process, [self._request, self._response], tempdir
        )
        self._deadline = time.monotonic() + self.total_timeout
        try:
            ready, _ = self._exchange({"op": "hello"}, [], STARTUP_TIMEOUT, "starting")
            self.limits = {str(k): bool(v) for k, v in dict(ready.get("limits", {})).items()}
        except WorkerDied:
            pass  # self.died says why; cells are reported 'not run' and calls raise WorkerDied

    # -- the grader's API ---------------------------------------------------

    def run_cells(self, cells: Sequence[str] | None = None) -> list[CellResult]:
        """Run ``cells`` (default: those given to the constructor) in order; one result each.

        A cell that fails costs only itself; after a timeout or crash the
        rest are 'not run', with the reason.
        """
        results = []
        for index, source in enumerate(self.cells if cells is None else cells):
            if self._dead is not None:
                results.append(CellResult(index, "not run", message=self._dead))
                continue
            started = time.monotonic()
            try:
                reply, _ = self._exchange(
                    {"op": "cell", "index": index, "source": source},
                    [],
                    self.cell_timeout,
                    f"cell {index}",
                )
            except WorkerDied as died:
                status = "timeout" if died.timeout else "died"
                results.append(
                    CellResult(index, status, message=died.reason, seconds=_since(started))
                )
                continue
            error = reply.get("status") != "ok"
            results.append(
                CellResult(
                    index,
                    "error" if error else "ok",
                    _text(reply.get("type"), 100) if error else None,
                    _text(reply.get("message"), MESSAGE_LIMIT) if error else "",
                    _text(reply.get("output"), OUTPUT_LIMIT * 2),
                    _since(started),
                )
            )
        return results

    def function(self, name: str) -> RemoteFunction:
        """A proxy for the function ``name`` defined by the cells."""
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"Worker.function: expected a function name, got {name!r}")
        return RemoteFunction(self, name)

    def forbid(self, names: Sequence[str]) -> None:
        """From now on, a call fails when it reaches the course's own function of one of ``names``.

        A graded ``affine_forward`` that returns ``course.layers.affine_forward(...)``,
        or the same function from a copy of the package's file loaded some
        other way, would pass every check without being the student's work:
        while a call runs, the worker watches every Python function it enters.
        One named like an exercise of ``names`` (or its reference's other
        name, see ``_references.ALIASES``) whose code lives in the ``course``
        package, or one whose code is a copy of such a function's wherever it
        was loaded from (same bytecode, names and constants), makes the call
        raise ``ReferenceCalled``. Other course functions (the layers an
        exercise is meant to build on) stay allowed.
        """
        self.forbidden = frozenset(forbidden_names(names))
        self.signatures = reference_signatures(names)

    def call(self, name: str, *args, **kwargs):
        """Call ``name(*args, **kwargs)`` in the worker and return its result as plain data.

        Raises :class:`StudentError` for the student's exception,
        :class:`WorkerDied` when the worker ends (or had ended), TypeError
        (:class:`Untransferable`) for an argument that cannot be sent, and
        :class:`ProtocolError` for a reply that breaks the wire format.
        """
        payloads: list[bytes] = []
        callbacks: list[Callable] = []  # functions among the arguments, called back by the worker
        try:
            request = {
                "op": "call",
                "name": name,
                "forbid": sorted(self.forbidden),
                "signatures": dict(self.signatures),
                "args": encode(list(args), payloads, owner=self._token, callbacks=callbacks),
                "kwargs": encode(dict(kwargs), payloads, owner=self._token, callbacks=callbacks),
            }
        except Untransferable as error:
            raise Untransferable(f"{name}: {error}") from None
        self._callbacks, self._callback_error = callbacks, None
        try:
            reply, received = self._exchange(request, payloads, self.cell_timeout, f"{name}()")
        finally:
            self._callbacks = []
        if self._callback_error is not None:  # e.g. a check's decoder refused the arguments
            raise self._callback_error
        if reply.get("status") != "ok":
            raise student_error(
                _text(reply.get("type"), 100),
                _text(reply.get("message"), MESSAGE_LIMIT),
                _text(reply.get("where"), 200),
            )
        value = decode(reply.get("value"), received, self._handle)
        changed = reply.get("changed") or {}
        if not isinstance(changed, dict):
            raise ProtocolError("malformed list of changed arguments")
        for key, tree in changed.items():  # "0", "1"... for positions, names for keywords
            if str(key).isdigit():
                target = args[int(key)] if int(key) < len(args) else None
            else:
                target = kwargs.get(key)
            if target is not None:
                _mirror(target, decode(tree, received, self._handle))
        return value

    @property
    def died(self) -> str | None:
        """Why the worker ended (None while it runs)."""
        return self._dead

    @property
    def stray_output(self) -> str:
        """The last bytes written to the worker's own stdout/stderr (outside a cell's capture)."""
        return self._stray.text()

    def close(self) -> None:
        """Kill the worker's process group, reap it, and remove its temporary directory."""
        if self._dead is None:
            self._dead = "the worker was closed"
        self._finalizer()
        self._stray.join(1.0)

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the exchange of one request and its reply --------------------------

    def _exchange(
        self, request: dict, payloads: list[bytes], timeout: float, what: str
    ) -> tuple[dict, list[bytes]]:
        if self._dead is not None:
            raise WorkerDied(self._dead)
        self._seq += 1
        seq = request["seq"] = self._seq
        now = time.monotonic()
        deadline = min(now + timeout, self._deadline)
        total = self._deadline < now + timeout
        try:
            write_frame(self._request, request, payloads, deadline)
            while True:  # the worker may call the grader's functions back before it answers
                limit = self._max_bytes
                reply, received = read_frame(self._response, deadline, limit, self._alive)
                if reply.get("op") != "callback":
                    break
                self._answer_callback(reply, received, deadline)
        except TimeoutError:
            reason = (
                f"total time limit of {self.total_timeout:g} s reached during {what}"
                if total
                else f"timeout after {timeout:g} s in {what}"
            )
            raise WorkerDied(self._end(reason), timeout=True) from None
        except (EOFError, OSError):
            raise WorkerDied(self._end(self._exit_reason(what))) from None
        except ProtocolError as error:
            raise WorkerDied(self._end(f"broken reply during {what}: {error}")) from None
        except BaseException:  # a check's own time limit, Ctrl-C: the channel is mid-frame
            self._end(f"interrupted while waiting for {what}")
            raise
        if reply.get("seq") != seq:
            raise WorkerDied(self._end(f"reply out of order during {what}"))
        return reply, received

    def _status(self) -> int | None:
        """The worker's exit status (-signal when killed), None while it runs.

        Where ``os.waitid`` exists the worker is not reaped here, so its
        process group cannot be reused before :func:`_kill_group` kills it.
        """
        if not hasattr(os, "waitid"):
            return self._process.poll()
        try:
            info = os.waitid(os.P_PID, self._process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return self._process.returncode if self._process.returncode is not None else -1
        if info is None:
            return None
        return info.si_status if info.si_code == os.CLD_EXITED else -info.si_status

    def _alive(self) -> bool:
        return self._status() is None

    def _exit_reason(self, what: str) -> str:
        """Why the worker stopped answering, from its exit status (waiting up to 2 s for it)."""
        for _ in range(20):
            status = self._status()
            if status is not None:
                break
            time.sleep(0.1)
        else:
            return f"the worker closed its channel during {what}"
        if status >= 0:
            return f"worker exited with status {status} during {what}"
        if -status == signal.SIGKILL:
            return (
                f"killed by SIGKILL during {what} (the memory limit of {self.memory_mb} MB "
                "or the system's out-of-memory killer)"
            )
        if -status == getattr(signal, "SIGXCPU", None):
            return f"killed: CPU time limit during {what}"
        return f"worker crashed with {_signal_name(-status)} during {what}"

    def _end(self, reason: str) -> str:
        """Mark the worker dead for ``reason`` and kill its process group; return the reason."""
        if self._dead is None:
            self._dead = reason
        _kill_group(self._process)
        return self._dead

    def _answer_callback(self, request: dict, received: list[bytes], deadline: float) -> None:
        """Run the grader's function the worker called back; send its result or its error.

        The first error is kept and raised by :meth:`call` when the call ends,
        whatever the student's code did with it.
        """
        index = request.get("id")
        if not isinstance(index, int) or not 0 <= index < len(self._callbacks):
            raise ProtocolError(f"callback {index!r} was not sent with this call")
        args = decode(request.get("args"), received, self._handle)
        kwargs = decode(request.get("kwargs"), received, self._handle)
        if not (isinstance(args, list) and isinstance(kwargs, dict)):
            raise ProtocolError("malformed callback arguments")
        answer: dict = {"op": "callback-reply", "seq": request.get("seq"), "status": "ok"}
        sent: list[bytes] = []
        try:
            value = self._callbacks[index](*args, **kwargs)
            answer["value"] = encode(value, sent, owner=self._token)
        except Exception as error:  # refused arguments, an untransferable result
            if self._callback_error is None:
                self._callback_error = error
            sent = []
            message = _text(str(error), MESSAGE_LIMIT)
            answer.update(status="error", type=type(error).__name__, message=message)
        write_frame(self._request, answer, sent, deadline)

    def _handle(self, tree: dict) -> RemoteHandle:
        if tree.get("$") == "callback":
            raise ProtocolError("the worker cannot send functions")
        return RemoteHandle(int(tree["id"]), _text(tree.get("type"), 80), self._token)


# ---------------------------------------------------------------------------
# The grader's helpers
# ---------------------------------------------------------------------------


def _worker_environment(cwd: str) -> dict[str, str]:
    """A small environment: no secrets of the grader, one BLAS thread, a headless matplotlib."""
    package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {k: os.environ[k] for k in ("PATH", "LANG", "LC_ALL", "SYSTEMROOT") if k in os.environ}
    env.update(
        HOME=cwd,
        TMPDIR=cwd,
        MPLBACKEND="Agg",
        MPLCONFIGDIR=os.path.join(cwd, ".matplotlib"),
        PYTHONPATH=package_root,
        PYTHONHASHSEED="0",
        PYTHONDONTWRITEBYTECODE="1",
        OPENBLAS_NUM_THREADS="1",
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
    )
    return env


def _kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the worker's process group, then reap the worker."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


def _terminate(process: subprocess.Popen, fds: list[int], tempdir: str | None) -> None:
    """Kill and reap the worker, close the channel, remove the temporary directory."""
    _kill_group(process)
    while fds:
        try:
            os.close(fds.pop())
        except OSError:
            pass
    if tempdir:
        shutil.rmtree(tempdir, ignore_errors=True)


def _mirror(target: object, new: object) -> None:
    """Make the grader's argument ``target`` look like the worker's ``new``, in place."""
    if is_model(target) and is_model(new):
        for part in _MODEL_STATE:
            _mirror(getattr(target, part), getattr(new, part))
        return
    if isinstance(target, np.ndarray) and isinstance(new, np.ndarray):
        if not target.flags.writeable:
            return
        try:
            if target.shape != new.shape:
                target.shape = new.shape  # what `x.shape = ...` did in the worker
            np.copyto(target, new, casting="unsafe")
        except (AttributeError, ValueError, TypeError):
            pass
    elif isinstance(target, dict) and isinstance(new, dict):
        for key in [k for k in target if k not in new]:
            del target[key]
        target.update(new)
    elif isinstance(target, list) and isinstance(new, list):
        target[:] = new
    elif isinstance(target, tuple) and isinstance(new, tuple) and len(target) == len(new):
        for item, new_item in zip(target, new, strict=True):
            _mirror(item, new_item)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _text(value: object, limit: int) -> str:
    """A string from the worker's reply, never longer than ``limit``."""
    text = value if isinstance(value, str) else ""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)


class _TailReader:
    """Drain a pipe in a thread, keeping only its last ``limit`` bytes."""

    def __init__(self, stream, limit: int):
        self._stream, self._limit = stream, max(int(limit), 1)
        self._tail = bytearray()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        try:
            while chunk := self._stream.read1(1 << 16):
                with self._lock:
                    self._tail += chunk
                    del self._tail[: -self._limit]
        except (OSError, ValueError):
            pass
        finally:  # closed here, never from another thread: a close would wait for this read
            self._stream.close()

    def text(self) -> str:
        with self._lock:
            return self._tail.decode("utf-8", errors="replace")

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


# ---------------------------------------------------------------------------
# The worker's side (runs in the child process: python -m course.grading.worker)
# ---------------------------------------------------------------------------


class _TailWriter:
    """A text stream for sys.stdout / sys.stderr that keeps the last ``limit`` characters."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, limit: int):
        self._limit = limit
        self._chunks: list[str] = []
        self._size = 0

    def write(self, text) -> int:
        text = text if isinstance(text, str) else str(text)
        self._chunks.append(text)
        self._size += len(text)
        if self._size > 2 * self._limit:
            self._chunks = ["".join(self._chunks)[-self._limit :]]
            self._size = len(self._chunks[0])
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def text(self) -> str:
        return "".join(self._chunks)[-self._limit :]


def _apply_limits(memory_mb: int, cpu_seconds: int, file_mb: int) -> dict[str, bool]:
    """Set the worker's own resource limits; say which ones took."""
    wanted = {
        "RLIMIT_AS": memory_mb * 1024 * 1024,
        "RLIMIT_CPU": cpu_seconds,
        "RLIMIT_FSIZE": file_mb * 1024 * 1024,
        "RLIMIT_CORE": 0,
    }
    applied = {}
    for name, value in wanted.items():
        which = getattr(resource, name, None)
        try:
            _, hard = resource.getrlimit(which)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (value, hard if name == "RLIMIT_CPU" else value))
            applied[name] = resource.getrlimit(which)[0] == value
        except (TypeError, ValueError, OSError):
            applied[name] = False
    return applied


def strip_magics(source: str) -> str:
    """Replace IPython magics and shell lines (``%...``, ``!...``) by ``pass``, same line count."""
    lines = source.split("\n")
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            lines[i] = line[: len(line) - len(stripped)] + "pass"
    return "\n".join(lines)


def _describe(error: BaseException, memory_mb: int) -> tuple[str, str, str]:
    """(type name, one-line message, where in the cells) of a student's exception."""
    if isinstance(error, SyntaxError):
        message = f"{error.msg} (line {error.lineno})"
    else:
        try:
            message = str(error)
        except BaseException:
            message = "<the exception's message could not be printed>"
    if isinstance(error, MemoryError):
        message = f"{message or 'out of memory'} (memory limit {memory_mb} MB)"
    message = " ".join(message.split())
    message = message if len(message) <= MESSAGE_LIMIT else message[: MESSAGE_LIMIT - 3] + "..."
    where = ""
    try:
        for frame in traceback.extract_tb(error.__traceback__):
            if frame.filename.startswith("<cell "):
                where = f"{frame.filename[1:-1]}, line {frame.lineno}, in {frame.name}"
    except BaseException:
        pass
    return type(error).__name__, message, where


def _changed(after: object, before: object) -> bool:
    """Whether an argument differs after a call from a fresh decoding of what was sent."""
    if is_model(before):
        return not is_model(after) or any(
            _changed(getattr(after, part), getattr(before, part)) for part in _MODEL_STATE
        )
    if isinstance(before, np.ndarray):
        return not (
            isinstance(after, np.ndarray)
            and after.shape == before.shape
            and after.dtype == before.dtype
            and np.array_equal(after, before, equal_nan=before.dtype.kind in "fc")
        )
    if isinstance(before, dict):
        return (
            not isinstance(after, dict)
            or after.keys() != before.keys()
            or any(_changed(after[k], before[k]) for k in before)
        )
    if isinstance(before, (tuple, list)):
        return (
            type(after) is not type(before)
            or len(after) != len(before)
            or any(map(_changed, after, before))
        )
    return False  # immutable values, and the worker's own objects (handles) as they are


def _restore(current: dict, original: dict) -> None:
    """Put back every entry of ``original`` that was rebound or deleted in ``current``."""
    for key, value in original.items():
        if current.get(key, _restore) is not value:
            current[key] = value


def _as_student(original_builtins: dict, function: Callable, *args, **kwargs) -> object:
    """``function(*args, **kwargs)``, then restore the builtins it rebound."""
    try:
        return function(*args, **kwargs)
    finally:
        _restore(vars(builtins), original_builtins)


class CallbackRefused(Exception):
    """The grader's function, called back from the worker, raised (its type and message)."""


class ReferenceCalled(Exception):
    """A graded function called the course's own implementation of a graded function."""


_SIGNATURES: dict[types.CodeType, str] = {}  # code -> its signature, in the worker


def _without_reference(
    guard: Guard,
    forbidden: Sequence[str],
    signatures: dict[str, str],
    original_builtins: dict,
    function: Callable,
    *args,
    **kwargs,
) -> object:
    """:func:`_as_student`, failing when the call enters the package's own ``forbidden`` code.

    While the call runs the sandbox refuses new threads and changes to the
    profiler (either would hide calls from the watch); a call that tries fails.
    """
    if not forbidden:
        return _as_student(original_builtins, function, *args, **kwargs)
    names, entered = frozenset(forbidden), []

    def watch(frame, event, arg):  # a profile hook: sees every Python function call
        if event == "call":
            found = reference_entered(frame.f_code, names, signatures, _SIGNATURES)
            if found is not None:
                entered.append(found)

    guard.tampered = None
    sys.setprofile(watch)
    guard.graded = True
    try:
        value = _as_student(original_builtins, function, *args, **kwargs)
    finally:
        guard.graded = False
        sys.setprofile(None)
    if guard.tampered is not None:
        raise ReferenceCalled(f"{guard.tampered} while it is graded, which hides its calls")
    if entered:
        raise ReferenceCalled(f"it calls {entered[0]}; graded code must be your own")
    return value


def _serve(
    request_fd: int, response_fd: int, memory_mb: int, output_limit: int, guard: Guard
) -> None:
    """Answer the grader's requests until it says goodbye or closes the channel."""
    namespace: dict = {"__name__": "__main__", "__builtins__": builtins}
    objects: dict[int, object] = {}
    original_builtins = dict(vars(builtins))  # restored after every request: the worker needs them

    def to_handle(value: object) -> dict:
        objects[len(objects) + 1] = value
        return {"$": "handle", "id": len(objects), "type": type(value).__name__[:80]}

    current = {"seq": None}  # the request being answered, for the callbacks it makes

    def from_handle(tree: dict) -> object:
        if tree.get("$") == "callback":
            return make_callback(tree.get("id"))
        if tree.get("id") not in objects:
            raise ProtocolError(f"unknown handle {tree.get('id')!r}")
        return objects[tree["id"]]

    def make_callback(index: object) -> Callable:
        def callback(*args, **kwargs):  # a round trip to the grader, which runs its function
            sent: list[bytes] = []
            frame = {
                "op": "callback",
                "seq": current["seq"],
                "id": index,
                "args": encode(list(args), sent, to_handle),
                "kwargs": encode(dict(kwargs), sent, to_handle),
            }
            write_frame(response_fd, frame, sent, None)
            answer, payloads = read_frame(request_fd, None, 1 << 62)
            if answer.get("op") != "callback-reply":
                raise ProtocolError("expected the grader's answer to a callback")
            if answer.get("status") != "ok":
                raise CallbackRefused(f"{answer.get('type')}: {answer.get('message')}")
            return decode(answer.get("value"), payloads, from_handle)

        return callback

    while True:
        try:
            request, payloads = read_frame(request_fd, None, 1 << 62)
        except EOFError:
            return
        reply: dict = {"seq": request.get("seq"), "status": "ok"}
        current["seq"] = request.get("seq")
        sent: list[bytes] = []
        capture = _TailWriter(output_limit)
        saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = capture
        try:
            if request["op"] == "cell":
                source = strip_magics(request["source"])
                filename = f"<cell {request['index']}>"
                linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
                code = compile(source, filename, "exec")
                _as_student(original_builtins, exec, code, namespace)
            elif request["op"] == "call":
                args = decode(request["args"], payloads, from_handle)
                kwargs = decode(request["kwargs"], payloads, from_handle)
                function = namespace.get(request["name"])
                if function is None:
                    raise NameError(f"name {request['name']!r} is not defined in the notebook")
                forbid = request.get("forbid") or []
                copies = request.get("signatures") or {}
                if not isinstance(copies, dict):
                    raise ProtocolError("malformed signatures")
                value = _without_reference(
                    guard, forbid, copies, original_builtins, function, *args, **kwargs
                )
                reply["value"] = encode(value, sent, to_handle)
                before = decode(request["args"], payloads, from_handle)
                before_kw = decode(request["kwargs"], payloads, from_handle)
                changed = {
                    str(i): encode(a, sent, to_handle)
                    for i, (a, b) in enumerate(zip(args, before, strict=True))
                    if _changed(a, b)
                }
                changed |= {
                    k: encode(v, sent, to_handle)
                    for k, v in kwargs.items()
                    if _changed(v, before_kw[k])
                }
                reply["changed"] = changed
        except BaseException as error:  # SystemExit and KeyboardInterrupt are the cell's too
            sent = []
            reply = {"seq": request.get("seq"), "status": "error"}
            reply["type"], reply["message"], reply["where"] = _describe(error, memory_mb)
        finally:
            sys.stdout, sys.stderr = saved
        reply["output"] = capture.text()
        write_frame(response_fd, reply, sent, None)


def main(argv: list[str] | None = None) -> None:
    """The worker process: set limits, then serve (arguments are given by :class:`Worker`)."""
    request_fd, response_fd, memory_mb, cpu_seconds, file_mb, output_limit = map(
        int, (argv if argv is not None else sys.argv[1:])
    )
    limits = _apply_limits(memory_mb, cpu_seconds, file_mb)
    guard = install_sandbox(os.getcwd())
    # the hello request is answered with the limits in force
    request, _ = read_frame(request_fd, None, 1 << 30)
    write_frame(
        response_fd, {"seq": request.get("seq"), "status": "ok", "limits": limits}, [], None
    )
    _serve(request_fd, response_fd, memory_mb, output_limit, guard)


if __name__ == "__main__":
    main()
