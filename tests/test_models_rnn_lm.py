"""Tests of course/models/rnn_lm.py: gradients, hidden-state carry, sampling."""

from __future__ import annotations

import numpy as np
import pytest

from course.data.text import TOY_SENTENCES, Vocabulary, make_lm_batch, tokenize_words
from course.gradcheck import numerical_gradient, rel_error
from course.models.rnn_lm import CharRNN, WordRNNLanguageModel
from course.optim import adam


def _toy_batch():
    sentences = [tokenize_words(s) for s in TOY_SENTENCES]
    vocab = Vocabulary.from_sequences(sentences)
    inputs, targets, mask = make_lm_batch(
        [vocab.encode(s, add_start=True, add_end=True) for s in sentences]
    )
    return vocab, inputs, targets, mask


def _check_grads(loss_of_params, params, grads, threshold=1e-7):
    for name, value in params.items():

        def f(w, name=name):
            old = params[name]
            params[name] = w
            try:
                return loss_of_params()
            finally:
                params[name] = old

        num = numerical_gradient(f, value)
        assert rel_error(num, grads[name]) < threshold, name


# ---------------------------------------------------------------------------
# WordRNNLanguageModel
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_word_model_gradients(cell):
    vocab, inputs, targets, mask = _toy_batch()
    model = WordRNNLanguageModel(len(vocab), wordvec_dim=4, hidden_dim=5, cell=cell, seed=1)
    x, y, m = inputs[:3, :5], targets[:3, :5], mask[:3, :5].copy()
    m[0, -1] = False  # a masked step must add nothing
    _, grads = model.loss(x, y, m)
    assert set(grads) == set(model.params)
    _check_grads(lambda: model.loss(x, y, m)[0], model.params, grads)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_word_model_learns_toy_sentences(cell):
    vocab, inputs, targets, mask = _toy_batch()
    model = WordRNNLanguageModel(len(vocab), cell=cell, seed=0)
    configs = {k: {"learning_rate": 2e-2} for k in model.params}
    first, _ = model.loss(inputs, targets, mask)
    for _ in range(60):
        loss, grads = model.loss(inputs, targets, mask)
        for k in model.params:
            model.params[k], configs[k] = adam(model.params[k], grads[k], configs[k])
    assert loss < 0.5 * first
    probs = model.next_word_probabilities(vocab.encode(["the"], add_start=True))
    assert probs.shape == (len(vocab),)
    assert np.isclose(probs.sum(), 1.0)
    top = vocab.token(int(np.argmax(probs)))
    assert top in {"cat", "dog", "bird"}  # what follows "the" in TOY_SENTENCES
    table = model.next_word_table(vocab, "the cat", k=3)
    assert len(table) == 3 and table[0][1] >= table[1][1] >= table[2][1]
    assert table[0][0] in {"sat", "ate", "chased", "slept"}
    words = model.sample(vocab, max_length=10, seed=3, temperature=0.5, prime="the cat")
    assert words[:2] == ["the", "cat"]
    assert "<END>" not in words and len(words) <= 12
    assert words == model.sample(vocab, max_length=10, seed=3, temperature=0.5, prime="the cat")


def test_word_model_rejects_bad_temperature():
    vocab, *_ = _toy_batch()
    model = WordRNNLanguageModel(len(vocab))
    with pytest.raises(ValueError, match="temperature"):
        model.sample(vocab, temperature=0)


def test_word_model_rejects_unknown_cell():
    with pytest.raises(ValueError, match="'rnn' or 'lstm'"):
        WordRNNLanguageModel(10, cell="gru")


# ---------------------------------------------------------------------------
# CharRNN
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_charrnn_gradients_with_carried_state(cell):
    rng = np.random.default_rng(0)
    V, N, T = 6, 2, 4
    model = CharRNN(V, hidden_dim=4, num_layers=2, cell=cell, dtype=np.float64, seed=2)
    model.init_bias_from(np.log(np.full(V, 1 / V)) + rng.standard_normal(V) * 0.1)
    x, y = rng.integers(0, V, (N, T)), rng.integers(0, V, (N, T))
    h0 = [rng.standard_normal((N, 4)) * 0.5 for _ in range(2)]
    loss, grads, final = model.loss(x, y, h0)
    assert len(final) == 2 and all(h.shape == (N, 4) for h in final)
    assert set(grads) == set(model.params)
    _check_grads(lambda: model.loss(x, y, h0)[0], model.params, grads)


def test_charrnn_loss_is_nats_per_char_at_init():
    V = 20
    model = CharRNN(V, hidden_dim=8, num_layers=2, seed=0)
    x = np.zeros((3, 7), dtype=np.int64)
    loss, grads, _ = model.loss(x, x)
    assert abs(loss - np.log(V)) < 0.5  # close to uniform
    assert all(g.dtype == np.float32 for g in grads.values())


def test_charrnn_carries_hidden_state():
    rng = np.random.default_rng(1)
    model = CharRNN(5, hidden_dim=6, num_layers=2, cell="rnn", dtype=np.float64)
    x = rng.integers(0, 5, (2, 8))
    y = rng.integers(0, 5, (2, 8))
    whole, _ = model.scores(x)
    first, h = model.scores(x[:, :4])
    second, _ = model.scores(x[:, 4:], h)
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, atol=1e-12)
    with pytest.raises(ValueError, match="h0 must be a list of 2"):
        model.loss(x, y, h[:1])


def test_charrnn_init_bias_from_log_frequencies():
    vocab = Vocabulary.from_sequences(["aaaab"], specials=False)
    model = CharRNN(len(vocab), hidden_dim=4, init_bias_from=vocab.log_frequencies())
    np.testing.assert_allclose(model.params["b_vocab"], vocab.log_frequencies(), rtol=1e-6)
    with pytest.raises(ValueError, match="log frequencies"):
        model.init_bias_from(np.zeros(99))


def test_charrnn_sampling():
    vocab = Vocabulary.from_sequences(["hello world"], specials=False)
    model = CharRNN(len(vocab), hidden_dim=8, num_layers=2, seed=0)
    a = model.sample(vocab, length=30, temperature=0.8, prime="he", seed=5)
    assert a.startswith("he") and len(a) == 32
    assert a == model.sample(vocab, length=30, temperature=0.8, prime="he", seed=5)
    greedy = model.sample(vocab, length=20, argmax=True, prime="h", seed=1)
    assert greedy == model.sample(vocab, length=20, argmax=True, prime="h", seed=2)
    assert model.sample(vocab, length=5, prime="") != ""
    for bad in (0, -1.0, float("nan"), "hot"):
        with pytest.raises(ValueError, match="temperature must be a number > 0"):
            model.sample(vocab, temperature=bad)
