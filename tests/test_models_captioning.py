"""Tests of course/models/captioning.py (and _beam_search.py): CS231n parity, gradients,
training with the Solver, greedy and temperature decoding, and beam search against brute force.
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from course import layers
from course.data import Vocabulary
from course.gradcheck import param_gradient_errors
from course.models._beam_search import length_penalty, top_k_candidates
from course.models.captioning import CaptioningRNN, beam_search_one_image, log_softmax
from course.solver import Solver

CELLS = ["rnn", "lstm"]
IMAGE_INPUTS = ["h0", "bias"]
WORD_TO_IDX = {"<NULL>": 0, "<START>": 1, "<END>": 2, "a": 3, "b": 4, "c": 5}
NULL, START, END = 0, 1, 2


def _model(cell="rnn", image_input="h0", dtype=np.float64, scale=0.5, seed=0, dims=(4, 5, 6)):
    """A small model with weights of std ``scale`` (larger than the init: peaked softmaxes)."""
    model = CaptioningRNN(WORD_TO_IDX, *dims, cell, dtype, seed=seed, image_input=image_input)
    rng = np.random.default_rng(seed + 100)
    for name, value in model.params.items():
        model.params[name] = (scale * rng.standard_normal(value.shape)).astype(dtype)
    return model


def _features(N, D=4, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal((N, D)).astype(dtype)


def _training_captions(N, T, seed=0, V=6):
    """(N, T + 1): <START>, 1..T random words, <END>, <NULL> padding."""
    rng = np.random.default_rng(seed)
    captions = np.full((N, T + 1), NULL, dtype=np.int64)
    captions[:, 0] = START
    for n in range(N):
        length = int(rng.integers(1, T))
        captions[n, 1 : length + 1] = rng.integers(3, V, length)
        captions[n, length + 1] = END
    return captions


# ---------------------------------------------------------------------------
# CS231n parity
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "low", "high", "expected"),
    [("rnn", -1.5, 0.3, 9.83235591003), ("lstm", -0.5, 1.7, 9.82445935443)],
)
def test_the_cs231n_notebook_loss_checks_pass_unchanged(cell, low, high, expected):
    N, D, W, H = 10, 20, 30, 40
    word_to_idx = {"<NULL>": 0, "cat": 2, "dog": 3}
    V, T = len(word_to_idx), 13
    model = CaptioningRNN(
        word_to_idx, input_dim=D, wordvec_dim=W, hidden_dim=H, cell_type=cell, dtype=np.float64
    )
    for k, v in model.params.items():
        model.params[k] = np.linspace(-1.4, 1.3, num=v.size).reshape(*v.shape)
    features = np.linspace(low, high, num=N * D).reshape(N, D)
    captions = (np.arange(N * T) % V).reshape(N, T)
    loss, grads = model.loss(features, captions)
    assert abs(loss - expected) < 1e-9
    assert set(grads) == set(model.params)


@pytest.mark.parametrize("cell", CELLS)
def test_constructor_signature_attributes_and_initialisation_are_cs231n(cell):
    D, W, Hd, V = 7, 5, 6, len(WORD_TO_IDX)
    G = 4 if cell == "lstm" else 1
    model = CaptioningRNN(WORD_TO_IDX, D, W, Hd, cell)  # CS231n's positional order
    assert (model.cell_type, model.dtype) == (cell, np.float32)
    assert model.word_to_idx == WORD_TO_IDX
    assert model.idx_to_word == {i: w for w, i in WORD_TO_IDX.items()}
    assert (model._null, model._start, model._end) == (NULL, START, END)
    shapes = {
        "W_proj": (D, Hd),
        "b_proj": (Hd,),
        "W_embed": (V, W),
        "Wx": (W, G * Hd),
        "Wh": (Hd, G * Hd),
        "b": (G * Hd,),
        "W_vocab": (Hd, V),
        "b_vocab": (V,),
    }
    assert {k: v.shape for k, v in model.params.items()} == shapes
    assert all(v.dtype == np.float32 for v in model.params.values())
    # CS231n draws from numpy's global state, in this order and with these scales.
    np.random.seed(231)  # noqa: NPY002 (what CS231n notebooks do)
    ours = CaptioningRNN(WORD_TO_IDX, D, W, Hd, cell, np.float64)
    cs231n = np.random.RandomState(231)  # the same stream as np.random.seed(231)
    expected = {
        "W_embed": cs231n.randn(V, W) / 100,
        "W_proj": cs231n.randn(D, Hd) / np.sqrt(D),
        "Wx": cs231n.randn(W, G * Hd) / np.sqrt(W),
        "Wh": cs231n.randn(Hd, G * Hd) / np.sqrt(Hd),
        "W_vocab": cs231n.randn(Hd, V) / np.sqrt(Hd),
    }
    for name, value in expected.items():
        np.testing.assert_array_equal(ours.params[name], value)
    for name in ("b_proj", "b", "b_vocab"):
        assert not ours.params[name].any()
    # A seed gives the same numbers without touching the global state.
    state = np.random.get_state()[1].copy()  # noqa: NPY002
    seeded = CaptioningRNN(WORD_TO_IDX, D, W, Hd, cell, np.float64, seed=231)
    np.testing.assert_array_equal(np.random.get_state()[1], state)  # noqa: NPY002
    for name in model.params:
        np.testing.assert_array_equal(seeded.params[name], ours.params[name])


def test_a_vocabulary_can_stand_for_word_to_idx():
    vocab = Vocabulary.from_sequences([["a", "cat"], ["a", "dog"]])
    model = CaptioningRNN(vocab, 4, 5, 6)
    assert model.word_to_idx == {t: i for i, t in enumerate(vocab.tokens)}
    assert (model._null, model._start, model._end) == (
        vocab.null_index,
        vocab.start_index,
        vocab.end_index,
    )


def _reference_loss(model, features, captions):
    """CS231n's loss from the graded loop layers (rnn_forward / lstm_forward), with grads."""
    p = model.params
    captions_in, captions_out = captions[:, :-1], captions[:, 1:]
    h0, proj_cache = layers.affine_forward(features, p["W_proj"], p["b_proj"])
    x, embed_cache = layers.word_embedding_forward(captions_in, p["W_embed"])
    forward = layers.lstm_forward if model.cell_type == "lstm" else layers.rnn_forward
    backward = layers.lstm_backward if model.cell_type == "lstm" else layers.rnn_backward
    h, rnn_cache = forward(x, h0, p["Wx"], p["Wh"], p["b"])
    scores, affine_cache = layers.temporal_affine_forward(h, p["W_vocab"], p["b_vocab"])
    loss, dscores = layers.temporal_softmax_loss(scores, captions_out, captions_out != NULL)
    grads = {}
    dh, grads["W_vocab"], grads["b_vocab"] = layers.temporal_affine_backward(dscores, affine_cache)
    dx, dh0, grads["Wx"], grads["Wh"], grads["b"] = backward(dh, rnn_cache)
    grads["W_embed"] = layers.word_embedding_backward(dx, embed_cache)
    _, grads["W_proj"], grads["b_proj"] = layers.affine_backward(dh0, proj_cache)
    return loss, grads


@pytest.mark.parametrize("cell", CELLS)
def test_the_fused_layers_give_the_loss_and_gradients_of_the_loop_layers(cell):
    model = _model(cell, dims=(4, 5, 6))
    features, captions = _features(5), _training_captions(5, 7)
    loss, grads = model.loss(features, captions)
    expected_loss, expected_grads = _reference_loss(model, features, captions)
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    for name, grad in expected_grads.items():
        np.testing.assert_allclose(grads[name], grad, rtol=1e-9, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("cell", CELLS)
def test_image_input_bias_adds_the_image_to_the_first_step_only(cell):
    model = _model(cell, "bias")
    features, captions = _features(3), _training_captions(3, 5)
    p = model.params
    # The talk's form, step by step: h_1 from zeros with the image's bias, then a plain RNN.
    bias = features @ p["W_proj"] + p["b_proj"]  # (N, G*Hd)
    Hd = model.hidden_dim
    h = c = np.zeros((3, Hd))
    hs = []
    for t in range(captions.shape[1] - 1):
        x = p["W_embed"][captions[:, t]]
        b = p["b"] + bias if t == 0 else p["b"]
        a = x @ p["Wx"] + h @ p["Wh"] + b
        if cell == "rnn":
            h = np.tanh(a)
        else:
            i, f, o = (layers.sigmoid(a[:, g * Hd : (g + 1) * Hd]) for g in range(3))
            c = f * c + i * np.tanh(a[:, 3 * Hd :])
            h = o * np.tanh(c)
        hs.append(h)
    scores = np.stack(hs, axis=1) @ p["W_vocab"] + p["b_vocab"]
    out = captions[:, 1:]
    expected, _ = layers.temporal_softmax_loss(scores, out, out != NULL)
    assert model.loss(features, captions)[0] == pytest.approx(expected, rel=1e-12)
    G = 4 if cell == "lstm" else 1
    assert p["W_proj"].shape == (4, G * Hd) and p["b_proj"].shape == (G * Hd,)


# ---------------------------------------------------------------------------
# Gradients, masking, dtypes, validation
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("image_input", IMAGE_INPUTS)
@pytest.mark.parametrize("T", [1, 4])
def test_every_gradient_passes_a_float64_check(cell, image_input, T):
    model = _model(cell, image_input, seed=3)
    features = _features(3, seed=1)
    captions = np.random.default_rng(2).integers(0, len(WORD_TO_IDX), (3, T + 1))
    captions[0, -1] = NULL  # a masked target
    _, grads = model.loss(features, captions)
    assert set(grads) == set(model.params)
    errors = param_gradient_errors(lambda: model.loss(features, captions)[0], model.params, grads)
    assert max(errors.values()) < 1e-7, errors


def test_null_targets_add_nothing_and_the_loss_is_summed_over_time_averaged_over_images():
    model = _model("lstm")
    features, captions = _features(4), _training_captions(4, 6)
    captions_in, captions_out = captions[:, :-1], captions[:, 1:]
    scores, _ = model._scores(features, captions_in)
    picked = np.take_along_axis(log_softmax(scores), captions_out[..., None], axis=2)[..., 0]
    expected = -picked[captions_out != NULL].sum() / 4
    assert model.loss(features, captions)[0] == pytest.approx(expected, rel=1e-12)
    # The word fed after a masked target changes nothing either (nothing after it counts).
    padded = np.concatenate([captions, np.full((4, 2), NULL)], axis=1)
    assert model.loss(features, padded)[0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("image_input", IMAGE_INPUTS)
def test_outputs_keep_the_dtype_and_inputs_are_not_modified(dtype, image_input):
    model = _model("lstm", image_input, dtype=dtype)
    features = _features(3, dtype=np.float64)  # cast to the model's dtype
    captions = _training_captions(3, 5)
    before = (features.copy(), captions.copy(), {k: v.copy() for k, v in model.params.items()})
    loss, grads = model.loss(features, captions)
    assert isinstance(loss, float) and np.isfinite(loss)
    assert all(grads[k].dtype == dtype for k in model.params)
    caps, word_lp = model.sample(features, 6, return_logprobs=True)
    beams, logp, beam_lp = model.beam_search(features, 3, 6, return_logprobs=True)
    assert caps.dtype == beams.dtype == np.int64
    assert word_lp.dtype == logp.dtype == beam_lp.dtype == np.float64  # the softmax's precision
    np.testing.assert_array_equal(features, before[0])
    np.testing.assert_array_equal(captions, before[1])
    for name, value in before[2].items():
        np.testing.assert_array_equal(model.params[name], value)
        assert model.params[name].dtype == dtype


def test_float32_and_float64_models_agree():
    m64 = _model("lstm", dtype=np.float64)
    m32 = _model("lstm", dtype=np.float32)
    features, captions = _features(4), _training_captions(4, 6)
    loss64, grads64 = m64.loss(features, captions)
    loss32, grads32 = m32.loss(features, captions)
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    for name in grads64:
        np.testing.assert_allclose(grads32[name], grads64[name], rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"word_to_idx": {"a": 0}}, ValueError, "no '<NULL>'"),
        ({"word_to_idx": ["<NULL>"]}, TypeError, "dict word -> index"),
        ({"word_to_idx": {"<NULL>": 0, "a": 0}}, ValueError, "same index"),
        ({"word_to_idx": {"<NULL>": 0, "a": -1}}, ValueError, "non-negative"),
        ({"cell_type": "gru"}, ValueError, "'rnn' or 'lstm'"),
        ({"image_input": "concat"}, ValueError, "'h0'"),
        ({"dtype": np.int32}, ValueError, "float32 or float64"),
        ({"hidden_dim": 0}, ValueError, "hidden_dim"),
        ({"seed": -1}, ValueError, "seed"),
        ({"init_bias_from": np.zeros(3)}, ValueError, r"\(V,\) = \(6,\)"),
    ],
)
def test_bad_constructor_arguments_are_refused_clearly(kwargs, error, match):
    arguments = {"word_to_idx": WORD_TO_IDX, "input_dim": 4, **kwargs}
    with pytest.raises(error, match=match):
        CaptioningRNN(**arguments)


@pytest.mark.parametrize(
    ("features", "captions", "error", "match"),
    [
        (np.zeros((2, 5)), np.ones((2, 3), dtype=int), ValueError, r"D = input_dim = 4"),
        (np.zeros(4), np.ones((2, 3), dtype=int), ValueError, r"\(N, D\)"),
        (np.zeros((2, 4), dtype=int), np.ones((2, 3), dtype=int), TypeError, "floating"),
        (np.full((2, 4), np.nan), np.ones((2, 3), dtype=int), ValueError, "NaN"),
        (np.zeros((2, 4)), np.ones((3, 3), dtype=int), ValueError, "one caption per image"),
        (np.zeros((2, 4)), np.ones((2, 1), dtype=int), ValueError, "at least 2"),
        (np.zeros((2, 4)), np.ones((2, 3)), TypeError, "integer"),
        (np.zeros((2, 4)), np.full((2, 3), 6), ValueError, r"\[0, 6\)"),
        (np.zeros((2, 4)), None, TypeError, "metric='loss'"),
    ],
)
def test_bad_loss_inputs_are_refused_clearly(features, captions, error, match):
    with pytest.raises(error, match=match):
        _model().loss(features, captions)


def test_bad_decoding_arguments_are_refused_clearly():
    model, features = _model(), _features(2)
    with pytest.raises(ValueError, match="temperature"):
        model.sample(features, temperature=0)
    with pytest.raises(ValueError, match="max_length"):
        model.sample(features, max_length=0)
    with pytest.raises(ValueError, match="beam_width"):
        model.beam_search(features, beam_width=0)
    with pytest.raises(ValueError, match="length_normalization"):
        model.beam_search(features, length_normalization=-1)
    with pytest.raises(ValueError, match="start with <START>"):
        model.score_captions(features, np.array([[START, 3], [3, 4]]))
    no_start = CaptioningRNN({"<NULL>": 0, "cat": 1}, 4, 5, 6)
    with pytest.raises(ValueError, match="'<START>'"):
        no_start.sample(features)


def test_init_bias_from_gives_the_untrained_model_the_unigram_distribution():
    counts = np.array([1, 1, 10, 40, 20, 5], dtype=np.float64)
    log_freq = np.log(counts / counts.sum())
    model = CaptioningRNN(WORD_TO_IDX, 4, 5, 6, dtype=np.float64, init_bias_from=log_freq)
    np.testing.assert_array_equal(model.params["b_vocab"], log_freq)
    model.params["W_vocab"] = np.zeros_like(model.params["W_vocab"])
    captions = np.array([[3, 4, END]])
    np.testing.assert_allclose(model.score_captions(_features(1), captions), [log_freq[[3, 4, 2]]])


# ---------------------------------------------------------------------------
# Training with the Solver
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "update_rule"), [("rnn", "adam"), ("lstm", "adam"), ("lstm", "rmsprop")]
)
def test_a_tiny_model_overfits_ten_images_with_the_solver(cell, update_rule):
    words = list("abcdefgh")
    word_to_idx = {"<NULL>": 0, "<START>": 1, "<END>": 2, "<UNK>": 3}
    word_to_idx.update({w: i + 4 for i, w in enumerate(words)})
    features = _features(10, D=16, seed=4, dtype=np.float32)
    captions = _training_captions(10, 8, seed=5, V=len(word_to_idx))
    model = CaptioningRNN(word_to_idx, 16, 16, 32, cell, seed=0)
    data = {"X_train": features, "y_train": captions, "X_val": features, "y_val": captions}
    solver = Solver(
        model,
        data,
        update_rule=update_rule,
        optim_config={"learning_rate": 1e-2},
        grad_clip=5.0,
        batch_size=10,
        num_epochs=150,
        metric="loss",
        verbose=False,
    )
    start = time.perf_counter()
    solver.train()
    assert time.perf_counter() - start < 10
    assert solver.best_val_metric < 0.1
    # The greedy captions now read back the training captions.
    assert model.captions_to_text(model.sample(features, 10)) == model.captions_to_text(
        captions[:, 1:]
    )


def test_the_solver_is_told_to_measure_the_loss():
    model, features = _model(), _features(4)
    captions = _training_captions(4, 3)
    data = {"X_train": features, "y_train": captions, "X_val": features, "y_val": captions}
    solver = Solver(model, data, num_epochs=1, verbose=False)  # metric='accuracy'
    with pytest.raises(TypeError, match="metric='loss'"):
        solver.train()


# ---------------------------------------------------------------------------
# Greedy and temperature decoding
# ---------------------------------------------------------------------------


def _greedy_reference(model, features, max_length):
    """CS231n's sample loop over the graded step functions, <NULL>/<START> never chosen."""
    p = model.params
    N, Hd = len(features), model.hidden_dim
    h, c = np.zeros((N, Hd)), np.zeros((N, Hd))
    if model.image_input == "h0":
        h = features @ p["W_proj"] + p["b_proj"]
    word = np.full(N, START)
    out = np.full((N, max_length), NULL)
    done = np.zeros(N, dtype=bool)
    for t in range(max_length):
        x, Wx, b = p["W_embed"][word], p["Wx"], p["b"]
        if t == 0 and model.image_input == "bias":
            x = np.concatenate([x, features], axis=1)
            Wx, b = np.concatenate([Wx, p["W_proj"]]), b + p["b_proj"]
        if model.cell_type == "lstm":
            h, c, _ = layers.lstm_step_forward(x, h, c, Wx, p["Wh"], b)
        else:
            h, _ = layers.rnn_step_forward(x, h, Wx, p["Wh"], b)
        scores = h @ p["W_vocab"] + p["b_vocab"]
        scores[:, [NULL, START]] = -np.inf
        word = np.argmax(scores, axis=1)
        out[:, t] = np.where(done, NULL, word)
        done |= word == END
    return out


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("image_input", IMAGE_INPUTS)
def test_greedy_sampling_is_cs231ns_loop_padded_with_null_after_end(cell, image_input):
    model = _model(cell, image_input, scale=1.0)
    features = _features(12, seed=7)
    captions, word_lp = model.sample(features, 8, return_logprobs=True)
    np.testing.assert_array_equal(captions, _greedy_reference(model, features, 8))
    assert captions.shape == (12, 8)
    ended = (captions == END).any(axis=1)
    for row in captions[ended]:
        end = list(row).index(END)
        assert (row[end + 1 :] == NULL).all() and (row[:end] > END).all()
    np.testing.assert_allclose(word_lp, model.score_captions(features, captions), atol=1e-10)
    assert (word_lp[captions == NULL] == 0).all() and (word_lp[captions != NULL] < 0).all()


def test_temperature_sampling_is_seeded_and_draws_from_the_softmax():
    model = _model("lstm", scale=1.0)
    features = np.repeat(_features(1, seed=3), 20000, axis=0)  # one image, many draws
    first = model.sample(features, 1, temperature=1.5, seed=0)[:, 0]
    again = model.sample(features, 1, temperature=1.5, seed=0)[:, 0]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, model.sample(features, 1, temperature=1.5, seed=1)[:, 0])
    words = np.arange(END, len(WORD_TO_IDX))  # every word that may be generated
    log_probs = model.score_captions(features[: len(words)], words[:, None])[:, 0]
    z = np.exp(log_probs / 1.5)
    expected = np.zeros(len(WORD_TO_IDX))
    expected[words] = z / z.sum()  # softmax(scores / T) over the allowed words
    observed = np.bincount(first, minlength=len(WORD_TO_IDX)) / len(first)
    np.testing.assert_allclose(observed, expected, atol=0.015)
    # A tiny temperature is greedy.
    np.testing.assert_array_equal(
        model.sample(features[:50], 6, temperature=1e-6, seed=5), model.sample(features[:50], 6)
    )


def test_without_an_end_word_captions_run_to_max_length():
    word_to_idx = {"<NULL>": 0, "<START>": 1, "x": 2, "y": 3}
    model = CaptioningRNN(word_to_idx, 4, 5, 6, seed=0)
    captions = model.sample(_features(3, dtype=np.float32), 7)
    assert captions.shape == (3, 7) and (captions >= 2).all()
    beams, _ = model.beam_search(_features(3, dtype=np.float32), 2, 7)
    assert (beams >= 2).all()


def test_captions_to_text_stops_at_end():
    model = _model()
    assert model.captions_to_text(np.array([[3, 4, END, 5], [START, 5, NULL, NULL]])) == [
        "a b",
        "c",
    ]


# ---------------------------------------------------------------------------
# Beam search
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("image_input", IMAGE_INPUTS)
@pytest.mark.parametrize("alpha", [0.0, 0.7])
def test_beam_width_one_is_greedy_decoding(cell, image_input, alpha):
    model = _model(cell, image_input, scale=1.0, seed=2)
    features = _features(15, seed=8)
    greedy, greedy_lp = model.sample(features, 9, return_logprobs=True)
    beams, logp, beam_lp = model.beam_search(
        features, 1, 9, length_normalization=alpha, return_logprobs=True
    )
    # ... except that beam search never gives an empty caption (<END> first).
    said = greedy[:, 0] != END
    assert (beams[:, 0] != END).all()
    if (cell, image_input) == ("rnn", "h0"):
        assert not said.all()  # this model's greedy decoding does end at once
    np.testing.assert_array_equal(beams[said], greedy[said])
    np.testing.assert_array_equal(beam_lp[said], greedy_lp[said])
    np.testing.assert_array_equal(logp[said], greedy_lp[said].sum(axis=1))


def _scores(captions, logp, alpha):
    return logp / length_penalty((captions != NULL).sum(axis=1), alpha)


def _brute_force_best(model, features, max_length, alpha):
    """The best normalised score over every caption beam search can return (tiny V, L)."""
    allowed = [w for w in range(len(WORD_TO_IDX)) if w not in (NULL, START)]
    candidates = set()
    for words in itertools.product(allowed, repeat=max_length):
        if words[0] == END:
            continue  # no empty caption
        end = words.index(END) + 1 if END in words else max_length
        candidates.add(words[:end] + (NULL,) * (max_length - end))
    captions = np.array(sorted(candidates))  # (C, L)
    best = np.empty(len(features))
    for n, feature in enumerate(features):
        word_lp = model.score_captions(np.repeat(feature[None], len(captions), 0), captions)
        lengths = (captions != NULL).sum(axis=1)
        best[n] = (word_lp.sum(axis=1) / length_penalty(lengths, alpha)).max()
    return best


@pytest.mark.parametrize(
    ("cell", "image_input", "alpha", "scale", "seed"),
    [
        ("rnn", "h0", 0.0, 1.0, 5),
        ("rnn", "h0", 1.0, 1.5, 5),
        ("rnn", "bias", 2.0, 1.5, 4),
        ("lstm", "h0", 0.0, 0.7, 5),
        ("lstm", "h0", 1.0, 1.0, 5),
        ("lstm", "bias", 2.0, 1.5, 4),
    ],
)
def test_a_wide_beam_finds_the_best_caption_of_exhaustive_search(
    cell, image_input, alpha, scale, seed
):
    model = _model(cell, image_input, scale=scale, seed=seed)
    features, L = _features(6, seed=9), 4
    best = _brute_force_best(model, features, L, alpha)
    greedy, greedy_lp = model.sample(features, L, return_logprobs=True)
    assert (_scores(greedy, greedy_lp.sum(axis=1), alpha) < best - 1e-9).any()  # not trivial
    width = 3 ** (L - 1) * 4  # every live prefix survives: no pruning
    captions, logp = model.beam_search(
        features, width, L, length_normalization=alpha, include_greedy=False
    )
    np.testing.assert_allclose(_scores(captions, logp, alpha), best, atol=1e-9)
    np.testing.assert_allclose(
        logp, model.score_captions(features, captions).sum(axis=1), atol=1e-10
    )


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("alpha", [0.0, 0.8])
def test_beam_search_never_scores_below_greedy(cell, alpha):
    model = _model(cell, scale=1.5, seed=6, dims=(4, 5, 8))
    features = _features(40, seed=10)
    greedy, greedy_lp = model.sample(features, 10, return_logprobs=True)
    greedy_score = _scores(greedy, greedy_lp.sum(axis=1), alpha)
    said = greedy[:, 0] != END  # an empty greedy caption does not compete
    for width in (2, 3, 5):
        captions, logp = model.beam_search(features, width, 10, length_normalization=alpha)
        plain = model.beam_search(
            features, width, 10, length_normalization=alpha, include_greedy=False
        )
        score = _scores(captions, logp, alpha)
        assert (score[said] >= greedy_score[said] - 1e-12).all(), width
        expected = np.where(said, np.maximum(_scores(*plain, alpha), greedy_score), score)
        np.testing.assert_allclose(score, expected)
        np.testing.assert_array_equal(captions[~said], plain[0][~said])


def test_plain_beam_search_can_prune_the_greedy_caption():
    # Why include_greedy exists: beam search is not monotone in its width.
    model = _model("lstm", scale=1.5, seed=6, dims=(4, 5, 8))
    features = _features(40, seed=10)
    greedy, greedy_lp = model.sample(features, 10, return_logprobs=True)
    captions, logp = model.beam_search(features, 2, 10, include_greedy=False)
    assert (logp < greedy_lp.sum(axis=1) - 1e-9).any()
    assert (logp > greedy_lp.sum(axis=1) + 1e-9).any()


@pytest.mark.parametrize("image_input", IMAGE_INPUTS)
def test_beam_search_is_vectorised_over_images_with_the_same_answers(image_input):
    model = _model("lstm", image_input, scale=1.0, seed=1)
    features = _features(6, seed=11)
    captions, logp, word_lp = model.beam_search(
        features, 4, 8, length_normalization=0.6, return_logprobs=True
    )
    for n in range(len(features)):
        one, one_logp, one_lp = model.beam_search(
            features[n : n + 1], 4, 8, length_normalization=0.6, return_logprobs=True
        )
        np.testing.assert_array_equal(one[0], captions[n])
        np.testing.assert_allclose(one_logp[0], logp[n], rtol=1e-12)
        np.testing.assert_allclose(one_lp[0], word_lp[n], rtol=1e-12)
    # Every caption ends at <END> (then <NULL>) or fills max_length; its scores add up.
    for row in captions:
        if END in row:
            assert (row[list(row).index(END) + 1 :] == NULL).all()
        else:
            assert (row != NULL).all()
    np.testing.assert_allclose(word_lp, model.score_captions(features, captions), atol=1e-10)
    np.testing.assert_allclose(logp, word_lp.sum(axis=1), rtol=1e-12)


@pytest.mark.parametrize("cell", CELLS)
def test_beam_search_of_one_image_is_the_models_plain_search(cell):
    model = _model(cell, scale=1.0, seed=3)
    features = _features(5, seed=13)
    captions, logp = model.beam_search(features, 3, 8, include_greedy=False)
    for n in range(len(features)):
        step, state = model.decoder(features[n : n + 1])
        one, one_logp = beam_search_one_image(step, state, 3, 8, START, END, NULL)
        if one[0] == END:  # the empty caption, which the model's search never gives
            assert (one[1:] == NULL).all() and one_logp > logp[n]
            continue
        np.testing.assert_array_equal(one, captions[n])
        assert one_logp == pytest.approx(logp[n], rel=1e-12)


def test_the_decoder_names_bad_features():
    with pytest.raises(ValueError, match="CaptioningRNN.decoder: features"):
        _model().decoder(np.zeros((2, 3)))


def test_length_normalization_favours_longer_captions():
    model = _model("lstm", scale=1.0, seed=5)
    features = _features(30, seed=12)
    short, _ = model.beam_search(features, 5, 12, length_normalization=0.0)
    long, _ = model.beam_search(features, 5, 12, length_normalization=2.0)
    assert (long != NULL).sum() > (short != NULL).sum()


def test_top_k_candidates_ranks_by_value_then_index():
    flat = np.array([[0.5, 2.0, -np.inf, 2.0, 1.0], [-np.inf, 0.0, 3.0, -1.0, 0.0]])
    np.testing.assert_array_equal(top_k_candidates(flat, 3), [[1, 3, 4], [2, 1, 4]])
    np.testing.assert_array_equal(top_k_candidates(flat, 1), np.argmax(flat, axis=1)[:, None])
    assert length_penalty(1, 0.7) == 1.0 and length_penalty(7, 0.0) == 1.0
