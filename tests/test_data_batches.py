"""Tests for course/data/batches.py: padded sentence batches and character windows."""

from __future__ import annotations

import numpy as np
import pytest

from course.data.batches import char_batches, make_lm_batch, pad_sequences, stream_windows
from course.data.corpus import TOY_SENTENCES
from course.data.vocabulary import NULL_INDEX, START_INDEX, Vocabulary

# -- Padded batches ----------------------------------------------------------------


def test_pad_sequences_shapes_values_and_mask() -> None:
    sequences = [np.array([5, 6, 7]), np.array([8]), np.array([], dtype=np.int64)]
    batch, mask = pad_sequences(sequences)
    assert batch.shape == mask.shape == (3, 3)
    assert batch.dtype == np.int64 and mask.dtype == bool
    np.testing.assert_array_equal(batch, [[5, 6, 7], [8, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(mask, [[1, 1, 1], [1, 0, 0], [0, 0, 0]])
    cut, cut_mask = pad_sequences(sequences, max_length=2, pad=-1)
    np.testing.assert_array_equal(cut, [[5, 6], [8, -1], [-1, -1]])
    np.testing.assert_array_equal(cut_mask, [[1, 1], [1, 0], [0, 0]])
    assert sequences[0].tolist() == [5, 6, 7]
    with pytest.raises(TypeError, match="integer"):
        pad_sequences([np.array([1.5])])
    with pytest.raises(ValueError, match="empty"):
        pad_sequences([])


def test_make_lm_batch_shifts_targets_and_masks_padding() -> None:
    vocab = Vocabulary.from_sequences([s.split() for s in TOY_SENTENCES])
    sequences = [vocab.encode(s.split(), add_start=True, add_end=True) for s in TOY_SENTENCES[:4]]
    inputs, targets, mask = make_lm_batch(sequences)
    T = max(len(s) for s in sequences) - 1
    assert inputs.shape == targets.shape == mask.shape == (4, T)
    for i, sequence in enumerate(sequences):
        n = len(sequence) - 1
        np.testing.assert_array_equal(inputs[i, :n], sequence[:-1])
        np.testing.assert_array_equal(targets[i, :n], sequence[1:])
        assert mask[i, :n].all() and not mask[i, n:].any()
        assert (targets[i, n:] == NULL_INDEX).all()
    assert inputs[:, 0].tolist() == [START_INDEX] * 4
    assert (targets[mask] != NULL_INDEX).all()
    short_inputs, _, _ = make_lm_batch(sequences, max_length=3)
    assert short_inputs.shape == (4, 3)
    with pytest.raises(ValueError, match="add_start/add_end"):
        make_lm_batch([np.array([4])])


# -- Character batches -----------------------------------------------------------


def test_char_batches_shapes_and_shifted_targets() -> None:
    encoded = np.arange(1000, dtype=np.int64)
    batches = list(char_batches(encoded, batch_size=4, seq_length=10))
    S = 999 // 4
    assert len(batches) == S // 10
    for x, y in batches:
        assert x.shape == y.shape == (4, 10)
        assert x.dtype == y.dtype == np.int64
        np.testing.assert_array_equal(y, x + 1)  # arange: the next token is x + 1
    np.testing.assert_array_equal(batches[0][0][:, 0], np.arange(4) * S)


def test_char_batches_continue_each_stream_across_batches() -> None:
    encoded = np.random.default_rng(0).integers(0, 50, size=777)
    batches = list(char_batches(encoded, batch_size=3, seq_length=7, rng=5))
    xs = np.concatenate([x for x, _ in batches], axis=1)  # (N, num_batches * T)
    ys = np.concatenate([y for _, y in batches], axis=1)
    np.testing.assert_array_equal(xs[:, 1:], ys[:, :-1])  # row n of batch b+1 continues row n of b
    again = list(char_batches(encoded, batch_size=3, seq_length=7, rng=5))
    np.testing.assert_array_equal(xs, np.concatenate([x for x, _ in again], axis=1))
    first = xs[0, :20]
    start = next(
        i for i in range(7) if np.array_equal(encoded[i : i + 20], first)
    )  # the random offset lies in [0, T)
    assert 0 <= start < 7


def test_char_batches_errors() -> None:
    with pytest.raises(ValueError, match="too few"):
        char_batches(np.arange(10), batch_size=3, seq_length=4)
    with pytest.raises(TypeError, match="integer"):
        char_batches(np.zeros(100), batch_size=2, seq_length=4)


def test_stream_windows_stack_the_char_batches_in_order():
    encoded = np.arange(200) % 13
    X, y = stream_windows(encoded, batch_size=3, seq_length=5)
    batches = list(char_batches(encoded, batch_size=3, seq_length=5))
    assert X.shape == (3 * len(batches), 5) and X.dtype == np.int64
    for b, (x_b, y_b) in enumerate(batches):
        np.testing.assert_array_equal(X[3 * b : 3 * b + 3], x_b)
        np.testing.assert_array_equal(y[3 * b : 3 * b + 3], y_b)
    X_cut, _ = stream_windows(encoded, batch_size=3, seq_length=5, rng=np.random.default_rng(4))
    X_same, _ = stream_windows(encoded, batch_size=3, seq_length=5, rng=np.random.default_rng(4))
    np.testing.assert_array_equal(X_cut, X_same)  # a seeded cut is repeatable
    assert X_cut[0, 0] != X[0, 0]  # and cuts the text elsewhere
