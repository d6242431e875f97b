"""The captioning checks fail on realistic wrong implementations and pass the right ones.

Each function below is a mistake students make while writing the three
exercises of notebook 05 (the captioning loss, greedy sampling, beam search);
each catalogue entry names the message the check must give for it. Most are
written through one loop with switches for the classic slips (``_loss``,
``_greedy``, ``_beam``), whose default is the correct version; the plain
correct versions students write are in ``captioning_solutions.py`` and must
pass too. Then: the reference passes with one line, each check is fast, a
beam search that never returns fails by the time limit, and the seeded
problems have the properties that make the mistakes visible.
"""

from __future__ import annotations

import signal
import time

import numpy as np
import pytest
from captioning_solutions import beam_search, captioning_loss, sample_captions
from check_catalogue import (
    WRONG,
    assert_check_fails,
    assert_check_passes_with_one_line,
    assert_distinct_mistakes,
    mistake,
    mistake_params,
    not_implemented,
)

from course import layers
from course.checks import captioning as C
from course.checks import core, set_time_limit
from course.checks.captioning import (
    check_beam_search,
    check_captioning_loss,
    check_sample_captions,
)
from course.models.captioning import beam_search_one_image

# ---------------------------------------------------------------------------
# captioning_loss(features, captions, params, cell_type, null_index) -> (loss, grads)
# ---------------------------------------------------------------------------


def _loss(
    features,
    captions,
    params,
    cell_type,
    null_index,
    *,
    shift="right",
    mask=True,
    null=None,
    h0="affine",
    per_step=False,
    dh0_from="dh0",
    embed_grad="add.at",
    cell=None,
    grads_from_zeros=False,
    pad_targets=False,
):
    """The captioning loss, with switches for the classic slips (defaults: right)."""
    p = params
    cell = cell or cell_type
    null = null_index if null is None else null
    T = captions.shape[1] - 1
    captions_in, captions_out = {
        "right": (captions[:, :-1], captions[:, 1:]),
        "none": (captions[:, :-1], captions[:, :-1]),
        "reversed": (captions[:, 1:], captions[:, :-1]),
    }[shift]
    keep = captions_out != null if mask else np.ones(captions_out.shape, dtype=bool)
    if pad_targets:
        captions_out[~keep] = 0  # a view of the caller's captions
    if h0 == "zeros":
        h_start, proj_cache = np.zeros((len(features), p["Wh"].shape[0])), None
    else:
        b_proj = p["b_proj"] if h0 == "affine" else np.zeros_like(p["b_proj"])
        h_start, proj_cache = layers.affine_forward(features, p["W_proj"], b_proj)
    x, embed_cache = layers.word_embedding_forward(captions_in, p["W_embed"])
    forward, backward = {
        "rnn": (layers.rnn_forward, layers.rnn_backward),
        "lstm": (layers.lstm_forward, layers.lstm_backward),
    }[cell]
    h, rnn_cache = forward(x, h_start, p["Wx"], p["Wh"], p["b"])
    scores, vocab_cache = layers.temporal_affine_forward(h, p["W_vocab"], p["b_vocab"])
    loss, dscores = layers.temporal_softmax_loss(scores, captions_out, keep)
    if per_step:
        loss, dscores = loss / T, dscores / T

    grads = {}
    dh, grads["W_vocab"], grads["b_vocab"] = layers.temporal_affine_backward(dscores, vocab_cache)
    dx, dh0, grads["Wx"], grads["Wh"], grads["b"] = backward(dh, rnn_cache)
    if embed_grad == "add.at":
        grads["W_embed"] = layers.word_embedding_backward(dx, embed_cache)
    else:
        grads["W_embed"] = np.zeros_like(p["W_embed"])
        grads["W_embed"][captions_in] = dx
    if proj_cache is None:
        grads["W_proj"], grads["b_proj"] = np.zeros_like(p["W_proj"]), np.zeros_like(p["b_proj"])
    elif dh0_from is not None:
        upstream = dh0 if dh0_from == "dh0" else dh[:, 0]
        _, grads["W_proj"], grads["b_proj"] = layers.affine_backward(upstream, proj_cache)
    if grads_from_zeros:
        totals = {key: np.zeros(value.shape) for key, value in p.items()}
        grads = {key: totals[key] + grads[key] for key in grads}
    return loss, grads


def _loss_with(**slips):
    def captioning_loss_with_slip(features, captions, params, cell_type, null_index):
        return _loss(features, captions, params, cell_type, null_index, **slips)

    return captioning_loss_with_slip


# The mask is forgotten: the <NULL> padding counts as words to predict.
captioning_loss_no_mask = _loss_with(mask=False)
# The captions are not shifted: the RNN predicts the word it reads.
captioning_loss_not_shifted = _loss_with(shift="none")
# Shifted the wrong way: reads captions[:, 1:] and predicts captions[:, :-1].
captioning_loss_shifted_backwards = _loss_with(shift="reversed")
# h0 = features @ W_proj: the bias of the projection is forgotten.
captioning_loss_h0_without_b_proj = _loss_with(h0="no-bias")
# h0 = zeros: the image never enters the model.
captioning_loss_h0_zeros = _loss_with(h0="zeros")
# Averages over the time steps too (loss / T).
captioning_loss_averaged_over_steps = _loss_with(per_step=True)
# Backprops the projection from dh[:, 0], the first output state, not from dh0.
captioning_loss_dproj_from_first_output = _loss_with(dh0_from="dh[:, 0]")
# Forgets the projection's gradients: no W_proj, b_proj in grads.
captioning_loss_no_projection_grads = _loss_with(dh0_from=None)
# dW_embed[captions_in] = dx: a repeated word keeps only one of its gradients.
captioning_loss_embedding_assigned = _loss_with(embed_grad="assign")
# cell_type is ignored: always the vanilla RNN.
captioning_loss_always_rnn = _loss_with(cell="rnn")
# <NULL> hard-coded as 0 in the mask.
captioning_loss_null_is_zero = _loss_with(null=0)
# Gradients summed into float64 np.zeros: float32 params get float64 grads.
captioning_loss_float64_grads = _loss_with(grads_from_zeros=True)
# Sets the masked targets to 0 in captions_out, a view of the caller's captions.
captioning_loss_edits_captions = _loss_with(pad_targets=True)

CAPTIONING_LOSS_MISTAKES = [
    mistake(
        captioning_loss_no_mask,
        match=f"loss \\(example\\) {WRONG}.*the <NULL> padding counts in your loss",
        id="mask-forgotten",
    ),
    mistake(
        captioning_loss_not_shifted,
        match=f"loss \\(example\\) {WRONG}.*predicts every word but the first",
        id="not-shifted",
    ),
    mistake(
        captioning_loss_shifted_backwards,
        match=f"loss \\(example\\) {WRONG}",
        id="shifted-backwards",
    ),
    mistake(
        captioning_loss_h0_without_b_proj,
        match=f"loss \\(example\\) {WRONG}.*the image's projection has a bias too",
        id="h0-without-b_proj",
    ),
    mistake(captioning_loss_h0_zeros, match=f"loss \\(example\\) {WRONG}", id="h0-zeros"),
    mistake(
        captioning_loss_averaged_over_steps,
        match=f"loss \\(example\\) {WRONG}.*do not divide by T as well",
        id="averaged-over-steps",
    ),
    mistake(
        captioning_loss_dproj_from_first_output,
        match=f"grads\\['W_proj'\\] \\(example\\) {WRONG}.*not dh\\[:, 0\\]",
        id="dproj-from-dh[:,0]",
    ),
    mistake(
        captioning_loss_no_projection_grads,
        match=r"grads \(example\) has no 'W_proj', 'b_proj'; return the gradient of every",
        id="projection-grads-missing",
    ),
    mistake(
        captioning_loss_embedding_assigned,
        match=f"grads\\['W_embed'\\] \\(example\\) {WRONG}.*the SUM of its gradients",
        id="embedding-grad-assigned",
    ),
    mistake(
        captioning_loss_always_rnn,
        match=r"captioning_loss_with_slip raised ValueError: .*Hint: this case has "
        r"cell_type='lstm'",
        id="cell-type-ignored",
    ),
    mistake(
        captioning_loss_null_is_zero,
        match=f"loss \\(lstm\\) {WRONG}.*Hint: mask with null_index, the argument",
        id="null-hard-coded-0",
    ),
    mistake(
        captioning_loss_float64_grads,
        match=r"grads\['W_vocab'\] \(float32\) has dtype float64 for float32 inputs",
        id="float64-grads",
    ),
    mistake(
        captioning_loss_edits_captions,
        match=r"changed its input argument 2 in place",
        id="captions-in-place",
    ),
    mistake(not_implemented, match=r"not_implemented is not implemented yet", id="stub"),
]


# ---------------------------------------------------------------------------
# sample_captions(features, params, cell_type, start_index, end_index, null_index,
#                 max_length) -> captions
# ---------------------------------------------------------------------------


def _greedy(
    features,
    params,
    cell_type,
    start_index,
    end_index,
    null_index,
    max_length,
    *,
    feed="previous",
    carry_h=True,
    carry_c=True,
    ban=True,
    softmax_axis=None,
    after_end="null",
    h0="affine",
    start_column=None,
    dtype=np.int64,
    indices=None,
    cell=None,
    one_step_short=False,
):
    """Greedy decoding, with switches for the classic slips (defaults: right)."""
    p = params
    cell = cell or cell_type
    null, start, end = indices or (null_index, start_index, end_index)
    N = len(features)
    if h0 == "zeros":
        h_start = np.zeros((N, p["Wh"].shape[0]))
    else:
        h_start = features @ p["W_proj"] + (p["b_proj"] if h0 == "affine" else 0)
    h, c = h_start, np.zeros_like(h_start)
    words = np.full(N, start)
    captions = np.full((N, max_length), null, dtype=dtype)
    done = np.zeros(N, dtype=bool)
    first = 0
    if start_column == "replaces-word-0":  # <START> written as word 0, L - 1 words after it
        captions[:, 0], first = start, 1
    elif start_column == "extra":  # <START> as an extra first column: (N, L + 1)
        captions = np.concatenate([np.full((N, 1), start), captions], axis=1)
        first = 1
    for t in range(max_length - first - (1 if one_step_short else 0)):
        x = p["W_embed"][words if feed == "previous" else np.full(N, start)]
        prev_h = h if carry_h else h_start
        prev_c = c if carry_c else np.zeros_like(c)
        if cell == "lstm":
            h, c, _ = layers.lstm_step_forward(x, prev_h, prev_c, p["Wx"], p["Wh"], p["b"])
        else:
            h, _ = layers.rnn_step_forward(x, prev_h, p["Wx"], p["Wh"], p["b"])
        scores = h @ p["W_vocab"] + p["b_vocab"]
        if softmax_axis is not None:  # probabilities, then the banned words' set to 0
            exp = np.exp(scores - scores.max(axis=softmax_axis, keepdims=True))
            scores = exp / exp.sum(axis=softmax_axis, keepdims=True)
        if ban:
            scores[:, [null, start]] = -np.inf
        words = np.argmax(scores, axis=1)
        if after_end == "end-dropped":  # done is updated before the word is written
            done = done | (words == end)
            captions[:, t + first] = np.where(done, null, words)
            continue
        captions[:, t + first] = np.where(done, null, words) if after_end == "null" else words
        done = done | (words == end)
    return captions


def _greedy_with(**slips):
    def sample_captions_with_slip(features, params, cell_type, start, end, null, max_length):
        return _greedy(features, params, cell_type, start, end, null, max_length, **slips)

    return sample_captions_with_slip


# Feeds <START> at every step instead of the word chosen at the step before.
sample_captions_always_start = _greedy_with(feed="start")
# Starts every step from h0: the state is not carried.
sample_captions_h_not_carried = _greedy_with(carry_h=False)
# The LSTM's cell is reset to zero at every step.
sample_captions_c_not_carried = _greedy_with(carry_c=False)
# Softmax normalised over the batch (axis 0) before the argmax over words.
sample_captions_softmax_over_batch = _greedy_with(softmax_axis=0)
# <NULL> and <START> may be chosen.
sample_captions_no_ban = _greedy_with(ban=False)
# CS231n's sample: keeps writing the words generated after <END>.
sample_captions_words_after_end = _greedy_with(after_end="keep")
# Marks the caption done before writing its word: <END> becomes <NULL>.
sample_captions_end_dropped = _greedy_with(after_end="end-dropped")
# h0 = zeros: the image is ignored.
sample_captions_image_ignored = _greedy_with(h0="zeros")
# h0 = features @ W_proj without b_proj.
sample_captions_h0_without_b_proj = _greedy_with(h0="no-bias")
# Writes <START> as word 0 and generates max_length - 1 words after it.
sample_captions_start_as_word_0 = _greedy_with(start_column="replaces-word-0")
# Returns <START> as an extra first column: (N, L + 1).
sample_captions_start_column = _greedy_with(start_column="extra")
# for t in range(max_length - 1): the last column stays <NULL>.
sample_captions_one_step_short = _greedy_with(one_step_short=True)
# np.zeros((N, L)) without dtype: float word indices.
sample_captions_float_captions = _greedy_with(dtype=np.float64)
# <NULL>, <START>, <END> hard-coded as CS231n's 0, 1, 2.
sample_captions_cs231n_indices = _greedy_with(indices=(0, 1, 2))
# cell_type is ignored: always the vanilla RNN step.
sample_captions_always_rnn = _greedy_with(cell="rnn")

SAMPLE_CAPTIONS_MISTAKES = [
    mistake(
        sample_captions_always_start,
        match=r"captions \(rnn\) differ from the reference's first at image 0, word 1: .*"
        r"embed the word chosen at the step before",
        id="start-fed-every-step",
    ),
    mistake(sample_captions_h_not_carried, match=r"captions \(rnn\) differ", id="h-not-carried"),
    mistake(sample_captions_c_not_carried, match=r"captions \(lstm\) differ", id="c-not-carried"),
    mistake(
        sample_captions_softmax_over_batch,
        match=r"captions \(rnn\) differ .*argmax over the vocabulary \(axis 1\)",
        id="softmax-over-batch",
    ),
    mistake(
        sample_captions_no_ban,
        match=r"captions \(rnn\) differ .*got 0 \(<NULL>\), .*set their scores to -inf",
        id="null-start-not-banned",
    ),
    mistake(
        sample_captions_words_after_end,
        match=r"captions \(rnn\) differ .*expected 0 \(<NULL>\)\. Hint: your captions are "
        r"right up to <END>, well done; .*CS231n's sample",
        id="words-after-end",
    ),
    mistake(
        sample_captions_end_dropped,
        match=r"got 0 \(<NULL>\), expected 2 \(<END>\)\. Hint: <END> is part of the caption",
        id="end-not-included",
    ),
    mistake(
        sample_captions_image_ignored,
        match=r"captions \(rnn\) differ .*ignores the image",
        id="image-ignored",
    ),
    mistake(
        sample_captions_h0_without_b_proj,
        match=r"captions \(rnn\) differ .*a projection without its bias: add the bias",
        id="h0-without-b_proj",
    ),
    mistake(
        sample_captions_start_as_word_0,
        match=r"word 0: got 1 \(<START>\), .*Hint: the captions hold the words after <START>",
        id="start-as-word-0",
    ),
    mistake(
        sample_captions_start_column,
        match=r"captions \(rnn\) has the wrong shape: got \(8, 9\), expected \(8, 8\)\. "
        r"Hint: .*<START> is not part of it",
        id="start-column",
    ),
    mistake(
        sample_captions_one_step_short,
        match=r"word 7: got 0 \(<NULL>\), expected \d\. Hint: generate max_length words",
        id="one-step-short",
    ),
    mistake(
        sample_captions_float_captions,
        match=r"captions \(rnn\) has dtype float64; word indices are integers",
        id="float-captions",
    ),
    mistake(
        sample_captions_cs231n_indices,
        match=r"captions \(lstm\) differ",
        id="indices-hard-coded",
    ),
    mistake(
        sample_captions_always_rnn,
        match=r"sample_captions_with_slip raised ValueError: .*Hint: this case has "
        r"cell_type='lstm'",
        id="cell-type-ignored",
    ),
    mistake(not_implemented, match=r"not_implemented is not implemented yet", id="stub"),
]


# ---------------------------------------------------------------------------
# beam_search(step, state, beam_width, max_length, start_index, end_index,
#             null_index) -> (caption, logprob)
# ---------------------------------------------------------------------------


def _beam(
    step,
    state,
    beam_width,
    max_length,
    start_index,
    end_index,
    null_index,
    *,
    score="sum",
    reorder=True,
    unravel="parent = index // V",
    finish_at_end=True,
    stop_at_first=False,
    keep="largest",
    ban=True,
    one_per_beam=False,
    returned="logprob",
    include_end=True,
    start_first=False,
):
    """Beam search over lists of (word, log-prob), with switches for the classic slips."""
    k, L = beam_width, max_length

    def total(beam):  # what beams compete by
        return sum(lp for _, lp in beam) if score == "sum" else beam[-1][1]

    def result(beam):
        words = [w for w, _ in beam if include_end or w != end_index]
        caption = np.full(L, null_index, dtype=np.int64)
        caption[: len(words)] = words
        if start_first:
            caption = np.concatenate([[start_index], caption])
        logprob = total(beam)
        return caption, logprob / len(beam) if returned == "normalised" else logprob

    beams, finished = [[]], []
    words = np.array([start_index])
    for t in range(L):
        log_probs, new_state = step(words, state, t)  # (M, V)
        log_probs = log_probs.copy()
        if ban:
            log_probs[:, [null_index, start_index]] = -np.inf
        M, V = log_probs.shape
        so_far = np.array([total(b) if b and score == "sum" else 0.0 for b in beams])
        candidates = so_far[:, None] + log_probs  # (M, V)
        if one_per_beam and t > 0:  # each beam keeps only its own best continuation
            chosen = [m * V + int(np.argmax(candidates[m])) for m in range(M)]
            chosen = sorted(chosen, key=lambda i: -candidates.flat[i])[:k]
        else:
            ranked = np.argsort(candidates, axis=None)  # smallest first
            chosen = ranked[:k] if keep == "smallest" else ranked[::-1][:k]
        live, parents = [], []
        for index in chosen:
            if unravel == "parent = index // V":
                parent, word = index // V, index % V
            else:
                parent, word = index % M, index // M
            beam = beams[parent] + [(int(word), log_probs[parent, word])]
            if finish_at_end and (word == end_index or t == L - 1):
                if stop_at_first:
                    return result(beam)
                finished.append(beam)
            else:
                live.append(beam)
                parents.append(parent)
        if not live:
            break
        beams = live
        words = np.array([beam[-1][0] for beam in beams])
        state = tuple(s[parents] for s in new_state) if reorder else new_state
    if not finish_at_end:  # every beam ran to L; a caption ends at its first <END>
        for beam in beams:
            ends = [i for i, (w, _) in enumerate(beam) if w == end_index]
            finished.append(beam[: ends[0] + 1] if ends else beam)
    return result(max(finished, key=total))


def _beam_with(**slips):
    def beam_search_with_slip(step, state, beam_width, max_length, start, end, null):
        return _beam(step, state, beam_width, max_length, start, end, null, **slips)

    return beam_search_with_slip


def beam_search_never_advances(step, state, beam_width, max_length, start, end, null):
    """A while loop whose counter is never incremented."""
    t, words, caption = 0, np.array([start]), []
    while t < max_length:
        log_probs, state = step(words, state, t)
        words = np.argmax(log_probs, axis=1)
        caption.append(int(words[0]))
    return np.array(caption[:max_length]), 0.0


# Beams compete by their last word's log-probability, not the sum.
beam_search_last_word_only = _beam_with(score="last")
# The state is never reordered: it keeps the rows of the step before.
beam_search_state_not_reordered = _beam_with(reorder=False)
# The flat index of the (M, V) candidates split as parent = index % M, word = index // M.
beam_search_index_split_wrong = _beam_with(unravel="parent = index % M")
# <END> does not finish a beam: every beam runs to max_length, then is cut at <END>.
beam_search_finished_keep_going = _beam_with(finish_at_end=False)
# Returns the first caption that finishes.
beam_search_first_finished = _beam_with(stop_at_first=True)
# np.argsort is ascending: keeps the k WORST continuations.
beam_search_keeps_worst = _beam_with(keep="smallest")
# <NULL> and <START> may extend a beam.
beam_search_no_ban = _beam_with(ban=False)
# Each beam keeps only its own best continuation (k greedy searches).
beam_search_one_per_beam = _beam_with(one_per_beam=True)
# Returns the length-normalised log-probability.
beam_search_normalised_logprob = _beam_with(returned="normalised")
# The caption without its <END>.
beam_search_end_dropped = _beam_with(include_end=False)
# The caption with <START> in front: L + 1 words.
beam_search_start_in_front = _beam_with(start_first=True)


def beam_search_width_ignored(step, state, beam_width, max_length, start, end, null):
    """Greedy decoding whatever the width."""
    return _beam(step, state, 1, max_length, start, end, null)


BEAM_SEARCH_MISTAKES = [
    mistake(
        beam_search_last_word_only,
        match=f"logprob \\(image 0, rnn, beam_width 1\\) {WRONG}.*not the last word's alone",
        id="last-word-only",
    ),
    mistake(
        beam_search_state_not_reordered,
        match=r"raised ValueError: step: words has 2 rows but the state arrays have \[1, 1\];"
        r".*state = tuple\(s\[parents\] for s in state\)",
        id="state-not-reordered",
    ),
    mistake(
        beam_search_index_split_wrong,
        match=r"caption \(image 0, rnn, beam_width 2\) is not the caption beam search finds: "
        r"yours starts 8, 1 \(<START>\) where word 1 should be 8; .*"
        r"recover each continuation's parent beam \(its row\) and word \(its column\)",
        id="flat-index-split-wrong",
    ),
    mistake(
        beam_search_finished_keep_going,
        match=r"caption \(image \d, \w+, beam_width \d\) is not the caption beam search finds"
        r".*leaves the beam",
        id="finished-beams-extended",
    ),
    mistake(
        beam_search_first_finished,
        match=r"caption \(image \d, \w+, beam_width \d\) is not the caption beam search finds",
        id="first-finished-returned",
    ),
    mistake(
        beam_search_keeps_worst,
        match=r"caption \(image 0, rnn, beam_width 1\) is not the caption .*keep the k LARGEST "
        r"ones",
        id="keeps-the-worst",
    ),
    mistake(
        beam_search_no_ban,
        match=r"caption \(image \d, \w+, beam_width \d\) is not the caption .*a caption never "
        r"holds <START>",
        id="null-start-not-banned",
    ),
    mistake(
        beam_search_width_ignored,
        match=r"caption \(image 0, rnn, beam_width 2\) is not the caption .*yours is worse\)\. "
        r"Hint: these are the greedy captions \(beam_width 1\) of every image",
        id="width-ignored",
    ),
    mistake(
        beam_search_one_per_beam,
        match=r"caption \(image \d, \w+, beam_width \d\) is not the caption beam search finds",
        id="one-continuation-per-beam",
    ),
    mistake(
        beam_search_normalised_logprob,
        match=f"logprob \\(image 0, rnn, beam_width 1\\) {WRONG}.*not divided by the length",
        id="normalised-logprob",
    ),
    mistake(
        beam_search_end_dropped,
        match=r"caption \(image 1, rnn, beam_width 2\) is not the caption beam search finds: "
        r"yours starts 7, 0 \(<NULL>\) where word 1 should be 2 \(<END>\).*"
        r"Hint: <END> is part of the caption",
        id="end-not-included",
    ),
    mistake(
        beam_search_start_in_front,
        match=r"caption \(image 0, rnn, beam_width 1\) has the wrong shape: got \(8,\), "
        r"expected \(7,\)",
        id="start-in-front",
    ),
    mistake(not_implemented, match=r"not_implemented is not implemented yet", id="stub"),
]


# ---------------------------------------------------------------------------
# The catalogue, run against every check
# ---------------------------------------------------------------------------


def _reference_sample_captions(features, params, cell_type, start, end, null, max_length):
    """The reference model's greedy captions, through the exercise's signature."""
    model = C._reference_model(params, cell_type, null, start, end)
    return model.sample(features, max_length)


def _reference_captioning_loss(features, captions, params, cell_type, null_index):
    """The reference model's loss, through the exercise's signature."""
    model = C._reference_model(params, cell_type, null_index)
    model.dtype = np.dtype(params["W_embed"].dtype)
    model.params = dict(params)
    return model.loss(features, captions)


CHECKS = {
    "captioning_loss": (
        check_captioning_loss,
        (_reference_captioning_loss,),
        CAPTIONING_LOSS_MISTAKES,
    ),
    "sample_captions": (
        check_sample_captions,
        (_reference_sample_captions,),
        SAMPLE_CAPTIONS_MISTAKES,
    ),
    "beam_search": (check_beam_search, (beam_search_one_image,), BEAM_SEARCH_MISTAKES),
}

ALL_MISTAKES = mistake_params(CHECKS)


@pytest.mark.parametrize("name, student, expected", ALL_MISTAKES)
def test_check_fails_on_the_mistake(name, student, expected, capsys):
    assert_check_fails(CHECKS[name][0], name, student, expected, capsys)


@pytest.mark.parametrize("name", CHECKS)
def test_check_passes_the_reference_with_one_line(name, capsys):
    check, reference, _ = CHECKS[name]
    assert_check_passes_with_one_line(check, name, reference, capsys)


@pytest.mark.parametrize(
    "check, student",
    [
        (check_captioning_loss, captioning_loss),
        (check_sample_captions, sample_captions),
        (check_beam_search, beam_search),
    ],
    ids=["captioning_loss", "sample_captions", "beam_search"],
)
def test_the_student_solutions_pass_with_one_line(check, student, capsys):
    check(student)
    out = capsys.readouterr().out
    assert out.startswith(f"OK {student.__name__}: relative errors ") and out.count("\n") == 1


def test_the_catalogue_loops_without_slips_are_right(capsys):
    """So each catalogue failure is its slip's, not the loop's."""
    check_captioning_loss(_loss_with())
    check_sample_captions(_greedy_with())
    check_beam_search(_beam_with())
    assert capsys.readouterr().out.count("OK ") == 3


@pytest.mark.parametrize("name", CHECKS)
def test_catalogue_has_seven_distinct_mistakes(name):
    assert_distinct_mistakes(CHECKS[name][2], minimum=7)


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="the time limit needs SIGALRM")
def test_a_beam_search_that_never_returns_fails_by_the_time_limit(monkeypatch, capsys):
    monkeypatch.setattr(core, "_time_limit_setting", core._UNSET)  # restored afterwards
    set_time_limit(0.3)
    started = time.monotonic()
    assert_check_fails(
        check_beam_search,
        "beam_search",
        (beam_search_never_advances,),
        r"^beam_search: beam_search_never_advances did not return within 0\.3 s; look for a "
        r"loop that never ends",
        capsys,
    )
    assert time.monotonic() - started < 5


# ---------------------------------------------------------------------------
# The inputs make the mistakes visible
# ---------------------------------------------------------------------------


def test_the_worked_example_loss_is_the_reference_models():
    model = C._reference_model(C._EXAMPLE_PARAMS, "rnn", 0)
    loss, _ = model.loss(C._EXAMPLE_FEATURES, C._EXAMPLE_CAPTIONS)
    assert loss == pytest.approx(C._EXAMPLE_LOSS, rel=1e-12)


def test_the_loss_cases_pad_mid_batch_and_repeat_words():
    for label, _, (_, captions, _, _, null), _ in C._loss_cases():
        padded = (captions[:, 1:] == null).any(axis=1)
        assert padded[1:-1].any() and not padded.all(), label  # a padded row mid-batch
        read = captions[:, 1:-1]  # the words the RNN reads after <START>
        assert np.bincount(read[read != null]).max() >= 3, label  # np.add.at matters


@pytest.mark.parametrize("cell_type, specials, seed", C._SAMPLE_CASES)
def test_the_sampled_captions_end_at_different_steps_and_would_pick_banned_words(
    cell_type, specials, seed
):
    null, start, end = specials
    params, features = C._decoding_problem(cell_type, seed, C._SAMPLE_IMAGES, specials)
    L = C._SAMPLE_LENGTH
    captions = C._reference_model(params, cell_type, *specials).sample(features, L)
    ends = [list(row).index(end) if end in row else L for row in captions]
    assert len(set(ends)) >= 4 and L in ends and min(ends) <= L - 4
    unbanned = _greedy(features, params, cell_type, start, end, null, L, ban=False)
    assert (unbanned != captions).any(axis=1).sum() >= 2  # some rows, not all
    assert ((unbanned == null) | (unbanned == start)).any()
    assert not (unbanned != captions).any(axis=1).all()


@pytest.mark.parametrize("cell_type, specials, seed", C._SAMPLE_CASES)
def test_the_greedy_words_win_by_a_margin(cell_type, specials, seed):
    """The likeliest allowed word beats the next by far more than rounding, at every step.

    So argmax over the scores (students) and over log_softmax (the reference),
    in any order of summation, choose the same words.
    """
    null, start, end = specials
    params, features = C._decoding_problem(cell_type, seed, C._SAMPLE_IMAGES, specials)
    step, state = C._reference_model(params, cell_type, *specials).decoder(features)
    words, done, margins = np.full(len(features), start), np.zeros(len(features), bool), []
    for t in range(C._SAMPLE_LENGTH):
        log_probs, state = step(words, state, t)
        log_probs[:, [null, start]] = -np.inf
        best_two = np.sort(log_probs, axis=1)[:, -2:]  # (N, 2)
        margins.extend((best_two[:, 1] - best_two[:, 0])[~done])
        words = np.argmax(log_probs, axis=1)
        done |= words == end
    assert min(margins) > 1e-3


@pytest.mark.parametrize(
    "words, state, message",
    [
        (np.array([[1], [2]]), 2, r"words has shape \(2, 1\) and dtype int64; expected a 1-D"),
        (np.array([1.0, 2.0]), 2, r"expected a 1-D integer array \(M,\)"),
        (np.array([1, 10]), 2, r"words holds indices outside the vocabulary \[0, 10\)"),
        (np.array([1, 2]), "h", r"state must be the tuple \(h, c\) that step returned"),
        (np.array([1, 2, 3]), 2, r"words has 3 rows but the state arrays have \[2, 2\]"),
    ],
    ids=["2-D words", "float words", "outside the vocabulary", "state not a tuple", "rows"],
)
def test_the_step_handed_to_students_says_what_is_wrong(words, state, message):
    params, features = C._decoding_problem("lstm", 0, 2, (4, 0, 7))
    step, start_state = C._reference_model(params, "lstm", 4, 0, 7).decoder(features)
    checked = C._checked_step(step, C._VOCABULARY_SIZE)
    with pytest.raises(ValueError, match=f"^step: .*{message}"):
        checked(words, start_state if state == 2 else start_state[0], 0)
    log_probs, _ = checked(np.array([1, 2]), start_state, 0)  # right inputs pass through
    assert log_probs.shape == (2, C._VOCABULARY_SIZE)


@pytest.mark.parametrize("cell_type, specials, seed", C._BEAM_CASES)
def test_beam_search_and_greedy_differ_on_several_images(cell_type, specials, seed):
    null, start, end = specials
    params, features = C._decoding_problem(cell_type, seed, C._BEAM_IMAGES, specials)
    model = C._reference_model(params, cell_type, *specials)
    differ, ended = 0, set()
    for n in range(len(features)):
        step, state = model.decoder(features[n : n + 1])
        captions = {k: C._reference_beam(step, state, k, specials)[0] for k in C._BEAM_WIDTHS}
        differ += sum(not np.array_equal(captions[k], captions[1]) for k in (2, 3, 5))
        ended |= {end in caption for caption in captions.values()}
    assert differ >= 5
    assert ended == {True, False}  # some captions end with <END>, some run to max_length


@pytest.mark.parametrize("cell_type, specials, seed", C._BEAM_CASES)
def test_the_beam_answers_have_no_near_ties(cell_type, specials, seed):
    """Log-probabilities nudged by 1e-9 give the same captions: no tie decides an answer."""
    params, features = C._decoding_problem(cell_type, seed, C._BEAM_IMAGES, specials)
    model = C._reference_model(params, cell_type, *specials)
    rng = np.random.default_rng(0)
    for n in range(len(features)):
        step, state = model.decoder(features[n : n + 1])

        def nudged(words, state, t, step=step):
            log_probs, new_state = step(words, state, t)
            return log_probs + 1e-9 * rng.standard_normal(log_probs.shape), new_state

        for k in C._BEAM_WIDTHS:
            caption, _ = C._reference_beam(step, state, k, specials)
            for _ in range(3):
                np.testing.assert_array_equal(
                    C._reference_beam(nudged, state, k, specials)[0], caption
                )
