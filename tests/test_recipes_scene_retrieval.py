"""Tests of course/recipes/scene_retrieval.py: retrieval judged by the scenes, and the ceiling."""

from __future__ import annotations

import numpy as np
import pytest

from course.data import decode_captions, judge_caption, load_caption_scenes
from course.recipes.scene_retrieval import standard_protocol_ceiling, truth_metrics


@pytest.fixture(scope="module")
def scenes():
    data = load_caption_scenes(num_train=1, num_val=0, num_test=30)
    texts = decode_captions(data["test_captions"], data["vocab"])
    return data["test_scenes"], texts, data["test_image_idxs"]


def _embeddings(texts, idxs, count):
    """One-hot image embeddings; each distinct sentence embeds as the sum of its images'."""
    image_emb = np.eye(count)
    distinct = sorted(set(texts))
    caption_emb = np.zeros((len(texts), count))
    for row, text in enumerate(texts):
        caption_emb[row, idxs[np.asarray(texts) == text]] = 1.0
    return image_emb, caption_emb, distinct


def test_rankings_that_answer_with_drawn_captions_are_all_true(scenes):
    # Every image's top sentences are its own: true by construction.
    scene_list, texts, idxs = scenes
    image_emb, caption_emb, _ = _embeddings(texts, idxs, len(scene_list))
    metrics = truth_metrics(image_emb, caption_emb, texts, scene_list, ks=(1,))
    assert metrics == {"i2t_P@1": 1.0, "t2i_P@1": 1.0}


def test_rankings_that_answer_with_false_captions_score_what_is_true(scenes):
    scene_list, texts, idxs = scenes
    image_emb, caption_emb, distinct = _embeddings(texts, idxs, len(scene_list))
    metrics = truth_metrics(image_emb, -caption_emb, texts, scene_list, ks=(1, 5))
    # Recount P@1 of image -> caption by hand: the least similar sentence, ties by order.
    S = image_emb @ -caption_emb[[texts.index(t) for t in distinct]].T
    top = np.argsort(-S, axis=1, kind="stable")[:, 0]
    pairs = zip(top, scene_list, strict=True)
    by_hand = np.mean([judge_caption(distinct[u], scene).true for u, scene in pairs])
    assert metrics["i2t_P@1"] == pytest.approx(by_hand)
    assert metrics["i2t_P@1"] < 0.5 and metrics["t2i_P@5"] < 0.5


def test_the_ceiling_is_between_chance_and_certainty_and_reproducible(scenes):
    scene_list, texts, idxs = scenes
    ceiling = standard_protocol_ceiling(scene_list, texts, idxs, k=1, draws=50, seed=3)
    assert ceiling == standard_protocol_ceiling(scene_list, texts, idxs, k=1, draws=50, seed=3)
    assert 1 / len(set(texts)) < ceiling < 1.0
    assert standard_protocol_ceiling(scene_list, texts, idxs, k=5, draws=50, seed=3) >= ceiling
    # With as many answers as sentences, every image finds one of its own.
    assert standard_protocol_ceiling(scene_list, texts, idxs, k=len(texts), draws=5) == 1.0


def test_the_posterior_ranks_better_than_the_frequency_alone(scenes):
    # "a red shape" is drawn often for a scene, but it is in the pool whichever scene it was
    # drawn for; a sentence true of this scene alone was drawn for it. Dividing by
    # P(in the pool) ranks the specific sentences first, and finds more of the drawn ones.
    scene_list, texts, idxs = scenes
    ceilings = {
        rule: standard_protocol_ceiling(scene_list, texts, idxs, k=1, draws=100, rule=rule)
        for rule in ("posterior", "frequency")
    }
    assert ceilings["posterior"] > ceilings["frequency"] + 0.1


def test_bad_inputs_are_named(scenes):
    scene_list, texts, idxs = scenes
    image_emb, caption_emb, _ = _embeddings(texts, idxs, len(scene_list))
    with pytest.raises(ValueError, match="truth_metrics: scenes must be 30 CaptionScene"):
        truth_metrics(image_emb, caption_emb, texts, scene_list[:-1])
    with pytest.raises(ValueError, match="truth_metrics: caption_texts must hold one sentence"):
        truth_metrics(image_emb, caption_emb, texts[:-1], scene_list)
    with pytest.raises(ValueError, match="truth_metrics: image_emb .* same embedding size"):
        truth_metrics(image_emb[:, :3], caption_emb, texts, scene_list)
    with pytest.raises(ValueError, match="standard_protocol_ceiling: 1 image.* no caption"):
        standard_protocol_ceiling(scene_list, texts[:-5], idxs[:-5])
    with pytest.raises(ValueError, match="standard_protocol_ceiling: draws must be"):
        standard_protocol_ceiling(scene_list, texts, idxs, draws=0)
    with pytest.raises(ValueError, match="rule must be 'posterior' or 'frequency', got 'best'"):
        standard_protocol_ceiling(scene_list, texts, idxs, rule="best")
