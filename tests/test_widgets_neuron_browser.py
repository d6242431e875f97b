"""Tests of course/widgets/neuron_browser.py: the browser driven programmatically (its controls
set as a student's clicks would set them) agrees with course.viz.top_patches, and computes a
network over the dataset once, when it is made."""

from __future__ import annotations

import io

import matplotlib.image
import numpy as np
import pytest

from course.data.shapes import CLASS_NAMES, generate_shapes
from course.models import load_pretrained
from course.viz import receptive_fields, top_patches
from course.widgets import NeuronBrowser, shapes_inputs

COUNT = 300  # two batches of 250 images per layer


@pytest.fixture(scope="module")
def model():
    return load_pretrained()


@pytest.fixture
def passes(model, monkeypatch):
    """Count the forward passes (batches) the browser runs over its images."""
    calls = []
    compute = model.conv_activations

    def counting(X):
        calls.append(len(X))
        return compute(X)

    monkeypatch.setattr(model, "conv_activations", counting)
    return calls


@pytest.fixture
def browser(model, passes):
    return NeuronBrowser(model, count=COUNT, k=6)


def test_the_browser_shows_the_top_patches_of_the_first_channel(browser, model, passes):
    images, labels = generate_shapes(COUNT, 0, stream=2)
    X = shapes_inputs(model, images)
    np.testing.assert_array_equal(browser.X, X)
    expected = top_patches(model, X, "conv1_1", 0, k=6, labels=labels)  # maps computed anew
    result = browser.result
    np.testing.assert_array_equal(result.indices, expected.indices)
    np.testing.assert_array_equal(result.patches, expected.patches)
    np.testing.assert_array_equal(result.histogram, expected.histogram)
    assert passes[:2] == [250, 50] and browser.peaks["conv1_1"][0].shape == (COUNT, 16)
    # One row of 6 patches of 3x3 pixels, 2 white pixels apart, each enlarged 21x.
    assert matplotlib.image.imread(io.BytesIO(bytes(browser.patches_view.value))).shape[:2] == (
        3 * 21,
        (6 * 5 - 2) * 21,
    )
    for n in result.indices:
        assert CLASS_NAMES[labels[n]] in browser.captions.value
    assert repr(browser) == "NeuronBrowser(conv1_1 channel 0, top 6 of 300)"
    assert len(browser.figure().axes) == 7  # 6 patches and the histogram


def test_no_control_change_runs_the_network_again(browser, model, passes):
    before = browser.patches_view.value
    browser.channel_slider.value = 9
    assert browser.result.channel == 9 and browser.patches_view.value != before
    browser.channel_slider.value = 3
    assert len(passes) == 2  # the construction's two batches, nothing more
    browser.layer_dropdown.value = "conv3_1"
    assert len(passes) == 2 and browser.channel_slider.max == 63
    size = receptive_fields(model)["conv3_1"].size
    assert browser.result.patches.shape == (6, 3, size, size)
    for channel in (10, 20, 10):
        browser.channel_slider.value = channel
    browser.layer_dropdown.value = "conv1_1"  # back
    assert browser.channel == 10 and len(passes) == 2
    maps = model.conv_activations(browser.X)["conv1_1"]
    expected = top_patches(model, browser.X, "conv1_1", 10, 6, browser.labels, maps)
    np.testing.assert_array_equal(browser.result.indices, expected.indices)


def test_the_histogram_counts_the_classes_of_the_patches(browser):
    browser.layer_dropdown.value = "pool3"
    browser.channel_slider.value = 5
    histogram = browser.result.histogram
    assert histogram.sum() == 6
    np.testing.assert_array_equal(
        histogram, np.bincount(browser.labels[browser.result.indices], minlength=10)
    )
    assert "pool3</b> channel 5 of 64" in browser.info.value
    for name, count in zip(CLASS_NAMES, histogram, strict=True):
        assert f"{name}</td>" in browser.histogram_view.value and f">{count}</td>" in (
            browser.histogram_view.value
        )


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"model": "tinyvgg"}, TypeError, "model must be a TinyVGG-like model"),
        ({"count": 2001}, ValueError, "count=2001 images; browse at most 2000"),
        ({"k": 0}, ValueError, "k must be a positive integer, got 0"),
        ({"k": 17}, ValueError, "k=17 patches; the browser shows 1 to 16"),
    ],
)
def test_the_browser_rejects_bad_arguments_clearly(kwargs, error, message):
    with pytest.raises(error, match=f"NeuronBrowser: {message}"):
        NeuronBrowser(**{"count": 2, **kwargs})
