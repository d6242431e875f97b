"""Retrieval on the caption scenes judged by the scenes, and the standard protocol's ceiling.

The standard protocol (``course.models.ranking.ranking_metrics``, Karpathy &
Fei-Fei 2015) counts an answer right only when it is one of the captions
drawn for the image. On the caption scenes that judgement is incomplete: a
two-object scene has dozens of true captions, the five drawn for it are a
random few, and a sentence drawn for another image ("a red circle") is often
just as true of this one. Two measurements follow from knowing every scene:

- :func:`standard_protocol_ceiling`: the image -> caption Recall@K of a ranker
  that knows every test scene exactly and how often the grammar draws each
  caption of it. Ranking an image's sentences by that frequency alone
  (``rule='frequency'``) finds one of its five in the top 5 for only about
  0.79 of the 1,000 test scenes (0.775 from 200 draws a scene, 0.795 from
  1,000): "a red shape" is drawn often for a red scene, and for hundreds of
  others. Ranking by the probability that the sentence was drawn for *this*
  scene, given that it is one of the test sentences (``rule='posterior'``,
  the default), puts first the sentences true of few scenes, which were
  almost surely drawn for this one: about 0.98 (0.978 from 200 draws, 0.989
  from 1,000). That is the ceiling a model can approach; a model that
  learns log P(caption | image) and ranks with only part of its caption
  bias (``course.recipes.ranker``) moves from the first ranking towards
  the second.
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
    rule: str = "posterior",
) -> float:
    """The image -> caption Recall@K, distinct-caption protocol, of a ranker that knows the scenes.

    For every scene the ranker draws ``draws`` fresh sets of captions from
    the grammar (as many per set as the scene has in ``caption_texts``), which
    estimates p_i(t), the probability that sentence t is among those drawn
    for image i. It ranks the test sentences for image i
    - ``rule='posterior'``: by p_i(t) / P(t in the pool), the probability
      that t was drawn for image i *given* that it is one of the test
      sentences, with P(t in the pool) = 1 - prod_j (1 - p_j(t)) over the
      test scenes. A sentence true of few scenes that made it into the pool
      was almost surely drawn for one of them; "a red shape" is in the pool
      whichever scene it was drawn for. This is (up to the estimate's noise)
      the best ranking a model can make;
    - ``rule='frequency'``: by p_i(t) alone, the sentences most often drawn
      for the scene first, however many other scenes they are true of.
    Ties are broken by the sentence; sentences never drawn come last. An
    image counts when one of its own sentences is in the top ``k``: the
    protocol of ``ranking_metrics(..., caption_texts=...)``. Its captions were
    drawn independently of these draws.

    Inputs:
    - scenes: the N scenes
    - caption_texts: (M,) the sentences drawn for them
    - caption_image_idxs: (M,) ints in [0, N), the scene of each sentence
    - k: the K of Recall@K; draws: sets drawn per scene; seed: of the draws
    - rule: 'posterior' or 'frequency'

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
    if rule not in ("posterior", "frequency"):
        raise ValueError(f"{func}: rule must be 'posterior' or 'frequency', got {rule!r}")
    pool, sentence = np.unique(texts, return_inverse=True)  # sorted: ties go by the sentence
    column = {text: u for u, text in enumerate(pool.tolist())}
    own = np.zeros((len(scenes), len(pool)), dtype=bool)  # (N, U)
    own[np.asarray(caption_image_idxs), sentence.ravel()] = True
    drawn = np.zeros(own.shape)  # (N, U): p_i(t), the fraction of draws that held t
    rng = np.random.default_rng(seed)
    for image, scene in enumerate(scenes):
        counts: Counter[str] = Counter()
        for _ in range(draws):
            counts.update(true_captions(scene, rng, int(own[image].sum())))
        for text, count in counts.items():
            if text in column:
                drawn[image, column[text]] = count / draws
    score = drawn
    if rule == "posterior":
        in_pool = 1.0 - np.prod(1.0 - drawn, axis=0)  # (U,): P(t drawn for some test scene)
        score = np.divide(drawn, in_pool, out=np.zeros_like(drawn), where=in_pool > 0)
    top = np.argsort(-score, axis=1, kind="stable")[:, :k]  # (N, k) sentences, best first
    return float(np.mean(np.take_along_axis(own, top, axis=1).any(axis=1)))
