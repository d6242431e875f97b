"""Receptive fields: which input pixels a neuron of a conv or pool layer can see.

Walking the layers from the input, each window of ``k`` pixels with stride
``s`` and padding ``p`` (see :func:`course.viz.architecture.layer_geometry`)
changes three numbers, all in input pixels:

1. size   r' = r + (k - 1) * j     (k neighbours, j input pixels apart)
2. offset o' = o - p * j           (the padding shifts the first window out)
3. jump   j' = j * s               (the distance between neighbouring neurons)

starting from r = 1, o = 0, j = 1 at the input. The neuron at (row, col) then
sees input rows ``o + row * j`` to ``o + row * j + r - 1`` (and likewise
columns); near the border part of that window is padding. For TinyVGG's
conv3x3 (pad 1) and 2x2 pools: conv1_1 sees 3x3 pixels, conv1_2 5x5, pool1
6x6 with a jump of 2, conv2_1 10x10, and so on.
"""

from __future__ import annotations

from dataclasses import dataclass

from course.viz._validation import require_index, require_layer, require_vis_model
from course.viz.architecture import layer_geometry


@dataclass(frozen=True)
class ReceptiveField:
    """A layer's receptive field, in input pixels, and the (H', W') size of its output."""

    size: int  # r: every neuron sees r x r input pixels (padding included)
    jump: int  # j: neighbouring neurons' windows are j pixels apart
    offset: int  # o: the first row (and column) of neuron (0, 0)'s window; < 0 is padding
    output_shape: tuple[int, int]  # (H', W') of the layer's maps


def receptive_fields(model) -> dict[str, ReceptiveField]:
    """The receptive field of every conv and pool layer, from the model's architecture.

    Returns:
    - dict layer name -> ReceptiveField, in the order of ``model.layer_names()``
    """
    require_vis_model("receptive_fields", model)
    _, H, W = model.input_dim
    size, jump, offset = 1, 1, 0
    fields = {}
    for layer in layer_geometry(model):
        k, s, p = layer.kernel, layer.stride, layer.pad
        size = size + (k - 1) * jump  # 1. k neighbours, jump apart
        offset = offset - p * jump  # 2. padding moves the first window out
        jump = jump * s  # 3.
        H, W = 1 + (H + 2 * p - k) // s, 1 + (W + 2 * p - k) // s
        fields[layer.name] = ReceptiveField(size, jump, offset, (H, W))
    return fields


def receptive_field_box(
    model, layer: str, row: int, col: int, clip: bool = True
) -> tuple[int, int, int, int]:
    """The input pixels that the neuron at (row, col) of ``layer`` sees.

    Inputs:
    - layer: a conv or pool layer name, e.g. 'conv2_1' or 'pool1'
    - row, col: the neuron's position in the layer's (H', W') maps
    - clip: clip the box to the image (otherwise it may reach into the padding)

    Returns:
    - (top, bottom, left, right): the box is ``image[:, top:bottom, left:right]``
      (half-open); unclipped, bottom - top = right - left = the receptive field size
    """
    func = "receptive_field_box"
    require_vis_model(func, model)
    layer = require_layer(func, model, layer, ("conv", "pool"))
    field = receptive_fields(model)[layer]
    H_out, W_out = field.output_shape
    row = require_index(func, "row", row, H_out, f"{layer} (rows)")
    col = require_index(func, "col", col, W_out, f"{layer} (columns)")
    top, left = field.offset + row * field.jump, field.offset + col * field.jump
    bottom, right = top + field.size, left + field.size
    if clip:
        _, H, W = model.input_dim
        top, left, bottom, right = max(top, 0), max(left, 0), min(bottom, H), min(right, W)
    return top, bottom, left, right
