"""Tests of course/widgets/activation_browser.py: the plain functions on the shipped TinyVGG, and
the browser driven programmatically (its controls set as a student's clicks would set them)."""

from __future__ import annotations

import io

import matplotlib.image
import numpy as np
import pytest
from matplotlib import cbook
from viz_models import tiny_vgg

import course.widgets.activation_browser as activation_browser
from course.data.shapes import generate_shapes
from course.models import load_pretrained
from course.viz import activation_maps
from course.widgets import ActivationBrowser, load_sample_photo, shapes_inputs, top_classes

COUNT = 8


@pytest.fixture(scope="module")
def model():
    return load_pretrained()


@pytest.fixture
def forward_passes(monkeypatch):
    """Count the browser's activation_maps calls (one forward pass each)."""
    calls = []
    compute = activation_browser.activation_maps

    def counting(model, image):
        calls.append(image)
        return compute(model, image)

    monkeypatch.setattr(activation_browser, "activation_maps", counting)
    return calls


@pytest.fixture
def browser(model, forward_passes):
    return ActivationBrowser(model, count=COUNT)


def _png_shape(png) -> tuple[int, ...]:
    return matplotlib.image.imread(io.BytesIO(bytes(png)), format="png").shape


def test_load_sample_photo_crops_the_centre_and_averages_blocks():
    photo = load_sample_photo("grace_hopper.jpg")
    assert photo.shape == (32, 32, 3) and photo.dtype == np.uint8
    raw = matplotlib.image.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    H, W, _ = raw.shape  # (600, 512): the crop is 512 x 512, from row 44, blocks of 16 x 16
    f = min(H, W) // 32
    top, left = (H - 32 * f) // 2, (W - 32 * f) // 2
    for i, j in ((0, 0), (10, 20), (31, 31)):
        block = raw[top + i * f : top + (i + 1) * f, left + j * f : left + (j + 1) * f]
        np.testing.assert_allclose(photo[i, j], block.reshape(-1, 3).mean(0), atol=0.5)
    present = load_sample_photo("Minduka_Present_Blue_Pack.png", size=16)
    assert present.shape == (16, 16, 3) and present[0, 0].min() > 200  # transparent: white


def test_top_classes_are_the_softmax_of_the_scores_largest_first(model):
    images, _ = generate_shapes(2, 0, stream=2)
    inputs = shapes_inputs(model, images)
    expected = images.transpose(0, 3, 1, 2) / 255.0 - model.mean_image  # (2, 3, 32, 32)
    assert inputs.dtype == np.float32
    np.testing.assert_allclose(inputs, expected, atol=1e-6)
    scores = model.loss(inputs[1:2])[0].astype(np.float64)
    p = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
    classes, probabilities = top_classes(model, inputs[1], k=5)
    np.testing.assert_array_equal(classes, np.argsort(-p)[:5])
    np.testing.assert_allclose(probabilities, np.sort(p)[::-1][:5], rtol=1e-6)
    assert len(top_classes(model, inputs[1], k=50)[0]) == 10  # at most the model's classes


def test_the_browser_starts_on_the_first_test_image(browser, model, forward_passes):
    images, labels = generate_shapes(COUNT, 0, stream=2)
    np.testing.assert_array_equal(browser.image, images[0])
    assert browser.label == labels[0] and browser.key == ("test", 0)
    inputs = shapes_inputs(model, images[:1])[0]
    expected = activation_maps(model, inputs)
    assert list(browser.activations) == model.layer_names()
    np.testing.assert_array_equal(browser.maps, expected["conv1_1"])
    np.testing.assert_array_equal(browser.channel_map, expected["conv1_1"][0])
    classes, probabilities = top_classes(model, inputs)
    np.testing.assert_array_equal(browser.classes, classes)
    np.testing.assert_allclose(browser.probabilities, probabilities, rtol=1e-6)
    assert _png_shape(browser.image_view.value)[:2] == (192, 192)  # 6x, crisp pixels
    assert browser.layers == [
        "conv1_1",
        "conv1_2",
        "pool1",
        "conv2_1",
        "conv2_2",
        "pool2",
        "conv3_1",
        "conv3_2",
        "pool3",
    ]
    assert len(forward_passes) == 1 and browser.last_update_seconds > 0
    assert repr(browser) == "ActivationBrowser(test 0, conv1_1 channel 0)"
    assert len(browser.figure().axes) == 2


def test_layer_and_channel_changes_redraw_without_running_the_net(browser, forward_passes):
    views = (browser.map_view.value, browser.maps_view.value)
    browser.layer_dropdown.value = "conv3_1"
    assert browser.channel_slider.max == 63 and browser.maps.shape == (64, 8, 8)
    assert _png_shape(browser.map_view.value)[:2] == (192, 192)
    browser.channel_slider.value = 40
    np.testing.assert_array_equal(browser.channel_map, browser.activations["conv3_1"][40])
    assert (browser.map_view.value, browser.maps_view.value) != views
    assert "conv3_1</b> channel 40 of 64, 8x8" in browser.info.value
    browser.layer_dropdown.value = "pool1"  # 16 channels: the channel slider shrinks
    assert browser.channel == 15 and browser.maps.shape == (16, 16, 16)
    assert len(forward_passes) == 1  # the first image's forward pass, nothing more
    browser.index_slider.value = 3
    browser.index_slider.value = 0  # back: cached
    assert len(forward_passes) == 2 and browser.updates == 6


def test_new_image_draws_a_fresh_image_on_an_unused_stream(browser, model):
    browser.new_image_button.click()
    assert browser.key == ("fresh", 1) and browser.source.value == "fresh"
    images, labels = generate_shapes(1, 1, stream=3)
    np.testing.assert_array_equal(browser.image, images[0])
    assert browser.label == labels[0]
    np.testing.assert_array_equal(
        browser.activations["pool2"],
        activation_maps(model, shapes_inputs(model, images)[0])["pool2"],
    )
    assert "fresh image</b>, seed 1" in browser.info.value
    browser.index_slider.value = 2  # the slider goes back to the test images
    assert browser.key == ("test", 2)


def test_a_photo_is_shown_with_the_model_s_guesses(browser, model):
    browser.photo_dropdown.value = "Minduka_Present_Blue_Pack.png"
    assert browser.key == ("photo", "Minduka_Present_Blue_Pack.png") and browser.label is None
    np.testing.assert_array_equal(browser.image, load_sample_photo(browser.key[1]))
    classes, _ = top_classes(model, shapes_inputs(model, browser.image[None])[0])
    np.testing.assert_array_equal(browser.classes, classes)
    assert "no Shapes-10 class" in browser.info.value
    assert browser.classes_view.value.count("<tr") == 5


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"model": "tinyvgg"}, TypeError, "model must be a TinyVGG-like model"),
        (
            {"model": tiny_vgg()},
            ValueError,
            r"model takes \(3, 8, 8\) inputs .* needs \(3, 32, 32\)",
        ),
        ({"count": 0}, ValueError, "count must be a positive integer, got 0"),
        ({"count": 10**5}, ValueError, "count=100000 images; browse at most 5000"),
        ({"seed": -2}, ValueError, "seed must be a non-negative integer"),
    ],
)
def test_the_browser_rejects_bad_arguments_clearly(kwargs, error, message):
    with pytest.raises(error, match=f"ActivationBrowser: {message}"):
        ActivationBrowser(**{"count": 2, **kwargs})


def test_the_plain_functions_reject_bad_arguments_clearly(model):
    with pytest.raises(ValueError, match=r"load_sample_photo: name must be one of \("):
        load_sample_photo("cat.jpg")
    with pytest.raises(ValueError, match=r"top_classes: image has shape \(1, 3, 32, 32\)"):
        top_classes(model, np.zeros((1, 3, 32, 32), np.float32))
