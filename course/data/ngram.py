"""The character n-gram baseline that a character-level RNN has to beat.

``char_ngram_bits_per_char(train_text, val_text, n)`` fits an add-one
smoothed n-gram model on one text and measures it, in bits per character, on
another. Counting is vectorised: each n-gram becomes one int64 code (its
characters read as base-V digits), so counts are ``np.unique`` and lookups
``np.searchsorted``.

Typical use::

    train_text, val_text = train_val_split(load_pydoc_corpus())
    char_ngram_bits_per_char(train_text, val_text, n=3)  # about 2.9 bits per character
"""

from __future__ import annotations

import numpy as np

from course.data._validation import validate_ngram_texts

__all__ = ["char_ngram_bits_per_char"]


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
    n = validate_ngram_texts(func, train_text, val_text, n)
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
