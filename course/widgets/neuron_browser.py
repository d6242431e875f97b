"""Browse what one channel of a ConvNet layer responds to: its top-activating image patches.

The plain functions do the work, and the widget only shows their results:
:func:`course.viz.top_patches` (the k images of a dataset that excite a
channel most, each cropped to the receptive field of the neuron that fired,
and the histogram of their classes) and :func:`course.viz.plot_top_patches`.

:class:`NeuronBrowser` is the ipywidgets view over them: a layer dropdown and
a channel slider over Shapes-10 test images. When it is made, one forward
pass over the N images (about 1 ms an image on two cores) keeps, for every
conv and pool layer and every channel, each image's strongest response and
where it is (:func:`course.viz.layer_peaks`: (N, F) numbers a layer, not its
(N, F, H', W') maps); no control change runs the net again, and a layer or
channel change only ranks that channel's maxima and redraws.
Typical use in a notebook::

    from course.widgets import NeuronBrowser
    browser = NeuronBrowser(count=500)
    browser                      # shows the widget
    browser.result               # the TopPatches on show
"""

from __future__ import annotations

import html
import time
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from course.data.shapes import CLASS_NAMES, generate_shapes
from course.models.pretrained import load_pretrained
from course.viz import TopPatches, layer_peaks, plot_top_patches, top_patches
from course.viz.architecture import layer_kind
from course.viz.pixels import as_pictures
from course.widgets._validation import (
    MAX_NEURON_IMAGES,
    require_patch_count,
    require_widget_model,
    validate_image_source,
)
from course.widgets._view import WidgetView, bar_rows, fit_scale, picture_png
from course.widgets.activation_browser import TEST_STREAM, shapes_inputs

__all__ = ["NeuronBrowser"]

PATCH_PX = 64  # each patch is shown about this many screen pixels wide
GAP = 2  # pixels of white between patches, before enlarging
BATCH = 250  # images per forward pass when the peaks are computed


class NeuronBrowser(WidgetView):
    """An ipywidgets view of :func:`~course.viz.top_patches` over Shapes-10 test images.

    Controls (attributes, each an ipywidget): ``layer_dropdown`` (conv and
    pool layers), ``channel_slider``. The view: ``patches_view`` (the k
    patches in a row, strongest first, enlarged with crisp pixels),
    ``captions`` (each patch's activation and class), ``histogram_view``
    (the classes of the k images), ``info``, ``status``. What is on show:
    ``layer``, ``channel``, ``result`` (the TopPatches), ``peaks`` (every
    layer's ``layer_peaks``), ``last_update_seconds``.
    ``figure()`` is ``plot_top_patches`` of the result on show; ``X``
    (N, 3, 32, 32) and ``labels`` (N,) are the browsed images.

    Inputs
    ------
    model : a TinyVGG-like model on Shapes-10 images, or None for the shipped one
    count : int, N, how many Shapes-10 test images are searched (at most 2000)
    seed : int, the dataset's seed (0 made the shipped model's data, so its
        test images are ones it never saw)
    k : int, how many patches are shown (1 to 16)
    """

    def __init__(self, model: Any = None, count: int = 500, seed: int = 0, k: int = 9) -> None:
        func = "NeuronBrowser"
        require_widget_model(func, model)
        self.count, self.seed = validate_image_source(func, count, seed, MAX_NEURON_IMAGES)
        self.k = require_patch_count(func, k)
        super().__init__()
        self.model = load_pretrained() if model is None else model
        self.layers = [n for n in self.model.layer_names() if layer_kind(n) in ("conv", "pool")]
        images, self.labels = generate_shapes(count, seed, stream=TEST_STREAM)
        self.X = shapes_inputs(self.model, images)  # (N, 3, 32, 32)
        # Every layer's peaks, from one pass over the images at construction (about half a
        # second for 500: then no control change runs the net); (layer, channel) -> (result, PNG).
        with self._blas.limit(limits=1, user_api="blas"):
            self.peaks = layer_peaks(self.model, self.X, BATCH)
        self._results: dict[tuple[str, int], tuple[TopPatches, bytes]] = {}
        self._build_controls()
        self._update()

    def _build_controls(self) -> None:
        import ipywidgets as widgets  # here, not at import: importing the module shows nothing

        label = {"description_width": "90px"}
        self.layer_dropdown = widgets.Dropdown(
            options=self.layers, value=self.layers[0], description="layer", style=label
        )
        self.channel_slider = widgets.IntSlider(
            min=0,
            max=self.channels(self.layers[0]) - 1,
            description="channel",
            style=label,
            layout={"width": "420px"},
        )
        self.patches_view = widgets.Image(format="png")
        self.captions = widgets.HTML()
        self.histogram_view = widgets.HTML()
        self.info = widgets.HTML()
        self.status = widgets.HTML()
        self.widget = widgets.VBox(
            [
                self.layer_dropdown,
                self.channel_slider,
                self.info,
                self.patches_view,
                self.captions,
                self.histogram_view,
                self.status,
            ]
        )
        self.layer_dropdown.observe(self._on_layer, names="value")
        self.channel_slider.observe(self._update, names="value")

    def _on_layer(self, change: dict) -> None:
        started = time.perf_counter()
        self._fit_slider(self.channel_slider, self.channels(self.layer))
        self._update(started=started)

    # ---------------------------------------------------------------- what is shown

    @property
    def layer(self) -> str:
        return self.layer_dropdown.value

    @property
    def channel(self) -> int:
        return self.channel_slider.value

    def channels(self, layer: str) -> int:
        """How many channels (maps) ``layer`` has."""
        return self.peaks[layer][0].shape[1]

    @property
    def result(self) -> TopPatches:
        """``top_patches(model, X, layer, channel, k, labels)`` on show."""
        return self._result_of(self.layer, self.channel)[0]

    def figure(self) -> Figure:
        """The plain function's Figure: ``plot_top_patches`` of the result on show."""
        return plot_top_patches(self.result, CLASS_NAMES, self.labels)

    def _result_of(self, layer: str, channel: int) -> tuple[TopPatches, bytes]:
        if (layer, channel) not in self._results:
            result = top_patches(
                self.model, self.X, layer, channel, self.k, self.labels, peaks=self.peaks[layer]
            )
            pictures = as_pictures(result.patches)  # (k, S, S, 3)
            k, S = pictures.shape[:2]
            strip = np.ones((S, k * (S + GAP) - GAP, 3))  # white between patches
            for p in range(k):
                strip[:, p * (S + GAP) : p * (S + GAP) + S] = pictures[p]
            self._results[layer, channel] = (result, picture_png(strip, fit_scale(S, PATCH_PX)))
        return self._results[layer, channel]

    def _render(self) -> None:
        layer, channel = self.layer, self.channel
        result, png = self._result_of(layer, channel)
        S = result.patches.shape[2]
        cell = (S + GAP) * fit_scale(S, PATCH_PX)  # the screen pixels of one patch and its gap
        self.patches_view.value = png
        cells = "".join(
            f"<td style='width:{cell}px; min-width:{cell}px; padding:0; text-align:center'>"
            f"{a:.2f}<br>{CLASS_NAMES[int(self.labels[n])]}</td>"
            for n, a in zip(result.indices, result.activations, strict=True)
        )
        self.captions.value = (
            f"<table style='border-collapse:collapse; font-size:11px; table-layout:fixed'>"
            f"<tr>{cells}</tr></table>"
        )
        k = len(result.indices)
        assert result.histogram is not None  # labels were given
        counts = [str(n) for n in result.histogram]
        self.histogram_view.value = (
            f"<div style='font-size:13px; margin-top:6px'><b>classes of the top {k}</b>"
            f"{bar_rows(list(CLASS_NAMES), result.histogram / k, counts)}</div>"
        )
        F = self.channels(layer)
        self.info.value = (
            f"<div style='font-size:13px'><b>{html.escape(layer)}</b> channel {channel} of {F}: "
            f"the {k} strongest of {self.count} test images, each cropped to the "
            f"{S}x{S} receptive field of the neuron that fired (strongest first)</div>"
        )

    def __repr__(self) -> str:
        return f"NeuronBrowser({self.layer} channel {self.channel}, top {self.k} of {self.count})"
