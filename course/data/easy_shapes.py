"""Easy Shapes: the ten Shapes-10 classes, centred on a plain background.

Shapes-10 (:mod:`course.data.shapes`) hides its shapes anywhere in a
cluttered, noisy scene: a convolutional net learns it, a fully connected net
barely beats chance, because it must learn every shape again at every
position. Easy Shapes keeps the classes (``CLASS_NAMES``) and removes what
only weight sharing can cope with, so that a fully connected net learns it
well and the effect of an update rule, of batch normalisation or of dropout
shows in its accuracy:

- the shape is centred (its centre within ``CENTRE_JITTER`` pixels of the
  image's centre), large (circumradius in ``SIZE_RANGE`` pixels) and turned
  by at most ``MAX_ANGLE`` degrees;
- the background is one flat random colour, with no lines, blobs or colour
  field, and the pixel noise is faint (``NOISE_SIGMA``);
- the colour of the shape is still random, chosen far from the background's,
  so a classifier still has to look at the shape, not at a colour.

The images are drawn by the same renderer as Shapes-10
(:func:`course.data.shape_renderer.render_scenes`), from random streams of
their own: Shapes-10 itself is unchanged. Like it, the same seed gives
byte-identical arrays, and image ``i`` does not depend on how many images
are requested after it.

Typical use::

    data = load_easy_shapes(num_train=5000)
    data["X_train"].shape   # (5000, 3, 32, 32), float32, mean-subtracted
"""

from __future__ import annotations

import numpy as np

from course.data._validation import (
    require_flag,
    validate_image_stream,
    validate_split_sizes,
)
from course.data.shape_renderer import IMAGE_SIZE, NUM_CLASSES, balanced_labels, plain_scenes
from course.data.shapes import render_stream, stream_splits

__all__ = [
    "CENTRE_JITTER",
    "MAX_ANGLE",
    "NOISE_SIGMA",
    "SIZE_RANGE",
    "generate_easy_shapes",
    "load_easy_shapes",
]

SIZE_RANGE = (9.0, 12.0)  # circumradius in pixels: 18 to 24 pixels across
CENTRE_JITTER = 1.0  # pixels, in x and in y
MAX_ANGLE = 15.0  # degrees, either way
NOISE_SIGMA = 0.02  # of the pixel noise, on the [0, 1] scale
_COLOUR_CANDIDATES = 4

# As in Shapes-10, images come in independently seeded chunks; the seed of a
# chunk ends with _VARIANT, so that no chunk shares its random stream with a
# Shapes-10 chunk.
_VARIANT = (1,)


def _sample_easy_scenes(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Draw n centred, uncluttered scenes (n a multiple of 10) from ``rng``.

    Labels come in blocks of ten that each hold every class once; every other
    parameter is drawn without looking at the label.
    """
    labels = balanced_labels(rng, n, NUM_CLASSES)
    size = rng.uniform(*SIZE_RANGE, size=n)
    centre = IMAGE_SIZE / 2 + rng.uniform(-CENTRE_JITTER, CENTRE_JITTER, size=(n, 2))
    angle = np.deg2rad(rng.uniform(-MAX_ANGLE, MAX_ANGLE, size=n))
    background = rng.random((n, 3))
    # The shape's colour: of a few random candidates, the one farthest from the background.
    candidates = rng.random((n, _COLOUR_CANDIDATES, 3))
    distance = np.linalg.norm(candidates - background[:, None, :], axis=2)  # (n, candidates)
    colour = candidates[np.arange(n), np.argmax(distance, axis=1)]  # (n, 3)
    return plain_scenes(labels, centre, size, angle, colour, background, NOISE_SIGMA)


def generate_easy_shapes(
    num_images: int, seed: int = 0, *, stream: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Generate Easy Shapes images in raw form, like ``generate_shapes``.

    Inputs
    ------
    num_images : int
        N, how many images to make (0 gives empty arrays).
    seed : int
        Non-negative seed; the same (seed, stream) always gives byte-identical arrays.
    stream : int
        Non-negative stream number (``load_easy_shapes`` uses 0 for train, 1 for
        validation and 2 for test). Image i of a stream does not depend on ``num_images``.

    Returns
    -------
    images : np.ndarray of uint8, shape (N, 32, 32, 3)
        RGB images, channels last, values 0..255.
    labels : np.ndarray of int64, shape (N,)
        Class indices into ``CLASS_NAMES``; every block of ten consecutive
        images holds each class once.
    """
    func = "generate_easy_shapes"
    num_images, seed, stream = validate_image_stream(func, num_images, seed, stream)
    return render_stream(num_images, seed, stream, _sample_easy_scenes, _VARIANT)


def load_easy_shapes(
    num_train: int = 5000,
    num_val: int = 1000,
    num_test: int = 1000,
    seed: int = 0,
    subtract_mean: bool = True,
    dtype: np.dtype | type = np.float32,
) -> dict[str, object]:
    """Load Easy Shapes ready for training, in the same form as ``load_shapes``.

    The splits come from independent streams of one seed (train 0, validation 1,
    test 2). Pixels are scaled to [0, 1]; then, if ``subtract_mean``, the mean
    *training* image is subtracted from every split.

    Inputs
    ------
    num_train : int
        Number of training images, at least 1.
    num_val, num_test : int
        Number of validation and test images, may be 0.
    seed : int
        Non-negative seed; the same arguments give identical arrays.
    subtract_mean : bool
        Subtract the training mean image from every split.
    dtype : numpy floating type
        The dtype of the X arrays (float32 by default).

    Returns
    -------
    data : dict
        ``'X_train'`` (N_train, 3, 32, 32), ``'y_train'`` (N_train,) int64, and
        likewise ``'X_val'``, ``'y_val'``, ``'X_test'``, ``'y_test'``;
        ``'class_names'`` the tuple ``CLASS_NAMES``; ``'mean_image'`` (3, 32, 32).
    """
    func = "load_easy_shapes"
    num_train, num_val, num_test, dtype = validate_split_sizes(
        func, num_train, num_val, num_test, dtype, seed=seed
    )
    subtract_mean = require_flag(func, "subtract_mean", subtract_mean)
    counts = (num_train, num_val, num_test)
    return stream_splits(generate_easy_shapes, counts, seed, subtract_mean, dtype)
