"""The character-level RNN recipe: train it on English text, save it, load it.

``train_charrnn`` follows the talk: cut the text into N streams, walk them T
characters at a time (truncated backpropagation through time, the hidden
state carried from window to window: ``CharRNN`` keeps it), clip the
gradients, update with Adam or RMSprop, and measure the validation loss in
bits per character against the 3-gram baseline. The loop is the ``Solver``'s
(``shuffle=False``, ``metric='loss'``): it stops at ``max_iterations`` or when
the time budget ``max_minutes`` is spent, keeps the parameters with the best
validation loss, and ``save_charrnn`` writes them to ``out`` as
``weights.npz`` plus ``model.json`` (vocabulary, settings, history, baseline).
``course train charrnn`` and ``course sample charrnn`` (in ``course.cli``)
call these functions.

The matrices are small, so numpy's BLAS threads help little: measured on an
idle 2-core machine, 300 iterations take 16 s with 2 threads and 22 s with 1;
but when other programs share the cores, threads that fight them can make
each iteration many times slower, and ``OMP_NUM_THREADS=1 course train
charrnn`` is then the faster choice.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from course.artefacts import (
    ArtefactError,
    building_from,
    read_arrays,
    read_record,
    require_entries,
    require_new_model_folder,
    save_arrays_and_record,
)
from course.data import (
    Vocabulary,
    char_ngram_bits_per_char,
    load_pydoc_corpus,
    stream_windows,
    train_val_split,
)
from course.models import CharRNN
from course.models._recurrent import log_softmax
from course.models._validation import require_temperature
from course.recipes._outcome import end_training, learning_rate_checked, train_until_stopped
from course.solver import Solver
from course.validation import check_learning_rate, require_positive_int

__all__ = [
    "DEFAULT_MODEL_DIR",
    "evaluate_bits_per_char",
    "load_charrnn",
    "sample_charrnn",
    "save_charrnn",
    "train_charrnn",
]

DEFAULT_MODEL_DIR = Path("output/charrnn")
WEIGHTS_FILE = "weights.npz"
INFO_FILE = "model.json"
_FORMAT = "course.charrnn"
_SPEC_KEYS = ("vocab_size", "hidden_dim", "num_layers", "cell", "embed_dim", "dtype")
_LN2 = math.log(2.0)


def evaluate_bits_per_char(
    model: CharRNN, encoded: np.ndarray, batch_size: int = 32, seq_length: int = 100
) -> float:
    """Bits per character of ``model`` on an encoded text, read as in training.

    The text is cut into ``batch_size`` streams read ``seq_length`` steps at a
    time with the hidden state carried along (``stream_windows``), so every
    predicted character sees its whole stream before it. ``batch_size`` and
    ``seq_length`` are reduced for short texts. The model's carried state is
    reset before and after.
    """
    func = "evaluate_bits_per_char"
    N = require_positive_int(func, "batch_size", batch_size)
    T = require_positive_int(func, "seq_length", seq_length)
    N = max(1, min(N, (encoded.size - 1) // T))
    T = min(T, encoded.size - 1)
    X, y = stream_windows(encoded, N, T)
    total = 0.0
    model.reset_state()
    for start in range(0, len(X), N):
        log_probs = log_softmax(model.loss(X[start : start + N]))  # (N, T, V)
        total -= np.take_along_axis(log_probs, y[start : start + N, :, None], axis=2).sum()
    model.reset_state()
    return float(total / y.size / _LN2)


_TRAIN_WINDOWS_MEASURED = 8  # batches of training windows whose loss is measured each epoch


def train_charrnn(
    text: str | None = None,
    hidden_dim: int = 128,
    num_layers: int = 2,
    cell: str = "lstm",
    seq_length: int = 64,
    batch_size: int = 32,
    update_rule: str = "adam",
    learning_rate: float = 2e-3,
    lr_decay: float = 0.95,
    grad_clip: float | None = 5.0,
    max_minutes: float | None = 9.0,
    max_iterations: int | None = None,
    val_fraction: float = 0.1,
    seed: int = 0,
    out: str | Path | None = None,
    verbose: bool = True,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Train a CharRNN on ``text`` (default: the pydoc corpus); return a summary dict.

    Inputs:
    - text: the training text; None loads ``load_pydoc_corpus()``. The last
      ``val_fraction`` of it is the validation text.
    - hidden_dim, num_layers, cell: the model (see ``CharRNN``), float32
    - seq_length, batch_size: T and N of the stream windows
    - update_rule: 'adam' or 'rmsprop'; learning_rate its step size
    - lr_decay: the learning rate is multiplied by it after every epoch
    - grad_clip: the global gradient norm is clipped to it (None or 0: no clipping)
    - max_minutes: stop after this much training time (None: no limit)
    - max_iterations: stop after this many updates (None: no limit); at
      least one of the two limits must be set
    - seed: seeds the model and where the streams are cut: the same seed and
      iterations give the same model
    - out: folder to save ``weights.npz`` and ``model.json`` to (None: do not save)
    - overwrite: replace a model already saved in ``out``; without it an
      existing model is refused before training starts

    The validation bits per character are measured before training and after
    every epoch (one pass over the training streams) and when a limit stops
    training; the parameters of the best measurement are kept. They are saved
    only when they beat the untrained model (a diverged run saves nothing and
    raises :class:`~course.artefacts.NotSavedError`). Ctrl-C ends training
    early: the best model so far is saved (when it beats the untrained one)
    and :class:`~course.solver.TrainingInterrupted` says where. A loss that
    becomes NaN raises FloatingPointError, after saving the best model
    measured before it, if any beat the untrained one.

    Returns a dict with 'model' (the CharRNN with the best validation
    parameters), 'vocab', 'history' (list of {'epoch', 'iteration', 'seconds',
    'train_bpc', 'val_bpc'}; 'train_bpc' is measured on the first windows of
    the training streams), 'best_val_bpc', 'baseline_bpc' (3-gram),
    'iterations', 'epochs', 'seconds', 'settings' and 'out'.
    """
    func = "train_charrnn"
    if max_minutes is None and max_iterations is None:
        raise ValueError(f"{func}: set max_minutes or max_iterations (or both) so training ends")
    if max_minutes is not None and not (isinstance(max_minutes, (int, float)) and max_minutes > 0):
        raise ValueError(f"{func}: max_minutes must be a number > 0, got {max_minutes!r}")
    if max_iterations is not None:
        max_iterations = require_positive_int(func, "max_iterations", max_iterations)
    if update_rule not in ("adam", "rmsprop"):
        raise ValueError(f"{func}: update_rule must be 'adam' or 'rmsprop', got {update_rule!r}")
    if not 0 < lr_decay <= 1:
        raise ValueError(f"{func}: lr_decay must lie in (0, 1], got {lr_decay!r}")
    check_learning_rate(func, learning_rate)
    if out is not None:
        require_new_model_folder(
            func, Path(out).expanduser(), (WEIGHTS_FILE, INFO_FILE), overwrite
        )
    if text is None:
        text = load_pydoc_corpus()
    if not isinstance(text, str):
        raise TypeError(f"{func}: text must be a str (or None for the pydoc corpus)")
    train_text, val_text = train_val_split(text, val_fraction)
    vocab = Vocabulary.from_sequences([train_text], specials=False)
    train_ids, val_ids = vocab.encode(train_text), vocab.encode(val_text)
    if train_ids.size < batch_size * seq_length + 1:
        raise ValueError(
            f"{func}: the training text has {train_ids.size} characters, fewer than one batch "
            f"of batch_size={batch_size} x seq_length={seq_length}; use a longer text or "
            "smaller --batch-size / --seq-length"
        )
    settings = {
        "hidden_dim": hidden_dim,
        "num_layers": num_layers,
        "cell": cell,
        "seq_length": seq_length,
        "batch_size": batch_size,
        "update_rule": update_rule,
        "learning_rate": learning_rate,
        "lr_decay": lr_decay,
        "grad_clip": grad_clip,
        "max_minutes": max_minutes,
        "max_iterations": max_iterations,
        "val_fraction": val_fraction,
        "seed": seed,
        "dtype": "float32",
    }
    baseline = char_ngram_bits_per_char(train_text, val_text, n=3) if len(val_text) >= 3 else None
    model = CharRNN(
        len(vocab),
        hidden_dim=hidden_dim,
        num_layers=num_layers,
        cell=cell,
        dtype=np.float32,
        seed=seed,
        init_bias_from=vocab.log_frequencies(),
    )
    rng = np.random.default_rng(seed)  # where the streams are cut, epoch by epoch
    data = _stream_data(train_ids, val_ids, batch_size, seq_length, rng)
    windows_per_epoch = len(data["X_train"]) // batch_size
    budget = math.inf if max_minutes is None else 60.0 * max_minutes
    limit = max_iterations or math.inf
    start = time.perf_counter()
    history: list[dict[str, float | None]] = []

    def out_of_budget(solver: Solver, iteration: int, loss: float) -> bool:
        return iteration >= limit or time.perf_counter() - start >= budget

    def record_and_recut(solver: Solver, epoch: int) -> None:
        # The next epoch reads the text cut at a new random offset, so that the
        # model does not see the same windows again and again.
        solver.set_training_data(*stream_windows(train_ids, batch_size, seq_length, rng=rng))
        history.append(
            {
                "epoch": epoch,
                "iteration": solver.iteration,
                "seconds": round(time.perf_counter() - start, 2),
                "train_bpc": solver.train_metric_history[-1] / _LN2,
                "val_bpc": solver.val_metric_history[-1] / _LN2,
            }
        )

    with learning_rate_checked():
        solver = Solver(
            model,
            data,
            update_rule=update_rule,
            optim_config={"learning_rate": learning_rate},
            lr_decay=lr_decay,
            batch_size=batch_size,
            num_epochs=None if max_iterations is None else math.ceil(limit / windows_per_epoch),
            metric="loss",
            shuffle=False,
            num_train_samples=_TRAIN_WINDOWS_MEASURED * batch_size,
            grad_clip=grad_clip or None,
            verbose=verbose,
            on_iteration=out_of_budget,
            on_epoch=record_and_recut,
            seed=seed,
        )
    untrained_bpc = solver.mean_loss(data["X_val"], data["y_val"]) / _LN2
    history.append(
        {"epoch": 0, "iteration": 0, "seconds": 0.0, "train_bpc": None, "val_bpc": untrained_bpc}
    )
    _, stopped = train_until_stopped(solver)
    best_bpc = solver.best_val_metric / _LN2 if solver.best_params else math.nan
    results = {
        "model": model,
        "vocab": vocab,
        "history": history,
        "best_val_bpc": best_bpc,
        "untrained_bpc": untrained_bpc,
        "baseline_bpc": baseline,
        "iterations": solver.iteration,
        "epochs": solver.epoch,
        "seconds": time.perf_counter() - start,
        "settings": settings,
        "out": None,
    }
    learnt = math.isfinite(best_bpc) and best_bpc < untrained_bpc
    if out is not None and learnt:
        results["out"] = save_charrnn(out, model, vocab, results, overwrite=overwrite)
    not_learnt = (
        f"the best validation loss, {best_bpc:.3f} bits/char, is no better than the untrained "
        f"model's {untrained_bpc:.3f}: training diverged or did not learn "
        f"(learning_rate={learning_rate:g}); try a smaller learning rate"
    )
    end_training(func, stopped, out, results["out"], None if learnt else not_learnt)
    return results


def _stream_data(
    train_ids: np.ndarray,
    val_ids: np.ndarray,
    batch_size: int,
    seq_length: int,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """The Solver's data: the training and validation texts as windows of N streams, in order.

    Both texts are cut into N = ``batch_size`` streams, because the Solver
    evaluates in batches of that size; the training text at a random offset
    drawn from ``rng``, the validation text always at 0 (its windows are shorter
    than T when it is short).
    """
    val_steps = min(seq_length, (val_ids.size - 1) // batch_size)
    if val_steps < 1:
        raise ValueError(
            f"train_charrnn: the validation text has {val_ids.size} characters, too few for "
            f"batch_size={batch_size} streams; use a longer text, a larger val_fraction or a "
            "smaller --batch-size"
        )
    X_train, y_train = stream_windows(train_ids, batch_size, seq_length, rng=rng)
    X_val, y_val = stream_windows(val_ids, batch_size, val_steps)
    return {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val}


def save_charrnn(
    out: str | Path,
    model: CharRNN,
    vocab: Vocabulary,
    summary: dict[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write ``weights.npz`` and ``model.json`` into the folder ``out`` (made if missing).

    Each file is written atomically; a model already saved there is replaced
    only with ``overwrite=True``, and parameters holding NaN or inf are refused
    (:class:`~course.artefacts.NotSavedError`).
    """
    folder = Path(out).expanduser()
    require_new_model_folder("save_charrnn", folder, (WEIGHTS_FILE, INFO_FILE), overwrite)
    folder.mkdir(parents=True, exist_ok=True)
    summary = summary or {}
    info = {
        "format": _FORMAT,
        "version": 1,
        "model": {
            "vocab_size": model.vocab_size,
            "hidden_dim": model.hidden_dim,
            "num_layers": model.num_layers,
            "cell": model.cell,
            "embed_dim": model.embed_dim,
            "dtype": str(model.dtype),
            "activation": model.activation,
        },
        "vocab": vocab.to_dict(),
        "settings": summary.get("settings", {}),
        "history": summary.get("history", []),
        "best_val_bpc": summary.get("best_val_bpc"),
        "untrained_bpc": summary.get("untrained_bpc"),
        "baseline_bpc": summary.get("baseline_bpc"),
        "iterations": summary.get("iterations"),
        "seconds": summary.get("seconds"),
    }
    save_arrays_and_record(
        folder / WEIGHTS_FILE, model.params, folder / INFO_FILE, info, overwrite=overwrite
    )
    return folder


def load_charrnn(path: str | Path = DEFAULT_MODEL_DIR) -> tuple[CharRNN, Vocabulary, dict]:
    """Load a model saved by ``train_charrnn(out=path)``; returns (model, vocab, info).

    A missing model raises FileNotFoundError saying how to train one; a
    damaged one (truncated, corrupt, incomplete, NaN or inf, files that do
    not belong together) raises :class:`~course.artefacts.ArtefactError`
    naming the file, what is wrong and the command that retrains it.
    """
    folder = Path(path).expanduser()
    weights, info_file = folder / WEIGHTS_FILE, folder / INFO_FILE
    if not weights.is_file() or not info_file.is_file():
        raise FileNotFoundError(
            f"load_charrnn: no trained model in {folder} (expected {WEIGHTS_FILE} and "
            f"{INFO_FILE}); run `course train charrnn --out {folder}` first"
        )
    restore = f"retrain it with `course train charrnn --out {folder} --overwrite`"
    info = read_record(info_file, restore, required=("format", "model", "vocab"))
    if info.get("format") != _FORMAT:
        raise ArtefactError(f"{info_file}: was not written by train_charrnn; {restore}")
    spec = info["model"]
    if not isinstance(spec, dict):
        raise ArtefactError(f"{info_file}: 'model' is not an object; {restore}")
    require_entries(spec, _SPEC_KEYS, info_file, restore)
    with building_from(info_file, "a character RNN", restore):
        vocab = Vocabulary.from_dict(info["vocab"])
        model = CharRNN(
            spec["vocab_size"],
            hidden_dim=spec["hidden_dim"],
            num_layers=spec["num_layers"],
            cell=spec["cell"],
            dtype=np.dtype(spec["dtype"]),
            embed_dim=spec["embed_dim"],
            activation=spec.get("activation", "tanh"),  # files saved before it existed: tanh
        )
    if len(vocab) != model.vocab_size:
        raise ArtefactError(
            f"{info_file}: its vocabulary has {len(vocab)} characters but its model "
            f"{model.vocab_size}; {restore}"
        )
    arrays = read_arrays(
        weights,
        restore,
        {name: value.shape for name, value in model.params.items()},
        digest=info.get("arrays_sha256"),
        record_path=info_file,
    )
    for name in model.params:
        model.params[name] = arrays[name].astype(model.dtype)
    return model, vocab, info


def sample_charrnn(
    path: str | Path = DEFAULT_MODEL_DIR,
    length: int = 500,
    temperature: float = 0.8,
    prime: str = "The ",
    argmax: bool = False,
    seed: int = 0,
) -> str:
    """Text sampled from the model saved in ``path`` (see ``CharRNN.sample``).

    A bad temperature is refused before the model is loaded.
    """
    temperature = require_temperature("sample_charrnn", temperature)
    model, vocab, _ = load_charrnn(path)
    return model.sample(
        vocab, length=length, temperature=temperature, prime=prime, argmax=argmax, seed=seed
    )
