"""Tests for course/vgg_table.py: VGG-16's shapes, parameter and memory counts, the table.

Memory is counted as the activations of one image in the forward pass: the
input plus the output of every conv, pool and fc layer (ReLUs are in place and
not counted), in numbers, and in bytes at 4 bytes (float32) per number.
"""

import dataclasses
import math

import pytest

from course.vgg_table import (
    TINY_VGG,
    VGG16,
    LayerSpec,
    VGGRow,
    conv,
    fc,
    format_vgg16_table,
    pool,
    print_vgg16_table,
    vgg16_table,
)

# Written out by hand from the paper's configuration D, not computed by the module.
VGG16_SHAPES = {
    "input": (224, 224, 3),
    "conv1_1": (224, 224, 64),
    "conv1_2": (224, 224, 64),
    "pool1": (112, 112, 64),
    "conv2_1": (112, 112, 128),
    "conv2_2": (112, 112, 128),
    "pool2": (56, 56, 128),
    "conv3_1": (56, 56, 256),
    "conv3_2": (56, 56, 256),
    "conv3_3": (56, 56, 256),
    "pool3": (28, 28, 256),
    "conv4_1": (28, 28, 512),
    "conv4_2": (28, 28, 512),
    "conv4_3": (28, 28, 512),
    "pool4": (14, 14, 512),
    "conv5_1": (14, 14, 512),
    "conv5_2": (14, 14, 512),
    "conv5_3": (14, 14, 512),
    "pool5": (7, 7, 512),
    "fc6": (4096,),
    "fc7": (4096,),
    "fc8": (1000,),
}

# weights + biases of every weight layer: (3*3*C_in)*F + F and D*U + U
VGG16_PARAMS = {
    "conv1_1": 1_792,
    "conv1_2": 36_928,
    "conv2_1": 73_856,
    "conv2_2": 147_584,
    "conv3_1": 295_168,
    "conv3_2": 590_080,
    "conv3_3": 590_080,
    "conv4_1": 1_180_160,
    "conv4_2": 2_359_808,
    "conv4_3": 2_359_808,
    "conv5_1": 2_359_808,
    "conv5_2": 2_359_808,
    "conv5_3": 2_359_808,
    "fc6": 102_764_544,
    "fc7": 16_781_312,
    "fc8": 4_097_000,
}

# input + conv block outputs + pool outputs + fc outputs, one term per layer
VGG16_ACTIVATIONS = (
    224 * 224 * 3
    + 2 * 224 * 224 * 64
    + 112 * 112 * 64
    + 2 * 112 * 112 * 128
    + 56 * 56 * 128
    + 3 * 56 * 56 * 256
    + 28 * 28 * 256
    + 3 * 28 * 28 * 512
    + 14 * 14 * 512
    + 3 * 14 * 14 * 512
    + 7 * 7 * 512
    + 4096
    + 4096
    + 1000
)


def _by_name(rows):
    return {row.name: row for row in rows}


def test_vgg16_total_parameters_with_biases():
    rows = vgg16_table()
    assert sum(row.params for row in rows) == 138_357_544


def test_vgg16_per_layer_parameters():
    rows = _by_name(vgg16_table())
    assert {name: row.params for name, row in rows.items() if row.params} == VGG16_PARAMS
    assert all(rows[name].params == 0 for name in ("input", "pool1", "pool3", "pool5"))


def test_first_fc_layer_holds_most_parameters():
    rows = vgg16_table()
    fc6 = _by_name(rows)["fc6"]
    assert fc6.params == 7 * 7 * 512 * 4096 + 4096 == 102_764_544
    assert max(rows, key=lambda row: row.params) is fc6


def test_vgg16_without_biases_matches_the_cs231n_numbers():
    rows = vgg16_table(biases=False)
    named = _by_name(rows)
    assert named["conv1_1"].params == 1_728
    assert named["conv1_2"].params == 36_864
    assert named["fc6"].params == 102_760_448
    biases = 2 * 64 + 2 * 128 + 3 * 256 + 6 * 512 + 2 * 4096 + 1000
    assert sum(row.params for row in rows) == 138_344_128 == 138_357_544 - biases


def test_vgg16_activation_total_matches_hand_sum():
    rows = vgg16_table()
    total = sum(row.activations for row in rows)
    assert VGG16_ACTIVATIONS == 15_237_608
    assert total == VGG16_ACTIVATIONS
    assert total * 4 == 60_950_432  # bytes, ~61 MB per image forward
    # most of the memory is in the early conv layers, at full resolution
    assert max(rows, key=lambda row: row.activations).name == "conv1_1"
    early = sum(row.activations for row in rows[:4])  # input .. pool1
    assert early / total > 0.45


def test_vgg16_shapes_and_row_layout():
    rows = vgg16_table()
    assert [row.name for row in rows] == list(VGG16_SHAPES)
    assert {row.name: row.shape for row in rows} == VGG16_SHAPES
    assert _by_name(rows)["pool5"].shape == (7, 7, 512)
    for row in rows:
        assert isinstance(row, VGGRow)
        name, shape, activations, params = row  # rows unpack as 4-tuples
        assert activations == math.prod(shape)


def test_vgg16_config_is_configuration_d():
    kinds = [spec.kind for spec in VGG16]
    assert kinds.count("conv") == 13 and kinds.count("pool") == 5 and kinds.count("fc") == 3
    for spec in VGG16:
        if spec.kind == "conv":
            assert (spec.kernel, spec.stride, spec.pad) == (3, 1, 1)
        if spec.kind == "pool":
            assert (spec.kernel, spec.stride) == (2, 2)
    assert [spec.units for spec in VGG16 if spec.kind == "fc"] == [4096, 4096, 1000]
    assert isinstance(VGG16, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        VGG16[1].filters = 32


def test_vgg16_on_32x32_input():
    rows = _by_name(vgg16_table((32, 32, 3)))
    assert rows["pool1"].shape == (16, 16, 64)
    assert rows["pool5"].shape == (1, 1, 512)
    assert rows["fc6"].params == 512 * 4096 + 4096
    for name in VGG16_PARAMS:  # conv counts do not depend on the input size
        if name.startswith("conv"):
            assert rows[name].params == VGG16_PARAMS[name]


@pytest.mark.parametrize("input_shape", [(32, 32, 3), (64, 48, 1), (8, 12, 5)])
def test_tiny_vgg_any_tiling_input(input_shape):
    H, W, C = input_shape
    rows = vgg16_table(input_shape, TINY_VGG)
    named = _by_name(rows)
    assert named["conv1_1"].shape == (H, W, 16)
    assert named["conv1_1"].params == 3 * 3 * C * 16 + 16
    assert named["pool2"].shape == (H // 4, W // 4, 32)
    assert named["fc3"].shape == (10,)
    assert named["fc3"].params == (H // 4) * (W // 4) * 32 * 10 + 10


def test_custom_config_with_strided_conv_and_fc_after_fc():
    config = (
        LayerSpec("input", "image"),
        conv("c1", 8, kernel=5, stride=2, pad=2),  # 1 + (9 + 4 - 5) // 2 = 5
        pool("p1", kernel=3, stride=2),  # 1 + (5 - 3) // 2 = 2
        fc("f1", 7),
        fc("f2", 3),
    )
    rows = vgg16_table((9, 9, 2), config)
    assert [(row.name, row.shape, row.params) for row in rows] == [
        ("image", (9, 9, 2), 0),
        ("c1", (5, 5, 8), 5 * 5 * 2 * 8 + 8),
        ("p1", (2, 2, 8), 0),
        ("f1", (7,), 2 * 2 * 8 * 7 + 7),
        ("f2", (3,), 7 * 3 + 3),
    ]


@pytest.mark.parametrize(
    "input_shape, layer",
    [((100, 100, 3), "pool3"), ((224, 100, 3), "pool3"), ((225, 225, 3), "pool1")],
)
def test_pool_that_does_not_tile_names_the_layer(input_shape, layer):
    with pytest.raises(ValueError, match=f"'{layer}'.*does not tile.*divisible by 32"):
        vgg16_table(input_shape)


def test_window_larger_than_input():
    with pytest.raises(ValueError, match="'pool1'.*larger than H=1"):
        vgg16_table((1, 1, 3), TINY_VGG)
    with pytest.raises(ValueError, match="'c'.*larger than W=2"):
        vgg16_table((5, 2, 1), (LayerSpec("input", "in"), conv("c", 4, pad=0)))


def test_conv_that_does_not_tile_names_the_layer():
    config = (LayerSpec("input", "in"), conv("c", 4, kernel=3, stride=2, pad=0))
    with pytest.raises(ValueError, match=r"'c'.*\(8 \+ 0 - 3\) % 2 = 1"):
        vgg16_table((8, 8, 1), config)


@pytest.mark.parametrize(
    "config, message",
    [
        ((), "non-empty"),
        ((conv("c1", 8),), "must start with an input layer.*'c1'"),
        ((LayerSpec("input", "in"), conv("c", 4), conv("c", 4)), "'c' appears twice"),
        (
            (LayerSpec("input", "in"), LayerSpec("input", "in2")),
            "'in2' is an input layer at position 1",
        ),
        ((LayerSpec("input", "in"), fc("f", 4), conv("c", 4)), "'c' follows fc layer 'f'"),
        ((LayerSpec("input", "in"), fc("f", 4), pool("p")), "'p' follows fc layer 'f'"),
    ],
)
def test_malformed_config(config, message):
    with pytest.raises(ValueError, match=message):
        vgg16_table((8, 8, 3), config)


def test_config_item_that_is_not_a_layer_spec():
    with pytest.raises(TypeError, match=r"config\[1\] is a tuple"):
        vgg16_table((8, 8, 3), (LayerSpec("input", "in"), ("conv", "c", 4)))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: LayerSpec("dense", "d1", units=4), "'d1'.*kind must be one of"),
        (lambda: conv("c1", 0), "'c1'.*filters must be a positive integer"),
        (lambda: fc("f1", -3), "'f1'.*units must be a positive integer"),
        (lambda: pool("p1", kernel=0), "'p1'.*kernel must be a positive integer"),
        (lambda: LayerSpec("pool", "p2", filters=8, kernel=2), "'p2'.*pool layer has no filters"),
        (lambda: LayerSpec("fc", "f2", units=4, kernel=3), "'f2'.*fc layer has no kernel"),
        (lambda: LayerSpec("pool", "p3", kernel=2, pad=1), "'p3'.*only a conv layer"),
        (lambda: conv("c2", 8, pad=-1), "'c2'.*pad must be a non-negative"),
        (lambda: LayerSpec("conv", "", filters=8, kernel=3), "name must be a non-empty"),
    ],
)
def test_malformed_layer_spec(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_non_integer_layer_size_is_a_type_error():
    with pytest.raises(TypeError, match="'c1'.*filters must be an integer"):
        conv("c1", 64.0)


@pytest.mark.parametrize("input_shape", [(224, 224), (224, 224, 3, 1), 224])
def test_bad_input_shape(input_shape):
    with pytest.raises(ValueError, match=r"input_shape must be \(H, W, C\)"):
        vgg16_table(input_shape)


def test_zero_input_size():
    with pytest.raises(ValueError, match="input_shape must be a positive integer"):
        vgg16_table((0, 224, 3))


def test_table_text_has_the_cs231n_lines():
    text = format_vgg16_table()
    for line in (
        "INPUT: [224x224x3] memory: 224*224*3=150K params: 0",
        "conv1_1  CONV3-64: [224x224x64] memory: 224*224*64=3.2M params: (3*3*3)*64 + 64 = 1,792",
        "POOL2: [112x112x64] memory: 112*112*64=800K params: 0",
        "CONV3-512: [28x28x512] memory: 28*28*512=400K params: (3*3*512)*512 + 512 = 2,359,808",
        "pool5    POOL2: [7x7x512] memory: 7*7*512=25K params: 0",
        "fc6      FC: [1x1x4096] memory: 4096 params: 7*7*512*4096 + 4096 = 102,764,544",
        "FC: [1x1x1000] memory: 1000 params: 4096*1000 + 1000 = 4,097,000",
        "TOTAL memory: 15,237,608 numbers (15.2M) * 4 bytes = 60,950,432 bytes ~= 61 MB",
        "forward only",
        "TOTAL params: 138,357,544 (138M) parameters",
        "Most params: fc6 [7x7x512] -> [1x1x4096] holds 102,764,544 (74% of the total)",
        "Most memory: conv1_1 [224x224x64]",
    ):
        assert line in text, line
    assert len(text.splitlines()) == 1 + 22 + 4


def test_table_text_without_biases():
    text = format_vgg16_table(biases=False)
    assert "CONV3-64: [224x224x64] memory: 224*224*64=3.2M params: (3*3*3)*64 = 1,728" in text
    assert "FC: [1x1x4096] memory: 4096 params: 7*7*512*4096 = 102,760,448" in text
    assert "TOTAL params: 138,344,128" in text


def test_table_text_bytes_per_number_and_small_config():
    assert "* 8 bytes = 121,900,864 bytes ~= 122 MB" in format_vgg16_table(bytes_per_number=8)
    text = format_vgg16_table((32, 32, 3), TINY_VGG)
    assert "INPUT: [32x32x3] memory: 32*32*3=3072 params: 0" in text
    assert "fc3      FC: [1x1x10] memory: 10 params: 8*8*32*10 + 10 = 20,490" in text
    total = sum(row.params for row in vgg16_table((32, 32, 3), TINY_VGG))
    assert f"TOTAL params: {total:,}" in text


def test_print_matches_format(capsys):
    print_vgg16_table((64, 64, 3), TINY_VGG, biases=False)
    assert capsys.readouterr().out == format_vgg16_table((64, 64, 3), TINY_VGG, False) + "\n"


def test_format_errors_like_the_table():
    with pytest.raises(ValueError, match="format_vgg16_table: layer 'pool3'"):
        format_vgg16_table((100, 100, 3))
    with pytest.raises(ValueError, match="bytes_per_number must be a positive integer"):
        format_vgg16_table(bytes_per_number=0)
