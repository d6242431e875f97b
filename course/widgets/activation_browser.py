"""Browse what every layer of a ConvNet computes for one image: its activation maps.

The plain functions do the work, and the widget only shows their results:

- :func:`course.viz.activation_maps` and :func:`course.viz.plot_activation_maps`:
  every layer's output for one image, and one layer's maps as a grid;
- :func:`top_classes`: the model's k likeliest classes for one image;
- :func:`load_sample_photo`: a picture shipped with matplotlib, centre-cropped
  and shrunk to the model's 32x32 (a real photo, nothing like Shapes-10);
- :func:`shapes_inputs`: Shapes-10 images (uint8) as a model's inputs.

:class:`ActivationBrowser` is the ipywidgets view over them. The image is a
Shapes-10 test image (a slider), a freshly drawn one (a button: the next seed
of a generator stream that no split uses, so the model never saw it) or a
photo; then a layer dropdown and a channel slider. It shows the input, the
channel's map, all the layer's maps, and the top-5 class probabilities. The
activations of every layer are computed once per image (one forward pass,
about 2 ms) and cached, so a layer or channel change only redraws. Typical
use in a notebook::

    from course.widgets import ActivationBrowser
    browser = ActivationBrowser()
    browser                      # shows the widget
    browser.maps                 # the layer's maps on show, (F, H', W')
"""

from __future__ import annotations

import html
from typing import Any

import matplotlib.image
import numpy as np
from matplotlib import cbook
from matplotlib.figure import Figure

from course.data.shapes import CLASS_NAMES, generate_shapes, to_nchw_float
from course.models.pretrained import load_pretrained
from course.validation import require_positive_int
from course.viz import activation_grid, activation_maps, plot_activation_maps
from course.viz._validation import require_one_image, require_vis_model
from course.viz.architecture import layer_kind
from course.viz.pixels import input_offset
from course.widgets._validation import require_choice, require_widget_model, validate_image_source
from course.widgets._view import (
    WidgetView,
    bar_rows,
    fit_scale,
    heat_picture,
    picture_png,
    with_article,
)

__all__ = [
    "SAMPLE_PHOTOS",
    "ActivationBrowser",
    "load_sample_photo",
    "shapes_inputs",
    "top_classes",
]

SAMPLE_PHOTOS = ("grace_hopper.jpg", "Minduka_Present_Blue_Pack.png")  # matplotlib ships them
TEST_STREAM = 2  # load_shapes's test split: the shipped model never trained on it
FRESH_STREAM = 3  # the stream of fresh images: no split uses it (train 0, val 1, test 2)
TOP_K = 5  # classes shown
IMAGE_PX, MAP_PX, GRID_PX = 192, 192, 384  # about how many screen pixels each picture takes


def load_sample_photo(name: str = "grace_hopper.jpg", size: int = 32) -> np.ndarray:
    """A picture shipped with matplotlib, centre-cropped to a square and shrunk to size x size.

    The crop's side is the largest multiple of ``size`` that fits; each output
    pixel is the mean of its (side/size)^2 block (area averaging, no aliasing);
    transparent pixels are composed over white.

    Inputs:
    - name: one of ``SAMPLE_PHOTOS`` ('grace_hopper.jpg', a photo of Grace Hopper)
    - size: the output's height and width

    Returns:
    - photo: (size, size, 3) uint8 RGB
    """
    func = "load_sample_photo"
    require_choice(func, "name", name, SAMPLE_PHOTOS)
    size = require_positive_int(func, "size", size)
    pixels = matplotlib.image.imread(cbook.get_sample_data(name, asfileobj=False))
    pixels = pixels / 255.0 if pixels.dtype == np.uint8 else pixels.astype(np.float64)
    if pixels.shape[2] == 4:  # RGBA: over white
        alpha = pixels[..., 3:]
        pixels = pixels[..., :3] * alpha + (1.0 - alpha)
    H, W, _ = pixels.shape
    f = min(H, W) // size  # each output pixel averages an f x f block
    if f == 0:
        raise ValueError(f"{func}: {name} is {H}x{W}; too small for {size}x{size}")
    side = f * size
    top, left = (H - side) // 2, (W - side) // 2
    crop = pixels[top : top + side, left : left + side]  # (side, side, 3)
    blocks = crop.reshape(size, f, size, f, 3).mean(axis=(1, 3))  # (size, size, 3)
    return np.round(255 * blocks).astype(np.uint8)


def shapes_inputs(model, images: np.ndarray) -> np.ndarray:
    """uint8 images (N, H, W, 3) as model inputs (N, 3, H, W): [0, 1] minus the mean image."""
    offset = input_offset(model).astype(model.dtype)  # (C, H, W)
    return to_nchw_float(images, model.dtype) - offset


def _top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k likeliest classes of scores (K,) and their softmax probabilities, likeliest first."""
    p = np.exp(scores - scores.max())
    p /= p.sum()  # (K,) softmax
    order = np.argsort(-p, kind="stable")[:k]
    return order, p[order]


def top_classes(model, image: np.ndarray, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """The model's k likeliest classes for one image.

    Inputs:
    - image: (C, H, W) one model input (mean image subtracted)
    - k: how many classes (at most the model's)

    Returns:
    - classes: (k,) class indices, likeliest first (ties: the smaller index)
    - probabilities: (k,) their softmax probabilities
    """
    func = "top_classes"
    require_vis_model(func, model)
    X = require_one_image(func, model, image)  # (1, C, H, W)
    k = min(require_positive_int(func, "k", k), model.num_classes)
    scores = np.asarray(model.loss(X)[0], dtype=np.float64)  # (num_classes,)
    return _top_k(scores, k)


class ActivationBrowser(WidgetView):
    """An ipywidgets view of :func:`~course.viz.activation_maps` and :func:`top_classes`.

    Controls (attributes, each an ipywidget): ``source`` (Shapes-10 test
    images, fresh ones, or photos), ``index_slider`` (which test image),
    ``new_image_button`` (draw a fresh image: the next seed), ``seed_box``
    (the fresh image's seed), ``photo_dropdown``, ``layer_dropdown`` (conv
    and pool layers), ``channel_slider``. The view: ``image_view`` (the
    input, enlarged with crisp pixels), ``map_view`` (the channel's map,
    enlarged), ``maps_view`` (all the layer's maps on one scale, the layer's
    largest value bright), ``classes_view`` (top-5 probabilities),
    ``info``, ``status``. What is on show: ``key``, ``image`` (the uint8
    picture), ``inputs`` (the model input (3, 32, 32)), ``activations`` (every
    layer's output), ``maps`` (F, H', W'), ``channel_map`` (H', W'),
    ``classes`` and ``probabilities`` (top 5), ``last_update_seconds``.
    ``figure()`` is ``plot_activation_maps`` of the image and layer on show.

    Inputs
    ------
    model : a TinyVGG-like model on Shapes-10 images, or None for the shipped one
    count : int, how many Shapes-10 test images the slider browses
    seed : int, the dataset's seed (0 made the shipped model's data, so its
        test images are ones it never saw)
    """

    def __init__(self, model: Any = None, count: int = 100, seed: int = 0) -> None:
        func = "ActivationBrowser"
        require_widget_model(func, model)
        self.count, self.seed = validate_image_source(func, count, seed)
        super().__init__()
        self.model = load_pretrained() if model is None else model
        self.layers = [n for n in self.model.layer_names() if layer_kind(n) in ("conv", "pool")]
        self._test_images, self._test_labels = generate_shapes(count, seed, stream=TEST_STREAM)
        # The caches: key -> (picture, label or None, model input, every layer's activations).
        self._seen: dict[tuple[str, Any], tuple[np.ndarray, int | None, np.ndarray, dict]] = {}
        self._image_pngs: dict[tuple[str, Any], bytes] = {}
        self._build_controls()
        self._update()

    def _build_controls(self) -> None:
        import ipywidgets as widgets  # here, not at import: importing the module shows nothing

        label, wide = {"description_width": "90px"}, {"width": "420px"}
        self.source = widgets.ToggleButtons(
            options=[("test images", "test"), ("fresh images", "fresh"), ("photos", "photo")],
            tooltips=[
                f"the first {self.count} Shapes-10 test images",
                "Shapes-10 images drawn just now",
                "pictures shipped with matplotlib, shrunk to 32x32",
            ],
            style={"button_width": "110px"},
        )
        self.index_slider = widgets.IntSlider(
            min=0, max=self.count - 1, description="test image", style=label, layout=wide
        )
        self.new_image_button = widgets.Button(
            description="new random image", layout={"width": "170px"}
        )
        self.seed_box = widgets.BoundedIntText(
            value=0,
            min=0,
            max=2**31 - 1,
            description="seed",
            style={"description_width": "40px"},
            layout={"width": "150px"},
        )
        self.photo_dropdown = widgets.Dropdown(
            options=SAMPLE_PHOTOS, description="photo", style=label
        )
        self.layer_dropdown = widgets.Dropdown(
            options=self.layers, value=self.layers[0], description="layer", style=label
        )
        first = self._image_of(("test", 0))[3]  # the first image's activations, cached
        self._channels = {name: first[name].shape[0] for name in self.layers}
        self.channel_slider = widgets.IntSlider(
            min=0,
            max=self._channels[self.layers[0]] - 1,
            description="channel",
            style=label,
            layout=wide,
        )
        self.image_view = widgets.Image(format="png")
        self.map_view = widgets.Image(format="png", layout={"margin": "0 12px"})
        self.maps_view = widgets.Image(format="png")
        self.classes_view = widgets.HTML(layout={"margin": "0 0 0 16px"})
        self.info = widgets.HTML()
        self.status = widgets.HTML()
        self.widget = widgets.VBox(
            [
                self.source,
                self.index_slider,
                widgets.HBox([self.new_image_button, self.seed_box]),
                self.photo_dropdown,
                self.layer_dropdown,
                self.channel_slider,
                self.info,
                widgets.HBox(
                    [self.image_view, self.map_view, self.classes_view],
                    layout={"margin": "8px 0", "align_items": "center"},
                ),
                self.maps_view,
                self.status,
            ]
        )
        self.source.observe(self._update, names="value")
        self.index_slider.observe(self._on_source("test"), names="value")
        self.seed_box.observe(self._on_source("fresh"), names="value")
        self.photo_dropdown.observe(self._on_source("photo"), names="value")
        self.layer_dropdown.observe(self._on_layer, names="value")
        self.channel_slider.observe(self._update, names="value")
        self.new_image_button.on_click(self._on_new_image)

    def _on_source(self, source: str):
        """An observer that switches to ``source`` (quietly) and redraws."""

        def observe(change: dict) -> None:
            if not self._quiet:
                self._set_quietly(self.source, value=source)
                self._update()

        return observe

    def _on_layer(self, change: dict) -> None:
        self._fit_slider(self.channel_slider, self._channels[self.layer])
        self._update()

    def _on_new_image(self, button: Any) -> None:
        self._set_quietly(self.source, value="fresh")
        self.seed_box.value += 1  # its observer shows the image

    # ---------------------------------------------------------------- what is shown

    @property
    def key(self) -> tuple[str, Any]:
        """('test', index), ('fresh', seed) or ('photo', name): the image on show."""
        value = {
            "test": self.index_slider.value,
            "fresh": self.seed_box.value,
            "photo": self.photo_dropdown.value,
        }[self.source.value]
        return (self.source.value, value)

    @property
    def layer(self) -> str:
        return self.layer_dropdown.value

    @property
    def channel(self) -> int:
        return self.channel_slider.value

    @property
    def image(self) -> np.ndarray:
        """The picture on show, (32, 32, 3) uint8."""
        return self._image_of(self.key)[0]

    @property
    def label(self) -> int | None:
        """The true class of the image on show; None for a photo."""
        return self._image_of(self.key)[1]

    @property
    def inputs(self) -> np.ndarray:
        """The model input (3, 32, 32) of the image on show."""
        return self._image_of(self.key)[2]

    @property
    def activations(self) -> dict[str, np.ndarray]:
        """``activation_maps(model, inputs)``: every layer's output for the image on show."""
        return self._image_of(self.key)[3]

    @property
    def maps(self) -> np.ndarray:
        """The layer's maps (F, H', W') for the image on show."""
        return self.activations[self.layer]

    @property
    def channel_map(self) -> np.ndarray:
        """The channel's map (H', W')."""
        return self.maps[self.channel]

    @property
    def classes(self) -> np.ndarray:
        """The top-5 classes (5,), likeliest first."""
        return _top_k(np.asarray(self.activations["scores"], dtype=np.float64), TOP_K)[0]

    @property
    def probabilities(self) -> np.ndarray:
        """Their probabilities (5,)."""
        return _top_k(np.asarray(self.activations["scores"], dtype=np.float64), TOP_K)[1]

    def figure(self) -> Figure:
        """The plain function's Figure: ``plot_activation_maps(model, inputs, layer)``."""
        return plot_activation_maps(self.model, self.inputs, self.layer)

    def _image_of(self, key: tuple[str, Any]) -> tuple[np.ndarray, int | None, np.ndarray, dict]:
        """(picture, label, model input, activations) of an image: computed once, cached."""
        if key not in self._seen:
            kind, value = key
            label: int | None = None
            if kind == "test":
                picture, label = self._test_images[value], int(self._test_labels[value])
            elif kind == "fresh":
                images, labels = generate_shapes(1, value, stream=FRESH_STREAM)
                picture, label = images[0], int(labels[0])
            else:
                picture = load_sample_photo(value)
            inputs = shapes_inputs(self.model, picture[None])[0]  # (3, 32, 32)
            self._seen[key] = (picture, label, inputs, activation_maps(self.model, inputs))
        return self._seen[key]

    def _render(self) -> None:
        key, layer, channel = self.key, self.layer, self.channel
        picture, label, _, activations = self._image_of(key)
        if key not in self._image_pngs:
            self._image_pngs[key] = picture_png(picture, fit_scale(picture.shape[0], IMAGE_PX))
        self.image_view.value = self._image_pngs[key]
        maps = activations[layer]  # (F, H', W')
        high = float(np.abs(maps).max())  # the layer's largest value: one scale for all maps
        side = maps.shape[1]
        heat = heat_picture(maps[channel], high)  # (H', W', 3)
        self.map_view.value = picture_png(heat, fit_scale(side, MAP_PX))
        grid = activation_grid(maps)  # (rows, cols, 3)
        self.maps_view.value = picture_png(grid, fit_scale(grid.shape[1], GRID_PX))
        classes, p = _top_k(np.asarray(activations["scores"], dtype=np.float64), TOP_K)
        names = [CLASS_NAMES[c] for c in classes]
        highlight = list(classes).index(label) if label in classes else -1
        self.classes_view.value = (
            "<div style='font-size:13px'><b>top-5 classes</b>"
            f"{bar_rows(names, p, highlight=highlight)}</div>"
        )
        self.info.value = (
            f"<div style='font-size:13px'>{self._heading(key, label)}; <b>{layer}</b> "
            f"channel {channel} of {len(maps)}, {side}x{maps.shape[2]}: "
            f"max {maps[channel].max():.3f} (the layer's max {high:.3f} is brightest)</div>"
        )

    @staticmethod
    def _heading(key: tuple[str, Any], label: int | None) -> str:
        kind, value = key
        truth = "" if label is None else f", {with_article(CLASS_NAMES[label])}"
        if kind == "test":
            return f"<b>test image {value}</b>{truth}"
        if kind == "fresh":
            return f"<b>fresh image</b>, seed {value}{truth}"
        return f"<b>photo</b> {html.escape(value)} (no Shapes-10 class)"

    def __repr__(self) -> str:
        kind, value = self.key
        return f"ActivationBrowser({kind} {value}, {self.layer} channel {self.channel})"
