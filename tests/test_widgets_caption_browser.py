"""Tests of course/widgets/caption_browser.py: the plain functions on known scenes, and the
widget driven programmatically (its controls set as a student's clicks would set them).

The captioner is the shipped one; the browser's split is kept small (a few scenes), so the
features it computes up front take a fraction of a second.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys

import matplotlib.image
import numpy as np
import pytest
from matplotlib.figure import Figure

import course.widgets.caption_browser as caption_browser
from course.data import (
    decode_captions,
    generate_caption_scenes,
    judge_caption,
    load_caption_scenes,
    render_caption_scenes,
)
from course.data.caption_scenes import CaptionScene, SceneObject
from course.recipes.caption_pipeline import load_captioner
from course.widgets import CaptionBrowser, describe_scene, plot_word_probabilities

COUNT = 6  # test scenes in the browser
GREY = (0.25, 0.25, 0.25)
RED_CIRCLE = CaptionScene(
    (SceneObject("circle", "red", "large", x=32.0, y=32.0, radius=11.0),), GREY
)
TWO_SHAPES = CaptionScene(
    (
        SceneObject("square", "blue", "large", x=18.0, y=32.0, radius=11.0),
        SceneObject("star", "yellow", "small", x=48.0, y=32.0, radius=6.5),
    ),
    GREY,
)


@pytest.fixture(scope="module")
def captioner():
    return load_captioner()


@pytest.fixture(scope="module")
def test_split():
    """The browser's scenes, made independently of it: images, scenes, 5 true captions each."""
    data = load_caption_scenes(num_train=1, num_val=0, num_test=COUNT, seed=0)
    texts = decode_captions(data["test_captions"], data["idx_to_word"])
    references = [tuple(texts[5 * i : 5 * i + 5]) for i in range(COUNT)]
    return data["test_images"], data["test_scenes"], references


@pytest.fixture
def counted(captioner, monkeypatch):
    """Count the captioner's feature computations and describe_scene's calls."""
    calls = {"features": 0, "images": 0, "describe": 0}
    features, describe = captioner.features, caption_browser.describe_scene

    def counting_features(images, verbose=False):
        calls["features"] += 1
        calls["images"] += len(images)
        return features(images, verbose=verbose)

    def counting_describe(*args, **kwargs):
        calls["describe"] += 1
        return describe(*args, **kwargs)

    monkeypatch.setattr(captioner, "features", counting_features)
    monkeypatch.setattr(caption_browser, "describe_scene", counting_describe)
    return calls


@pytest.fixture
def browser(captioner, counted):
    return CaptionBrowser(captioner, count=COUNT, verbose=False)


def _shown_pixels(png: bytes) -> np.ndarray:
    return np.round(matplotlib.image.imread(io.BytesIO(png), format="png")[..., :3] * 255)


# ---------------------------------------------------------------------------
# describe_scene and plot_word_probabilities
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("scene", [RED_CIRCLE, TWO_SHAPES], ids=["one shape", "two shapes"])
def test_describe_scene_judges_the_true_captions_and_the_model_s_captions(captioner, scene):
    image = render_caption_scenes([scene])[0]
    report = describe_scene(captioner, image, scene, beam_width=5)
    assert len(report.references) == 5
    assert all(judge_caption(text, scene).true for text in report.references)
    for caption in (report.greedy, report.beam):  # plain scenes the shipped model gets right
        assert caption.exactly_true is True and caption.false_facts == ()
        assert caption.words[-1] == "<END>" and caption.text == " ".join(caption.words[:-1])
        assert caption.logprob == pytest.approx(sum(caption.word_logprobs))
    assert report.beam.logprob >= report.greedy.logprob - 1e-9  # the greedy caption competes


def test_a_caption_of_the_wrong_scene_is_judged_false_and_its_false_facts_named(captioner):
    image = render_caption_scenes([RED_CIRCLE])[0]
    report = describe_scene(captioner, image, TWO_SHAPES, beam_width=3)  # the wrong scene
    assert "circle" in report.beam.text
    assert report.beam.exactly_true is False
    assert "shape: a circle" in report.beam.false_facts
    assert all(judge_caption(text, TWO_SHAPES).true for text in report.references)


def test_describe_scene_agrees_with_the_captioner_and_the_model_s_scores(captioner, test_split):
    images, scenes, _ = test_split
    features = captioner.features(images[:1])  # (1, D)
    report = describe_scene(captioner, images[0], scenes[0], beam_width=4)
    for caption, beam_width in ((report.greedy, None), (report.beam, 4)):
        (text,), logprob = captioner.caption_features(features, beam_width, max_length=12)
        assert caption.text == text
        assert caption.logprob == pytest.approx(float(logprob[0]), abs=1e-5)
        indices = [captioner.model.word_to_idx[word] for word in caption.words]
        scored = captioner.model.score_captions(features, np.array([indices]))[0]
        np.testing.assert_allclose(caption.word_logprobs, scored, atol=1e-5)


def test_describe_scene_without_a_scene_judges_nothing_and_reuses_given_features(
    captioner, test_split
):
    images, scenes, references = test_split
    blind = describe_scene(captioner, images[1], beam_width=2)
    assert blind.references == () and blind.scene is None
    assert blind.greedy.exactly_true is None and blind.beam.judgement is None
    features = captioner.features(images[1:2])[0]
    known = describe_scene(
        captioner, images[1], scenes[1], 2, references=list(references[1]), features=features
    )
    assert known.references == references[1]
    assert known.beam.text == blind.beam.text and known.greedy.words == blind.greedy.words
    assert known == describe_scene(captioner, images[1], scenes[1], 2, references=references[1])


def test_plot_word_probabilities_draws_one_bar_per_word(captioner, test_split):
    images, scenes, _ = test_split
    report = describe_scene(captioner, images[2], scenes[2], beam_width=3)
    fig = plot_word_probabilities(report)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    for ax, caption in zip(fig.axes, (report.greedy, report.beam), strict=True):
        assert [label.get_text() for label in ax.get_xticklabels()] == list(caption.words)
        heights = [bar.get_height() for bar in ax.patches]
        np.testing.assert_allclose(heights, np.exp(caption.word_logprobs))
        assert f"{caption.logprob:.2f}" in ax.get_title(loc="left")
    assert "beam search (width 3)" in fig.axes[1].get_title(loc="left")


def test_the_plain_functions_reject_bad_arguments_clearly(captioner, test_split):
    images, scenes, _ = test_split
    with pytest.raises(TypeError, match="captioner must be a Captioner.*load_captioner"):
        describe_scene("captioner-lstm", images[0])
    with pytest.raises(TypeError, match="image has dtype float64; expected uint8"):
        describe_scene(captioner, images[0] / 255.0)
    with pytest.raises(ValueError, match=r"shape \(1, 64, 64, 3\).*not a batch: pass images\[i\]"):
        describe_scene(captioner, images[:1])
    with pytest.raises(TypeError, match="scene must be a CaptionScene"):
        describe_scene(captioner, images[0], scene="a red circle")
    with pytest.raises(ValueError, match="beam_width must be a positive integer, got 0"):
        describe_scene(captioner, images[0], beam_width=0)
    with pytest.raises(TypeError, match="references must be a list of caption strings"):
        describe_scene(captioner, images[0], scenes[0], references="a red circle")
    with pytest.raises(ValueError, match=r"features must be the \(D,\) = \(1792,\) features"):
        describe_scene(captioner, images[0], features=np.zeros(10, dtype=np.float32))
    with pytest.raises(TypeError, match="report must be a CaptionReport.*describe_scene"):
        plot_word_probabilities({"greedy": "a red circle"})


# ---------------------------------------------------------------------------
# The widget
# ---------------------------------------------------------------------------


def test_the_browser_starts_on_the_first_scene_as_describe_scene_sees_it(
    browser, captioner, test_split
):
    images, scenes, references = test_split
    assert browser.source.value == "split" and browser.index_slider.max == COUNT - 1
    np.testing.assert_array_equal(browser.image, images[0])
    assert browser.scene == scenes[0]
    assert browser.report == describe_scene(
        captioner, images[0], scenes[0], 5, references=references[0]
    )
    assert browser.last_update_seconds > 0
    assert "CaptionBrowser(test scene 0, beam width 5)" == repr(browser)
    bundle = browser._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_moving_the_slider_shows_that_scene_and_its_captions(browser, captioner, test_split):
    images, scenes, references = test_split
    before = (browser.scene_view.value, browser.report_view.value, browser.bars_view.value)
    browser.index_slider.value = 4
    np.testing.assert_array_equal(browser.image, images[4])
    expected = describe_scene(captioner, images[4], scenes[4], 5, references=references[4])
    assert browser.report == expected
    after = (browser.scene_view.value, browser.report_view.value, browser.bars_view.value)
    assert all(a != b for a, b in zip(before, after, strict=True))
    # The image is shown 4x enlarged, nearest neighbour: every pixel a crisp 4x4 block.
    enlarged = np.repeat(np.repeat(images[4], 4, axis=0), 4, axis=1)
    np.testing.assert_array_equal(_shown_pixels(browser.scene_view.value), enlarged)
    shown = browser.report_view.value
    assert "Test scene 4</b> of 6" in shown
    assert all(text in shown for text in references[4])
    for caption in (expected.greedy, expected.beam):
        assert f"&ldquo;{caption.text}&rdquo;" in shown and f"{caption.logprob:.2f}" in shown
        assert ("✓ exactly true" if caption.exactly_true else "✗ not true") in shown


def test_a_false_caption_is_marked_and_its_false_facts_shown(captioner):
    browser = CaptionBrowser(captioner, count=8, verbose=False)
    browser.index_slider.value = 7  # a green diamond and heart: the model sees a green hexagon
    report = browser.report
    assert report.greedy.exactly_true is False and report.greedy.false_facts
    assert "✗ not true" in browser.report_view.value
    assert "false: " + "; ".join(report.greedy.false_facts) in browser.report_view.value


def test_changing_the_beam_width_recaptions_the_same_scene(browser, captioner, test_split):
    images, scenes, references = test_split
    browser.index_slider.value = 2
    browser.beam_slider.value = 1
    assert browser.report.beam_width == 1
    assert browser.report.beam.text == browser.report.greedy.text  # width 1 is greedy
    browser.beam_slider.value = 8
    np.testing.assert_array_equal(browser.image, images[2])
    assert browser.report == describe_scene(
        captioner, images[2], scenes[2], 8, references=references[2]
    )
    assert "beam search (width 8)" in browser.report_view.value


def test_new_scene_draws_a_fresh_scene_from_the_next_seed(browser, captioner):
    old_image = browser.scene_view.value
    browser.new_scene_button.click()
    assert browser.source.value == "fresh" and browser.seed_box.value == 1
    images, scenes = generate_caption_scenes(1, seed=1, stream=3)
    np.testing.assert_array_equal(browser.image, images[0])
    assert browser.scene == scenes[0]
    assert browser.report == describe_scene(captioner, images[0], scenes[0], 5)
    assert browser.scene_view.value != old_image
    assert "Fresh scene</b>, seed 1" in browser.report_view.value
    browser.new_scene_button.click()
    assert browser.seed_box.value == 2
    np.testing.assert_array_equal(browser.image, generate_caption_scenes(1, 2, stream=3)[0][0])
    browser.seed_box.value = 40  # typing a seed shows that scene
    np.testing.assert_array_equal(browser.image, generate_caption_scenes(1, 40, stream=3)[0][0])


def test_the_source_buttons_switch_between_the_split_and_the_fresh_scene(browser, test_split):
    images, _, _ = test_split
    browser.index_slider.value = 3
    browser.new_scene_button.click()
    fresh = browser.image
    browser.source.value = "split"
    np.testing.assert_array_equal(browser.image, images[3])
    browser.source.value = "fresh"
    np.testing.assert_array_equal(browser.image, fresh)
    browser.index_slider.value = 1  # the slider goes back to the split
    assert browser.source.value == "split"
    np.testing.assert_array_equal(browser.image, images[1])


def test_revisiting_a_view_recomputes_nothing(browser, counted):
    assert counted == {"features": 1, "images": COUNT, "describe": 1}  # one batch up front
    for index in (1, 2, 1, 2, 0):
        browser.index_slider.value = index
    assert counted == {"features": 1, "images": COUNT, "describe": 3}
    browser.beam_slider.value = 2
    browser.beam_slider.value = 5
    assert counted["describe"] == 4  # (scene 0, width 2) was new; width 5 was cached
    browser.new_scene_button.click()  # seed 1: one image's features
    browser.new_scene_button.click()  # seed 2
    browser.seed_box.value = 1
    assert counted == {"features": 3, "images": COUNT + 2, "describe": 6}
    report = browser.report
    browser.index_slider.value = 2
    browser.source.value = "fresh"  # back to seed 1
    assert browser.report is report  # the very object: nothing recomputed
    assert counted["describe"] == 6


def test_an_error_while_updating_is_shown_in_the_status_line(browser, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the decoder broke")

    monkeypatch.setattr(caption_browser, "describe_scene", broken)
    with pytest.raises(RuntimeError, match="the decoder broke"):
        browser.index_slider.value = 5
    assert "the decoder broke" in browser.status.value


def test_the_browser_can_browse_another_split(captioner):
    browser = CaptionBrowser(captioner, split="val", count=2, seed=3, verbose=False)
    data = load_caption_scenes(num_train=1, num_val=2, num_test=0, seed=3)
    browser.index_slider.value = 1
    np.testing.assert_array_equal(browser.image, data["val_images"][1])
    assert "Validation scene 1</b> of 2" in browser.report_view.value
    assert browser.index_slider.description == "val scene"


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"captioner": "captioner-lstm"}, TypeError, "captioner must be a Captioner"),
        ({"split": "dev"}, ValueError, r"split must be one of \('train', 'val', 'test'\)"),
        ({"count": 0}, ValueError, "count must be a positive integer, got 0"),
        ({"count": 2.5}, TypeError, "count must be an integer, got 2.5"),
        ({"count": 10**6}, ValueError, "count=1000000 .* browse at most 5000"),
        ({"seed": -1}, ValueError, "seed must be a non-negative integer"),
        ({"beam_width": 11}, ValueError, "beam_width=11; .* beams of 1 to 10"),
    ],
)
def test_the_browser_rejects_bad_arguments_clearly(kwargs, error, message):
    with pytest.raises(error, match=f"CaptionBrowser: {message}"):
        CaptionBrowser(**{"count": 2, "verbose": False, **kwargs})


def test_importing_the_widgets_loads_no_ipywidgets_and_draws_nothing():
    code = (
        "import json, sys\n"
        "import course.widgets\n"
        "print(json.dumps(sorted(m for m in sys.modules if m == 'matplotlib.pyplot' "
        "or m.split('.')[0] in ('ipywidgets', 'IPython'))))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(run.stdout) == [] and run.stderr == ""
