"""Training the image-sentence ranking model (:mod:`course.models.ranking`) with the Solver.

:func:`caption_pairs` turns an image-level split (one feature row per image,
several captions each) into the Solver's matched pairs; :func:`train_ranker`
trains with Adam and ``metric='loss'`` and records the validation Recall@K
after every epoch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from course.models._ranking_validation import validate_caption_image_idxs
from course.models.ranking import ImageSentenceRanker, ranking_metrics
from course.solver import Solver
from course.validation import as_float_array, require_ndim

__all__ = ["caption_pairs", "train_ranker"]


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
    **solver_options: Any,
) -> tuple[Solver, list[dict[str, float]]]:
    """Train ``model`` with the Solver (Adam, ``metric='loss'``); track validation Recall@K.

    Inputs:
    - model: an ImageSentenceRanker
    - train, val: ``(features (N, F), captions (M, T), caption_image_idxs (M,))``
      of each split, one row of features per image
    - learning_rate, num_epochs, batch_size, lr_decay, grad_clip: as the
      Solver's (VSE++ clips the gradient norm at 2)
    - ks: the K of the Recall@K recorded after every epoch
    - verbose: the Solver's progress bar and epoch lines, plus the recalls
    - solver_options: any other Solver option (``seed``, ``on_epoch``, ...)

    Returns:
    - solver: the trained Solver; the model holds the parameters of the
      epoch with the lowest validation loss (``solver.best_epoch``)
    - history: one ``ranking_metrics`` dict per epoch, on the validation split
    """
    X_train, y_train = caption_pairs(*train)
    X_val, y_val = caption_pairs(*val)
    val_features, val_captions, val_idxs = val
    history: list[dict[str, float]] = []

    def record_recalls(solver: Solver, epoch: int) -> None:
        metrics = ranking_metrics(
            model.embed_images(val_features), model.embed_captions(val_captions), val_idxs, ks
        )
        history.append(metrics)
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
    solver.train()
    return solver, history
