"""A character-level language model: L stacked RNN or LSTM layers that read and write text.

embedding -> ``num_layers`` stacked RNN/LSTM layers -> temporal affine ->
softmax over the next character, trained with truncated backpropagation
through time: the text is cut into N streams (``course.data.stream_windows``)
and read T characters at a time; the hidden state is carried from one window
to the next, the gradient flows only through the current window.

The carried state is the model's documented state (as ``bn_params`` is a
ConvNet's): ``self.state`` holds, after every call of ``loss``, the final
hidden state of every layer (and an LSTM's cell state) for the N streams just
read, and the next call starts from it when its batch has the same N. So the
model keeps the course's contract, ``loss(X, y=None)``, and the Solver trains
it with ``shuffle=False`` (the batches must continue the streams in order)
and ``metric='loss'``; it calls ``reset_state()`` at the start of every epoch
and every evaluation, so each pass reads its streams from the start.

Dimension letters: N batch (streams), T time steps, D embedding size, Hd
hidden size, V vocabulary size, L number of stacked layers.
"""

from __future__ import annotations

import numpy as np

from course import layers
from course.data import Vocabulary
from course.models._recurrent import init_recurrent_params, make_rng, sample_step, softmax
from course.models._validation import (
    require_temperature,
    validate_cell_activation,
    validate_recurrent_model,
)
from course.validation import require_positive_int

LayerState = tuple[np.ndarray, np.ndarray]  # (h, c) of one layer, (N, Hd) each; c unused by an RNN


class CharRNN:
    """Character model: embedding -> L stacked RNN/LSTM layers -> temporal affine -> softmax.

    Parameters: ``W_embed`` (V, D) with D = ``embed_dim`` (default Hd), then
    for every layer l = 1..L: ``Wx{l}`` (D or Hd, G*Hd), ``Wh{l}`` (Hd, G*Hd),
    ``b{l}`` (G*Hd,); finally ``W_vocab`` (Hd, V) and ``b_vocab`` (V,).

    ``loss(X, y)`` is the mean cross-entropy in nats per character (divide by
    ln 2 for bits per character). State: ``self.state`` (see the module
    docstring) is None or a list of L pairs (h, c), each (N, Hd).

    ``activation`` is the vanilla RNN's nonlinearity: 'tanh' (default) or
    'relu', the talk's ``h = max(0, Wxh x + Whh h)``; an LSTM keeps its own
    sigmoid and tanh gates, so it takes only the default.
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
        activation: str = "tanh",
    ) -> None:
        embed_dim = hidden_dim if embed_dim is None else embed_dim
        sizes = {
            "vocab_size": vocab_size,
            "hidden_dim": hidden_dim,
            "num_layers": num_layers,
            "embed_dim": embed_dim,
        }
        self.cell, self.dtype = validate_recurrent_model("CharRNN", sizes, cell, dtype)
        self.activation = validate_cell_activation("CharRNN", self.cell, activation)
        self.vocab_size, self.hidden_dim, self.num_layers = vocab_size, hidden_dim, num_layers
        self.embed_dim = embed_dim
        rng = np.random.default_rng(seed)
        V, D, Hd = self.vocab_size, self.embed_dim, self.hidden_dim
        self.params: dict[str, np.ndarray] = {
            "W_embed": (rng.standard_normal((V, D)) / np.sqrt(D)).astype(self.dtype)
        }
        for layer in range(1, self.num_layers + 1):
            fan_in = D if layer == 1 else Hd
            Wx, Wh, b = init_recurrent_params(rng, fan_in, Hd, self.cell, self.dtype)
            self.params.update({f"Wx{layer}": Wx, f"Wh{layer}": Wh, f"b{layer}": b})
        self.params["W_vocab"] = (rng.standard_normal((Hd, V)) / np.sqrt(Hd)).astype(self.dtype)
        self.params["b_vocab"] = np.zeros(V, dtype=self.dtype)
        self.state: list[LayerState] | None = None
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

    def reset_state(self) -> None:
        """Forget the carried state: the next batch starts its streams from zeros."""
        self.state = None

    def _initial_state(self, N: int) -> list[LayerState]:
        """The carried state when it belongs to N streams, else zeros (the start of a text)."""
        if self.state is not None and self.state[0][0].shape[0] == N:
            return self.state
        zeros = np.zeros((N, self.hidden_dim), dtype=self.dtype)
        return [(zeros, zeros)] * self.num_layers

    def loss(
        self, X: np.ndarray, y: np.ndarray | None = None
    ) -> np.ndarray | tuple[float, dict[str, np.ndarray]]:
        """Scores of the next character, or the loss and gradients of predicting ``y``.

        Reads X as the continuation of the streams of the previous call (see
        the module docstring) and leaves its final hidden states in ``self.state``.

        Inputs:
        - X: (N, T) character indices
        - y: (N, T) next-character indices, ``y[:, t] = text[... t + 1]``; None
          for the scores

        Returns:
        - scores: (N, T, V) when y is None; else
        - loss: float, nats per character
        - grads: dict keyed like ``params``
        """
        p = self.params
        h, embed_cache = layers.word_embedding_forward(X, p["W_embed"])  # (N, T, D)
        caches, final = [], []
        for layer, (h0, c0) in enumerate(self._initial_state(X.shape[0]), start=1):
            weights = p[f"Wx{layer}"], p[f"Wh{layer}"], p[f"b{layer}"]
            if self.cell == "lstm":
                h, c_last, cache = layers.lstm_forward_fused(h, h0, *weights, c0=c0)
            else:
                h, cache = layers.rnn_forward_fused(h, h0, *weights, activation=self.activation)
                c_last = c0
            caches.append(cache)
            final.append((h[:, -1].copy(), c_last))  # (N, Hd) each
        scores, affine_cache = layers.temporal_affine_forward(h, p["W_vocab"], p["b_vocab"])
        self.state = final
        if y is None:
            return scores

        # The mean over the N*T characters: temporal_softmax_loss sums over T, divides by N.
        T = X.shape[1]
        loss, dscores = layers.temporal_softmax_loss(scores, y, np.ones(y.shape, dtype=bool))
        loss, dscores = loss / T, dscores / T
        grads: dict[str, np.ndarray] = {}
        dh, grads["W_vocab"], grads["b_vocab"] = layers.temporal_affine_backward(
            dscores, affine_cache
        )
        for layer in range(self.num_layers, 0, -1):
            if self.cell == "lstm":  # the carried state gets no gradient: dh0, dc0 are dropped
                dh, _, dWx, dWh, db, _ = layers.lstm_backward_fused(dh, caches[layer - 1])
            else:
                dh, _, dWx, dWh, db = layers.rnn_backward_fused(dh, caches[layer - 1])
            grads.update({f"Wx{layer}": dWx, f"Wh{layer}": dWh, f"b{layer}": db})
        grads["W_embed"] = layers.word_embedding_backward(dh, embed_cache)
        return loss, {k: grads[k].astype(p[k].dtype, copy=False) for k in p}

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
        characters long. Sampling leaves ``self.state`` alone.
        """
        func = "CharRNN.sample"
        temperature = require_temperature(func, temperature)
        length = require_positive_int(func, "length", length, allow_zero=True)
        if not isinstance(prime, str):
            raise TypeError(f"{func}: prime must be a str, got {type(prime).__name__}")
        rng = make_rng(seed)
        p = self.params
        zeros = np.zeros((1, self.hidden_dim), dtype=self.dtype)
        hs, cs = [zeros] * self.num_layers, [zeros] * self.num_layers

        def step(token: int) -> np.ndarray:
            inp = p["W_embed"][[token]]  # (1, D)
            for i in range(self.num_layers):
                weights = p[f"Wx{i + 1}"], p[f"Wh{i + 1}"], p[f"b{i + 1}"]
                hs[i], cs[i] = sample_step(
                    self.cell, inp, hs[i], cs[i], *weights, activation=self.activation
                )
                inp = hs[i]
            return (inp[0] @ p["W_vocab"] + p["b_vocab"]).astype(np.float64)  # (V,)

        primed = vocab.encode(prime) if prime else np.array([vocab.unk_index])
        for token in primed:
            scores = step(int(token))
        out = []
        for _ in range(length):
            scores[vocab.unk_index] = -np.inf  # <UNK> is not a character: never emit it
            if argmax:
                token = int(np.argmax(scores))
            else:
                token = int(rng.choice(self.vocab_size, p=softmax(scores, temperature)))
            out.append(token)
            scores = step(token)
        return prime + "".join(vocab.decode(np.array(out, dtype=np.int64)))
