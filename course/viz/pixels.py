"""Between model inputs and pictures: the pixel range a model's inputs live in.

A visualised model takes images in [0, 1] with ``model.mean_image`` (C, H, W)
subtracted (nothing subtracted when it is None), as the pretrained TinyVGG
does: ``model.loss(to_nchw_float(images) - model.mean_image)``. Every
function of :mod:`course.viz` takes and returns such *model inputs*; these
helpers turn them back into pictures and give the valid range.
"""

from __future__ import annotations

import numpy as np


def input_offset(model) -> np.ndarray:
    """The (C, H, W) image subtracted from pixels to make model inputs (zeros without a mean)."""
    if model.mean_image is None:
        return np.zeros(tuple(model.input_dim))
    return np.asarray(model.mean_image, dtype=np.float64)


def input_range(model) -> tuple[np.ndarray, np.ndarray]:
    """The (C, H, W) lowest and highest model inputs: pixels 0 and 1 minus the mean image."""
    offset = input_offset(model)
    return -offset, 1.0 - offset


def to_pixels(model, X: np.ndarray) -> np.ndarray:
    """Model inputs (N, C, H, W) as pictures (N, H, W, 3): mean image added, clipped to [0, 1]."""
    return as_pictures(np.asarray(X, dtype=np.float64) + input_offset(model))


def as_pictures(images: np.ndarray) -> np.ndarray:
    """Pixels (N, C, H, W), C in (1, 3), as (N, H, W, 3) in [0, 1] for imshow (grey repeated)."""
    pictures = np.clip(images, 0.0, 1.0).transpose(0, 2, 3, 1)  # (N, H, W, C)
    return np.repeat(pictures, 3, axis=-1) if pictures.shape[-1] == 1 else pictures


def rescale(values: np.ndarray) -> np.ndarray:
    """``values`` affinely mapped to [0, 1] (all 0.5 when constant), for showing gradients."""
    values = np.asarray(values, dtype=np.float64)
    low, high = values.min(), values.max()
    if high - low < 1e-12:
        return np.full_like(values, 0.5)
    return (values - low) / (high - low)
