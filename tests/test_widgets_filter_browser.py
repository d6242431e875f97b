"""Tests of course/widgets/filter_browser.py: filter_picture and plot_filter on the shipped
TinyVGG, and the browser driven programmatically (its controls set as clicks would set them)."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure
from viz_models import tiny_vgg

import course.widgets.filter_browser as filter_browser
from course.models import load_pretrained
from course.viz import conv_weights, filter_grid
from course.widgets import FilterBrowser, filter_picture, plot_filter


@pytest.fixture(scope="module")
def model():
    return load_pretrained()


@pytest.fixture
def drawn(monkeypatch):
    """Count the grids that plot_filters draws for the browser."""
    calls = []
    plot = filter_browser.plot_filters

    def counting(model, layer, channel=None):
        calls.append((layer, channel))
        return plot(model, layer, channel)

    monkeypatch.setattr(filter_browser, "plot_filters", counting)
    return calls


@pytest.fixture
def browser(model, drawn):
    return FilterBrowser(model)


def test_filter_picture_of_a_first_layer_filter_is_its_rgb_weights_rescaled(model):
    w = conv_weights(model, "conv1_1")[5].astype(np.float64)  # (3, 3, 3)
    expected = ((w - w.min()) / (w.max() - w.min())).transpose(1, 2, 0)
    np.testing.assert_allclose(filter_picture(model, "conv1_1", 5), expected)


def test_filter_picture_of_a_deeper_filter_tiles_its_slices_on_one_scale(model):
    w = conv_weights(model, "conv2_1")[3].astype(np.float64)  # (16, 3, 3): 16 input channels
    picture = filter_picture(model, "conv2_1", 3)
    assert picture.shape == (4 * 4 - 1, 4 * 4 - 1, 3)  # 4 x 4 tiles of 3x3, 1 pixel apart
    scaled = (w - w.min()) / (w.max() - w.min())
    for c in (0, 6, 15):
        r, col = divmod(c, 4)
        tile = picture[4 * r : 4 * r + 3, 4 * col : 4 * col + 3]
        np.testing.assert_allclose(tile, np.repeat(scaled[c][..., None], 3, axis=-1))
    fig = plot_filter(model, "conv2_1", 3)
    assert isinstance(fig, Figure) and "conv2_1 filter 3: its 16 input channels" in (
        fig.axes[0].get_title()
    )


def test_the_browser_starts_on_the_first_layer_in_colour(browser, model, drawn):
    assert browser.layer == "conv1_1" and browser.channel is None
    assert browser.channel_slider.disabled and browser.filter_slider.max == 15
    np.testing.assert_array_equal(browser.grid, filter_grid(model, "conv1_1"))
    np.testing.assert_array_equal(browser.picture, filter_picture(model, "conv1_1", 0))
    assert bytes(browser.grid_view.value).startswith(b"\x89PNG") and drawn == [("conv1_1", None)]
    assert browser.last_update_seconds > 0 and "updated in" in browser.status.value
    assert repr(browser) == "FilterBrowser(conv1_1, RGB, filter 0)"
    assert "application/vnd.jupyter.widget-view+json" in browser._repr_mimebundle_()
    assert browser.figure().axes[0].get_title() == "conv1_1: 16 filters 3x3, RGB"


def test_a_deeper_layer_shows_one_input_channel_and_its_filters(browser, model):
    before = browser.grid_view.value
    browser.layer_dropdown.value = "conv3_1"
    assert not browser.channel_slider.disabled
    assert (browser.channel_slider.max, browser.filter_slider.max) == (31, 63)
    np.testing.assert_array_equal(browser.grid, filter_grid(model, "conv3_1", 0))
    assert browser.grid_view.value != before
    browser.channel_slider.value = 20
    np.testing.assert_array_equal(browser.grid, filter_grid(model, "conv3_1", 20))
    browser.filter_slider.value = 50
    np.testing.assert_array_equal(browser.picture, filter_picture(model, "conv3_1", 50))
    assert "filter 50</b>" in browser.info.value and "(32, 3, 3)" in browser.info.value
    browser.layer_dropdown.value = "conv1_2"  # 16 filters of 16 channels: the sliders shrink
    assert (browser.channel, browser.index) == (15, 15)
    assert repr(browser) == "FilterBrowser(conv1_2, input channel 15, filter 15)"


def test_the_grid_is_drawn_once_per_layer_and_channel(browser, drawn):
    browser.filter_slider.value = 7  # only the enlarged filter changes
    assert drawn == [("conv1_1", None)]
    browser.layer_dropdown.value = "conv2_2"
    browser.channel_slider.value = 3
    browser.filter_slider.value = 9
    browser.channel_slider.value = 0
    browser.layer_dropdown.value = "conv1_1"
    browser.layer_dropdown.value = "conv2_2"
    assert drawn == [("conv1_1", None), ("conv2_2", 0), ("conv2_2", 3)]
    assert browser.updates == 8  # the first view and 7 changes


def test_the_browser_shows_any_tinyvgg_like_model():
    model = tiny_vgg(input_dim=(3, 8, 8), stages=((3,), (4,)))
    browser = FilterBrowser(model)
    assert browser.layers == ["conv1_1", "conv2_1"]
    browser.layer_dropdown.value = "conv2_1"
    assert browser.filter_slider.max == 3 and browser.channel_slider.max == 2
    assert not browser.channel_slider.disabled  # 3 input maps, but not RGB: a grey channel
    np.testing.assert_array_equal(browser.grid, filter_grid(model, "conv2_1", 0))
    assert browser.picture.shape == (7, 7, 3)  # its 3 slices tiled 2 x 2, in grey


def test_bad_arguments_are_rejected_clearly(model):
    with pytest.raises(TypeError, match="FilterBrowser: model must be a TinyVGG-like model"):
        FilterBrowser("tinyvgg")
    with pytest.raises(ValueError, match=r"filter_picture: layer must be one of the conv layers"):
        filter_picture(model, "pool1", 0)
    with pytest.raises(ValueError, match=r"index=16 is out of range; conv1_1's filters has 16"):
        filter_picture(model, "conv1_1", 16)
