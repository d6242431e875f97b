"""Run a notebook headless in a fresh kernel, cell by cell, surviving cells that will not stop.

:func:`execute_notebook` runs every code cell of a notebook (in memory: the
file is never written) and returns each cell's execute reply. It is the
engine under ``course progress``: a cell that runs past the timeout is
interrupted; one that does not stop when interrupted (it catches
KeyboardInterrupt) gets the kernel restarted, the cells above it run again,
and the run goes on; Ctrl-C ends the run and always shuts the kernel down.
The kernel is started on a connection it does not warn about (see
:func:`_choose_transport`), so a command built on this prints only its own
output. nbclient is imported only when a notebook is run.
"""

from __future__ import annotations

import asyncio
import copy
import os
import shutil
import signal
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from jupyter_client import KernelManager
    from nbformat import NotebookNode

TIMEOUT_ENAME = "CellTimeoutError"  # the error name nbclient's reply carries for a timeout
INTERRUPT_GRACE = 5  # seconds a timed-out cell has, after its interrupt, to stop


def execute_notebook(
    nb: NotebookNode, folder: Path, timeout: int
) -> tuple[dict[int, dict], str | None]:
    """Run ``nb`` in a fresh kernel; return every cell's execute reply and why it stopped early.

    ``nb`` is the caller's private copy read from disk: its cells receive
    their outputs, and nothing is written back. The replies map cell index
    -> reply content (status, ename, evalue). The second value is None when
    every cell ran, else a sentence saying why the rest did not (the kernel
    died, or a cell could not be run again after a restart).

    A cell that runs longer than ``timeout`` is interrupted (SIGINT, as the
    notebook's stop button) and gets a timeout reply (ename
    'CellTimeoutError'). When the interrupt does not stop it within
    INTERRUPT_GRACE seconds (the cell catches KeyboardInterrupt, or ignores
    SIGINT), the kernel is restarted, its reply says ``"restarted": True``,
    and the run goes on after it: in the new kernel the code cells before it
    that ran without error, except check cells, run again first (their
    replies and outputs from the first run are kept), so the later cells find
    the variables and functions they need, as after a student's "restart,
    then run the cells above". Only the stuck cell is a timeout, and each
    later cell costs what it costs, not a timeout of its own. When one of
    those cells fails when run again, the run stops there.

    Ctrl-C (SIGINT in the main thread; in a notebook, the interrupt of the
    cell that waits for this run) shuts the kernel down and raises
    KeyboardInterrupt.
    """
    run = _NotebookRun(nb, folder, timeout)
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # the usual case: no event loop runs in this thread
        asyncio.run(run.main())
    else:  # called from a running loop (a notebook): run in a thread with a loop of its own
        with ThreadPoolExecutor(max_workers=1) as pool:
            done = pool.submit(asyncio.run, run.main())
            while not done.done():
                try:
                    done.result()
                except KeyboardInterrupt:  # Ctrl-C reaches this thread, not the worker
                    run.interrupt()
            done.result()
    if run.interrupted:
        raise KeyboardInterrupt
    return run.replies, run.stopped


class _NotebookRun:
    """One headless run of a notebook (see :func:`execute_notebook`) through nbclient.

    The cells run one by one through ``NotebookClient.async_execute_cell``,
    so that the kernel can be replaced between two cells; this class owns the
    kernel's life (start, restart, shutdown) and the Ctrl-C handling, which
    ``NotebookClient.execute`` would otherwise do its own way.
    """

    def __init__(self, nb: NotebookNode, folder: Path, timeout: int) -> None:
        from nbclient import NotebookClient

        self.nb = nb
        self.timeout = timeout
        self.replies: dict[int, dict] = {}
        self.stopped: str | None = None
        self.interrupted = False
        self._reply: dict | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._ipc_folder: str | None = None  # the kernel's IPC sockets, when it uses IPC
        self.client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=True,
            interrupt_on_timeout=True,
            error_on_timeout={
                "ename": TIMEOUT_ENAME,
                "evalue": f"the cell ran longer than {timeout} s and was interrupted",
                "traceback": [],
            },
            resources={"metadata": {"path": str(folder.resolve())}},
            on_cell_executed=self._on_cell_executed,
        )

    def interrupt(self) -> None:
        """End the run now (Ctrl-C); callable from any thread. The kernel is shut down."""
        if self.interrupted:
            return  # already ending: a second Ctrl-C must not cut the shutdown short
        self.interrupted = True
        if self._loop is not None and self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)

    async def main(self) -> None:
        """Start a kernel, run the cells, and always shut the kernel down."""
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        restore_sigint = self._catch_sigint()
        try:
            await self._start_kernel()
            await self._run_cells()
        except asyncio.CancelledError:
            if not self.interrupted:
                raise
        finally:
            await self._stop_kernel()
            restore_sigint()

    async def _run_cells(self) -> None:
        from nbclient.exceptions import DeadKernelError

        rebuild: list[int] = []  # cells to run again after a restart: they ran OK, not checks
        for index, cell in enumerate(self.nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            started = time.monotonic()
            try:
                reply = await self._execute(cell, index)
            except DeadKernelError:
                self.stopped = (
                    f"the kernel died while cell {index + 1} ran, so this cell did not run"
                )
                return
            if reply is None:  # nbclient skipped it (a 'skip-execution' tag)
                continue
            self.replies[index] = reply
            if reply.get("ename") == TIMEOUT_ENAME:
                if not await self._kernel_answers(started + self.timeout + INTERRUPT_GRACE):
                    reply["restarted"] = True
                    if not await self._restart(rebuild, index):
                        return
            elif reply.get("status") == "ok" and not _is_check_cell(cell):
                rebuild.append(index)

    async def _execute(self, cell: NotebookNode, index: int) -> dict | None:
        """Run one cell; return its execute reply's content, None when nbclient skipped it."""
        from nbclient.exceptions import DeadKernelError

        if self.interrupted:
            raise asyncio.CancelledError
        self._reply = None
        try:
            await self.client.async_execute_cell(
                cell, index, execution_count=self.client.code_cells_executed + 1
            )
        except DeadKernelError:
            cancelling = getattr(self._task, "cancelling", lambda: 0)  # Python 3.11+
            if self.interrupted or cancelling():
                raise asyncio.CancelledError from None  # nbclient calls a cancelled wait a death
            raise
        return self._reply

    def _on_cell_executed(self, cell: NotebookNode, cell_index: int, execute_reply: dict) -> None:
        self._reply = dict(execute_reply.get("content", {}))

    async def _kernel_answers(self, deadline: float) -> bool:
        """Whether the kernel runs an empty request before ``deadline`` (0.5 s at least).

        A timed-out cell that stopped when interrupted leaves the kernel idle,
        and it answers at once; one that goes on keeps it busy.
        """
        from queue import Empty

        from jupyter_core.utils import ensure_async

        kc = self.client.kc
        msg_id = await ensure_async(kc.execute("", silent=True, store_history=False))
        deadline = max(deadline, time.monotonic() + 0.5)
        while (left := deadline - time.monotonic()) > 0:
            try:
                msg = await ensure_async(kc.shell_channel.get_msg(timeout=left))
            except Empty:
                return False
            if msg["parent_header"].get("msg_id") == msg_id:
                return True  # other replies are late ones of the interrupted cell
        return False

    async def _restart(self, rebuild: list[int], stuck: int) -> bool:
        """Replace the kernel and run the ``rebuild`` cells again; return whether they all ran.

        The cells run on copies, so the first run's outputs stay in the notebook.
        """
        from nbclient.exceptions import DeadKernelError

        await self._stop_kernel()
        await self._start_kernel()
        for index in rebuild:
            original = self.nb.cells[index]
            try:
                reply = await self._execute(copy.deepcopy(original), index)
            except DeadKernelError:
                reply = {"status": "error"}
            finally:
                self.nb.cells[index] = original  # nbclient stores the cell it ran
            if reply is not None and reply.get("status") != "ok":
                self.stopped = (
                    f"cell {stuck + 1} did not stop when interrupted, and in the restarted "
                    f"kernel cell {index + 1} failed when run again, so this cell did not run"
                )
                return False
        return True

    async def _start_kernel(self) -> None:
        km = self.client.create_kernel_manager()
        transport = _choose_transport(km)
        if transport == "curve":
            km.transport_encryption = "auto"  # jupyter_client provisions the CurveZMQ keys
        elif transport == "ipc":
            self._ipc_folder = tempfile.mkdtemp(prefix="course-kernel-")  # private: mode 0700
            km.transport = "ipc"
            km.ip = os.path.join(self._ipc_folder, "kernel")  # sockets kernel-1, kernel-2, ...
        await self.client.async_start_new_kernel()
        await self.client.async_start_new_kernel_client()

    async def _stop_kernel(self) -> None:
        """Kill the kernel (it holds nothing to save) and end nbclient's waiting tasks."""
        current = asyncio.current_task()
        waiting = [task for task in asyncio.all_tasks() if task is not current]
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
        km, kc = self.client.km, self.client.kc
        self.client.km = self.client.kc = None
        if kc is not None:
            kc.stop_channels()
        if km is not None and km.has_kernel:
            await km.shutdown_kernel(now=True)
        if self._ipc_folder is not None:
            shutil.rmtree(self._ipc_folder, ignore_errors=True)
            self._ipc_folder = None

    def _catch_sigint(self) -> Callable[[], None]:
        """Make Ctrl-C call :meth:`interrupt` while the run lasts; return what undoes that.

        Only the main thread receives signals; on Windows the loop cannot take
        them, and asyncio.run's own Ctrl-C handling cancels the run instead.
        """
        loop = self._loop
        if loop is None or threading.current_thread() is not threading.main_thread():
            return lambda: None
        previous = signal.getsignal(signal.SIGINT)
        try:
            loop.add_signal_handler(signal.SIGINT, self.interrupt)
        except (NotImplementedError, RuntimeError, ValueError):
            return lambda: None

        def restore() -> None:
            loop.remove_signal_handler(signal.SIGINT)
            if previous is not None:
                signal.signal(signal.SIGINT, previous)

        return restore


def _choose_transport(km: KernelManager) -> str:
    """How the kernel will talk to us: 'curve' (encrypted TCP), 'ipc' (local sockets) or 'tcp'.

    ipykernel warns on stderr ("Kernel is running over TCP without
    encryption...") when it is started on plain TCP, jupyter_client's
    default, and a student then sees that warning before the table. So
    the kernel gets CurveZMQ encryption when jupyter_client can provision
    it and the kernelspec declares support for it; else IPC sockets in a
    private folder, where the platform has them (not Windows); plain TCP
    only when neither is possible (older kernels, which do not warn). The
    kernel's stderr itself is never filtered: its real errors still show.
    """
    import zmq

    spec = km.kernel_spec
    declared = (spec.metadata if spec is not None else {}).get("supported_encryption") or ()
    if isinstance(declared, str):
        declared = (declared,)
    if (
        km.has_trait("transport_encryption")
        and zmq.has("curve")
        and "curve" in {str(name).strip().lower() for name in declared}
    ):
        return "curve"
    if zmq.has("ipc") and os.name != "nt":
        return "ipc"
    return "tcp"


def _is_check_cell(cell: NotebookNode) -> bool:
    """Whether the cell is marked as a check cell (its metadata was validated before the run)."""
    settings = cell.get("metadata", {}).get("course")
    return isinstance(settings, dict) and settings.get("check") is True
