"""The image-captioning recipe: caption scenes -> TinyVGG grid features -> a CaptioningRNN.

:class:`CaptionerRecipe` holds the data, model and optimiser settings;
:func:`train_captioner` follows it: it draws the caption scenes
(:func:`course.data.load_caption_scenes`), turns every scene into features
with the pretrained TinyVGG's conv trunk (:func:`course.models.cached_grid_features`,
transfer learning: that net only ever classified single shapes), trains a
:class:`~course.models.CaptioningRNN` with the Solver under a time budget,
and measures on the held-out test scenes what the captions say: exact caption
accuracy (every fact true of the scene), per-fact accuracy, BLEU-1..4 and
CIDEr-D against the scenes' five true captions, greedy and beam search.

A trained captioner is saved as ``NAME.npz`` + ``NAME.json`` (atomically,
never over another without ``overwrite``);
:func:`course.recipes.caption_pipeline.load_captioner` reads it back as a
``Captioner``, which captions uint8 images end to end.
``course train captioner`` and ``course caption`` (in ``course.cli``) call
these functions.
"""

from __future__ import annotations

import dataclasses
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from course.artefacts import require_new_model_folder
from course.caption_metrics import caption_scores
from course.data import caption_accuracy, true_captions
from course.models import CaptioningRNN
from course.recipes._outcome import end_training, learning_rate_checked, train_until_stopped
from course.recipes._scene_features import (
    SceneSettings,
    feature_record,
    save_scene_model,
    scenes_and_features,
)
from course.recipes.caption_pipeline import FORMAT, Captioner
from course.solver import Solver
from course.validation import check_learning_rate, require_positive_int

__all__ = ["CaptionerRecipe", "evaluate_captioner", "train_captioner"]


@dataclass(frozen=True)
class CaptionerRecipe(SceneSettings):
    """How a captioner is trained (the defaults are the shipped LSTM captioner's).

    The scenes and their features are :class:`SceneSettings`'s; the rest is
    the CaptioningRNN and its training.
    """

    cell: str = "lstm"
    wordvec_dim: int = 64
    hidden_dim: int = 256
    batch_size: int = 50
    learning_rate: float = 2e-3
    lr_decay: float = 0.9
    grad_clip: float = 5.0
    minutes: float = 9.0
    max_epochs: int = 20
    beam_width: int = 5
    max_length: int = 12


def train_captioner(
    recipe: CaptionerRecipe = CaptionerRecipe(),
    out: str | Path | None = None,
    name: str | None = None,
    overwrite: bool = False,
    verbose: bool = True,
) -> dict[str, Any]:
    """Train a captioner following ``recipe``; save it as ``out/NAME.npz|.json`` (None: don't).

    ``name`` defaults to ``captioner-<cell>``. An existing model in ``out`` is
    replaced only with ``overwrite=True``, checked before any work. Training
    stops at ``recipe.minutes`` or ``recipe.max_epochs``; the Solver keeps the
    epoch with the lowest validation loss. The model is saved only when it
    beat the untrained one; Ctrl-C saves the best model so far.

    Returns a dict with 'captioner' (a :class:`Captioner`), 'metrics' (test
    split: greedy and beam exact and per-fact accuracy, BLEU-1..4, CIDEr-D),
    'history' (per epoch: losses and greedy validation accuracy),
    'examples' (three test scenes with their true, greedy and beam
    captions), 'train_seconds', 'feature_seconds' and 'paths'.
    """
    func = "train_captioner"
    say = print if verbose else (lambda *args, **kwargs: None)
    check_learning_rate(func, recipe.learning_rate)
    require_positive_int(func, "max_epochs", recipe.max_epochs)
    if not (isinstance(recipe.minutes, (int, float)) and recipe.minutes > 0):
        raise ValueError(f"{func}: minutes must be a number > 0, got {recipe.minutes!r}")
    name = name or f"captioner-{recipe.cell}"
    if out is not None:
        require_new_model_folder(func, Path(out), (f"{name}.npz", f"{name}.json"), overwrite)

    start = time.perf_counter()
    data, features, mean, std, feature_net, feature_seconds = scenes_and_features(recipe, verbose)
    say(
        f"caption scenes: {recipe.num_train} train, {recipe.num_val} val, {recipe.num_test} "
        f"test (seed {recipe.seed}), {len(data['vocab'])} words"
    )

    model = CaptioningRNN(
        data["word_to_idx"],
        input_dim=features["train"].shape[1],
        wordvec_dim=recipe.wordvec_dim,
        hidden_dim=recipe.hidden_dim,
        cell_type=recipe.cell,
        dtype=np.float32,
        seed=recipe.seed,
    )
    model.init_bias_from(data["vocab"].log_frequencies())
    captioner = Captioner(model, feature_net, recipe.grid, recipe.feature_layers, mean, std)
    solver_data = {
        "X_train": features["train"][data["train_image_idxs"]],
        "y_train": data["train_captions"],
        "X_val": features["val"][data["val_image_idxs"]],
        "y_val": data["val_captions"],
    }
    history: list[dict[str, Any]] = []
    budget = 60.0 * recipe.minutes
    train_start = time.perf_counter()

    def out_of_time(solver: Solver, iteration: int, loss: float) -> bool:
        return time.perf_counter() - train_start >= budget

    def measure(solver: Solver, epoch: int) -> None:
        texts, _ = captioner.caption_features(features["val"], max_length=recipe.max_length)
        accuracy = caption_accuracy(texts, data["val_scenes"])["exact"]
        history.append(
            {
                "epoch": epoch,
                "iteration": solver.iteration,
                "seconds": round(time.perf_counter() - train_start, 1),
                "train_loss": solver.train_metric_history[-1],
                "val_loss": solver.val_metric_history[-1],
                "val_greedy_exact": accuracy,
            }
        )
        say(f"epoch {epoch}: greedy captions exactly true on {accuracy:.1%} of val scenes")

    with learning_rate_checked():
        solver = Solver(
            model,
            solver_data,
            update_rule="adam",
            optim_config={"learning_rate": recipe.learning_rate},
            lr_decay=recipe.lr_decay,
            batch_size=recipe.batch_size,
            num_epochs=recipe.max_epochs,
            metric="loss",
            num_train_samples=2000,
            grad_clip=recipe.grad_clip,
            verbose=verbose,
            on_iteration=out_of_time,
            on_epoch=measure,
            seed=recipe.seed,
        )
    untrained_loss = solver.mean_loss(solver_data["X_val"], solver_data["y_val"])
    _, stopped = train_until_stopped(solver)
    train_seconds = time.perf_counter() - train_start

    learnt = bool(solver.best_params) and solver.best_val_metric < untrained_loss
    results: dict[str, Any] = {
        "captioner": captioner,
        "history": history,
        "untrained_val_loss": untrained_loss,
        "best_val_loss": solver.best_val_metric,
        "best_epoch": solver.best_epoch,
        "iterations": solver.iteration,
        "train_seconds": train_seconds,
        "feature_seconds": feature_seconds,
        "paths": None,
    }
    if learnt:
        results["metrics"], results["examples"] = evaluate_captioner(
            captioner, features["test"], data["test_scenes"], recipe
        )
        say(_metrics_line(results["metrics"]))
    results["seconds"] = time.perf_counter() - start
    if out is not None and learnt:
        record = {
            "format": FORMAT,
            "name": name,
            "config": _model_config(model, data["vocab"].tokens),
            "features": feature_record(recipe),
            "command": "course train captioner",
            "recipe": dataclasses.asdict(recipe),
            "metrics": results["metrics"],
            "examples": results["examples"],
            "history": history,
            "best_epoch": solver.best_epoch,
            "train_seconds": round(train_seconds, 1),
            "feature_seconds": round(feature_seconds, 1),
            "machine": f"{platform.machine()}, {platform.python_implementation()} "
            f"{platform.python_version()}, numpy {np.__version__}",
        }
        results["paths"] = save_scene_model(
            out, name, model.params, mean, std, record, overwrite, compressed=True
        )
        say(f"saved {results['paths'][0]} and {results['paths'][1].name}")
    not_learnt = (
        f"the best validation loss, {solver.best_val_metric:.3f}, is no better than the "
        f"untrained model's {untrained_loss:.3f}: training diverged or did not learn "
        f"(learning_rate={recipe.learning_rate:g}); try a smaller learning rate"
    )
    saved_to = None if results["paths"] is None else results["paths"][0]
    end_training(func, stopped, out, saved_to, None if learnt else not_learnt)
    return results


def evaluate_captioner(
    captioner: Captioner,
    features: np.ndarray,
    scenes: list,
    recipe: CaptionerRecipe = CaptionerRecipe(),
    num_examples: int = 3,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Greedy and beam captions of held-out scenes, scored exactly and with BLEU / CIDEr-D.

    The references of scene i are five true captions drawn from the grammar
    with a generator seeded by i (``true_captions``), the same for every model.

    Returns (metrics, examples): metrics['greedy'] and metrics['beam'] each
    hold 'exact', the per-fact accuracies, 'BLEU-1'..'BLEU-4' and 'CIDEr-D';
    examples are the first ``num_examples`` scenes' true, greedy and beam captions.
    """
    references = [true_captions(scene, np.random.default_rng(i)) for i, scene in enumerate(scenes)]
    metrics: dict[str, Any] = {"beam_width": recipe.beam_width, "scenes": len(scenes)}
    texts: dict[str, list[str]] = {}
    for decoding, width in (("greedy", None), ("beam", recipe.beam_width)):
        texts[decoding], _ = captioner.caption_features(features, width, recipe.max_length)
        scores = caption_accuracy(texts[decoding], scenes)
        scores.update(caption_scores(references, texts[decoding]))
        metrics[decoding] = {key: _rounded(value) for key, value in scores.items()}
    examples = [
        {"true": references[i], "greedy": texts["greedy"][i], "beam": texts["beam"][i]}
        for i in range(min(num_examples, len(scenes)))
    ]
    return metrics, examples


def _model_config(model: CaptioningRNN, words: list[str]) -> dict[str, Any]:
    return {
        "words": list(words),
        "input_dim": int(model.params["W_proj"].shape[0]),
        "wordvec_dim": int(model.params["W_embed"].shape[1]),
        "hidden_dim": int(model.params["Wh"].shape[0]),
        "cell_type": model.cell_type,
        "dtype": np.dtype(model.dtype).name,
    }


def _rounded(value: Any) -> Any:
    return round(float(value), 4) if isinstance(value, (float, np.floating)) else value


def _metrics_line(metrics: dict[str, Any]) -> str:
    parts = []
    for decoding in ("greedy", "beam"):
        m = metrics[decoding]
        parts.append(
            f"{decoding}: exact {m['exact']:.1%}, BLEU-4 {m['BLEU-4']:.3f}, "
            f"CIDEr-D {m['CIDEr-D']:.2f}"
        )
    return f"test ({metrics['scenes']} scenes) " + "; ".join(parts)
