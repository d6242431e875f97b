"""Tests of course/widgets/saliency_explorer.py: the explorer driven programmatically (its
controls set as a student's clicks would set them) agrees with course.viz and caches results."""

from __future__ import annotations

import numpy as np
import pytest

import course.widgets.saliency_explorer as saliency_explorer
from course.data.shapes import CLASS_NAMES
from course.models import load_pretrained
from course.viz import FoolingFailed, class_visualisation, make_fooling_image, saliency_maps
from course.widgets import SaliencyExplorer

ITERATIONS = 5  # class visualisation steps: enough to test, fast


@pytest.fixture(scope="module")
def model():
    return load_pretrained()


@pytest.fixture
def calls(monkeypatch):
    """Count the explorer's class visualisations and fooling images."""
    counts = {"class": 0, "fooling": 0}
    visualise, fool = saliency_explorer.class_visualisation, saliency_explorer.make_fooling_image

    def counting_visualise(*args, **kwargs):
        counts["class"] += 1
        return visualise(*args, **kwargs)

    def counting_fool(*args, **kwargs):
        counts["fooling"] += 1
        return fool(*args, **kwargs)

    monkeypatch.setattr(saliency_explorer, "class_visualisation", counting_visualise)
    monkeypatch.setattr(saliency_explorer, "make_fooling_image", counting_fool)
    return counts


@pytest.fixture
def explorer(model, calls):
    return SaliencyExplorer(model, count=10, class_iterations=ITERATIONS)


def test_the_explorer_starts_on_the_predicted_class_of_the_first_image(explorer, model):
    X = explorer.X[:1]
    predicted = int(model.loss(X)[0].argmax())
    assert explorer.target == explorer.predicted == predicted
    np.testing.assert_array_equal(
        explorer.saliency, saliency_maps(model, X, np.array([predicted]))[0]
    )
    expected = class_visualisation(model, predicted, num_iterations=ITERATIONS)
    np.testing.assert_array_equal(explorer.result, expected)
    assert f"predicted {CLASS_NAMES[predicted]}" in explorer.info.value
    assert explorer.last_update_seconds > 0
    assert len(explorer.figure().axes) == 2 and len(explorer.result_figure().axes) == 1
    assert (
        repr(explorer) == f"SaliencyExplorer(test image 0, class {CLASS_NAMES[predicted]}, class)"
    )


def test_a_class_change_explains_that_class_and_caches_its_image(explorer, model, calls):
    before = (explorer.saliency_view.value, explorer.result_view.value)
    first = explorer.predicted
    target = (first + 3) % 10
    explorer.class_dropdown.value = target
    assert explorer.target == target
    np.testing.assert_array_equal(
        explorer.saliency, saliency_maps(model, explorer.inputs, np.array([target]))[0]
    )
    assert (explorer.saliency_view.value, explorer.result_view.value) != before
    assert f"as a <b>{CLASS_NAMES[target]}</b>" in explorer.info.value
    assert calls["class"] == 2
    for index in (4, 7, 4):  # the class image does not depend on the image: not recomputed
        explorer.index_slider.value = index
    assert calls == {"class": 2, "fooling": 0}
    explorer.class_dropdown.value = -1  # image 4's predicted class: new unless seen
    assert explorer.target == explorer.predicted
    assert calls == {"class": len({first, target, explorer.predicted}), "fooling": 0}


def test_the_fooling_image_is_predicted_as_the_class(explorer, model, calls):
    explorer.index_slider.value = 2
    target = (explorer.predicted + 1) % 10
    explorer.class_dropdown.value = target
    explorer.result_buttons.value = "fooling"
    fooling, steps = make_fooling_image(model, explorer.inputs, target)
    np.testing.assert_array_equal(explorer.result, fooling)
    assert explorer.fooling_steps == steps > 0
    assert int(model.loss(explorer.result)[0].argmax()) == target
    assert f"predicted <b>{CLASS_NAMES[target]}</b> after {steps} steps" in explorer.info.value
    assert len(explorer.result_figure().axes) == 3
    explorer.index_slider.value = 3
    explorer.index_slider.value = 2  # back: cached
    assert calls["fooling"] == 2


def test_a_failed_fooling_image_is_reported_not_raised(explorer, monkeypatch):
    def failing(*args, **kwargs):
        raise FoolingFailed("make_fooling_image: the model still predicts class 0")

    monkeypatch.setattr(saliency_explorer, "make_fooling_image", failing)
    explorer.class_dropdown.value = (explorer.predicted + 2) % 10
    explorer.result_buttons.value = "fooling"
    assert explorer.result is None and "no fooling image" in explorer.info.value
    with pytest.raises(FoolingFailed, match="no fooling image of test image 0"):
        explorer.result_figure()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"model": object()}, TypeError, "model must be a TinyVGG-like model"),
        ({"count": 0}, ValueError, "count must be a positive integer, got 0"),
        ({"class_iterations": 0}, ValueError, "class_iterations must be a positive integer"),
    ],
)
def test_the_explorer_rejects_bad_arguments_clearly(kwargs, error, message):
    with pytest.raises(error, match=f"SaliencyExplorer: {message}"):
        SaliencyExplorer(**{"count": 2, **kwargs})
