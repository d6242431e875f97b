"""Activation maps: what every layer of the net computes for one image.

A conv or pool layer's output for one image is F maps (F, H', W'): map f is
filter f's response at every position, bright where it fired. Deeper maps are
smaller (each pool halves them) and their neurons see larger parts of the
image (see :mod:`course.viz.receptive_field`).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from course.plots import image_grid
from course.validation import require_positive_int
from course.viz._validation import require_layer, require_one_image, require_vis_model
from course.viz.pixels import to_pixels


def activation_maps(model, image: np.ndarray) -> dict[str, np.ndarray]:
    """Every layer's output for one image, in test mode.

    Inputs:
    - image: (C, H, W) one model input (mean image subtracted)

    Returns:
    - dict layer name -> (F, H', W') for conv and pool layers, (D,) for FC
      layers and the (num_classes,) scores, in the order of ``layer_names()``
    """
    func = "activation_maps"
    require_vis_model(func, model)
    X = require_one_image(func, model, image)  # (1, C, H, W)
    return {name: out[0] for name, out in model.activations(X).items()}


def activation_grid(maps: np.ndarray, padding: int = 1, per_map_scale: bool = False) -> np.ndarray:
    """Tile F maps (F, H', W') into one grey picture (rows * (H' + padding) - padding, ..., 3).

    With ``per_map_scale`` each map is rescaled to [0, 1] on its own; otherwise
    all share one scale, 0 to the layer's largest value, so that strong and
    silent channels can be compared.
    """
    maps = np.asarray(maps, dtype=np.float64)
    if maps.ndim != 3:
        raise ValueError(
            f"activation_grid: maps has shape {maps.shape}; expected (F, H', W'), one "
            "conv or pool layer's maps for one image"
        )
    if not per_map_scale:
        maps = maps / max(float(np.abs(maps).max()), 1e-12)
    return image_grid(maps[..., None], padding=padding, per_image_scale=per_map_scale)


def plot_activation_maps(
    model, image: np.ndarray, layer: str, max_maps: int | None = None, per_map_scale: bool = False
) -> Figure:
    """The input image beside the maps of one conv or pool layer as a grid (two axes).

    Inputs:
    - image: (C, H, W) one model input
    - layer: a conv or pool layer, e.g. 'conv2_1'
    - max_maps: show only the first max_maps channels (None: all)
    """
    func = "plot_activation_maps"
    require_vis_model(func, model)
    layer = require_layer(func, model, layer, ("conv", "pool"))
    if max_maps is not None:
        require_positive_int(func, "max_maps", max_maps)
    maps = activation_maps(model, image)[layer]  # (F, H', W')
    F = maps.shape[0]
    maps = maps[: max_maps or F]
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax_image, ax_maps = fig.subplots(1, 2, width_ratios=(1, 1.6))
    ax_image.imshow(to_pixels(model, image[None])[0], interpolation="nearest")
    ax_image.set_title("input", fontsize=9)
    ax_maps.imshow(activation_grid(maps, per_map_scale=per_map_scale), interpolation="nearest")
    ax_maps.set_title(
        f"{layer}: {len(maps)} of {F} maps, {maps.shape[1]}x{maps.shape[2]}", fontsize=9
    )
    for ax in (ax_image, ax_maps):
        ax.axis("off")
    return fig
