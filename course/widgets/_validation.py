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
from course.viz._validation import require_vis_model

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


# ---------------------------------------------------------------------------
# The ConvNet widgets (filter, activation, neuron and saliency browsers; training monitor)
# ---------------------------------------------------------------------------

SHAPES_INPUT = (3, 32, 32)  # what the Shapes-10 images are, as model inputs (C, H, W)
MAX_IMAGES = 5000  # Shapes-10 images a browser generates at most (about 0.1 ms each)
MAX_NEURON_IMAGES = 2000  # images whose maps the neuron browser keeps (conv1: 64 KB each)
MAX_PATCHES = 16  # the most top-activating patches the neuron browser shows


def require_widget_model(func: str, model: object, shapes: bool = True) -> object:
    """``model`` if it is None (the shipped one) or a TinyVGG-like model with input gradients.

    With ``shapes``, the model must also take Shapes-10 images (3, 32, 32) and
    score the ten classes, since the widget shows it Shapes-10 images.
    """
    if model is None:
        return None
    require_vis_model(func, model, gradient=True)
    if shapes and (tuple(model.input_dim) != SHAPES_INPUT or model.num_classes != 10):
        raise ValueError(
            f"{func}: model takes {tuple(model.input_dim)} inputs and scores "
            f"{model.num_classes} classes; this widget shows Shapes-10 images, so it needs "
            f"{SHAPES_INPUT} inputs and 10 classes, as course.models.load_pretrained() has"
        )
    return model


def validate_image_source(
    func: str, count: object, seed: object, most: int = MAX_IMAGES
) -> tuple[int, int]:
    """Check how many Shapes-10 test images a widget browses and their seed; return both."""
    count = require_positive_int(func, "count", count)
    if count > most:
        raise ValueError(f"{func}: count={count} images; browse at most {most}")
    seed = require_positive_int(func, "seed", seed, allow_zero=True)
    return count, seed


def require_patch_count(func: str, k: object) -> int:
    """The number k of top-activating patches shown: 1 to MAX_PATCHES."""
    k = require_positive_int(func, "k", k)
    if k > MAX_PATCHES:
        raise ValueError(f"{func}: k={k} patches; the browser shows 1 to {MAX_PATCHES}")
    return k


def require_choice(func: str, name: str, value: object, choices: Sequence[object]) -> object:
    """``value`` if it is one of ``choices``, else a ValueError listing them."""
    if value not in tuple(choices):
        raise ValueError(f"{func}: {name} must be one of {tuple(choices)}, got {value!r}")
    return value


def require_seconds(func: str, name: str, value: object) -> float:
    """A finite number of seconds >= 0 (0: every time)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{func}: {name} must be a number of seconds, got {type(value).__name__}")
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{func}: {name} must be a finite number of seconds >= 0, got {value}")
    return float(value)
