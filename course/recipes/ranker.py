"""Training the image-sentence ranking model (:mod:`course.models.ranking`) with the Solver.

:func:`caption_pairs` turns an image-level split (one feature row per image,
several captions each) into the Solver's matched pairs; :func:`train_ranker`
trains with Adam and ``metric='loss'`` and records the validation Recall@K
after every epoch. :func:`train_scene_ranker` is the whole recipe on the
caption scenes (``course train ranker``): the scenes, their TinyVGG grid
features (shared with the captioner, cached), a time budget, and Recall@K
and median rank both ways on the test scenes, the same rankings judged by
the scenes, and the Recall@5 that a ranker knowing the scenes can expect
(:mod:`course.recipes.scene_retrieval`). :class:`RankerRecipe` says which
configuration won and by how much.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from course.artefacts import require_new_model_folder
from course.data import decode_captions, redraw_captions
from course.models._ranking_validation import validate_caption_image_idxs
from course.models.ranking import (
    ImageSentenceRanker,
    SentenceFrequencies,
    ranking_metrics,
    retrieve,
)
from course.recipes._outcome import end_training, learning_rate_checked
from course.recipes._scene_features import (
    SceneSettings,
    feature_record,
    save_scene_model,
    scenes_and_features,
)
from course.recipes.scene_retrieval import standard_protocol_ceiling, truth_metrics
from course.solver import Solver, TrainingInterrupted
from course.validation import (
    as_float_array,
    check_learning_rate,
    require_ndim,
    require_positive_int,
)

__all__ = ["RankerRecipe", "caption_pairs", "train_ranker", "train_scene_ranker"]


def caption_pairs(
    features: np.ndarray, captions: np.ndarray, caption_image_idxs: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The Solver's X and y for a split with several captions per image: one row per caption.

    Inputs:
    - features: (N, F) one row per image
    - captions: (M, T) word indices
    - caption_image_idxs: (M,) ints in [0, N), the image of each caption

    Returns:
    - X: (M, F) ``features[caption_image_idxs]``, the image of every caption
    - y: (M, T) ``captions`` itself
    """
    func = "caption_pairs"
    as_float_array(func, "features", features)
    require_ndim(func, "features", features, 2, "(N, F)")
    validate_caption_image_idxs(func, caption_image_idxs, len(captions), len(features))
    return features[caption_image_idxs], captions


def train_ranker(
    model: ImageSentenceRanker,
    train: tuple[np.ndarray, np.ndarray, np.ndarray],
    val: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    learning_rate: float = 1e-3,
    num_epochs: int = 10,
    batch_size: int = 128,
    lr_decay: float = 0.95,
    grad_clip: float | None = 2.0,
    ks: Sequence[int] = (1, 5, 10),
    verbose: bool = True,
    history: list[dict[str, float]] | None = None,
    val_texts: Sequence[str] | None = None,
    select_by: str | None = None,
    **solver_options: Any,
) -> tuple[Solver, list[dict[str, float]]]:
    """Train ``model`` with the Solver (Adam, ``metric='loss'``); track validation Recall@K.

    A contrastive model first gets ``model.sentence_frequencies``, the
    counts of the training sentences, which its loss corrects for.

    Inputs:
    - model: an ImageSentenceRanker
    - train, val: ``(features (N, F), captions (M, T), caption_image_idxs (M,))``
      of each split, one row of features per image
    - learning_rate, num_epochs, batch_size, lr_decay, grad_clip: as the
      Solver's (VSE++ clips the gradient norm at 2)
    - ks: the K of the Recall@K recorded after every epoch
    - verbose: the Solver's progress bar and epoch lines, plus the recalls
    - history: a list to append each epoch's metrics to (the caller keeps
      them even when training is interrupted); None: a new list
    - val_texts: None, or the sentences of the validation captions: the
      recorded metrics then count identical sentences as one caption
      (see ``ranking_metrics``)
    - select_by: None, or a key of the recorded metrics (e.g. 'i2t_R@5'):
      the model then ends with the parameters of the epoch where it was
      highest (also when training is interrupted), not those of the lowest
      validation loss
    - solver_options: any other Solver option (``seed``, ``on_epoch``, ...)

    Returns:
    - solver: the trained Solver; the model holds the parameters of the
      epoch with the lowest validation loss (``solver.best_epoch``), or with
      ``select_by`` those of the epoch with the best such metric
    - history: one ``ranking_metrics`` dict per epoch, on the validation split
    """
    X_train, y_train = caption_pairs(*train)
    X_val, y_val = caption_pairs(*val)
    val_features, val_captions, val_idxs = val
    history = [] if history is None else history
    if select_by is not None and select_by not in {f"i2t_R@{k}" for k in ks} | {
        f"t2i_R@{k}" for k in ks
    }:
        raise ValueError(
            f"train_ranker: select_by must be None or a recall recorded each epoch, such as "
            f"'i2t_R@5' (ks={tuple(ks)}), got {select_by!r}"
        )
    chosen: dict[str, Any] = {}  # the parameters of the best epoch by select_by
    if model.objective == "contrastive":  # its loss corrects for the sentences' frequencies
        model.sentence_frequencies = SentenceFrequencies(y_train, model.null_index)

    def record_recalls(solver: Solver, epoch: int) -> None:
        metrics = ranking_metrics(
            model.embed_images(val_features),
            model.embed_captions(val_captions),
            val_idxs,
            ks,
            caption_texts=val_texts,
        )
        history.append(metrics)
        if select_by is not None and metrics[select_by] > chosen.get("value", -np.inf):
            chosen.update(value=metrics[select_by], params=copy.deepcopy(model.params))
        if verbose:
            shown = ", ".join(f"{key} {value:.3f}" for key, value in metrics.items())
            print(f"epoch {epoch} val: {shown}")

    extra = solver_options.pop("on_epoch", ())
    extra = [extra] if callable(extra) else list(extra)
    solver = Solver(
        model,
        {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val},
        update_rule="adam",
        optim_config={"learning_rate": learning_rate},
        num_epochs=num_epochs,
        batch_size=batch_size,
        lr_decay=lr_decay,
        grad_clip=grad_clip,
        metric="loss",
        verbose=verbose,
        on_epoch=[record_recalls, *extra],
        **solver_options,
    )
    try:
        solver.train()
    finally:
        if "params" in chosen:
            model.params.update(chosen["params"])
    return solver, history


@dataclass(frozen=True)
class RankerRecipe(SceneSettings):
    """How ``course train ranker`` trains an ImageSentenceRanker on the caption scenes.

    The scenes and their features are :class:`SceneSettings`'s. The defaults
    are the best configuration measured on them (image -> caption Recall@5,
    distinct captions, 1,000 test scenes; ``truth_metrics``' P@1 says how
    often an image's first caption is true of it):

    - the max-margin (hinge) loss of the first version: R@5 0.70, P@1 0.72;
    - ``objective='contrastive'`` with the sentence-frequency correction and a
      caption bias: the scores learn log P(caption | image), so an image's
      first captions are its likeliest ones ("a red shape"): P@1 0.93, but
      those are often not among the five drawn for it: R@5 0.69;
    - ``bias_weight=0.5``, ranking with half of the bias: between the likely
      and the specific captions, R@5 0.77, P@1 0.76. Validation R@5 peaks
      there (0.84; 0.82 at 0 and 0.6, 0.70 at 1) and truth precision grows
      with the weight; use a higher weight when captions must be true, a
      lower one for recall;
    - ``image_hidden_dim=512``: a hidden ReLU layer on the image side,
      caption -> image R@5 0.56 -> 0.60;
    - ``batch_size=256``: the same figures as 128 and shorter epochs;
    - ``fresh_captions=True``: every epoch after the first trains on five new
      true captions of each training scene (``course.data.redraw_captions``)
      instead of the same five again: the model stops overfitting its
      50,000 sentences and keeps improving: test R@5 0.77 -> 0.814 (6
      minutes, 25 epochs, the best validation R@5 0.870 at epoch 23; in a
      30-epoch experiment the test R@5 stayed between 0.81 and 0.83 from
      epoch 11 on), P@1 0.74.

    Tried and not kept (test R@5, same protocol): five or ten fixed sets of
    captions per scene instead of fresh ones each epoch (0.80, and 5 or 10
    times longer epochs); hard negatives, one-word edits of true captions
    that make them false, in the image -> caption softmax (0.77-0.80: they
    push the caption bias of real sentences down); the pool layers on an
    8 x 8 grid (0.75); normalising each caption's scores over a bank of
    training images (QB-Norm, Bogolin et al. 2022: within 0.01 of the
    plain scores once the captions are fresh). L2 weight decay
    (``reg=1e-3``) and ``temperature=0.1`` changed nothing beyond the noise
    (about 0.015 on Recall@5 with 1,000 test scenes).
    """

    cell: str = "lstm"
    embed_dim: int = 128
    wordvec_dim: int = 64
    hidden_dim: int = 128
    margin: float = 0.2
    objective: str = "contrastive"
    temperature: float = 0.05
    caption_bias: bool = True
    bias_weight: float = 0.5
    reg: float = 0.0
    image_hidden_dim: int = 512
    batch_size: int = 256
    learning_rate: float = 1e-3
    lr_decay: float = 0.95
    fresh_captions: bool = True
    minutes: float = 6.0
    max_epochs: int = 30


def train_scene_ranker(
    recipe: RankerRecipe = RankerRecipe(),
    out: str | Path | None = None,
    overwrite: bool = False,
    verbose: bool = True,
    threads: int = 1,
) -> dict[str, Any]:
    """Train the ranking model on caption scenes; save ``out/ranker-CELL.npz|.json`` (None: don't).

    Returns a dict with 'model', 'metrics' (test split: Recall@1/5/10 and
    median rank, image -> caption and caption -> image, identical sentences
    counted as one caption: see ``ranking_metrics``), 'metrics_every_row'
    (the same with every caption row apart), 'metrics_by_truth' (P@1 and
    P@5 judged by the scenes: ``truth_metrics``), 'i2t_R@5_ceiling' (what a
    ranker that knows the scenes expects: ``standard_protocol_ceiling``),
    'history' (the
    validation metrics per epoch), 'examples' (three test captions as
    queries: the top-5 images and whether their own image is among them),
    'train_seconds' and 'paths'. The model keeps the epoch with the best
    validation image -> caption Recall@5 (with the same captions every epoch
    it overfits after a few, while the loss may still fall; with
    ``recipe.fresh_captions`` each epoch after the first draws five new true
    captions of every training scene). Ctrl-C saves the best model so far.

    ``threads`` is the number of BLAS threads. The matrices are small, so a
    second thread gains little on an idle machine (a step of the default
    model: 24 ms with 2 threads, 27 ms with 1), but when another program
    keeps a core busy, two BLAS threads fighting it made every step about 27
    times slower (0.74 s); one thread also makes a rerun reproduce the
    numbers exactly.
    """
    require_positive_int("train_scene_ranker", "threads", threads)
    with threadpool_limits(limits=threads, user_api="blas"):
        return _train_scene_ranker(recipe, out, overwrite, verbose)


def _train_scene_ranker(
    recipe: RankerRecipe, out: str | Path | None, overwrite: bool, verbose: bool
) -> dict[str, Any]:
    func = "train_scene_ranker"
    say = print if verbose else (lambda *args, **kwargs: None)
    check_learning_rate(func, recipe.learning_rate)
    name = f"ranker-{recipe.cell}"
    if out is not None:
        require_new_model_folder(func, Path(out), (f"{name}.npz", f"{name}.json"), overwrite)
    data, features, mean, std, _, feature_seconds = scenes_and_features(recipe, verbose)
    model = ImageSentenceRanker(
        len(data["vocab"]),
        features["train"].shape[1],
        embed_dim=recipe.embed_dim,
        wordvec_dim=recipe.wordvec_dim,
        hidden_dim=recipe.hidden_dim,
        cell=recipe.cell,
        margin=recipe.margin,
        objective=recipe.objective,
        temperature=recipe.temperature,
        bias_weight=recipe.bias_weight,
        caption_bias=recipe.caption_bias,
        reg=recipe.reg,
        image_hidden_dim=recipe.image_hidden_dim,
        seed=recipe.seed,
    )
    splits = {
        split: (features[split], data[f"{split}_captions"], data[f"{split}_image_idxs"])
        for split in ("train", "val", "test")
    }
    start = time.perf_counter()

    def out_of_time(solver: Solver, iteration: int, loss: float) -> bool:
        return time.perf_counter() - start >= 60.0 * recipe.minutes

    def new_captions(solver: Solver, epoch: int) -> None:  # the next epoch's pairs
        captions, image_idxs = redraw_captions(data, draw=epoch, seed=recipe.seed)
        solver.set_training_data(*caption_pairs(features["train"], captions, image_idxs))

    stopped: BaseException | None = None
    history: list[dict[str, float]] = []
    try:
        with learning_rate_checked():
            solver, history = train_ranker(
                model,
                splits["train"],
                splits["val"],
                learning_rate=recipe.learning_rate,
                num_epochs=recipe.max_epochs,
                batch_size=recipe.batch_size,
                lr_decay=recipe.lr_decay,
                verbose=verbose,
                on_iteration=out_of_time,
                on_epoch=new_captions if recipe.fresh_captions else (),
                seed=recipe.seed,
                history=history,
                val_texts=decode_captions(data["val_captions"], data["vocab"]),
                select_by="i2t_R@5",
            )
    except TrainingInterrupted as interrupt:
        stopped = interrupt
    train_seconds = time.perf_counter() - start
    test_features, test_captions, test_idxs = splits["test"]
    image_emb, caption_emb = model.embed_images(test_features), model.embed_captions(test_captions)
    texts = decode_captions(test_captions, data["vocab"])
    metrics = ranking_metrics(image_emb, caption_emb, test_idxs, caption_texts=texts)
    plain = ranking_metrics(image_emb, caption_emb, test_idxs)
    truth = truth_metrics(image_emb, caption_emb, texts, data["test_scenes"])
    ceiling = standard_protocol_ceiling(data["test_scenes"], texts, test_idxs, seed=recipe.seed)
    for protocol, values, count in (
        ("distinct captions", metrics, len(set(texts))),
        ("every caption row", plain, len(texts)),
        ("judged by the scenes", truth, len(set(texts))),
    ):
        shown = ", ".join(f"{key} {value:.3f}" for key, value in values.items())
        say(f"test, {protocol} ({recipe.num_test} scenes, {count} captions): {shown}")
    say(
        f"ceiling of i2t_R@5 (distinct captions) for a ranker that knows the scenes: {ceiling:.3f}"
    )
    examples = []
    for row in (0, 5, 10)[: len(test_captions)]:
        top = retrieve(model, test_captions[row], test_features, k=5)
        examples.append(
            {
                "query": decode_captions(test_captions[row : row + 1], data["vocab"])[0],
                "image": int(test_idxs[row]),
                "top5": [int(i) for i in top],
                "found": bool(test_idxs[row] in top),
            }
        )
    results = {
        "model": model,
        "metrics": metrics,
        "metrics_every_row": plain,
        "metrics_by_truth": truth,
        "i2t_R@5_ceiling": ceiling,
        "history": history,
        "examples": examples,
        "train_seconds": train_seconds,
        "feature_seconds": feature_seconds,
        "paths": None,
    }
    learnt = bool(history) and metrics["i2t_R@5"] > 5 * 5 / len(test_captions)
    if out is not None and learnt:
        record = {
            "format": "course-ranker",
            "name": name,
            "words": list(data["vocab"].tokens),
            "features": feature_record(recipe),
            "recipe": dataclasses.asdict(recipe),
            "metrics": metrics,
            "metrics_every_row": plain,
            "metrics_by_truth": truth,
            "i2t_R@5_ceiling": ceiling,
            "history": history,
            "train_seconds": round(train_seconds, 1),
        }
        results["paths"] = save_scene_model(out, name, model.params, mean, std, record, overwrite)
        say(f"saved {results['paths'][0]}")
    not_learnt = (
        f"image -> caption Recall@5 is {metrics['i2t_R@5']:.3f}, no better than chance: "
        "training diverged or was too short"
    )
    saved_to = None if results["paths"] is None else results["paths"][0]
    end_training(func, stopped, out, saved_to, None if learnt else not_learnt)
    return results
