"""Tests of course/models/char_rnn.py: gradients, the carried state, sampling."""

from __future__ import annotations

import numpy as np
import pytest

from course.data import Vocabulary
from course.gradcheck import param_gradient_errors
from course.models import CharRNN


def _random_batch(seed: int, V: int, N: int, T: int):
    rng = np.random.default_rng(seed)
    return rng.integers(0, V, (N, T)), rng.integers(0, V, (N, T))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "relu"])
def test_charrnn_gradients_with_carried_state(cell):
    V, N, T = 6, 2, 4
    cell, activation = ("rnn", "relu") if cell == "relu" else (cell, "tanh")
    model = CharRNN(
        V, hidden_dim=4, num_layers=2, cell=cell, dtype=np.float64, seed=2, activation=activation
    )
    model.init_bias_from(np.log(np.full(V, 1 / V)) + np.linspace(-0.1, 0.1, V))
    model.loss(_random_batch(0, V, N, 3)[0])  # a non-zero state to start from
    carried = model.state
    x, y = _random_batch(1, V, N, T)

    def loss_from_carried():
        model.state = carried
        return model.loss(x, y)[0]

    loss = loss_from_carried()
    model.state = carried
    loss_again, grads = model.loss(x, y)
    assert loss_again == loss
    assert len(model.state) == 2 and all(h.shape == (N, 4) for h, _ in model.state)
    assert set(grads) == set(model.params)
    errors = param_gradient_errors(loss_from_carried, model.params, grads)
    assert max(errors.values()) < 1e-7, errors


def test_charrnn_loss_is_nats_per_char_at_init():
    V = 20
    model = CharRNN(V, hidden_dim=8, num_layers=2, seed=0)
    x = np.zeros((3, 7), dtype=np.int64)
    loss, grads = model.loss(x, x)
    assert abs(loss - np.log(V)) < 0.5  # close to uniform
    assert all(g.dtype == np.float32 for g in grads.values())


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_consecutive_windows_read_like_one_long_window(cell):
    # Carrying h (and an LSTM's c) makes two halves score exactly like the whole.
    model = CharRNN(5, hidden_dim=6, num_layers=2, cell=cell, dtype=np.float64)
    x, _ = _random_batch(1, 5, 2, 8)
    whole = model.loss(x)
    model.reset_state()
    first = model.loss(x[:, :4])
    second = model.loss(x[:, 4:])
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, atol=1e-12)


def test_state_resets_and_restarts_for_a_new_batch_size():
    model = CharRNN(5, hidden_dim=6, num_layers=1, cell="lstm", dtype=np.float64)
    x, _ = _random_batch(2, 5, 3, 4)
    fresh = model.loss(x)
    assert not np.allclose(model.loss(x), fresh)  # the second call continues the streams
    model.reset_state()
    assert model.state is None
    np.testing.assert_array_equal(model.loss(x), fresh)
    np.testing.assert_array_equal(model.loss(x[:2]), fresh[:2])  # 2 streams, not 3: from zeros


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
    assert model.state is None  # sampling leaves the carried state alone
    for bad in (0, -1.0, float("nan"), "hot"):
        with pytest.raises(ValueError, match="temperature must be a number > 0"):
            model.sample(vocab, temperature=bad)


def test_relu_charrnn_is_the_talks_rnn_and_samples():
    V, N, T = 5, 2, 6
    model = CharRNN(V, hidden_dim=6, num_layers=1, cell="rnn", dtype=np.float64, activation="relu")
    x, _ = _random_batch(3, V, N, T)
    scores = model.loss(x)
    p = model.params
    h = np.zeros((N, 6))
    for t in range(T):  # h = max(0, Wxh x + Whh h + b), scores = h W_vocab + b_vocab
        h = np.maximum(0, p["W_embed"][x[:, t]] @ p["Wx1"] + h @ p["Wh1"] + p["b1"])
        np.testing.assert_allclose(scores[:, t], h @ p["W_vocab"] + p["b_vocab"], atol=1e-12)
    assert np.all(model.state[0][0] >= 0)
    vocab = Vocabulary.from_sequences(["abcd"], specials=False)
    model = CharRNN(len(vocab), hidden_dim=6, cell="rnn", activation="relu", seed=1)
    text = model.sample(vocab, length=12, prime="ab", seed=0)
    assert len(text) == 14 and text == model.sample(vocab, length=12, prime="ab", seed=0)


def test_charrnn_activation_errors():
    with pytest.raises(ValueError, match=r"^CharRNN: activation must be 'tanh' or 'relu'"):
        CharRNN(5, hidden_dim=4, cell="rnn", activation="sigmoid")
    with pytest.raises(ValueError, match=r"^CharRNN: activation='relu' is for cell='rnn'"):
        CharRNN(5, hidden_dim=4, cell="lstm", activation="relu")
