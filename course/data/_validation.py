"""Input validators of the data package: each returns the checked value or raises a clear error.

Every public function of ``course.data`` makes one call here (or to
:mod:`course.validation`) before its work, so that the work reads on its own.
Messages say what was expected, what was given and, where there is one,
what to do.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from course.data.paths import DatasetNotFoundError
from course.validation import require_positive_int


def require_float_dtype(func: str, dtype: object) -> np.dtype:
    """Return ``np.dtype(dtype)`` if it is a floating-point type, else raise TypeError."""
    try:
        resolved = np.dtype(dtype)
    except TypeError as error:
        raise TypeError(f"{func}: dtype must be a numpy floating type, got {dtype!r}") from error
    if not np.issubdtype(resolved, np.floating):
        raise TypeError(
            f"{func}: dtype must be a floating type such as np.float32 or np.float64, "
            f"got {resolved}"
        )
    return resolved


def require_flag(func: str, name: str, value: object) -> bool:
    """Return ``value`` as a bool if it is True or False, else raise TypeError."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{func}: {name} must be True or False, got {value!r}")
    return bool(value)


def validate_image_stream(
    func: str, num_images: object, seed: object, stream: object
) -> tuple[int, int, int]:
    """Return ``num_images``, ``seed`` and ``stream`` as ints, each a non-negative integer."""
    num_images = require_positive_int(func, "num_images", num_images, allow_zero=True)
    seed = require_positive_int(func, "seed", seed, allow_zero=True)
    stream = require_positive_int(func, "stream", stream, allow_zero=True)
    return num_images, seed, stream


def validate_split_sizes(
    func: str,
    num_train: object,
    num_val: object,
    num_test: object,
    dtype: object,
    seed: object = None,
) -> tuple[int, int, int, np.dtype]:
    """Check a loader's split sizes (train >= 1, val and test >= 0), seed (if any) and dtype.

    Returns ``num_train, num_val, num_test`` as ints and the resolved floating dtype.
    """
    num_train = require_positive_int(func, "num_train", num_train)
    num_val = require_positive_int(func, "num_val", num_val, allow_zero=True)
    num_test = require_positive_int(func, "num_test", num_test, allow_zero=True)
    if seed is not None:
        require_positive_int(func, "seed", seed, allow_zero=True)
    return num_train, num_val, num_test, require_float_dtype(func, dtype)


def validate_token_sequence(func: str, tokens: object) -> list[str]:
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


def validate_counts(func: str, counts: object) -> dict[str, int]:
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


def validate_index_sequences(func: str, sequences: object) -> list[np.ndarray]:
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


def validate_encoded(func: str, encoded: object) -> np.ndarray:
    """Return ``encoded`` after checking it is a 1-D integer array of token indices (L,)."""
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


def validate_padding(
    func: str, sequences: object, max_length: object, pad: object
) -> tuple[list[np.ndarray], int | None]:
    """Check the arguments of ``pad_sequences``; return the sequences (int64) and max_length."""
    arrays = validate_index_sequences(func, sequences)
    if max_length is not None:
        max_length = require_positive_int(func, "max_length", max_length)
    if isinstance(pad, bool) or not isinstance(pad, (int, np.integer)):
        raise TypeError(f"{func}: pad must be an integer index, got {pad!r}")
    return arrays, max_length


def validate_lm_sequences(
    func: str, sequences: object, max_length: object
) -> tuple[list[np.ndarray], int | None]:
    """Check the arguments of ``make_lm_batch``: sequences of 2+ tokens, a positive max_length."""
    arrays = validate_index_sequences(func, sequences)
    short = [i for i, a in enumerate(arrays) if a.size < 2]
    if short:
        raise ValueError(
            f"{func}: sequence {short[0]} has {arrays[short[0]].size} token(s); each needs at "
            "least 2 (an input and its next-token target). Did you forget add_start/add_end?"
        )
    if max_length is not None:
        max_length = require_positive_int(func, "max_length", max_length)
    return arrays, max_length


def validate_char_batching(
    func: str, encoded: object, batch_size: object, seq_length: object
) -> tuple[np.ndarray, int, int]:
    """Check the arguments of ``char_batches``; return encoded, N and T once one batch fits."""
    encoded = validate_encoded(func, encoded)
    N = require_positive_int(func, "batch_size", batch_size)
    T = require_positive_int(func, "seq_length", seq_length)
    if encoded.size - 1 - N * T < 0:
        raise ValueError(
            f"{func}: encoded has {encoded.size} tokens, too few for one batch of "
            f"batch_size={N} x seq_length={T} (needs N * T + 1 = {N * T + 1}); "
            "use a longer text or smaller batch_size / seq_length"
        )
    return encoded, N, T


def validate_text_path(func: str, path: object, max_chars: object) -> tuple[Path, int | None]:
    """Check the arguments of ``load_text_file``; return the file (``~`` expanded), max_chars."""
    if not isinstance(path, (str, Path)):
        raise TypeError(f"{func}: path must be a str or Path, got {type(path).__name__}")
    if max_chars is not None:
        max_chars = require_positive_int(func, "max_chars", max_chars)
    file = Path(path).expanduser()
    if file.is_dir():
        raise IsADirectoryError(
            f"{func}: {file} is a folder; expected one UTF-8 text file (a book, an article), "
            f"e.g. a .txt file inside {file}"
        )
    if not file.is_file():
        raise DatasetNotFoundError(
            f"{func}: there is no file {file} (resolved: {file.resolve()}); "
            "check the path, or use load_pydoc_corpus() for the built-in corpus"
        )
    return file, max_chars


def validate_text_split(func: str, text: object, val_fraction: object) -> int:
    """Check the arguments of ``train_val_split``; return ``round(len(text) * val_fraction)``.

    Both parts must be non-empty: 1 <= the returned count < len(text).
    """
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
    return num_val


def validate_ngram_texts(func: str, train_text: object, val_text: object, n: object) -> int:
    """Check the n-gram baseline's texts (str, at least n characters each); return n."""
    for name, value in (("train_text", train_text), ("val_text", val_text)):
        if not isinstance(value, str):
            raise TypeError(f"{func}: {name} must be a str, got {type(value).__name__}")
    n = require_positive_int(func, "n", n)
    for name, value in (("train_text", train_text), ("val_text", val_text)):
        if len(value) < n:
            raise ValueError(
                f"{func}: {name} has {len(value)} characters; an {n}-gram model needs at least {n}"
            )
    return n


def require_str(func: str, name: str, value: object) -> str:
    """Return ``value`` if it is a str, else raise TypeError naming it."""
    if not isinstance(value, str):
        raise TypeError(f"{func}: {name} must be a str, got {type(value).__name__}")
    return value


def validate_ngram_fit(
    func: str,
    train_text: object,
    n: object,
    smoothing: object,
    discount: object,
    smoothings: Sequence[str],
) -> int:
    """A str of at least n characters, a known smoothing, discount None or in (0, 1]; return n."""
    require_str(func, "train_text", train_text)
    n = require_positive_int(func, "n", n)
    if len(train_text) < n:
        raise ValueError(
            f"{func}: train_text has {len(train_text)} characters; an {n}-gram model needs at "
            f"least {n}"
        )
    if smoothing not in smoothings:
        raise ValueError(
            f"{func}: smoothing must be one of {', '.join(map(repr, smoothings))}, "
            f"got {smoothing!r}"
        )
    if discount is not None and not (
        isinstance(discount, (int, float)) and not isinstance(discount, bool) and 0 < discount <= 1
    ):
        raise ValueError(f"{func}: discount must be None or a number in (0, 1], got {discount!r}")
    return n
