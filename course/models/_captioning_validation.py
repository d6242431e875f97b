"""Input validators of :class:`course.models.captioning.CaptioningRNN`.

Each returns the checked value (converted where the model needs it) or
raises an error that says what was expected, what was given and what to do,
so that the model's methods make one call here and read as their maths.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from course.layers._sequence_validation import require_indices
from course.models._validation import CELLS, require_positive_ints
from course.validation import (
    format_shape,
    is_positive_finite,
    is_real_number,
    require_positive_int,
)

IMAGE_INPUTS = ("h0", "bias")
NULL_TOKEN, START_TOKEN, END_TOKEN = "<NULL>", "<START>", "<END>"


def validate_captioning_model(
    word_to_idx: object,
    sizes: dict[str, object],
    cell_type: object,
    dtype: object,
    image_input: object,
    seed: object,
) -> tuple[dict[str, int], str, np.dtype]:
    """Check the constructor's arguments; return ``(word_to_idx as a dict, cell_type, dtype)``.

    ``word_to_idx`` maps str -> distinct non-negative int and holds '<NULL>';
    a ``course.data.Vocabulary`` is accepted too (its tokens in index order).
    """
    func = "CaptioningRNN"
    if hasattr(word_to_idx, "tokens") and not isinstance(word_to_idx, Mapping):
        word_to_idx = {token: i for i, token in enumerate(word_to_idx.tokens)}  # a Vocabulary
    if not isinstance(word_to_idx, Mapping):
        raise TypeError(
            f"{func}: word_to_idx must be a dict word -> index (or a course.data.Vocabulary), "
            f"got {type(word_to_idx).__name__}"
        )
    for word, index in word_to_idx.items():
        if not isinstance(word, str):
            raise TypeError(f"{func}: word_to_idx keys must be words (str), got {word!r}")
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or index < 0:
            raise ValueError(
                f"{func}: word_to_idx[{word!r}] = {index!r}; indices must be non-negative ints"
            )
    if len(set(word_to_idx.values())) != len(word_to_idx):
        raise ValueError(f"{func}: word_to_idx gives two words the same index; they must differ")
    if NULL_TOKEN not in word_to_idx:
        raise ValueError(
            f"{func}: word_to_idx has no '<NULL>' (the padding word, whose targets are "
            "masked out of the loss); add it, usually at index 0"
        )
    require_positive_ints(func, sizes)
    if cell_type not in CELLS:
        raise ValueError(f"{func}: cell_type must be 'rnn' or 'lstm', got {cell_type!r}")
    if image_input not in IMAGE_INPUTS:
        raise ValueError(
            f"{func}: image_input must be 'h0' (CS231n: h0 = features @ W_proj + b_proj) or "
            f"'bias' (the image is a bias of the first step only), got {image_input!r}"
        )
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise ValueError(f"{func}: dtype must be float32 or float64, got {dt}")
    if seed is not None:
        require_positive_int(func, "seed", seed, allow_zero=True)
    return {str(w): int(i) for w, i in word_to_idx.items()}, str(cell_type), dt


def validate_log_frequencies(func: str, log_frequencies: object, V: int) -> np.ndarray:
    """A finite (V,) vector of log word frequencies, as float64."""
    bias = np.asarray(log_frequencies, dtype=np.float64)
    if bias.shape != (V,) or not np.all(np.isfinite(bias)):
        raise ValueError(
            f"{func}: expected (V,) = ({V},) finite log word frequencies (e.g. "
            f"vocab.log_frequencies()), got shape {format_shape(bias.shape)}"
        )
    return bias


def validate_captions(func: str, captions: object, N: int, V: int, min_length: int) -> np.ndarray:
    """Integer captions (N, L) with L >= ``min_length``, every index in [0, V)."""
    if captions is None:
        raise TypeError(
            f"{func}: captions are required: a captioning model has no scores without a "
            "caption to read. Train it with Solver(..., metric='loss') (X = features, "
            "y = captions) and generate with sample() or beam_search()"
        )
    require_indices(func, "captions", captions, None, V)
    if captions.shape[0] != N:
        raise ValueError(
            f"{func}: captions has {captions.shape[0]} rows but features has {N}; give one "
            "caption per image"
        )
    if captions.shape[1] < min_length:
        raise ValueError(
            f"{func}: captions has shape {format_shape(captions.shape)}; it needs at least "
            f"{min_length} columns (<START> and one word to predict)"
        )
    return captions


def validate_decoding(func: str, max_length: object, start: int | None, V: int) -> int:
    """``max_length`` a positive int, and a model that can start a caption; return max_length."""
    max_length = require_positive_int(func, "max_length", max_length)
    if start is None or start >= V:
        raise ValueError(
            f"{func}: generating needs a '<START>' word with an index below V = {V} in "
            "word_to_idx; this model has none"
        )
    return max_length


def validate_temperature(func: str, temperature: object) -> float | None:
    """None (greedy) or a finite number > 0."""
    if temperature is None:
        return None
    if not is_positive_finite(temperature):
        raise ValueError(
            f"{func}: temperature must be None (greedy: the most likely word) or a number "
            f"> 0 (e.g. 0.8; lower is more conservative), got {temperature!r}"
        )
    return float(temperature)


def validate_beam_options(
    func: str, beam_width: object, length_normalization: object
) -> tuple[int, float]:
    """A positive int width and a finite alpha >= 0; return them."""
    beam_width = require_positive_int(func, "beam_width", beam_width)
    if not (
        is_real_number(length_normalization)
        and np.isfinite(length_normalization)
        and length_normalization >= 0
    ):
        raise ValueError(
            f"{func}: length_normalization is the exponent alpha >= 0 of the length penalty "
            f"(0: raw log-probability; 0.6 to 1 favours longer captions), got "
            f"{length_normalization!r}"
        )
    return beam_width, float(length_normalization)


def validate_scored_captions(
    func: str, captions: object, N: int, V: int, start: int | None
) -> np.ndarray:
    """Captions (N, L) as the decoders return them: the words after <START>, <NULL>-padded."""
    validate_decoding(func, 1, start, V)  # scoring reads <START> first, as generating does
    validate_captions(func, captions, N, V, min_length=1)
    if np.any(captions[:, 0] == start):
        raise ValueError(
            f"{func}: captions start with <START>; pass the words after it, as sample() "
            "returns them (training captions c become c[:, 1:])"
        )
    return captions
