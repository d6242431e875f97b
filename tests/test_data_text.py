"""Tests for course/data/text.py: vocabulary, tokeniser, batches, corpus and n-gram baseline."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from course.data.paths import DatasetNotFoundError
from course.data.text import (
    END_INDEX,
    NULL_INDEX,
    SPECIAL_TOKENS,
    START_INDEX,
    TOY_SENTENCES,
    UNK_INDEX,
    Vocabulary,
    char_batches,
    char_ngram_bits_per_char,
    load_pydoc_corpus,
    load_text_file,
    make_lm_batch,
    pad_sequences,
    split_sentences,
    tokenize_words,
    train_val_split,
)

COUNTS = {"the": 5, "cat": 3, "sat": 3, "mat": 1, "on": 2, "a": 2}


# -- Vocabulary ---------------------------------------------------------------


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


# -- Tokenisation ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("The cat sat.", ["the", "cat", "sat", "."]),
        ("Isn't it, Bob's?", ["isn't", "it", ",", "bob's", "?"]),
        ("well-known  3.14\n(x)", ["well", "-", "known", "3", ".", "14", "(", "x", ")"]),
        ("\u201cQuoted\u201d don\u2019t", ["\u201c", "quoted", "\u201d", "don't"]),
        ("", []),
    ],
)
def test_tokenize_words(text: str, tokens: list[str]) -> None:
    assert tokenize_words(text) == tokens


def test_split_sentences() -> None:
    text = 'The cat sat.  A dog ran!\nWhy? "Yes." Then e.g. this stays\n\nnew paragraph'
    assert split_sentences(text) == [
        "The cat sat.",
        "A dog ran!",
        "Why?",
        '"Yes."',
        "Then e.g. this stays",
        "new paragraph",
    ]
    assert split_sentences("") == []


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


# -- Corpora -------------------------------------------------------------------


def test_pydoc_corpus_is_deterministic_ascii_prose() -> None:
    text = load_pydoc_corpus()
    assert len(text) > 100_000
    assert text == load_pydoc_corpus()
    assert text.isascii()
    assert all(c == "\n" or c.isprintable() for c in set(text))
    letters = sum(c.isalpha() or c == " " for c in text)
    assert letters / len(text) > 0.7
    lines = text.split("\n")
    assert not any(line.lstrip().startswith(">>>") for line in lines)
    assert "\n\n\n" not in text
    assert "  " not in text
    assert "assert statements are a convenient way" in text.lower()


def test_pydoc_corpus_honours_max_chars() -> None:
    head = load_pydoc_corpus(max_chars=500)
    assert len(head) == 500
    assert load_pydoc_corpus().startswith(head)
    with pytest.raises(ValueError):
        load_pydoc_corpus(max_chars=0)


def test_missing_pydoc_data_says_to_use_load_text_file(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from course.data import text as text_module

    text_module._pydoc_corpus.cache_clear()
    monkeypatch.setitem(sys.modules, "pydoc_data.topics", None)  # import now fails
    try:
        with pytest.raises(DatasetNotFoundError, match="load_text_file"):
            load_pydoc_corpus()
    finally:
        text_module._pydoc_corpus.cache_clear()


def test_load_text_file_reads_utf8(tmp_path: Path) -> None:
    path = tmp_path / "book.txt"
    path.write_bytes("\ufeffCaf\u00e9 one\r\ntwo\n".encode())
    assert load_text_file(path) == "Caf\u00e9 one\ntwo\n"
    assert load_text_file(str(path), max_chars=4) == "Caf\u00e9"


def test_load_text_file_errors_name_the_path_and_the_byte(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        load_text_file(missing)
    bad = tmp_path / "latin1.txt"
    bad.write_bytes(b"abc caf\xe9")
    with pytest.raises(ValueError, match=r"byte 7 \(0xe9\)") as info:
        load_text_file(bad)
    assert "latin1.txt" in str(info.value)
    with pytest.raises(IsADirectoryError):
        load_text_file(tmp_path)


def test_train_val_split_is_contiguous() -> None:
    text = "abcdefghij" * 10
    train, val = train_val_split(text, val_fraction=0.2)
    assert train + val == text
    assert len(val) == 20
    assert train_val_split(text) == (text[:90], text[90:])
    for fraction in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="between 0 and 1"):
            train_val_split(text, fraction)
    with pytest.raises(ValueError, match="too short"):
        train_val_split("abc", 0.1)


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


# -- n-gram baseline ----------------------------------------------------------------


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


def test_toy_sentences() -> None:
    assert len(TOY_SENTENCES) >= 12
    assert "the cat sat on the mat" in TOY_SENTENCES
    assert all(s == s.lower() and tokenize_words(s) == s.split() for s in TOY_SENTENCES)
