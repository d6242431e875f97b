"""Read and write notebook files safely, and fingerprint what their cells say.

:func:`read_notebook` turns every way a file can fail to be a notebook into
one error naming the file; :func:`serialize_notebook` gives exactly the text
``nbformat.write`` would put in a file, so a caller can compare it with the
file's bytes before writing; :func:`write_atomically` never leaves half a
file; :func:`sources_digest` fingerprints a notebook's cell types and sources
(not its outputs or metadata), so that a notebook that was only run can be
told from one whose cells were edited.

nbformat is imported only when a notebook is read or serialised.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nbformat import NotebookNode


def read_notebook(path: Path) -> NotebookNode:
    """Read a notebook file (nbformat 4), turning every way it can be broken into one error.

    Raises FileNotFoundError when ``path`` does not exist and ValueError,
    naming the file, when it is not a readable notebook (not UTF-8, not
    JSON, or JSON that is not a notebook).
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
        return nbformat.reads(text, as_version=4)
    except (ValueError, KeyError, TypeError, AttributeError, nbformat.ValidationError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValueError(
            f"{path}: is not a valid Jupyter notebook ({reason}); "
            "open it in Jupyter or restore it from version control"
        ) from None


def source_text(cell: NotebookNode) -> str:
    """Return a cell's source as one string (nbformat may hold it as a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


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
    except (FileNotFoundError, UnicodeDecodeError, IsADirectoryError):
        return None


def write_atomically(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` through a temporary file, so a crash leaves no half file."""
    temporary = target.with_name(f".{target.name}.tmp")
    with open(temporary, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    os.replace(temporary, target)
