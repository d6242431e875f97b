"""What the recurrent models share: their weights, one step for sampling, softmax and log_softmax.

Dimension letters: N batch, D input size, Hd hidden size, V vocabulary size;
G = 1 gate block for a vanilla RNN, 4 (i, f, o, g) for an LSTM.
"""

from __future__ import annotations

import numpy as np

from course import layers


def init_recurrent_params(
    rng: np.random.Generator, D: int, Hd: int, cell: str, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Wx (D, G*Hd), Wh (Hd, G*Hd), b (G*Hd,) for a 'rnn' (G = 1) or 'lstm' (G = 4) layer.

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


def sample_step(
    cell: str,
    x: np.ndarray,
    h: np.ndarray,
    c: np.ndarray,
    Wx: np.ndarray,
    Wh: np.ndarray,
    b: np.ndarray,
    activation: str = "tanh",
) -> tuple[np.ndarray, np.ndarray]:
    """One recurrent step while sampling: ``(next_h, next_c)``; c passes through an RNN.

    A 'relu' RNN (``activation='relu'``) runs as a sequence of one step.
    """
    if cell == "lstm":
        next_h, next_c, _ = layers.lstm_step_forward(x, h, c, Wx, Wh, b)
        return next_h, next_c
    if activation == "relu":
        h_seq, _ = layers.rnn_forward_fused(x[:, None], h, Wx, Wh, b, activation="relu")
        return h_seq[:, 0], c  # (N, 1, Hd) -> (N, Hd)
    next_h, _ = layers.rnn_step_forward(x, h, Wx, Wh, b)
    return next_h, c


def softmax(scores: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """(V,) probabilities in float64 of ``scores / temperature`` (shifted: exp cannot overflow)."""
    z = np.asarray(scores, dtype=np.float64) / temperature
    z = z - z.max()
    p = np.exp(z)
    return p / p.sum()


def log_softmax(scores: np.ndarray) -> np.ndarray:
    """Log-probabilities in float64 over the last axis (shifted: exp cannot overflow)."""
    z = np.asarray(scores, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def make_rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    """A generator from a seed, or the generator itself."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)
