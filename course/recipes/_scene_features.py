"""The caption scenes as features for the captioner and the ranker: one computation, cached.

Both recipes read the scenes through the pretrained TinyVGG's conv trunk
(:func:`course.models.cached_grid_features`) and standardise every feature
with the training split's mean and deviation, which they save beside their
weights so that new images are read the same way.
"""

from __future__ import annotations

import time

import numpy as np

from course.models import TinyVGG, cached_grid_features, load_pretrained

FEATURE_NET = "tinyvgg-shapes"
STD_FLOOR = 1e-3  # added to every deviation: a feature that never varies stays finite


def scene_features(
    data: dict, grid: int, layers: tuple[str, ...], verbose: bool
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, TinyVGG, float]:
    """Standardised features of every split of a ``load_caption_scenes`` dict.

    Returns ``(features, mean, std, feature_net, seconds)``: features maps
    'train', 'val', 'test' to float32 (N, D) arrays; mean and std (D,) are the
    training split's; seconds is the time the features took (short when cached).
    """
    feature_net = load_pretrained(FEATURE_NET)
    start = time.perf_counter()
    raw = {
        split: cached_grid_features(
            feature_net, data[f"{split}_images"], grid=grid, verbose=verbose, layers=layers
        )
        for split in ("train", "val", "test")
    }
    seconds = time.perf_counter() - start
    mean = raw["train"].mean(axis=0)
    std = raw["train"].std(axis=0) + STD_FLOOR
    features = {split: ((f - mean) / std).astype(np.float32) for split, f in raw.items()}
    return features, mean, std, feature_net, seconds
