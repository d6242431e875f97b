"""The compiled im2col / pooling kernels shared by ``fast_conv`` and ``fast_pool``.

``course.layers._im2col`` is a Cython extension (built by ``pip install -e .``).
:func:`compiled_kernels` hands it to the fast layers, or None when it could
not be imported, in which case the layers use their numpy fallback and a
RuntimeWarning naming the build command is given once (STYLE convention 7).

The first time a fast layer asks for the kernels, glibc's malloc is told to
keep freed memory for reuse (:func:`course.allocator.keep_freed_memory`):
a training step allocates the same large temporaries again and again, and
without it every step page-faults them in anew. Importing this module changes
nothing in the process; only running a fast layer does.

:func:`require_im2col_memory` refuses, with a MemoryError that says how to
split the batch, a convolution whose im2col matrix would not fit in the
memory available (:func:`available_memory`), before anything is allocated.
"""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np

from course import allocator

try:
    from course.layers import _im2col
except ImportError as error:  # pragma: no cover - exercised by monkeypatching in the tests
    _im2col = None
    _IMPORT_ERROR = str(error)
else:
    _IMPORT_ERROR = ""

REBUILD_COMMAND = "pip install -e .   (or: make install)"
_FALLBACK_MEMORY = 8 * 2**30  # assumed available when the system does not say
_ALWAYS_FITS = 2**30  # im2col matrices below this are not checked against the memory
_warned = False  # the fallback warning was given

# The modules whose frames a warning skips, to point at the caller's line.
_HERE = os.path.dirname(os.path.abspath(__file__))
_FAST_LAYER_FILES = {
    os.path.join(_HERE, f"{name}.py") for name in ("_kernels", "fast_conv", "fast_pool")
}


def num_threads() -> int:
    """Threads the compiled kernels use: ``COURSE_NUM_THREADS`` when set, else 1.

    One by default, whatever numpy's BLAS uses: the kernels run between BLAS
    calls, and OpenBLAS's threads keep spinning on the cores for a while after
    each multiply, so OpenMP threads started next to them wait for a core. On
    the course's two-core machine, with two BLAS threads, a TinyVGG training
    step took 79 ms with one kernel thread and 206 ms with two.
    """
    setting = os.environ.get("COURSE_NUM_THREADS", "")
    if setting.isdigit() and int(setting) > 0:
        return int(setting)
    return 1


def using_compiled() -> bool:
    """Whether the fast layers run on the compiled extension (else the numpy fallback)."""
    return _im2col is not None


def compiled_kernels():
    """The compiled module, or None after warning (once) that the numpy fallback is in use.

    Every fast layer calls this before its work, so it is also where the
    allocator is tuned, once, at the first use of a fast layer.
    """
    global _warned
    allocator.keep_freed_memory_once()
    if _im2col is None and not _warned:
        _warned = True
        # Point the warning at the first caller outside the fast layers.
        frame, level = sys._getframe(1), 2
        while frame is not None and os.path.abspath(frame.f_code.co_filename) in _FAST_LAYER_FILES:
            frame, level = frame.f_back, level + 1
        warnings.warn(
            f"course.layers._im2col, the compiled im2col extension, could not be imported "
            f"({_IMPORT_ERROR or 'not built'}); the fast layers use a slower numpy im2col. "
            f"Build it from the repository root with: {REBUILD_COMMAND}",
            RuntimeWarning,
            stacklevel=level,
        )
    return _im2col


def available_memory(meminfo: str = "/proc/meminfo") -> int:
    """Bytes of memory the process can still use: MemAvailable, else free pages, else 8 GiB."""
    try:
        with open(meminfo, encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # the file counts kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return _FALLBACK_MEMORY


def require_im2col_memory(
    func: str, x_shape: tuple, w_shape: tuple, H_out: int, W_out: int, dtype: np.dtype
) -> None:
    """Raise MemoryError, before allocating, when the im2col matrix would not fit in memory.

    ``cols`` is (N*H_out*W_out, K) with K = HH*WW*C, and the backward pass needs
    one more of that size. Matrices below 1 GiB are not checked (reading the
    available memory costs a system call per layer).
    """
    N, C = x_shape[:2]
    HH, WW = w_shape[2:]
    rows, K = N * H_out * W_out, HH * WW * C
    needed = rows * K * np.dtype(dtype).itemsize
    if needed < _ALWAYS_FITS:
        return
    available = available_memory()
    if needed <= available:
        return
    per_example = needed // N
    chunk = available // (2 * per_example)  # leave room for the backward pass's dcols
    fix = (
        f"Use a smaller batch: split x into chunks of at most {chunk} examples "
        f"(np.array_split(x, {-(-N // chunk)})) and convolve each"
        if chunk
        else "Even one example does not fit: use smaller images, fewer channels or a stride"
    )
    raise MemoryError(
        f"{func}: im2col needs {_size(needed)} for x of shape {x_shape} and w of shape "
        f"{w_shape} (a ({rows}, {K}) {np.dtype(dtype).name} matrix, {_size(per_example)} "
        f"per example), but only {_size(available)} of memory is available. {fix}"
    )


def _size(num_bytes: int) -> str:
    """``num_bytes`` in GiB, or in MiB below one GiB: '28.1 GiB', '9.0 MiB'."""
    if num_bytes >= 2**30:
        return f"{num_bytes / 2**30:.1f} GiB"
    return f"{num_bytes / 2**20:.1f} MiB"


def compute_dtype(*arrays: np.ndarray | np.dtype) -> np.dtype:
    """float32 when every array (or dtype) is float32, else float64 (float16 in float64)."""
    dtype = np.result_type(*arrays)
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)
