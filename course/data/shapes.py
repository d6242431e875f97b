"""Shapes-10: a procedural, CIFAR-10-like dataset of ten shape classes.

Every image is 32x32 RGB and shows one shape from ``CLASS_NAMES`` (circle,
square, triangle, diamond, hexagon, star, cross, ring, arrow, heart) on a
cluttered background. The generator is built so that only the *shape* tells
the class:

- size, position, rotation and colour are drawn independently of the class,
  so a classifier cannot use "where" or "what colour";
- the background is a random two-colour gradient plus a smooth random colour
  field, a few distractor lines and soft blobs (none of them one of the ten
  shapes), and per-pixel noise;
- the shape's colour is chosen far from the background colour at its centre,
  so a person can always see it.

This module is the dataset: seeding, splits and the arrays a classifier
trains on. The drawing itself (signed distances, scenes, painting) is
:mod:`course.data.shape_renderer`.

Everything is deterministic: the same ``seed`` gives byte-identical arrays.
Images are made in independently seeded chunks, so image ``i`` does not
depend on how many images are requested after it.

Typical use::

    data = load_shapes(num_train=20000)
    data["X_train"].shape   # (20000, 3, 32, 32), float32, mean-subtracted
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course.data._validation import validate_image_stream, validate_split_sizes
from course.data.shape_renderer import (
    CLASS_NAMES,
    IMAGE_SIZE,
    NUM_CLASSES,
    make_workspace,
    render_scenes,
    sample_scenes,
    shape_coverage,
)
from course.data.splits import assemble_splits

__all__ = [
    "CLASS_NAMES",
    "IMAGE_SIZE",
    "NUM_CLASSES",
    "SHAPES_CLASSES",
    "generate_shapes",
    "load_shapes",
    "shape_masks",
    "shape_parameters",
    "to_nchw_float",
]

SHAPES_CLASSES = CLASS_NAMES

# Images are generated in chunks of _CHUNK, each with its own random stream
# seeded by (seed, stream, chunk index). _CHUNK is a multiple of NUM_CLASSES.
_CHUNK = 200


def _chunks(
    num_images: int,
    seed: int,
    stream: int,
    sample: Callable[[np.random.Generator, int], dict] = sample_scenes,
    variant: tuple[int, ...] = (),
):
    """Yield (start, stop, scenes, rng) for each chunk of the stream (seed, stream).

    ``sample(rng, n)`` draws a chunk's scenes; a dataset other than Shapes-10
    passes its own, with a ``variant`` that ends its chunks' seeds, so that no
    chunk shares its random stream with a Shapes-10 chunk.
    """
    for index, start in enumerate(range(0, num_images, _CHUNK)):
        stop = min(start + _CHUNK, num_images)
        rng = np.random.default_rng([seed, stream, index, *variant])
        # Always draw a full chunk, so image i is the same whatever num_images is.
        scenes = sample(rng, _CHUNK)
        scenes = {key: value[: stop - start] for key, value in scenes.items()}
        yield start, stop, scenes, rng


def render_stream(
    num_images: int,
    seed: int,
    stream: int,
    sample: Callable[[np.random.Generator, int], dict] = sample_scenes,
    variant: tuple[int, ...] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 32, 32, 3) uint8 and labels (N,) of one stream, arguments already valid."""
    images = np.empty((num_images, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    labels = np.empty(num_images, dtype=np.int64)
    work = make_workspace(min(num_images, _CHUNK))
    for start, stop, scenes, rng in _chunks(num_images, seed, stream, sample, variant):
        render_scenes(scenes, rng, images[start:stop], work)
        labels[start:stop] = scenes["labels"]
    return images, labels


def stream_splits(
    generate: Callable[..., tuple[np.ndarray, np.ndarray]],
    counts: tuple[int, int, int],
    seed: int,
    subtract_mean: bool,
    dtype: np.dtype | type,
) -> dict[str, object]:
    """Train, validation and test splits from ``generate``'s streams 0, 1 and 2, as floats."""
    splits = {}
    for stream, (name, count) in enumerate(zip(("train", "val", "test"), counts, strict=True)):
        images, labels = generate(count, seed, stream=stream)
        splits[name] = (to_nchw_float(images, dtype), labels)
    return assemble_splits(splits, CLASS_NAMES, subtract_mean)


def generate_shapes(
    num_images: int, seed: int = 0, *, stream: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Generate Shapes-10 images in raw form, like CIFAR-10's files.

    Inputs
    ------
    num_images : int
        N, how many images to make (0 gives empty arrays).
    seed : int
        Non-negative seed; the same (seed, stream) always gives byte-identical arrays.
    stream : int
        Non-negative stream number: the same seed gives independent image
        streams for different streams (``load_shapes`` uses 0 for train,
        1 for validation and 2 for test). Image i of a stream does not depend
        on ``num_images``.

    Returns
    -------
    images : np.ndarray of uint8, shape (N, 32, 32, 3)
        RGB images, channels last, values 0..255.
    labels : np.ndarray of int64, shape (N,)
        Class indices into ``CLASS_NAMES``. Every block of ten consecutive
        images holds each class once, so class counts differ by at most one.
    """
    func = "generate_shapes"
    num_images, seed, stream = validate_image_stream(func, num_images, seed, stream)
    return render_stream(num_images, seed, stream)


def shape_masks(num_images: int, seed: int = 0, *, stream: int = 0) -> np.ndarray:
    """Where the shape is in each image of ``generate_shapes(num_images, seed, stream=stream)``.

    Returns
    -------
    masks : np.ndarray of bool, shape (N, 32, 32)
        True where the shape covers at least half of the pixel (its painted
        coverage, antialiased at the edge, is 0.5 or more). Nothing is rendered.
    """
    func = "shape_masks"
    num_images, seed, stream = validate_image_stream(func, num_images, seed, stream)
    masks = np.zeros((num_images, IMAGE_SIZE, IMAGE_SIZE), dtype=bool)
    for start, stop, scenes, _ in _chunks(num_images, seed, stream):
        masks[start:stop] = shape_coverage(scenes) >= 0.5
    return masks


def shape_parameters(num_images: int, seed: int = 0, *, stream: int = 0) -> dict[str, np.ndarray]:
    """The parameters that the images of ``generate_shapes(num_images, seed, stream=stream)`` show.

    Useful for checking the generator (no class information in colour or
    position) and for localisation exercises. Nothing is rendered.

    Returns
    -------
    params : dict
        ``'labels'`` (N,) int64 class indices; ``'centre'`` (N, 2) the shape's
        centre (x, y) in pixels, y pointing down; ``'size'`` (N,) circumradius
        in pixels (the shape is about 2 * size pixels across); ``'angle'`` (N,)
        counter-clockwise rotation in radians; ``'colour'`` (N, 3) the RGB fill
        colour in [0, 1] before noise.
    """
    func = "shape_parameters"
    num_images, seed, stream = validate_image_stream(func, num_images, seed, stream)
    chunks = [scenes for _, _, scenes, _ in _chunks(num_images, seed, stream)]
    if not chunks:  # num_images == 0: empty arrays of the right shapes
        chunks = [sample_scenes(np.random.default_rng(0), 0)]
    keys = ("labels", "centre", "size", "angle", "colour")
    return {key: np.concatenate([scenes[key] for scenes in chunks]) for key in keys}


def to_nchw_float(images: np.ndarray, dtype: np.dtype | type = np.float32) -> np.ndarray:
    """Convert uint8 images (N, H, W, C) to floats (N, C, H, W) scaled to [0, 1]."""
    out = images.transpose(0, 3, 1, 2).astype(dtype, order="C")  # (N, C, H, W), contiguous
    out /= 255.0
    return out


def load_shapes(
    num_train: int = 49000,
    num_val: int = 1000,
    num_test: int = 1000,
    seed: int = 0,
    subtract_mean: bool = True,
    dtype: np.dtype | type = np.float32,
) -> dict[str, object]:
    """Load Shapes-10 ready for training, in the same form as ``load_cifar10``.

    The three splits come from independent streams of one seed (train
    stream 0, validation 1, test 2), so they never share an image and the
    validation and test sets stay the same whatever ``num_train`` is.
    Pixels are scaled from 0..255 to [0, 1]; then, if ``subtract_mean``, the
    per-pixel mean of the *training* images is subtracted from every split.

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
        The dtype of the X arrays (float32 by default; float64 for gradient checks).

    Returns
    -------
    data : dict
        ``'X_train'`` (N_train, 3, 32, 32), ``'y_train'`` (N_train,) int64, and
        likewise ``'X_val'``, ``'y_val'``, ``'X_test'``, ``'y_test'``;
        ``'class_names'`` the tuple ``CLASS_NAMES``; ``'mean_image'``
        (3, 32, 32) the mean training image on the [0, 1] scale.
    """
    func = "load_shapes"
    num_train, num_val, num_test, dtype = validate_split_sizes(
        func, num_train, num_val, num_test, dtype, seed=seed
    )
    counts = (num_train, num_val, num_test)
    return stream_splits(generate_shapes, counts, seed, subtract_mean, dtype)
