"""Release student notebooks from the instructor's master notebooks.

A master notebook in ``solutions/`` marks each answer in a code cell between
two whole lines (indented like the code they surround)::

    def affine_forward(x, w, b):
        ### BEGIN SOLUTION
        out = x.reshape(x.shape[0], -1) @ w + b  # (N, M)
        ### END SOLUTION
        return out, (x, w, b)

and the student version gets a stub that fails loudly instead of returning
None::

    def affine_forward(x, w, b):
        # YOUR CODE HERE
        raise NotImplementedError("affine_forward: write your code here")
        return out, (x, w, b)

Lines between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` are
removed, with the markers. Check cells carry ``course`` metadata
(``{"check": true, "points": 3, "checks": ["affine_forward"]}``), which the
release keeps, as it keeps every cell id, so a released cell can always be
matched with its master. Outputs and execution counts are cleared.

:func:`release_notebook` does this to one notebook in memory;
:func:`release` does it to a folder (``course release solutions --out
assignments``), checks every master before it writes anything, writes only
files whose bytes change, and never overwrites a notebook a person wrote.
"""

from __future__ import annotations

import argparse
import ast
import copy
import hashlib
import json
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nbformat import NotebookNode

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
MARKERS = (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN)
_CLOSER = {BEGIN_SOLUTION: END_SOLUTION, BEGIN_HIDDEN: END_HIDDEN}

# Lines that a person meant as markers but did not write exactly ("##BEGIN
# SOLUTION", "### begin solution", "# END SOLUTION", "### END SOLUTION here"):
# left alone they would release the answer, so they are errors instead.
_MARKER_LIKE = (
    re.compile(r"^\s*#{2,}\s*(begin|end)\s+(solution|hidden\s+tests?)\b", re.IGNORECASE),
    re.compile(r"^\s*#+\s*(BEGIN|END)\s+(SOLUTION|HIDDEN\s+TESTS?)\b"),
)
_DEF_LINE = re.compile(r"^\s*(?:async\s+)?def\s+([A-Za-z_]\w*)")
_STUB_PLACEHOLDER = "\x00stub\x00"
NO_FUNCTION = "this exercise"


class MarkerError(ValueError):
    """A master notebook breaks the release conventions.

    The message names the file, the cell (counted from 1, as a person counts
    cells), the line within the cell where there is one, and what to change.
    """


@dataclass(frozen=True)
class _Region:
    """One marked region of a cell: where it starts and ends (0-based line indices)."""

    kind: str  # BEGIN_SOLUTION or BEGIN_HIDDEN
    begin: int
    end: int
    indent: str


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


def check_cell_settings(cell: NotebookNode, number: int, source: str) -> dict | None:
    """Return a check cell's ``course`` metadata, validated; None for other cells.

    A check cell is a code cell whose metadata holds
    ``"course": {"check": true, "points": <int>, "checks": [<function names>]}``.
    Raises :class:`MarkerError` naming ``source`` and the 1-based cell
    ``number`` when that metadata is incomplete or of the wrong type.
    """
    settings = cell.get("metadata", {}).get("course")
    if not isinstance(settings, dict) or not settings.get("check"):
        return None
    where = f"{source}: cell {number}"
    if cell.get("cell_type") != "code":
        raise MarkerError(
            f"{where} is a {cell.get('cell_type')} cell marked as a check cell "
            "(metadata course.check); only code cells can be check cells"
        )
    if settings.get("check") is not True:
        raise MarkerError(
            f"{where}: course.check must be true or false, got {settings['check']!r}"
        )
    points = settings.get("points")
    if points is None:
        raise MarkerError(
            f'{where} is a check cell without points; add "points": <int> to its course metadata'
        )
    if isinstance(points, bool) or not isinstance(points, int) or points < 0:
        raise MarkerError(
            f"{where} is a check cell whose points must be a whole number >= 0, "
            f"got {points!r} ({type(points).__name__})"
        )
    checks = settings.get("checks")
    if (
        not isinstance(checks, list)
        or not checks
        or not all(isinstance(name, str) and name for name in checks)
    ):
        raise MarkerError(
            f"{where} is a check cell whose checks must be a non-empty list of the names of "
            f'the functions it checks (e.g. ["affine_forward"]), got {checks!r}'
        )
    return settings


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
    _check_ids(nb.cells, source)
    released = copy.deepcopy(nb)
    for number, cell in enumerate(released.cells, start=1):
        check_cell_settings(cell, number, source)
        text = _source_text(cell)
        if cell.get("cell_type") != "code":
            _check_no_markers(text, cell.get("cell_type"), number, source)
            continue
        cell.source = _release_code(text, number, source)
        cell.outputs = []
        cell.execution_count = None
        cell.metadata.pop("execution", None)
    course_meta = dict(released.metadata.get("course", {}))
    course_meta["released_from"] = Path(source).name
    course_meta["sources_sha256"] = sources_digest(released)
    released.metadata["course"] = course_meta
    return released


def sources_digest(nb: NotebookNode) -> str:
    """Return a SHA-256 of the notebook's cell types and sources (not outputs, not metadata).

    The release records it so that a later release can tell a released
    notebook that someone has since edited (whose cells no longer match)
    from one that was only run.
    """
    cells = [[cell.get("cell_type"), _source_text(cell)] for cell in nb.cells]
    return hashlib.sha256(json.dumps(cells, ensure_ascii=False).encode("utf-8")).hexdigest()


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
    masters = sorted(p for p in src.glob("*.ipynb") if p.is_file() and not p.name.startswith("."))

    texts: dict[Path, str] = {}
    problems: list[ValueError] = []
    for master in masters:
        try:
            nb = _read_master(master)
            texts[out / master.name] = _serialize(release_notebook(nb, str(master)), master)
        except ValueError as error:
            problems.append(error)
    _raise_all(problems, len(masters))

    stale = [target for target, text in texts.items() if _current_text(target) != text]
    if check:
        return stale
    for target in stale:
        try:
            _check_overwritable(target)
        except ValueError as error:
            problems.append(error)
    _raise_all(problems, len(masters))

    if stale:
        out.mkdir(parents=True, exist_ok=True)
    for target in stale:
        _write_atomically(target, texts[target])
    return stale


def add_release_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``course release SRC --out OUT [--check]`` on a CLI's subparsers; return it."""
    parser = subparsers.add_parser(
        "release",
        help="make the student notebooks from the master notebooks",
        description="Release every master notebook in SRC (solutions/) into OUT (assignments/): "
        "solution regions become stubs that raise NotImplementedError, hidden tests are "
        "removed, outputs are cleared, cell ids and check-cell metadata are kept. Every master "
        "is checked before anything is written; unchanged files are not rewritten; a file in "
        "OUT that was not made by a release is never overwritten.",
    )
    parser.add_argument("src", metavar="SRC", help="folder of master notebooks, e.g. solutions")
    parser.add_argument(
        "--out",
        required=True,
        metavar="OUT",
        help="folder for the student notebooks, e.g. assignments (created when missing)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and list the student notebooks that are missing or out of "
        "date (for tests and CI)",
    )
    parser.set_defaults(run=_run_release, command="release")
    return parser


def _run_release(args: argparse.Namespace) -> int:
    """Handle ``course release``: print what was written, or with --check what is stale."""
    src, out = Path(args.src), Path(args.out)
    if args.check:
        stale = release(src, out, check=True)
        if not stale:
            print(f"up to date: {out} matches {src}")
            return 0
        print(f"{len(stale)} released notebook(s) in {out} out of date with {src}:")
        for path in stale:
            print(f"  {path} ({'out of date' if path.exists() else 'missing'})")
        print(f"fix with: course release {shlex.quote(str(src))} --out {shlex.quote(str(out))}")
        return 1
    written = release(src, out)
    for path in written:
        print(f"wrote {path}")
    if not written:
        print("up to date")
    return 0


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
        _check_ids(data["cells"], str(path))
    return read_notebook(path)


def _source_text(cell: NotebookNode) -> str:
    """Return a cell's source as one string (nbformat may hold it as a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _check_ids(cells: list, source: str) -> None:
    """Raise MarkerError unless every cell has an id and no two cells share one."""
    seen: dict[str, int] = {}
    for number, cell in enumerate(cells, start=1):
        cell_id = cell.get("id") if isinstance(cell, dict) else None
        if not isinstance(cell_id, str) or not cell_id:
            raise MarkerError(
                f"{source}: cell {number} has no id; master cells need stable ids "
                "(nbformat 4.5 or later): save the notebook with a current Jupyter, which adds "
                "them, or set nb.nbformat_minor = 5 and give each cell an id"
            )
        if cell_id in seen:
            raise MarkerError(
                f"{source}: cell {number} has the same id {cell_id!r} as cell {seen[cell_id]}; "
                "cell ids must be unique (a copied cell keeps its id): give one a new id"
            )
        seen[cell_id] = number


def _marker_of(line: str, number: int, line_number: int, source: str) -> str | None:
    """Return the marker a line is (one of MARKERS), None for other lines.

    Raises MarkerError for a line that looks like a marker but is not one
    exactly, since such a line would otherwise release an answer.
    """
    stripped = line.strip()
    if stripped in MARKERS:
        return stripped
    if any(pattern.match(line) for pattern in _MARKER_LIKE):
        raise MarkerError(
            f"{source}: cell {number} line {line_number} looks like a marker but is not exactly "
            f"one: {stripped!r}; write the marker alone on its line, exactly as "
            f"{' / '.join(repr(m) for m in MARKERS)}, so that no answer is released by mistake"
        )
    return None


def _check_no_markers(text: str, cell_type: str, number: int, source: str) -> None:
    """Raise MarkerError when a Markdown or raw cell holds a marker line."""
    for line_number, line in enumerate(text.split("\n"), start=1):
        if line.strip() in MARKERS:
            raise MarkerError(
                f"{source}: cell {number} line {line_number} is a {cell_type} cell holding the "
                f"marker {line.strip()!r}; markers work only in code cells: move the region "
                "into a code cell or reword the line"
            )


def _find_regions(lines: list[str], number: int, source: str) -> list[_Region]:
    """Return the marked regions of a code cell, checking that markers pair up."""
    regions: list[_Region] = []
    open_kind: str | None = None
    open_at = 0
    for index, line in enumerate(lines):
        marker = _marker_of(line, number, index + 1, source)
        if marker is None:
            continue
        at = f"{marker} at cell {number} line {index + 1}"
        if marker in _CLOSER:
            if open_kind is not None:
                raise MarkerError(
                    f"{source}: {at} opens a region inside the {open_kind} region opened at "
                    f"line {open_at + 1}; regions cannot nest: close the first with "
                    f"{_CLOSER[open_kind]} before opening another"
                )
            open_kind, open_at = marker, index
            continue
        if open_kind is None:
            opener = BEGIN_SOLUTION if marker == END_SOLUTION else BEGIN_HIDDEN
            raise MarkerError(
                f"{source}: {at} has no {opener} before it in the cell; "
                f"add the {opener} line where the region starts or delete this line"
            )
        if marker != _CLOSER[open_kind]:
            raise MarkerError(
                f"{source}: {at} closes the {open_kind} region opened at line {open_at + 1}; "
                f"close that region with {_CLOSER[open_kind]}"
            )
        indent = lines[open_at][: len(lines[open_at]) - len(lines[open_at].lstrip())]
        regions.append(_Region(open_kind, open_at, index, indent))
        open_kind = None
    if open_kind is not None:
        raise MarkerError(
            f"{source}: {open_kind} at cell {number} line {open_at + 1} is never closed by "
            f"{_CLOSER[open_kind]}; add that line where the region ends"
        )
    return regions


def _release_code(text: str, number: int, source: str) -> str:
    """Return a code cell's student source: stubs for solutions, hidden tests removed."""
    lines = text.split("\n")
    regions = _find_regions(lines, number, source)
    if not regions:
        return text
    released: list[str] = []
    stub_rows: list[tuple[int, _Region]] = []  # (index in released, region)
    position = 0
    for region in regions:
        released.extend(lines[position : region.begin])
        if region.kind == BEGIN_SOLUTION:
            released.append(f"{region.indent}# YOUR CODE HERE")
            stub_rows.append((len(released), region))
            released.append(f"{region.indent}raise NotImplementedError({_STUB_PLACEHOLDER})")
        position = region.end + 1
    released.extend(lines[position:])
    names = _enclosing_functions(released, lines, stub_rows)
    for (row, _), name in zip(stub_rows, names, strict=True):
        message = json.dumps(f"{name}: write your code here", ensure_ascii=False)
        released[row] = released[row].replace(_STUB_PLACEHOLDER, message)
    return "\n".join(released)


def _enclosing_functions(
    released: list[str], master: list[str], stub_rows: list[tuple[int, _Region]]
) -> list[str]:
    """Name the innermost ``def`` around each stub ("this exercise" when there is none).

    Python itself decides: the released cell is parsed and each stub's
    ``raise`` is looked up among the function bodies. A cell that is not
    plain Python (IPython magics) falls back to reading indentation upwards
    from the region in the master.
    """
    placeholder = json.dumps("stub")
    text = "\n".join(released).replace(_STUB_PLACEHOLDER, placeholder)
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return [_enclosing_function_by_indent(master, region.begin) for _, region in stub_rows]
    owner: dict[int, str] = {}

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, child.name)
            else:
                if isinstance(child, ast.Raise):
                    owner[child.lineno] = function
                visit(child, function)

    visit(tree, NO_FUNCTION)
    return [owner.get(row + 1, NO_FUNCTION) for row, _ in stub_rows]


def _enclosing_function_by_indent(lines: list[str], begin: int) -> str:
    """Walk up from line ``begin`` to the nearest ``def`` indented less than the region."""
    threshold = len(lines[begin]) - len(lines[begin].lstrip())
    for line in reversed(lines[:begin]):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ")", "]", "}")):
            continue
        indent = len(line) - len(line.lstrip())
        if indent >= threshold:
            continue
        match = _DEF_LINE.match(line)
        if match:
            return match.group(1)
        threshold = indent
        if indent == 0:
            break
    return NO_FUNCTION


def _serialize(nb: NotebookNode, source: Path) -> str:
    """Return exactly the text ``nbformat.write`` puts in a file (indent 1, final newline)."""
    import nbformat

    try:
        text = nbformat.writes(nb)
    except nbformat.ValidationError as error:
        reason = str(error).strip().splitlines()[0]
        raise ValueError(
            f"{source}: its released notebook is not valid nbformat ({reason})"
        ) from None
    return text if text.endswith("\n") else text + "\n"


def _current_text(path: Path) -> str | None:
    """Return a file's text, or None when it is missing or unreadable as UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError, IsADirectoryError):
        return None


def _check_overwritable(target: Path) -> None:
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


def _write_atomically(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` through a temporary file, so a crash leaves no half file."""
    temporary = target.with_name(f".{target.name}.tmp")
    with open(temporary, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    os.replace(temporary, target)


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
