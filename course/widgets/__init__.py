"""Widgets: interactive views for exploring the course's models in a notebook.

Every widget is a thin view over plain functions that return data or
matplotlib Figures, so what a widget shows can also be computed, tested and
saved without a browser. Importing this package draws, loads and displays
nothing, and does not import ipywidgets: a widget builds its controls when
it is constructed.

- ``caption_browser``: :class:`CaptionBrowser`, caption scenes with the
  shipped LSTM captioner's greedy and beam-search captions, their
  log-probabilities and the judge's verdict; its plain functions are
  :func:`describe_scene` (a :class:`CaptionReport`) and
  :func:`plot_word_probabilities`.
- ``filter_browser``: :class:`FilterBrowser`, a conv layer's filters and one
  enlarged; plain functions :func:`course.viz.plot_filters`,
  :func:`filter_picture` and :func:`plot_filter`.
- ``activation_browser``: :class:`ActivationBrowser`, every layer's maps for
  a Shapes-10 test image, a fresh one or a photo, and the top-5 classes;
  plain functions :func:`course.viz.plot_activation_maps`, :func:`top_classes`,
  :func:`load_sample_photo` and :func:`shapes_inputs`.
- ``neuron_browser``: :class:`NeuronBrowser`, a channel's top-activating
  patches and their classes; plain function :func:`course.viz.plot_top_patches`.
- ``saliency_explorer``: :class:`SaliencyExplorer`, saliency maps, class
  visualisations and fooling images; plain functions
  :func:`course.viz.plot_saliency_maps`, :func:`~course.viz.plot_class_visualisations`
  and :func:`~course.viz.plot_fooling_image`.
- ``training_monitor``: :class:`TrainingMonitor`, a live loss and accuracy
  plot fed by the Solver's callbacks; plain function :func:`plot_solver_history`.
"""

from course.widgets.activation_browser import (
    ActivationBrowser,
    load_sample_photo,
    shapes_inputs,
    top_classes,
)
from course.widgets.caption_browser import (
    CaptionBrowser,
    CaptionReport,
    DecodedCaption,
    describe_scene,
    plot_word_probabilities,
)
from course.widgets.filter_browser import FilterBrowser, filter_picture, plot_filter
from course.widgets.neuron_browser import NeuronBrowser
from course.widgets.saliency_explorer import SaliencyExplorer
from course.widgets.training_monitor import TrainingMonitor, plot_solver_history

__all__ = [
    "ActivationBrowser",
    "CaptionBrowser",
    "CaptionReport",
    "DecodedCaption",
    "FilterBrowser",
    "NeuronBrowser",
    "SaliencyExplorer",
    "TrainingMonitor",
    "describe_scene",
    "filter_picture",
    "load_sample_photo",
    "plot_filter",
    "plot_solver_history",
    "plot_word_probabilities",
    "shapes_inputs",
    "top_classes",
]
