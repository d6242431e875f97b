"""Tests for course/data/caption_facts.py: parsing captions into facts and judging them."""

from __future__ import annotations

import numpy as np
import pytest

from course.data.caption_facts import (
    CaptionJudgement,
    CaptionParseError,
    Fact,
    caption_accuracy,
    judge_caption,
    parse_caption,
)
from course.data.caption_grammar import RELATION_MARGIN, Description, true_captions
from course.data.caption_scenes import CaptionScene, SceneObject, generate_caption_scenes


def _obj(shape="circle", colour="red", size="small", x=20.0, y=20.0) -> SceneObject:
    return SceneObject(shape, colour, size, x, y, radius=6.0 if size == "small" else 11.0)


def _scene(*objects: SceneObject) -> CaptionScene:
    return CaptionScene(tuple(objects))


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------


def test_a_relation_caption_gives_its_attribute_facts_then_the_relation() -> None:
    facts = parse_caption("a small red circle left of a blue square")
    assert [str(f) for f in facts] == [
        "shape: a circle",
        "colour: a red circle",
        "size: a small red circle",
        "shape: a square",
        "colour: a blue square",
        "relation: a small red circle left of a blue square",
    ]
    assert facts[-1] == Fact(
        "relation",
        Description("circle", "red", "small"),
        relation="left of",
        other=Description("square", "blue"),
    )


@pytest.mark.parametrize(
    ("text", "facts"),
    [
        ("two green stars", ["shape: a star", "colour: a green star", "count: two green stars"]),
        ("three shapes", ["count: three shapes"]),
        ("a large shape", ["size: a large shape"]),
        (
            "an arrow above a heart",
            ["shape: an arrow", "shape: a heart", "relation: an arrow above a heart"],
        ),
        (
            "a red shape and two small crosses",
            [
                "colour: a red shape",
                "shape: a cross",
                "size: a small cross",
                "count: two small crosses",
            ],
        ),
    ],
)
def test_each_phrase_gives_the_documented_facts(text: str, facts: list[str]) -> None:
    assert [str(f) for f in parse_caption(text)] == facts


def test_every_generated_caption_parses_back_to_its_own_words() -> None:
    _, scenes = generate_caption_scenes(600, seed=4)
    rng = np.random.default_rng(1)
    for scene in scenes:
        for text in true_captions(scene, rng):
            facts = parse_caption(text)
            assert facts and all(
                f.kind in ("shape", "colour", "size", "count", "relation") for f in facts
            )
            last = facts[-1]  # the most specific fact repeats the caption's last phrase
            assert " ".join(last.subject.words(last.number or 1)) in text


def test_whitespace_between_words_does_not_matter() -> None:
    assert parse_caption("  a red   circle\n") == parse_caption("a red circle")


@pytest.mark.parametrize(
    ("text", "word", "position", "message"),
    [
        ("a a circle", "a", 2, "expected a size, a colour or a shape name"),
        ("left of", "left", 1, "expected 'a', 'an', 'two' or 'three'"),
        ("", None, None, "the caption is empty"),
        ("a circle <UNK>", "<UNK>", 3, "not a word of the caption grammar"),
        ("a red", None, 3, "ends after word 2 'red'; expected a shape name"),
        ("a arrow", "a", 1, "the article before 'arrow' is 'an'"),
        ("an red circle", "an", 1, "the article before 'red' is 'a'"),
        ("a shape", "shape", 2, "'shape' needs a size or a colour"),
        ("two circle", "circle", 2, "must be plural: 'circles'"),
        ("a circles", "circles", 2, "must be singular: 'circle'"),
        ("a red small circle", "small", 3, "expected a shape name"),
        ("a circle left a square", "a", 4, "expected 'of' after 'left'"),
        ("two circles left of a square", "left", 3, "one object before it, not a count"),
        ("a circle above two squares", "two", 4, "one object after it, not a count"),
        ("a circle left of a square and a star", "and", 7, "'and' cannot join a relation"),
        ("a circle and a square and a star", "and", 6, "joins two phrases at most"),
        ("a dog", "dog", 2, "not a word of the caption grammar"),
        ("A red circle", "A", 1, "expected 'a', 'an'"),
    ],
)
def test_nonsense_is_refused_naming_the_word(text, word, position, message) -> None:
    with pytest.raises(CaptionParseError, match=message) as caught:
        parse_caption(text)
    assert isinstance(caught.value, ValueError)
    assert (caught.value.word, caught.value.position) == (word, position)
    if word is not None:
        assert f"word {position} {word!r}" in str(caught.value)


def test_parse_refuses_what_is_not_a_str() -> None:
    with pytest.raises(TypeError, match="join a list of words"):
        parse_caption(["a", "circle"])


# ---------------------------------------------------------------------------
# Judging: every kind of fact, true and false
# ---------------------------------------------------------------------------


def _verdicts(text: str, scene: CaptionScene) -> list[bool]:
    return [ok for _, ok in judge_caption(text, scene).facts]


def test_shape_facts_need_some_object_of_that_shape() -> None:
    scene = _scene(_obj("circle"), _obj("star", x=50.0))
    assert judge_caption("a circle", scene).true and judge_caption("a star", scene).true
    assert not judge_caption("a square", scene).true


def test_colour_facts_need_an_object_of_that_shape_and_colour() -> None:
    scene = _scene(_obj("circle", "blue"), _obj("square", "red", x=50.0))
    assert _verdicts("a red circle", scene) == [True, False]  # a circle, but not a red one
    assert _verdicts("a red shape", scene) == [True]
    assert _verdicts("a blue circle", scene) == [True, True]


def test_size_facts_need_an_object_of_every_named_attribute() -> None:
    scene = _scene(_obj("circle", "red", "large"), _obj("circle", "blue", "small", x=50.0))
    assert _verdicts("a small red circle", scene) == [True, True, False]
    assert _verdicts("a small circle", scene) == [True, True]
    assert _verdicts("a large shape", scene) == [True]


def test_count_facts_need_exactly_that_many() -> None:
    two = _scene(_obj("star", "green"), _obj("star", "green", x=50.0), _obj("star", "red", y=50.0))
    assert judge_caption("two green stars", two).true
    assert judge_caption("three stars", two).true and judge_caption("three shapes", two).true
    assert _verdicts("two stars", two) == [True, False]  # there are three
    assert _verdicts("two red stars", two) == [True, True, False]  # there is one
    assert not judge_caption("two shapes", two).true


def test_relation_facts_follow_the_margin_and_y_points_down() -> None:
    circle = _obj("circle", x=20.0, y=20.0)
    square = _obj("square", "blue", x=20.0 + RELATION_MARGIN, y=50.0)
    scene = _scene(circle, square)
    assert judge_caption("a circle left of a square", scene).true  # exactly the margin
    assert judge_caption("a circle above a blue square", scene).true  # y grows downwards
    assert judge_caption("a square below a circle", scene).true
    assert _verdicts("a circle right of a square", scene) == [True, True, False]
    nearer = _scene(circle, _obj("square", "blue", x=20.0 + RELATION_MARGIN - 0.5, y=50.0))
    assert not judge_caption("a circle left of a square", nearer).true


def test_relations_need_two_different_objects_matching_each_side() -> None:
    one = _scene(_obj("circle", x=20.0), _obj("square", x=50.0))
    assert not judge_caption("a circle left of a circle", one).true
    two = _scene(_obj("circle", x=20.0), _obj("circle", "blue", x=50.0))
    assert judge_caption("a circle left of a circle", two).true
    assert not judge_caption("a blue circle left of a red circle", two).true
    # the first circle's phrase and the relation are judged on any matching pair
    three = _scene(_obj("circle", x=10.0), _obj("square", x=30.0), _obj("circle", "blue", x=50.0))
    assert judge_caption("a square left of a circle", three).true
    assert judge_caption("a square right of a circle", three).true


def test_and_is_true_when_both_phrases_are() -> None:
    scene = _scene(_obj("circle", "red"), _obj("cross", "white", x=50.0))
    assert judge_caption("a red circle and a white cross", scene).true
    assert _verdicts("a red circle and a blue cross", scene) == [True, True, True, False]


def test_an_unparsable_caption_is_judged_false_with_the_reason() -> None:
    judgement = judge_caption("a circle circle", _scene(_obj()))
    assert judgement == CaptionJudgement(parsed=False, true=False, facts=(), error=judgement.error)
    assert "word 3 'circle'" in judgement.error


def test_judge_refuses_what_is_not_a_scene() -> None:
    with pytest.raises(TypeError, match="scene must be a CaptionScene"):
        judge_caption("a circle", [_obj()])


# ---------------------------------------------------------------------------
# Accuracy over a set of captions
# ---------------------------------------------------------------------------


def test_caption_accuracy_counts_exact_captions_and_facts_of_each_kind() -> None:
    scene = _scene(_obj("circle", "red", "small", x=20.0), _obj("square", "blue", "large", x=50.0))
    captions = [
        "a small red circle left of a blue square",  # 6 facts, all true
        "a red square",  # shape true, colour false
        "two shapes",  # count true
        "three circles",  # shape true, count false
        "a circle circle",  # not parsed
    ]
    scores = caption_accuracy(captions, [scene] * 5)
    assert scores["exact"] == pytest.approx(2 / 5)
    assert scores["parsed"] == pytest.approx(4 / 5)
    assert scores["shape"] == pytest.approx(4 / 4)
    assert scores["colour"] == pytest.approx(2 / 3)
    assert scores["size"] == pytest.approx(1.0)
    assert scores["count"] == pytest.approx(1 / 2)
    assert scores["relation"] == pytest.approx(1.0)


def test_kinds_that_no_caption_states_score_none() -> None:
    scores = caption_accuracy(["a circle"], [_scene(_obj())])
    assert scores == {
        "exact": 1.0,
        "parsed": 1.0,
        "shape": 1.0,
        "colour": None,
        "size": None,
        "count": None,
        "relation": None,
    }


def test_caption_accuracy_refuses_mismatched_or_empty_inputs() -> None:
    scene = _scene(_obj())
    with pytest.raises(ValueError, match="2 captions for 1 scenes"):
        caption_accuracy(["a circle", "a red circle"], [scene])
    with pytest.raises(ValueError, match="no captions"):
        caption_accuracy([], [])
    with pytest.raises(TypeError, match="captions must be a list of str"):
        caption_accuracy("a circle", [scene])
    with pytest.raises(TypeError, match="scenes must be a list of CaptionScene"):
        caption_accuracy(["a circle"], scene)
