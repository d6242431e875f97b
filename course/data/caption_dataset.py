"""The caption-scenes dataset, ready for a captioning model, in the CS231n COCO style.

``load_caption_scenes`` makes train, val and test splits of caption scenes
(:mod:`course.data.caption_scenes`), draws several different true captions
of every scene (:mod:`course.data.caption_grammar`), builds a ``Vocabulary``
of the grammar's words, ordered and counted on the training captions, and
encodes every caption as a padded row of word indices, like the arrays of the
CS231n COCO captioning release (``load_coco_data``)::

    data = load_caption_scenes(num_train=2000)
    data["train_captions"][0]  # e.g. <START> a red circle left of a blue square <END> <NULL>
    data["train_image_idxs"][0]  # 0, the image of caption row 0
    decode_captions(data["train_captions"][:2], data["idx_to_word"])
    # e.g. ["a red circle left of a blue square", "two shapes"]

Score a model's captions with ``caption_accuracy(captions, scenes)`` from
:mod:`course.data.caption_facts`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from course.data._caption_validation import validate_caption_dataset, validate_index_captions
from course.data.batches import pad_sequences
from course.data.caption_grammar import CAPTION_WORDS, MAX_CAPTION_WORDS, true_captions
from course.data.caption_scenes import generate_caption_scenes
from course.data.vocabulary import END_TOKEN, NULL_TOKEN, START_TOKEN, Vocabulary
from course.validation import require_positive_int

__all__ = ["MAX_CAPTION_LENGTH", "decode_captions", "load_caption_scenes", "redraw_captions"]

# Tokens in a caption row by default: the longest caption of the grammar, <START> and <END>.
MAX_CAPTION_LENGTH = MAX_CAPTION_WORDS + 2
_CAPTION_CHUNK = 250  # scenes whose captions come from one independently seeded generator
_SPLITS = ("train", "val", "test")


def _scene_captions(
    scenes, seed: int, stream: int, per_scene: int, draw: int = 0
) -> list[list[str]]:
    """``per_scene`` different true captions of every scene, as lists of words.

    Scene i's captions come from a generator seeded by (seed, stream, chunk of
    i, 1 + draw), so they do not depend on how many scenes follow it; draw 0
    is the dataset's own captions, each other draw a new set.
    """
    captions = []
    for index, start in enumerate(range(0, len(scenes), _CAPTION_CHUNK)):
        rng = np.random.default_rng([seed, stream, index, 1 + draw])
        for scene in scenes[start : start + _CAPTION_CHUNK]:
            captions.extend(text.split() for text in true_captions(scene, rng, per_scene))
    return captions


def _caption_vocabulary(train_words: list[list[str]]) -> Vocabulary:
    """Every word of the grammar, most frequent in ``train_words`` first, with its counts.

    ``<END>`` counts once per caption (it is a word the model predicts), so
    ``vocab.log_frequencies()`` gives sensible initial softmax biases; a word
    of the grammar missing from a small training set is kept with count 0,
    so that no val or test word is ``<UNK>``.
    """
    counts = Counter(word for words in train_words for word in words)
    ranked = sorted(CAPTION_WORDS, key=lambda word: (-counts[word], word))
    return Vocabulary(ranked, {**counts, END_TOKEN: len(train_words)})


def load_caption_scenes(
    num_train: int = 10000,
    num_val: int = 500,
    num_test: int = 1000,
    seed: int = 0,
    captions_per_scene: int = 5,
    max_length: int | None = None,
) -> dict[str, object]:
    """Make the caption-scenes dataset: images, scenes, integer captions and the vocabulary.

    The splits come from independent streams of one seed (train 0, val 1,
    test 2), so they never share a scene, and val and test stay the same
    whatever ``num_train`` is. Every scene gets ``captions_per_scene``
    *different* true captions.

    Inputs
    ------
    num_train : int, N_train >= 1 training scenes
    num_val, num_test : int, >= 0 validation and test scenes
    seed : int, non-negative; the same arguments give identical data
    captions_per_scene : int, from 1 to 7 (a one-object scene has only 7 true captions)
    max_length : int or None
        T, the width of a caption row, ``<START>`` and ``<END>`` included;
        None means ``MAX_CAPTION_LENGTH`` (12), enough for every caption of the grammar.

    Returns
    -------
    data : dict, for each split in 'train', 'val', 'test' (N scenes, M = N * captions_per_scene):
        ``'{split}_images'`` (N, 64, 64, 3) uint8 RGB images;
        ``'{split}_scenes'`` list of N CaptionScene, what image i shows;
        ``'{split}_captions'`` (M, T) int32 word indices, each row
        ``<START> w1 ... wn <END> <NULL> ...``; a scene's captions are consecutive rows;
        ``'{split}_image_idxs'`` (M,) int32, the image each caption row describes;
        and ``'vocab'``, the Vocabulary: ``<NULL>`` 0, ``<START>`` 1, ``<END>`` 2,
        ``<UNK>`` 3, then every word of the grammar (``CAPTION_WORDS``, V = 44)
        by its frequency in the training captions, with those counts
        (``<END>`` once per caption) for ``vocab.log_frequencies()``;
        ``'word_to_idx'`` dict str -> int and ``'idx_to_word'`` list of V str.
    """
    func = "load_caption_scenes"
    sizes, seed, per_scene, max_length = validate_caption_dataset(
        func, num_train, num_val, num_test, seed, captions_per_scene, max_length
    )
    width = MAX_CAPTION_LENGTH if max_length is None else max_length

    data: dict[str, object] = {}
    words: dict[str, list[list[str]]] = {}
    for stream, (split, count) in enumerate(zip(_SPLITS, sizes, strict=True)):
        images, scenes = generate_caption_scenes(count, seed, stream=stream)
        data[f"{split}_images"], data[f"{split}_scenes"] = images, scenes
        words[split] = _scene_captions(scenes, seed, stream, per_scene)
        image_idxs = np.repeat(np.arange(count, dtype=np.int32), per_scene)  # (M,)
        data[f"{split}_image_idxs"] = image_idxs

    longest = max(len(w) for split in _SPLITS for w in words[split]) + 2
    if longest > width:
        raise ValueError(
            f"{func}: max_length={width} is too short: the longest caption needs {longest} "
            f"tokens with <START> and <END>; pass max_length >= {longest} or None"
        )
    vocab = _caption_vocabulary(words["train"])
    for split in _SPLITS:
        data[f"{split}_captions"] = _encode(words[split], vocab, width)
    data["vocab"] = vocab
    data["idx_to_word"] = list(vocab.tokens)
    data["word_to_idx"] = {word: i for i, word in enumerate(vocab.tokens)}
    return data


def _encode(words: list[list[str]], vocab: Vocabulary, width: int) -> np.ndarray:
    """Captions as word lists -> (M, width) int32 rows ``<START> ... <END> <NULL> ...``."""
    rows = [vocab.encode(w, add_start=True, add_end=True) for w in words]
    if not rows:
        return np.zeros((0, width), dtype=np.int32)
    captions, _ = pad_sequences(rows, max_length=width)  # (M, T) int64
    return captions.astype(np.int32)


def redraw_captions(
    data: dict[str, object], draw: int, split: str = "train", seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """New true captions of a split's scenes, encoded like the dataset's own.

    A model that matches images and sentences can see new sentences of the
    same training images every epoch, as an image model sees new crops: the
    grammar has dozens of true captions of most scenes, and the dataset
    keeps five. Each ``draw`` (>= 1) is a different set, the same for the
    same arguments; draw 0 gives back the dataset's own captions.

    Inputs
    ------
    data : dict from ``load_caption_scenes`` (its scenes, vocabulary and caption width)
    draw : int >= 0, which set
    split : 'train', 'val' or 'test'
    seed : int, the ``seed`` that ``data`` was made with

    Returns
    -------
    captions : (M, T) int32, as ``data[f'{split}_captions']``, the same number
        per scene and consecutive rows per scene
    image_idxs : (M,) int32, the scene of each row (``data[f'{split}_image_idxs']``)
    """
    func = "redraw_captions"
    if split not in _SPLITS:
        raise ValueError(f"{func}: split must be one of {_SPLITS}, got {split!r}")
    draw = require_positive_int(func, "draw", draw, allow_zero=True)
    scenes, image_idxs = data[f"{split}_scenes"], data[f"{split}_image_idxs"]
    per_scene = len(image_idxs) // max(len(scenes), 1)
    width = data[f"{split}_captions"].shape[1]
    words = _scene_captions(scenes, seed, _SPLITS.index(split), per_scene, draw)
    return _encode(words, data["vocab"], width), image_idxs


def decode_captions(
    captions: np.ndarray, idx_to_word: Sequence[str] | Vocabulary
) -> list[str] | str:
    """Turn rows of word indices back into caption strings (CS231n's ``decode_captions``).

    Each row is read up to its first ``<END>``; ``<NULL>`` and ``<START>`` are
    dropped, and ``<UNK>`` is kept.

    Inputs
    ------
    captions : (N, T) or (T,) integer array of word indices
    idx_to_word : list of V str (``data['idx_to_word']``) or a Vocabulary

    Returns
    -------
    texts : list of N str, words joined by single spaces; one str for a (T,) input
    """
    array, tokens = validate_index_captions("decode_captions", captions, idx_to_word)
    texts = []
    for row in np.atleast_2d(array).tolist():
        row_words = []
        for index in row:
            word = tokens[index]
            if word == END_TOKEN:
                break
            if word not in (NULL_TOKEN, START_TOKEN):
                row_words.append(word)
        texts.append(" ".join(row_words))
    return texts[0] if array.ndim == 1 else texts
