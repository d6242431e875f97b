"""Checks for the image-captioning exercises (notebook 05): the loss, greedy sampling, beam search.

The three functions students write, whose references are
``course.models.captioning.CaptioningRNN`` (image input ``'h0'``) and
``course.models.captioning.beam_search_one_image``::

    captioning_loss(features, captions, params, cell_type, null_index) -> (loss, grads)
    sample_captions(features, params, cell_type, start_index, end_index, null_index,
                    max_length) -> captions
    beam_search(step, state, beam_width, max_length, start_index, end_index,
                null_index) -> (caption, logprob)

- ``captioning_loss``: features (N, D); captions (N, T + 1) integers, <START>
  first and <NULL> after <END>; params a dict of W_proj (D, Hd), b_proj (Hd,),
  W_embed (V, W), Wx (W, G*Hd), Wh (Hd, G*Hd), b (G*Hd,), W_vocab (Hd, V),
  b_vocab (V,) with G = 1 for ``cell_type='rnn'`` and 4 for ``'lstm'``. It is
  CS231n's ``CaptioningRNN.loss``: the RNN reads ``captions[:, :-1]`` from
  ``h0 = features @ W_proj + b_proj`` (c0 = 0) and predicts ``captions[:, 1:]``;
  targets that are <NULL> are masked out; the loss is summed over the time
  steps and averaged over the N images. grads is keyed like params, each
  gradient of its parameter's dtype.
- ``sample_captions``: greedy decoding of every image from <START> and h0;
  each step feeds the previous word and takes the likeliest next word, <NULL>
  and <START> never chosen. captions (N, L) int64: the words after <START>,
  <END> included where generated, then <NULL> (a finished caption stays
  finished; CS231n's ``sample`` leaves the words generated after <END>).
- ``beam_search``: for ONE image. ``step(words (M,), state, t) -> (log_probs
  (M, V), new_state)`` runs the decoder one step for M beams; ``state`` is
  ``(h, c)``, each (M, Hd), and starts with one row. At every step each live
  beam is extended by every word but <NULL> and <START>; the k best of all
  continuations by their summed log-probability survive (the state rows taken
  from their parents); a survivor whose word is <END>, and every survivor at
  step L - 1, is finished and leaves the beam. The answer is the finished
  caption with the highest log-probability (no length normalisation): caption
  (L,) int64 like a row of ``sample_captions``, logprob its summed word
  log-probabilities. Stopping once no live beam can beat the best finished
  caption does not change the answer.

The loss is compared on a worked example (evenly spaced parameters, its loss
written out below), on an LSTM with <NULL> at an unusual index, and in float32
(the gradients must stay float32); every gradient against the reference
model's, computed in float64 on the same numbers (the reference's gradients
are themselves tested against centred differences in
``tests/test_models_captioning.py``). The decoders are compared exactly, word
for word, on seeded models chosen so that each classic mistake changes the
answer; the log-probability of a beam search to VALUE_TOL. The ``step``
handed to a student's beam search names what is wrong with the words or the
state it is given, instead of failing deep inside numpy.

Dimension letters: N images, D feature size, W word-vector size, Hd hidden
size, V vocabulary size, T time steps, L max_length, k beam width, M beams.

This module passes the ~400 lines a module aims for: it is three checks of one
exercise notebook, and most of it is hints and the diagnosis that picks one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course.checks.core import (
    FORM_ONLY,
    VALUE_TOL,
    CheckFailed,
    by_output_kind,
    call_student,
    compare,
    compare_diagnosed,
    expect_tuple,
    report,
    require,
    require_grads,
    value_tol,
)
from course.models.captioning import CaptioningRNN, beam_search_one_image

# ---------------------------------------------------------------------------
# Worked example of captioning_loss (cell_type='rnn', null_index=0):
# N = 3, T = 4, D = 4, W = 3, Hd = 5, V = 7; <NULL> 0, <START> 1, <END> 2.
# Caption 1 is padded in the middle of the batch; word 3 occurs three times.
# ---------------------------------------------------------------------------

_EXAMPLE_FEATURES = np.linspace(-1.0, 1.0, 3 * 4).reshape(3, 4)  # (N, D)
_EXAMPLE_CAPTIONS = np.array(  # (N, T + 1)
    [
        [1, 3, 5, 6, 2],
        [1, 4, 2, 0, 0],
        [1, 6, 3, 3, 2],
    ]
)
_EXAMPLE_PARAMS = {
    "W_proj": np.linspace(-0.5, 0.5, 4 * 5).reshape(4, 5),  # (D, Hd)
    "b_proj": np.linspace(-0.1, 0.2, 5),  # (Hd,)
    "W_embed": np.linspace(-1.0, 1.0, 7 * 3).reshape(7, 3),  # (V, W)
    "Wx": np.linspace(-0.6, 0.4, 3 * 5).reshape(3, 5),  # (W, Hd)
    "Wh": np.linspace(-0.5, 0.3, 5 * 5).reshape(5, 5),  # (Hd, Hd)
    "b": np.linspace(-0.2, 0.1, 5),  # (Hd,)
    "W_vocab": np.linspace(-0.7, 0.6, 5 * 7).reshape(5, 7),  # (Hd, V)
    "b_vocab": np.linspace(-0.3, 0.3, 7),  # (V,)
}
_EXAMPLE_LOSS = 6.2808967635368305

# The order in which the gradients are compared: the order backprop computes them,
# so the first wrong one is where the mistake is.
_BACKWARD_ORDER = ("W_vocab", "b_vocab", "Wx", "Wh", "b", "W_embed", "W_proj", "b_proj")

# ---------------------------------------------------------------------------
# Hints
# ---------------------------------------------------------------------------

_LOSS_HINTS = {
    "loss": "the RNN reads every word of a caption but the last and predicts every word but "
    "the first (the word after each one it reads); targets that are <NULL> (null_index, the "
    "argument: <NULL> is not always 0) are masked out; the image enters as the first state, "
    "an affine map of the features; temporal_softmax_loss sums over the time steps and "
    "divides by N only",
    "W_vocab": "W_vocab and b_vocab form a temporal affine layer on the hidden states: its "
    "backward, fed the gradient of the scores from temporal_softmax_loss, gives their "
    "gradients",
    "b_vocab": "W_vocab and b_vocab form a temporal affine layer on the hidden states: its "
    "backward, fed the gradient of the scores, gives their gradients",
    "Wx": "the recurrent layer's backward (rnn or lstm, as cell_type says), fed the gradient "
    "of the hidden states, gives the gradients of Wx, Wh and b",
    "Wh": "the recurrent layer's backward, fed the gradient of the hidden states, gives the "
    "gradients of Wx, Wh and b",
    "b": "the recurrent layer's backward, fed the gradient of the hidden states, gives the "
    "gradients of Wx, Wh and b",
    "W_embed": "the word embedding's backward: a word that occurs several times gets the SUM "
    "of its gradients (fancy-indexed assignment keeps only one of them; see np.add.at)",
    "W_proj": "the image's projection is an affine layer whose output is h0: its backward "
    "takes the gradient of h0 that the recurrent backward returns (not dh[:, 0], the "
    "gradient of the first OUTPUT state)",
    "b_proj": "the image's projection is an affine layer whose output is h0: its backward "
    "takes the gradient of h0 that the recurrent backward returns",
}
_LOSS_SUSPECT_HINTS = {  # the hint of a loss that matches a known mistake
    "no mask": "the <NULL> padding counts in your loss: the targets that are <NULL> "
    "(captions_out != null_index is False) must be left out",
    "null 0": "mask with null_index, the argument: <NULL> is not always 0",
    "per step": "temporal_softmax_loss already sums over the time steps and divides by N: do "
    "not divide by T as well",
    "no b_proj": "the image's projection has a bias too: b_proj",
    "no image": "the image must enter: the first state is the projection of the features, not "
    "zeros",
}
_CELL_HINT = {
    "rnn": "this case has cell_type='rnn': Wx is (W, Hd); use rnn_forward/rnn_backward "
    "(rnn_step_forward) when cell_type == 'rnn'",
    "lstm": "this case has cell_type='lstm': Wx is (W, 4*Hd); use lstm_forward/lstm_backward "
    "(lstm_step_forward, with the cell c carried too) when cell_type == 'lstm'",
}
_SAMPLE_HINTS = {
    "general": "start from the image's state (the projection of the features; c0 = 0 for an "
    "LSTM) and the word <START>; at every step embed the word chosen at the step before, run "
    "ONE step of the cell from the state the last step returned, score the vocabulary with "
    "the output layer and take the likeliest word of each image (the argmax over the "
    "vocabulary (axis 1))",
    "shape": "captions has one row per image and max_length columns, one per generated word "
    "(<START> is not part of it)",
    "start written": "the captions hold the words after <START>, not <START> itself: column t "
    "is the word chosen at step t, for t = 0, ..., max_length - 1",
    "end dropped": "<END> is part of the caption: write the word chosen at every step, <END> "
    "included, and <NULL> only after it",
    "one step short": "generate max_length words: the last column is a generated word too",
    "banned": "<NULL> (padding) and <START> are never generated: leave them out of the choice "
    "(set their scores to -inf), so the likeliest OTHER word is chosen",
    "after end": "your captions are right up to <END>, well done; but once a caption has "
    "ended, the rest of its row must be <NULL> (CS231n's sample keeps the words generated "
    "after <END>; here a finished caption stays finished): remember which captions are done",
    "no image": "these are the captions of a model that ignores the image: the first state "
    "is the projection of the features, not zeros",
    "no b_proj": "these are the captions of a projection without its bias: add the bias b_proj",
    "indices": "these are the captions of <NULL>, <START>, <END> = 0, 1, 2: use null_index, "
    "start_index and end_index, the arguments",
}
_BEAM_HINTS = {
    "general": "at every step extend each live beam by every word but <NULL> and <START>, and "
    "keep the k best of ALL these continuations by their SUMMED log-probability; each "
    "survivor continues from its PARENT's state (the state rows follow the survivors); a "
    "survivor whose word is <END> is finished and leaves the beam; the answer is the "
    "finished caption with the highest summed log-probability",
    "shape": "caption has max_length entries, the words after <START> (<END> included), then "
    "<NULL>",
    "logprob": "logprob is the sum of the log-probabilities of the caption's words, <END> "
    "included (the raw sum: not divided by the length, not the last word's alone)",
    "end dropped": "<END> is part of the caption: write the finished beam's words, <END> "
    "included, then <NULL>",
    "after end": "a caption ends at its <END>: the rest of it is <NULL>",
    "banned": "a caption never holds <START>, nor <NULL> before its end: leave those words out "
    "of the continuations, keep the k LARGEST ones, and recover each continuation's parent "
    "beam (its row) and word (its column) from its place in the (M, V) array",
    "outside": "every word is an index into the vocabulary, in [0, V): recover each "
    "continuation's parent beam (its row) and word (its column) from its place in the "
    "(M, V) array",
    "greedy": "these are the greedy captions (beam_width 1) of every image: with beam_width "
    "k > 1 keep the k best continuations at every step, not only the best one",
}

# ---------------------------------------------------------------------------
# Inputs: sizes differ (D != W != Hd != V) so that a transposed weight shows.
# ---------------------------------------------------------------------------

# Decoding problems: (cell_type, (null_index, start_index, end_index), seed).
# The LSTM's special words are not at 0, 1, 2, so hard-coded indices show.
_SAMPLE_CASES = (("rnn", (0, 1, 2), 5), ("lstm", (4, 0, 7), 7))
_SAMPLE_IMAGES, _SAMPLE_LENGTH = 8, 8  # N, L
_BEAM_CASES = (("rnn", (0, 1, 2), 0), ("lstm", (4, 0, 7), 0))
_BEAM_IMAGES, _BEAM_LENGTH = 3, 7  # images per cell, L
_BEAM_WIDTHS = (1, 2, 3, 5)
_VOCABULARY_SIZE = 10  # V of every decoding problem


def _word_to_idx(V: int, null: int, start: int | None = None, end: int | None = None) -> dict:
    """A vocabulary of V words with the special words at the given indices."""
    names = [f"word{i}" for i in range(V)]
    for token, index in (("<NULL>", null), ("<START>", start), ("<END>", end)):
        if index is not None:
            names[index] = token
    return {word: i for i, word in enumerate(names)}


def _reference_model(
    params: dict[str, np.ndarray],
    cell_type: str,
    null: int,
    start: int | None = None,
    end: int | None = None,
) -> CaptioningRNN:
    """The reference CaptioningRNN (float64, image_input 'h0') holding ``params``."""
    V, W = params["W_embed"].shape
    D, Hd = params["W_proj"].shape
    word_to_idx = _word_to_idx(V, null, start, end)
    model = CaptioningRNN(word_to_idx, D, W, Hd, cell_type, np.float64, seed=0)
    model.params = {key: np.array(value, dtype=np.float64) for key, value in params.items()}
    return model


def _random_params(
    cell_type: str, rng: np.random.Generator, D: int, W: int, Hd: int, V: int, scale: float
) -> dict[str, np.ndarray]:
    """Parameters of the sizes given, normal with std ``scale`` (weights by 1/sqrt(fan_in))."""
    G = 4 if cell_type == "lstm" else 1
    return {
        "W_proj": scale * rng.standard_normal((D, Hd)) / np.sqrt(D),
        "b_proj": scale * rng.standard_normal(Hd),
        "W_embed": scale * rng.standard_normal((V, W)),
        "Wx": scale * rng.standard_normal((W, G * Hd)) / np.sqrt(W),
        "Wh": scale * rng.standard_normal((Hd, G * Hd)) / np.sqrt(Hd),
        "b": scale * rng.standard_normal(G * Hd),
        "W_vocab": scale * rng.standard_normal((Hd, V)) / np.sqrt(Hd),
        "b_vocab": scale * rng.standard_normal(V),
    }


def _training_captions(
    rng: np.random.Generator, lengths: list[int], V: int, null: int, start: int, end: int
) -> np.ndarray:
    """Captions (N, T + 1): <START>, lengths[n] random words, <END>, <NULL> padding."""
    T = max(lengths) + 1
    words = [w for w in range(V) if w not in (null, start, end)]
    captions = np.full((len(lengths), T + 1), null, dtype=np.int64)
    captions[:, 0] = start
    for n, length in enumerate(lengths):
        captions[n, 1 : length + 1] = rng.choice(words, size=length)
        captions[n, length + 1] = end
    return captions


def _loss_cases() -> list[tuple[str, str, tuple, type]]:
    """(label, cell_type, inputs, dtype) of every case of the loss check."""
    rng = np.random.default_rng(70)
    lstm_params = _random_params("lstm", rng, D=6, W=4, Hd=5, V=9, scale=1.0)
    lstm_captions = _training_captions(rng, [5, 2, 4, 1, 5], V=9, null=3, start=5, end=8)
    rnn_params = _random_params("rnn", rng, D=5, W=3, Hd=6, V=8, scale=1.0)
    rnn_captions = _training_captions(rng, [3, 1, 4, 2], V=8, null=5, start=2, end=7)
    f32 = {key: value.astype(np.float32) for key, value in rnn_params.items()}
    lstm_features = rng.standard_normal((5, 6))
    rnn_features = rng.standard_normal((4, 5)).astype(np.float32)
    example = (_EXAMPLE_FEATURES, _EXAMPLE_CAPTIONS, _EXAMPLE_PARAMS, "rnn", 0)
    return [
        ("example", "rnn", example, np.float64),
        ("lstm", "lstm", (lstm_features, lstm_captions, lstm_params, "lstm", 3), np.float64),
        ("float32", "rnn", (rnn_features, rnn_captions, f32, "rnn", 5), np.float32),
    ]


def _decoding_problem(
    cell_type: str, seed: int, N: int, specials: tuple[int, int, int]
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Seeded parameters (V = 10, D = 5, W = 4, Hd = 6) and features (N, D) to decode.

    The image's projection and the output weights are large and the biases
    small, so the predictions are peaked and depend on the image and on the
    words so far: captions end at different steps, some not at all. <NULL>
    and <START> get a higher bias, so that, were they not banned, they would
    be chosen now and then.
    """
    null, start, _ = specials
    rng = np.random.default_rng(seed)
    params = _random_params(cell_type, rng, D=5, W=4, Hd=6, V=_VOCABULARY_SIZE, scale=1.0)
    params["W_proj"] *= 2.0  # images that differ
    params["b_proj"] *= 0.3
    params["W_vocab"] *= 3.5  # peaked predictions that follow the state
    params["b"] *= 0.1
    params["b_vocab"] *= 0.1
    params["b_vocab"][[null, start]] += 0.5
    return params, rng.standard_normal((N, 5))


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------


def check_captioning_loss(captioning_loss: Callable) -> None:
    """Check ``captioning_loss(features, captions, params, cell_type, null_index)``.

    It returns ``(loss, grads)``. Cases: the worked example (rnn), an LSTM
    whose <NULL> is not 0, and an RNN in float32 whose gradients must stay
    float32. The loss and every gradient are compared with the reference
    ``CaptioningRNN.loss`` of the same numbers in float64, the gradients in
    the order backprop reaches them; a wrong loss that matches a classic
    mistake gets that mistake's hint.
    """
    name = "captioning_loss"
    errors: dict[str, float] = {}
    for label, cell_type, inputs, dtype in _loss_cases():
        features, captions, params, _, null = inputs
        result = _call_for_cell(name, captioning_loss, inputs, cell_type)
        loss, grads = expect_tuple(name, result, ("loss", "grads"), name)
        model = _reference_model(params, cell_type, null)
        expected_loss, expected_grads = model.loss(features.astype(np.float64), captions)
        if label == "example":
            expected_loss = _EXAMPLE_LOSS
        tol = value_tol(dtype)
        suspects = _loss_suspects(model, features, captions, expected_loss)
        output = f"loss ({label})"
        errors[output] = compare_diagnosed(
            name, output, loss, expected_loss, tol, _LOSS_HINTS["loss"], suspects
        )
        for key, grad in _grads_in_order(name, grads, params, label):
            output = f"grads[{key!r}] ({label})"
            errors[output] = compare(
                name,
                output,
                grad,
                expected_grads[key],
                tol,
                _LOSS_HINTS[key],
                np.dtype(params[key].dtype),
            )
    report(name, *by_output_kind(errors))


def check_sample_captions(sample_captions: Callable) -> None:
    """Check ``sample_captions`` word for word against ``CaptioningRNN.sample`` (greedy).

    ``sample_captions(features, params, cell_type, start_index, end_index,
    null_index, max_length) -> captions``. Two seeded models (rnn, lstm; the
    LSTM's special words are not 0, 1, 2) whose captions end at different
    steps, some not at all, and which would choose <NULL> or <START> were
    they not banned. The message names the
    first word that differs and, where it can tell, the mistake.
    """
    name = "sample_captions"
    errors = {}
    for cell_type, specials, seed in _SAMPLE_CASES:
        null, start, end = specials
        params, features = _decoding_problem(cell_type, seed, _SAMPLE_IMAGES, specials)
        model = _reference_model(params, cell_type, null, start, end)
        expected = model.sample(features, _SAMPLE_LENGTH)
        args = (features, params, cell_type, start, end, null, _SAMPLE_LENGTH)
        captions = _call_for_cell(name, sample_captions, args, cell_type)
        output = f"captions ({cell_type})"
        _require_words(name, output, captions, expected.shape, _SAMPLE_HINTS["shape"])
        if not np.array_equal(captions, expected):
            hint = _SAMPLE_HINTS[_sampling_mistake(captions, expected, model, features)]
            n, t = _first_difference(captions, expected)
            raise CheckFailed(
                f"{name}: {output} differ from the reference's first at image {n}, word {t}: "
                f"got {_word(captions[n, t], specials)}, expected "
                f"{_word(expected[n, t], specials)}. Hint: {hint}"
            )
        errors[output] = 0.0
    report(name, errors, 0.0)


def check_beam_search(beam_search: Callable) -> None:
    """Check ``beam_search`` against ``course.models.captioning.beam_search_one_image``.

    ``beam_search(step, state, beam_width, max_length, start_index, end_index,
    null_index) -> (caption, logprob)``, for one image. Three images of each
    of two seeded models (rnn, lstm), beam widths 1, 2, 3 and 5; beam search
    and greedy decoding find different captions for several of them. The
    caption must be the same, word for word (the message gives both
    log-probabilities, so a student sees whether theirs is worse), and
    logprob agree to VALUE_TOL.
    """
    name = "beam_search"
    errors = {"logprob": 0.0}
    for cell_type, specials, seed in _BEAM_CASES:
        null, start, end = specials
        params, features = _decoding_problem(cell_type, seed, _BEAM_IMAGES, specials)
        model = _reference_model(params, cell_type, null, start, end)
        decoders = [model.decoder(features[n : n + 1]) for n in range(len(features))]
        greedy = [_reference_beam(step, state, 1, specials)[0] for step, state in decoders]
        for k in _BEAM_WIDTHS:
            results = []  # every image's, so that a message can tell greedy decoding
            for step, state in decoders:
                checked = _checked_step(step, _VOCABULARY_SIZE)
                args = (checked, state, k, _BEAM_LENGTH, start, end, null)
                result = call_student(name, beam_search, *args)
                results.append(expect_tuple(name, result, ("caption", "logprob"), name))
            all_greedy = k > 1 and all(
                isinstance(c, np.ndarray) and np.array_equal(c, g)
                for (c, _), g in zip(results, greedy, strict=True)
            )
            for n, ((caption, logprob), decoder) in enumerate(zip(results, decoders, strict=True)):
                label = f"image {n}, {cell_type}, beam_width {k}"
                best = _reference_beam(*decoder, k, specials)
                output = f"caption ({label})"
                _require_words(name, output, caption, best[0].shape, _BEAM_HINTS["shape"])
                if not np.array_equal(caption, best[0]):
                    mistake = "greedy" if all_greedy else _beam_mistake(caption, best, specials)
                    message = _beam_difference(caption, best, decoder, k, specials)
                    raise CheckFailed(f"{name}: {output} {message}. Hint: {_BEAM_HINTS[mistake]}")
                output = f"logprob ({label})"
                error = compare(name, output, logprob, best[1], VALUE_TOL, _BEAM_HINTS["logprob"])
                errors["logprob"] = max(errors["logprob"], error)
        errors[f"captions ({cell_type})"] = 0.0
    report(name, errors, {key: VALUE_TOL if key == "logprob" else 0.0 for key in errors})


# ---------------------------------------------------------------------------
# What the checks share
# ---------------------------------------------------------------------------


def _call_for_cell(name: str, func: Callable, args: tuple, cell_type: str) -> object:
    """:func:`call_student`; a ValueError raised in the student's code gets the cell's hint.

    A ValueError is how numpy and the layers say that shapes do not fit, which
    is what the other cell's weights give (Wx is (W, Hd) for 'rnn', (W, 4*Hd)
    for 'lstm').
    """
    try:
        return call_student(name, func, *args)
    except CheckFailed as failure:
        if not isinstance(failure.__cause__, ValueError):
            raise
        raise CheckFailed(f"{failure}. Hint: {_CELL_HINT[cell_type]}") from failure.__cause__


def _require_words(name: str, output: str, actual: object, shape: tuple, hint: str) -> None:
    """Word indices: a numpy array of ``shape`` (else ``hint``) with an integer dtype."""
    compare(name, output, actual, np.zeros(shape), FORM_ONLY, hint)
    require(
        name,
        np.issubdtype(actual.dtype, np.integer),
        f"{output} has dtype {actual.dtype}; word indices are integers: create the array with "
        "dtype=np.int64 (np.full(shape, null_index, dtype=np.int64))",
    )


def _first_difference(actual: np.ndarray, expected: np.ndarray) -> tuple[int, ...]:
    """The index of the first entry (in reading order) where two arrays differ."""
    return tuple(int(i) for i in np.argwhere(actual != expected)[0])


def _word(index: int, specials: tuple[int, int, int]) -> str:
    """A word index as a message shows it: '7', or '2 (<END>)' for a special word."""
    tokens = dict(zip(specials, ("<NULL>", "<START>", "<END>"), strict=True))
    index = int(index)
    return f"{index} ({tokens[index]})" if index in tokens else str(index)


def _after_end(captions: np.ndarray, end: int) -> np.ndarray:
    """Boolean mask of the positions after the first <END> of each caption (last axis)."""
    is_end = captions == end
    return np.cumsum(is_end, axis=-1) - is_end > 0


# ---------------------------------------------------------------------------
# The loss: the classic mistakes' losses
# ---------------------------------------------------------------------------


def _grads_in_order(
    name: str, grads: object, params: dict[str, np.ndarray], label: str
) -> list[tuple[str, object]]:
    """(key, gradient) of every parameter in backward order; grads must be a dict holding each."""
    require_grads(name, grads, params, label, " (the image's W_proj and b_proj too)")
    return [(key, grads[key]) for key in _BACKWARD_ORDER]


def _loss_suspects(
    model: CaptioningRNN, features: np.ndarray, captions: np.ndarray, expected_loss: float
) -> list[tuple[np.ndarray, str]]:
    """The loss each classic mistake gives on this case, with the hint that names it."""
    features = features.astype(np.float64)
    p, null, T = model.params, model._null, captions.shape[1] - 1
    start = captions[0, 0]  # never a target: a mask of <START> leaves nothing out

    def loss_of(params: dict[str, np.ndarray], masked: int) -> np.ndarray:
        """The loss of a model whose mask leaves out the targets ``masked``."""
        wrong = _reference_model(params, model.cell_type, masked)
        return np.asarray(wrong.loss(features, captions)[0])

    no_b_proj = {**p, "b_proj": np.zeros_like(p["b_proj"])}
    no_image = {**no_b_proj, "W_proj": np.zeros_like(p["W_proj"])}
    wrong_losses = {
        "no mask": loss_of(p, start),
        "per step": np.asarray(expected_loss / T),
        "no b_proj": loss_of(no_b_proj, null),
        "no image": loss_of(no_image, null),
    }
    if null != 0:
        wrong_losses["null 0"] = loss_of(p, 0)
    return [(loss, _LOSS_SUSPECT_HINTS[mistake]) for mistake, loss in wrong_losses.items()]


# ---------------------------------------------------------------------------
# Greedy sampling: which mistake gives these captions
# ---------------------------------------------------------------------------


def _sampling_mistake(
    captions: np.ndarray, expected: np.ndarray, model: CaptioningRNN, features: np.ndarray
) -> str:
    """The key in _SAMPLE_HINTS of the mistake that explains ``captions``; 'general' if none."""
    null, start, end = model._null, model._start, model._end
    n, t = _first_difference(captions, expected)
    got, want = captions[n, t], expected[n, t]
    if (captions[:, 0] == start).all():
        return "start written"
    if want == end and got == null:
        return "end dropped"
    if np.array_equal(captions[:, :-1], expected[:, :-1]) and (captions[:, -1] == null).all():
        return "one step short"
    if got in (null, start):
        return "banned"
    if np.array_equal(np.where(_after_end(expected, end), null, captions), expected):
        return "after end"
    p, L = model.params, expected.shape[1]
    no_b_proj = {**p, "b_proj": np.zeros_like(p["b_proj"])}
    wrong_models = {
        "no image": (no_b_proj | {"W_proj": np.zeros_like(p["W_proj"])}, (null, start, end)),
        "no b_proj": (no_b_proj, (null, start, end)),
        "indices": (p, (0, 1, 2)),
    }
    for mistake, (params, specials) in wrong_models.items():
        if specials == (null, start, end) and mistake == "indices":
            continue  # this case uses CS231n's indices: hard-coding them is no mistake
        wrong = _reference_model(params, model.cell_type, *specials).sample(features, L)
        if np.array_equal(captions, wrong):
            return mistake
    return "general"


# ---------------------------------------------------------------------------
# Beam search: the reference, the step handed to students, what differs and why
# ---------------------------------------------------------------------------


def _reference_beam(
    step: Callable, state: tuple, k: int, specials: tuple[int, int, int]
) -> tuple[np.ndarray, float]:
    """The reference's caption (L,) and logprob of one image (``state`` has one row)."""
    null, start, end = specials
    return beam_search_one_image(step, state, k, _BEAM_LENGTH, start, end, null)


def _checked_step(step: Callable, V: int) -> Callable:
    """``step`` that first says clearly what is wrong with the words or state it is given."""

    def checked(words, state, t):
        words = np.asarray(words)
        if words.ndim != 1 or not np.issubdtype(words.dtype, np.integer):
            raise ValueError(
                f"step: words has shape {words.shape} and dtype {words.dtype}; expected a 1-D "
                "integer array (M,), the last word of each of the M live beams"
            )
        if words.size and not (0 <= words.min() and words.max() < V):
            raise ValueError(f"step: words holds indices outside the vocabulary [0, {V})")
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise ValueError(
                "step: state must be the tuple (h, c) that step returned, its rows taken "
                f"from the beams' parents; got {type(state).__name__}"
            )
        rows = [np.shape(s)[0] if np.ndim(s) == 2 else None for s in state]
        if rows != [len(words)] * 2:
            raise ValueError(
                f"step: words has {len(words)} rows but the state arrays have {rows}; the state "
                "needs one row per live beam, the row of its parent: "
                "state = tuple(s[parents] for s in state)"
            )
        return step(words, state, t)

    return checked


def _malformed(caption: np.ndarray, specials: tuple[int, int, int], V: int) -> str | None:
    """Why ``caption`` is not words, then <END> (or L words), then <NULL>; None if it is."""
    null, start, end = specials
    if caption.min() < 0 or caption.max() >= V:
        return "outside"
    after = _after_end(caption, end)
    words = caption[~after]
    if (words == start).any() or (words[:-1] == null).any():
        return "banned"
    if words[-1] == null:
        return "end dropped" if len(words) > 1 else "banned"
    if (caption[after] != null).any():
        return "after end"
    return None


def _beam_mistake(
    caption: np.ndarray, best: tuple[np.ndarray, float], specials: tuple[int, int, int]
) -> str:
    """The key in _BEAM_HINTS of the mistake that explains ``caption``; 'general' if none."""
    null, _, end = specials
    t = _first_difference(caption, best[0])[0]
    if best[0][t] == end and caption[t] == null:
        return "end dropped"
    return _malformed(caption, specials, _VOCABULARY_SIZE) or "general"


def _beam_difference(
    caption: np.ndarray,
    best: tuple[np.ndarray, float],
    decoder: tuple[Callable, tuple],
    k: int,
    specials: tuple[int, int, int],
) -> str:
    """How ``caption`` differs from the best: the first wrong word and both log-probabilities."""
    best_caption, best_logprob = best
    t = _first_difference(caption, best_caption)[0]
    start = ", ".join(_word(w, specials) for w in caption[: t + 1])
    where = (
        f"is not the caption beam search finds: yours starts {start} where word {t} should be "
        f"{_word(best_caption[t], specials)}"
    )
    if _malformed(caption, specials, _VOCABULARY_SIZE):
        return f"{where}; yours is not a caption (words, then <END>, then <NULL>)"
    logprob = _caption_logprob(*decoder, caption, specials)
    if logprob < best_logprob:
        verdict = "yours is worse"
    else:
        plural = "s" if k > 1 else ""
        verdict = (
            f"yours is likelier, but a search that keeps the {k} best continuation{plural} at "
            "every step does not reach it"
        )
    return (
        f"{where}; yours has log-probability {logprob:.4f}, the best has {best_logprob:.4f} "
        f"({verdict})"
    )


def _caption_logprob(step: Callable, state: tuple, caption: np.ndarray, specials: tuple) -> float:
    """The summed log-probability of a well-formed ``caption`` under the decoder."""
    null, start, _ = specials
    word, total = start, 0.0
    for t, next_word in enumerate(caption.tolist()):
        if next_word == null:
            break
        log_probs, state = step(np.array([word]), state, t)
        total += float(log_probs[0, next_word])
        word = next_word
    return total
