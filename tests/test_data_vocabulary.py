"""Tests for course/data/vocabulary.py: the token <-> index map, its specials and counts."""

from __future__ import annotations

import json
import math
from collections import Counter

import numpy as np
import pytest

from course.data.corpus import TOY_SENTENCES
from course.data.vocabulary import (
    END_INDEX,
    NULL_INDEX,
    SPECIAL_TOKENS,
    START_INDEX,
    UNK_INDEX,
    Vocabulary,
)

COUNTS = {"the": 5, "cat": 3, "sat": 3, "mat": 1, "on": 2, "a": 2}


def test_specials_sit_at_fixed_indices() -> None:
    vocab = Vocabulary.from_counts(COUNTS)
    assert SPECIAL_TOKENS == ("<NULL>", "<START>", "<END>", "<UNK>")
    assert (NULL_INDEX, START_INDEX, END_INDEX, UNK_INDEX) == (0, 1, 2, 3)
    assert vocab.tokens[:4] == SPECIAL_TOKENS
    assert (vocab.null_index, vocab.start_index, vocab.end_index, vocab.unk_index) == (0, 1, 2, 3)
    assert len(vocab) == 4 + len(COUNTS)


def test_tokens_are_ordered_by_count_then_token_whatever_the_input_order() -> None:
    vocab = Vocabulary.from_counts(COUNTS)
    assert vocab.tokens[4:] == ("the", "cat", "sat", "a", "on", "mat")
    shuffled = dict(reversed(list(COUNTS.items())))
    assert Vocabulary.from_counts(shuffled) == vocab
    assert Vocabulary.from_counts(Counter(COUNTS)) == vocab


def test_min_count_and_max_size_leave_tokens_out_and_count_them_as_unk() -> None:
    vocab = Vocabulary.from_counts(COUNTS, min_count=2)
    assert "mat" not in vocab and vocab.index("mat") == UNK_INDEX
    assert vocab.counts[UNK_INDEX] == 1
    small = Vocabulary.from_counts(COUNTS, max_size=2)
    assert small.tokens[4:] == ("the", "cat")
    assert len(small) == 6
    assert small.counts[UNK_INDEX] == 3 + 2 + 2 + 1


def test_from_sequences_counts_words_and_characters() -> None:
    words = [s.split() for s in TOY_SENTENCES]
    vocab = Vocabulary.from_sequences(words)
    assert vocab.token(4) == "the"
    assert vocab.counts[vocab.index("cat")] == sum(s.split().count("cat") for s in TOY_SENTENCES)
    chars = Vocabulary.from_sequences(["abracadabra"], specials=False)
    assert chars.tokens == ("<UNK>", "a", "b", "r", "c", "d")
    assert chars.unk_index == 0
    assert chars.counts.tolist() == [0, 5, 2, 2, 1, 1]
    with pytest.raises(ValueError, match="specials=False"):
        chars.encode("ab", add_start=True)
    with pytest.raises(TypeError, match="from_sequences\\(\\[text\\]\\)"):
        Vocabulary.from_sequences("abracadabra")


def test_index_token_and_unknown_tokens() -> None:
    vocab = Vocabulary.from_counts(COUNTS)
    assert vocab.index("the") == 4
    assert vocab.token(4) == "the"
    assert vocab.index("zebra") == UNK_INDEX
    with pytest.raises(IndexError, match=r"outside \[0, 10\)"):
        vocab.token(10)
    with pytest.raises(TypeError):
        vocab.index(3)


def test_encode_decode_round_trip_with_start_end_and_stop_at_end() -> None:
    vocab = Vocabulary.from_sequences([s.split() for s in TOY_SENTENCES])
    words = "the cat sat on the mat".split()
    encoded = vocab.encode(words, add_start=True, add_end=True)
    assert encoded.dtype == np.int64
    assert encoded[0] == START_INDEX and encoded[-1] == END_INDEX
    assert encoded.shape == (len(words) + 2,)
    assert vocab.decode(encoded) == words
    trailing = np.concatenate([encoded, vocab.encode(["dog"]), [NULL_INDEX, NULL_INDEX]])
    assert vocab.decode(trailing) == words  # stops at the first <END>
    kept = vocab.decode(trailing, strip_special=False, stop_at_end=False)
    assert kept == ["<START>", *words, "<END>", "dog", "<NULL>", "<NULL>"]
    assert vocab.decode(vocab.encode(["the", "unicorn"])) == ["the", "<UNK>"]
    with pytest.raises(ValueError, match=r"\[0, "):
        vocab.decode([0, len(vocab)])
    with pytest.raises(ValueError, match="decode each row"):
        vocab.decode(np.zeros((2, 3), dtype=np.int64))


def test_character_vocabulary_round_trip() -> None:
    text = "the cat sat on the mat."
    vocab = Vocabulary.from_sequences([text], specials=False)
    encoded = vocab.encode(text)
    assert encoded.shape == (len(text),)
    assert "".join(vocab.decode(encoded)) == text
    assert vocab.decode(vocab.encode("cat!")) == ["c", "a", "t", "<UNK>"]


def test_to_dict_from_dict_round_trip_through_json() -> None:
    for vocab in (
        Vocabulary.from_counts(COUNTS, min_count=2),
        Vocabulary.from_sequences(["hello world"], specials=False),
    ):
        restored = Vocabulary.from_dict(json.loads(json.dumps(vocab.to_dict())))
        assert restored == vocab
        np.testing.assert_array_equal(restored.counts, vocab.counts)
    with pytest.raises(ValueError, match="Vocabulary.to_dict"):
        Vocabulary.from_dict({"tokens": []})


def test_log_frequencies_are_a_distribution_close_to_the_unigram_counts() -> None:
    vocab = Vocabulary.from_counts(COUNTS)
    log_p = vocab.log_frequencies()
    assert log_p.shape == (len(vocab),) and log_p.dtype == np.float64
    assert np.all(np.isfinite(log_p))
    assert math.isclose(np.exp(log_p).sum(), 1.0, rel_tol=1e-12)
    total = sum(COUNTS.values())
    assert math.isclose(np.exp(log_p[vocab.index("the")]), 5 / total, rel_tol=1e-3)
    assert np.exp(log_p[NULL_INDEX]) < 1e-4  # the specials get a tiny count


def test_vocabulary_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="special token"):
        Vocabulary(["<UNK>", "a"])
    with pytest.raises(ValueError, match="unique"):
        Vocabulary(["a", "a"])
    with pytest.raises(ValueError, match=">= 0"):
        Vocabulary.from_counts({"a": -1})
    with pytest.raises(TypeError, match="str"):
        Vocabulary.from_sequences([["a", 3]])
