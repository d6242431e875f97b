"""Recurrent language models: a word-level RNN/LSTM and a stacked character-level RNN.

- ``WordRNNLanguageModel``: P(next word | previous words) with one recurrent
  layer, trained on padded sentence batches (``make_lm_batch``); the talk's
  toy example (train on ``TOY_SENTENCES``, read off the next-word table).
- ``CharRNN``: embedding -> ``num_layers`` stacked RNN/LSTM layers ->
  temporal affine -> softmax over characters, trained with truncated
  backpropagation through time: ``loss`` takes and returns the hidden state of
  every layer, so that it carries from one ``char_batches`` window to the next.

Both keep the course's model contract: ``params`` (dict name -> ndarray) and
``loss(...) -> (loss, grads)`` with ``grads`` keyed like ``params``.

Dimension letters: N batch, T time steps, D embedding size, Hd hidden size,
V vocabulary size, L number of stacked layers.

The LSTM carries only h across batches. ``lstm_forward`` starts every window
with a zero cell state c; we keep the reference layer as it is (one
implementation of the maths) and accept that the cell restarts at each window
boundary. The gradient does not flow into the carried h (truncated BPTT).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course import rnn_layers as rl
from course.data.text import Vocabulary
from course.validation import is_positive_finite, require_positive_int

__all__ = ["CharRNN", "WordRNNLanguageModel", "check_temperature"]

_CELLS = ("rnn", "lstm")
_FORWARD = {"rnn": rl.rnn_forward, "lstm": rl.lstm_forward}
_BACKWARD = {"rnn": rl.rnn_backward, "lstm": rl.lstm_backward}


# ---------------------------------------------------------------------------
# Shared pieces
# ---------------------------------------------------------------------------


def _check_cell(func: str, cell: object) -> str:
    if cell not in _CELLS:
        raise ValueError(f"{func}: cell must be 'rnn' or 'lstm', got {cell!r}")
    return str(cell)


def _check_dtype(func: str, dtype: object) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise ValueError(f"{func}: dtype must be float32 or float64, got {dt}")
    return dt


def check_temperature(func: str, temperature: object) -> float:
    """Return ``temperature`` as a float after checking it is a finite number > 0."""
    if not is_positive_finite(temperature):
        raise ValueError(
            f"{func}: temperature must be a number > 0 (e.g. 0.8; lower is more "
            f"conservative), got {temperature!r}; for the most likely token use argmax=True"
        )
    return float(temperature)


def _recurrent_params(
    rng: np.random.Generator, D: int, Hd: int, cell: str, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Wx (D, G*Hd), Wh (Hd, G*Hd), b (G*Hd,) with G = 1 (rnn) or 4 (lstm).

    Weights are normal with std 1/sqrt(fan_in); an LSTM's forget-gate biases
    start at 1 so that the cell remembers by default.
    """
    G = 4 if cell == "lstm" else 1
    Wx = rng.standard_normal((D, G * Hd)) / np.sqrt(D)
    Wh = rng.standard_normal((Hd, G * Hd)) / np.sqrt(Hd)
    b = np.zeros(G * Hd)
    if cell == "lstm":
        b[Hd : 2 * Hd] = 1.0  # forget gate, order i, f, o, g
    return Wx.astype(dtype), Wh.astype(dtype), b.astype(dtype)


def _step(
    cell: str,
    x: np.ndarray,
    h: np.ndarray,
    c: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """One recurrent step for sampling; returns (next_h, next_c) (c unused by 'rnn')."""
    if cell == "lstm":
        next_h, next_c, _ = rl.lstm_step_forward(x, h, c, Wx, Wh, b)
        return next_h, next_c
    next_h, _ = rl.rnn_step_forward(x, h, Wx, Wh, b)
    return next_h, c


def _softmax(scores: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """(V,) probabilities in float64 of ``scores / temperature``."""
    z = np.asarray(scores, dtype=np.float64) / temperature
    z = z - z.max()
    p = np.exp(z)
    return p / p.sum()


def _make_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


# ---------------------------------------------------------------------------
# Word-level language model
# ---------------------------------------------------------------------------


class WordRNNLanguageModel:
    """word embedding -> RNN or LSTM -> temporal affine -> softmax over the next word.

    Parameters: ``W_embed`` (V, D), ``Wx`` (D, G*Hd), ``Wh`` (Hd, G*Hd), ``b``
    (G*Hd,), ``W_vocab`` (Hd, V), ``b_vocab`` (V,), with G = 1 for 'rnn' and 4
    for 'lstm'. The initial hidden state is zero. The loss is the CS231n
    ``temporal_softmax_loss``: summed over unmasked time steps, averaged over N.
    """

    def __init__(
        self,
        vocab_size: int,
        wordvec_dim: int = 32,
        hidden_dim: int = 64,
        cell: str = "rnn",
        dtype: type | np.dtype = np.float64,
        seed: int = 0,
    ) -> None:
        func = "WordRNNLanguageModel"
        self.vocab_size = require_positive_int(func, "vocab_size", vocab_size)
        self.wordvec_dim = require_positive_int(func, "wordvec_dim", wordvec_dim)
        self.hidden_dim = require_positive_int(func, "hidden_dim", hidden_dim)
        self.cell = _check_cell(func, cell)
        self.dtype = _check_dtype(func, dtype)
        rng = np.random.default_rng(seed)
        V, D, Hd = self.vocab_size, self.wordvec_dim, self.hidden_dim
        Wx, Wh, b = _recurrent_params(rng, D, Hd, self.cell, self.dtype)
        self.params: dict[str, np.ndarray] = {
            "W_embed": (rng.standard_normal((V, D)) / 10).astype(self.dtype),
            "Wx": Wx,
            "Wh": Wh,
            "b": b,
            "W_vocab": (rng.standard_normal((Hd, V)) / np.sqrt(Hd)).astype(self.dtype),
            "b_vocab": np.zeros(V, dtype=self.dtype),
        }

    def _scores(self, inputs: np.ndarray) -> tuple[np.ndarray, tuple]:
        """Scores (N, T, V) of every next word, and the caches for the backward pass."""
        p = self.params
        N = inputs.shape[0]
        x, embed_cache = rl.word_embedding_forward(inputs, p["W_embed"])  # (N, T, D)
        h0 = np.zeros((N, self.hidden_dim), dtype=self.dtype)
        h, rnn_cache = _FORWARD[self.cell](x, h0, p["Wx"], p["Wh"], p["b"])  # (N, T, Hd)
        scores, affine_cache = rl.temporal_affine_forward(h, p["W_vocab"], p["b_vocab"])
        return scores, (embed_cache, rnn_cache, affine_cache)

    def loss(
        self, inputs: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None
    ) -> tuple[float, dict[str, np.ndarray]]:
        """Loss and gradients of predicting ``targets[:, t]`` from ``inputs[:, :t+1]``.

        Inputs:
        - inputs: (N, T) word indices (from ``make_lm_batch``)
        - targets: (N, T) next-word indices
        - mask: (N, T) bool, True where the target counts; None counts every step

        Returns:
        - loss: float, summed over unmasked steps and averaged over N
        - grads: dict keyed like ``params``
        """
        if mask is None:
            mask = np.ones(np.shape(targets), dtype=bool)
        scores, (embed_cache, rnn_cache, affine_cache) = self._scores(inputs)
        loss, dscores = rl.temporal_softmax_loss(scores, targets, mask)
        grads: dict[str, np.ndarray] = {}
        dh, grads["W_vocab"], grads["b_vocab"] = rl.temporal_affine_backward(dscores, affine_cache)
        dx, _, grads["Wx"], grads["Wh"], grads["b"] = _BACKWARD[self.cell](dh, rnn_cache)
        grads["W_embed"] = rl.word_embedding_backward(dx, embed_cache)
        return loss, grads

    def next_word_probabilities(self, prefix_indices: Sequence[int] | np.ndarray) -> np.ndarray:
        """P(next word | prefix): the (V,) softmax after reading ``prefix_indices``.

        The prefix usually starts with ``<START>``:
        ``model.next_word_probabilities(vocab.encode(['the', 'cat'], add_start=True))``.
        """
        prefix = np.asarray(prefix_indices, dtype=np.int64).reshape(1, -1)  # (1, T)
        if prefix.shape[1] == 0:
            raise ValueError("next_word_probabilities: the prefix is empty; start it with <START>")
        scores, _ = self._scores(prefix)  # (1, T, V)
        return _softmax(scores[0, -1])

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
        temperature = check_temperature(func, temperature)
        max_length = require_positive_int(func, "max_length", max_length)
        rng = _make_rng(seed)
        words = prime.split() if isinstance(prime, str) else list(prime or [])
        p = self.params
        h = np.zeros((1, self.hidden_dim), dtype=self.dtype)
        c = np.zeros_like(h)
        token = vocab.start_index
        for word in words:
            x = p["W_embed"][[token]]  # (1, D)
            h, c = _step(self.cell, x, h, c, p["Wx"], p["Wh"], p["b"])
            token = vocab.index(word)
        out = list(words)
        for _ in range(max_length):
            x = p["W_embed"][[token]]  # (1, D)
            h, c = _step(self.cell, x, h, c, p["Wx"], p["Wh"], p["b"])
            probs = _softmax(h[0] @ p["W_vocab"] + p["b_vocab"], temperature)  # (V,)
            token = int(rng.choice(self.vocab_size, p=probs))
            if token == vocab.end_index:
                break
            out.append(vocab.token(token))
        return out


# ---------------------------------------------------------------------------
# Character-level stacked RNN
# ---------------------------------------------------------------------------


class CharRNN:
    """Character model: embedding -> L stacked RNN/LSTM layers -> temporal affine -> softmax.

    Parameters: ``W_embed`` (V, D) with D = ``embed_dim`` (default Hd), then
    for every layer l = 1..L: ``Wx{l}`` (D or Hd, G*Hd), ``Wh{l}`` (Hd, G*Hd),
    ``b{l}`` (G*Hd,); finally ``W_vocab`` (Hd, V) and ``b_vocab`` (V,).

    ``loss(x, y, h0)`` returns the mean cross-entropy in nats per character
    and the final hidden state of every layer, to pass as ``h0`` to the next
    window of the same streams (truncated BPTT; see the module docstring for
    why an LSTM's cell state restarts at zero in each window).
    """

    def __init__(
        self,
        vocab_size: int,
        hidden_dim: int = 128,
        num_layers: int = 2,
        cell: str = "lstm",
        dtype: type | np.dtype = np.float32,
        seed: int = 0,
        embed_dim: int | None = None,
        init_bias_from: np.ndarray | None = None,
    ) -> None:
        func = "CharRNN"
        self.vocab_size = require_positive_int(func, "vocab_size", vocab_size)
        self.hidden_dim = require_positive_int(func, "hidden_dim", hidden_dim)
        self.num_layers = require_positive_int(func, "num_layers", num_layers)
        self.embed_dim = (
            self.hidden_dim
            if embed_dim is None
            else require_positive_int(func, "embed_dim", embed_dim)
        )
        self.cell = _check_cell(func, cell)
        self.dtype = _check_dtype(func, dtype)
        rng = np.random.default_rng(seed)
        V, D, Hd = self.vocab_size, self.embed_dim, self.hidden_dim
        self.params: dict[str, np.ndarray] = {
            "W_embed": (rng.standard_normal((V, D)) / np.sqrt(D)).astype(self.dtype)
        }
        for layer in range(1, self.num_layers + 1):
            fan_in = D if layer == 1 else Hd
            Wx, Wh, b = _recurrent_params(rng, fan_in, Hd, self.cell, self.dtype)
            self.params[f"Wx{layer}"], self.params[f"Wh{layer}"], self.params[f"b{layer}"] = (
                Wx,
                Wh,
                b,
            )
        self.params["W_vocab"] = (rng.standard_normal((Hd, V)) / np.sqrt(Hd)).astype(self.dtype)
        self.params["b_vocab"] = np.zeros(V, dtype=self.dtype)
        if init_bias_from is not None:
            self.init_bias_from(init_bias_from)

    def init_bias_from(self, log_frequencies: np.ndarray) -> None:
        """Set the output biases to ``log_frequencies`` (V,), e.g. ``vocab.log_frequencies()``.

        The untrained model then predicts the unigram distribution rather than
        a uniform one, which removes the first, wasted part of training.
        """
        bias = np.asarray(log_frequencies, dtype=np.float64)
        if bias.shape != (self.vocab_size,) or not np.all(np.isfinite(bias)):
            raise ValueError(
                f"CharRNN.init_bias_from: expected (V,) = ({self.vocab_size},) finite log "
                f"frequencies (vocab.log_frequencies()), got shape {bias.shape}"
            )
        self.params["b_vocab"] = bias.astype(self.dtype)

    def initial_state(self, batch_size: int) -> list[np.ndarray]:
        """L zero hidden states (N, Hd): the state at the start of a text."""
        return [
            np.zeros((batch_size, self.hidden_dim), dtype=self.dtype)
            for _ in range(self.num_layers)
        ]

    def _check_h0(self, h0: Sequence[np.ndarray] | None, N: int) -> list[np.ndarray]:
        if h0 is None:
            return self.initial_state(N)
        h0 = list(h0)
        expected = (N, self.hidden_dim)
        if len(h0) != self.num_layers or any(np.shape(h) != expected for h in h0):
            raise ValueError(
                f"CharRNN.loss: h0 must be a list of {self.num_layers} arrays (N, Hd) = "
                f"{expected} (the final states of the previous batch), got "
                f"{[np.shape(h) for h in h0]}"
            )
        return [np.asarray(h, dtype=self.dtype) for h in h0]

    def _forward(
        self, x: np.ndarray, h0: Sequence[np.ndarray] | None
    ) -> tuple[np.ndarray, list, list[np.ndarray]]:
        """Scores (N, T, V), caches, and the final hidden state of every layer."""
        p = self.params
        N = x.shape[0]
        h0 = self._check_h0(h0, N)
        h, embed_cache = rl.word_embedding_forward(x, p["W_embed"])  # (N, T, D)
        caches = [embed_cache]
        final = []
        for layer in range(1, self.num_layers + 1):
            h, cache = _FORWARD[self.cell](
                h, h0[layer - 1], p[f"Wx{layer}"], p[f"Wh{layer}"], p[f"b{layer}"]
            )  # (N, T, Hd)
            caches.append(cache)
            final.append(h[:, -1].copy())  # (N, Hd)
        scores, affine_cache = rl.temporal_affine_forward(h, p["W_vocab"], p["b_vocab"])
        caches.append(affine_cache)
        return scores, caches, final

    def scores(
        self, x: np.ndarray, h0: Sequence[np.ndarray] | None = None
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Scores (N, T, V) of the next character after each of x (N, T), and the final states."""
        scores, _, final = self._forward(x, h0)
        return scores, final

    def loss(
        self, x: np.ndarray, y: np.ndarray, h0: Sequence[np.ndarray] | None = None
    ) -> tuple[float, dict[str, np.ndarray], list[np.ndarray]]:
        """Mean cross-entropy (nats per character), gradients, and final hidden states.

        Inputs:
        - x: (N, T) character indices
        - y: (N, T) next-character indices, ``y[:, t] = text[... t + 1]``
        - h0: None (zeros) or a list of L arrays (N, Hd), the final states of the
          previous window of the same streams

        Returns:
        - loss: float, nats per character (divide by ln 2 for bits per character)
        - grads: dict keyed like ``params``
        - final: list of L arrays (N, Hd), the hidden states after the last step
        """
        p = self.params
        scores, caches, final = self._forward(x, h0)
        T = x.shape[1]
        mask = np.ones(x.shape, dtype=bool)
        loss, dscores = rl.temporal_softmax_loss(scores, y, mask)  # summed over T, mean over N
        loss, dscores = loss / T, dscores / T  # per character
        grads: dict[str, np.ndarray] = {}
        dh, grads["W_vocab"], grads["b_vocab"] = rl.temporal_affine_backward(dscores, caches[-1])
        for layer in range(self.num_layers, 0, -1):
            dh, _, dWx, dWh, db = _BACKWARD[self.cell](dh, caches[layer])
            grads[f"Wx{layer}"], grads[f"Wh{layer}"], grads[f"b{layer}"] = dWx, dWh, db
        grads["W_embed"] = rl.word_embedding_backward(dh, caches[0])
        grads = {k: grads[k].astype(p[k].dtype, copy=False) for k in p}
        return loss, grads, final

    def sample(
        self,
        vocab: Vocabulary,
        length: int = 500,
        temperature: float = 0.8,
        prime: str = "The ",
        argmax: bool = False,
        seed: int | np.random.Generator | None = 0,
    ) -> str:
        """Generate ``length`` characters after reading ``prime``; returns prime + sample.

        Inputs:
        - vocab: the character Vocabulary the model was trained with
        - length: number of characters to generate
        - temperature: > 0; below 1 is more conservative, above 1 more varied
        - prime: text fed to the model first (may be ''); unknown characters map to <UNK>
        - argmax: take the most likely character at every step (deterministic)
        - seed: int seed or np.random.Generator

        ``<UNK>`` is never generated, so the result is ``len(prime) + length``
        characters long.
        """
        func = "CharRNN.sample"
        temperature = check_temperature(func, temperature)
        length = require_positive_int(func, "length", length, allow_zero=True)
        if not isinstance(prime, str):
            raise TypeError(f"{func}: prime must be a str, got {type(prime).__name__}")
        rng = _make_rng(seed)
        p = self.params
        hs = self.initial_state(1)
        cs = self.initial_state(1)

        def step(token: int) -> np.ndarray:
            inp = p["W_embed"][[token]]  # (1, D)
            for layer in range(self.num_layers):
                k = layer + 1
                hs[layer], cs[layer] = _step(
                    self.cell, inp, hs[layer], cs[layer], p[f"Wx{k}"], p[f"Wh{k}"], p[f"b{k}"]
                )
                inp = hs[layer]
            return (inp[0] @ p["W_vocab"] + p["b_vocab"]).astype(np.float64)  # (V,)

        primed = vocab.encode(prime) if prime else np.array([vocab.unk_index])
        scores = None
        for token in primed:
            scores = step(int(token))
        out = []
        for _ in range(length):
            scores[vocab.unk_index] = -np.inf  # <UNK> is not a character: never emit it
            if argmax:
                token = int(np.argmax(scores))
            else:
                token = int(rng.choice(self.vocab_size, p=_softmax(scores, temperature)))
            out.append(token)
            scores = step(token)
        return prime + "".join(vocab.decode(np.array(out, dtype=np.int64)))
