"""Tests for course/viz/receptive_field.py and course/viz/architecture.py."""

import numpy as np
import pytest
from viz_models import pretrained_and_shapes, random_images, tiny_vgg

from course.viz import layer_geometry, receptive_field_box, receptive_fields


def test_pretrained_receptive_fields_grow_through_the_layers():
    model = pretrained_and_shapes()[0]
    fields = receptive_fields(model)
    assert list(fields) == [n for n in model.layer_names() if n[:4] in ("conv", "pool")]
    sizes = {name: f.size for name, f in fields.items()}
    assert sizes == {
        "conv1_1": 3,
        "conv1_2": 5,
        "pool1": 6,
        "conv2_1": 10,
        "conv2_2": 14,
        "pool2": 16,
        "conv3_1": 24,
        "conv3_2": 32,
        "pool3": 36,
    }
    assert [fields[n].jump for n in ("conv1_1", "pool1", "conv2_1", "pool2", "pool3")] == [
        1,
        2,
        2,
        4,
        8,
    ]
    assert fields["pool2"].output_shape == (8, 8) and fields["pool3"].output_shape == (4, 4)
    assert fields["conv1_1"].offset == -1


def test_geometry_is_read_from_the_model():
    model = tiny_vgg(stages=((2, 3), (4,)), input_dim=(3, 12, 16))
    geometry = layer_geometry(model)
    assert [(g.name, g.kind, g.kernel, g.stride, g.pad) for g in geometry] == [
        ("conv1_1", "conv", 3, 1, 1),
        ("conv1_2", "conv", 3, 1, 1),
        ("pool1", "pool", 2, 2, 0),
        ("conv2_1", "conv", 3, 1, 1),
        ("pool2", "pool", 2, 2, 0),
    ]
    assert receptive_fields(model)["pool2"].output_shape == (3, 4)  # non-square images


def test_box_of_a_neuron_is_clipped_to_the_image():
    model = pretrained_and_shapes()[0]
    assert receptive_field_box(model, "conv1_1", 0, 0) == (0, 2, 0, 2)
    assert receptive_field_box(model, "conv1_1", 0, 0, clip=False) == (-1, 2, -1, 2)
    assert receptive_field_box(model, "conv1_1", 5, 7) == (4, 7, 6, 9)
    assert receptive_field_box(model, "pool1", 3, 2) == (4, 10, 2, 8)
    assert receptive_field_box(model, "pool3", 1, 2, clip=False) == (-6, 30, 2, 38)
    assert receptive_field_box(model, "pool3", 1, 2) == (0, 30, 2, 32)


@pytest.mark.parametrize("layer", ["conv1_1", "conv1_2", "pool1", "conv2_1", "pool2"])
def test_box_holds_every_pixel_that_moves_the_neuron(layer):
    """Brute force: perturb each input pixel alone; only pixels in the box change the neuron."""
    model = tiny_vgg(stages=((2, 2), (3,)), input_dim=(2, 12, 12))
    X = random_images(model, 1)
    C, H, W = model.input_dim
    batch = np.repeat(X, H * W, axis=0)  # (H*W, C, H, W): image p has pixel p raised
    batch.reshape(H * W, C, H * W)[np.arange(H * W), :, np.arange(H * W)] += 10.0
    base = model.conv_activations(X)[layer][0]  # (F, H', W')
    moved = np.abs(model.conv_activations(batch)[layer] - base).max(axis=1) > 1e-12
    moved = moved.reshape(H, W, *base.shape[1:])  # (H, W, H', W'): pixel moved neuron
    H_out, W_out = base.shape[1:]
    for row in range(H_out):
        for col in range(W_out):
            top, bottom, left, right = receptive_field_box(model, layer, row, col)
            inside = np.zeros((H, W), dtype=bool)
            inside[top:bottom, left:right] = True
            assert not (moved[:, :, row, col] & ~inside).any(), (row, col)
    assert moved.any()


def test_bad_inputs_name_the_function():
    model = pretrained_and_shapes()[0]
    with pytest.raises(ValueError, match="receptive_field_box: layer must be one of the conv"):
        receptive_field_box(model, "fc1", 0, 0)
    with pytest.raises(ValueError, match="receptive_field_box: row=16 is out of range"):
        receptive_field_box(model, "pool1", 16, 0)
    with pytest.raises(TypeError, match="receptive_fields: model must be a TinyVGG-like"):
        receptive_fields(object())
