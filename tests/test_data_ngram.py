"""Tests for course/data/ngram.py: the character n-gram baseline."""

from __future__ import annotations

import math

from course.data.corpus import load_pydoc_corpus, train_val_split
from course.data.ngram import char_ngram_bits_per_char


def test_ngram_bits_per_char_matches_a_hand_computation() -> None:
    # Train "abab": alphabet {a, b}, V = 3; bigrams ab x2, ba x1; contexts a x2, b x1.
    # Val "abc": P(b | a) = (2 + 1) / (2 + 3); P(c | b) = (0 + 1) / (1 + 3) (c unseen).
    expected = -(math.log2(3 / 5) + math.log2(1 / 4)) / 2
    assert math.isclose(char_ngram_bits_per_char("abab", "abc", n=2), expected, rel_tol=1e-12)
    # Unigram: P(a) = (2 + 1) / (4 + 3), P(c) = 1 / 7.
    expected = -(math.log2(3 / 7) + math.log2(1 / 7)) / 2
    assert math.isclose(char_ngram_bits_per_char("abab", "ac", n=1), expected, rel_tol=1e-12)


def test_ngram_baseline_on_the_pydoc_corpus_is_sensible() -> None:
    train, val = train_val_split(load_pydoc_corpus(), val_fraction=0.1)
    alphabet = len(set(train)) + 1
    bpc = {n: char_ngram_bits_per_char(train, val, n=n) for n in (1, 2, 3)}
    assert bpc[1] < math.log2(alphabet)
    assert bpc[3] < bpc[2] < bpc[1]
    assert 2.0 < bpc[3] < 3.5
