"""Tests for course/viz/filters.py: conv filters tiled into one picture."""

import numpy as np
import pytest
from matplotlib.figure import Figure
from viz_models import pretrained_and_shapes, tiny_vgg

from course.viz import conv_weights, filter_grid, plot_filters


def test_first_layer_grid_is_rgb_and_normalised_per_filter():
    model = pretrained_and_shapes()[0]
    w = model.params["W1"]  # (16, 3, 3, 3)
    grid = filter_grid(model, "conv1_1", padding=1)
    assert grid.shape == (4 * 4 - 1, 4 * 4 - 1, 3)  # 4x4 tiles of 3x3, 1 pixel apart
    tile = grid[4:7, 8:11]  # filter 6: row 1, column 2
    low, high = w[6].min(), w[6].max()
    np.testing.assert_allclose(tile, ((w[6] - low) / (high - low)).transpose(1, 2, 0), atol=1e-6)
    for f in range(16):
        r, c = divmod(f, 4)
        block = grid[4 * r : 4 * r + 3, 4 * c : 4 * c + 3]
        assert block.min() == pytest.approx(0) and block.max() == pytest.approx(1)


def test_deeper_layer_shows_one_input_channel_in_grey():
    model = pretrained_and_shapes()[0]
    w = conv_weights(model, "conv2_1")
    assert w.shape == (32, 16, 3, 3) and w is model.params["W3"]
    grid = filter_grid(model, "conv2_1", channel=5)
    assert grid.shape == (6 * 4 - 1, 6 * 4 - 1, 3)  # 32 tiles: ceil(sqrt(32)) = 6 columns, 6 rows
    np.testing.assert_array_equal(grid[..., 0], grid[..., 2])  # grey
    first = grid[:3, :3, 0]
    low, high = w[0, 5].min(), w[0, 5].max()
    np.testing.assert_allclose(first, (w[0, 5] - low) / (high - low), atol=1e-6)


def test_plot_filters_is_one_axes_figure():
    model = tiny_vgg(input_dim=(1, 8, 8))
    fig = plot_filters(model, "conv1_1")  # one input channel: grey
    assert isinstance(fig, Figure) and len(fig.axes) == 1


def test_bad_inputs_name_the_function():
    model = pretrained_and_shapes()[0]
    with pytest.raises(ValueError, match="filter_grid: channel=16 is out of range"):
        filter_grid(model, "conv2_1", channel=16)
    with pytest.raises(ValueError, match="filter_grid: layer must be one of the conv layers"):
        filter_grid(model, "pool1")
