"""Tests for course/viz/activations.py: every layer's output for one image."""

import numpy as np
import pytest
from matplotlib.figure import Figure
from viz_models import pretrained_and_shapes

from course.viz import activation_grid, activation_maps, plot_activation_maps


def test_maps_of_every_layer_for_one_image():
    model, X, _ = pretrained_and_shapes()
    maps = activation_maps(model, X[3])
    assert list(maps) == model.layer_names()
    assert maps["conv1_1"].shape == (16, 32, 32) and maps["pool2"].shape == (32, 8, 8)
    assert maps["fc1"].shape == (128,) and maps["scores"].shape == (10,)
    np.testing.assert_allclose(maps["scores"], model.loss(X[3:4])[0], rtol=1e-5, atol=1e-5)
    assert all((maps[n] >= 0).all() for n in model.layer_names()[:-1])  # after ReLUs


def test_grid_shares_one_scale_unless_asked():
    maps = np.stack([np.full((2, 3), 1.0), np.full((2, 3), 4.0)])  # (2, 2, 3)
    shared = activation_grid(maps, padding=1)
    assert shared.shape == (2, 2 * 3 + 1, 3)  # two tiles in one row
    assert shared[0, 0, 0] == pytest.approx(0.25) and shared[0, 4, 0] == pytest.approx(1.0)
    own = activation_grid(np.array([[[0.0, 2.0]], [[1.0, 5.0]]]), per_map_scale=True)
    np.testing.assert_allclose(own[0, [0, 1, 3, 4], 0], [0, 1, 0, 1])


def test_plot_has_the_image_and_the_grid():
    model, X, _ = pretrained_and_shapes()
    fig = plot_activation_maps(model, X[0], "conv2_2", max_maps=8)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert "8 of 32 maps, 16x16" in fig.axes[1].get_title()


def test_bad_inputs_name_the_function():
    model, X, _ = pretrained_and_shapes()
    with pytest.raises(ValueError, match=r"activation_maps: image has shape \(2, 3, 32, 32\)"):
        activation_maps(model, X[:2])
    with pytest.raises(ValueError, match="plot_activation_maps: layer must be one of"):
        plot_activation_maps(model, X[0], "fc1")
    with pytest.raises(ValueError, match="activation_grid: maps has shape"):
        activation_grid(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="activation_maps: image has dtype int64"):
        activation_maps(model, np.zeros((3, 32, 32), dtype=np.int64))
