"""Input validators of the captioning data (caption scenes, their captions, COCO).

Each public function of :mod:`course.data.caption_grammar`,
:mod:`course.data.caption_facts`, :mod:`course.data.caption_dataset` and
:mod:`course.data.coco` makes one call here before its work. Each validator
returns the checked values or raises an error saying what was expected, what
was given and, where there is one, what to do.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course.data.caption_scenes import CaptionScene
from course.data.vocabulary import Vocabulary
from course.validation import require_positive_int

MOST_CAPTIONS = 7  # a one-object scene has exactly 7 different true captions


def require_scene(func: str, scene: object) -> CaptionScene:
    """Return ``scene`` if it is a CaptionScene, else raise TypeError."""
    if not isinstance(scene, CaptionScene):
        raise TypeError(f"{func}: scene must be a CaptionScene, got {type(scene).__name__}")
    return scene


def validate_caption_request(func: str, scene: object, rng: object, count: object) -> int:
    """Check the arguments of ``true_captions``; return ``count`` as an int."""
    require_scene(func, scene)
    if not scene.objects:
        raise ValueError(f"{func}: the scene has no objects; there is nothing to describe")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{func}: rng must be a numpy Generator (np.random.default_rng(seed)), got {rng!r}"
        )
    return require_positive_int(func, "count", count)


def validate_scored_captions(func: str, captions: object, scenes: object) -> None:
    """Check that ``captions`` and ``scenes`` are equally long, non-empty lists."""
    if isinstance(captions, str) or not isinstance(captions, Sequence):
        raise TypeError(f"{func}: captions must be a list of str, got {type(captions).__name__}")
    if isinstance(scenes, CaptionScene) or not isinstance(scenes, Sequence):
        raise TypeError(
            f"{func}: scenes must be a list of CaptionScene, got {type(scenes).__name__}"
        )
    if len(captions) != len(scenes):
        raise ValueError(
            f"{func}: {len(captions)} captions for {len(scenes)} scenes; caption i must "
            "describe scene i (repeat the scenes for several captions per image)"
        )
    if not captions:
        raise ValueError(f"{func}: no captions to score")


def validate_caption_dataset(
    func: str,
    num_train: object,
    num_val: object,
    num_test: object,
    seed: object,
    captions_per_scene: object,
    max_length: object,
) -> tuple[tuple[int, int, int], int, int, int | None]:
    """Check the arguments of ``load_caption_scenes``.

    Returns ``(num_train, num_val, num_test)``, ``seed``, ``captions_per_scene``
    and ``max_length`` (None or an int), all as ints.
    """
    sizes = (
        require_positive_int(func, "num_train", num_train),
        require_positive_int(func, "num_val", num_val, allow_zero=True),
        require_positive_int(func, "num_test", num_test, allow_zero=True),
    )
    seed = require_positive_int(func, "seed", seed, allow_zero=True)
    per_scene = require_positive_int(func, "captions_per_scene", captions_per_scene)
    if per_scene > MOST_CAPTIONS:
        raise ValueError(
            f"{func}: captions_per_scene={per_scene}, but a one-object scene has only "
            f"{MOST_CAPTIONS} different true captions; ask for at most {MOST_CAPTIONS}"
        )
    if max_length is not None:
        max_length = require_positive_int(func, "max_length", max_length)
    return sizes, seed, per_scene, max_length


def validate_index_captions(
    func: str, captions: object, idx_to_word: object
) -> tuple[np.ndarray, Sequence[str]]:
    """Check (N, T) or (T,) integer captions against a vocabulary; return (array, words)."""
    words = idx_to_word.tokens if isinstance(idx_to_word, Vocabulary) else idx_to_word
    if isinstance(words, str) or not isinstance(words, Sequence):
        raise TypeError(
            f"{func}: idx_to_word must be a list of str (data['idx_to_word']) or a "
            f"Vocabulary, got {type(idx_to_word).__name__}"
        )
    array = np.asarray(captions)
    if array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{func}: captions must be integer word indices, got dtype {array.dtype}")
    if array.ndim not in (1, 2):
        raise ValueError(f"{func}: captions has shape {array.shape}; expected (N, T) or (T,)")
    if array.size and (array.min() < 0 or array.max() >= len(words)):
        raise ValueError(
            f"{func}: indices must lie in [0, {len(words)}) for {len(words)} words; "
            f"got values from {array.min()} to {array.max()}"
        )
    return array, words


def validate_coco_arguments(
    func: str, max_train: object, pca_features: object, seed: object
) -> tuple[int | None, bool, int]:
    """Check the arguments of ``load_coco_data``; return them (ints and a bool)."""
    if max_train is not None:
        max_train = require_positive_int(func, "max_train", max_train)
    if not isinstance(pca_features, bool):
        raise TypeError(f"{func}: pca_features must be True or False, got {pca_features!r}")
    return max_train, pca_features, require_positive_int(func, "seed", seed, allow_zero=True)
