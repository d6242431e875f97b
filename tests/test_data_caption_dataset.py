"""Tests for course/data/caption_dataset.py: the caption-scenes dataset and decode_captions."""

from __future__ import annotations

import numpy as np
import pytest

from course.data.caption_dataset import (
    MAX_CAPTION_LENGTH,
    decode_captions,
    load_caption_scenes,
    redraw_captions,
)
from course.data.caption_facts import caption_accuracy
from course.data.caption_grammar import CAPTION_WORDS
from course.data.vocabulary import SPECIAL_TOKENS, Vocabulary


@pytest.fixture(scope="module")
def data() -> dict:
    return load_caption_scenes(num_train=300, num_val=40, num_test=30, seed=1)


def test_every_split_has_images_scenes_captions_and_image_indices(data) -> None:
    for split, n in (("train", 300), ("val", 40), ("test", 30)):
        assert data[f"{split}_images"].shape == (n, 64, 64, 3)
        assert data[f"{split}_images"].dtype == np.uint8
        assert len(data[f"{split}_scenes"]) == n
        assert data[f"{split}_captions"].shape == (5 * n, MAX_CAPTION_LENGTH)
        assert data[f"{split}_captions"].dtype == np.int32
        np.testing.assert_array_equal(data[f"{split}_image_idxs"], np.repeat(np.arange(n), 5))


def test_the_vocabulary_has_the_specials_first_and_every_grammar_word(data) -> None:
    vocab = data["vocab"]
    assert isinstance(vocab, Vocabulary)
    assert data["idx_to_word"][:4] == list(SPECIAL_TOKENS)  # <NULL> <START> <END> <UNK>
    assert set(data["idx_to_word"][4:]) == set(CAPTION_WORDS)
    assert len(vocab) == len(CAPTION_WORDS) + 4
    assert all(data["idx_to_word"][i] == w for w, i in data["word_to_idx"].items())
    counts = vocab.counts
    assert counts[2] == len(data["train_captions"])  # <END> once per caption, for the biases
    assert counts[4:].sum() == (data["train_captions"] > 3).sum()
    assert (np.diff(counts[4:]) <= 0).all()  # most frequent first


def test_rows_are_start_words_end_then_null(data) -> None:
    captions = data["train_captions"]
    assert (captions[:, 0] == 1).all()  # <START>
    for row in captions:
        end = int(np.flatnonzero(row == 2)[0])  # <END>
        assert (row[1:end] > 3).all() and (row[end + 1 :] == 0).all()


def test_decoded_captions_are_true_of_their_scenes_and_differ_per_image(data) -> None:
    for split in ("train", "val", "test"):
        texts = decode_captions(data[f"{split}_captions"], data["idx_to_word"])
        scenes = [data[f"{split}_scenes"][i] for i in data[f"{split}_image_idxs"]]
        assert caption_accuracy(texts, scenes)["exact"] == 1.0
        assert all(len(set(texts[i : i + 5])) == 5 for i in range(0, len(texts), 5))


def test_redrawn_captions_are_new_true_captions_of_the_same_scenes(data) -> None:
    captions, image_idxs = redraw_captions(data, draw=1, seed=1)
    assert captions.shape == data["train_captions"].shape and captions.dtype == np.int32
    np.testing.assert_array_equal(image_idxs, data["train_image_idxs"])
    texts = decode_captions(captions, data["vocab"])
    scenes = [data["train_scenes"][i] for i in image_idxs]
    assert caption_accuracy(texts, scenes)["exact"] == 1.0
    assert all(len(set(texts[i : i + 5])) == 5 for i in range(0, len(texts), 5))
    old = decode_captions(data["train_captions"], data["vocab"])
    assert np.mean([a != b for a, b in zip(texts, old, strict=True)]) > 0.8  # mostly new
    # The same draw again is the same; another draw differs; draw 0 is the dataset's own.
    again, _ = redraw_captions(data, draw=1, seed=1)
    np.testing.assert_array_equal(again, captions)
    assert not np.array_equal(redraw_captions(data, draw=2, seed=1)[0], captions)
    np.testing.assert_array_equal(redraw_captions(data, draw=0, seed=1)[0], data["train_captions"])
    np.testing.assert_array_equal(
        redraw_captions(data, draw=0, split="val", seed=1)[0], data["val_captions"]
    )
    with pytest.raises(ValueError, match="redraw_captions: split must be one of"):
        redraw_captions(data, draw=1, split="validation")
    with pytest.raises(ValueError, match="redraw_captions: draw"):
        redraw_captions(data, draw=-1)


def test_the_same_arguments_give_the_same_data_and_val_ignores_num_train(data) -> None:
    again = load_caption_scenes(num_train=300, num_val=40, num_test=30, seed=1)
    assert again["train_images"].tobytes() == data["train_images"].tobytes()
    np.testing.assert_array_equal(again["test_captions"], data["test_captions"])
    other = load_caption_scenes(num_train=20, num_val=40, num_test=0, seed=1)
    assert other["val_images"].tobytes() == data["val_images"].tobytes()
    assert decode_captions(other["val_captions"], other["vocab"]) == decode_captions(
        data["val_captions"], data["vocab"]
    )
    assert other["test_captions"].shape == (0, MAX_CAPTION_LENGTH)


def test_captions_per_scene_and_max_length_shape_the_arrays() -> None:
    small = load_caption_scenes(
        num_train=10, num_val=0, num_test=0, captions_per_scene=2, max_length=15
    )
    assert small["train_captions"].shape == (20, 15)
    assert len(small["vocab"]) == len(CAPTION_WORDS) + 4  # unseen words kept, with count 0
    np.testing.assert_array_equal(small["train_image_idxs"], np.repeat(np.arange(10), 2))


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"num_train": 0}, ValueError, "num_train must be a positive integer"),
        ({"num_val": -1}, ValueError, "num_val must be a non-negative integer"),
        ({"seed": 1.5}, TypeError, "seed must be an integer"),
        ({"captions_per_scene": 8}, ValueError, "only 7 different true captions"),
        ({"max_length": 5}, ValueError, "max_length=5 is too short"),
    ],
)
def test_load_refuses_bad_arguments(kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        load_caption_scenes(**{"num_train": 50, "num_val": 0, "num_test": 0, **kwargs})


def test_decode_strips_start_null_and_stops_at_end_but_keeps_unk() -> None:
    words = ["<NULL>", "<START>", "<END>", "<UNK>", "a", "circle"]
    assert decode_captions(np.array([1, 4, 5, 2, 4, 0]), words) == "a circle"
    rows = np.array([[1, 4, 3, 2, 0], [1, 4, 5, 5, 5]])  # the second never ends
    assert decode_captions(rows, words) == ["a <UNK>", "a circle circle circle"]
    assert decode_captions(np.zeros((0, 4), dtype=np.int64), words) == []


@pytest.mark.parametrize(
    ("captions", "idx_to_word", "error", "message"),
    [
        (np.array([1.0, 2.0]), ["<NULL>", "<START>", "<END>"], TypeError, "integer word indices"),
        (
            np.zeros((1, 2, 3), dtype=int),
            ["<NULL>"],
            ValueError,
            "expected \\(N, T\\) or \\(T,\\)",
        ),
        (np.array([0, 7]), ["<NULL>", "<START>", "<END>"], ValueError, "must lie in \\[0, 3\\)"),
        (np.array([0]), "<NULL>", TypeError, "idx_to_word must be a list of str"),
    ],
)
def test_decode_refuses_bad_inputs(captions, idx_to_word, error, message) -> None:
    with pytest.raises(error, match=message):
        decode_captions(captions, idx_to_word)
