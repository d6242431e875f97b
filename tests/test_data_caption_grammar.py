"""Tests for course/data/caption_grammar.py: descriptions, relations and true captions."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from course.data.caption_facts import judge_caption
from course.data.caption_grammar import (
    CAPTION_WORDS,
    MAX_CAPTION_WORDS,
    RELATION_MARGIN,
    Description,
    _every_caption,
    relation_holds,
    true_captions,
)
from course.data.caption_scenes import CaptionScene, SceneObject, generate_caption_scenes


def _obj(shape="circle", colour="red", size="small", x=20.0, y=20.0) -> SceneObject:
    return SceneObject(shape, colour, size, x, y, radius=6.0 if size == "small" else 11.0)


@pytest.fixture(scope="module")
def captioned() -> tuple[list[CaptionScene], list[list[str]]]:
    _, scenes = generate_caption_scenes(3000, seed=11)
    rng = np.random.default_rng(0)
    return scenes, [true_captions(scene, rng) for scene in scenes]


def test_every_scene_gets_five_different_well_formed_captions(captioned) -> None:
    _, captions = captioned
    for texts in captions:
        assert len(texts) == 5 and len(set(texts)) == 5
        for text in texts:
            words = text.split(" ")
            assert text == text.lower() and all(words)  # single spaces, no empty words
            assert set(words) <= set(CAPTION_WORDS) and 2 <= len(words) <= MAX_CAPTION_WORDS


def test_every_caption_of_thousands_of_scenes_is_judged_true(captioned) -> None:
    scenes, captions = captioned
    for scene, texts in zip(scenes, captions, strict=True):
        for text in texts:
            judgement = judge_caption(text, scene)
            assert judgement.parsed and judgement.true, (text, scene)


def test_the_captions_cover_every_construction_of_the_grammar(captioned) -> None:
    _, captions = captioned
    texts = [text for group in captions for text in group]
    words = Counter(word for text in texts for word in text.split())
    assert set(words) == set(CAPTION_WORDS)  # every word occurs, "an", "crosses", ...
    kinds = Counter(
        "relation"
        if {"left", "right", "above", "below"} & set(text.split())
        else "and"
        if " and " in text
        else "count"
        if text.split()[0] in ("two", "three")
        else "object"
        for text in texts
    )
    assert all(kinds[kind] > 0.03 * len(texts) for kind in ("object", "relation", "count", "and"))
    assert "a red shape" in texts and "a large shape" in texts  # colour or size alone
    assert any(text.startswith("three shapes") for text in texts)


def test_captions_are_deterministic_given_the_generator_state() -> None:
    _, scenes = generate_caption_scenes(20, seed=1)
    first = [true_captions(s, np.random.default_rng(4)) for s in scenes]
    again = [true_captions(s, np.random.default_rng(4)) for s in scenes]
    assert first == again


def test_a_one_object_scene_has_exactly_seven_captions() -> None:
    scene = CaptionScene((_obj("arrow", "blue", "large"),))
    texts = true_captions(scene, np.random.default_rng(0), count=7)
    assert sorted(texts) == sorted(
        [
            "an arrow",
            "a blue arrow",
            "a large arrow",
            "a large blue arrow",
            "a blue shape",
            "a large shape",
            "a large blue shape",
        ]
    )
    with pytest.raises(ValueError, match="only 7 different true captions"):
        true_captions(scene, np.random.default_rng(0), count=8)


def test_the_fallback_list_of_every_caption_holds_only_true_ones() -> None:
    _, scenes = generate_caption_scenes(40, seed=9)
    for scene in scenes:
        texts = _every_caption(scene)
        assert len(texts) == len(set(texts)) >= 7
        assert all(judge_caption(text, scene).true for text in texts)


def test_relations_are_stated_along_the_axis_of_larger_difference_only() -> None:
    left = _obj("circle", "red", x=14.0, y=20.0)
    right = _obj("square", "blue", x=50.0, y=44.0)  # 36 px right, 24 px below
    scene = CaptionScene((left, right))
    rng = np.random.default_rng(0)
    texts = {text for _ in range(60) for text in true_captions(scene, rng, count=7)}
    relations = {
        w for text in texts for w in text.split() if w in ("left", "right", "above", "below")
    }
    assert relations == {"left", "right"}  # never "above" although the judge would allow it


def test_descriptions_read_as_english() -> None:
    assert Description("arrow").words() == ["an", "arrow"]
    assert Description("arrow", "red").words() == ["a", "red", "arrow"]
    assert Description("cross", size="small").words(2) == ["two", "small", "crosses"]
    assert Description().words(3) == ["three", "shapes"]
    assert str(Description(None, "green", "large")) == "a large green shape"
    with pytest.raises(ValueError, match="colour 'pink'"):
        Description("circle", "pink")


def test_descriptions_match_objects_with_every_named_attribute() -> None:
    red_circle = _obj("circle", "red", "small")
    assert Description("circle").matches(red_circle)
    assert Description(None, "red", "small").matches(red_circle)
    assert not Description("circle", "blue").matches(red_circle)
    assert not Description(size="large").matches(red_circle)


@pytest.mark.parametrize(
    ("dx", "dy", "holding"),
    [
        (RELATION_MARGIN, 0.0, {"left of"}),
        (RELATION_MARGIN - 0.01, 0.0, set()),
        (-RELATION_MARGIN, 30.0, {"right of", "above"}),  # a diagonal pair: both are true
        (3.0, -RELATION_MARGIN, {"below"}),
    ],
)
def test_relation_holds_with_the_margin_on_each_axis(dx: float, dy: float, holding: set) -> None:
    a, b = _obj(x=30.0, y=30.0), _obj(x=30.0 + dx, y=30.0 + dy)
    found = {r for r in ("left of", "right of", "above", "below") if relation_holds(a, r, b)}
    assert found == holding
    with pytest.raises(ValueError, match="'near' is not one of"):
        relation_holds(a, "near", b)


def test_true_captions_refuses_bad_arguments() -> None:
    scene = CaptionScene((_obj(),))
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match="scene must be a CaptionScene"):
        true_captions([_obj()], rng)
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        true_captions(scene, 0)
    with pytest.raises(ValueError, match="count must be a positive integer"):
        true_captions(scene, rng, count=0)
    with pytest.raises(ValueError, match="no objects"):
        true_captions(CaptionScene(()), rng)
