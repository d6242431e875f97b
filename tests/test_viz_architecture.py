"""Tests for course/viz/architecture.py: a model's conv and pool layers, read from the model."""

import pytest
from viz_models import tiny_vgg

from course.viz import conv_weights, layer_geometry
from course.viz.architecture import layer_kind


def test_conv_weights_follow_the_layer_order():
    model = tiny_vgg(stages=((2, 3), (4,)))
    assert conv_weights(model, "conv1_2") is model.params["W2"]
    assert conv_weights(model, "conv2_1").shape == (4, 3, 3, 3)
    assert [layer_kind(n) for n in model.layer_names()] == [
        "conv", "conv", "pool", "conv", "pool", "fc", "scores"
    ]  # fmt: skip


def test_geometry_uses_the_model_conv_param():
    model = tiny_vgg()
    model.conv_param = {"stride": 1, "pad": 2}  # a what-if: the geometry follows the model
    assert {g.pad for g in layer_geometry(model) if g.kind == "conv"} == {2}


def test_bad_inputs_name_the_function():
    with pytest.raises(ValueError, match="conv_weights: layer must be one of the conv layers"):
        conv_weights(tiny_vgg(), "conv9_9")
    with pytest.raises(TypeError, match="layer_geometry: model must be a TinyVGG-like model"):
        layer_geometry(object())
