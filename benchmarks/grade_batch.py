"""How long does `course grade` take on a class? 40 mixed submissions, locally and on Dask.

The batch: the 29 red-team submissions of ``tests/grading_redteam.py`` (every
known trick, three of which run into the per-cell timeout and one into the
memory limit) and 11 honest ones (6 fully correct, 5 half-complete), all of
``solutions/01_fully_connected.ipynb``. The script times, in one run:

- one correct submission alone (``grade_submission``): the reference;
- the batch with ``--workers N`` processes here;
- the batch on a local Dask cluster (a scheduler and N single-thread
  worker processes on 127.0.0.1), then checks that both gradebooks hold the
  same rows (timestamps aside).

It prints each time and its ratio to the single submission, and leaves
``grades.csv`` of the local batch in ``--out``. Limits are the defaults of
``course grade`` (30 s per cell, 600 s per worker, 2048 MiB) unless given.

Usage::

    python benchmarks/grade_batch.py                  # about 2-3 minutes on 2 cores
    python benchmarks/grade_batch.py --cell-timeout 3 # the red-team test's limit
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the red-team catalogue lives with its test

from grading_redteam import MASTER, TRICKS, write_submission  # noqa: E402

from course.grading.batch import grade_batch  # noqa: E402
from course.grading.engine import grade_submission  # noqa: E402

CORRECT, HALF = 6, 5  # honest submissions: fully correct, half-complete


def make_batch(folder: Path, gradebook: Path) -> list[Path]:
    """The tricks and the honest submissions, written into ``folder``."""
    paths = [write_submission(name, folder, gradebook) for name in TRICKS]
    for k in range(CORRECT):
        paths.append(Path(shutil.copy(MASTER, folder / f"honest-correct-{k}.ipynb")))
    for k in range(HALF):
        half = folder / f"honest-half-{k}.ipynb"
        paths.append(Path(shutil.copy(folder / "half-complete.ipynb", half)))
    return paths


def rows(gradebook: Path) -> list[tuple]:
    with sqlite3.connect(gradebook) as db:
        return db.execute(
            "SELECT s.student, s.sha256, s.status, r.position, r.check_name, r.points, "
            "r.status, r.message, r.reason FROM results r "
            "JOIN submissions s ON s.id = r.submission_id ORDER BY 1, 4"
        ).fetchall()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cell-timeout", type=float, default=30)
    parser.add_argument("--total-timeout", type=float, default=600)
    parser.add_argument("--memory-mb", type=int, default=2048)
    parser.add_argument("--out", type=Path, default=ROOT / "output" / "grade_batch")
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask run")
    args = parser.parse_args()
    limits = {
        "cell_timeout": args.cell_timeout,
        "total_timeout": args.total_timeout,
        "memory_mb": args.memory_mb,
    }
    with tempfile.TemporaryDirectory(prefix="grade-batch-") as tmp:
        folder = Path(tmp) / "submissions"
        folder.mkdir()
        local_out = args.out / "local"
        paths = make_batch(folder, local_out / "gradebook.sqlite")
        print(f"{len(paths)} submissions of {MASTER.name}; limits {limits}")

        started = time.perf_counter()
        one = grade_submission(MASTER, folder / "fully-correct.ipynb", **limits)
        single = time.perf_counter() - started
        print(f"one correct submission: {single:6.1f} s  ({one.points:g}/{one.possible:g})")

        shutil.rmtree(local_out, ignore_errors=True)
        local = grade_batch(
            MASTER, paths, local_out, workers=args.workers, progress=False, **limits
        )
        print(
            f"--workers {args.workers}:          {local.seconds:6.1f} s  "
            f"({local.seconds / single:.1f}x one submission)"
        )
        if not args.no_dask:
            import distributed

            dask_out = args.out / "dask"
            shutil.rmtree(dask_out, ignore_errors=True)
            with distributed.LocalCluster(
                n_workers=args.workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            ) as cluster:
                remote = grade_batch(
                    MASTER,
                    paths,
                    dask_out,
                    scheduler=cluster.scheduler_address,
                    progress=False,
                    **limits,
                )
            same = rows(remote.gradebook) == rows(local.gradebook)
            print(
                f"Dask, {args.workers} workers:      {remote.seconds:6.1f} s  "
                f"({remote.seconds / single:.1f}x one submission); "
                f"same gradebook rows as --workers: {same}"
            )
            if not same:
                return 1
        print(f"CSV: {local.csv}")
        print(local.csv.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
