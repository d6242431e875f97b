"""Tests for course/data/corpus.py: the toy sentences, the tokeniser and the English corpora."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from course.data.corpus import (
    TOY_SENTENCES,
    load_pydoc_corpus,
    load_text_file,
    split_sentences,
    tokenize_words,
    train_val_split,
)
from course.data.paths import DatasetNotFoundError

# -- Toy sentences ---------------------------------------------------------------


def test_toy_sentences() -> None:
    assert len(TOY_SENTENCES) >= 12
    assert "the cat sat on the mat" in TOY_SENTENCES
    assert all(s == s.lower() and tokenize_words(s) == s.split() for s in TOY_SENTENCES)


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

    from course.data import corpus as corpus_module

    corpus_module._pydoc_corpus.cache_clear()
    monkeypatch.setitem(sys.modules, "pydoc_data.topics", None)  # import now fails
    try:
        with pytest.raises(DatasetNotFoundError, match="load_text_file"):
            load_pydoc_corpus()
    finally:
        corpus_module._pydoc_corpus.cache_clear()


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


def test_load_text_file_on_a_folder_says_to_pass_one_file(tmp_path: Path) -> None:
    message = f"load_text_file: {tmp_path} is a folder; expected one UTF-8 text file"
    with pytest.raises(IsADirectoryError, match=re.escape(message)):
        load_text_file(tmp_path)
