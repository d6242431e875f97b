"""Character n-gram models: the baselines that a character-level RNN has to beat.

``char_ngram_bits_per_char(train_text, val_text, n, smoothing)`` fits a
character n-gram model on one text and measures it, in bits per character,
on another. Three smoothings:

- ``'add-one'`` (Laplace): ``P(c | h) = (count(h, c) + 1) / (count(h) + V)``,
  the simplest and weakest: it gives every unseen continuation of a context
  the same mass, however often the context was seen.
- ``'absolute'``: interpolated absolute discounting. Every seen n-gram gives
  up a fixed discount D of its count, and the mass freed is spread by the
  (n-1)-gram model, recursively down to the uniform distribution.
- ``'kneser-ney'``: interpolated Kneser-Ney, the same with the lower orders
  counting *contexts* instead of occurrences: how many different characters
  precede a k-gram (a continuation count), which is what matters when the
  lower order is only asked about contexts it did not see.

:class:`CharNgramModel` (from :func:`fit_char_ngram`) holds the counts and
gives the distribution after any context (``probabilities``). Counting is
vectorised: each k-gram becomes one int64 code (its characters read as
base-V digits), so counts are ``np.unique`` and lookups ``np.searchsorted``.

Typical use::

    train_text, val_text = train_val_split(load_pydoc_corpus())
    char_ngram_bits_per_char(train_text, val_text, n=3)  # add-one: about 2.9 bits/char
    char_ngram_bits_per_char(train_text, val_text, n=5, smoothing="kneser-ney")
"""

from __future__ import annotations

import numpy as np

from course.data._validation import require_str, validate_ngram_fit, validate_ngram_texts

__all__ = ["SMOOTHINGS", "CharNgramModel", "char_ngram_bits_per_char", "fit_char_ngram"]

SMOOTHINGS = ("add-one", "absolute", "kneser-ney")


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
    if sorted_codes.size == 0:
        return np.zeros(queries.shape, dtype=counts.dtype)
    position = np.searchsorted(sorted_codes, queries)
    position = np.minimum(position, sorted_codes.size - 1)
    return np.where(sorted_codes[position] == queries, counts[position], 0)


class _Table:
    """The counts of one order k: every k-gram seen, and the totals of its (k-1)-char contexts.

    - grams, counts: sorted codes of the k-grams seen and their counts
    - contexts, totals, types: sorted codes of their contexts, the sum of the
      counts of each context (count(h)) and the number of different
      characters seen after it (N1+(h .))
    - discount: D for this order (absolute discounting and Kneser-Ney)
    """

    def __init__(self, grams: np.ndarray, counts: np.ndarray, V: int, discount: float | None):
        self.grams, self.counts = grams, counts.astype(np.float64)
        self.contexts, inverse, self.types = np.unique(
            grams // V, return_inverse=True, return_counts=True
        )
        self.totals = np.bincount(inverse.ravel(), weights=self.counts)
        if discount is None:  # Ney's estimate from the k-grams seen once and twice
            n1, n2 = np.sum(counts == 1), np.sum(counts == 2)
            discount = n1 / (n1 + 2 * n2) if n1 > 0 and n2 > 0 else 0.5
        self.discount = float(discount)

    def smooth(self, gram: np.ndarray, context: np.ndarray, lower: np.ndarray) -> np.ndarray:
        """Interpolated discounting of the counts with the lower order's probabilities.

        P(c | h) = (max(count(h, c) - D, 0) + D * N1+(h .) * P_lower(c | h')) / count(h),
        and P_lower where the context h was never seen.
        """
        joint = _lookup_counts(self.grams, self.counts, gram)  # count(h, c)
        total = _lookup_counts(self.contexts, self.totals, context)  # count(h)
        types = _lookup_counts(self.contexts, self.types, context)  # N1+(h .)
        seen = total > 0
        mixed = np.maximum(joint - self.discount, 0.0) + self.discount * types * lower
        return np.where(seen, mixed / np.where(seen, total, 1.0), lower)


class CharNgramModel:
    """A character n-gram model fitted on a text (build it with :func:`fit_char_ngram`).

    Symbols: the sorted characters of the training text, then one symbol for
    every character never seen in training (V = len(alphabet) + 1 in all).
    ``probabilities(context)`` is the (V,) distribution of the next symbol.
    """

    def __init__(
        self, train_text: str, n: int, smoothing: str = "kneser-ney", discount: float | None = None
    ) -> None:
        self.n, self.smoothing = n, smoothing
        self.alphabet = sorted(set(train_text))
        self.V = V = len(self.alphabet) + 1  # + the 'unseen character' symbol, index V - 1
        if V**n >= 2**62:
            raise ValueError(
                f"fit_char_ngram: n={n} with {V} symbols gives {V}**{n} possible n-grams, "
                "too many to index with int64; use a smaller n"
            )
        self._lookup = {c: i for i, c in enumerate(self.alphabet)}
        ids = self.encode(train_text)
        # raw[k]: the counts of the k-grams; continuation[k] (Kneser-Ney): for each
        # k-gram, the number of different characters seen before it.
        self._raw, self._continuation = {}, {}
        for k in range(1, n + 1):
            grams, counts = np.unique(_ngram_codes(ids, k, V), return_counts=True)
            self._raw[k] = _Table(grams, counts, V, discount)
        if smoothing == "kneser-ney":
            for k in range(1, n):
                longer = self._raw[k + 1].grams  # each (k+1)-gram type once
                suffixes, preceded_by = np.unique(longer % V**k, return_counts=True)
                self._continuation[k] = _Table(suffixes, preceded_by, V, discount)

    @property
    def discounts(self) -> dict[int, float]:
        """The discount D of each order's counts, {k: D} (unused by add-one)."""
        return {k: table.discount for k, table in self._raw.items()}

    def encode(self, text: str) -> np.ndarray:
        """(len(text),) int64 symbol ids; characters not in the alphabet get V - 1."""
        return np.fromiter(
            (self._lookup.get(c, self.V - 1) for c in text), dtype=np.int64, count=len(text)
        )

    def _window_probabilities(self, windows: np.ndarray) -> np.ndarray:
        """P(last id | the ids before it) for every row of ``windows`` (M, m), m <= n: (M,).

        The highest order m uses the counts; below it, Kneser-Ney uses the
        continuation counts, absolute discounting the counts again; order 0
        is uniform over the V symbols.
        """
        M, m = windows.shape
        codes = np.zeros(M, dtype=np.int64)  # the code of the last k ids, k = 1 .. m
        if self.smoothing == "add-one":
            for k in range(m):
                codes = codes * self.V + windows[:, k]
            table = self._raw[m]
            joint = _lookup_counts(table.grams, table.counts, codes)
            total = _lookup_counts(table.contexts, table.totals, codes // self.V)
            return (joint + 1.0) / (total + self.V)
        probabilities = np.full(M, 1.0 / self.V)
        for k in range(1, m + 1):
            codes = codes + windows[:, m - k] * self.V ** (k - 1)  # prepend one more id
            continuation = self.smoothing == "kneser-ney" and k < m
            table = self._continuation[k] if continuation else self._raw[k]
            probabilities = table.smooth(codes, codes // self.V, probabilities)
        return probabilities

    def probabilities(self, context: str) -> np.ndarray:
        """(V,) float64 probabilities of every next symbol after ``context`` (sums to 1).

        Only the last n - 1 characters of the context count; a shorter
        context uses the orders it has (the empty context: the 1-gram model).
        """
        require_str("CharNgramModel.probabilities", "context", context)
        keep = min(len(context), self.n - 1)
        history = self.encode(context[len(context) - keep :])  # (keep,)
        windows = np.column_stack(
            [np.repeat(history[None], self.V, axis=0), np.arange(self.V)]
        )  # (V, keep + 1): the context followed by each symbol
        return self._window_probabilities(windows)

    def bits_per_char(self, text: str) -> float:
        """-mean(log2 P(c | the n - 1 characters before it)) over ``text[n - 1:]``."""
        ids = self.encode(text)
        windows = np.lib.stride_tricks.sliding_window_view(ids, self.n)  # (L - n + 1, n)
        return float(-np.mean(np.log2(self._window_probabilities(windows))))


def fit_char_ngram(
    train_text: str, n: int = 5, smoothing: str = "kneser-ney", discount: float | None = None
) -> CharNgramModel:
    """Count the character n-grams of ``train_text`` for a smoothed n-gram model.

    ``smoothing`` is 'add-one', 'absolute' (interpolated absolute discounting)
    or 'kneser-ney' (interpolated Kneser-Ney); see the module docstring. With
    ``discount`` None, each order k uses Ney's estimate D = n1 / (n1 + 2 n2)
    from the numbers of k-grams seen once (n1) and twice (n2) (0.5 when one of
    them is 0); a number in (0, 1] sets D for every order.
    """
    n = validate_ngram_fit("fit_char_ngram", train_text, n, smoothing, discount, SMOOTHINGS)
    return CharNgramModel(train_text, n, smoothing, discount)


def char_ngram_bits_per_char(
    train_text: str, val_text: str, n: int = 3, smoothing: str = "add-one"
) -> float:
    """Bits per character of a character n-gram model fitted on ``train_text``, on ``val_text``.

    With the training alphabet A plus one symbol for every character never
    seen in training (V = |A| + 1 symbols), the default 'add-one' smoothing
    gives character c after the context h of the n - 1 characters before it
    Laplace's estimate::

        P(c | h) = (count(h, c) + 1) / (count(h) + V)

    where counts come from every n-gram of ``train_text`` and
    ``count(h) = sum_c count(h, c)``. 'absolute' and 'kneser-ney' are the
    interpolated smoothings of :func:`fit_char_ngram`. Every character of
    ``val_text`` that has n - 1 characters before it *within* ``val_text``
    (positions n - 1 ..) is predicted, and the result is ``-mean(log2 P)``.
    ``n = 1`` is the unigram model.

    Returns
    -------
    bits_per_char : float (log2(V) for a model that knows nothing; lower is better)
    """
    func = "char_ngram_bits_per_char"
    n = validate_ngram_texts(func, train_text, val_text, n)
    n = validate_ngram_fit(func, train_text, n, smoothing, None, SMOOTHINGS)
    return CharNgramModel(train_text, n, smoothing).bits_per_char(val_text)
