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
removed, with the markers. A marker is one of those four lines exactly, with
nothing around it but ordinary spaces and tabs. Everything that would
otherwise release an answer is a :class:`MarkerError` naming the file, the
cell and the line:

- a line that looks like a marker but is not one exactly. Looking like one
  is judged after removing invisible characters (zero-width spaces and
  joiners, byte-order marks), reading every Unicode space as a space,
  ignoring case, reading ``_`` and ``-`` as spaces and collapsing runs, so
  ``### BEGIN SOLUTIONS``, ``###BEGIN_SOLUTION``, ``# begin solution``, a
  marker holding a zero-width or non-breaking space, one after code on the
  same line (``x = 1  ### BEGIN SOLUTION``) or inside a string are all
  refused, as is a marker with text after it;
- an unclosed, unopened or nested region, or a marker outside a code cell;
- a cell that is valid Python in the master (IPython ``%magic`` and
  ``!shell`` lines read as ``pass``) but not once released: markers indented
  less than the code they surround, or put inside brackets.

:func:`release_code_cell` also says which functions got a stub, so that the
release can refuse a check cell whose function is not an exercise.
"""

from __future__ import annotations

import ast
import json
import re
import unicodedata
from dataclasses import dataclass

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"
MARKERS = (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN)
_CLOSER = {BEGIN_SOLUTION: END_SOLUTION, BEGIN_HIDDEN: END_HIDDEN}
_ORDINARY_SPACE = " \t\r\f\v"  # what may surround a marker; str.strip() would also take U+00A0

# What a person meant as a marker, read on the line's words (see _words): "#", then
# BEGIN or END, then SOLUTION or HIDDEN TEST(S) however spaced, cased or spelled out.
_MARKER_WORDS = r"(?:begin|end) ?(?:sol(?!v)|hidden ?test|hidden$)"
_MARKER_ANYWHERE = re.compile(r"#[# ]*" + _MARKER_WORDS)
_MARKER_AT_START = re.compile(r"^#[# ]*" + _MARKER_WORDS)
_BARE_MARKER = re.compile(r"^(?:begin|end)[ _-]*(?:solutions?|hidden(?:[ _-]*tests?)?)$")
_INVISIBLE = ("Cf", "Mn", "Me")  # format characters (zero-width spaces, BOM), combining marks
_IPYTHON_LINE = ("%", "!")  # line and cell magics, shell escapes
_DEF_LINE = re.compile(r"^\s*(?:async\s+)?def\s+([A-Za-z_]\w*)")
_STUB_PLACEHOLDER = "\x00stub\x00"
NO_FUNCTION = "this exercise"


class MarkerError(ValueError):
    """A master notebook breaks the release conventions.

    The message names the file, the cell (counted from 1, as a person counts
    cells), the line within the cell where there is one, and what to change.
    """


@dataclass(frozen=True)
class ReleasedCode:
    """A code cell's student source and the functions that got a stub in it.

    ``stubbed`` holds the name of every ``def`` around a stub (an inner
    function's stub also counts for the function it is nested in).
    """

    text: str
    stubbed: frozenset[str]


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
    exercise". Raises :class:`MarkerError` for a malformed region, a
    near-miss marker, or a release that no longer parses.
    """
    return release_code_cell(text, number, source).text


def release_code_cell(text: str, number: int, source: str) -> ReleasedCode:
    """Return :func:`release_code`'s result with the names of the functions that got a stub."""
    lines = text.split("\n")
    regions = _find_regions(lines, number, source)
    if not regions:
        return ReleasedCode(text, frozenset())
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

    reading = _python_reading(text)
    placeholder = json.dumps("stub")
    broken: SyntaxError | None = None
    chains: list[tuple[str, ...]] = []
    if reading is not None:
        try:
            tree = _parse(reading("\n".join(released).replace(_STUB_PLACEHOLDER, placeholder)))
            chains = _enclosing_functions(tree, [row for row, _ in stub_rows])
        except SyntaxError as error:
            broken = error
    if reading is None or broken is not None:
        chains = [_enclosing_functions_by_indent(lines, region.begin) for _, region in stub_rows]
    for (row, _), chain in zip(stub_rows, chains, strict=True):
        name = chain[-1] if chain else NO_FUNCTION
        message = json.dumps(f"{name}: write your code here", ensure_ascii=False)
        released[row] = released[row].replace(_STUB_PLACEHOLDER, message)
    if broken is not None:
        raise _no_longer_parses(broken, released, number, source)
    return ReleasedCode("\n".join(released), frozenset(name for c in chains for name in c))


def require_no_markers(text: str, cell_type: str, number: int, source: str) -> None:
    """Raise MarkerError when a Markdown or raw cell holds a marker or a line starting like one.

    A sentence that mentions a marker (``between `### BEGIN SOLUTION` and``) is allowed.
    """
    for line_number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip(_ORDINARY_SPACE)
        plain = _plain(line).strip()
        if stripped in MARKERS:
            what = f"the marker {stripped!r}"
        elif plain.startswith("#") and _MARKER_AT_START.match(_words(plain)):
            what = f"a line that looks like a marker, {stripped!r}"
        else:
            continue
        raise MarkerError(
            f"{source}: cell {number} line {line_number} is a {cell_type} cell holding {what}; "
            "markers work only in code cells: move the region into a code cell or reword the line"
        )


def _plain(line: str) -> str:
    """Return a line without invisible characters, every Unicode space a space, casefolded."""
    decomposed = unicodedata.normalize("NFKD", line)  # also U+00A0 -> " ", U+FF03 -> "#"
    kept = (" " if ch.isspace() else ch for ch in decomposed)
    return "".join(ch for ch in kept if unicodedata.category(ch) not in _INVISIBLE).casefold()


def _words(plain: str) -> str:
    """Return a plain line's letters, digits and ``#`` signs, everything else one space."""
    return " ".join(re.sub(r"[^0-9a-z#]+", " ", plain).split())


def _looks_like_marker(line: str) -> bool:
    """Say whether a code line holds something a person may have meant as a marker."""
    plain = _plain(line)
    return bool(_BARE_MARKER.match(plain.strip()) or _MARKER_ANYWHERE.search(_words(plain)))


def _marker_of(line: str, number: int, line_number: int, source: str) -> str | None:
    """Return the marker a line is (one of MARKERS), None for other lines.

    Raises MarkerError for a line that looks like a marker but is not one
    exactly, since such a line would otherwise release an answer.
    """
    stripped = line.strip(_ORDINARY_SPACE)
    if stripped in MARKERS:
        return stripped
    if not _looks_like_marker(line):
        return None
    unusual = [
        f"U+{ord(ch):04X} {unicodedata.name(ch, '')}".strip()
        for ch in dict.fromkeys(stripped)
        if not ch.isascii()
    ]
    details = []
    if unusual:
        details.append(f"it holds invisible or non-ASCII characters: {', '.join(unusual)}")
    plain = _plain(stripped).lstrip()
    if "#" not in plain:
        details.append("a marker starts with ###")
    elif not plain.startswith("#"):
        details.append("a marker must be alone on its line, not after code or inside a string")
    detail = f" ({'; '.join(details)})" if details else ""
    raise MarkerError(
        f"{source}: cell {number} line {line_number} looks like a marker but is not exactly "
        f"one: {stripped!r}{detail}; write the marker alone on its line, exactly as "
        f"{' / '.join(repr(m) for m in MARKERS)}, so that no answer is released by mistake, "
        "or reword the line if it is not meant as a marker"
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


# ----- reading a cell as Python --------------------------------------------------------


def _parse(text: str) -> ast.Module:
    """Parse a cell as IPython does (top-level ``await`` allowed); raises SyntaxError."""
    flags = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    try:
        return compile(text, "<cell>", "exec", flags=flags, dont_inherit=True)
    except ValueError as error:  # Python 3.11 reports a null byte this way
        raise SyntaxError(str(error)) from None


def _as_is(text: str) -> str:
    return text


def _ipython_lines_as_pass(text: str) -> str:
    """Return the text with each ``%magic``, ``%%cell magic`` or ``!shell`` line read as ``pass``.

    Lines keep their indentation and their numbers, so blocks stay blocks and a
    SyntaxError's line number is the cell's.
    """
    lines = text.split("\n")
    for index, line in enumerate(lines):
        body = line.lstrip()
        if body.startswith(_IPYTHON_LINE):
            lines[index] = line[: len(line) - len(body)] + "pass"
    return "\n".join(lines)


def _python_reading(text: str):
    """Return how a master cell reads as Python (as is, or magics as pass); None if neither.

    The released cell is read the same way, so the two are compared like for like.
    """
    for reading in (_as_is, _ipython_lines_as_pass):
        try:
            _parse(reading(text))
        except SyntaxError:
            continue
        return reading
    return None


def _no_longer_parses(
    error: SyntaxError, released: list[str], number: int, source: str
) -> MarkerError:
    """Return the error for a cell that parses in the master but not once released."""
    row = (error.lineno or 1) - 1
    line = released[row].strip(_ORDINARY_SPACE) if 0 <= row < len(released) else ""
    return MarkerError(
        f"{source}: cell {number} is valid Python in the master but not once released "
        f"(line {row + 1} of the released cell, {line!r}: {type(error).__name__}: {error.msg}); "
        "indent the markers like the code they surround, do not put markers inside "
        "brackets or a statement that continues over several lines, and leave no block empty"
    )


def _enclosing_functions(tree: ast.Module, rows: list[int]) -> list[tuple[str, ...]]:
    """Return the ``def`` names around each stub's ``raise`` (0-based ``rows``), outermost first.

    Python itself decides: each stub's ``raise`` is looked up among the
    function bodies of the parsed released cell.
    """
    owner: dict[int, tuple[str, ...]] = {}

    def visit(node: ast.AST, chain: tuple[str, ...]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, (*chain, child.name))
            else:
                if isinstance(child, ast.Raise):
                    owner[child.lineno] = chain
                visit(child, chain)

    visit(tree, ())
    return [owner.get(row + 1, ()) for row in rows]


def _enclosing_functions_by_indent(lines: list[str], begin: int) -> tuple[str, ...]:
    """Walk up from line ``begin`` collecting each ``def`` indented less than what it holds.

    The fallback for a cell that is not Python even with its magics read as
    ``pass``; returns the names outermost first.
    """
    threshold = len(lines[begin]) - len(lines[begin].lstrip())
    chain: list[str] = []
    for line in reversed(lines[:begin]):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ")", "]", "}")):
            continue
        indent = len(line) - len(line.lstrip())
        if indent >= threshold:
            continue
        match = _DEF_LINE.match(line)
        if match:
            chain.append(match.group(1))
        threshold = indent
        if indent == 0:
            break
    return tuple(reversed(chain))
