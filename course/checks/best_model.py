"""The open-ended "best model" task: a saved Shapes-10 classifier, scored by its accuracy.

The student trains any course classifier on Shapes-10 and saves it with
:func:`course.models.save_model` (one ``.npz`` of data). In the notebook,
:func:`check_best_model` loads that file as the grader will, evaluates it on
the Shapes-10 validation split (``load_shapes(seed=0)``'s 1,000 validation
images) and prints its accuracy and the points it would earn. The grader
instead evaluates the same file on a hidden Shapes-10 test set that it
generates afresh from a seed the notebook never sees
(:func:`hidden_test_set`), and awards :func:`best_model_points`.

The task is a model trained from its random initialisation: the shipped
pretrained TinyVGG, unchanged or fine-tuned, is refused (see
:func:`shipped_weight_distances`: its weights stay within half of their own
training's movement when fine-tuned; a net trained from scratch lies at
about 1 from the shipped weights or further). A model may cost at most
``MAX_MULTIPLY_ADDS`` per image, so that grading stays quick.

Points are a documented function of accuracy (see :func:`best_model_points`):
nothing below ``ZERO_POINTS_BELOW`` (50%: five times chance on ten
classes), then linear up to full points at ``FULL_POINTS_AT`` (90%), rounded
to 0.1. For scale, measured on the validation split: the shipped pretrained
TinyVGG (``course train tinyvgg``: 4 epochs of 40,000 images, about 7
minutes on two cores) reaches 93.7%, while a ThreeLayerConvNet trained with
Adam for 4 epochs of 10,000 images (a minute or two) stays near chance (15%),
as does a two-stage TinyVGG after 600 iterations: Shapes-10 takes real
training, which is what the task rewards.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import numpy as np

from course.artefacts import ArtefactError
from course.checks.core import CheckFailed
from course.data.shapes import generate_shapes, to_nchw_float
from course.models.saved import load_model, predict

__all__ = [
    "FULL_POINTS_AT",
    "ZERO_POINTS_BELOW",
    "best_model_points",
    "check_best_model",
    "evaluate_saved_model",
    "hidden_test_set",
    "multiply_adds",
    "shipped_weight_distances",
    "validation_set",
]

ZERO_POINTS_BELOW = 0.50  # accuracy below which the model earns nothing (chance is 0.10)
FULL_POINTS_AT = 0.90  # accuracy from which it earns every point
INPUT_SHAPE = (3, 32, 32)
NUM_CLASSES = 10
NUM_VAL = 1000  # load_shapes's default validation split (seed 0, stream 1)
NUM_HIDDEN = 2000  # images in the grader's hidden test set
DERIVED_DISTANCE = 0.5  # in units of the shipped weights' own training movement
DERIVED_MIN_ARRAYS = 2  # weight arrays that near make a model derived from the shipped one
MAX_MULTIPLY_ADDS = 100_000_000  # per image: 10 times the pretrained TinyVGG's ~10 M
HIDDEN_STREAM = 3  # load_shapes uses streams 0-2; the hidden set draws from its own seed anyway


def best_model_points(accuracy: float, possible: float = 10) -> float:
    """Points for a classifier of the given accuracy: 0 below 50%, linear to ``possible`` at 90%.

    points = possible * clip((accuracy - 0.5) / (0.9 - 0.5), 0, 1), rounded to 0.1;
    so 50% earns 0, 70% half, 90% or more everything. Monotone in accuracy.

    Inputs:
    - accuracy: the fraction of images classified correctly, in [0, 1]
    - possible: the points the task is worth (>= 0)
    """
    if not 0 <= accuracy <= 1 or possible < 0:
        raise ValueError(
            f"best_model_points: accuracy must be in [0, 1] and possible >= 0; "
            f"got {accuracy!r} and {possible!r}"
        )
    fraction = (accuracy - ZERO_POINTS_BELOW) / (FULL_POINTS_AT - ZERO_POINTS_BELOW)
    return round(possible * min(max(fraction, 0.0), 1.0), 1)


def validation_set(num_images: int = NUM_VAL) -> tuple[np.ndarray, np.ndarray]:
    """Shapes-10's validation split as [0, 1] images (N, 3, 32, 32) float32 and labels (N,).

    These are the images of ``load_shapes(seed=0)['X_val']`` before the mean
    is subtracted (the saved model's own mean image is subtracted instead).
    """
    images, labels = generate_shapes(num_images, 0, stream=1)
    return to_nchw_float(images), labels


def hidden_test_set(seed: int, num_images: int = NUM_HIDDEN) -> tuple[np.ndarray, np.ndarray]:
    """A fresh Shapes-10 test set from the grader's ``seed``: images (N, 3, 32, 32), labels."""
    images, labels = generate_shapes(num_images, seed, stream=HIDDEN_STREAM)
    return to_nchw_float(images), labels


def evaluate_saved_model(
    path: str | os.PathLike, images: np.ndarray, labels: np.ndarray
) -> tuple[float, Any]:
    """Load a saved model safely, require Shapes-10's shapes, return (accuracy, model).

    Raises FileNotFoundError for a missing file and ValueError (an
    ArtefactError, or a model of the wrong input or output size) naming the
    problem.
    """
    model = load_model(path)
    _require_shapes_model(Path(path), model)
    predicted = predict(model, images)  # (N,)
    return float(np.mean(predicted == labels)), model


def check_best_model(path: str | os.PathLike = "best_model.npz", possible: float = 10) -> None:
    """Load the saved model at ``path``, evaluate it on the validation split, print its points.

    Prints one line: ``OK best_model: <class> validation accuracy 91.3% -> 10 / 10 points
    if the hidden test set agrees``. Raises CheckFailed when the file is
    missing, cannot be loaded, is not a Shapes-10 classifier (input
    (3, 32, 32), 10 classes), needs more than ``MAX_MULTIPLY_ADDS`` per image,
    or would earn no points.
    """
    path = Path(path)
    try:
        accuracy, model = evaluate_saved_model(path, *validation_set())
    except FileNotFoundError:
        raise CheckFailed(
            f"best_model: no file {path} (looked in {Path.cwd()}); save your model with "
            f'save_model(model, "{path}", mean_image=data["mean_image"]) first'
        ) from None
    except ValueError as error:
        raise CheckFailed(f"best_model: {error}") from None
    points = best_model_points(accuracy, possible)
    if points == 0 and possible > 0:
        raise CheckFailed(
            f"best_model: {type(model).__name__} validation accuracy {accuracy:.1%} earns 0 / "
            f"{possible:g} points (nothing below {ZERO_POINTS_BELOW:.0%}); train it longer, or "
            "a bigger model, and check that mean_image is the one its inputs had subtracted"
        )
    print(
        f"OK best_model: {type(model).__name__} validation accuracy {accuracy:.1%} -> "
        f"{points:g} / {possible:g} points if the hidden test set agrees"
    )


def multiply_adds(model: Any) -> int:
    """Multiply-adds one (3, 32, 32) image costs the model: its convolutions and affine layers."""
    p = model.params
    affine = sum(
        p[name].size for name in p if name.startswith("W") and p[name].ndim == 2
    )  # each weight of an affine layer is used once per image
    _, H, W = getattr(model, "input_dim", INPUT_SHAPE)
    if hasattr(model, "stages"):  # TinyVGG: each stage runs at half the size of the last
        conv, i = 0, 0
        for s, stage in enumerate(model.stages):
            for _ in stage:
                i += 1
                conv += p[f"W{i}"].size * (H >> s) * (W >> s)
        return affine + conv
    conv = sum(p[name].size * H * W for name in p if name.startswith("W") and p[name].ndim == 4)
    return affine + conv


def shipped_weight_distances(model: Any) -> dict[str, float]:
    """How far each of the model's weight arrays lies from the shipped pretrained TinyVGG's.

    For every weight array of ``model`` (a ``W`` of 2 or 4 dimensions) with the
    shape of one of the shipped net's, the distance to the nearest such
    shipped array, in units of how far that shipped array moved in its own
    training (from the initial weights its recipe's seed draws): 0 for a copy,
    about 0.1 to 0.5 after fine-tuning it for an epoch or two at a learning
    rate of 1e-3 or 3e-3, about 1 for a net trained from scratch from the same
    seed (the first layer barely moves) and 2 or more from any other seed.
    Arrays of no shipped shape are left out.
    """
    shipped, initial = _shipped_and_initial()
    distances = {}
    for name, weights in model.params.items():
        if not (name.startswith("W") and weights.ndim in (2, 4)):
            continue
        near = [
            np.linalg.norm(weights - shipped.params[k]) / moved
            for k, moved in initial.items()
            if shipped.params[k].shape == weights.shape
        ]
        if near:
            distances[name] = float(min(near))
    return distances


@functools.cache
def _shipped_and_initial() -> tuple[Any, dict[str, float]]:
    """The shipped TinyVGG, and how far each of its weight arrays moved from its recipe's start."""
    from course.models.cnn import TinyVGG
    from course.models.pretrained import load_pretrained, pretrained_info

    shipped = load_pretrained()
    config = {**shipped.config(), "seed": pretrained_info()["recipe"]["seed"]}
    start = TinyVGG(**config)
    moved = {
        k: float(np.linalg.norm(v - start.params[k]))
        for k, v in shipped.params.items()
        if k.startswith("W")
    }
    return shipped, moved


def _derived_from_shipped(model: Any) -> list[str]:
    """The weight arrays that place ``model`` within reach of the shipped TinyVGG's weights.

    A model counts as derived from the shipped one when at least
    ``DERIVED_MIN_ARRAYS`` of its weight arrays lie within
    ``DERIVED_DISTANCE`` (see :func:`shipped_weight_distances`). This finds
    the shortcut of loading the pretrained net and fine-tuning it a little;
    a copy whose units were deliberately renumbered compares as unrelated.
    """
    near = [k for k, d in shipped_weight_distances(model).items() if d < DERIVED_DISTANCE]
    return near if len(near) >= DERIVED_MIN_ARRAYS else []


def _require_shapes_model(path: Path, model: Any) -> None:
    """ValueError unless the model takes (3, 32, 32) images and scores 10 classes."""
    input_dim = getattr(model, "input_dim", None)
    if input_dim is not None:
        takes = tuple(input_dim) == INPUT_SHAPE
    else:  # fully connected nets take D = C*H*W numbers
        takes = model.params["W1"].shape[0] == int(np.prod(INPUT_SHAPE))
    if not takes:
        raise ArtefactError(
            f"{path}: the model takes inputs of {input_dim or model.params['W1'].shape[0]}; "
            f"Shapes-10 images are {INPUT_SHAPE}"
        )
    cost = multiply_adds(model)
    if cost > MAX_MULTIPLY_ADDS:
        raise ArtefactError(
            f"{path}: the model needs {cost / 1e6:.0f} M multiply-adds per image; the "
            f"best-model task allows at most {MAX_MULTIPLY_ADDS / 1e6:.0f} M (the pretrained "
            "TinyVGG needs about 10 M)"
        )
    near = _derived_from_shipped(model)
    if near:
        raise ArtefactError(
            f"{path}: its weights {', '.join(near)} are those of the course's shipped "
            "pretrained TinyVGG, or close to them: the task is a model you trained from its "
            "random initialisation, not the shipped one fine-tuned (had you trained with the "
            "shipped recipe and its seed, you would have rebuilt the shipped net: change the "
            "seed or the recipe)"
        )
    last = max((name for name in model.params if name.startswith("W")), key=lambda n: int(n[1:]))
    classes = model.params[last].shape[-1]
    if classes != NUM_CLASSES:
        raise ArtefactError(
            f"{path}: the model scores {classes} classes; Shapes-10 has {NUM_CLASSES}"
        )
