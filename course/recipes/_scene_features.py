"""The caption scenes as features for the captioner and the ranker: one computation, cached.

Both recipes draw the scenes their :class:`SceneSettings` describe, read them
through the pretrained TinyVGG's conv trunk
(:func:`course.models.cached_grid_features`) and standardise every feature
with the training split's mean and deviation, which :func:`save_scene_model`
saves beside their weights so that new images are read the same way.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from course.artefacts import save_arrays_and_record
from course.data import load_caption_scenes
from course.models import TinyVGG, cached_grid_features, load_pretrained
from course.models.pretrained import pretrained_info

FEATURE_NET = "tinyvgg-shapes"
STD_FLOOR = 1e-3  # added to every deviation: a feature that never varies stays finite


@dataclass(frozen=True)
class SceneSettings:
    """The caption scenes a recipe trains on, and how they become features.

    Features: the pretrained TinyVGG's pool layers (``feature_layers``)
    max-pooled onto a ``grid`` x ``grid`` layout ((16 + 32 + 64) channels x 16
    cells = 1792 numbers per scene), standardised with the training scenes'
    mean and deviation. The first pool keeps the colours that the last one,
    trained to name shapes whatever their colour, has mostly let go.
    """

    num_train: int = 10_000
    num_val: int = 500
    num_test: int = 1_000
    grid: int = 4
    feature_layers: tuple[str, ...] = ("pool1", "pool2", "pool3")
    seed: int = 0


def scenes_and_features(
    settings: SceneSettings, verbose: bool
) -> tuple[dict, dict[str, np.ndarray], np.ndarray, np.ndarray, TinyVGG, float]:
    """The scenes of ``settings`` (``load_caption_scenes``) and their standardised features.

    Returns ``(data, features, mean, std, feature_net, seconds)``: features
    maps 'train', 'val', 'test' to float32 (N, D) arrays; mean and std (D,)
    are the training split's; seconds is the time the features took (short
    when cached).
    """
    data = load_caption_scenes(
        settings.num_train, settings.num_val, settings.num_test, settings.seed
    )
    feature_net = load_pretrained(FEATURE_NET)
    start = time.perf_counter()
    raw = {
        split: cached_grid_features(
            feature_net,
            data[f"{split}_images"],
            grid=settings.grid,
            verbose=verbose,
            layers=settings.feature_layers,
        )
        for split in ("train", "val", "test")
    }
    seconds = time.perf_counter() - start
    mean = raw["train"].mean(axis=0)
    std = raw["train"].std(axis=0) + STD_FLOOR
    features = {split: ((f - mean) / std).astype(np.float32) for split, f in raw.items()}
    return data, features, mean, std, feature_net, seconds


def feature_record(settings: SceneSettings) -> dict[str, Any]:
    """What a saved model records of its features: net, its weights' SHA-256, grid, layers."""
    return {
        "net": FEATURE_NET,
        "net_sha256": pretrained_info(FEATURE_NET).get("arrays_sha256"),
        "grid": settings.grid,
        "layers": list(settings.feature_layers),
    }


def save_scene_model(
    out: str | Path,
    name: str,
    params: Mapping[str, np.ndarray],
    mean: np.ndarray,
    std: np.ndarray,
    record: Mapping[str, Any],
    overwrite: bool,
    compressed: bool = False,
) -> tuple[Path, Path]:
    """Save ``out/NAME.json`` and ``out/NAME.npz`` (params/..., feature_mean, feature_std)."""
    arrays = {f"params/{k}": v for k, v in params.items()}
    arrays["feature_mean"], arrays["feature_std"] = mean, std
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    return save_arrays_and_record(
        folder / f"{name}.npz", arrays, folder / f"{name}.json", record, overwrite, compressed
    )
