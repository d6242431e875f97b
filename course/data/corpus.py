"""English text for the language models: a toy corpus, a tokeniser, and real prose.

Everything here runs offline on text that Python itself ships:

- ``TOY_SENTENCES``: a dozen short sentences for P(next word | previous words).
- ``tokenize_words`` / ``split_sentences``: a small, deterministic regex
  tokeniser.
- ``load_pydoc_corpus``: about a third of a megabyte of English prose, the
  language reference shipped with the standard library in
  ``pydoc_data.topics``, cleaned of code and tables; ``load_text_file`` reads
  any UTF-8 file instead; ``train_val_split`` cuts a text in two.

Typical use::

    text = load_pydoc_corpus()
    train_text, val_text = train_val_split(text, val_fraction=0.1)
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from course.data._validation import validate_text_path, validate_text_split
from course.data.paths import DatasetNotFoundError
from course.validation import require_positive_int

__all__ = [
    "TOY_SENTENCES",
    "load_pydoc_corpus",
    "load_text_file",
    "split_sentences",
    "tokenize_words",
    "train_val_split",
]

TOY_SENTENCES: tuple[str, ...] = (
    "the cat sat on the mat",
    "the dog sat on the log",
    "a cat sat on a hat",
    "the cat ate the fish",
    "a dog ate a bone",
    "the dog chased the cat",
    "the cat chased a mouse",
    "a mouse ate the cheese",
    "the bird sat on the tree",
    "a bird sang in the tree",
    "the dog slept on the mat",
    "the cat slept in the sun",
)


# ---------------------------------------------------------------------------
# Tokenisation
# ---------------------------------------------------------------------------

# A word is a run of letters or digits, with inner apostrophes ("don't"); every
# other non-space character (punctuation, symbols, "_") is a token of its own.
_WORD_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)*|\S")
# A sentence ends at . ! or ? (perhaps followed by a closing quote or bracket)
# before whitespace and a character that is not a lower-case letter.
_SENTENCE_END_RE = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"')\]]))\s+(?=[^a-z\s])")
_PARAGRAPH_RE = re.compile(r"\n[ \t]*\n")


def tokenize_words(text: str) -> list[str]:
    """Split ``text`` into lower-case words and punctuation tokens.

    ``"The cat's mat, isn't it?"`` -> ``['the', "cat's", 'mat', ',', "isn't", 'it', '?']``.
    A word is a run of letters and digits with inner apostrophes; every other
    non-space character is a token by itself (so ``'well-known'`` gives
    ``['well', '-', 'known']``). Curly apostrophes count as ``'``.
    """
    if not isinstance(text, str):
        raise TypeError(f"tokenize_words: text must be a str, got {type(text).__name__}")
    return _WORD_RE.findall(text.lower().replace("\u2019", "'"))


def split_sentences(text: str) -> list[str]:
    """Split ``text`` into sentences, each with its whitespace runs collapsed to one space.

    A sentence ends at ``.``, ``!`` or ``?`` (and any closing quote or bracket)
    followed by whitespace and then anything but a lower-case letter, so
    "e.g. this" stays whole; a blank line also ends a sentence. Simple and
    deterministic, not linguistically perfect ("Mr. Smith" is split).
    """
    if not isinstance(text, str):
        raise TypeError(f"split_sentences: text must be a str, got {type(text).__name__}")
    sentences = []
    for paragraph in _PARAGRAPH_RE.split(text):
        flat = " ".join(paragraph.split())
        sentences.extend(s for s in _SENTENCE_END_RE.split(flat) if s)
    return sentences


# ---------------------------------------------------------------------------
# Corpora
# ---------------------------------------------------------------------------

# Typographic characters of the pydoc text and their ASCII spelling.
_ASCII_SPELLING = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
        "\u2013": "-",
        "\u2014": "-",
        "\u00df": "ss",
        "\t": " ",
    }
)
_NON_ASCII_RE = re.compile(r"[^\n -~]")
_UNDERLINE_RE = re.compile(r"^\s*([*=\-~^#+\"'])\1{2,}\s*$")
_HYPHEN_BREAK_RE = re.compile(r"(?<=[A-Za-z]-)\n\s*(?=[a-z])")
_LIST_MARKER_RE = re.compile(r"(?:\[\d+\]|\(\w+\)|\d+\.|[*-])\s+")
_MIN_PROSE_LETTERS = 0.8  # fraction of letters and spaces below which a block is code


def _is_prose(block: str) -> bool:
    """True for a paragraph of English; False for code, grammar, tables and prompts.

    Code is recognised by: a ``>>>`` or ``...`` prompt, ``::=`` (grammar
    rules), table borders, a line indented 4 or more columns beyond the
    first (nested code; list items and footnotes may hang by the width of
    their marker), or fewer than 80% letters and spaces.
    """
    lines = block.split("\n")
    first = lines[0].lstrip()
    if first.startswith((">>>", "...", "+-", "|", "=")) or "::=" in block:
        return False
    indents = [len(line) - len(line.lstrip()) for line in lines]
    marker = _LIST_MARKER_RE.match(first)  # a hanging indent as wide as "[1] " is prose
    if max(indents) - indents[0] > 3 + (marker.end() if marker else 0):
        return False
    flat = " ".join(block.split())
    letters = sum(c.isalpha() or c == " " for c in flat)
    return letters >= _MIN_PROSE_LETTERS * len(flat)


def _clean_topic(text: str) -> list[str]:
    """The prose paragraphs of one pydoc topic, each on one line, in printable ASCII."""
    text = _NON_ASCII_RE.sub("", text.translate(_ASCII_SPELLING))
    lines = [line.rstrip() for line in text.split("\n") if not _UNDERLINE_RE.match(line)]
    paragraphs = []
    for block in _PARAGRAPH_RE.split("\n".join(lines)):
        block = block.strip("\n")
        if not block.strip() or not _is_prose(block):
            continue
        joined = _HYPHEN_BREAK_RE.sub("", block).replace("**", "")
        paragraphs.append(" ".join(joined.split()))
    return [p for p in paragraphs if p]


@functools.lru_cache(maxsize=1)
def _pydoc_corpus() -> str:
    """The whole cleaned pydoc corpus (computed once per process)."""
    try:
        from pydoc_data.topics import topics
    except ImportError as error:
        raise DatasetNotFoundError(
            "load_pydoc_corpus: this Python has no pydoc_data module (some minimal builds "
            "leave it out), so the built-in English corpus is unavailable. Any UTF-8 text "
            "file works instead: text = load_text_file(path)"
        ) from error
    topic_texts = []
    for name in sorted(topics):
        paragraphs = _clean_topic(topics[name])
        if paragraphs:
            topic_texts.append("\n".join(paragraphs))
    return "\n\n".join(topic_texts) + "\n"


def load_pydoc_corpus(max_chars: int | None = None) -> str:
    """Return English prose from the Python documentation shipped with the standard library.

    The text is ``pydoc_data.topics.topics`` (the language reference that
    ``help()`` shows), topics in sorted name order, cleaned to read as prose:
    code blocks, ``>>>`` sessions, grammar rules, tables and heading
    underlines are dropped; each paragraph is reflowed onto one line with
    single spaces; paragraphs are separated by ``'\\n'`` and topics by a
    blank line; typographic quotes and dashes become ASCII and any other
    character outside printable ASCII and newline is removed. The result is
    deterministic for a given Python version (about 350,000 characters and
    55,000 words on Python 3.11).

    Inputs
    ------
    max_chars : int or None
        Return only the first ``max_chars`` characters; None returns all.

    Raises
    ------
    DatasetNotFoundError
        When this Python build lacks ``pydoc_data``; use ``load_text_file`` instead.
    """
    if max_chars is not None:
        max_chars = require_positive_int("load_pydoc_corpus", "max_chars", max_chars)
    text = _pydoc_corpus()
    return text if max_chars is None else text[:max_chars]


def load_text_file(path: str | Path, max_chars: int | None = None) -> str:
    """Read a UTF-8 text file (any English book or article works as a corpus).

    A leading byte-order mark is dropped and Windows / old Mac line ends become ``'\\n'``.

    Inputs
    ------
    path : str or Path
    max_chars : int or None
        Return only the first ``max_chars`` characters; None returns all.

    Raises
    ------
    DatasetNotFoundError (a FileNotFoundError)
        No file at ``path``; the message names the path.
    ValueError
        The file is not valid UTF-8; the message names the first bad byte's offset.
    """
    func = "load_text_file"
    file, max_chars = validate_text_path(func, path, max_chars)
    data = file.read_bytes()
    bom = b"\xef\xbb\xbf"
    skip = len(bom) if data.startswith(bom) else 0
    try:
        text = data[skip:].decode("utf-8")
    except UnicodeDecodeError as error:
        offset = error.start + skip
        raise ValueError(
            f"{func}: {file} is not valid UTF-8: byte {offset} (0x{data[offset]:02x}) cannot "
            f"be decoded ({error.reason}). Re-save the file as UTF-8 (e.g. with "
            "`iconv -f latin1 -t utf-8`)"
        ) from error
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text if max_chars is None else text[:max_chars]


def train_val_split(text: str, val_fraction: float = 0.1) -> tuple[str, str]:
    """Cut ``text`` into a training part and the validation part that follows it.

    The split is contiguous (the last ``round(len(text) * val_fraction)``
    characters are validation), not shuffled, so the validation text is
    unseen prose rather than sentences interleaved with the training ones.

    Returns
    -------
    train_text, val_text : str, with ``train_text + val_text == text``
    """
    # num_val = round(len(text) * val_fraction), checked to leave both parts non-empty
    num_val = validate_text_split("train_val_split", text, val_fraction)
    return text[:-num_val], text[-num_val:]
