"""Retrieval on the caption scenes judged by the scenes, and the standard protocol's ceiling.

The standard protocol (``course.models.ranking.ranking_metrics``, Karpathy &
Fei-Fei 2015) counts an answer right only when it is one of the captions
drawn for the image. On the caption scenes that judgement is incomplete: a
two-object scene has dozens of true captions, the five drawn for it are a
random few, and a sentence drawn for another image ("a red circle") is often
just as true of this one. Two measurements follow from knowing every scene:

- :func:`standard_protocol_ceiling`: the image -> caption Recall@K of a ranker
  that knows every test scene exactly and how often the grammar draws each
  caption of it (it ranks the sentences by that frequency, estimated from
  many draws). No model can expect more under the standard protocol; on the
  1,000 test scenes its Recall@5 is about 0.79 (0.775 from 200 draws a scene,
  0.789 from 400, 0.795 and 0.791 from 1,000: fewer draws rank it worse).
- :func:`truth_metrics`: the same rankings judged by the scenes
  (``course.data.judge_caption``): P@K, the fraction of the top K answers
  that are true (a caption true of the image, an image the caption is true
  of), whichever image the answer was drawn for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from course.data import CaptionScene, judge_caption
from course.data.caption_grammar import true_captions
from course.models._ranking_validation import (
    require_every_image_captioned,
    validate_caption_image_idxs,
    validate_caption_texts,
    validate_embeddings,
    validate_ks,
)
from course.validation import require_positive_int

__all__ = ["standard_protocol_ceiling", "truth_metrics"]


def _require_scenes(func: str, scenes: Sequence[CaptionScene], count: int) -> None:
    """``scenes`` is ``count`` CaptionScene, one per image."""
    if len(scenes) != count or not all(isinstance(s, CaptionScene) for s in scenes):
        kinds = sorted({type(s).__name__ for s in scenes})
        raise ValueError(
            f"{func}: scenes must be {count} CaptionScene, one per image; got {len(scenes)} "
            f"items of types {kinds}"
        )


def truth_metrics(
    image_emb: np.ndarray,
    caption_emb: np.ndarray,
    caption_texts: Sequence[str],
    scenes: Sequence[CaptionScene],
    ks: Sequence[int] = (1, 5),
) -> dict[str, float]:
    """Precision@K of both retrieval directions, an answer being right when it is true.

    The captions are the distinct sentences of ``caption_texts`` (identical
    sentences are one caption, as in ``ranking_metrics``); ties are broken
    by order (the first image, the first sentence in sorted order).

    Inputs:
    - image_emb: (N, E) image embeddings; scenes: the N scenes they show
    - caption_emb: (M, E) caption embeddings; caption_texts: their M sentences
    - ks: the K of P@K

    Returns:
    - dict with 'i2t_P@K': the mean over images of the fraction of its top K
      sentences that are true of it; 't2i_P@K': the mean over sentences of
      the fraction of its top K images of which it is true
    """
    func = "truth_metrics"
    validate_embeddings(func, image_emb, caption_emb)
    texts = validate_caption_texts(caption_texts, len(caption_emb), func)
    _require_scenes(func, scenes, len(image_emb))
    ks = validate_ks(func, ks)
    distinct, first = np.unique(texts, return_index=True)
    S = image_emb @ caption_emb[first].T  # (N, E) @ (E, U) -> (N, U)
    verdicts: dict[tuple[int, int], bool] = {}

    def true(image: int, sentence: int) -> bool:
        if (image, sentence) not in verdicts:
            verdicts[image, sentence] = judge_caption(distinct[sentence], scenes[image]).true
        return verdicts[image, sentence]

    top_k = max(ks)
    by_image = np.argsort(-S, axis=1, kind="stable")[:, :top_k]  # (N, K) sentences
    by_sentence = np.argsort(-S, axis=0, kind="stable")[:top_k].T  # (U, K) images
    metrics: dict[str, float] = {}
    for k in ks:
        i2t = [np.mean([true(i, u) for u in row[:k]]) for i, row in enumerate(by_image)]
        t2i = [np.mean([true(i, u) for i in row[:k]]) for u, row in enumerate(by_sentence)]
        metrics[f"i2t_P@{k}"] = float(np.mean(i2t))
        metrics[f"t2i_P@{k}"] = float(np.mean(t2i))
    return metrics


def standard_protocol_ceiling(
    scenes: Sequence[CaptionScene],
    caption_texts: Sequence[str],
    caption_image_idxs: np.ndarray,
    k: int = 5,
    draws: int = 200,
    seed: int = 0,
) -> float:
    """The image -> caption Recall@K, distinct-caption protocol, of a ranker that knows the scenes.

    For every scene the ranker draws ``draws`` fresh sets of captions from
    the grammar (as many per set as the scene has in ``caption_texts``) and
    ranks the test sentences by how often they were drawn, most often first
    (ties by the sentence, those never drawn last). An image counts when one
    of its own sentences is in the top ``k``: the protocol of
    ``ranking_metrics(..., caption_texts=...)``.
    Its captions were drawn independently of these, so this is what the best
    possible model can expect, up to the estimate's noise.

    Inputs:
    - scenes: the N scenes
    - caption_texts: (M,) the sentences drawn for them
    - caption_image_idxs: (M,) ints in [0, N), the scene of each sentence
    - k: the K of Recall@K; draws: sets drawn per scene; seed: of the draws

    Returns:
    - recall: float in [0, 1]
    """
    func = "standard_protocol_ceiling"
    texts = validate_caption_texts(caption_texts, len(caption_texts), func)
    _require_scenes(func, scenes, len(scenes))
    validate_caption_image_idxs(func, caption_image_idxs, len(texts), len(scenes))
    require_every_image_captioned(func, caption_image_idxs, len(scenes))
    k = require_positive_int(func, "k", k)
    draws = require_positive_int(func, "draws", draws)
    pool = set(texts.tolist())
    own: list[set[str]] = [set() for _ in scenes]
    for image, text in zip(np.asarray(caption_image_idxs).tolist(), texts.tolist(), strict=True):
        own[image].add(text)
    rng = np.random.default_rng(seed)
    hits = 0
    for scene, answers in zip(scenes, own, strict=True):
        counts: Counter[str] = Counter()
        for _ in range(draws):
            counts.update(true_captions(scene, rng, len(answers)))
        ranked = sorted((c for c in counts if c in pool), key=lambda c: (-counts[c], c))[:k]
        if len(ranked) < k:  # then the sentences never drawn, which tie at 0
            ranked += sorted(pool.difference(counts))[: k - len(ranked)]
        hits += not answers.isdisjoint(ranked)
    return hits / len(scenes)
