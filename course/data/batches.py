"""Batches of token indices for the recurrent models.

- ``pad_sequences`` / ``make_lm_batch``: padded (N, T) batches with a mask,
  for captioning and word-level language models (sentences of different
  lengths, padded with ``<NULL>``).
- ``char_batches``: (N, T) batches for truncated backpropagation through time
  on one long encoded text (a character model's corpus).

Typical use::

    vocab = Vocabulary.from_sequences([train_text], specials=False)  # characters
    for x, y in char_batches(vocab.encode(train_text), batch_size=32, seq_length=50):
        ...  # x, y: (32, 50) int64, y[:, t] == x[:, t + 1]
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from course.data._validation import (
    validate_char_batching,
    validate_lm_sequences,
    validate_padding,
)
from course.data.vocabulary import NULL_INDEX

__all__ = ["char_batches", "make_lm_batch", "pad_sequences"]


# ---------------------------------------------------------------------------
# Padded batches of sentences
# ---------------------------------------------------------------------------


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
    arrays, max_length = validate_padding("pad_sequences", sequences, max_length, pad)
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
    arrays, max_length = validate_lm_sequences("make_lm_batch", sequences, max_length)
    width = (
        None if max_length is None else max_length + 1
    )  # T + 1 tokens give T inputs and T targets
    padded, real = pad_sequences(arrays, max_length=width, pad=pad)  # (N, T + 1)
    return padded[:, :-1], padded[:, 1:], real[:, 1:]


# ---------------------------------------------------------------------------
# Windows of one long text, for truncated backpropagation through time
# ---------------------------------------------------------------------------


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
    encoded, N, T = validate_char_batching("char_batches", encoded, batch_size, seq_length)
    slack = encoded.size - 1 - N * T  # tokens to spare beyond one batch (and its targets)
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


def stream_windows(
    encoded: np.ndarray,
    batch_size: int,
    seq_length: int,
    rng: np.random.Generator | int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """All the ``char_batches`` windows of a text, stacked in order: training data for the Solver.

    Rows ``[b*N, (b+1)*N)`` of X and y are batch b of ``char_batches(encoded,
    N, T)``, so a ``Solver(..., batch_size=N, shuffle=False)`` walks the N
    streams window after window and a model that carries its hidden state
    (``CharRNN``) reads every stream from start to end.

    Inputs
    ------
    encoded : (L,) integer array, e.g. ``vocab.encode(text)``
    batch_size : int, N
    seq_length : int, T
    rng : np.random.Generator, int seed or None
        as for ``char_batches``: None cuts the streams from offset 0, a
        generator at a random offset in [0, T) (a new cut for every epoch)

    Returns
    -------
    X, y : (B*N, T) int64 each, B = the number of windows per stream; y[:, t] is
        the token after X[:, t]
    """
    windows = list(char_batches(encoded, batch_size, seq_length, rng=rng))
    return np.concatenate([x for x, _ in windows]), np.concatenate([y for _, y in windows])
