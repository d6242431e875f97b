"""A word-level language model: P(next word | previous words) with one recurrent layer.

word embedding -> RNN or LSTM -> temporal affine -> softmax over the next word,
trained on padded sentence batches (``course.data.make_lm_batch``); the
talk's toy example trains it on ``TOY_SENTENCES`` and reads off the
next-word table.

It keeps the course's model contract, so the Solver trains it
(``metric='loss'``: the validation cross-entropy picks the best epoch):
``loss(X)`` gives the scores (N, T, V) of the next word after every input
word, ``loss(X, y)`` the loss and the gradients for the targets y, with the
``<NULL>`` padding of y masked out.

Dimension letters: N batch, T time steps, D word-vector size, Hd hidden size,
V vocabulary size; G = 1 for 'rnn' and 4 for 'lstm'.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course import layers
from course.data import NULL_INDEX, Vocabulary
from course.models._recurrent import init_recurrent_params, make_rng, sample_step, softmax
from course.models._validation import require_temperature, validate_recurrent_model
from course.validation import require_positive_int

# The fast sequence layers; the LSTM's also returns its last cell state, unused here.
_FORWARD = {"rnn": layers.rnn_forward_fused, "lstm": layers.lstm_forward_fused}
_BACKWARD = {"rnn": layers.rnn_backward_fused, "lstm": layers.lstm_backward_fused}


class WordRNNLanguageModel:
    """word embedding -> RNN or LSTM -> temporal affine -> softmax over the next word.

    Parameters: ``W_embed`` (V, D), ``Wx`` (D, G*Hd), ``Wh`` (Hd, G*Hd), ``b``
    (G*Hd,), ``W_vocab`` (Hd, V), ``b_vocab`` (V,). The initial hidden state
    is zero. The loss is the CS231n ``temporal_softmax_loss``: summed over the
    time steps whose target is not ``null_index`` (padding), averaged over N.
    """

    def __init__(
        self,
        vocab_size: int,
        wordvec_dim: int = 32,
        hidden_dim: int = 64,
        cell: str = "rnn",
        dtype: type | np.dtype = np.float64,
        seed: int = 0,
        null_index: int = NULL_INDEX,
    ) -> None:
        sizes = {"vocab_size": vocab_size, "wordvec_dim": wordvec_dim, "hidden_dim": hidden_dim}
        self.cell, self.dtype = validate_recurrent_model(
            "WordRNNLanguageModel", sizes, cell, dtype
        )
        self.vocab_size, self.wordvec_dim, self.hidden_dim = vocab_size, wordvec_dim, hidden_dim
        self.null_index = null_index
        rng = np.random.default_rng(seed)
        V, D, Hd = self.vocab_size, self.wordvec_dim, self.hidden_dim
        Wx, Wh, b = init_recurrent_params(rng, D, Hd, self.cell, self.dtype)
        self.params: dict[str, np.ndarray] = {
            "W_embed": (rng.standard_normal((V, D)) / 10).astype(self.dtype),
            "Wx": Wx,
            "Wh": Wh,
            "b": b,
            "W_vocab": (rng.standard_normal((Hd, V)) / np.sqrt(Hd)).astype(self.dtype),
            "b_vocab": np.zeros(V, dtype=self.dtype),
        }

    def _scores(self, X: np.ndarray) -> tuple[np.ndarray, tuple]:
        """Scores (N, T, V) of every next word, and the caches for the backward pass."""
        p = self.params
        x, embed_cache = layers.word_embedding_forward(X, p["W_embed"])  # (N, T, D)
        h0 = np.zeros((X.shape[0], self.hidden_dim), dtype=self.dtype)
        h, *_, rnn_cache = _FORWARD[self.cell](x, h0, p["Wx"], p["Wh"], p["b"])  # (N, T, Hd)
        scores, affine_cache = layers.temporal_affine_forward(h, p["W_vocab"], p["b_vocab"])
        return scores, (embed_cache, rnn_cache, affine_cache)

    def loss(
        self, X: np.ndarray, y: np.ndarray | None = None
    ) -> np.ndarray | tuple[float, dict[str, np.ndarray]]:
        """Scores of the next word, or the loss and gradients of predicting ``y``.

        Inputs:
        - X: (N, T) word indices (the ``inputs`` of ``make_lm_batch``)
        - y: (N, T) next-word indices (its ``targets``), ``null_index`` where
          padding; None for the scores

        Returns:
        - scores: (N, T, V) when y is None; else
        - loss: float, summed over the unmasked steps and averaged over N
        - grads: dict keyed like ``params``
        """
        scores, (embed_cache, rnn_cache, affine_cache) = self._scores(X)
        if y is None:
            return scores
        mask = y != self.null_index  # (N, T): the padding adds nothing
        loss, dscores = layers.temporal_softmax_loss(scores, y, mask)
        grads: dict[str, np.ndarray] = {}
        dh, grads["W_vocab"], grads["b_vocab"] = layers.temporal_affine_backward(
            dscores, affine_cache
        )
        dx, _, grads["Wx"], grads["Wh"], grads["b"] = _BACKWARD[self.cell](dh, rnn_cache)
        grads["W_embed"] = layers.word_embedding_backward(dx, embed_cache)
        return loss, grads

    def next_word_probabilities(self, prefix_indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """P(next word | prefix): the (V,) softmax after reading ``prefix_indices``.

        The prefix usually starts with ``<START>``:
        ``model.next_word_probabilities(vocab.encode(['the', 'cat'], add_start=True))``.
        """
        prefix = np.asarray(prefix_indices, dtype=np.int64).reshape(1, -1)  # (1, T)
        if prefix.shape[1] == 0:
            raise ValueError("next_word_probabilities: the prefix is empty; start it with <START>")
        return softmax(self.loss(prefix)[0, -1])

    def next_word_table(
        self, vocab: Vocabulary, prefix: Sequence[str] | str = (), k: int = 5
    ) -> list[tuple[str, float]]:
        """The ``k`` likeliest next words after ``<START>`` + ``prefix``, as (word, P) pairs.

        The talk's table of P(next word | previous words), e.g.
        ``model.next_word_table(vocab, "the cat")`` -> ``[('sat', 0.41), ...]``.
        """
        k = require_positive_int("WordRNNLanguageModel.next_word_table", "k", k)
        words = prefix.split() if isinstance(prefix, str) else list(prefix)
        probs = self.next_word_probabilities(vocab.encode(words, add_start=True))  # (V,)
        order = np.argsort(-probs, kind="stable")[:k]
        return [(vocab.token(int(i)), float(probs[i])) for i in order]

    def sample(
        self,
        vocab: Vocabulary,
        max_length: int = 20,
        seed: int | np.random.Generator | None = 0,
        temperature: float = 1.0,
        prime: Sequence[str] | str | None = None,
    ) -> list[str]:
        """Sample a sentence word by word from ``<START>`` (and ``prime``) until ``<END>``.

        Inputs:
        - vocab: the Vocabulary (with specials) the model was trained with
        - max_length: the most words to generate after the prime
        - seed: int seed or np.random.Generator
        - temperature: > 0; scores are divided by it before the softmax
        - prime: words (a list, or a str split on spaces) the sentence starts with

        Returns:
        - words: the prime's words followed by the sampled ones, without <END>
        """
        func = "WordRNNLanguageModel.sample"
        temperature = require_temperature(func, temperature)
        max_length = require_positive_int(func, "max_length", max_length)
        rng = make_rng(seed)
        words = prime.split() if isinstance(prime, str) else list(prime or [])
        p = self.params
        h = np.zeros((1, self.hidden_dim), dtype=self.dtype)
        c = np.zeros_like(h)
        token = vocab.start_index
        for word in words:
            x = p["W_embed"][[token]]  # (1, D)
            h, c = sample_step(self.cell, x, h, c, p["Wx"], p["Wh"], p["b"])
            token = vocab.index(word)
        out = list(words)
        for _ in range(max_length):
            x = p["W_embed"][[token]]  # (1, D)
            h, c = sample_step(self.cell, x, h, c, p["Wx"], p["Wh"], p["b"])
            probs = softmax(h[0] @ p["W_vocab"] + p["b_vocab"], temperature)  # (V,)
            token = int(rng.choice(self.vocab_size, p=probs))
            if token == vocab.end_index:
                break
            out.append(vocab.token(token))
        return out
