"""Read and write notebook files safely, and fingerprint what their cells say.

:func:`read_notebook` turns every way a file can fail to be a notebook into
one error naming the file, and the cell when one cell is malformed: the plain
JSON is validated first (:func:`validate_notebook_json`), since nbformat reads
``"cells": {}`` or a source that is a number without complaint, and the
release would then write it out or fail with a traceback.
:func:`serialize_notebook` gives exactly the text ``nbformat.write`` would put
in a file, so a caller can compare it with the file's bytes before writing;
:func:`write_atomically` never leaves half a file; :func:`back_up` copies a
file beside itself under a name no other file has; :func:`sources_digest`
fingerprints a notebook's cell types and sources (not its outputs or
metadata), so that a notebook that was only run can be told from one whose
cells were edited.

nbformat is imported only when a notebook is read or serialised.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from course.artefacts import write_file

if TYPE_CHECKING:
    from nbformat import NotebookNode

_CELL_TYPES = ("code", "markdown", "raw")


def read_notebook(
    path: Path, check_raw_cells: Callable[[list[dict]], None] | None = None
) -> NotebookNode:
    """Read a notebook file (nbformat 4), turning every way it can be broken into one error.

    Raises FileNotFoundError when ``path`` does not exist and ValueError,
    naming the file, when it is not a readable notebook (not UTF-8, not
    JSON, JSON that is not a notebook, or a malformed cell: see
    :func:`validate_notebook_json`). ``check_raw_cells``, when given, is
    called with the cells as plain JSON dicts before nbformat reads them
    (nbformat silently "repairs" some things, such as duplicate cell ids).
    """
    import nbformat

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except IsADirectoryError:
        raise ValueError(f"{path}: is a folder, not a notebook file") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: is not a notebook (not UTF-8 text: {error})") from None
    try:
        data = json.loads(text)
    except ValueError as error:
        raise _not_a_notebook(path, str(error)) from None
    validate_notebook_json(data, path)
    if check_raw_cells is not None and isinstance(data.get("cells"), list):
        check_raw_cells(data["cells"])
    try:
        return nbformat.reads(text, as_version=4)
    except (ValueError, KeyError, TypeError, AttributeError, nbformat.ValidationError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise _not_a_notebook(path, reason) from None


def validate_notebook_json(data: object, path: Path) -> None:
    """Raise ValueError naming ``path`` (and the cell) unless ``data`` is shaped like a notebook.

    Checked on the plain JSON, before nbformat reads it: the notebook is an
    object whose ``metadata``, when present, is an object; in nbformat 4 its
    ``cells`` is a list in which each cell is an object with a ``cell_type``
    of "code", "markdown" or "raw", a ``source`` that is text or a list of
    lines of text, ``metadata`` (when present) an object and, for a code
    cell, ``outputs`` (when present) a list. Cells are counted from 1.
    """
    if not isinstance(data, dict):
        raise _not_a_notebook(path, f"its JSON is {_kind(data)}, not an object")
    if not isinstance(data.get("metadata", {}), dict):
        raise _not_a_notebook(path, f"its metadata is {_kind(data['metadata'])}, not an object")
    if "cells" not in data and data.get("nbformat") != 4:
        return  # an older nbformat or no notebook at all: nbformat says which
    cells = data.get("cells")
    if "cells" not in data:
        raise _not_a_notebook(path, 'it has no "cells" list')
    if not isinstance(cells, list):
        raise _not_a_notebook(path, f'its "cells" is {_kind(cells)}, not a list of cells')
    for number, cell in enumerate(cells, start=1):
        problem = _cell_problem(cell)
        if problem:
            raise _not_a_notebook(path, f"cell {number} {problem}")


def _cell_problem(cell: object) -> str | None:
    """Say what is wrong with one cell's plain JSON, None when it is well formed."""
    if not isinstance(cell, dict):
        return f"is {_kind(cell)}, not a cell object"
    cell_type = cell.get("cell_type")
    if cell_type not in _CELL_TYPES:
        shown = "missing" if cell_type is None else repr(cell_type)
        return f"has cell_type {shown}; expected one of {', '.join(map(repr, _CELL_TYPES))}"
    if "source" not in cell:
        return "has no source"
    source = cell["source"]
    if not isinstance(source, str) and not (
        isinstance(source, list) and all(isinstance(line, str) for line in source)
    ):
        return f"has a source that is {_kind(source)}; expected text or a list of lines of text"
    if not isinstance(cell.get("metadata", {}), dict):
        return f"has metadata that is {_kind(cell['metadata'])}, not an object"
    if cell_type == "code" and not isinstance(cell.get("outputs", []), list):
        return f"has outputs that are {_kind(cell['outputs'])}, not a list"
    return None


def _kind(value: object) -> str:
    """Describe a JSON value for an error: 'a number (3)', 'an object', 'a list holding null'."""
    if isinstance(value, list):
        odd = next((item for item in value if not isinstance(item, str)), None)
        return f"a list holding {_kind(odd)}" if odd is not None else "a list"
    names = {dict: "an object", str: "text", bool: "a boolean", type(None): "null"}
    name = names.get(type(value), "a number" if isinstance(value, (int, float)) else "a value")
    return f"{name} ({value!r})" if isinstance(value, (int, float, bool)) else name


def _not_a_notebook(path: Path, reason: str) -> ValueError:
    return ValueError(
        f"{path}: is not a valid Jupyter notebook ({reason}); "
        "open it in Jupyter or restore it from version control"
    )


def source_text(cell: NotebookNode | dict) -> str:
    """Return a cell's source as one string (nbformat may hold it as a list of lines).

    A cell read as plain JSON (a submission that is not validated) may hold
    anything: lines that are not strings are left out, and a source that is
    neither a string nor a list reads as empty.
    """
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(line for line in source if isinstance(line, str))
    return source if isinstance(source, str) else ""


def sources_digest(nb: NotebookNode) -> str:
    """Return a SHA-256 of the notebook's cell types and sources (not outputs, not metadata).

    The release records it so that a later release can tell a released
    notebook that someone has since edited (whose cells no longer match)
    from one that was only run.
    """
    cells = [[cell.get("cell_type"), source_text(cell)] for cell in nb.cells]
    return hashlib.sha256(json.dumps(cells, ensure_ascii=False).encode("utf-8")).hexdigest()


def serialize_notebook(nb: NotebookNode, source: Path) -> str:
    """Return exactly the text ``nbformat.write`` puts in a file (indent 1, final newline).

    ``source`` names the notebook ``nb`` was made from, for the ValueError
    raised when ``nb`` is not valid nbformat.
    """
    import nbformat

    try:
        text = nbformat.writes(nb)
    except nbformat.ValidationError as error:
        reason = str(error).strip().splitlines()[0]
        raise ValueError(
            f"{source}: its released notebook is not valid nbformat ({reason})"
        ) from None
    return text if text.endswith("\n") else text + "\n"


def read_text_or_none(path: Path) -> str | None:
    """Return a file's text, or None when it is missing or unreadable as UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, UnicodeDecodeError):
        return None


def write_atomically(target: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``target`` through :func:`course.artefacts.write_file`.

    A crash leaves no half file; ``target`` is replaced if it exists.
    """
    data = text.encode("utf-8")
    write_file(target, lambda handle: handle.write(data), overwrite=True)


def back_up(path: Path) -> Path:
    """Copy a file beside itself as ``NAME.backup-YYYYmmdd-HHMMSS.ipynb``; return the copy's path.

    The copy keeps the file's suffix (a notebook's backup opens in Jupyter)
    and its modification time. An existing file is never overwritten: when
    the name is taken, ``-2``, ``-3``, ... is added to the time stamp.
    """
    path = Path(path)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    data = path.read_bytes()
    for attempt in itertools.count(1):
        tag = stamp if attempt == 1 else f"{stamp}-{attempt}"
        backup = path.with_name(f"{path.stem}.backup-{tag}{path.suffix}")
        try:
            with open(backup, "xb") as handle:  # "x": fails rather than overwrite
                handle.write(data)
        except FileExistsError:
            continue
        shutil.copystat(path, backup)
        return backup
    raise AssertionError("unreachable")  # itertools.count never ends
