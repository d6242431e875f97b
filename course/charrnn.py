"""Train a character-level RNN on English text, save it, load it, and sample from it.

``train_charrnn`` is the loop of the talk: cut the text into N streams, walk
them T characters at a time (truncated backpropagation through time, the
hidden state carried from window to window), clip the gradients, update with
Adam or RMSprop, and measure the validation loss in bits per character
against the 3-gram baseline. It stops at ``max_iterations`` or when the time
budget ``max_minutes`` is spent, keeps the parameters with the best validation
loss, and saves them to ``out`` as ``weights.npz`` plus ``model.json``
(vocabulary, settings, history, baseline).

Command line (wired into ``course`` by ``add_train_parser`` / ``add_sample_parser``)::

    course train charrnn [--text FILE] [--minutes M] [--out DIR] ...
    course sample charrnn [--model DIR] [--temperature 0.8] [--length 500]
                          [--prime TEXT] [--argmax]

The matrices are small, so numpy's BLAS threads help little: measured on an
idle 2-core machine, 300 iterations take 16 s with 2 threads and 22 s with 1;
but when other programs share the cores, threads that fight them can make
each iteration many times slower, and ``OMP_NUM_THREADS=1 course train
charrnn`` is then the faster choice.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from course.data.text import (
    Vocabulary,
    char_batches,
    char_ngram_bits_per_char,
    load_pydoc_corpus,
    load_text_file,
    train_val_split,
)
from course.models.rnn_lm import CharRNN, check_temperature
from course.optim import clip_grads_by_global_norm, fill_config, get_update_rule
from course.validation import require_positive_int

__all__ = [
    "DEFAULT_MODEL_DIR",
    "add_sample_parser",
    "add_train_parser",
    "evaluate_bits_per_char",
    "load_charrnn",
    "train_charrnn",
]

DEFAULT_MODEL_DIR = Path("output/charrnn")
WEIGHTS_FILE = "weights.npz"
INFO_FILE = "model.json"
_FORMAT = "course.charrnn"
_LN2 = math.log(2.0)


def evaluate_bits_per_char(
    model: CharRNN, encoded: np.ndarray, batch_size: int = 32, seq_length: int = 100
) -> float:
    """Bits per character of ``model`` on an encoded text, walking it as in training.

    The text is cut into ``batch_size`` streams read ``seq_length`` steps at a
    time with the hidden state carried along (``char_batches`` without a
    random offset), so every predicted character sees its whole stream before
    it. ``batch_size`` is reduced for short texts.
    """
    func = "evaluate_bits_per_char"
    N = require_positive_int(func, "batch_size", batch_size)
    T = require_positive_int(func, "seq_length", seq_length)
    N = max(1, min(N, (encoded.size - 1) // T))
    T = min(T, encoded.size - 1)
    total, count, h = 0.0, 0, None
    for x, y in char_batches(encoded, N, T):
        scores, h = model.scores(x, h)  # (N, T, V)
        z = scores.astype(np.float64)
        z -= z.max(axis=2, keepdims=True)
        log_probs = z - np.log(np.exp(z).sum(axis=2, keepdims=True))  # (N, T, V)
        total -= np.take_along_axis(log_probs, y[..., None], axis=2).sum()
        count += y.size
    return float(total / count / _LN2)


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
    grad_clip: float = 5.0,
    max_minutes: float | None = 9.0,
    max_iterations: int | None = None,
    eval_every: int = 100,
    val_fraction: float = 0.1,
    seed: int = 0,
    out: str | Path | None = None,
    verbose: bool = True,
) -> dict[str, Any]:
    """Train a CharRNN on ``text`` (default: the pydoc corpus); return a summary dict.

    Inputs:
    - text: the training text; None loads ``load_pydoc_corpus()``. The last
      ``val_fraction`` of it is the validation text.
    - hidden_dim, num_layers, cell: the model (see ``CharRNN``), float32
    - seq_length, batch_size: T and N of the ``char_batches`` windows
    - update_rule: 'adam' or 'rmsprop'; learning_rate its step size
    - lr_decay: the learning rate is multiplied by it after every epoch
    - grad_clip: the global gradient norm is clipped to it (None or 0: no clipping)
    - max_minutes: stop after this much training time (None: no limit)
    - max_iterations: stop after this many updates (None: no limit); at
      least one of the two limits must be set
    - eval_every: measure the validation bits per character every this many updates
    - seed: seeds the model and the batch offsets: the same seed and
      iterations give the same model
    - out: folder to save ``weights.npz`` and ``model.json`` to (None: do not save)

    Returns a dict with 'model' (the CharRNN with the best validation
    parameters), 'vocab', 'history' (list of {'iteration', 'seconds',
    'train_loss_bpc', 'val_bpc'}), 'best_val_bpc', 'baseline_bpc' (3-gram),
    'iterations', 'seconds', 'settings' and 'out'.
    """
    func = "train_charrnn"
    if max_minutes is None and max_iterations is None:
        raise ValueError(f"{func}: set max_minutes or max_iterations (or both) so training ends")
    if max_minutes is not None and not (isinstance(max_minutes, (int, float)) and max_minutes > 0):
        raise ValueError(f"{func}: max_minutes must be a number > 0, got {max_minutes!r}")
    if max_iterations is not None:
        max_iterations = require_positive_int(func, "max_iterations", max_iterations)
    eval_every = require_positive_int(func, "eval_every", eval_every)
    if update_rule not in ("adam", "rmsprop"):
        raise ValueError(f"{func}: update_rule must be 'adam' or 'rmsprop', got {update_rule!r}")
    if not 0 < lr_decay <= 1:
        raise ValueError(f"{func}: lr_decay must lie in (0, 1], got {lr_decay!r}")
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
        "eval_every": eval_every,
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
    rule = get_update_rule(update_rule)
    configs = {k: fill_config(update_rule, {"learning_rate": learning_rate}) for k in model.params}
    rng = np.random.default_rng(seed)

    def evaluate() -> float:
        return evaluate_bits_per_char(model, val_ids, batch_size=32, seq_length=100)

    history: list[dict[str, float]] = []
    best_bpc, best_params = evaluate(), dict(model.params)
    history.append({"iteration": 0, "seconds": 0.0, "train_loss_bpc": None, "val_bpc": best_bpc})
    budget = math.inf if max_minutes is None else 60.0 * max_minutes
    limit = max_iterations or math.inf
    start = time.perf_counter()
    iteration, epoch, running = 0, 0, None
    bar = tqdm(
        total=max_iterations, disable=not verbose, desc="charrnn", unit="it", dynamic_ncols=True
    )
    done = False
    while not done:
        h = None
        for x, y in char_batches(train_ids, batch_size, seq_length, rng=rng):
            loss, grads, h = model.loss(x, y, h)
            if not math.isfinite(loss):
                raise FloatingPointError(
                    f"{func}: the loss became {loss} at iteration {iteration + 1}; "
                    "lower the learning rate or keep grad_clip on"
                )
            if grad_clip:
                grads, _ = clip_grads_by_global_norm(grads, grad_clip)
            for k in model.params:
                model.params[k], configs[k] = rule(model.params[k], grads[k], configs[k])
            iteration += 1
            bpc = loss / _LN2
            running = bpc if running is None else 0.95 * running + 0.05 * bpc
            elapsed = time.perf_counter() - start
            done = iteration >= limit or elapsed >= budget
            if iteration % eval_every == 0 or done:
                val_bpc = evaluate()
                history.append(
                    {
                        "iteration": iteration,
                        "seconds": round(time.perf_counter() - start, 2),
                        "train_loss_bpc": running,
                        "val_bpc": val_bpc,
                    }
                )
                if val_bpc < best_bpc:
                    best_bpc, best_params = val_bpc, dict(model.params)
                bar.set_postfix(loss_bpc=f"{running:.3f}", val_bpc=f"{val_bpc:.3f}", epoch=epoch)
            bar.update(1)
            if done:
                break
        epoch += 1
        for k in configs:
            configs[k] = {**configs[k], "learning_rate": configs[k]["learning_rate"] * lr_decay}
    bar.close()
    model.params = best_params
    seconds = time.perf_counter() - start
    summary = {
        "model": model,
        "vocab": vocab,
        "history": history,
        "best_val_bpc": best_bpc,
        "baseline_bpc": baseline,
        "iterations": iteration,
        "epochs": epoch,
        "seconds": seconds,
        "settings": settings,
        "out": None,
    }
    if out is not None:
        summary["out"] = save_charrnn(out, model, vocab, summary)
    return summary


def save_charrnn(
    out: str | Path, model: CharRNN, vocab: Vocabulary, summary: dict[str, Any] | None = None
) -> Path:
    """Write ``weights.npz`` and ``model.json`` into the folder ``out`` (made if missing)."""
    folder = Path(out).expanduser()
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(f"save_charrnn: {folder} exists and is not a folder")
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
        },
        "vocab": vocab.to_dict(),
        "settings": summary.get("settings", {}),
        "history": summary.get("history", []),
        "best_val_bpc": summary.get("best_val_bpc"),
        "baseline_bpc": summary.get("baseline_bpc"),
        "iterations": summary.get("iterations"),
        "seconds": summary.get("seconds"),
    }
    np.savez(folder / WEIGHTS_FILE, **model.params)
    (folder / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return folder


def load_charrnn(path: str | Path = DEFAULT_MODEL_DIR) -> tuple[CharRNN, Vocabulary, dict]:
    """Load a model saved by ``train_charrnn(out=path)``; returns (model, vocab, info)."""
    folder = Path(path).expanduser()
    weights, info_file = folder / WEIGHTS_FILE, folder / INFO_FILE
    if not weights.is_file() or not info_file.is_file():
        raise FileNotFoundError(
            f"load_charrnn: no trained model in {folder} (expected {WEIGHTS_FILE} and "
            f"{INFO_FILE}); run `course train charrnn --out {folder}` first"
        )
    info = json.loads(info_file.read_text(encoding="utf-8"))
    if info.get("format") != _FORMAT:
        raise ValueError(f"load_charrnn: {info_file} was not written by train_charrnn")
    spec = info["model"]
    vocab = Vocabulary.from_dict(info["vocab"])
    model = CharRNN(
        spec["vocab_size"],
        hidden_dim=spec["hidden_dim"],
        num_layers=spec["num_layers"],
        cell=spec["cell"],
        dtype=np.dtype(spec["dtype"]),
        embed_dim=spec["embed_dim"],
    )
    with np.load(weights) as data:
        missing = set(model.params) - set(data.files)
        if missing:
            raise ValueError(f"load_charrnn: {weights} lacks the arrays {sorted(missing)}")
        for k in model.params:
            if data[k].shape != model.params[k].shape:
                raise ValueError(
                    f"load_charrnn: {weights}[{k!r}] has shape {data[k].shape}; the settings "
                    f"in {info_file} need {model.params[k].shape}"
                )
            model.params[k] = data[k].astype(model.dtype)
    return model, vocab, info


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def model_subcommands(
    subparsers: argparse._SubParsersAction, name: str, help_text: str
) -> argparse._SubParsersAction:
    """The sub-subparsers of ``course NAME`` (created on first use, shared by later models)."""
    existing = subparsers.choices.get(name)
    if existing is not None and getattr(existing, "_course_models", None) is not None:
        return existing._course_models
    parser = subparsers.add_parser(name, help=help_text)
    models = parser.add_subparsers(title="models", metavar="MODEL")
    parser._course_models = models
    parser.set_defaults(run=lambda args: parser.print_help() or 2, command=name)
    return models


def add_train_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``course train charrnn [--text FILE] [--minutes M] [--out DIR] ...``; return it."""
    models = model_subcommands(subparsers, "train", "train a model")
    p = models.add_parser(
        "charrnn",
        help="train a character-level LSTM on English text",
        description="Train a stacked character-level RNN (default: 2-layer LSTM) on the pydoc "
        "corpus or a text file, show the validation bits per character against the 3-gram "
        "baseline, and save the best model to --out. Tip: when other programs share the "
        "CPU, OMP_NUM_THREADS=1 keeps BLAS threads from fighting them.",
    )
    p.add_argument("--text", metavar="FILE", default=None, help="UTF-8 text (default: pydoc)")
    p.add_argument("--minutes", type=float, default=9.0, help="time budget (default: %(default)s)")
    p.add_argument("--iterations", type=int, default=None, help="most updates (default: none)")
    p.add_argument(
        "--out", default=str(DEFAULT_MODEL_DIR), metavar="DIR", help="(default: %(default)s)"
    )
    p.add_argument("--hidden-dim", type=int, default=128)
    p.add_argument("--num-layers", type=int, default=2)
    p.add_argument("--cell", choices=("lstm", "rnn"), default="lstm")
    p.add_argument("--seq-length", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--update-rule", choices=("adam", "rmsprop"), default="adam")
    p.add_argument("--learning-rate", type=float, default=2e-3)
    p.add_argument("--lr-decay", type=float, default=0.95)
    p.add_argument("--grad-clip", type=float, default=5.0)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=_run_train, command="train charrnn")
    return p


def _run_train(args: argparse.Namespace) -> int:
    text = None
    if args.text is not None:
        text = load_text_file(args.text)  # DatasetNotFoundError names the missing path
    summary = train_charrnn(
        text=text,
        hidden_dim=args.hidden_dim,
        num_layers=args.num_layers,
        cell=args.cell,
        seq_length=args.seq_length,
        batch_size=args.batch_size,
        update_rule=args.update_rule,
        learning_rate=args.learning_rate,
        lr_decay=args.lr_decay,
        grad_clip=args.grad_clip,
        max_minutes=args.minutes,
        max_iterations=args.iterations,
        seed=args.seed,
        out=args.out,
    )
    baseline = summary["baseline_bpc"]
    baseline_text = "n/a" if baseline is None else f"{baseline:.3f}"
    print(
        f"best validation loss {summary['best_val_bpc']:.3f} bits/char "
        f"(3-gram baseline {baseline_text}) after {summary['iterations']} iterations, "
        f"{summary['seconds'] / 60:.1f} min; saved to {summary['out']}"
    )
    print(summary["model"].sample(summary["vocab"], length=300, temperature=0.8, seed=args.seed))
    return 0


def add_sample_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``course sample charrnn [--model DIR] [--temperature T] ...``; return it."""
    models = model_subcommands(subparsers, "sample", "generate text from a trained model")
    p = models.add_parser(
        "charrnn",
        help="generate text from a trained character-level RNN",
        description="Print text sampled from a model saved by `course train charrnn`.",
    )
    p.add_argument(
        "--model", default=str(DEFAULT_MODEL_DIR), metavar="DIR", help="(default: %(default)s)"
    )
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--length", type=int, default=500)
    p.add_argument("--prime", default="The ", metavar="TEXT")
    p.add_argument("--argmax", action="store_true", help="always take the likeliest character")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=_run_sample, command="sample charrnn")
    return p


def _run_sample(args: argparse.Namespace) -> int:
    check_temperature("course sample charrnn", args.temperature)
    model, vocab, _ = load_charrnn(args.model)
    print(
        model.sample(
            vocab,
            length=args.length,
            temperature=args.temperature,
            prime=args.prime,
            argmax=args.argmax,
            seed=args.seed,
        )
    )
    sys.stdout.flush()
    return 0
