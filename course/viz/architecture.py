"""What a TinyVGG-like model is made of: its conv and pool layers and their geometry.

The geometry (kernel size, stride, padding of every conv and pool layer) is
read from the model itself: the convolutions' kernel sizes from their weights
``W1, W2, ...`` (in the order of ``layer_names()``), their stride and padding
from ``model.conv_param``, the pools' from ``model.pool_param`` when the
model has one, else TinyVGG's 2x2 pool of stride 2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course.models.cnn import POOL_2X2
from course.viz._validation import layer_kind, require_layer, require_vis_model

__all__ = ["LayerGeometry", "conv_weights", "layer_geometry", "layer_kind"]


@dataclass(frozen=True)
class LayerGeometry:
    """One conv or pool layer's window: ``kernel`` x ``kernel`` pixels, ``stride``, ``pad``."""

    name: str
    kind: str  # 'conv' or 'pool'
    kernel: int
    stride: int
    pad: int


def conv_weights(model, layer: str) -> np.ndarray:
    """The filters (F, C, HH, WW) of the convolution ``layer`` ('conv1_1', 'conv2_1', ...)."""
    func = "conv_weights"
    require_vis_model(func, model)
    require_layer(func, model, layer, ("conv",))
    convs = [name for name in model.layer_names() if layer_kind(name) == "conv"]
    return model.params[f"W{convs.index(layer) + 1}"]  # W1 is the first convolution


def layer_geometry(model) -> list[LayerGeometry]:
    """The window of every conv and pool layer of ``model``, input to output.

    Returns:
    - list of LayerGeometry, in the order of ``model.layer_names()`` (FC layers left out)
    """
    func = "layer_geometry"
    require_vis_model(func, model)
    pool = getattr(model, "pool_param", POOL_2X2)
    if pool["pool_height"] != pool["pool_width"]:
        raise ValueError(f"{func}: only square pools are supported, got {pool}")
    geometry = []
    for name in model.layer_names():
        kind = layer_kind(name)
        if kind == "conv":
            HH, WW = conv_weights(model, name).shape[2:]
            if HH != WW:
                raise ValueError(f"{func}: only square kernels are supported; {name} is {HH}x{WW}")
            stride, pad = model.conv_param["stride"], model.conv_param["pad"]
            geometry.append(LayerGeometry(name, kind, int(HH), int(stride), int(pad)))
        elif kind == "pool":
            geometry.append(LayerGeometry(name, kind, pool["pool_height"], pool["stride"], 0))
    return geometry
