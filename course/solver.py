"""Solver: the training loop, "sample a batch, forward, backprop, update", for any model.

A model is anything with

- ``model.params``: dict name -> ndarray, the learnable parameters;
- ``model.loss(X, y=None)``: class scores of shape (N, C) when ``y`` is None,
  else ``(loss, grads)`` with ``grads`` keyed like ``params``.

Usage::

    solver = Solver(model, data, update_rule="adam",
                    optim_config={"learning_rate": 1e-3},
                    lr_decay=0.95, batch_size=100, num_epochs=10)
    summary = solver.train()            # model.params now holds the best parameters
    plt.plot(solver.loss_history)

The Solver replaces entries of ``model.params`` with new arrays at every step;
it never writes into an array in place, so an array you took out of
``model.params`` before training keeps its values.
"""

from __future__ import annotations

import copy
import difflib
import inspect
import json
import math
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from tqdm.auto import tqdm

from course.optim import UpdateRule, clip_grads_by_global_norm, fill_config, get_update_rule
from course.validation import (
    format_shape,
    is_positive_finite,
    is_real_number,
    require_positive_int,
)

__all__ = ["Model", "Solver"]

_DATA_KEYS = ("X_train", "y_train", "X_val", "y_val")


class Model(Protocol):
    """What the Solver needs from a model (any class with these two members works)."""

    params: dict[str, np.ndarray]

    def loss(self, X: np.ndarray, y: np.ndarray | None = None) -> Any:
        """Scores (N, C) when y is None, else (loss, grads) with grads keyed like params."""
        ...


def _callbacks(name: str, value: object) -> list[Callable]:
    """Accept one callable or an iterable of callables; return them as a new list."""
    if callable(value):
        return [value]
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes, Mapping)):
        found = list(value)
        wrong = [f for f in found if not callable(f)]
        if not wrong:
            return found
    raise TypeError(f"Solver: {name} must be a callable or a list of callables, got {value!r}")


def _unknown_options_message(unknown: Mapping[str, Any]) -> str:
    """Explain unknown Solver keyword arguments, with a suggestion for each where one fits."""
    known = [
        name
        for name, p in inspect.signature(Solver.__init__).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    hyperparameters = {"learning_rate", "momentum", "decay_rate", "epsilon", "beta1", "beta2"}
    hints = []
    for key in unknown:
        close = difflib.get_close_matches(key, known, n=1)
        if key in hyperparameters:
            hints.append(f"{key!r} goes inside optim_config={{{key!r}: ...}}")
        elif close:
            hints.append(f"{key!r} -> did you mean {close[0]!r}?")
    hint = f" ({'; '.join(hints)})" if hints else ""
    return (
        f"Solver: unknown keyword argument(s) {', '.join(repr(k) for k in unknown)}{hint}. "
        f"Valid options are {', '.join(known)}"
    )


def _optional_positive_int(name: str, value: object) -> int | None:
    return None if value is None else require_positive_int("Solver", name, value)


class Solver:
    """Train a model with minibatch gradient descent and keep the best parameters.

    Inputs:
    - model: an object with ``params`` (dict name -> ndarray) and
      ``loss(X, y=None)`` (see ``Model``).
    - data: dict with
      - 'X_train': array (N_train, ...) of training inputs,
      - 'y_train': int array (N_train,) of training labels in [0, C),
      - 'X_val': array (N_val, ...) and 'y_val': int array (N_val,) for validation.
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
    - num_epochs: epochs that ``train()`` runs. Default 10.
    - num_train_samples: training examples (a random subset, fresh each epoch)
      used to measure training accuracy after each epoch; None = all. Default 1000.
    - num_val_samples: the same for validation accuracy; None = all (default).
    - grad_clip: None (default) or a positive number: before each update, scale
      the gradients so that their global L2 norm is at most this
      (``course.optim.clip_grads_by_global_norm``; 5 works for RNNs).
    - checkpoint_dir: None (default) or a folder. After each epoch the Solver
      writes ``epoch_{e:03d}.npz`` (the parameters) and ``epoch_{e:03d}.json``
      (epoch, iteration, histories, best validation accuracy and the scalar
      settings) there; the folder is created if needed. The Solver never
      overwrites a file: a folder that already holds epoch checkpoints is
      refused when the Solver is built. Read one back with
      ``Solver.load_checkpoint(path)``.
    - print_every: iterations between updates of the loss shown on the
      progress bar. Default 10.
    - verbose: True (default) shows a tqdm progress bar (a widget in Jupyter)
      and one line per epoch; False prints nothing.
    - on_iteration: a callable or list of callables, each called as
      ``f(solver, it, loss)`` after every update (``it`` counts from 1 over
      the Solver's life).
    - on_epoch: a callable or list of callables, each called as
      ``f(solver, epoch)`` at the end of every epoch (``epoch`` counts from
      1), after the accuracies, the lr decay and the checkpoint. If any of
      them returns True (any true value), training stops after this epoch:
      early stopping. All of them are called before stopping.
    - seed: int, default 0. Minibatch order and accuracy subsets come from
      ``np.random.default_rng(seed)`` (two independent streams spawned from it,
      so that changing num_train_samples does not change the minibatches).
      Two Solvers with the same seed and the same model initialisation
      produce identical histories.

    Attributes after ``train()``:
    - loss_history: list of the minibatch losses, one per iteration.
    - train_acc_history, val_acc_history: lists of accuracies, one per epoch.
    - best_val_acc, best_epoch, best_params: the best validation accuracy,
      the epoch (from 1) it was reached, and copies of the parameters then.
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
        num_epochs: int = 10,
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
            raise TypeError(_unknown_options_message(unknown))

        self._check_model(model)
        self.model = model
        self.X_train, self.y_train, self.X_val, self.y_val = self._check_data(data)

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

        if not is_positive_finite(lr_decay):
            raise ValueError(
                f"Solver: lr_decay must be a positive number (e.g. 0.95), got {lr_decay!r}"
            )
        if lr_decay != 1 and any("learning_rate" not in c for c in self.optim_configs.values()):
            raise ValueError(
                f"Solver: lr_decay={lr_decay} needs a 'learning_rate' in optim_config to decay"
            )
        self.lr_decay = float(lr_decay)
        self.batch_size = require_positive_int("Solver", "batch_size", batch_size)
        self.num_epochs = require_positive_int("Solver", "num_epochs", num_epochs)
        self.num_train_samples = _optional_positive_int("num_train_samples", num_train_samples)
        self.num_val_samples = _optional_positive_int("num_val_samples", num_val_samples)
        if grad_clip is not None and not is_positive_finite(grad_clip):
            raise ValueError(
                f"Solver: grad_clip must be None or a positive number (5 is a good start), "
                f"got {grad_clip!r}"
            )
        self.grad_clip = None if grad_clip is None else float(grad_clip)
        self.checkpoint_dir = None if checkpoint_dir is None else Path(checkpoint_dir)
        self._check_checkpoint_dir()
        self.print_every = require_positive_int("Solver", "print_every", print_every)
        if not isinstance(verbose, (bool, np.bool_)):
            raise TypeError(f"Solver: verbose must be True or False, got {verbose!r}")
        self.verbose = bool(verbose)
        self.on_iteration = _callbacks("on_iteration", on_iteration)
        self.on_epoch = _callbacks("on_epoch", on_epoch)
        self.seed = require_positive_int("Solver", "seed", seed, allow_zero=True)
        self._batch_rng, self._eval_rng = np.random.default_rng(self.seed).spawn(2)

        self.epoch = 0
        self.iteration = 0
        self.loss_history: list[float] = []
        self.train_acc_history: list[float] = []
        self.val_acc_history: list[float] = []
        self.best_val_acc = 0.0
        self.best_epoch = 0
        self.best_params: dict[str, np.ndarray] = {}
        self._postfix: dict[str, str] = {}  # what the progress bar shows beside the count

    # ------------------------------------------------------------------ checks

    @staticmethod
    def _check_model(model: object) -> None:
        params = getattr(model, "params", None)
        if not isinstance(params, dict) or not params:
            raise TypeError(
                "Solver: model must have a non-empty dict `params` (name -> ndarray), "
                f"got {type(params).__name__ if params is not None else 'no params attribute'}"
            )
        if not callable(getattr(model, "loss", None)):
            raise TypeError("Solver: model must have a method loss(X, y=None)")
        bad = [name for name, p in params.items() if not isinstance(p, np.ndarray)]
        if bad:
            raise TypeError(f"Solver: model.params entries {bad} are not numpy arrays")

    @staticmethod
    def _check_data(data: object) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if not isinstance(data, Mapping):
            raise TypeError(
                f"Solver: data must be a dict with keys {', '.join(_DATA_KEYS)}, "
                f"got {type(data).__name__}"
            )
        missing = [key for key in _DATA_KEYS if key not in data]
        if missing:
            raise KeyError(
                f"Solver: data is missing {', '.join(repr(k) for k in missing)}; it needs "
                f"{', '.join(_DATA_KEYS)} (it has {', '.join(repr(k) for k in data) or 'none'})"
            )
        arrays = [np.asarray(data[key]) for key in _DATA_KEYS]
        for split, X, y in (("train", arrays[0], arrays[1]), ("val", arrays[2], arrays[3])):
            if X.ndim == 0 or y.ndim != 1:
                raise ValueError(
                    f"Solver: X_{split} must be an array (N, ...) and y_{split} a vector (N,); "
                    f"got shapes {format_shape(X.shape)} and {format_shape(y.shape)}"
                )
            if len(X) != len(y):
                raise ValueError(
                    f"Solver: X_{split} has {len(X)} examples but y_{split} has {len(y)} labels; "
                    f"they must agree (shapes {format_shape(X.shape)} and {format_shape(y.shape)})"
                )
            if not np.issubdtype(y.dtype, np.integer):
                raise TypeError(
                    f"Solver: y_{split} has dtype {y.dtype}; expected integer class labels. "
                    f"Convert it with y_{split}.astype(np.int64)"
                )
            if len(X) == 0:
                raise ValueError(f"Solver: X_{split} is empty; it needs at least one example")
        return arrays[0], arrays[1], arrays[2], arrays[3]

    def _check_checkpoint_dir(self) -> None:
        folder = self.checkpoint_dir
        if folder is None or not folder.exists():
            return
        if not folder.is_dir():
            raise NotADirectoryError(f"Solver: checkpoint_dir {folder} exists and is not a folder")
        existing = sorted(p.name for p in folder.glob("epoch_*") if p.suffix in (".npz", ".json"))
        if existing:
            shown = ", ".join(existing[:3]) + (", ..." if len(existing) > 3 else "")
            raise FileExistsError(
                f"Solver: checkpoint_dir {folder} already holds checkpoints ({shown}). "
                f"The Solver never overwrites files: pass a new folder, or move those away"
            )

    # ---------------------------------------------------------------- training

    def train(self) -> dict[str, Any]:
        """Run ``num_epochs`` epochs (more if called again), then load the best parameters.

        Each epoch draws a fresh permutation of the training set and walks it in
        max(N_train // batch_size, 1) minibatches (the last N_train % batch_size
        examples of the permutation sit this epoch out). After each epoch the
        train and validation accuracies are measured, the best parameters kept,
        and the learning rate decayed. At the end, ``model.params`` gets copies of
        the parameters of the epoch with the best validation accuracy.

        Returns:
        - summary: dict with 'best_val_acc', 'best_epoch', 'epochs' (run so
          far), 'iterations', 'final_loss', 'stopped_early', and copies of
          'loss_history', 'train_acc_history', 'val_acc_history'.

        Calling ``train()`` again runs ``num_epochs`` more epochs, starting from
        the best parameters; histories and counters continue.

        Raises FloatingPointError, naming the iteration and the learning rate,
        when the loss becomes NaN or inf; the parameters are left as they were
        before that iteration's update.
        """
        num_train = len(self.y_train)
        iterations_per_epoch = max(num_train // self.batch_size, 1)
        stopped_early = False
        bar = tqdm(
            total=self.num_epochs * iterations_per_epoch,
            desc="training",
            unit="it",
            disable=not self.verbose,
        )
        try:
            for _ in range(self.num_epochs):
                self.epoch += 1
                order = self._batch_rng.permutation(num_train)
                for i in range(iterations_per_epoch):
                    batch = order[i * self.batch_size : (i + 1) * self.batch_size]
                    loss = self._step(batch)
                    if self.iteration % self.print_every == 0:
                        self._postfix["loss"] = f"{loss:.4f}"
                        bar.set_postfix(self._postfix, refresh=False)
                    bar.update(1)
                if self._end_epoch(bar):
                    stopped_early = True
                    break
        finally:
            bar.close()

        for name, value in self.best_params.items():
            self.model.params[name] = value.copy()
        return {
            "best_val_acc": self.best_val_acc,
            "best_epoch": self.best_epoch,
            "epochs": self.epoch,
            "iterations": self.iteration,
            "final_loss": self.loss_history[-1] if self.loss_history else None,
            "stopped_early": stopped_early,
            "loss_history": list(self.loss_history),
            "train_acc_history": list(self.train_acc_history),
            "val_acc_history": list(self.val_acc_history),
        }

    def _learning_rate(self) -> float | None:
        """The current learning rate (the same for every parameter), if the rule has one."""
        config = next(iter(self.optim_configs.values()))
        lr = config.get("learning_rate")
        return float(lr) if is_real_number(lr) else None

    def _step(self, batch: np.ndarray) -> float:
        """One iteration: loss and gradients on a minibatch, then one update per parameter."""
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
        for callback in self.on_iteration:
            callback(self, self.iteration, loss)
        return loss

    def _end_epoch(self, bar: tqdm) -> bool:
        """Measure accuracies, keep the best, decay lr, checkpoint, call on_epoch; True = stop."""
        train_acc = self.check_accuracy(
            self.X_train, self.y_train, num_samples=self.num_train_samples
        )
        val_acc = self.check_accuracy(self.X_val, self.y_val, num_samples=self.num_val_samples)
        self.train_acc_history.append(train_acc)
        self.val_acc_history.append(val_acc)
        if not self.best_params or val_acc > self.best_val_acc:
            self.best_val_acc = val_acc
            self.best_epoch = self.epoch
            self.best_params = {name: p.copy() for name, p in self.model.params.items()}

        if self.lr_decay != 1.0:
            self.optim_configs = {
                name: {**config, "learning_rate": config["learning_rate"] * self.lr_decay}
                for name, config in self.optim_configs.items()
            }
        if self.checkpoint_dir is not None:
            self._save_checkpoint()

        if self.verbose:
            loss = self.loss_history[-1]
            # A dict keeps this order (keyword arguments get sorted); iterations update its loss.
            self._postfix = {
                "loss": f"{loss:.4f}",
                "train_acc": f"{train_acc:.3f}",
                "val_acc": f"{val_acc:.3f}",
                "best": f"{self.best_val_acc:.3f}",
            }
            bar.set_postfix(self._postfix)
            bar.write(
                f"epoch {self.epoch}: loss {loss:.4f}, train acc {train_acc:.3f}, "
                f"val acc {val_acc:.3f} (best {self.best_val_acc:.3f} at epoch {self.best_epoch})"
            )

        stop = False
        for callback in self.on_epoch:
            if callback(self, self.epoch):
                stop = True
        return stop

    # -------------------------------------------------------------- evaluation

    def predict(self, X: np.ndarray, batch_size: int = 100) -> np.ndarray:
        """Predicted class of every example: argmax of ``model.loss(X)``, in batches.

        Inputs:
        - X: array (N, ...) of inputs.
        - batch_size: examples per forward pass (bounds the memory used).

        Returns:
        - y_pred: int array (N,) of predicted classes.
        """
        batch_size = require_positive_int("Solver.predict", "batch_size", batch_size)
        X = np.asarray(X)
        num = len(X)
        predictions = []
        for start in range(0, num, batch_size):
            X_batch = X[start : start + batch_size]
            scores = np.asarray(self.model.loss(X_batch))  # (n, C)
            if scores.ndim != 2 or len(scores) != len(X_batch):
                raise ValueError(
                    f"Solver.predict: model.loss(X) returned shape {format_shape(scores.shape)} "
                    f"for {len(X_batch)} examples; expected scores (N, C)"
                )
            predictions.append(np.argmax(scores, axis=1))
        if not predictions:
            return np.empty(0, dtype=np.intp)
        return np.concatenate(predictions)

    def check_accuracy(
        self,
        X: np.ndarray,
        y: np.ndarray,
        num_samples: int | None = None,
        batch_size: int = 100,
    ) -> float:
        """Fraction of examples the model classifies correctly.

        Inputs:
        - X: array (N, ...) of inputs; y: int array (N,) of labels.
        - num_samples: if given and smaller than N, measure on a random subset of
          this many examples (drawn from the Solver's seeded generator).
        - batch_size: examples per forward pass.

        Returns:
        - accuracy: float in [0, 1].
        """
        X, y = np.asarray(X), np.asarray(y)
        if len(X) != len(y):
            raise ValueError(
                f"Solver.check_accuracy: X has {len(X)} examples but y has {len(y)} labels"
            )
        if num_samples is not None and len(y) > num_samples:
            subset = self._eval_rng.choice(len(y), size=num_samples, replace=False)
            X, y = X[subset], y[subset]
        if len(y) == 0:
            raise ValueError("Solver.check_accuracy: no examples to measure accuracy on")
        return float(np.mean(self.predict(X, batch_size=batch_size) == y))

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
            "loss_history": self.loss_history,
            "train_acc_history": self.train_acc_history,
            "val_acc_history": self.val_acc_history,
            "best_val_acc": self.best_val_acc,
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
                "num_train_samples": self.num_train_samples,
                "num_val_samples": self.num_val_samples,
                "grad_clip": self.grad_clip,
                "seed": self.seed,
            },
        }
        for path in (stem.with_suffix(".npz"), stem.with_suffix(".json")):
            if path.exists():
                raise FileExistsError(
                    f"Solver: checkpoint {path} already exists; the Solver never overwrites "
                    f"files. Pass a new checkpoint_dir"
                )
        with open(stem.with_suffix(".npz"), "xb") as f:
            np.savez(f, **self.model.params)
        with open(stem.with_suffix(".json"), "x", encoding="utf-8") as f:
            json.dump(state, f, indent=2)

    @staticmethod
    def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
        """Read a checkpoint written by a Solver with ``checkpoint_dir``.

        Inputs:
        - path: ``.../epoch_003.npz``, ``.../epoch_003.json`` or ``.../epoch_003``.

        Returns:
        - dict with 'params' (dict name -> ndarray), 'epoch', 'iteration',
          'loss_history', 'train_acc_history', 'val_acc_history',
          'best_val_acc', 'best_epoch' and 'config' (the scalar settings).
          To continue from it: ``model.params.update(ckpt['params'])``.
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
        with open(json_path, encoding="utf-8") as f:
            state = json.load(f)
        with np.load(npz_path, allow_pickle=False) as arrays:
            params = {name: arrays[name] for name in arrays.files}
        return {"params": params, **state}
