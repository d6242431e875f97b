"""The filters of a convolution, tiled into one picture.

A first-layer filter (F, 3, HH, WW) looks at RGB pixels, so it is shown in
colour; a deeper filter looks at C feature maps, so it is shown one input
channel at a time, as a grey tile. Each filter is rescaled to [0, 1] on its
own (weights have no fixed range): compare shapes within a tile, not
brightness between tiles.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from course.plots import image_grid
from course.viz._validation import require_index, require_layer, require_vis_model
from course.viz.architecture import conv_weights


def filter_grid(
    model, layer: str = "conv1_1", channel: int | None = None, padding: int = 1
) -> np.ndarray:
    """The filters of the convolution ``layer`` tiled into one RGB picture.

    Inputs:
    - layer: a conv layer name, e.g. 'conv1_1'
    - channel: None to show RGB filters (F, 3, HH, WW) in colour (only when the
      layer has 3 input channels); else the input channel c whose slice
      w[:, c] (F, HH, WW) is shown in grey (default for deeper layers: 0)
    - padding: pixels of white between tiles

    Returns:
    - grid: (rows * (HH + padding) - padding, cols * (WW + padding) - padding, 3)
      in [0, 1], rows and cols about sqrt(F); each filter rescaled on its own
    """
    func = "filter_grid"
    require_vis_model(func, model)
    require_layer(func, model, layer, ("conv",))
    w = np.asarray(conv_weights(model, layer), dtype=np.float64)  # (F, C, HH, WW)
    C = w.shape[1]
    if channel is None and C != 3:
        channel = 0
    if channel is None:
        tiles = w.transpose(0, 2, 3, 1)  # (F, HH, WW, 3): colour filters
    else:
        channel = require_index(func, "channel", channel, C, f"{layer}'s input")
        tiles = w[:, channel, :, :, None]  # (F, HH, WW, 1): one input channel, grey
    return image_grid(tiles, padding=padding, per_image_scale=True)


def plot_filters(model, layer: str = "conv1_1", channel: int | None = None) -> Figure:
    """A Figure (one axes) of :func:`filter_grid`, titled with the layer and filter shape."""
    grid = filter_grid(model, layer, channel)
    F, C, HH, WW = conv_weights(model, layer).shape
    fig = Figure(figsize=(4, 4), layout="constrained")
    ax = fig.subplots()
    ax.imshow(grid, interpolation="nearest")
    shown = "RGB" if channel is None and C == 3 else f"input channel {channel or 0} of {C}"
    ax.set_title(f"{layer}: {F} filters {HH}x{WW}, {shown}", fontsize=9)
    ax.axis("off")
    return fig
