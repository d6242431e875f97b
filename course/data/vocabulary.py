"""Vocabulary: the fixed map between tokens (words or characters) and integer indices.

Indices start with the special tokens ``<NULL>`` (0, padding), ``<START>``
(1), ``<END>`` (2) and ``<UNK>`` (3) before the regular tokens (the CS231n
captioning convention, ``NULL_INDEX`` ... ``UNK_INDEX``). The same class
serves word models (a sequence is a list of str) and character models (a str
is a sequence of characters; build those with ``specials=False`` to keep only
``<UNK>``, at index 0). A vocabulary keeps the unigram counts it was built
from (``log_frequencies`` gives the initial softmax biases) and saves itself
to JSON with ``to_dict`` / ``from_dict``.

Typical use::

    vocab = Vocabulary.from_sequences([tokenize_words(s) for s in sentences])
    ids = vocab.encode(words, add_start=True, add_end=True)  # (L + 2,) int64
    vocab.decode(ids) == words

The module is one class and about 400 lines, most of them the docstrings of
its methods (building, lookups, encoding, statistics, saving): one topic,
kept whole so that the class reads in one place. Its input validators live in
:mod:`course.data._validation`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from course.data._validation import validate_counts, validate_token_sequence
from course.validation import require_positive_int

__all__ = [
    "END_INDEX",
    "NULL_INDEX",
    "SPECIAL_TOKENS",
    "START_INDEX",
    "UNK_INDEX",
    "Vocabulary",
]

NULL_TOKEN, START_TOKEN, END_TOKEN, UNK_TOKEN = "<NULL>", "<START>", "<END>", "<UNK>"
SPECIAL_TOKENS: tuple[str, ...] = (NULL_TOKEN, START_TOKEN, END_TOKEN, UNK_TOKEN)
NULL_INDEX, START_INDEX, END_INDEX, UNK_INDEX = 0, 1, 2, 3
_CHAR_SPECIALS: tuple[str, ...] = (UNK_TOKEN,)  # specials=False: only <UNK>, at index 0
# The tag that to_dict writes and from_dict expects: a file-format name, kept
# as it was when the class lived in course.data.text so saved vocabularies
# (CharRNN checkpoints) still load. It is not an import path.
_DICT_FORMAT = "course.data.text.Vocabulary"
_DICT_VERSION = 1


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
        regular = validate_token_sequence("Vocabulary", tokens)
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
        for token, count in validate_counts("Vocabulary", counts or {}).items():
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
        checked = validate_counts(func, counts)
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
            counts.update(validate_token_sequence(func, sequence))
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
        items = validate_token_sequence("Vocabulary.encode", tokens)
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
