"""Input validators of the widgets: each returns the checked value or raises a clear error.

Each public function and constructor of :mod:`course.widgets.caption_browser`
makes one call here before its work. Messages say what was expected, what
was given and, where there is one, what to do (convention 6 of STYLE.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course.data._caption_validation import require_scene
from course.data.caption_scenes import SCENE_SIZE
from course.recipes.caption_pipeline import Captioner
from course.validation import require_positive_int

SPLITS = ("train", "val", "test")
MAX_BEAM_WIDTH = 10  # the widest beam the browser's slider offers
MAX_BROWSED = 5000  # split scenes the browser loads at most (features take ~25 ms each)


def require_captioner(func: str, captioner: object) -> Captioner:
    """Return ``captioner`` if it is a Captioner, else a TypeError saying how to get one."""
    if not isinstance(captioner, Captioner):
        raise TypeError(
            f"{func}: captioner must be a Captioner, got {type(captioner).__name__}; load the "
            "shipped one with course.recipes.caption_pipeline.load_captioner()"
        )
    return captioner


def require_scene_image(func: str, image: object) -> np.ndarray:
    """Return ``image`` if it is one uint8 RGB scene (64, 64, 3), else a clear error."""
    expected = f"({SCENE_SIZE}, {SCENE_SIZE}, 3)"
    if not isinstance(image, np.ndarray):
        raise TypeError(
            f"{func}: image must be a numpy array {expected} of uint8, got {type(image).__name__}"
        )
    if image.dtype != np.uint8:
        raise TypeError(
            f"{func}: image has dtype {image.dtype}; expected uint8 RGB {expected}, as "
            "generate_caption_scenes and read_scene_image make them"
        )
    if image.shape != (SCENE_SIZE, SCENE_SIZE, 3):
        hint = " (one image, not a batch: pass images[i])" if image.ndim == 4 else ""
        raise ValueError(f"{func}: image has shape {image.shape}; expected {expected}{hint}")
    return image


def validate_description(
    func: str,
    captioner: object,
    image: object,
    scene: object,
    beam_width: object,
    references: object,
    features: object,
) -> tuple[np.ndarray, int, tuple[str, ...] | None, np.ndarray | None]:
    """Check the arguments of ``describe_scene``; return (image, k, references, features)."""
    require_captioner(func, captioner)
    image = require_scene_image(func, image)
    if scene is not None:
        require_scene(func, scene)
    beam_width = require_positive_int(func, "beam_width", beam_width)
    if references is not None:
        if isinstance(references, str) or not isinstance(references, Sequence):
            raise TypeError(
                f"{func}: references must be a list of caption strings, got "
                f"{type(references).__name__}"
            )
        if not all(isinstance(text, str) for text in references):
            raise TypeError(f"{func}: references must hold only str (caption text)")
        references = tuple(references)
    if features is not None:
        D = captioner.model.input_dim
        if not isinstance(features, np.ndarray) or features.shape != (D,):
            got = getattr(features, "shape", type(features).__name__)
            raise ValueError(
                f"{func}: features must be the (D,) = ({D},) features of this image, as "
                f"captioner.features(image[None])[0] gives them; got {got}"
            )
    return image, beam_width, references, features


def validate_browser(
    func: str, captioner: object, split: object, count: object, seed: object, beam_width: object
) -> tuple[str, int, int, int]:
    """Check the arguments of ``CaptionBrowser``; return (split, count, seed, beam_width)."""
    if captioner is not None:
        require_captioner(func, captioner)
    if split not in SPLITS:
        raise ValueError(f"{func}: split must be one of {SPLITS}, got {split!r}")
    count = require_positive_int(func, "count", count)
    if count > MAX_BROWSED:
        raise ValueError(
            f"{func}: count={count} scenes: their features would take about "
            f"{count * 0.025 / 60:.0f} minutes to compute; browse at most {MAX_BROWSED}"
        )
    seed = require_positive_int(func, "seed", seed, allow_zero=True)
    beam_width = require_positive_int(func, "beam_width", beam_width)
    if beam_width > MAX_BEAM_WIDTH:
        raise ValueError(
            f"{func}: beam_width={beam_width}; the browser offers beams of 1 to {MAX_BEAM_WIDTH}"
        )
    return split, count, seed, beam_width
