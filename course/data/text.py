"""Text for the recurrent-network lectures: vocabularies, batches and an English corpus.

Everything here runs offline on text that Python itself ships:

- ``Vocabulary``: token <-> index maps with the special tokens ``<NULL>`` (0,
  padding), ``<START>`` (1), ``<END>`` (2) and ``<UNK>`` (3) before the
  tokens, the unigram counts it was built from (``log_frequencies`` gives the
  initial softmax biases), and ``to_dict`` / ``from_dict`` for JSON. The same
  class serves word models (a sequence is a list of str) and character models
  (a str is a sequence of characters; build those with ``specials=False`` to
  keep only ``<UNK>``, at index 0).
- ``tokenize_words`` / ``split_sentences``: a small, deterministic regex
  tokeniser.
- ``pad_sequences`` / ``make_lm_batch``: padded (N, T) batches with a mask,
  for captioning and word-level language models.
- ``load_pydoc_corpus``: about a third of a megabyte of English prose, the
  language reference shipped with the standard library in
  ``pydoc_data.topics``, cleaned of code and tables; ``load_text_file`` reads
  any UTF-8 file instead; ``train_val_split`` cuts a text in two.
- ``char_batches``: (N, T) batches for truncated backpropagation through time
  on one long encoded text.
- ``char_ngram_bits_per_char``: the n-gram baseline a character RNN must beat.
- ``TOY_SENTENCES``: a dozen short sentences for P(next word | previous words).

Typical use::

    text = load_pydoc_corpus()
    train_text, val_text = train_val_split(text, val_fraction=0.1)
    vocab = Vocabulary.from_sequences([train_text], specials=False)  # characters
    for x, y in char_batches(vocab.encode(train_text), batch_size=32, seq_length=50):
        ...  # x, y: (32, 50) int64, y[:, t] == x[:, t + 1]
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from course.data.paths import DatasetNotFoundError
from course.validation import require_positive_int

__all__ = [
    "END_INDEX",
    "NULL_INDEX",
    "SPECIAL_TOKENS",
    "START_INDEX",
    "TOY_SENTENCES",
    "UNK_INDEX",
    "Vocabulary",
    "char_batches",
    "char_ngram_bits_per_char",
    "load_pydoc_corpus",
    "load_text_file",
    "make_lm_batch",
    "pad_sequences",
    "split_sentences",
    "tokenize_words",
    "train_val_split",
]

NULL_TOKEN, START_TOKEN, END_TOKEN, UNK_TOKEN = "<NULL>", "<START>", "<END>", "<UNK>"
SPECIAL_TOKENS: tuple[str, ...] = (NULL_TOKEN, START_TOKEN, END_TOKEN, UNK_TOKEN)
NULL_INDEX, START_INDEX, END_INDEX, UNK_INDEX = 0, 1, 2, 3
_CHAR_SPECIALS: tuple[str, ...] = (UNK_TOKEN,)  # specials=False: only <UNK>, at index 0
_DICT_FORMAT = "course.data.text.Vocabulary"
_DICT_VERSION = 1

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
# Vocabulary
# ---------------------------------------------------------------------------


def _check_token_sequence(func: str, tokens: object) -> list[str]:
    """Return ``tokens`` as a list of str (a str gives its characters), or raise TypeError."""
    if isinstance(tokens, str):
        return list(tokens)
    if isinstance(tokens, np.ndarray) and tokens.dtype.kind not in "UO":
        raise TypeError(
            f"{func}: expected a sequence of str tokens, got an array of dtype {tokens.dtype} "
            "(to turn indices back into tokens use Vocabulary.decode)"
        )
    if not isinstance(tokens, Iterable):
        raise TypeError(
            f"{func}: expected a sequence of str tokens (or a str of characters), "
            f"got {type(tokens).__name__}"
        )
    out = list(tokens)
    for position, token in enumerate(out):
        if not isinstance(token, str):
            raise TypeError(
                f"{func}: token {position} is {token!r} ({type(token).__name__}); "
                "every token must be a str"
            )
    return out


class Vocabulary:
    """A fixed map between tokens (words or characters) and integer indices.

    Indices ``0 .. len(vocab) - 1`` are, in order, the special tokens and then
    the regular tokens. With ``specials=True`` (the default, for words and
    captions) the specials are ``<NULL>`` = 0 (padding), ``<START>`` = 1,
    ``<END>`` = 2 and ``<UNK>`` = 3 (any token not in the vocabulary), the
    CS231n captioning convention (``NULL_INDEX`` ... ``UNK_INDEX``). With
    ``specials=False`` (for character models, which need no padding or
    start/end markers) the only special is ``<UNK>`` = 0.

    Inputs
    ------
    tokens : iterable of str
        The regular tokens in index order, without duplicates or specials.
    counts : mapping str -> int, optional
        How often each token occurred in the data the vocabulary was built
        from; tokens it omits count 0. Special tokens may appear (the
        ``<UNK>`` count of ``from_counts`` is the total count of the tokens
        it left out). Kept for ``log_frequencies``.
    specials : bool
        Whether to put all four special tokens first (True) or only ``<UNK>``.

    Build one with ``from_counts`` or ``from_sequences`` rather than by hand.
    """

    def __init__(
        self,
        tokens: Iterable[str],
        counts: Mapping[str, int] | None = None,
        specials: bool = True,
    ) -> None:
        if not isinstance(specials, bool):
            raise TypeError(f"Vocabulary: specials must be True or False, got {specials!r}")
        regular = _check_token_sequence("Vocabulary", tokens)
        special_tokens = SPECIAL_TOKENS if specials else _CHAR_SPECIALS
        itos = [*special_tokens, *regular]
        stoi: dict[str, int] = {}
        for index, token in enumerate(itos):
            if token in stoi:
                what = "a special token" if token in special_tokens else "listed twice"
                raise ValueError(f"Vocabulary: token {token!r} is {what}; tokens must be unique")
            if token == "":
                raise ValueError("Vocabulary: the empty string cannot be a token")
            stoi[token] = index
        count_array = np.zeros(len(itos), dtype=np.int64)
        for token, count in _check_counts("Vocabulary", counts or {}).items():
            if token not in stoi:
                raise ValueError(
                    f"Vocabulary: counts has token {token!r}, which is not in the vocabulary"
                )
            count_array[stoi[token]] = count
        self.specials = specials
        self._itos = tuple(itos)
        self._stoi = stoi
        self._counts = count_array
        self._unk = stoi[UNK_TOKEN]

    # -- building ------------------------------------------------------------

    @classmethod
    def from_counts(
        cls,
        counts: Mapping[str, int],
        min_count: int = 1,
        max_size: int | None = None,
        specials: bool = True,
    ) -> Vocabulary:
        """Build a vocabulary from token counts, most frequent tokens first.

        Inputs
        ------
        counts : mapping str -> int (a ``collections.Counter`` works)
            Occurrences of each token. Keys that are special tokens (such as
            ``'<END>'``, counted once per sentence) set that special's count.
        min_count : int
            Tokens seen fewer than ``min_count`` times are left out (they map to ``<UNK>``).
        max_size : int or None
            At most this many *regular* tokens are kept (the specials come on
            top, so ``len(vocab) <= max_size + 4``); None keeps all.
        specials : bool
            See the class docstring; False keeps only ``<UNK>`` (for characters).

        Returns
        -------
        vocab : Vocabulary
            Regular tokens sorted by count, descending, ties by token (so the
            result never depends on the order of ``counts``). The count of
            ``<UNK>`` is the total count of the tokens left out.
        """
        func = "Vocabulary.from_counts"
        checked = _check_counts(func, counts)
        min_count = require_positive_int(func, "min_count", min_count)
        if max_size is not None:
            max_size = require_positive_int(func, "max_size", max_size, allow_zero=True)
        special_tokens = SPECIAL_TOKENS if specials else _CHAR_SPECIALS
        special_counts = {t: c for t, c in checked.items() if t in special_tokens}
        ranked = sorted(
            ((t, c) for t, c in checked.items() if t not in special_tokens),
            key=lambda item: (-item[1], item[0]),
        )
        kept = [(t, c) for t, c in ranked if c >= min_count]
        if max_size is not None:
            kept = kept[:max_size]
        left_out = sum(c for _, c in ranked) - sum(c for _, c in kept)
        kept_counts = dict(kept)
        kept_counts.update(special_counts)
        kept_counts[UNK_TOKEN] = special_counts.get(UNK_TOKEN, 0) + left_out
        return cls([t for t, _ in kept], kept_counts, specials=specials)

    @classmethod
    def from_sequences(
        cls,
        sequences: Iterable[Iterable[str]],
        min_count: int = 1,
        max_size: int | None = None,
        specials: bool = True,
    ) -> Vocabulary:
        """Count the tokens of ``sequences`` and build a vocabulary with ``from_counts``.

        Inputs
        ------
        sequences : iterable of token sequences
            Each a list of str (words, e.g. from ``tokenize_words``) or a str
            (its characters): ``from_sequences([text], specials=False)`` is a
            character vocabulary of ``text``.
        min_count, max_size, specials
            As for ``from_counts``.
        """
        func = "Vocabulary.from_sequences"
        if isinstance(sequences, str) or not isinstance(sequences, Iterable):
            raise TypeError(
                f"{func}: sequences must be a list of token sequences (lists of str or str), "
                f"got {type(sequences).__name__}; for one text write from_sequences([text])"
            )
        counts: Counter[str] = Counter()
        for sequence in sequences:
            counts.update(_check_token_sequence(func, sequence))
        return cls.from_counts(counts, min_count=min_count, max_size=max_size, specials=specials)

    # -- lookups -------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._itos)

    def __contains__(self, token: object) -> bool:
        return token in self._stoi

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocabulary):
            return NotImplemented
        return (
            self.specials == other.specials
            and self._itos == other._itos
            and np.array_equal(self._counts, other._counts)
        )

    __hash__ = None  # type: ignore[assignment]  # mutable-looking; compare with ==

    def __repr__(self) -> str:
        shown = ", ".join(repr(t) for t in self._itos[:8])
        more = ", ..." if len(self) > 8 else ""
        return f"Vocabulary(size={len(self)}, specials={self.specials}, tokens=[{shown}{more}])"

    @property
    def tokens(self) -> tuple[str, ...]:
        """All tokens in index order, specials first: ``vocab.tokens[i] == vocab.token(i)``."""
        return self._itos

    @property
    def counts(self) -> np.ndarray:
        """(V,) int64 counts of every token in index order (a copy); specials usually 0."""
        return self._counts.copy()

    @property
    def unk_index(self) -> int:
        """Index of ``<UNK>``: 3 with the four specials, 0 with ``specials=False``."""
        return self._unk

    def _special_index(self, token: str) -> int:
        if token not in self._stoi:
            raise ValueError(
                f"Vocabulary: this vocabulary has no {token} token (it was built with "
                "specials=False, which keeps only <UNK>); build it with specials=True"
            )
        return self._stoi[token]

    @property
    def null_index(self) -> int:
        """Index of ``<NULL>`` (padding), 0; ValueError without the four specials."""
        return self._special_index(NULL_TOKEN)

    @property
    def start_index(self) -> int:
        """Index of ``<START>``, 1; ValueError without the four specials."""
        return self._special_index(START_TOKEN)

    @property
    def end_index(self) -> int:
        """Index of ``<END>``, 2; ValueError without the four specials."""
        return self._special_index(END_TOKEN)

    def index(self, token: str) -> int:
        """Return the index of ``token``, or ``unk_index`` for a token not in the vocabulary."""
        if not isinstance(token, str):
            raise TypeError(f"Vocabulary.index: token must be a str, got {token!r}")
        return self._stoi.get(token, self._unk)

    def token(self, index: int) -> str:
        """Return the token at ``index`` (0 <= index < len(vocab))."""
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"Vocabulary.token: index must be an integer, got {index!r}")
        if not 0 <= index < len(self):
            raise IndexError(
                f"Vocabulary.token: index {index} is outside [0, {len(self)}) "
                f"for a vocabulary of {len(self)} tokens"
            )
        return self._itos[int(index)]

    # -- encoding ------------------------------------------------------------

    def encode(
        self, tokens: Iterable[str], add_start: bool = False, add_end: bool = False
    ) -> np.ndarray:
        """Map tokens to indices.

        Inputs
        ------
        tokens : sequence of str, or a str (encoded character by character)
        add_start, add_end : bool
            Put ``<START>`` before / ``<END>`` after the tokens (needs ``specials=True``).

        Returns
        -------
        indices : (L,) int64, with ``L = len(tokens) + add_start + add_end``;
            unknown tokens become ``unk_index``.
        """
        items = _check_token_sequence("Vocabulary.encode", tokens)
        get, unk = self._stoi.get, self._unk
        body = [get(t, unk) for t in items]
        start = [self._special_index(START_TOKEN)] if add_start else []
        end = [self._special_index(END_TOKEN)] if add_end else []
        return np.array(start + body + end, dtype=np.int64)

    def decode(
        self,
        indices: Sequence[int] | np.ndarray,
        strip_special: bool = True,
        stop_at_end: bool = True,
    ) -> list[str]:
        """Map indices back to tokens.

        Inputs
        ------
        indices : (L,) integers in [0, V)
        strip_special : bool
            Drop ``<NULL>``, ``<START>`` and ``<END>``. ``<UNK>`` is kept: it
            stands for a real word the vocabulary does not know.
        stop_at_end : bool
            Stop at the first ``<END>`` (it and everything after it are dropped);
            a vocabulary with ``specials=False`` has no ``<END>`` and ignores this.

        Returns
        -------
        tokens : list of str; ``''.join(tokens)`` for a character vocabulary.
        """
        func = "Vocabulary.decode"
        array = np.asarray(indices)
        if array.size == 0:
            return []
        if array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
            raise TypeError(f"{func}: indices must be integers, got dtype {array.dtype}")
        if array.ndim != 1:
            raise ValueError(
                f"{func}: indices has shape {array.shape}; expected one sequence (L,). "
                "For a batch (N, T) decode each row: [vocab.decode(row) for row in batch]"
            )
        if array.min() < 0 or array.max() >= len(self):
            raise ValueError(
                f"{func}: indices must lie in [0, {len(self)}) for this vocabulary; "
                f"got values from {array.min()} to {array.max()}"
            )
        values = array.tolist()
        end = self._stoi.get(END_TOKEN)
        if stop_at_end and end is not None and end in values:
            values = values[: values.index(end)]
        if strip_special:
            dropped = {self._stoi[t] for t in (NULL_TOKEN, START_TOKEN, END_TOKEN) if t in self}
            values = [v for v in values if v not in dropped]
        return [self._itos[v] for v in values]

    # -- statistics and saving -------------------------------------------------

    def log_frequencies(self, alpha: float = 1e-3) -> np.ndarray:
        """Log of the smoothed unigram frequency of every token: initial softmax biases.

        ``p_i = (c_i + alpha) / (sum_j c_j + V * alpha)`` (additive smoothing):
        tokens keep (almost) their observed frequency, and the specials,
        which usually have count 0, get the tiny count ``alpha``. Starting a
        language model's output biases at ``log p`` makes its first
        predictions the unigram distribution instead of uniform.

        Returns
        -------
        log_p : (V,) float64 with ``np.exp(log_p).sum() == 1``.
        """
        if not isinstance(alpha, (int, float)) or not alpha > 0 or not math.isfinite(alpha):
            raise ValueError(f"Vocabulary.log_frequencies: alpha must be > 0, got {alpha!r}")
        smoothed = self._counts.astype(np.float64) + alpha  # (V,)
        return np.log(smoothed) - np.log(smoothed.sum())

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict (str, bool, lists of str and int) for ``from_dict``."""
        return {
            "format": _DICT_FORMAT,
            "version": _DICT_VERSION,
            "specials": self.specials,
            "tokens": list(self._itos),
            "counts": [int(c) for c in self._counts],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Vocabulary:
        """Rebuild the vocabulary saved by ``to_dict`` (e.g. after ``json.load``)."""
        func = "Vocabulary.from_dict"
        hint = "expected a dict made by Vocabulary.to_dict()"
        if not isinstance(data, Mapping):
            raise TypeError(f"{func}: got {type(data).__name__}; {hint}")
        missing = [k for k in ("format", "specials", "tokens", "counts") if k not in data]
        if missing or data["format"] != _DICT_FORMAT:
            what = f"keys {missing} are missing" if missing else f"format is {data['format']!r}"
            raise ValueError(f"{func}: {what}; {hint}")
        if data.get("version", _DICT_VERSION) != _DICT_VERSION:
            raise ValueError(
                f"{func}: version {data['version']!r} is not supported (this course "
                f"reads version {_DICT_VERSION})"
            )
        specials, tokens, counts = data["specials"], data["tokens"], data["counts"]
        if not isinstance(tokens, list) or not isinstance(counts, list):
            raise TypeError(f"{func}: 'tokens' and 'counts' must be lists; {hint}")
        if len(tokens) != len(counts):
            raise ValueError(
                f"{func}: {len(tokens)} tokens but {len(counts)} counts; they must pair up"
            )
        expected = SPECIAL_TOKENS if specials is True else _CHAR_SPECIALS
        if tuple(tokens[: len(expected)]) != expected:
            raise ValueError(
                f"{func}: with specials={specials!r} the tokens must start with "
                f"{list(expected)}, got {tokens[: len(expected)]}"
            )
        return cls(
            tokens[len(expected) :], dict(zip(tokens, counts, strict=True)), specials=specials
        )


def _check_counts(func: str, counts: object) -> dict[str, int]:
    """Return ``counts`` as a dict str -> int >= 0, or raise a clear error."""
    if not isinstance(counts, Mapping):
        raise TypeError(
            f"{func}: counts must be a mapping token -> count (e.g. a collections.Counter), "
            f"got {type(counts).__name__}"
        )
    checked: dict[str, int] = {}
    for token, count in counts.items():
        if not isinstance(token, str):
            raise TypeError(f"{func}: counts has key {token!r}; tokens must be str")
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)):
            raise TypeError(f"{func}: count of {token!r} is {count!r}; counts must be integers")
        if count < 0:
            raise ValueError(f"{func}: count of {token!r} is {count}; counts must be >= 0")
        checked[token] = int(count)
    return checked


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
# Padded batches
# ---------------------------------------------------------------------------


def _check_index_sequences(func: str, sequences: object) -> list[np.ndarray]:
    """Return ``sequences`` as a non-empty list of 1-D int64 arrays, or raise."""
    if isinstance(sequences, np.ndarray) or not isinstance(sequences, Sequence):
        raise TypeError(
            f"{func}: sequences must be a list of 1-D integer arrays (one per sentence), "
            f"got {type(sequences).__name__}"
        )
    if len(sequences) == 0:
        raise ValueError(f"{func}: sequences is empty; expected at least one sequence")
    arrays = []
    for i, sequence in enumerate(sequences):
        array = np.asarray(sequence)
        if array.ndim != 1:
            raise ValueError(
                f"{func}: sequence {i} has shape {array.shape}; expected a 1-D array (L,)"
            )
        if array.size and (array.dtype == bool or not np.issubdtype(array.dtype, np.integer)):
            raise TypeError(
                f"{func}: sequence {i} has dtype {array.dtype}; expected integer token "
                "indices (from Vocabulary.encode)"
            )
        arrays.append(array.astype(np.int64))
    return arrays


def pad_sequences(
    sequences: Sequence[np.ndarray], max_length: int | None = None, pad: int = NULL_INDEX
) -> tuple[np.ndarray, np.ndarray]:
    """Stack sequences of different lengths into one padded batch.

    Inputs
    ------
    sequences : list of N arrays (L_i,) of integer token indices
    max_length : int or None
        T, the batch width: longer sequences are cut to their first
        ``max_length`` tokens. None means the longest length.
    pad : int
        The index written after the end of shorter sequences (``<NULL>`` = 0).

    Returns
    -------
    batch : (N, T) int64, row i = sequence i followed by ``pad``
    mask : (N, T) bool, True on real tokens and False on padding
    """
    func = "pad_sequences"
    arrays = _check_index_sequences(func, sequences)
    if max_length is not None:
        max_length = require_positive_int(func, "max_length", max_length)
    if isinstance(pad, bool) or not isinstance(pad, (int, np.integer)):
        raise TypeError(f"{func}: pad must be an integer index, got {pad!r}")
    lengths = np.array([a.size for a in arrays], dtype=np.int64)  # (N,)
    T = int(lengths.max()) if max_length is None else max_length
    lengths = np.minimum(lengths, T)
    mask = np.arange(T)[None, :] < lengths[:, None]  # (N, T)
    batch = np.full((len(arrays), T), pad, dtype=np.int64)
    for i, array in enumerate(arrays):
        batch[i, : lengths[i]] = array[: lengths[i]]
    return batch, mask


def make_lm_batch(
    sequences: Sequence[np.ndarray], max_length: int | None = None, pad: int = NULL_INDEX
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Make a language-model (or captioning) training batch: predict token t+1 from tokens <= t.

    Inputs
    ------
    sequences : list of N arrays (L_i,) with L_i >= 2, usually
        ``vocab.encode(words, add_start=True, add_end=True)``.
    max_length : int or None
        T, the most time steps: sequences are cut to ``max_length + 1``
        tokens. None means the longest length minus one.
    pad : int
        The padding index (``<NULL>`` = 0).

    Returns
    -------
    inputs : (N, T) int64, the padded sequences without their last column
    targets : (N, T) int64, the padded sequences without their first column,
        so ``targets[:, t] == inputs[:, t + 1]``
    mask : (N, T) bool, True where ``targets`` is a real token; pass it to
        ``temporal_softmax_loss`` so padding adds nothing to the loss.
    """
    func = "make_lm_batch"
    arrays = _check_index_sequences(func, sequences)
    short = [i for i, a in enumerate(arrays) if a.size < 2]
    if short:
        raise ValueError(
            f"{func}: sequence {short[0]} has {arrays[short[0]].size} token(s); each needs at "
            "least 2 (an input and its next-token target). Did you forget add_start/add_end?"
        )
    if max_length is not None:
        max_length = require_positive_int(func, "max_length", max_length) + 1
    padded, real = pad_sequences(arrays, max_length=max_length, pad=pad)  # (N, T + 1)
    return padded[:, :-1], padded[:, 1:], real[:, 1:]


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
    if not isinstance(path, (str, Path)):
        raise TypeError(f"{func}: path must be a str or Path, got {type(path).__name__}")
    if max_chars is not None:
        max_chars = require_positive_int(func, "max_chars", max_chars)
    file = Path(path).expanduser()
    if file.is_dir():
        raise IsADirectoryError(f"{func}: {file} is a folder; expected a text file")
    if not file.is_file():
        raise DatasetNotFoundError(
            f"{func}: there is no file {file} (resolved: {file.resolve()}); "
            "check the path, or use load_pydoc_corpus() for the built-in corpus"
        )
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
    func = "train_val_split"
    if not isinstance(text, str):
        raise TypeError(f"{func}: text must be a str, got {type(text).__name__}")
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, (int, float)):
        raise TypeError(f"{func}: val_fraction must be a number in (0, 1), got {val_fraction!r}")
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(
            f"{func}: val_fraction must lie strictly between 0 and 1, got {val_fraction}"
        )
    num_val = int(round(len(text) * val_fraction))
    if num_val < 1 or num_val >= len(text):
        needed = math.ceil(0.5 / min(val_fraction, 1.0 - val_fraction))
        raise ValueError(
            f"{func}: text of {len(text)} characters is too short to split with "
            f"val_fraction={val_fraction}: one part would be empty (need about {needed} "
            "characters or more)"
        )
    return text[:-num_val], text[-num_val:]


# ---------------------------------------------------------------------------
# Character-model batches and the n-gram baseline
# ---------------------------------------------------------------------------


def _check_encoded(func: str, encoded: object) -> np.ndarray:
    """Check a 1-D integer array of token indices."""
    if not isinstance(encoded, np.ndarray):
        raise TypeError(
            f"{func}: encoded must be a numpy array (L,) of token indices, e.g. "
            f"vocab.encode(text); got {type(encoded).__name__}"
        )
    if encoded.dtype == bool or not np.issubdtype(encoded.dtype, np.integer):
        raise TypeError(f"{func}: encoded has dtype {encoded.dtype}; expected integer indices")
    if encoded.ndim != 1:
        raise ValueError(f"{func}: encoded has shape {encoded.shape}; expected one text (L,)")
    return encoded


def char_batches(
    encoded: np.ndarray,
    batch_size: int,
    seq_length: int,
    rng: np.random.Generator | int | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Walk a long encoded text in (N, T) windows for truncated backpropagation through time.

    The text is cut into N = ``batch_size`` contiguous streams of equal length
    S (stream n starts at ``offset + n * S``), and the batches walk all
    streams together, T = ``seq_length`` steps at a time::

        batch b:  x[n, t] = encoded[offset + n * S + b * T + t]
                  y[n, t] = encoded[offset + n * S + b * T + t + 1]   (the next token)

    Row n of batch b + 1 continues row n of batch b, so a model may carry its
    hidden state from one batch to the next (and backpropagate only through
    the last T steps). The last ``S % T`` steps of each stream are not used.

    Inputs
    ------
    encoded : (L,) integer array, e.g. ``vocab.encode(text)``
    batch_size : int, N
    seq_length : int, T
    rng : np.random.Generator, int seed or None
        None starts at offset 0; a generator or seed draws a random offset in
        [0, T) (as far as the text's length allows), so that successive
        epochs cut the text at different places.

    Returns
    -------
    batches : iterator of (x, y), both (N, T) int64 (fresh arrays), ``S // T`` of them
    """
    func = "char_batches"
    encoded = _check_encoded(func, encoded)
    N = require_positive_int(func, "batch_size", batch_size)
    T = require_positive_int(func, "seq_length", seq_length)
    slack = encoded.size - 1 - N * T  # tokens to spare beyond one batch (and its targets)
    if slack < 0:
        raise ValueError(
            f"{func}: encoded has {encoded.size} tokens, too few for one batch of "
            f"batch_size={N} x seq_length={T} (needs N * T + 1 = {N * T + 1}); "
            "use a longer text or smaller batch_size / seq_length"
        )
    offset = 0
    if rng is not None:
        generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        offset = int(generator.integers(0, min(T - 1, slack) + 1))
    S = (encoded.size - 1 - offset) // N  # stream length
    xs = encoded[offset : offset + N * S].reshape(N, S)  # (N, S)
    ys = encoded[offset + 1 : offset + N * S + 1].reshape(N, S)  # (N, S), shifted by one
    return _walk_streams(xs, ys, T)


def _walk_streams(
    xs: np.ndarray, ys: np.ndarray, T: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield consecutive (N, T) windows of the (N, S) streams as fresh int64 arrays."""
    for start in range(0, xs.shape[1] - T + 1, T):
        yield (
            xs[:, start : start + T].astype(np.int64, copy=True),
            ys[:, start : start + T].astype(np.int64, copy=True),
        )


def _ngram_codes(ids: np.ndarray, n: int, base: int) -> np.ndarray:
    """(L - n + 1,) int64 code of each n-gram: its ids read as base-``base`` digits."""
    codes = np.zeros(ids.size - n + 1, dtype=np.int64)
    for k in range(n):
        codes = codes * base + ids[k : ids.size - n + 1 + k]
    return codes


def _lookup_counts(
    sorted_codes: np.ndarray, counts: np.ndarray, queries: np.ndarray
) -> np.ndarray:
    """Counts of ``queries`` among ``sorted_codes`` (0 for codes never seen)."""
    position = np.searchsorted(sorted_codes, queries)
    position = np.minimum(position, sorted_codes.size - 1)
    return np.where(sorted_codes[position] == queries, counts[position], 0)


def char_ngram_bits_per_char(train_text: str, val_text: str, n: int = 3) -> float:
    """Bits per character of an add-one-smoothed character n-gram model on ``val_text``.

    The baseline a character-level RNN has to beat. With the training
    alphabet A plus one symbol for every character never seen in training
    (V = |A| + 1 symbols), the probability of character c after the context
    h of the n - 1 characters before it is Laplace's estimate::

        P(c | h) = (count(h, c) + 1) / (count(h) + V)

    where counts come from every n-gram of ``train_text`` and
    ``count(h) = sum_c count(h, c)``. Every character of ``val_text`` that has
    n - 1 characters before it *within* ``val_text`` (positions n - 1 ..) is
    predicted, and the result is ``-mean(log2 P)``. ``n = 1`` is the unigram model.

    Returns
    -------
    bits_per_char : float (log2(V) for a model that knows nothing; lower is better)
    """
    func = "char_ngram_bits_per_char"
    for name, value in (("train_text", train_text), ("val_text", val_text)):
        if not isinstance(value, str):
            raise TypeError(f"{func}: {name} must be a str, got {type(value).__name__}")
    n = require_positive_int(func, "n", n)
    for name, value in (("train_text", train_text), ("val_text", val_text)):
        if len(value) < n:
            raise ValueError(
                f"{func}: {name} has {len(value)} characters; an {n}-gram model needs at least {n}"
            )
    alphabet = sorted(set(train_text))
    V = len(alphabet) + 1  # + the 'unseen character' symbol, index V - 1
    if V**n >= 2**62:
        raise ValueError(
            f"{func}: n={n} with {V} symbols gives {V}**{n} possible n-grams, too many to "
            "index with int64; use a smaller n"
        )
    lookup = {c: i for i, c in enumerate(alphabet)}

    def encode(text: str) -> np.ndarray:
        return np.fromiter((lookup.get(c, V - 1) for c in text), dtype=np.int64, count=len(text))

    train_codes = _ngram_codes(encode(train_text), n, V)  # (L_train - n + 1,)
    val_codes = _ngram_codes(encode(val_text), n, V)  # (L_val - n + 1,)
    ngrams, ngram_counts = np.unique(train_codes, return_counts=True)
    contexts, context_counts = np.unique(train_codes // V, return_counts=True)
    joint = _lookup_counts(ngrams, ngram_counts, val_codes)  # count(h, c)
    marginal = _lookup_counts(contexts, context_counts, val_codes // V)  # count(h)
    probabilities = (joint + 1.0) / (marginal + V)
    return float(-np.mean(np.log2(probabilities)))
