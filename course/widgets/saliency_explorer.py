"""Explore the gradient of a class score on the pixels: saliency, class images, fooling images.

The plain functions do the work, and the widget only shows their results:

- :func:`course.viz.saliency_maps` / :func:`~course.viz.plot_saliency_maps`:
  which pixels the class score hangs on, max over channels of |dS_y / dX|;
- :func:`course.viz.class_visualisation` / :func:`~course.viz.plot_class_visualisations`:
  an image the model scores highly as the class, by gradient ascent from noise;
- :func:`course.viz.make_fooling_image` / :func:`~course.viz.plot_fooling_image`:
  the image changed imperceptibly until the model predicts the class.

:class:`SaliencyExplorer` is the ipywidgets view over them: a Shapes-10 test
image (a slider) and a class (a dropdown; "predicted" follows the model's
prediction), the saliency map, and beside it the class visualisation or the
fooling image (toggle buttons). Every result is computed once and cached: a
saliency map is one backward pass (a few ms), a fooling image about 10 to 20
(tens of ms), a class visualisation ``class_iterations`` steps (25: about
70 ms on two cores). Typical use in a notebook::

    from course.widgets import SaliencyExplorer
    explorer = SaliencyExplorer()
    explorer                     # shows the widget
    explorer.saliency            # the saliency map on show, (32, 32)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.figure import Figure

from course.data.shapes import CLASS_NAMES, generate_shapes
from course.models.pretrained import load_pretrained
from course.validation import require_positive_int
from course.viz import (
    FoolingFailed,
    class_visualisation,
    make_fooling_image,
    plot_class_visualisations,
    plot_fooling_image,
    plot_saliency_maps,
    saliency_maps,
    to_pixels,
)
from course.viz.pixels import rescale
from course.widgets._validation import require_widget_model, validate_image_source
from course.widgets._view import WidgetView, fit_scale, heat_picture, picture_png, with_article
from course.widgets.activation_browser import TEST_STREAM, shapes_inputs

__all__ = ["SaliencyExplorer"]

PREDICTED = -1  # the class dropdown's value for "the model's prediction"
IMAGE_PX = 160  # each picture is shown about this many screen pixels wide
RESULTS = ("class", "fooling")


class SaliencyExplorer(WidgetView):
    """An ipywidgets view of saliency maps, class visualisations and fooling images.

    Controls (attributes, each an ipywidget): ``index_slider`` (which test
    image), ``class_dropdown`` (the class y; ``PREDICTED`` (-1) follows the
    model's prediction), ``result_buttons`` ('class': the class
    visualisation of y; 'fooling': the image changed until the model
    predicts y). The view: ``image_view``, ``saliency_view``,
    ``result_view`` (the class image, or the fooling image beside its
    difference from the original, magnified), ``info``, ``status``. What is
    on show: ``index``, ``target`` (y), ``inputs`` (1, 3, 32, 32),
    ``predicted``, ``saliency`` (32, 32), ``result`` (1, 3, 32, 32: the class
    image or the fooling image; None when fooling failed), ``fooling_steps``,
    ``last_update_seconds``. ``figure()`` and ``result_figure()`` are the
    plain functions' Figures of what is on show.

    Inputs
    ------
    model : a TinyVGG-like model on Shapes-10 images, or None for the shipped one
    count : int, how many Shapes-10 test images the slider browses
    seed : int, the dataset's seed (0 made the shipped model's data)
    class_iterations : int, gradient-ascent steps of a class visualisation
        (about 2.5 ms each on two cores; 25 keeps a class change near 100 ms)
    """

    def __init__(
        self, model: Any = None, count: int = 100, seed: int = 0, class_iterations: int = 25
    ) -> None:
        func = "SaliencyExplorer"
        require_widget_model(func, model)
        self.count, self.seed = validate_image_source(func, count, seed)
        self.class_iterations = require_positive_int(func, "class_iterations", class_iterations)
        super().__init__()
        self.model = load_pretrained() if model is None else model
        images, self.labels = generate_shapes(count, seed, stream=TEST_STREAM)
        self.X = shapes_inputs(self.model, images)  # (N, 3, 32, 32)
        # The caches: index -> predicted class; (index, class) -> saliency (32, 32);
        # class -> class image (1, 3, 32, 32); (index, class) -> (fooling image or None, steps).
        self._predicted: dict[int, int] = {}
        self._saliency: dict[tuple[int, int], np.ndarray] = {}
        self._class_images: dict[int, np.ndarray] = {}
        self._fooling: dict[tuple[int, int], tuple[np.ndarray | None, int]] = {}
        self._build_controls()
        self._update()

    def _build_controls(self) -> None:
        import ipywidgets as widgets  # here, not at import: importing the module shows nothing

        label = {"description_width": "90px"}
        self.index_slider = widgets.IntSlider(
            min=0,
            max=self.count - 1,
            description="test image",
            style=label,
            layout={"width": "420px"},
        )
        self.class_dropdown = widgets.Dropdown(
            options=[("predicted", PREDICTED)] + [(n, c) for c, n in enumerate(CLASS_NAMES)],
            value=PREDICTED,
            description="class",
            style=label,
        )
        self.result_buttons = widgets.ToggleButtons(
            options=[("class visualisation", "class"), ("fooling image", "fooling")],
            tooltips=[
                f"an image the model scores as the class ({self.class_iterations} steps)",
                "the image changed just enough that the model predicts the class",
            ],
            style={"button_width": "150px"},
        )
        box = {"margin": "0 12px 0 0"}
        self.image_view = widgets.Image(format="png", layout=box)
        self.saliency_view = widgets.Image(format="png", layout=box)
        self.result_view = widgets.Image(format="png")
        self.info = widgets.HTML()
        self.status = widgets.HTML()
        self.widget = widgets.VBox(
            [
                self.index_slider,
                self.class_dropdown,
                self.result_buttons,
                widgets.HBox(
                    [self.image_view, self.saliency_view, self.result_view],
                    layout={"margin": "8px 0"},
                ),
                self.info,
                self.status,
            ]
        )
        for control in (self.index_slider, self.class_dropdown, self.result_buttons):
            control.observe(self._update, names="value")

    # ---------------------------------------------------------------- what is shown

    @property
    def index(self) -> int:
        return self.index_slider.value

    @property
    def inputs(self) -> np.ndarray:
        """The image on show as a model input (1, 3, 32, 32)."""
        return self.X[self.index : self.index + 1]

    @property
    def predicted(self) -> int:
        """The model's class for the image on show."""
        return self._predicted_of(self.index)

    @property
    def target(self) -> int:
        """The class y explained: the dropdown's, or the predicted class."""
        chosen = self.class_dropdown.value
        return self.predicted if chosen == PREDICTED else chosen

    @property
    def saliency(self) -> np.ndarray:
        """``saliency_maps(model, inputs, [target])[0]`` (32, 32)."""
        return self._saliency_of(self.index, self.target)

    @property
    def result(self) -> np.ndarray | None:
        """The class image, or the fooling image (None when fooling failed), (1, 3, 32, 32)."""
        if self.result_buttons.value == "class":
            return self._class_image_of(self.target)
        return self._fooling_of(self.index, self.target)[0]

    @property
    def fooling_steps(self) -> int:
        """The gradient steps the fooling image of (image, target) took (or tried)."""
        return self._fooling_of(self.index, self.target)[1]

    def figure(self) -> Figure:
        """The plain function's Figure: ``plot_saliency_maps`` of the image and class on show."""
        return plot_saliency_maps(self.model, self.inputs, np.array([self.target]), CLASS_NAMES)

    def result_figure(self) -> Figure:
        """``plot_class_visualisations`` or ``plot_fooling_image`` of the result on show."""
        if self.result_buttons.value == "class":
            image = self._class_image_of(self.target)
            return plot_class_visualisations(self.model, image, [self.target], CLASS_NAMES)
        fooling = self._fooling_of(self.index, self.target)[0]
        if fooling is None:
            raise FoolingFailed(
                f"SaliencyExplorer: no fooling image of test image {self.index} as "
                f"{CLASS_NAMES[self.target]}: the model did not predict it within 100 steps"
            )
        return plot_fooling_image(self.model, self.inputs, fooling, CLASS_NAMES)

    def _predicted_of(self, index: int) -> int:
        if index not in self._predicted:
            self._predicted[index] = int(self.model.loss(self.X[index : index + 1])[0].argmax())
        return self._predicted[index]

    def _saliency_of(self, index: int, target: int) -> np.ndarray:
        if (index, target) not in self._saliency:
            X = self.X[index : index + 1]
            self._saliency[index, target] = saliency_maps(self.model, X, np.array([target]))[0]
        return self._saliency[index, target]

    def _class_image_of(self, target: int) -> np.ndarray:
        if target not in self._class_images:
            self.status.value = "<span style='color:gray'>computing the class image...</span>"
            image = class_visualisation(self.model, target, num_iterations=self.class_iterations)
            self._class_images[target] = image  # (1, 3, 32, 32)
        return self._class_images[target]

    def _fooling_of(self, index: int, target: int) -> tuple[np.ndarray | None, int]:
        if (index, target) not in self._fooling:
            self.status.value = "<span style='color:gray'>computing the fooling image...</span>"
            try:
                fooling, steps = make_fooling_image(self.model, self.X[index : index + 1], target)
            except FoolingFailed:
                fooling, steps = None, 100  # make_fooling_image's max_iterations
            self._fooling[index, target] = (fooling, steps)
        return self._fooling[index, target]

    def _render(self) -> None:
        index, target = self.index, self.target
        scale = fit_scale(32, IMAGE_PX)
        picture = to_pixels(self.model, self.inputs)[0]  # (32, 32, 3)
        self.image_view.value = picture_png(picture, scale)
        self.saliency_view.value = picture_png(
            heat_picture(self._saliency_of(index, target), cmap="hot"), scale
        )
        name, truth = CLASS_NAMES[target], CLASS_NAMES[int(self.labels[index])]
        heading = (
            f"<b>test image {index}</b>, {with_article(truth)}, "
            f"predicted {CLASS_NAMES[self.predicted]}; "
            f"saliency of the <b>{name}</b> score (brighter: the score hangs on that pixel)"
        )
        if self.result_buttons.value == "class":
            image = self._class_image_of(target)
            self.result_view.value = picture_png(to_pixels(self.model, image)[0], scale)
            score = float(self.model.loss(image)[0, target])
            detail = (
                f"right: an image the model scores as a <b>{name}</b> (score {score:.1f}), by "
                f"{self.class_iterations} steps of gradient ascent from noise"
            )
        else:
            fooling, steps = self._fooling_of(index, target)
            if fooling is None:
                self.result_view.value = b""
                detail = f"no fooling image: the model still disagrees after {steps} steps"
            else:
                difference = (fooling - self.inputs)[0]  # (3, 32, 32)
                pair = np.concatenate(
                    [
                        to_pixels(self.model, fooling)[0],
                        np.ones((32, 2, 3)),  # a white gap
                        rescale(difference).transpose(1, 2, 0),  # (32, 32, 3)
                    ],
                    axis=1,
                )  # (32, 66, 3)
                self.result_view.value = picture_png(pair, scale)
                now = CLASS_NAMES[int(self.model.loss(fooling)[0].argmax())]
                detail = (
                    f"right: the fooling image, predicted <b>{now}</b> after {steps} steps, "
                    f"and its change (max {np.abs(difference).max():.3f}), magnified"
                )
        self.info.value = f"<div style='font-size:13px'>{heading}<br>{detail}</div>"

    def __repr__(self) -> str:
        return (
            f"SaliencyExplorer(test image {self.index}, class {CLASS_NAMES[self.target]}, "
            f"{self.result_buttons.value})"
        )
