"""Browse the filters of a ConvNet's convolutions: all of a layer's filters, and one enlarged.

The plain functions do the work, and the widget only shows their results:

- :func:`course.viz.plot_filters` (over :func:`course.viz.filter_grid`): every
  filter of a layer tiled into one picture, in colour for the first layer
  (its filters look at RGB pixels), one input channel at a time, in grey,
  for deeper layers (their filters look at C feature maps).
- :func:`filter_picture` and :func:`plot_filter`: one filter enlarged: in
  colour for a first-layer filter, else all its C input-channel slices
  (HH, WW) side by side on one shared scale, so strong and weak slices compare.

:class:`FilterBrowser` is the ipywidgets view over them: a layer dropdown, an
input-channel slider for the grid of a deeper layer, and a filter slider for
the enlarged filter. Typical use in a notebook::

    from course.widgets import FilterBrowser
    browser = FilterBrowser()   # the shipped TinyVGG
    browser                     # shows the widget
    browser.grid                # the filter grid on show, (rows, cols, 3) in [0, 1]
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from course.models.pretrained import load_pretrained
from course.plots import image_grid
from course.viz import conv_weights, filter_grid, plot_filters
from course.viz._validation import require_index, require_layer, require_vis_model
from course.viz.architecture import layer_kind
from course.widgets._validation import require_widget_model
from course.widgets._view import WidgetView, figure_png, fit_scale, picture_png

__all__ = ["FilterBrowser", "filter_picture", "plot_filter"]

ENLARGED_PX = 200  # the enlarged filter is shown about this many screen pixels wide


def _on_rgb(model, layer: str) -> bool:
    """Whether ``layer`` is the first convolution and looks at RGB pixels (3 input channels)."""
    first = next(name for name in model.layer_names() if layer_kind(name) == "conv")
    return layer == first and conv_weights(model, layer).shape[1] == 3


def filter_picture(model, layer: str, index: int, padding: int = 1) -> np.ndarray:
    """One filter of the convolution ``layer`` as a picture, rescaled to [0, 1].

    Inputs:
    - layer: a conv layer name, e.g. 'conv2_1', with filters w (F, C, HH, WW)
    - index: the filter f, 0 <= f < F
    - padding: pixels of white between the slices of a deeper filter

    Returns:
    - picture: (HH, WW, 3) in colour for a filter of the first layer on RGB
      images (C == 3), as :func:`~course.viz.filter_grid` shows it; else
      its C slices w[f, c] (HH, WW) tiled in grey, about sqrt(C) by sqrt(C),
      (rows * (HH + padding) - padding, cols * (WW + padding) - padding, 3),
      all on one scale: the filter's smallest weight black, its largest white
    """
    func = "filter_picture"
    require_vis_model(func, model)
    layer = require_layer(func, model, layer, ("conv",))
    w = np.asarray(conv_weights(model, layer), dtype=np.float64)  # (F, C, HH, WW)
    index = require_index(func, "index", index, w.shape[0], f"{layer}'s filters")
    one = w[index]  # (C, HH, WW)
    low, high = one.min(), one.max()
    one = (one - low) / max(high - low, 1e-12)  # one scale for the whole filter
    if _on_rgb(model, layer):
        return one.transpose(1, 2, 0)  # (HH, WW, 3): the filter looks at RGB pixels
    return image_grid(one[..., None], padding=padding, per_image_scale=False)  # (C, HH, WW, 1)


def plot_filter(model, layer: str, index: int) -> Figure:
    """A Figure (one axes) of :func:`filter_picture`, titled with the filter and its weights."""
    picture = filter_picture(model, layer, index)
    w = conv_weights(model, layer)[index]  # (C, HH, WW)
    fig = Figure(figsize=(3.2, 3.4), layout="constrained")
    ax = fig.subplots()
    ax.imshow(picture, interpolation="nearest")
    shown = "RGB" if _on_rgb(model, layer) else f"its {w.shape[0]} input channels"
    ax.set_title(
        f"{layer} filter {index}: {shown}\nweights {w.min():.2f} (black) to {w.max():.2f}",
        fontsize=9,
    )
    ax.axis("off")
    return fig


class FilterBrowser(WidgetView):
    """An ipywidgets view of :func:`~course.viz.plot_filters` and :func:`filter_picture`.

    Controls (attributes, each an ipywidget): ``layer_dropdown`` (the conv
    layers), ``channel_slider`` (the input channel of a deeper layer's grid;
    off for a first layer, shown in colour), ``filter_slider`` (the filter
    shown enlarged). The view: ``grid_view`` (the PNG of ``plot_filters``),
    ``filter_view`` (the enlarged filter), ``info`` and ``status``. What is
    on show: ``layer``, ``channel`` (None for RGB), ``index``, ``grid``
    (``filter_grid``'s picture), ``picture`` (``filter_picture``'s),
    ``weights`` (F, C, HH, WW), ``last_update_seconds``. ``figure()`` is the
    plain function's Figure of the grid on show. Each grid is drawn once and
    cached per (layer, channel).

    Inputs
    ------
    model : a TinyVGG-like model, or None for the shipped ``load_pretrained()``
    """

    def __init__(self, model: Any = None) -> None:
        require_widget_model("FilterBrowser", model, shapes=False)
        super().__init__()
        self.model = load_pretrained() if model is None else model
        self.layers = [n for n in self.model.layer_names() if layer_kind(n) == "conv"]
        # The caches: (layer, channel) -> (grid, PNG of plot_filters); (layer, index) ->
        # (picture, its enlarged PNG).
        self._grids: dict[tuple[str, int | None], tuple[np.ndarray, bytes]] = {}
        self._pictures: dict[tuple[str, int], tuple[np.ndarray, bytes]] = {}
        self._build_controls()
        self._update()

    def _build_controls(self) -> None:
        import ipywidgets as widgets  # here, not at import: importing the module shows nothing

        label, wide = {"description_width": "90px"}, {"width": "420px"}
        self.layer_dropdown = widgets.Dropdown(
            options=self.layers, value=self.layers[0], description="layer", style=label
        )
        self.channel_slider = widgets.IntSlider(
            min=0, max=0, description="input channel", style=label, layout=wide
        )
        self.filter_slider = widgets.IntSlider(
            min=0, max=0, description="filter", style=label, layout=wide
        )
        self._fit_sliders()
        self.grid_view = widgets.Image(format="png", layout={"width": "400px"})
        self.filter_view = widgets.Image(format="png", layout={"margin": "0 0 0 16px"})
        self.info = widgets.HTML(layout={"margin": "0 0 0 16px"})
        self.status = widgets.HTML()
        self.widget = widgets.VBox(
            [
                self.layer_dropdown,
                self.channel_slider,
                self.filter_slider,
                widgets.HBox(
                    [self.grid_view, widgets.VBox([self.filter_view, self.info])],
                    layout={"margin": "8px 0"},
                ),
                self.status,
            ]
        )
        self.layer_dropdown.observe(self._on_layer, names="value")
        self.channel_slider.observe(self._update, names="value")
        self.filter_slider.observe(self._update, names="value")

    def _fit_sliders(self) -> None:
        """Fit the sliders' ranges to the layer's filters (F, C, HH, WW), quietly."""
        F, C = self.weights.shape[:2]
        self._fit_slider(self.filter_slider, F)
        self._fit_slider(self.channel_slider, C)
        self.channel_slider.disabled = self.channel is None

    def _on_layer(self, change: dict) -> None:
        self._fit_sliders()
        self._update()

    # ---------------------------------------------------------------- what is shown

    @property
    def layer(self) -> str:
        """The conv layer on show."""
        return self.layer_dropdown.value

    @property
    def weights(self) -> np.ndarray:
        """The layer's filters (F, C, HH, WW)."""
        return conv_weights(self.model, self.layer)

    @property
    def channel(self) -> int | None:
        """The input channel the grid shows; None for the first layer on RGB, shown in colour."""
        return None if _on_rgb(self.model, self.layer) else self.channel_slider.value

    @property
    def index(self) -> int:
        """The filter shown enlarged."""
        return self.filter_slider.value

    @property
    def grid(self) -> np.ndarray:
        """``filter_grid(model, layer, channel)`` on show, (rows, cols, 3) in [0, 1]."""
        return self._grid_of(self.layer, self.channel)[0]

    @property
    def picture(self) -> np.ndarray:
        """``filter_picture(model, layer, index)`` on show."""
        return self._picture_of(self.layer, self.index)[0]

    def figure(self) -> Figure:
        """The plain function's Figure of the grid on show: ``plot_filters``."""
        return plot_filters(self.model, self.layer, self.channel)

    def _grid_of(self, layer: str, channel: int | None) -> tuple[np.ndarray, bytes]:
        if (layer, channel) not in self._grids:
            grid = filter_grid(self.model, layer, channel)
            png = figure_png(plot_filters(self.model, layer, channel))
            self._grids[layer, channel] = (grid, png)
        return self._grids[layer, channel]

    def _picture_of(self, layer: str, index: int) -> tuple[np.ndarray, bytes]:
        if (layer, index) not in self._pictures:
            picture = filter_picture(self.model, layer, index)
            scale = fit_scale(max(picture.shape[:2]), ENLARGED_PX)
            self._pictures[layer, index] = (picture, picture_png(picture, scale))
        return self._pictures[layer, index]

    def _render(self) -> None:
        layer, channel, index = self.layer, self.channel, self.index
        self.grid_view.value = self._grid_of(layer, channel)[1]
        self.filter_view.value = self._picture_of(layer, index)[1]
        w = self.weights  # (F, C, HH, WW)
        F, C, HH, WW = w.shape
        one = w[index]
        slices = (
            "in colour (RGB)" if channel is None else f"its {C} input-channel slices, one scale"
        )
        self.info.value = (
            f"<div style='font-size:13px; line-height:1.5'><b>{html.escape(layer)}</b>: "
            f"{F} filters of shape ({C}, {HH}, {WW})<br>"
            f"<b>filter {index}</b> enlarged, {slices}<br>"
            f"weights from {one.min():.3f} (dark) to {one.max():.3f} (bright); "
            f"L2 norm {np.linalg.norm(one):.3f}</div>"
        )

    def __repr__(self) -> str:
        shown = "RGB" if self.channel is None else f"input channel {self.channel}"
        return f"FilterBrowser({self.layer}, {shown}, filter {self.index})"
