"""Visualising what a ConvNet learned: filters, activations, receptive fields, gradients.

Every function takes a TinyVGG-like model (the ``params`` / ``loss`` contract
plus ``layer_names``, ``activations``, ``conv_activations``, ``input_dim``,
``mean_image``, and ``input_gradient`` for the gradient-based views) and
model inputs X (N, C, H, W): pixels in [0, 1] minus ``model.mean_image``.
Each returns arrays (or a small dataclass of arrays), and a ``plot_*``
companion returns a matplotlib Figure built without pyplot. Randomness is
seeded by a ``seed`` argument. Importing this package draws nothing.

- ``filters``: :func:`filter_grid`, :func:`plot_filters`
- ``activations``: :func:`activation_maps`, :func:`activation_grid`, :func:`plot_activation_maps`
- ``receptive_field``: :func:`receptive_fields`, :func:`receptive_field_box`
  (the geometry read from the model is :func:`layer_geometry`, in ``architecture``)
- ``top_patches``: :func:`top_patches` (a :class:`TopPatches`), :func:`plot_top_patches`
- ``saliency``: :func:`saliency_maps`, :func:`plot_saliency_maps`
- ``class_visualisation``: :func:`class_visualisation_step`, :func:`class_visualisation`,
  :func:`gaussian_blur`, :func:`plot_class_visualisations`
- ``fooling``: :func:`make_fooling_image` (:class:`FoolingFailed`), :func:`plot_fooling_image`
- ``neighbours``: :func:`nearest_neighbours` (a :class:`Neighbours`),
  :func:`plot_nearest_neighbours`
- ``confusion``: :func:`predict_classes`, :func:`confusion_matrix`,
  :func:`per_class_accuracy`, :func:`plot_confusion_matrix`
- ``pixels``: :func:`to_pixels`, :func:`input_range` (model inputs back to pictures)
"""

from course.viz.activations import activation_grid, activation_maps, plot_activation_maps
from course.viz.architecture import LayerGeometry, conv_weights, layer_geometry
from course.viz.class_visualisation import (
    class_visualisation,
    class_visualisation_step,
    gaussian_blur,
    plot_class_visualisations,
)
from course.viz.confusion import (
    confusion_matrix,
    per_class_accuracy,
    plot_confusion_matrix,
    predict_classes,
)
from course.viz.filters import filter_grid, plot_filters
from course.viz.fooling import FoolingFailed, make_fooling_image, plot_fooling_image
from course.viz.neighbours import Neighbours, nearest_neighbours, plot_nearest_neighbours
from course.viz.pixels import input_range, to_pixels
from course.viz.receptive_field import ReceptiveField, receptive_field_box, receptive_fields
from course.viz.saliency import plot_saliency_maps, saliency_maps
from course.viz.top_patches import (
    TopPatches,
    layer_peaks,
    map_peaks,
    plot_top_patches,
    top_patches,
)

__all__ = [
    "FoolingFailed",
    "LayerGeometry",
    "Neighbours",
    "ReceptiveField",
    "TopPatches",
    "activation_grid",
    "activation_maps",
    "class_visualisation",
    "class_visualisation_step",
    "confusion_matrix",
    "conv_weights",
    "filter_grid",
    "gaussian_blur",
    "input_range",
    "layer_geometry",
    "make_fooling_image",
    "nearest_neighbours",
    "per_class_accuracy",
    "plot_activation_maps",
    "plot_class_visualisations",
    "plot_confusion_matrix",
    "plot_filters",
    "plot_fooling_image",
    "plot_nearest_neighbours",
    "plot_saliency_maps",
    "plot_top_patches",
    "predict_classes",
    "receptive_field_box",
    "receptive_fields",
    "saliency_maps",
    "to_pixels",
    "top_patches",
    "layer_peaks",
    "map_peaks",
]
