"""Weight initialisation for the models: normal draws with a fixed std, or He's sqrt(2/fan_in).

One function, ``init_weight``, used by every model that owns weight matrices
or convolution filters (``TwoLayerNet``, ``FullyConnectedNet``,
``ThreeLayerConvNet``, ``TinyVGG``), so that they all draw from the same rule.
"""

from __future__ import annotations

import numpy as np

from course.models._validation import validate_weight_scale

__all__ = ["init_weight"]


def init_weight(
    rng: np.random.Generator, shape: tuple[int, ...], weight_scale: float | str, dtype
) -> np.ndarray:
    """Weights of ``shape``: normal with std ``weight_scale``, or He's sqrt(2/fan_in).

    The fan-in of a matrix (D, M) is D; of conv filters (F, C, HH, WW) it is
    C*HH*WW. ``weight_scale='he'`` is the initialisation of He et al. (2015)
    for ReLU nets: it keeps the variance of the activations constant through depth.

    Inputs:
    - rng: the generator to draw from (one ``standard_normal(shape)`` draw)
    - shape: (D, M) for an affine layer or (F, C, HH, WW) for a convolution
    - weight_scale: the std, a positive number, or 'he'
    - dtype: the dtype of the result (the draw is float64, then cast)

    Returns:
    - w: array of ``shape`` and ``dtype``, w = std * N(0, 1)
    """
    validate_weight_scale(weight_scale)
    fan_in = int(np.prod(shape[1:])) if len(shape) == 4 else shape[0]  # C*HH*WW or D
    std = np.sqrt(2.0 / fan_in) if weight_scale == "he" else float(weight_scale)
    return (std * rng.standard_normal(shape)).astype(dtype)
