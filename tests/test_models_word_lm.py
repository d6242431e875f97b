"""Tests of course/models/word_lm.py: the model contract, gradients, learning, sampling."""

from __future__ import annotations

import numpy as np
import pytest

from course.data import TOY_SENTENCES, Vocabulary, make_lm_batch, tokenize_words
from course.gradcheck import param_gradient_errors
from course.models import WordRNNLanguageModel
from course.solver import Solver


def _toy_batch():
    sentences = [tokenize_words(s) for s in TOY_SENTENCES]
    vocab = Vocabulary.from_sequences(sentences)
    inputs, targets, mask = make_lm_batch(
        [vocab.encode(s, add_start=True, add_end=True) for s in sentences]
    )
    return vocab, inputs, targets, mask


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_word_model_gradients(cell):
    vocab, inputs, targets, mask = _toy_batch()
    model = WordRNNLanguageModel(len(vocab), wordvec_dim=4, hidden_dim=5, cell=cell, seed=1)
    x, y = inputs[:3, :5], targets[:3, :5].copy()
    y[0, -1] = vocab.null_index  # a padded step must add nothing
    _, grads = model.loss(x, y)
    assert set(grads) == set(model.params)
    errors = param_gradient_errors(lambda: model.loss(x, y)[0], model.params, grads)
    assert max(errors.values()) < 1e-7, errors


def test_padding_is_masked_by_the_null_index():
    vocab, inputs, targets, mask = _toy_batch()
    model = WordRNNLanguageModel(len(vocab), wordvec_dim=4, hidden_dim=5, cell="lstm", seed=1)
    scores = model.loss(inputs)  # (N, T, V)
    assert scores.shape == (*inputs.shape, len(vocab))
    shifted = scores - scores.max(axis=2, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
    picked = np.take_along_axis(log_probs, targets[..., None], axis=2)[..., 0]  # (N, T)
    expected = -picked[mask].sum() / len(inputs)
    assert model.loss(inputs, targets)[0] == pytest.approx(expected, rel=1e-12)
    np.testing.assert_array_equal(mask, targets != vocab.null_index)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_word_model_learns_toy_sentences_with_the_solver(cell):
    vocab, inputs, targets, _ = _toy_batch()
    model = WordRNNLanguageModel(len(vocab), cell=cell, seed=0)
    first, _ = model.loss(inputs, targets)
    data = {"X_train": inputs, "y_train": targets, "X_val": inputs, "y_val": targets}
    solver = Solver(
        model,
        data,
        update_rule="adam",
        optim_config={"learning_rate": 2e-2},
        batch_size=len(inputs),
        num_epochs=60,
        metric="loss",
        verbose=False,
    )
    solver.train()
    assert solver.best_val_metric < 0.5 * first
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
