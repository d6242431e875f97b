"""Tests for course/data/ngram.py: the character n-gram baselines, add-one and smoothed."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from course.data.corpus import load_pydoc_corpus, train_val_split
from course.data.ngram import SMOOTHINGS, char_ngram_bits_per_char, fit_char_ngram


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


# ---------------------------------------------------------------------------
# Smoothed models: interpolated absolute discounting and Kneser-Ney
# ---------------------------------------------------------------------------

SMALL = "the cat sat on the mat; a bat ate the hat."


def test_absolute_discounting_matches_a_hand_computation() -> None:
    # Train "abab", D = 0.5: symbols a, b, <unseen> (V = 3). Unigrams a x2, b x2 (4 in all,
    # 2 types): P1(a) = (2 - 0.5 + 0.5 * 2 * 1/3) / 4 = 11/24 = P1(b), P1(<unseen>) = 1/12.
    # Bigrams ab x2, ba x1: context a seen 2 times with 1 type, context b 1 time with 1 type.
    model = fit_char_ngram("abab", n=2, smoothing="absolute", discount=0.5)
    np.testing.assert_allclose(model.probabilities(""), [11 / 24, 11 / 24, 1 / 12], rtol=1e-12)
    np.testing.assert_allclose(model.probabilities("a"), [11 / 96, 83 / 96, 2 / 96], rtol=1e-12)
    np.testing.assert_allclose(model.probabilities("b"), [35 / 48, 11 / 48, 2 / 48], rtol=1e-12)
    np.testing.assert_allclose(model.probabilities("z"), model.probabilities(""), rtol=1e-12)
    expected = -(math.log2(83 / 96) + math.log2(2 / 48)) / 2  # "abz": b after a, z after b
    assert math.isclose(model.bits_per_char("abz"), expected, rel_tol=1e-12)


def test_kneser_ney_matches_a_hand_computation() -> None:
    # Below the top order, the unigram level counts contexts: a follows 1 character type
    # (b), b follows 1 (a): P1(a) = (1 - 0.5 + 0.5 * 2 * 1/3) / 2 = 5/12 = P1(b),
    # P1(<unseen>) = 1/6. The top (bigram) level counts occurrences:
    # P(b | a) = (2 - 0.5 + 0.5 * 1 * 5/12) / 2 = 41/48.
    model = fit_char_ngram("abab", n=2, smoothing="kneser-ney", discount=0.5)
    np.testing.assert_allclose(model.probabilities("a"), [5 / 48, 41 / 48, 2 / 48], rtol=1e-12)
    np.testing.assert_allclose(model.probabilities("b"), [17 / 24, 5 / 24, 1 / 12], rtol=1e-12)
    # With no context the unigram level is the top order: counts, as for absolute discounting.
    np.testing.assert_allclose(model.probabilities(""), [11 / 24, 11 / 24, 1 / 12], rtol=1e-12)
    expected = -(math.log2(41 / 48) + math.log2(1 / 12)) / 2
    bits = char_ngram_bits_per_char("abab", "abz", n=2, smoothing="kneser-ney")
    assert bits != expected  # the estimated discount is 1/3, not 0.5
    assert math.isclose(model.bits_per_char("abz"), expected, rel_tol=1e-12)


def test_the_discount_is_neys_estimate_by_default() -> None:
    # "abab": unigrams a x2, b x2 (n1 = 0: fall back to 0.5); bigrams ab x2, ba x1 (1 / 3).
    assert fit_char_ngram("abab", n=2, smoothing="absolute").discounts == {1: 0.5, 2: 1 / 3}


@pytest.mark.parametrize("smoothing", SMOOTHINGS)
@pytest.mark.parametrize("n", [1, 2, 3])
def test_probabilities_sum_to_one_after_every_context(smoothing: str, n: int) -> None:
    model = fit_char_ngram(SMALL, n=n, smoothing=smoothing)
    symbols = [*model.alphabet, "#"]  # '#' never occurs in SMALL: the unseen symbol
    assert model.V == len(symbols)
    for length in range(n):
        for context in itertools.product(symbols, repeat=length):
            p = model.probabilities("".join(context))
            assert p.shape == (model.V,) and np.all(p > 0), context
            assert abs(p.sum() - 1) < 1e-12, (context, p.sum())


def test_only_the_last_n_minus_1_characters_count_and_fitting_is_deterministic() -> None:
    model = fit_char_ngram(SMALL, n=3)
    np.testing.assert_array_equal(model.probabilities("xx the"), model.probabilities("he"))
    again = fit_char_ngram(SMALL, n=3)
    np.testing.assert_array_equal(again.probabilities("at"), model.probabilities("at"))
    assert again.bits_per_char("the bat sat.") == model.bits_per_char("the bat sat.")


def test_smoothed_models_beat_add_one_on_the_pydoc_corpus() -> None:
    train, val = train_val_split(load_pydoc_corpus(max_chars=60_000), val_fraction=0.1)
    add_one = min(char_ngram_bits_per_char(train, val, n) for n in (2, 3, 4))
    absolute = char_ngram_bits_per_char(train, val, 5, smoothing="absolute")
    kneser_ney = char_ngram_bits_per_char(train, val, 5, smoothing="kneser-ney")
    assert kneser_ney < absolute < add_one
    assert kneser_ney == fit_char_ngram(train, 5).bits_per_char(val)  # the default smoothing


def test_smoothed_model_errors() -> None:
    with pytest.raises(ValueError, match=r"^fit_char_ngram: smoothing must be one of"):
        fit_char_ngram(SMALL, n=2, smoothing="good-turing")
    for bad in (0, 1.5, -0.1, True, "0.5"):
        with pytest.raises(ValueError, match=r"^fit_char_ngram: discount must be None or"):
            fit_char_ngram(SMALL, n=2, discount=bad)
    with pytest.raises(ValueError, match=r"^fit_char_ngram: train_text has 2 characters"):
        fit_char_ngram("ab", n=3)
    with pytest.raises(ValueError, match=r"^char_ngram_bits_per_char: smoothing must be one"):
        char_ngram_bits_per_char(SMALL, SMALL, n=2, smoothing="kn")
    with pytest.raises(TypeError, match=r"^CharNgramModel.probabilities: context must be a str"):
        fit_char_ngram(SMALL, n=2).probabilities(["a"])
