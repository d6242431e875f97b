"""Solver: the training loop, "sample a batch, forward, backprop, update", for any model.

A model is anything with

- ``model.params``: dict name -> ndarray, the learnable parameters;
- ``model.loss(X, y=None)``: scores when ``y`` is None (class scores (N, C),
  or (N, T, V) for a sequence model), else ``(loss, grads)`` with ``grads``
  keyed like ``params``;

and, optionally, state the Solver knows how to keep:

- ``model.bn_params``: the batchnorm state dicts (running averages). They go
  with the parameters: when training ends, the model gets back the running
  averages of the epoch whose parameters it gets back.
- ``model.reset_state()``: a model that carries a hidden state from one
  minibatch to the next (truncated backpropagation through time: the batches
  continue the same text streams; train it with ``shuffle=False``) defines it.
  The Solver calls it at the start of every epoch and of every evaluation, so
  each pass reads its streams from the start.

Usage::

    solver = Solver(model, data, update_rule="adam",
                    optim_config={"learning_rate": 1e-3},
                    lr_decay=0.95, batch_size=100, num_epochs=10)
    summary = solver.train()            # model.params now holds the best parameters
    plt.plot(solver.loss_history)

The Solver replaces entries of ``model.params`` with new arrays at every step;
it never writes into an array in place, so an array you took out of
``model.params`` before training keeps its values. The input validation lives
in ``course._solver_validation``.

This module passes 400 lines because it is one class with one job: its
options and their documentation, the loop, the evaluation and checkpoints.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from tqdm.auto import tqdm

from course import allocator
from course._solver_validation import (
    optional_positive_int,
    require_bool,
    unknown_options_message,
    validate_callbacks,
    validate_checkpoint_dir,
    validate_data,
    validate_labels_fit_scores,
    validate_metric,
    validate_model,
    validate_schedule,
    validate_split,
)
from course.artefacts import read_arrays, read_record, save_arrays_and_record
from course.optim import UpdateRule, clip_grads_by_global_norm, fill_config, get_update_rule
from course.validation import format_shape, is_real_number, require_positive_int

__all__ = ["Model", "Solver", "TrainingInterrupted"]

_SHORT = {"accuracy": "acc", "loss": "loss"}  # how the progress lines name the metric
_CHECKPOINT_KEYS = ("epoch", "iteration", "metric", "best_val_metric", "best_epoch", "config")


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (or the notebook's stop button) ended ``Solver.train()``.

    By then the parameters reached were measured on the validation set (unless
    a second Ctrl-C skipped that) and the model holds the best parameters so
    far. ``summary`` is what ``train()`` would have returned, with
    'interrupted': True. It is a KeyboardInterrupt, so a notebook's "Run All"
    stops here as it would for any interrupt.
    """

    def __init__(self, message: str, summary: dict[str, Any]) -> None:
        super().__init__(message)
        self.summary = {**summary, "interrupted": True}


class Model(Protocol):
    """What the Solver needs from a model (any class with these two members works)."""

    params: dict[str, np.ndarray]

    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> Any:
        """Scores when y is None, else (loss, grads) with grads keyed like params."""
        ...


class Solver:
    """Train a model with minibatch gradient descent and keep the best parameters.

    Inputs:
    - model: an object with ``params`` (dict name -> ndarray) and
      ``loss(X, y=None)`` (see ``Model`` and the module docstring).
    - data: dict with
      - 'X_train': array (N_train, ...) of training inputs,
      - 'y_train': int array (N_train,) of training labels in [0, C), or
        (N_train, T) targets of a sequence model,
      - 'X_val' and 'y_val': the same for validation.
      Other keys (e.g. 'X_test') are allowed and ignored. The arrays are read,
      never modified.

    Keyword options:
    - update_rule: 'sgd' (default), 'sgd_momentum', 'rmsprop', 'adam', or your
      own function ``rule(w, dw, config) -> (next_w, next_config)`` (see
      ``course.optim``).
    - optim_config: dict of hyperparameters for the update rule, e.g.
      ``{'learning_rate': 1e-3}``. Every parameter gets its own copy (the
      optimiser state differs per parameter); the copies live in
      ``solver.optim_configs``. Built-in rules check it at once, so a typo
      ('learning_rte') fails here rather than after an epoch. Default: the
      rule's defaults.
    - lr_decay: after each epoch, learning_rate is multiplied by this. Default 1.0.
    - batch_size: examples per minibatch. Default 100.
    - num_epochs: epochs that ``train()`` runs. Default 10. None trains until
      an ``on_iteration`` or ``on_epoch`` callback stops it (a time budget).
    - metric: how the model is measured after each epoch, and so which epoch's
      parameters are kept. 'accuracy' (default): the fraction of labels
      predicted right (the argmax of the scores), higher is better. 'loss': the
      mean of ``model.loss(X, y)[0]`` over the split, lower is better (a
      language model's cross-entropy); refused for models with batchnorm or
      dropout, whose loss runs them in training mode.
    - shuffle: True (default) draws a fresh random order of the training set
      every epoch. False walks it in order, rows [i*B, (i+1)*B) forming batch
      i, and evaluates each split in order in batches of B too: for models
      that carry a state from one batch to the next (see the module docstring).
    - num_train_samples: training examples used to measure the metric after
      each epoch (a random subset, fresh each epoch; with shuffle=False the
      first ones); None = all. Default 1000.
    - num_val_samples: the same for validation; None = all (default).
    - grad_clip: None (default) or a positive number: before each update, scale
      the gradients so that their global L2 norm is at most this
      (``course.optim.clip_grads_by_global_norm``; 5 works for RNNs).
    - checkpoint_dir: None (default) or a folder. After each epoch the Solver
      writes ``epoch_{e:03d}.npz`` (the parameters) and ``epoch_{e:03d}.json``
      (epoch, iteration, histories, best validation metric and the scalar
      settings) there; the folder is created if needed. Each file is written
      atomically (a crash never leaves half a checkpoint) and never over an
      existing file: a folder that already holds epoch checkpoints is
      refused when the Solver is built. Read one back with
      ``Solver.load_checkpoint(path)``, which refuses a damaged or
      mismatched pair with one message.
    - print_every: iterations between updates of the loss shown on the
      progress bar. Default 10.
    - verbose: True (default) shows a tqdm progress bar (a widget in Jupyter)
      and one line per epoch; False prints nothing.
    - on_iteration: a callable or list of callables, each called as
      ``f(solver, it, loss)`` after every update (``it`` counts from 1 over
      the Solver's life). If any of them returns a true value, the epoch ends
      there (the metrics are measured, the best parameters kept) and training
      stops: a time or iteration budget.
    - on_epoch: a callable or list of callables, each called as
      ``f(solver, epoch)`` at the end of every epoch (``epoch`` counts from
      1), after the metrics, the lr decay and the checkpoint. If any of
      them returns True (any true value), training stops after this epoch:
      early stopping. All of them are called before stopping. A callback may
      also give the next epoch new training data (``set_training_data``).
    - seed: int, default 0. Minibatch order and metric subsets come from
      ``np.random.default_rng(seed)`` (two independent streams spawned from it,
      so that changing num_train_samples does not change the minibatches).
      Two Solvers with the same seed and the same model initialisation
      produce identical histories.

    Attributes after ``train()``:
    - loss_history: list of the minibatch losses, one per iteration.
    - train_metric_history, val_metric_history: lists of the metric, one per
      epoch; with metric='accuracy' also under their CS231n names
      ``train_acc_history`` and ``val_acc_history``.
    - best_val_metric (``best_val_acc``), best_epoch, best_params,
      best_bn_params: the best validation metric, the epoch (from 1) it was
      reached, and copies of the parameters and batchnorm state then.
    - epoch, iteration: the number of epochs and iterations run so far.
    - optim_configs: dict name -> the current config of that parameter's rule.
    """

    def __init__(
        self,
        model: Model,
        data: Mapping[str, np.ndarray],
        *,
        update_rule: str | UpdateRule = "sgd",
        optim_config: Mapping[str, Any] | None = None,
        lr_decay: float = 1.0,
        batch_size: int = 100,
        num_epochs: int | None = 10,
        metric: str = "accuracy",
        shuffle: bool = True,
        num_train_samples: int | None = 1000,
        num_val_samples: int | None = None,
        grad_clip: float | None = None,
        checkpoint_dir: str | os.PathLike | None = None,
        print_every: int = 10,
        verbose: bool = True,
        on_iteration: Callable | Iterable[Callable] = (),
        on_epoch: Callable | Iterable[Callable] = (),
        seed: int = 0,
        **unknown: Any,
    ) -> None:
        if unknown:
            raise TypeError(unknown_options_message(Solver.__init__, unknown))
        self.metric = validate_metric(metric)
        validate_model(model, self.metric)
        self.model = model
        self.X_train, self.y_train, self.X_val, self.y_val = validate_data(data)

        self.update_rule = get_update_rule(update_rule)
        if optim_config is not None and not isinstance(optim_config, Mapping):
            raise TypeError(
                f"Solver: optim_config must be a dict such as {{'learning_rate': 1e-3}}, "
                f"got {type(optim_config).__name__}"
            )
        base_config = fill_config(self.update_rule, copy.deepcopy(optim_config))
        self.optim_configs: dict[str, dict[str, Any]] = {
            name: copy.deepcopy(base_config) for name in model.params
        }
        self.lr_decay, self.grad_clip = validate_schedule(lr_decay, self.optim_configs, grad_clip)
        self.batch_size = require_positive_int("Solver", "batch_size", batch_size)
        self.num_epochs = optional_positive_int("num_epochs", num_epochs)
        self.shuffle = require_bool("shuffle", shuffle)
        self.num_train_samples = optional_positive_int("num_train_samples", num_train_samples)
        self.num_val_samples = optional_positive_int("num_val_samples", num_val_samples)
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        validate_checkpoint_dir(self.checkpoint_dir)
        self.print_every = require_positive_int("Solver", "print_every", print_every)
        self.verbose = require_bool("verbose", verbose)
        self.on_iteration = validate_callbacks("on_iteration", on_iteration)
        self.on_epoch = validate_callbacks("on_epoch", on_epoch)
        if self.num_epochs is None and not (self.on_iteration or self.on_epoch):
            raise ValueError(
                "Solver: num_epochs=None trains until a callback stops it; pass on_iteration "
                "or on_epoch callbacks that return True when training should end"
            )
        self.seed = require_positive_int("Solver", "seed", seed, allow_zero=True)
        self._batch_rng, self._eval_rng = np.random.default_rng(self.seed).spawn(2)

        self.epoch = 0
        self.iteration = 0
        self.loss_history: list[float] = []
        self.train_metric_history: list[float] = []
        self.val_metric_history: list[float] = []
        self.best_val_metric = 0.0 if self.metric == "accuracy" else math.inf
        self.best_epoch = 0
        self.best_params: dict[str, np.ndarray] = {}
        self.best_bn_params: Any = None
        self._postfix: dict[str, str] = {}  # what the progress bar shows beside the count

    # The CS231n names of the accuracy histories.

    @property
    def train_acc_history(self) -> list[float]:
        """``train_metric_history`` of a Solver measuring accuracy."""
        return self._accuracy_attribute("train_metric_history")

    @property
    def val_acc_history(self) -> list[float]:
        """``val_metric_history`` of a Solver measuring accuracy."""
        return self._accuracy_attribute("val_metric_history")

    @property
    def best_val_acc(self) -> float:
        """``best_val_metric`` of a Solver measuring accuracy."""
        return self._accuracy_attribute("best_val_metric")

    def _accuracy_attribute(self, name: str) -> Any:
        if self.metric != "accuracy":
            raise AttributeError(
                f"this Solver measures metric={self.metric!r}, not accuracy; read {name}"
            )
        return getattr(self, name)

    # ---------------------------------------------------------------- training

    def train(self) -> dict[str, Any]:
        """Run ``num_epochs`` epochs (more if called again), then load the best parameters.

        Each epoch walks the training set in max(N_train // batch_size, 1)
        minibatches, in a fresh random order (or in order, with shuffle=False;
        the last N_train % batch_size examples sit the epoch out). After each
        epoch the train and validation metrics are measured, the best
        parameters kept, and the learning rate decayed. At the end,
        ``model.params`` (and ``model.bn_params``) get copies of those of the
        epoch with the best validation metric.

        Returns:
        - summary: dict with 'metric', 'best_val_metric', 'best_epoch', 'epochs'
          (run so far), 'iterations', 'final_loss', 'stopped_early', and copies
          of 'loss_history', 'train_metric_history', 'val_metric_history';
          with metric='accuracy' also 'best_val_acc', 'train_acc_history' and
          'val_acc_history'.

        Calling ``train()`` again runs ``num_epochs`` more epochs, starting from
        the best parameters; histories and counters continue.

        Ctrl-C (or a notebook's stop button) during an epoch ends it there:
        the parameters reached are measured like an epoch's, the best so far
        are loaded into the model, and :class:`TrainingInterrupted` (a
        KeyboardInterrupt carrying the summary) is raised. An epoch whose
        validation metric is NaN or inf is never the best.

        Raises FloatingPointError, naming the iteration and the learning rate,
        when the loss becomes NaN or inf; the parameters are left as they were
        before that iteration's update (``load_best_params()`` goes back to the
        best epoch). With metric='accuracy', a label the
        model has no class for raises ValueError before the first step (one
        forward pass of one validation example counts the classes).
        """
        if self.metric == "accuracy":
            self._reset_model_state()
            validate_labels_fit_scores(self.model.loss(self.X_val[:1]), self.y_train, self.y_val)
        allocator.keep_freed_memory_once()  # training reuses large temporaries every step
        first_epoch_iterations = max(len(self.y_train) // self.batch_size, 1)
        total = None if self.num_epochs is None else self.num_epochs * first_epoch_iterations
        bar = tqdm(total=total, desc="training", unit="it", disable=not self.verbose)
        epochs_run, stopped_early, interrupted = 0, False, False
        try:
            while not stopped_early and (self.num_epochs is None or epochs_run < self.num_epochs):
                self.epoch += 1
                epochs_run += 1
                stop = False
                try:
                    stop = self._run_epoch(bar)
                except KeyboardInterrupt:
                    interrupted = True
                    if self.verbose:
                        bar.write(
                            f"interrupted at iteration {self.iteration}: measuring the "
                            "parameters reached so far (Ctrl-C again to skip)"
                        )
                stopped_early = self._end_epoch(bar) or stop or interrupted
        except KeyboardInterrupt:
            interrupted = True  # during a measurement: the best parameters so far stand
        finally:
            bar.close()

        self.load_best_params()
        summary = self._summary(stopped_early or interrupted)
        if interrupted:
            raise TrainingInterrupted(self._interrupted_message(), summary)
        return summary

    def load_best_params(self) -> None:
        """Give the model copies of the best parameters (and batchnorm state) measured so far.

        ``train()`` does this when it ends or is interrupted; after a
        FloatingPointError (the loss diverged) call it to go back to the best
        epoch before the divergence. Does nothing when no epoch was measured.
        """
        for name, value in self.best_params.items():
            self.model.params[name] = value.copy()
        if self.best_bn_params is not None:
            self.model.bn_params = copy.deepcopy(self.best_bn_params)

    def _run_epoch(self, bar: tqdm) -> bool:
        """Walk the training set once, minibatch by minibatch; True when a callback said stop."""
        self._reset_model_state()
        num_train = len(self.y_train)  # set_training_data may have changed it
        iterations_per_epoch = max(num_train // self.batch_size, 1)
        order = self._batch_rng.permutation(num_train) if self.shuffle else None
        for i in range(iterations_per_epoch):
            rows = slice(i * self.batch_size, (i + 1) * self.batch_size)
            loss, stop = self._step(rows if order is None else order[rows])
            if self.iteration % self.print_every == 0:
                self._postfix["loss"] = f"{loss:.4f}"
                bar.set_postfix(self._postfix, refresh=False)
            bar.update(1)
            if stop:
                return True
        return False

    def _interrupted_message(self) -> str:
        """What an interrupted train() says: where it stopped and what the model now holds."""
        where = f"training interrupted at iteration {self.iteration} (epoch {self.epoch})"
        if not self.best_params:
            return f"{where}, before any parameters were measured; the model is as it was left"
        name = "validation accuracy" if self.metric == "accuracy" else "validation loss"
        return (
            f"{where}; model.params hold the best parameters so far: epoch {self.best_epoch}, "
            f"{name} {self.best_val_metric:.4f} (the summary is in error.summary)"
        )

    def _summary(self, stopped_early: bool) -> dict[str, Any]:
        summary = {
            "metric": self.metric,
            "best_val_metric": self.best_val_metric,
            "best_epoch": self.best_epoch,
            "epochs": self.epoch,
            "iterations": self.iteration,
            "final_loss": self.loss_history[-1] if self.loss_history else None,
            "stopped_early": stopped_early,
            "loss_history": list(self.loss_history),
            "train_metric_history": list(self.train_metric_history),
            "val_metric_history": list(self.val_metric_history),
        }
        if self.metric == "accuracy":
            summary["best_val_acc"] = summary["best_val_metric"]
            summary["train_acc_history"] = list(self.train_metric_history)
            summary["val_acc_history"] = list(self.val_metric_history)
        return summary

    def _learning_rate(self) -> float | None:
        """The current learning rate (the same for every parameter), if the rule has one."""
        config = next(iter(self.optim_configs.values()))
        lr = config.get("learning_rate")
        return float(lr) if is_real_number(lr) else None

    def _step(self, batch: np.ndarray | slice) -> tuple[float, bool]:
        """One iteration: loss and gradients on a minibatch, then one update per parameter.

        Returns the loss and whether an on_iteration callback asked to stop.
        """
        X_batch, y_batch = self.X_train[batch], self.y_train[batch]
        loss, grads = self.model.loss(X_batch, y_batch)
        loss = float(loss)
        self.iteration += 1
        if not math.isfinite(loss):
            lr = self._learning_rate()
            hint = f"; try a smaller learning_rate (now {lr:g})" if lr is not None else ""
            raise FloatingPointError(
                f"loss became {loss} at iteration {self.iteration} (epoch {self.epoch}){hint}"
            )
        missing = [name for name in self.model.params if name not in grads]
        if missing:
            raise KeyError(
                f"Solver: model.loss returned no gradient for parameter(s) {missing}; "
                f"grads must be keyed like model.params"
            )
        grads = {name: grads[name] for name in self.model.params}
        if self.grad_clip is not None:
            grads, _ = clip_grads_by_global_norm(grads, self.grad_clip)

        for name, w in list(self.model.params.items()):
            next_w, next_config = self.update_rule(w, grads[name], self.optim_configs[name])
            if not isinstance(next_w, np.ndarray) or next_w.shape != w.shape:
                raise ValueError(
                    f"Solver: the update rule returned {type(next_w).__name__} of shape "
                    f"{getattr(next_w, 'shape', None)} for parameter {name!r} of shape "
                    f"{format_shape(w.shape)}; it must return (next_w, next_config)"
                )
            self.model.params[name] = next_w  # a new entry: no array is written in place
            self.optim_configs[name] = next_config

        self.loss_history.append(loss)
        stop = False
        for callback in self.on_iteration:
            if callback(self, self.iteration, loss):
                stop = True
        return loss, stop

    def _end_epoch(self, bar: tqdm) -> bool:
        """Measure the metrics, keep the best, decay lr, checkpoint, call on_epoch; True = stop."""
        train_value = self.evaluate(self.X_train, self.y_train, self.num_train_samples)
        val_value = self.evaluate(self.X_val, self.y_val, self.num_val_samples)
        self.train_metric_history.append(train_value)
        self.val_metric_history.append(val_value)
        better = val_value > self.best_val_metric
        if self.metric == "loss":
            better = val_value < self.best_val_metric
        if math.isfinite(val_value) and (not self.best_params or better):
            self.best_val_metric = val_value
            self.best_epoch = self.epoch
            self.best_params = {name: p.copy() for name, p in self.model.params.items()}
            bn_params = getattr(self.model, "bn_params", None)
            self.best_bn_params = copy.deepcopy(bn_params) if bn_params else None

        if self.lr_decay != 1.0:
            self.optim_configs = {
                name: {**config, "learning_rate": config["learning_rate"] * self.lr_decay}
                for name, config in self.optim_configs.items()
            }
        if self.checkpoint_dir is not None:
            self._save_checkpoint()

        if self.verbose:
            self._show_epoch(bar, train_value, val_value)

        stop = False
        for callback in self.on_epoch:
            if callback(self, self.epoch):
                stop = True
        return stop

    def _show_epoch(self, bar: tqdm, train_value: float, val_value: float) -> None:
        """The epoch's figures on the progress bar and as one printed line."""
        loss, short = self.loss_history[-1], _SHORT[self.metric]
        # A dict keeps this order (keyword arguments get sorted); iterations update its loss.
        self._postfix = {
            "loss": f"{loss:.4f}",
            f"train_{short}": f"{train_value:.3f}",
            f"val_{short}": f"{val_value:.3f}",
            "best": f"{self.best_val_metric:.3f}",
        }
        bar.set_postfix(self._postfix)
        bar.write(
            f"epoch {self.epoch}: loss {loss:.4f}, train {short} {train_value:.3f}, "
            f"val {short} {val_value:.3f} "
            f"(best {self.best_val_metric:.3f} at epoch {self.best_epoch})"
        )

    def set_training_data(self, X_train: np.ndarray, y_train: np.ndarray) -> None:
        """Train on (X_train, y_train) from the next epoch on, e.g. from an on_epoch callback.

        A text cut into streams can be cut at new places every epoch this way,
        so that a model does not see the same windows again and again. The
        arrays are checked as the Solver's data is; their number of examples
        may differ from the old ones.
        """
        self.X_train, self.y_train = validate_split("train", X_train, y_train)

    # -------------------------------------------------------------- evaluation

    def _reset_model_state(self) -> None:
        reset_state = getattr(self.model, "reset_state", None)
        if callable(reset_state):
            reset_state()

    def _eval_subset(
        self, X: np.ndarray, y: np.ndarray, num_samples: int | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """All of (X, y), or ``num_samples`` of it: a random subset, or the first rows."""
        if num_samples is None or len(y) <= num_samples:
            return X, y
        if not self.shuffle:
            return X[:num_samples], y[:num_samples]
        subset = self._eval_rng.choice(len(y), size=num_samples, replace=False)
        return X[subset], y[subset]

    def _eval_batch_size(self, batch_size: int | None) -> int:
        """Evaluation batches: as asked, else 100 (training batches when shuffle=False)."""
        if batch_size is None:
            return 100 if self.shuffle else self.batch_size
        return require_positive_int("Solver", "batch_size", batch_size)

    def evaluate(self, X: np.ndarray, y: np.ndarray, num_samples: int | None = None) -> float:
        """The Solver's metric on (X, y): ``check_accuracy`` or ``mean_loss``."""
        if self.metric == "loss":
            return self.mean_loss(X, y, num_samples=num_samples)
        return self.check_accuracy(X, y, num_samples=num_samples)

    def predict(self, X: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Predicted class of every example: argmax of ``model.loss(X)``, in batches.

        Inputs:
        - X: array (N, ...) of inputs.
        - batch_size: examples per forward pass (bounds the memory used);
          default 100, or the training batch size with shuffle=False.

        Returns:
        - y_pred: int array (N,) of predicted classes ((N, T) for a sequence model).
        """
        batch_size = self._eval_batch_size(batch_size)
        X = np.asarray(X)
        predictions = []
        self._reset_model_state()
        for start in range(0, len(X), batch_size):
            X_batch = X[start : start + batch_size]
            scores = np.asarray(self.model.loss(X_batch))  # (n, C) or (n, T, V)
            if scores.ndim < 2 or len(scores) != len(X_batch):
                raise ValueError(
                    f"Solver.predict: model.loss(X) returned shape {format_shape(scores.shape)} "
                    f"for {len(X_batch)} examples; expected scores (N, C)"
                )
            predictions.append(np.argmax(scores, axis=-1))
        if not predictions:
            return np.empty(0, dtype=np.intp)
        return np.concatenate(predictions)

    def check_accuracy(
        self,
        X: np.ndarray,
        y: np.ndarray,
        num_samples: int | None = None,
        batch_size: int | None = None,
    ) -> float:
        """Fraction of labels the model predicts right (CS231n's name for it).

        Inputs:
        - X: array (N, ...) of inputs; y: int array (N,) of labels (or (N, T)).
        - num_samples: if given and smaller than N, measure on a random subset of
          this many examples (drawn from the Solver's seeded generator; with
          shuffle=False the first ones).
        - batch_size: examples per forward pass (see ``predict``).

        Returns:
        - accuracy: float in [0, 1].
        """
        X, y = self._split_for_evaluation("check_accuracy", X, y, num_samples)
        return float(np.mean(self.predict(X, batch_size=batch_size) == y))

    def mean_loss(
        self,
        X: np.ndarray,
        y: np.ndarray,
        num_samples: int | None = None,
        batch_size: int | None = None,
    ) -> float:
        """The mean of ``model.loss(X_batch, y_batch)[0]`` over (X, y), weighted by batch size.

        Inputs and subsets as for ``check_accuracy``. The gradients the model
        returns are computed and dropped.
        """
        X, y = self._split_for_evaluation("mean_loss", X, y, num_samples)
        batch_size = self._eval_batch_size(batch_size)
        total = 0.0
        self._reset_model_state()
        for start in range(0, len(X), batch_size):
            rows = slice(start, start + batch_size)
            loss, _ = self.model.loss(X[rows], y[rows])
            total += float(loss) * len(y[rows])
        return total / len(y)

    def _split_for_evaluation(
        self, func: str, X: np.ndarray, y: np.ndarray, num_samples: int | None
    ) -> tuple[np.ndarray, np.ndarray]:
        X, y = np.asarray(X), np.asarray(y)
        if len(X) != len(y):
            raise ValueError(f"Solver.{func}: X has {len(X)} examples but y has {len(y)} labels")
        X, y = self._eval_subset(X, y, num_samples)
        if len(y) == 0:
            raise ValueError(f"Solver.{func}: no examples to measure on")
        return X, y

    # ------------------------------------------------------------- checkpoints

    def _save_checkpoint(self) -> None:
        """Write epoch_{e:03d}.npz (params) and .json (progress); never overwrite a file."""
        assert self.checkpoint_dir is not None
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        stem = self.checkpoint_dir / f"epoch_{self.epoch:03d}"
        first_config = next(iter(self.optim_configs.values()))
        state = {
            "epoch": self.epoch,
            "iteration": self.iteration,
            "metric": self.metric,
            "loss_history": self.loss_history,
            "train_metric_history": self.train_metric_history,
            "val_metric_history": self.val_metric_history,
            "best_val_metric": self.best_val_metric,
            "best_epoch": self.best_epoch,
            "config": {
                "update_rule": getattr(self.update_rule, "__name__", repr(self.update_rule)),
                # Hyperparameters for the next epoch (this epoch's lr decay applied).
                "optim_config": {
                    key: value.item() if isinstance(value, np.generic) else value
                    for key, value in first_config.items()
                    if isinstance(value, (int, float, str, bool, np.number, np.bool_))
                },
                "lr_decay": self.lr_decay,
                "batch_size": self.batch_size,
                "num_epochs": self.num_epochs,
                "shuffle": self.shuffle,
                "num_train_samples": self.num_train_samples,
                "num_val_samples": self.num_val_samples,
                "grad_clip": self.grad_clip,
                "seed": self.seed,
            },
        }
        save_arrays_and_record(
            stem.with_suffix(".npz"), self.model.params, stem.with_suffix(".json"), state
        )

    @staticmethod
    def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
        """Read a checkpoint written by a Solver with ``checkpoint_dir``.

        Inputs:
        - path: ``.../epoch_003.npz``, ``.../epoch_003.json`` or ``.../epoch_003``.

        Returns:
        - dict with 'params' (dict name -> ndarray), 'epoch', 'iteration',
          'metric', 'loss_history', 'train_metric_history',
          'val_metric_history', 'best_val_metric', 'best_epoch' and 'config'
          (the scalar settings). To continue from it:
          ``model.params.update(ckpt['params'])``.
        """
        stem = Path(path)
        if stem.suffix in (".npz", ".json"):
            stem = stem.with_suffix("")
        npz_path, json_path = stem.with_suffix(".npz"), stem.with_suffix(".json")
        missing = [str(p) for p in (npz_path, json_path) if not p.is_file()]
        if missing:
            raise FileNotFoundError(
                f"Solver.load_checkpoint: missing {', '.join(missing)}; a checkpoint is a "
                f"pair epoch_XXX.npz + epoch_XXX.json written by Solver(checkpoint_dir=...)"
            )
        restore = (
            "this checkpoint cannot be used; load an earlier epoch's checkpoint from "
            f"{stem.parent}, or train again"
        )
        state = read_record(json_path, restore, required=_CHECKPOINT_KEYS)
        params = read_arrays(
            npz_path, restore, digest=state.pop("arrays_sha256", None), record_path=json_path
        )
        return {"params": params, **state}
