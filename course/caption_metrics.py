"""Caption metrics: BLEU-1..4 and CIDEr-D, computed exactly as the COCO caption evaluation does.

The two scores that image-captioning papers report, each in a few lines of
maths over n-gram counts (n = 1..4):

- **BLEU** (Papineni, Roukos, Ward and Zhu, "BLEU: a method for automatic
  evaluation of machine translation", ACL 2002): the geometric mean of the
  clipped n-gram precisions of the candidates, times a brevity penalty.
- **CIDEr-D** (Vedantam, Zitnick and Parikh, "CIDEr: Consensus-based image
  description evaluation", CVPR 2015): the cosine similarity of TF-IDF
  weighted n-gram vectors of a candidate and each of its references, with
  the "-D" changes of section 5 of the paper (candidate counts clipped by the
  reference's, a Gaussian penalty on the length difference, no stemming,
  times 10).

The reference implementation is the COCO caption evaluation code,
https://github.com/tylin/coco-caption, packaged for pip as ``pycocoevalcap``
(https://github.com/salaniz/pycocoevalcap): its ``Bleu(4)`` and ``Cider``
scorers. Every detail of theirs is kept, including the ones the papers do not
spell out, and ``tests/test_caption_metrics.py`` checks that the scores agree
with ``pycocoevalcap`` to 1e-6. The code here is our own, vectorised with numpy.

Input format. ``references`` is a dict ``image id -> list of reference
captions`` or a list of such lists; ``candidates`` is a dict ``image id ->
caption`` (a str, or a list holding one str as ``pycocoevalcap`` takes it) or a
list of captions, one per image. Captions are *already tokenised*: words
separated by whitespace, as ``pycocoevalcap``'s scorers take them after its
PTB tokenizer. Apply :func:`tokenize` (or ``caption_scores(...,
tokenizer=tokenize)``) to raw text first. With dicts, per-caption scores are
in the order of the ids of ``references``, as ``pycocoevalcap`` orders them.

Typical use::

    refs = {1: ["a dog runs on the grass", "a brown dog running"], 2: ["a red car"]}
    cands = {1: "a dog running on grass", 2: "a car"}
    caption_scores(refs, cands)  # {'BLEU-1': ..., ..., 'BLEU-4': ..., 'CIDEr-D': ...}

CIDEr-D weighs an n-gram by how rare it is among the *evaluated images'*
references, so it is a property of a whole evaluation set: scoring one image
alone gives 0 (every n-gram of its references is in "every" image), and the
score of a caption changes with the other images evaluated beside it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import NamedTuple

import numpy as np

from course._caption_validation import tokenized, validate_captions

__all__ = ["bleu", "caption_scores", "cider_d", "tokenize"]

MAX_N = 4  # n-grams of 1 to 4 words, in both metrics
CIDER_SIGMA = 6.0  # standard deviation of CIDEr-D's Gaussian length penalty, in words
# pycocoevalcap's BLEU guards: a precision is (correct + TINY) / (guess + SMALL),
# so that no count of zero divides by zero (and a zero count gives ~0, not an error).
BLEU_TINY = 1e-15
BLEU_SMALL = 1e-9

# ---------------------------------------------------------------------------
# Tokenisation
# ---------------------------------------------------------------------------

# A word is a run of letters or digits, with inner apostrophes or hyphens.
_WORD_RE = re.compile(r"[^\W_]+(?:['\-][^\W_]+)*")


def tokenize(text: str) -> str:
    """Lower-case ``text``, drop its punctuation, and return its words joined by single spaces.

    ``"A man's well-known dog, running!"`` -> ``"a man's well-known dog running"``.
    A word is a run of letters and digits, with inner apostrophes and hyphens
    kept; every other character separates words and is dropped. Curly
    apostrophes count as ``'``.

    This is *not* the Stanford PTB tokenizer that the official COCO evaluation
    runs (through Java) before scoring: PTB splits clitics off (``"man 's"``,
    ``"do n't"``) and keeps some symbols as tokens, so on raw text with such
    words the two tokenisations, and hence the scores, can differ slightly.
    The metrics themselves are exact on whatever tokens they are given.
    """
    if not isinstance(text, str):
        raise TypeError(f"tokenize: text must be a str, got {type(text).__name__}")
    return " ".join(_WORD_RE.findall(text.lower().replace("\u2019", "'")))


# ---------------------------------------------------------------------------
# N-gram counts of an evaluation set
# ---------------------------------------------------------------------------


class _NgramCounts(NamedTuple):
    """Every caption of an evaluation as flat arrays: one entry per (caption, distinct n-gram).

    Captions are numbered candidates first (0 .. N-1, caption i is image i's)
    then the references (N .. N+R-1, grouped by image). N images, R
    references in all, G distinct n-grams, E entries.
    """

    num_images: int  # N
    num_ngrams: int  # G
    ref_image: np.ndarray  # (R,) the image of each reference, non-decreasing
    lengths: np.ndarray  # (N + R,) words per caption
    caption: np.ndarray  # (E,) the caption of the entry
    image: np.ndarray  # (E,) the image of that caption
    ngram: np.ndarray  # (E,) the n-gram's id, in 0 .. G-1
    order: np.ndarray  # (E,) n - 1 for an n-gram: 0 (words) .. MAX_N - 1
    count: np.ndarray  # (E,) times the n-gram occurs in the caption


def _count_ngrams(references: list[list[str]], candidates: list[str]) -> _NgramCounts:
    """Split every caption on whitespace (as pycocoevalcap does) and count its n-grams.

    Vectorised: the words become integers, and the n-grams of order n are
    numbered from those of order n - 1 (the n-gram starting at a word is the
    (n-1)-gram starting there followed by one more word).
    """
    captions = candidates + [ref for refs in references for ref in refs]
    N, S = len(candidates), len(captions)

    # 1. All words end to end, as ids into the vocabulary of the set.
    split = [caption.split() for caption in captions]
    lengths = np.array([len(words) for words in split], dtype=np.int64)  # (S,)
    vocab: dict[str, int] = {}
    word = [vocab.setdefault(w, len(vocab)) for words in split for w in words]
    word = np.array(word, dtype=np.int64)  # (T,) T words in all
    owner = np.repeat(np.arange(S), lengths)  # (T,) the caption of each word
    T, V = len(word), len(vocab)

    # 2. For n = 1..4, the id of the n-gram starting at each word (where it fits in
    #    its caption), then how often each caption holds each n-gram.
    parts = []  # (caption, n-gram id, n - 1, count) of each order
    gram, valid, num_grams = word, np.ones(T, dtype=bool), V  # the 1-grams
    offset = 0  # ids of order n follow those of orders < n
    for n in range(1, MAX_N + 1):
        if n > 1:
            fits = np.zeros(T, dtype=bool)
            m = max(T - n + 1, 0)  # words that an n-gram can start at
            fits[:m] = owner[n - 1 :] == owner[:m]  # its last word is in the same caption
            valid &= fits
            start = np.flatnonzero(valid)
            pairs = gram[start] * V + word[start + n - 1]  # ((n-1)-gram, next word)
            _, ids = np.unique(pairs, return_inverse=True)
            gram = np.zeros(T, dtype=np.int64)
            gram[start] = ids
            num_grams = int(ids.max()) + 1 if len(ids) else 0
        keys, count = np.unique(owner[valid] * num_grams + gram[valid], return_counts=True)
        caption, ngram = np.divmod(keys, max(num_grams, 1))
        parts.append((caption, ngram + offset, np.full(len(keys), n - 1), count))
        offset += num_grams
    caption, ngram, order, count = (np.concatenate(column) for column in zip(*parts, strict=True))

    ref_image = np.repeat(np.arange(N), [len(refs) for refs in references])  # (R,)
    return _NgramCounts(
        num_images=N,
        num_ngrams=offset,
        ref_image=ref_image,
        lengths=lengths,
        caption=caption,
        image=np.concatenate([np.arange(N), ref_image])[caption],
        ngram=ngram,
        order=order,
        count=count.astype(np.float64),
    )


def _distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` by a sort (numpy 2's default hash-based path is slower on ints)."""
    values = np.sort(values)
    if len(values) == 0:
        return values
    return values[np.concatenate([[True], values[1:] != values[:-1]])]


def _lookup(keys: np.ndarray, values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """For each query, ``values[i]`` where ``keys[i] == query``, else 0 (``keys`` are unique)."""
    if len(keys) == 0:
        return np.zeros(len(queries))
    by_key = np.argsort(keys)
    keys, values = keys[by_key], values[by_key]
    pos = np.minimum(np.searchsorted(keys, queries), len(keys) - 1)
    return np.where(keys[pos] == queries, values[pos], 0.0)


# ---------------------------------------------------------------------------
# BLEU
# ---------------------------------------------------------------------------


def bleu(
    references: Mapping[Hashable, Sequence[str]] | Sequence[Sequence[str]],
    candidates: Mapping[Hashable, str | Sequence[str]] | Sequence[str],
    *,
    return_per_caption: bool = False,
) -> tuple[float, float, float, float] | tuple[tuple[float, float, float, float], np.ndarray]:
    """Corpus BLEU-1..4 of the candidates, as ``pycocoevalcap``'s ``Bleu(4).compute_score``.

    For one image, with candidate length c and clipped n-gram matches (an
    n-gram of the candidate counts at most as often as it occurs in one
    reference, the reference where it occurs most)::

        p_n    = (matches_n + 1e-15) / (candidate n-grams_n + 1e-9)
        r      = the reference length closest to c (the shorter one on a tie)
        BP     = exp(1 - r / c) if c < r else 1       (computed with the same guards)
        BLEU-n = BP * (p_1 * ... * p_n) ** (1 / n)

    The corpus score sums matches, candidate n-grams, c and r over all images
    before taking that formula (Papineni et al. 2002, the ``closest``
    reference-length rule of pycocoevalcap); it is *not* the mean of the
    per-caption scores. The guards (``BLEU_TINY``, ``BLEU_SMALL``) make a
    precision with no match about 1e-6 rather than 0, as pycocoevalcap does,
    so a candidate of fewer than 4 words gets a small, non-zero BLEU-4.

    Inputs:
    - references: dict image id -> list of reference captions, or a list of lists
    - candidates: dict image id -> caption (one per id), or a list of N captions
    - return_per_caption: also return each image's own scores

    Returns:
    - (BLEU-1, BLEU-2, BLEU-3, BLEU-4) of the whole set, floats in [0, 1]
    - with return_per_caption: that tuple and an array (N, 4) whose row i holds
      BLEU-1..4 of image i alone (pycocoevalcap's second output, transposed)
    """
    refs, cands = validate_captions("bleu", references, candidates)
    corpus, per_caption = _bleu(_count_ngrams(refs, cands))
    return (corpus, per_caption) if return_per_caption else corpus


def _bleu(counts: _NgramCounts) -> tuple[tuple[float, float, float, float], np.ndarray]:
    """Corpus BLEU-1..4 and the (N, 4) per-image scores, from the n-gram counts."""
    N, G = counts.num_images, counts.num_ngrams
    is_ref = counts.caption >= N
    key = counts.image * G + counts.ngram  # (E,) one key per (image, n-gram)

    # 1. Clip: the most times each n-gram occurs in one reference of its image.
    ref_keys, inverse = np.unique(key[is_ref], return_inverse=True)
    max_ref_count = np.zeros(len(ref_keys))
    np.maximum.at(max_ref_count, inverse, counts.count[is_ref])
    clipped = np.minimum(counts.count[~is_ref], _lookup(ref_keys, max_ref_count, key[~is_ref]))

    # 2. Matches and candidate n-grams of each image and order.
    cand = counts.caption[~is_ref]
    correct = np.bincount(cand * MAX_N + counts.order[~is_ref], clipped, N * MAX_N)
    correct = correct.reshape(N, MAX_N)  # (N, 4)
    c = counts.lengths[:N]  # (N,) candidate lengths
    guess = np.maximum(0, c[:, None] - np.arange(MAX_N))  # (N, 4) n-grams of the candidates

    # 3. The closest reference length: sort each image's references by distance, then length.
    ref_len = counts.lengths[N:]  # (R,)
    by_closeness = np.lexsort((ref_len, np.abs(ref_len - c[counts.ref_image]), counts.ref_image))
    first = np.searchsorted(counts.ref_image[by_closeness], np.arange(N))  # each image's best
    r = ref_len[by_closeness][first]  # (N,)

    # 4. Geometric means of the precisions, times the brevity penalty.
    def score(correct, guess, c, r):
        precision = (correct + BLEU_TINY) / (guess + BLEU_SMALL)  # (..., 4)
        ratio = (c + BLEU_TINY) / (r + BLEU_SMALL)  # (...,)
        penalty = np.exp(1 - 1 / np.minimum(ratio, 1.0))  # 1 when ratio >= 1
        return np.cumprod(precision, axis=-1) ** (1 / np.arange(1, MAX_N + 1)) * penalty[..., None]

    corpus = score(correct.sum(0), guess.sum(0), c.sum(), r.sum())  # (4,)
    per_caption = score(correct, guess, c, r)  # (N, 4)
    assert per_caption.shape == (N, MAX_N)
    return tuple(float(b) for b in corpus), per_caption


# ---------------------------------------------------------------------------
# CIDEr-D
# ---------------------------------------------------------------------------


def cider_d(
    references: Mapping[Hashable, Sequence[str]] | Sequence[Sequence[str]],
    candidates: Mapping[Hashable, str | Sequence[str]] | Sequence[str],
) -> tuple[float, np.ndarray]:
    """CIDEr-D of the candidates, as ``pycocoevalcap``'s ``Cider().compute_score``.

    ``pycocoevalcap.cider.Cider`` is CIDEr-D despite its name: its scorer
    clips candidate counts by the reference's, applies the Gaussian length
    penalty with sigma = 6 and multiplies by 10 (Vedantam et al. 2015, sec. 5;
    its authors call its scores CIDEr-D). With N images, for an n-gram g of
    n words (n = 1..4)::

        df(g)     = number of images with g in at least one of their references
        w_s(g)    = count of g in caption s * log(N / max(1, df(g)))   # TF-IDF
        sim_n     = sum_g min(w_c(g), w_r(g)) * w_r(g) / (|w_c|_n * |w_r|_n)  # clipped cosine
        penalty   = exp(-(l_c - l_r)**2 / (2 * 6**2))
        CIDEr-D_i = 10 / |refs_i| * sum_{r in refs_i} mean_n(sim_n * penalty)

    for candidate c of image i against each of its references r, where
    ``|w|_n`` is the norm over the n-grams of order n only (a zero norm
    leaves that similarity 0). The document frequencies come from the
    references of the evaluated images only; candidates do not count, and an
    n-gram in no reference weighs log N. The lengths l count words
    (pycocoevalcap counts bigrams, words - 1: the same difference, since no
    reference is empty and an empty candidate scores 0 whatever its penalty).
    The corpus score is the mean of the per-image scores. Scoring a single
    image gives 0 (log(1 / 1) = 0 for every n-gram).

    Inputs:
    - references: dict image id -> list of reference captions, or a list of lists
    - candidates: dict image id -> caption (one per id), or a list of N captions

    Returns:
    - the corpus CIDEr-D, a float in [0, 10]
    - an array (N,) of each image's CIDEr-D
    """
    refs, cands = validate_captions("cider_d", references, candidates)
    return _cider_d(_count_ngrams(refs, cands))


def _cider_d(counts: _NgramCounts) -> tuple[float, np.ndarray]:
    """Corpus and (N,) per-image CIDEr-D, from the n-gram counts."""
    N, G = counts.num_images, counts.num_ngrams
    R = len(counts.ref_image)
    is_ref = counts.caption >= N
    key = counts.image * G + counts.ngram  # (E,) one key per (image, n-gram)

    # 1. Document frequency of every n-gram over the images' references, then its IDF.
    df = np.bincount(_distinct(key[is_ref]) % G, minlength=G)  # (G,)
    idf = np.log(N / np.maximum(1.0, df))  # (G,) exactly 0 for an n-gram of every image

    # 2. TF-IDF weights, and their norm per caption and order.
    w = counts.count * idf[counts.ngram]  # (E,)
    norm_index = counts.caption * MAX_N + counts.order  # (E,)
    norm = np.sqrt(np.bincount(norm_index, w**2, (N + R) * MAX_N)).reshape(N + R, MAX_N)

    # 3. Clipped dot product of each reference with its image's candidate.
    w_ref = w[is_ref]
    w_cand = _lookup(key[~is_ref], w[~is_ref], key[is_ref])  # (E_ref,) 0 if not in candidate
    ref_index = (counts.caption[is_ref] - N) * MAX_N + counts.order[is_ref]  # (E_ref,)
    dot = np.bincount(ref_index, np.minimum(w_cand, w_ref) * w_ref, R * MAX_N).reshape(R, MAX_N)

    # 4. Cosine (0 where a norm is 0), Gaussian length penalty, mean over orders and references.
    denominator = norm[counts.ref_image] * norm[N:]  # (R, 4) |w_c| |w_r|
    cosine = np.divide(dot, denominator, out=dot.copy(), where=denominator != 0)
    delta = counts.lengths[counts.ref_image] - counts.lengths[N:]  # (R,) length differences
    penalty = np.exp(-(delta**2) / (2 * CIDER_SIGMA**2))  # (R,)
    per_ref = (cosine * penalty[:, None]).mean(axis=1)  # (R,)
    num_refs = np.bincount(counts.ref_image, minlength=N)  # (N,)
    per_image = 10.0 * np.bincount(counts.ref_image, per_ref, N) / num_refs  # (N,)
    return float(per_image.mean()), per_image


# ---------------------------------------------------------------------------
# All of them
# ---------------------------------------------------------------------------


def caption_scores(
    references: Mapping[Hashable, Sequence[str]] | Sequence[Sequence[str]],
    candidates: Mapping[Hashable, str | Sequence[str]] | Sequence[str],
    *,
    tokenizer: Callable[[str], str] | None = None,
) -> dict[str, float]:
    """BLEU-1..4 and CIDEr-D of a set of candidate captions, counting n-grams once.

    Inputs:
    - references, candidates: as for :func:`bleu` and :func:`cider_d`
    - tokenizer: applied to every caption first (e.g. :func:`tokenize` for raw
      text); None when the captions are already tokenised (words separated by
      whitespace)

    Returns:
    - {'BLEU-1': ..., 'BLEU-2': ..., 'BLEU-3': ..., 'BLEU-4': ..., 'CIDEr-D': ...},
      the corpus scores as :func:`bleu` and :func:`cider_d` give them
    """
    refs, cands = validate_captions("caption_scores", references, candidates)
    if tokenizer is not None:
        refs, cands = tokenized("caption_scores", refs, cands, tokenizer)
    counts = _count_ngrams(refs, cands)
    bleus, _ = _bleu(counts)
    scores = {f"BLEU-{n}": b for n, b in enumerate(bleus, start=1)}
    scores["CIDEr-D"] = _cider_d(counts)[0]
    return scores
