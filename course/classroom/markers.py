"""Solution and hidden-test regions of a master's code cell, and the stubs that replace them.

A master notebook marks each answer in a code cell between two whole lines
(indented like the code they surround)::

    def affine_forward(x, w, b):
        ### BEGIN SOLUTION
        out = x.reshape(x.shape[0], -1) @ w + b  # (N, M)
        ### END SOLUTION
        return out, (x, w, b)

and :func:`release_code` gives the student a stub that fails loudly instead
of returning None::

    def affine_forward(x, w, b):
        # YOUR CODE HERE
        raise NotImplementedError("affine_forward: write your code here")
        return out, (x, w, b)

Lines between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` are
removed, with the markers. A line that looks like a marker but is not one
exactly, an unclosed, unopened or nested region, or a marker outside a code
cell is a :class:`MarkerError`, since it would otherwise release an answer.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass

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


def release_code(text: str, number: int, source: str) -> str:
    """Return a code cell's student source: stubs for solutions, hidden tests removed.

    Inputs:
    - text: the master cell's source
    - number: the cell's position in the notebook, counted from 1 (for errors)
    - source: the master notebook's file name or path (for errors)

    Each stub raises ``NotImplementedError("<function>: write your code
    here")``, naming the innermost ``def`` around the region, else "this
    exercise". Raises :class:`MarkerError` for a malformed region.
    """
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


def require_no_markers(text: str, cell_type: str, number: int, source: str) -> None:
    """Raise MarkerError when a Markdown or raw cell holds a marker line."""
    for line_number, line in enumerate(text.split("\n"), start=1):
        if line.strip() in MARKERS:
            raise MarkerError(
                f"{source}: cell {number} line {line_number} is a {cell_type} cell holding the "
                f"marker {line.strip()!r}; markers work only in code cells: move the region "
                "into a code cell or reword the line"
            )


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
