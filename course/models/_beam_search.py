"""Beam search over a recurrent decoder, vectorised over the images and the beams.

The decoder is any function ``step(words, state, t) -> (log_probs, state)``
over M = N*k rows (row ``n*k + j`` is beam j of image n): it reads the word
each beam chose at step t - 1 (``<START>`` at t = 0) and returns the
log-probabilities (M, V) of the next word. ``state`` is a tuple of (M, ...)
arrays (an RNN's h, an LSTM's h and c); the search reorders its rows when
beams are pruned. The only Python loop is over the time steps.

A caption is finished when it emits ``<END>`` (the word is part of it, as
in greedy decoding) or when it reaches ``max_length`` words. Captions
compete by their length-normalised score (Wu et al. 2016, "Google's Neural
Machine Translation System", eq. 14)::

    score(Y) = log P(Y | image) / lp(Y),   lp(Y) = ((5 + |Y|) / 6) ** alpha

with |Y| the number of words, ``<END>`` included. alpha = 0 ranks by the raw
log-probability, which favours short captions; alpha near 1 removes most of
that bias.

Dimension letters: N images, k beam width, V vocabulary size, L max_length.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

State = tuple[np.ndarray, ...]
Step = Callable[[np.ndarray, State, int], tuple[np.ndarray, State]]


def length_penalty(length: int | np.ndarray, alpha: float) -> float | np.ndarray:
    """GNMT's length penalty ``((5 + length) / 6) ** alpha``: 1 for alpha = 0, 1 for one word."""
    return ((5.0 + np.asarray(length, dtype=np.float64)) / 6.0) ** alpha


def top_k_candidates(flat: np.ndarray, k: int) -> np.ndarray:
    """Indices (N, k) of the k largest entries of every row of ``flat`` (N, C), largest first.

    The chosen are ordered by value, ties by index; which of several entries
    tied at the k-th place is chosen is left to ``argpartition``, except for
    k = 1, which is ``argmax`` (the first maximum), as greedy decoding. ``flat``
    may hold -inf.
    """
    if k == 1:
        return np.argmax(flat, axis=1)[:, None]
    if k < flat.shape[1]:
        top = np.argpartition(-flat, k - 1, axis=1)[:, :k]  # (N, k), in no order
    else:
        top = np.broadcast_to(np.arange(flat.shape[1]), flat.shape)
    values = np.take_along_axis(flat, top, axis=1)
    order = np.lexsort((top, -values), axis=1)  # by value, then by index
    return np.take_along_axis(top, order, axis=1)


def beam_search(
    step: Step,
    state: State,
    *,
    num_images: int,
    beam_width: int,
    max_length: int,
    start_index: int,
    end_index: int | None,
    null_index: int,
    banned: Sequence[int] = (),
    length_normalization: float = 0.0,
    min_words: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The best caption of every image by beam search (see the module docstring).

    At every step t the k live beams of an image offer k*V continuations,
    scored by their summed log-probabilities; the k best survive. A survivor
    that ends in ``<END>`` (or any survivor at t = L - 1) is finished: it
    leaves the beam and competes, by its normalised score, for the image's
    best caption. The search stops early once no live beam can still beat
    the best finished caption of its image: a live beam's log-probability
    can only fall, and lp(|Y|) <= lp(L), so ``logp / lp(L)`` bounds its
    score. With k = 1 this is greedy decoding, for every alpha.

    Inputs:
    - step: the decoder, ``step(words (N*k,), state, t) -> (log_probs (N*k, V), state)``
    - state: its initial state, a tuple of (N*k, ...) arrays (every beam of an
      image starts from the same row)
    - num_images: N; beam_width: k; max_length: L
    - start_index, end_index: ``<START>`` and ``<END>`` (None: captions end at L)
    - null_index: ``<NULL>``, the padding after a caption's end
    - banned: words never generated (``<NULL>``, ``<START>``)
    - length_normalization: alpha >= 0
    - min_words: ``<END>`` is not generated before this many words (1: no
      empty caption)

    Returns:
    - captions: (N, L) int64, the best caption of every image, padded with
      ``null_index`` after its end
    - logprobs: (N,) float64, log P(caption | image), the sum of the word log-probabilities
    - word_logprobs: (N, L) float64, log P(word t | words < t, image), 0 after the end
    """
    N, k, L, alpha = num_images, beam_width, max_length, length_normalization
    logp = np.full((N, k), -np.inf)  # (N, k) log P of every live beam; -inf: no beam
    logp[:, 0] = 0.0  # the k start rows are copies: only one is a beam
    seqs = np.full((N, k, L), null_index, dtype=np.int64)
    seq_lp = np.zeros((N, k, L))
    best_score = np.full(N, -np.inf)
    best_seq = np.full((N, L), null_index, dtype=np.int64)
    best_lp = np.zeros((N, L))
    words = np.full(N * k, start_index, dtype=np.int64)
    images = np.arange(N)[:, None]  # (N, 1), to index (N, k, ...) arrays
    for t in range(L):
        log_probs, state = step(words, state, t)
        V = log_probs.shape[1]
        word_lp = log_probs.reshape(N, k, V)
        # 1. Score every continuation of every live beam; keep the k best of each image.
        cand = logp[:, :, None] + word_lp  # (N, k, V)
        cand[:, :, list(banned)] = -np.inf
        if t < min_words and end_index is not None:
            cand[:, :, end_index] = -np.inf
        top = top_k_candidates(cand.reshape(N, k * V), k)  # (N, k) into the k*V continuations
        parent, word = top // V, top % V  # (N, k) each
        logp = np.take_along_axis(cand.reshape(N, k * V), top, axis=1)  # (N, k)
        seqs, seq_lp = seqs[images, parent], seq_lp[images, parent]  # (N, k, L) each
        seqs[:, :, t] = word
        seq_lp[:, :, t] = word_lp[images, parent, word]
        # 2. Survivors that end here are finished: the best of them may be the image's best.
        live = np.isfinite(logp)
        ended = live & (word == end_index) if end_index is not None else np.zeros_like(live)
        if t == L - 1:
            ended = live  # the last step: every survivor is a caption of L words
        score = np.where(ended, logp / length_penalty(t + 1, alpha), -np.inf)  # (N, k)
        j = np.argmax(score, axis=1)  # (N,)
        better = score[np.arange(N), j] > best_score
        best_score = np.where(better, score[np.arange(N), j], best_score)
        best_seq[better] = seqs[better, j[better]]
        best_lp[better] = seq_lp[better, j[better]]
        logp = np.where(ended, -np.inf, logp)  # finished beams leave the beam
        # 3. Stop when no live beam can beat its image's best finished caption.
        bound = logp.max(axis=1) / length_penalty(L, alpha)  # (N,), -inf: no live beam
        if np.all(best_score >= bound):
            break
        rows = (images * k + parent).reshape(-1)  # (N*k,) the parent row of every survivor
        state = tuple(s[rows] for s in state)
        words = word.reshape(-1)
    return best_seq, best_lp.sum(axis=1), best_lp
