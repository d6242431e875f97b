"""Short character-model runs that measure the talk's training tips (notebook 4).

Each tip is one setting of :func:`train_char_run`, so the notebook compares
two runs that differ in that setting only, with the same data, seed and
number of updates:

- ``log_frequency_bias``: output biases at the log character frequencies
  (``vocab.log_frequencies()``) or at zero;
- ``grad_clip``: the global gradient norm clipped to 5, or not clipped;
- ``update_rule``: 'rmsprop' or 'adam';
- ``num_layers``: one LSTM layer or two stacked;
- ``cell`` and ``activation``: an LSTM, a tanh RNN, or the talk's ReLU RNN
  ``h = max(0, Wxh x + Whh h)``;
- ``recurrent_scale``: every ``Wh`` multiplied by it at initialisation (a
  scale above 1 makes a vanilla RNN's gradients explode).

A run is the Solver's loop (truncated backpropagation through time over
``stream_windows``, ``shuffle=False``, ``metric='loss'``) stopped after a
fixed number of updates. It records the loss of every update and the global
norm of every gradient *before* clipping, and does not raise when the loss
diverges: the run ends there and says at which update.

Dimension letters: N streams (batch), T characters per window, V vocabulary
size, Hd hidden size, L stacked layers.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from course.data import Vocabulary, load_pydoc_corpus, stream_windows, train_val_split
from course.models import CharRNN
from course.optim import global_norm
from course.solver import Solver
from course.validation import require_positive_int

__all__ = [
    "CharRun",
    "char_lm_data",
    "moving_average",
    "plot_loss_curves",
    "plot_norms_and_losses",
    "train_char_run",
]

_LN2 = math.log(2.0)


@dataclass
class CharRun:
    """What one run of :func:`train_char_run` measured.

    - loss_history: (iterations,) training loss of every update, nats per
      character (shorter when the run diverged)
    - grad_norms: (iterations,) global L2 norm of every update's gradients,
      before clipping (inf or NaN where they overflowed)
    - val_bits: best validation bits per character over the epochs measured
      (NaN when the run diverged before the first measurement)
    - val_bits_history: validation bits per character after every epoch (a
      pass over the training windows) and at the end
    - diverged_at: the update at which the loss became NaN or inf, or None
    - num_params: number of learnable numbers in the model
    - seconds: wall-clock time of the run
    - model: the trained CharRNN (with the best parameters measured)
    """

    loss_history: np.ndarray
    grad_norms: np.ndarray
    val_bits: float
    val_bits_history: np.ndarray
    diverged_at: int | None
    num_params: int
    seconds: float
    model: CharRNN

    def mean_loss(self, start: int, stop: int) -> float:
        """Mean training loss of updates start+1 .. stop (nats per character)."""
        return float(np.mean(self.loss_history[start:stop]))

    def summary(self) -> str:
        """One line: first and last 100 updates' mean loss, validation bits/char, size, time."""
        if self.diverged_at is not None:
            return f"diverged at update {self.diverged_at} ({self.seconds:.1f} s)"
        return (
            f"loss {self.mean_loss(0, 100):.3f} over updates 1-100, "
            f"{self.mean_loss(len(self.loss_history) - 100, len(self.loss_history)):.3f} "
            f"over the last 100; validation {self.val_bits:.3f} bits/char "
            f"({self.num_params:,} parameters, {self.seconds:.0f} s)"
        )


def char_lm_data(
    max_chars: int = 60_000, val_fraction: float = 0.1, batch_size: int = 16, seq_length: int = 32
) -> dict[str, Any]:
    """The pydoc corpus cut into N = batch_size streams read T = seq_length characters at a time.

    Returns a dict with 'vocab' (a character Vocabulary without specials),
    'train_text' and 'val_text' (the last ``val_fraction`` held out), and
    'data', the Solver's dict of windows: 'X_train', 'y_train' (W, T) int
    arrays whose rows 16*b .. 16*b + 15 are window b of each stream, and
    'X_val', 'y_val' likewise.
    """
    train_text, val_text = train_val_split(
        load_pydoc_corpus(max_chars=max_chars), val_fraction=val_fraction
    )
    vocab = Vocabulary.from_sequences([train_text], specials=False)
    X_train, y_train = stream_windows(vocab.encode(train_text), batch_size, seq_length)
    X_val, y_val = stream_windows(vocab.encode(val_text), batch_size, seq_length)
    return {
        "vocab": vocab,
        "train_text": train_text,
        "val_text": val_text,
        "batch_size": batch_size,
        "data": {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val},
    }


class _GradientNormRecorder:
    """``model``, noting the global norm of the gradients of its latest ``loss(X, y)`` call.

    The Solver also calls ``loss(X, y)`` to measure the validation loss, so
    :meth:`after_update` (an ``on_iteration`` callback) keeps the norm of the
    call that made each update.
    """

    def __init__(self, model: CharRNN) -> None:
        self.model = model
        self.params = model.params  # the same dict: the Solver's updates reach the model
        self.latest = float("nan")
        self.norms: list[float] = []

    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> Any:
        out = self.model.loss(X, y)
        if y is not None:
            with np.errstate(over="ignore", invalid="ignore"):
                self.latest = global_norm(out[1])
        return out

    def after_update(self, solver: Solver, iteration: int, loss: float) -> bool:
        self.norms.append(self.latest)
        return False

    def reset_state(self) -> None:
        self.model.reset_state()


def train_char_run(
    lm: dict[str, Any],
    iterations: int,
    *,
    cell: str = "lstm",
    hidden_dim: int = 64,
    num_layers: int = 1,
    activation: str = "tanh",
    update_rule: str = "adam",
    learning_rate: float = 3e-3,
    grad_clip: float | None = 5.0,
    log_frequency_bias: bool = True,
    recurrent_scale: float = 1.0,
    seed: int = 0,
    verbose: bool = True,
) -> CharRun:
    """Train a CharRNN for ``iterations`` updates on ``lm`` (from :func:`char_lm_data`).

    The model is ``CharRNN(V, hidden_dim, num_layers, cell, seed=seed,
    activation=activation)``, its output biases set to the log character
    frequencies when ``log_frequency_bias``, and every recurrent matrix
    ``Wh{l}`` multiplied by ``recurrent_scale``. The Solver runs
    ``update_rule`` at ``learning_rate`` with ``grad_clip`` (None: no
    clipping), measuring the validation loss after every epoch (a pass over
    the windows) and at the end. A loss that becomes NaN or inf ends the run
    (``diverged_at``) instead of raising. ``verbose`` shows the progress bar.
    """
    iterations = require_positive_int("train_char_run", "iterations", iterations)
    vocab = lm["vocab"]
    model = CharRNN(
        len(vocab),
        hidden_dim=hidden_dim,
        num_layers=num_layers,
        cell=cell,
        seed=seed,
        activation=activation,
    )
    if log_frequency_bias:
        model.init_bias_from(vocab.log_frequencies())
    for layer in range(1, num_layers + 1):
        model.params[f"Wh{layer}"] = model.params[f"Wh{layer}"] * np.float32(recurrent_scale)
    recorder = _GradientNormRecorder(model)
    solver = Solver(
        recorder,
        lm["data"],
        update_rule=update_rule,
        optim_config={"learning_rate": learning_rate},
        batch_size=lm["batch_size"],
        shuffle=False,  # each batch continues the streams of the one before
        metric="loss",
        num_epochs=None,  # until on_iteration says stop
        num_train_samples=10 * lm["batch_size"],
        grad_clip=grad_clip,
        on_iteration=[
            recorder.after_update,
            lambda solver, iteration, loss: iteration >= iterations,
        ],
        verbose=verbose,
        seed=seed,
    )
    start, diverged_at = time.perf_counter(), None
    try:
        with np.errstate(over="ignore", invalid="ignore"):  # a divergence is reported below
            solver.train()
    except FloatingPointError:  # the loss became NaN or inf: the run ends there
        diverged_at = solver.iteration
        solver.load_best_params()
    val_bits = solver.best_val_metric / _LN2 if solver.best_params else float("nan")
    return CharRun(
        loss_history=np.array(solver.loss_history),
        grad_norms=np.array(recorder.norms),
        val_bits=float(val_bits),
        val_bits_history=np.array(solver.val_metric_history) / _LN2,
        diverged_at=diverged_at,
        num_params=sum(p.size for p in model.params.values()),
        seconds=time.perf_counter() - start,
        model=model,
    )


def plot_loss_curves(
    runs: dict[str, CharRun], window: int = 50, updates: int | None = None, ax: Any = None
) -> Any:
    """Training loss (nats/char) against update, smoothed over ``window`` updates, per run.

    ``updates`` limits the plot to the first updates (None: all of them).
    """
    import matplotlib.pyplot as plt  # only when plotting

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    for label, run in runs.items():
        curve = moving_average(run.loss_history[:updates], window)
        ax.plot(np.arange(curve.size) + window, curve, label=label)
    ax.set_xlabel("update")
    ax.set_ylabel(f"training loss, nats/char (mean of {window} updates)")
    ax.legend()
    return ax


def plot_norms_and_losses(runs: dict[str, CharRun], max_norm: float | None = None) -> Any:
    """Gradient norm (before clipping) and loss of every update, log-log, one panel each.

    A run that diverged gets a dashed line at the update whose loss was not
    finite; ``max_norm`` draws the clipping threshold. Returns the two axes.
    """
    import matplotlib.pyplot as plt  # only when plotting

    _, (ax_norm, ax_loss) = plt.subplots(1, 2, figsize=(11, 3.8))
    for k, (label, run) in enumerate(runs.items()):
        style = {"marker": "o" if k == 0 else ".", "markersize": 9 if k == 0 else 4}
        updates = np.arange(1, run.loss_history.size + 1)
        ax_norm.loglog(updates, run.grad_norms, **style)
        (line,) = ax_loss.loglog(updates, run.loss_history, label=label, **style)
        if run.diverged_at is not None:
            ax_loss.axvline(
                run.diverged_at,
                color=line.get_color(),
                linestyle="--",
                label=f"{label}: loss not finite at update {run.diverged_at}",
            )
    if max_norm is not None:
        ax_norm.axhline(max_norm, color="gray", linestyle=":")
    ax_norm.set(xlabel="update", ylabel="gradient norm before clipping")
    ax_loss.set(xlabel="update", ylabel="training loss, nats/char")
    ax_loss.legend(loc="center right")
    return ax_norm, ax_loss


def moving_average(values: np.ndarray, window: int = 25) -> np.ndarray:
    """Means of ``window`` consecutive values: (len(values) - window + 1,), for smooth curves."""
    window = require_positive_int("moving_average", "window", window)
    values = np.asarray(values, dtype=np.float64)
    if values.size < window:
        return values.copy()
    cumulative = np.cumsum(np.concatenate([[0.0], values]))
    return (cumulative[window:] - cumulative[:-window]) / window
