"""The worker's fence: what a student's code may touch while it is graded.

:func:`install` adds a ``sys.addaudithook`` hook to the worker process (a
hook cannot be removed once added) that refuses, with ``PermissionError``:

- writing, deleting, renaming or creating files outside the worker's own
  temporary directory (its working directory);
- reading or listing anything outside that directory, the Python
  installation and its packages, the ``course`` package and the system's
  read-only folders (``/usr``, ``/etc``, ...), and reading any ``.ipynb``
  file but its own: the master notebook, the other submissions and the
  gradebook are out of reach;
- starting processes (``subprocess``, ``os.system``, ``os.fork``, ``exec``,
  ``posix_spawn``), so nothing escapes the worker's process group, which the
  grader kills at the end; signalling any process but itself;
- the network (``socket.connect``, ``bind``, ``sendto``, name look-ups);
- ``ctypes`` (loading a C library would bypass everything above), raising
  its resource limits, and ``gc``'s object walks;
- starting threads or changing the profiler while a graded call runs (the
  worker watches that call's function calls with a profile hook, see
  ``worker._without_reference``); a call that tries is failed.

This stops what a student can write in a notebook cell: reading the
solutions, faking a results file, killing the grader, hiding a call to the
reference. It is not a boundary against someone who attacks the interpreter
itself (walking frames into the worker's own state); to grade hostile code,
also run the grader in a container without network and with read-only mounts.
"""

from __future__ import annotations

import _thread
import os
import sys
import threading

__all__ = ["Guard", "install"]

_READ_ONLY_SYSTEM = ("/usr", "/lib", "/lib32", "/lib64", "/etc", "/proc", "/sys", "/dev")
_DENIED = {
    "subprocess.Popen": "start a process",
    "os.system": "start a process",
    "os.exec": "start a process",
    "os.posix_spawn": "start a process",
    "os.spawn": "start a process",
    "os.fork": "start a process",
    "os.forkpty": "start a process",
    "pty.spawn": "start a process",
    "os.startfile": "start a process",
    "socket.connect": "use the network",
    "socket.bind": "use the network",
    "socket.sendto": "use the network",
    "socket.sendmsg": "use the network",
    "socket.getaddrinfo": "use the network",
    "socket.gethostbyname": "use the network",
    "ctypes.dlopen": "load a C library with ctypes",
    "ctypes.dlsym": "load a C library with ctypes",
    "ctypes.cdata": "use ctypes",
    "resource.setrlimit": "change its resource limits",
    "resource.prlimit": "change resource limits",
    "gc.get_referrers": "walk the interpreter's objects",
    "gc.get_referents": "walk the interpreter's objects",
    "gc.get_objects": "walk the interpreter's objects",
}
_WRITES = {  # event -> how many leading arguments are paths
    "os.remove": 1,
    "os.rmdir": 1,
    "os.mkdir": 1,
    "os.rename": 2,
    "os.link": 2,
    "os.symlink": 2,
    "os.truncate": 1,
    "os.chmod": 1,
    "os.chown": 1,
    "os.utime": 1,
    "os.chdir": 1,
    "shutil.rmtree": 1,
    "shutil.copyfile": 2,
    "shutil.move": 2,
}
_READS = {"os.listdir": 1, "os.scandir": 1, "glob.glob": 1}
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class Guard:
    """``graded`` is True while a graded call runs; ``tampered`` says what the call tried."""

    __slots__ = ("graded", "tampered")

    def __init__(self) -> None:
        self.graded = False
        self.tampered: str | None = None


def install(home: str) -> Guard:
    """Fence this process in ``home`` (its working directory); return the graded-call switch."""
    home = os.path.realpath(home)
    readable = tuple(
        {
            os.path.realpath(p)
            for p in (
                home,
                sys.prefix,
                sys.base_prefix,
                sys.exec_prefix,
                sys.base_exec_prefix,
                os.path.dirname(os.path.dirname(os.path.abspath(__file__))),  # course/
                *_READ_ONLY_SYSTEM,
            )
        }
    )
    guard = Guard()
    pid = os.getpid()

    def inside(path: object, roots: tuple[str, ...]) -> bool:
        if isinstance(path, int) or path is None:
            return True  # an open file descriptor: it was checked when it was opened
        try:
            real = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return False
        return any(real == root or real.startswith(root + os.sep) for root in roots)

    def may_read(path: object) -> bool:
        if not inside(path, readable):
            return False
        name = os.fsdecode(path) if isinstance(path, (str, bytes, os.PathLike)) else ""
        return not name.endswith(".ipynb") or inside(path, (home,))

    def refuse(what: str) -> None:
        raise PermissionError(f"graded code may not {what}")

    def hook(event: str, args: tuple) -> None:
        if event == "open":
            path, mode, flags = args
            writes = (mode is not None and any(c in str(mode) for c in "wax+")) or (
                isinstance(flags, int) and flags & _WRITE_FLAGS
            )
            if writes and not inside(path, (home, "/dev/null")):
                refuse(f"write {os.fsdecode(path)!s} (only files in its own folder)")
            if not writes and not may_read(path):
                refuse(f"read {os.fsdecode(path)!s}")
        elif event in _DENIED:
            refuse(_DENIED[event])
        elif event in _WRITES:
            for path in args[: _WRITES[event]]:
                if not inside(path, (home,)):
                    refuse(f"change {os.fsdecode(path)!s} (only files in its own folder)")
        elif event in _READS:
            if args and not may_read(args[0] if args[0] is not None else "."):
                refuse(f"list {os.fsdecode(args[0])!s}")
        elif event in ("os.kill", "os.killpg", "signal.pthread_kill"):
            if event != "signal.pthread_kill" and args[0] not in (pid, 0):
                refuse("signal another process")
        elif event in ("sys.setprofile", "sys.settrace") and guard.graded:
            guard.tampered = f"it changes the profiler ({event.split('.')[1]})"
            refuse("change the profiler while it is graded")

    sys.addaudithook(hook)
    start_new_thread = _thread.start_new_thread

    def start_thread(function, args, kwargs=None):
        if guard.graded:
            guard.tampered = "it starts a thread"
            refuse("start a thread while it is graded")
        return start_new_thread(function, args, {} if kwargs is None else kwargs)

    _thread.start_new_thread = start_thread
    threading._start_new_thread = start_thread  # what threading.Thread.start calls
    return guard
