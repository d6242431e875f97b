"""Input validation for :mod:`course.models.ranking`: what was expected, given, and what to do."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course.layers._sequence_validation import require_indices
from course.validation import (
    as_float_array,
    format_shape,
    is_positive_finite,
    is_real_number,
    require_examples,
    require_ndim,
    require_positive_int,
)


def validate_ranker_options(
    margin: object, hardest_negative: object, null_index: object, vocab_size: int
) -> None:
    func = "ImageSentenceRanker"
    if not is_positive_finite(margin):
        raise ValueError(f"{func}: margin must be a number > 0 (0.2 is usual), got {margin!r}")
    if not isinstance(hardest_negative, (bool, np.bool_)):
        raise TypeError(
            f"{func}: hardest_negative must be True or False, got {hardest_negative!r}"
        )
    null_index = require_positive_int(func, "null_index", null_index, allow_zero=True)
    if null_index >= vocab_size:
        raise ValueError(
            f"{func}: null_index = {null_index} is not a word of the vocabulary of "
            f"V = {vocab_size}; it is the index of <NULL>, usually 0"
        )


OBJECTIVES = ("hinge", "contrastive")


def validate_objective_options(
    objective: object,
    temperature: object,
    caption_bias: object,
    bias_weight: object,
    reg: object,
) -> None:
    """The loss ('hinge' or 'contrastive', temperature > 0), the caption bias and reg >= 0."""
    func = "ImageSentenceRanker"
    if objective not in OBJECTIVES:
        raise ValueError(
            f"{func}: objective must be 'hinge' (max-margin ranking) or 'contrastive' "
            f"(softmax over the batch), got {objective!r}"
        )
    if not is_positive_finite(temperature):
        raise ValueError(
            f"{func}: temperature must be a number > 0 (0.05 is usual; the contrastive "
            f"logits are scores / temperature), got {temperature!r}"
        )
    if not isinstance(caption_bias, (bool, np.bool_)):
        raise TypeError(f"{func}: caption_bias must be True or False, got {caption_bias!r}")
    if not is_real_number(bias_weight) or not 0 <= bias_weight < np.inf:
        raise ValueError(
            f"{func}: bias_weight is how much of the caption bias ranking adds, a number "
            f">= 0 (1: all of it, 0: none), got {bias_weight!r}"
        )
    if not is_real_number(reg) or not 0 <= reg < np.inf:
        raise ValueError(
            f"{func}: reg is the L2 weight decay, a number >= 0 (0 turns it off), got {reg!r}"
        )


def validate_contrastive_loss_inputs(
    scores: object, temperature: object, negatives: object, log_q: object
) -> tuple[np.ndarray, np.ndarray | None]:
    """Scores (N, N), a temperature > 0, negatives as below and log_q None or (N,) finite."""
    func = "bidirectional_contrastive_loss"
    negatives = _validate_scores_and_negatives(func, scores, negatives)
    if not is_positive_finite(temperature):
        raise ValueError(
            f"{func}: temperature must be a number > 0 (0.05 is usual), got {temperature!r}"
        )
    if log_q is None:
        return negatives, None
    as_float_array(func, "log_q", log_q)
    if log_q.shape != (len(scores),) or not np.all(np.isfinite(log_q) & (log_q <= 0)):
        raise ValueError(
            f"{func}: log_q must be ({len(scores)},) finite log-probabilities (<= 0), one per "
            f"caption of the batch (how often the batch sampler draws it); got shape "
            f"{format_shape(log_q.shape)}"
        )
    return negatives, log_q


def validate_ranking_loss_inputs(scores: object, margin: object, negatives: object) -> np.ndarray:
    """Scores (N, N), a margin > 0 and negatives (N, N) bool with a False diagonal."""
    func = "bidirectional_ranking_loss"
    negatives = _validate_scores_and_negatives(func, scores, negatives)
    if not is_positive_finite(margin):
        raise ValueError(f"{func}: margin must be a number > 0 (0.2 is usual), got {margin!r}")
    return negatives


def _validate_scores_and_negatives(func: str, scores: object, negatives: object) -> np.ndarray:
    """Scores (N, N) and negatives (N, N) bool with a False diagonal (None: all j != i)."""
    as_float_array(func, "scores", scores)
    if scores.ndim != 2 or scores.shape[0] != scores.shape[1]:
        raise ValueError(
            f"{func}: scores has shape {format_shape(scores.shape)}; expected (N, N), "
            "S[i, j] = s(image i, caption j) of N matched pairs"
        )
    N = len(scores)
    if negatives is None:
        return ~np.eye(N, dtype=bool)
    if not isinstance(negatives, np.ndarray) or negatives.dtype != bool:
        raise TypeError(f"{func}: negatives must be a bool numpy array (N, N) or None")
    if negatives.shape != scores.shape or negatives.diagonal().any():
        raise ValueError(
            f"{func}: negatives must be (N, N) = {format_shape(scores.shape)} with a False "
            f"diagonal (a pair is not its own negative); got shape "
            f"{format_shape(negatives.shape)}"
        )
    return negatives


def validate_captions(func: str, captions: object, V: int, null_index: int) -> np.ndarray:
    """Captions (M, T), M >= 1, of word indices in [0, V), each with a non-null word."""
    if captions is None:
        raise TypeError(
            f"{func}: captions are required: a ranking model scores (image, caption) pairs "
            "and has no scores for images alone. Train it with Solver(..., metric='loss') "
            "(X = features, y = captions; see caption_pairs and train_ranker), and embed "
            "with embed_images / embed_captions"
        )
    require_indices(func, "captions", captions, None, V)
    require_examples(func, "captions", captions)
    empty = np.flatnonzero(np.all(captions == null_index, axis=1))
    if len(empty):
        raise ValueError(
            f"{func}: {len(empty)} caption(s) hold only the padding index {null_index} "
            f"(rows {empty[:5].tolist()}{' ...' if len(empty) > 5 else ''}); every caption "
            "needs at least one word"
        )
    return captions


def require_pairs(func: str, features: np.ndarray, captions: np.ndarray) -> None:
    if len(features) != len(captions):
        raise ValueError(
            f"{func}: features has {len(features)} rows but captions has {len(captions)}; "
            "the loss takes matched pairs, row i of each. For several captions per image "
            "repeat the features with caption_pairs(features, captions, caption_image_idxs)"
        )


def validate_query(func: str, caption: object) -> np.ndarray:
    """One query caption (T,) or (1, T), returned as (1, T)."""
    if not isinstance(caption, np.ndarray):
        raise TypeError(
            f"{func}: caption must be a numpy array of word indices, got {type(caption).__name__}"
        )
    if caption.ndim == 1:
        caption = caption[None, :]
    if caption.ndim != 2 or caption.shape[0] != 1:
        raise ValueError(
            f"{func}: caption has shape {format_shape(caption.shape)}; expected one query "
            "caption (T,) or (1, T). To score many captions use model.embed_captions"
        )
    return caption


def validate_caption_image_idxs(func: str, idxs: object, M: int, N: int) -> np.ndarray:
    """(M,) ints in [0, N): the image of every caption."""
    if not isinstance(idxs, np.ndarray) or not np.issubdtype(idxs.dtype, np.integer):
        raise TypeError(
            f"{func}: caption_image_idxs must be an integer numpy array (the image of "
            f"every caption), got {getattr(idxs, 'dtype', type(idxs).__name__)}"
        )
    if idxs.shape != (M,):
        raise ValueError(
            f"{func}: caption_image_idxs has shape {format_shape(idxs.shape)}; expected "
            f"({M},), one image index per caption"
        )
    if M and (idxs.min() < 0 or idxs.max() >= N):
        raise ValueError(
            f"{func}: caption_image_idxs must lie in [0, {N}) for {N} images; got values "
            f"from {idxs.min()} to {idxs.max()}"
        )
    return idxs


def validate_metric_inputs(
    image_emb: object, caption_emb: object, idxs: object, ks: object
) -> list[int]:
    """Embeddings (N, E) and (M, E), N, M >= 1, every image captioned; return ks as ints."""
    func = "ranking_metrics"
    validate_embeddings(func, image_emb, caption_emb)
    N = len(image_emb)
    validate_caption_image_idxs(func, idxs, len(caption_emb), N)
    require_every_image_captioned(func, idxs, N)
    return validate_ks(func, ks)


def validate_embeddings(func: str, image_emb: object, caption_emb: object) -> None:
    """Image embeddings (N, E) and caption embeddings (M, E), N, M >= 1, the same E."""
    for name, emb in (("image_emb", image_emb), ("caption_emb", caption_emb)):
        as_float_array(func, name, emb)
        require_ndim(func, name, emb, 2, "(N, E)" if name == "image_emb" else "(M, E)")
        require_examples(func, name, emb)
    if image_emb.shape[1] != caption_emb.shape[1]:
        raise ValueError(
            f"{func}: image_emb is {format_shape(image_emb.shape)} and caption_emb "
            f"{format_shape(caption_emb.shape)}; both need the same embedding size E"
        )


def require_every_image_captioned(func: str, idxs: np.ndarray, N: int) -> None:
    """Every image in [0, N) has at least one caption in ``idxs``."""
    uncaptioned = np.setdiff1d(np.arange(N), idxs)
    if len(uncaptioned):
        raise ValueError(
            f"{func}: {len(uncaptioned)} image(s) have no caption (e.g. rows "
            f"{uncaptioned[:5].tolist()}), so they have no image -> caption rank; pass only "
            "captioned images"
        )


def validate_ks(func: str, ks: object) -> list[int]:
    """The K of Recall@K (or P@K): a sequence of positive ints."""
    if isinstance(ks, (int, np.integer)) or not isinstance(ks, Sequence | np.ndarray):
        raise TypeError(f"{func}: ks must be a sequence of positive ints such as (1, 5, 10)")
    return [require_positive_int(func, "each of ks", k) for k in ks]


def validate_caption_texts(texts: object, M: int, func: str = "ranking_metrics") -> np.ndarray:
    """(M,) sentences, one per caption, as a str array."""
    if isinstance(texts, str) or not isinstance(texts, Sequence | np.ndarray):
        raise TypeError(f"{func}: caption_texts must be a list of M sentences (str)")
    if len(texts) != M or not all(isinstance(t, (str, np.str_)) for t in texts):
        raise ValueError(
            f"{func}: caption_texts must hold one sentence (str) per caption: {M} of them, "
            f"got {len(texts)} items"
        )
    return np.asarray(texts, dtype=str)


def validate_retrieval_view(
    images: object, indices: object, scores: object
) -> tuple[np.ndarray, np.ndarray]:
    """The shown images as (k, H, W, 3) floats in [0, 1], and indices as a (k,) int array."""
    func = "show_retrieval"
    images = np.asarray(images)
    if images.ndim != 4 or 3 not in (images.shape[1], images.shape[-1]):
        raise ValueError(
            f"{func}: images has shape {format_shape(images.shape)}; expected (N, H, W, 3) "
            "or (N, 3, H, W)"
        )
    indices = np.asarray(indices).reshape(-1)
    if indices.size == 0 or not np.issubdtype(indices.dtype, np.integer):
        raise ValueError(f"{func}: indices must be a non-empty array of ints, e.g. from retrieve")
    if indices.min() < 0 or indices.max() >= len(images):
        raise ValueError(
            f"{func}: indices must lie in [0, {len(images)}) for {len(images)} images; got "
            f"values from {indices.min()} to {indices.max()}"
        )
    if scores is not None and np.shape(scores) != indices.shape:
        raise ValueError(
            f"{func}: scores has shape {format_shape(np.shape(scores))}; expected "
            f"{format_shape(indices.shape)}, one per shown image"
        )
    shown = images[indices]  # (k, ...)
    if shown.shape[-1] != 3:
        shown = shown.transpose(0, 2, 3, 1)  # (k, 3, H, W) -> (k, H, W, 3)
    shown = shown / 255 if shown.dtype == np.uint8 else np.clip(shown, 0, 1)
    return shown, indices
