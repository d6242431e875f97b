"""Release student notebooks from the instructor's master notebooks.

The master notebooks in ``solutions/`` mark each answer between ``### BEGIN
SOLUTION`` and ``### END SOLUTION``; the student version gets a stub that
raises ``NotImplementedError`` instead (see :mod:`course.classroom.markers`,
which also refuses near-miss markers and markers that break the code), and
hidden-test regions and nbval's ``# NBVAL_...`` marker lines are removed.
Written-answer cells (markdown, metadata ``course.answer``) hold the model
answer in the master; the student gets ``ANSWER_PLACEHOLDER`` in its place,
with the cell's id and metadata kept, so grading can find the answer.
Check cells carry ``course`` metadata
(``{"check": true, "points": 3, "checks": ["affine_forward"]}``, see
:mod:`course.classroom.cell_metadata`), which the release keeps, as it keeps
every cell id, so a released cell can always be matched with its master.
Every function a check cell names must get a stub somewhere in the notebook,
or the answer would be released with no exercise. Released check cells are
tagged ``raises-exception``, so that Run All in JupyterLab (and the classic
notebook) goes on past the check of an exercise not yet written instead of
stopping there; the masters keep no such tag, so nbval still fails on a
master whose check fails. Outputs and execution counts are cleared.

:func:`release_notebook` does this to one notebook in memory;
:func:`release` does it to a folder (``course release solutions --out
assignments``). It refuses a folder without masters and an ``--out`` that is
a file, checks every master before it writes anything (so any refusal
writes nothing), and writes only files whose bytes change. It never replaces
a file that may hold a person's work: a file that is not a released
notebook, a released notebook without the digest of its sources, one whose
cells were edited since, or one that was run (it holds outputs or execution
counts). With ``force=True`` (``--force``) such a file, whatever it is, is
first copied beside itself as ``NAME.backup-YYYYmmdd-HHMMSS.ipynb`` (see
:func:`~course.classroom.notebook_io.back_up`) and then replaced; a folder
where a notebook should go is refused even then.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from course.classroom.cell_metadata import (
    ANSWER_PLACEHOLDER,
    read_answer_settings,
    read_cell_settings,
    validate_answer_cells,
    validate_cell_ids,
)
from course.classroom.markers import (
    BEGIN_SOLUTION,
    END_SOLUTION,
    MarkerError,
    release_code_cell,
    require_no_markers,
)
from course.classroom.notebook_io import (
    back_up,
    read_notebook,
    read_text_or_none,
    serialize_notebook,
    source_text,
    sources_digest,
    write_atomically,
)

if TYPE_CHECKING:
    from nbformat import NotebookNode

# The cell tag with which Jupyter's Run All goes on after the cell raises.
RUN_ALL_GOES_ON = "raises-exception"
# nbval's markers (the masters are tested with nbval; a student needs none of them).
_TEST_MARKER = re.compile(r"#\s*NBVAL_[A-Z_]+")


def release_notebook(nb: NotebookNode, source: str = "<notebook>") -> NotebookNode:
    """Return the student version of a master notebook; ``nb`` itself is left unchanged.

    Inputs:
    - nb: a master notebook (nbformat 4.5 or later: every cell has an id)
    - source: its file name or path, used in error messages and recorded in
      the released notebook's metadata as ``course.released_from``

    Returns a new notebook in which every solution region is replaced by a
    stub raising ``NotImplementedError("<function>: write your code here")``
    (the innermost ``def`` around the region, else "this exercise"), every
    hidden-test region is removed, nbval's ``# NBVAL_...`` marker lines are
    removed, check cells are tagged ``raises-exception``, outputs and execution
    counts are cleared, every written-answer cell's source (the model
    answer) is replaced by ``ANSWER_PLACEHOLDER``, and cell ids and metadata are
    kept (minus the ``execution`` timings that running the master leaves).
    Raises :class:`MarkerError` for a malformed region or near-miss marker, a
    marker outside a code cell, a cell that parses in the master but not once
    released, a bad check cell, a check cell naming a function that gets no
    stub (check cells naming an ``artefact`` excepted: they check a saved
    file), a malformed answer cell or a repeated question id, or a missing
    or duplicate cell id.
    """
    validate_cell_ids(nb.cells, source)
    validate_answer_cells(nb.cells, source)
    released = copy.deepcopy(nb)
    stubbed: set[str] = set()
    checked: list[tuple[int, list[str]]] = []  # (check cell number, function names)
    for number, cell in enumerate(released.cells, start=1):
        settings = read_cell_settings(cell, number, source)
        if settings is not None:
            if "artefact" not in settings:  # an artefact's check reads a file, not a function
                checked.append((number, settings["checks"]))
            tags = list(cell.metadata.get("tags", []))
            cell.metadata["tags"] = tags if RUN_ALL_GOES_ON in tags else [*tags, RUN_ALL_GOES_ON]
        if read_answer_settings(cell, number, source) is not None:
            cell.source = ANSWER_PLACEHOLDER  # the model answer never leaves the master
            continue
        text = source_text(cell)
        if cell.get("cell_type") != "code":
            require_no_markers(text, cell.get("cell_type"), number, source)
            continue
        code = release_code_cell(text, number, source)
        stubbed |= code.stubbed
        cell.source = _without_test_markers(code.text)
        cell.outputs = []
        cell.execution_count = None
        cell.metadata.pop("execution", None)
    _require_exercises(checked, stubbed, source)
    course_meta = dict(released.metadata.get("course", {}))
    course_meta["released_from"] = Path(source).name
    course_meta["sources_sha256"] = sources_digest(released)
    released.metadata["course"] = course_meta
    return released


def _without_test_markers(text: str) -> str:
    """``text`` without nbval's marker lines (``# NBVAL_CHECK_OUTPUT``...), kept by tests only."""
    lines = text.split("\n")
    kept = [line for line in lines if not _TEST_MARKER.fullmatch(line.strip())]
    return "\n".join(kept) if len(kept) < len(lines) else text


def release(
    src: Path,
    out: Path,
    check: bool = False,
    force: bool = False,
    on_backup: Callable[[Path, Path], None] | None = None,
) -> list[Path]:
    """Release every master notebook in ``src`` into ``out`` under the same file names.

    Inputs:
    - src: the folder of master notebooks (``solutions/``); ``*.ipynb`` files
      directly inside it are released, in sorted order; it must hold one
    - out: the folder of student notebooks (``assignments/``); created when
      missing; it must not be a file, nor ``src`` or a folder inside it
    - check: when True, write nothing and only report what is out of date
    - force: back up and replace the files the release would otherwise refuse
      to replace (see :func:`replacement_refusal`)
    - on_backup: called with ``(target, backup)`` for each file backed up

    Returns the paths (``out / name``) written, or with ``check=True`` the
    paths that are missing or differ from a fresh release. Every master is
    released and every target inspected before any file is written, so any
    refusal leaves ``out`` untouched; a file whose bytes would not change is
    not rewritten (its mtime stays). A file in ``out`` that may hold a
    person's work is never replaced without ``force``: the error names it,
    why, and what to do.
    """
    src, out = Path(src), Path(out)
    _require_release_folders(src, out)
    masters = sorted(p for p in src.glob("*.ipynb") if p.is_file() and not p.name.startswith("."))
    if not masters:
        raise ValueError(
            f"{src}: holds no master notebooks (no *.ipynb file directly inside it); "
            "give the folder of master notebooks, e.g. solutions"
        )

    texts: dict[Path, str] = {}
    problems: list[ValueError] = []
    for master in masters:
        try:
            nb = read_notebook(master, lambda cells, m=master: validate_cell_ids(cells, str(m)))
            texts[out / master.name] = serialize_notebook(
                release_notebook(nb, str(master)), master
            )
        except ValueError as error:
            problems.append(error)
    _raise_all(problems, len(masters))

    stale = [target for target, text in texts.items() if read_text_or_none(target) != text]
    if check:
        return stale
    to_back_up = []
    for target in stale:
        refusal = replacement_refusal(target)
        if refusal is None:
            continue
        if target.is_dir():
            problems.append(
                ValueError(
                    f"{target}: {refusal}; move it away (the release never replaces a folder, "
                    "not even with --force)"
                )
            )
        elif force:
            to_back_up.append(target)
        else:
            problems.append(
                ValueError(
                    f"{target}: {refusal}; the release never replaces it: release to another "
                    "folder (--out), move it away, or pass --force to back it up beside itself "
                    "and replace it"
                )
            )
    _raise_all(problems, len(masters))

    if stale:
        out.mkdir(parents=True, exist_ok=True)
    for target in to_back_up:  # every backup is made before any file is replaced
        backup = back_up(target)
        if on_backup is not None:
            on_backup(target, backup)
    for target in stale:
        write_atomically(target, texts[target])
    return stale


def replacement_refusal(target: Path) -> str | None:
    """Say why the release will not replace ``target`` without --force, None when it may.

    It may replace a missing file, or a released notebook whose cells are as
    released (its ``course.sources_sha256`` digest matches) and that was never
    run (no outputs, no execution counts): nothing of a person's is in it.
    """
    target = Path(target)
    if not target.exists():
        return None
    if target.is_dir():
        return "is a folder where the release would write a notebook"
    try:
        nb = read_notebook(target)
    except ValueError:
        return "exists and is not a released notebook (it is not a readable notebook)"
    settings = nb.metadata.get("course")
    if not isinstance(settings, dict) or "released_from" not in settings:
        return (
            "exists and is not a released notebook (no course.released_from metadata), "
            "so someone wrote it"
        )
    recorded = settings.get("sources_sha256")
    if recorded is None:
        return (
            "is a released notebook without the digest of its cells (course.sources_sha256), "
            "so whether someone edited it cannot be told"
        )
    if recorded != sources_digest(nb):
        return "its cells were edited after it was released"
    if any(cell.get("outputs") or cell.get("execution_count") is not None for cell in nb.cells):
        return "it was run (it holds outputs or execution counts), which replacing it would lose"
    return None


def _require_exercises(checked: list[tuple[int, list[str]]], stubbed: set[str], source: str):
    """Raise MarkerError when a check cell names a function that got no stub in the notebook."""
    for number, names in checked:
        missing = [name for name in names if name not in stubbed]
        if not missing:
            continue
        listed = ", ".join(missing)
        raise MarkerError(
            f"{source}: cell {number} is a check cell for {listed}, but no released cell has a "
            f"stub for {listed} (a def {missing[0]} whose answer is between {BEGIN_SOLUTION} and "
            f"{END_SOLUTION}), so the answer would be released with no exercise: mark the "
            f"answer, or remove {listed} from the cell's course.checks metadata"
        )


def _require_release_folders(src: Path, out: Path) -> None:
    """Raise unless ``src`` is an existing folder and ``out`` a folder (or none yet) outside it."""
    if not src.exists():
        raise FileNotFoundError(f"{src}: no such folder of master notebooks")
    if not src.is_dir():
        raise ValueError(f"{src}: is not a folder; give the folder of master notebooks")
    existing = next(path for path in (out, *out.absolute().parents) if path.exists())
    if not existing.is_dir():
        raise ValueError(
            f"{existing}: is a file, so the released notebooks cannot go into {out}; "
            "give --out a folder (it is created when missing), e.g. assignments"
        )
    src_real, out_real = src.resolve(), out.resolve()
    if out_real == src_real or src_real in out_real.parents:
        raise ValueError(
            f"refusing to write released notebooks into {out}: it is {src} or a folder inside "
            "it, and the release never writes into the masters' folder (solutions/); "
            "give another --out, e.g. assignments"
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
