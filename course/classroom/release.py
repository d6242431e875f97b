"""Release student notebooks from the instructor's master notebooks.

The master notebooks in ``solutions/`` mark each answer between ``### BEGIN
SOLUTION`` and ``### END SOLUTION``; the student version gets a stub that
raises ``NotImplementedError`` instead (see :mod:`course.classroom.markers`),
and hidden-test regions are removed. Check cells carry ``course`` metadata
(``{"check": true, "points": 3, "checks": ["affine_forward"]}``, see
:mod:`course.classroom.cell_metadata`), which the release keeps, as it keeps
every cell id, so a released cell can always be matched with its master.
Outputs and execution counts are cleared.

:func:`release_notebook` does this to one notebook in memory;
:func:`release` does it to a folder (``course release solutions --out
assignments``), checks every master before it writes anything, writes only
files whose bytes change, and never overwrites a notebook a person wrote.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import TYPE_CHECKING

from course.classroom.cell_metadata import read_cell_settings, validate_cell_ids
from course.classroom.markers import MarkerError, release_code, require_no_markers
from course.classroom.notebook_io import (
    read_notebook,
    read_text_or_none,
    serialize_notebook,
    source_text,
    sources_digest,
    write_atomically,
)

if TYPE_CHECKING:
    from nbformat import NotebookNode


def release_notebook(nb: NotebookNode, source: str = "<notebook>") -> NotebookNode:
    """Return the student version of a master notebook; ``nb`` itself is left unchanged.

    Inputs:
    - nb: a master notebook (nbformat 4.5 or later: every cell has an id)
    - source: its file name or path, used in error messages and recorded in
      the released notebook's metadata as ``course.released_from``

    Returns a new notebook in which every solution region is replaced by a
    stub raising ``NotImplementedError("<function>: write your code here")``
    (the innermost ``def`` around the region, else "this exercise"), every
    hidden-test region is removed, outputs and execution counts are cleared,
    and cell ids and metadata are kept (minus the ``execution`` timings that
    running the master leaves). Raises :class:`MarkerError` for a malformed
    region, a marker outside a code cell, a bad check cell, or a missing or
    duplicate cell id.
    """
    validate_cell_ids(nb.cells, source)
    released = copy.deepcopy(nb)
    for number, cell in enumerate(released.cells, start=1):
        read_cell_settings(cell, number, source)
        text = source_text(cell)
        if cell.get("cell_type") != "code":
            require_no_markers(text, cell.get("cell_type"), number, source)
            continue
        cell.source = release_code(text, number, source)
        cell.outputs = []
        cell.execution_count = None
        cell.metadata.pop("execution", None)
    course_meta = dict(released.metadata.get("course", {}))
    course_meta["released_from"] = Path(source).name
    course_meta["sources_sha256"] = sources_digest(released)
    released.metadata["course"] = course_meta
    return released


def release(src: Path, out: Path, check: bool = False) -> list[Path]:
    """Release every master notebook in ``src`` into ``out`` under the same file names.

    Inputs:
    - src: the folder of master notebooks (``solutions/``); ``*.ipynb`` files
      directly inside it are released, in sorted order
    - out: the folder of student notebooks (``assignments/``); created when
      missing; it must not be ``src`` or lie inside it
    - check: when True, write nothing and only report what is out of date

    Returns the paths (``out / name``) written, or with ``check=True`` the
    paths that are missing or differ from a fresh release. Every master is
    released and every target inspected before any file is written, so one
    malformed master leaves ``out`` untouched; a file whose bytes would not
    change is not rewritten (its mtime stays). A file in ``out`` that is not
    a released notebook, or a released notebook whose cells were edited
    after its release, is never overwritten: the error names it.
    """
    src, out = Path(src), Path(out)
    _require_release_folders(src, out)
    masters = sorted(p for p in src.glob("*.ipynb") if p.is_file() and not p.name.startswith("."))

    texts: dict[Path, str] = {}
    problems: list[ValueError] = []
    for master in masters:
        try:
            nb = _read_master(master)
            texts[out / master.name] = serialize_notebook(
                release_notebook(nb, str(master)), master
            )
        except ValueError as error:
            problems.append(error)
    _raise_all(problems, len(masters))

    stale = [target for target, text in texts.items() if read_text_or_none(target) != text]
    if check:
        return stale
    for target in stale:
        try:
            _require_overwritable(target)
        except ValueError as error:
            problems.append(error)
    _raise_all(problems, len(masters))

    if stale:
        out.mkdir(parents=True, exist_ok=True)
    for target in stale:
        write_atomically(target, texts[target])
    return stale


def _require_release_folders(src: Path, out: Path) -> None:
    """Raise unless ``src`` is an existing folder and ``out`` is neither it nor inside it."""
    if not src.exists():
        raise FileNotFoundError(f"{src}: no such folder of master notebooks")
    if not src.is_dir():
        raise ValueError(f"{src}: is not a folder; give the folder of master notebooks")
    src_real, out_real = src.resolve(), out.resolve()
    if out_real == src_real or src_real in out_real.parents:
        raise ValueError(
            f"refusing to write released notebooks into {out}: it is {src} or a folder inside "
            "it, and the release never writes into the masters' folder (solutions/); "
            "give another --out, e.g. assignments"
        )


def _read_master(path: Path) -> NotebookNode:
    """Read a master notebook, failing on duplicate cell ids before nbformat "repairs" them.

    nbformat replaces a duplicate id with a random one when it reads a file,
    which would give the released cell a different id on every release.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        data = None  # read_notebook names the problem
    if isinstance(data, dict) and isinstance(data.get("cells"), list):
        validate_cell_ids(data["cells"], str(path))
    return read_notebook(path)


def _require_overwritable(target: Path) -> None:
    """Raise ValueError unless ``target`` is missing or an unedited released notebook."""
    if not target.exists():
        return
    keep = "move or rename it to keep it, then release again"
    try:
        nb = read_notebook(target)
    except ValueError:
        raise ValueError(
            f"{target}: exists and is not a released notebook (it is not a readable notebook); "
            f"the release never overwrites it: {keep}"
        ) from None
    settings = nb.metadata.get("course")
    if not isinstance(settings, dict) or "released_from" not in settings:
        raise ValueError(
            f"{target}: exists and is not a released notebook (no course.released_from "
            f"metadata), so someone wrote it; the release never overwrites it: {keep}"
        )
    recorded = settings.get("sources_sha256")
    if recorded is not None and recorded != sources_digest(nb):
        raise ValueError(
            f"{target}: its cells were edited after it was released, and the release never "
            f"overwrites a person's work: {keep}"
        )


def _raise_all(problems: list[ValueError], count: int) -> None:
    """Raise the problems found (one error listing them all); nothing has been written yet."""
    if not problems:
        return
    kind = MarkerError if all(isinstance(p, MarkerError) for p in problems) else ValueError
    if len(problems) == 1:
        raise kind(f"{problems[0]}\nnothing was written")
    listed = "\n".join(f"- {problem}" for problem in problems)
    raise kind(
        f"{len(problems)} problems found while checking {count} master notebook(s); "
        f"nothing was written:\n{listed}"
    )
