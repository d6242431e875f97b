"""What every benchmark shares: thread settings, a median timer, BLAS thread check.

Import this module *before* numpy: :func:`set_threads` must set the thread
environment variables before the BLAS is loaded.
"""

from __future__ import annotations

import ctypes
import glob
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
REPO = Path(__file__).resolve().parent.parent


def set_threads(threads: int) -> None:
    """Give numpy's BLAS, OpenMP (our kernels) and MKL ``threads`` threads; call before numpy.

    Also puts the repository first on ``sys.path`` so a checkout's ``course`` is used.
    """
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    sys.path.insert(0, str(REPO))


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of ``fn()`` in milliseconds, after one untimed warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def blas_threads() -> tuple[int | None, str]:
    """The number of threads numpy's BLAS will use, and how it was read."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        pass
    else:
        blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if blas:
            return blas[0]["num_threads"], "threadpoolctl"
    # Without threadpoolctl: ask the OpenBLAS that numpy wheels bundle.
    import numpy as np

    libs = Path(np.__file__).parent.parent / "numpy.libs"
    for path in glob.glob(str(libs / "*openblas*.so*")):
        lib = ctypes.CDLL(path)
        for name in (
            "scipy_openblas_get_num_threads64_",
            "scipy_openblas_get_num_threads",
            "openblas_get_num_threads64_",
            "openblas_get_num_threads",
        ):
            if hasattr(lib, name):
                return int(getattr(lib, name)()), f"{Path(path).name}:{name}"
    return None, "unknown BLAS (cannot check its thread count)"


def import_torch(threads: int):
    """PyTorch set to ``threads`` threads, or None (with a note) when it is not installed."""
    try:
        import torch
    except ImportError:
        print("PyTorch not installed: pip install torch==2.13.0 for the comparison columns")
        return None
    torch.set_num_threads(threads)
    return torch


def check_threads(threads: int, torch) -> None:
    """Print the thread counts numpy's BLAS and PyTorch really use; stop if one differs."""
    import numpy as np

    found, source = blas_threads()
    if found is not None and found != threads:
        sys.exit(f"numpy's BLAS uses {found} threads, not --threads {threads} ({source})")
    print(f"numpy {np.__version__}: BLAS threads = {found} (read from {source})")
    if torch is not None:
        print(f"torch {torch.__version__}: threads = {torch.get_num_threads()}")
        if torch.get_num_threads() != threads:
            sys.exit(f"torch uses {torch.get_num_threads()} threads, not {threads}")
