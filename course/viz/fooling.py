"""Fooling images (Szegedy et al., 2014): an imperceptible change that flips the prediction.

Starting from a correctly classified image X, small normalised gradient
steps ``X += learning_rate * g / ||g||`` continue until the model predicts
the target class. The ascended objective J is one of

- 'log_prob' (default): log P(target | X) = S_target - log sum_j exp(S_j),
  whose gradient dJ/dS = onehot(target) - softmax(S) also pushes the
  competing classes down;
- 'score': the unnormalised score S_target alone, as in CS231n. On the
  shipped TinyVGG it gets stuck on a few images in a hundred (the winning
  class's score rises with the target's), where 'log_prob' needs at most
  about 20 steps of 0.1.

The change is spread over every pixel and is tiny next to the image; no
clipping is applied (as in CS231n), so the image may leave [0, 1] by that
small amount.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from course.validation import require_positive_int
from course.viz._validation import (
    require_index,
    require_model_images,
    require_rate,
    require_vis_model,
)
from course.viz.pixels import rescale, to_pixels
from course.viz.saliency import one_hot


class FoolingFailed(RuntimeError):
    """The model did not predict the target class within ``max_iterations`` steps."""


OBJECTIVES = ("log_prob", "score")


def make_fooling_image(
    model,
    X: np.ndarray,
    target: int,
    learning_rate: float = 0.1,
    max_iterations: int = 100,
    objective: str = "log_prob",
) -> tuple[np.ndarray, int]:
    """Change X just enough for the model to predict ``target``.

    Inputs:
    - X: (1, C, H, W) one model input; not changed
    - target: the class the model must predict
    - learning_rate: the L2 length of each step
    - max_iterations: the most gradient steps taken
    - objective: 'log_prob' (log-softmax of the target) or 'score' (S_target), see above

    Returns:
    - X_fooling: (1, C, H, W) predicted as target
    - steps: the gradient steps it took (0 when X is already predicted as target)

    Raises FoolingFailed when ``max_iterations`` steps were not enough.
    """
    func = "make_fooling_image"
    require_vis_model(func, model, gradient=True)
    X = require_model_images(func, model, X)
    if X.shape[0] != 1:
        raise ValueError(f"{func}: X has {X.shape[0]} images; expected one (1, C, H, W)")
    target = require_index(func, "target", target, model.num_classes, "the model's classes")
    learning_rate = require_rate(func, "learning_rate", learning_rate)
    max_iterations = require_positive_int(func, "max_iterations", max_iterations)
    if objective not in OBJECTIVES:
        raise ValueError(f"{func}: objective must be one of {OBJECTIVES}, got {objective!r}")
    X_fooling = X.copy()
    for steps in range(max_iterations + 1):
        scores = model.loss(X_fooling)  # (1, num_classes)
        if int(scores[0].argmax()) == target:
            return X_fooling, steps
        if steps == max_iterations:
            break
        dscores = one_hot(np.array([target]), model.num_classes, X.dtype)  # dS_target/dS
        if objective == "log_prob":
            p = np.exp(scores - scores.max())  # (1, num_classes)
            dscores -= p / p.sum()  # d log softmax(S)_target / dS
        g = model.input_gradient(X_fooling, dscores)  # (1, C, H, W)
        X_fooling = X_fooling + learning_rate * g / max(float(np.linalg.norm(g)), 1e-12)
    raise FoolingFailed(
        f"{func}: the model still predicts class {int(scores[0].argmax())}, not {target}, "
        f"after {max_iterations} steps of length {learning_rate}; raise max_iterations or "
        "learning_rate"
    )


def plot_fooling_image(model, X: np.ndarray, X_fooling: np.ndarray, class_names=None) -> Figure:
    """The original, the fooling image and their difference magnified (three axes)."""
    func = "plot_fooling_image"
    require_vis_model(func, model)
    X = require_model_images(func, model, X)
    X_fooling = require_model_images(func, model, X_fooling, name="X_fooling")
    predicted = [int(model.loss(image)[0].argmax()) for image in (X, X_fooling)]
    names = [class_names[c] if class_names is not None else c for c in predicted]
    difference = (X_fooling - X)[0]  # (C, H, W)
    fig = Figure(figsize=(6.5, 2.6), layout="constrained")
    axes = fig.subplots(1, 3)
    axes[0].imshow(to_pixels(model, X)[0], interpolation="nearest")
    axes[0].set_title(f"original: {names[0]}", fontsize=8)
    axes[1].imshow(to_pixels(model, X_fooling)[0], interpolation="nearest")
    axes[1].set_title(f"fooling: {names[1]}", fontsize=8)
    axes[2].imshow(rescale(difference).transpose(1, 2, 0).squeeze(), interpolation="nearest")
    axes[2].set_title(f"difference (max {np.abs(difference).max():.3f}), magnified", fontsize=8)
    for ax in axes:
        ax.axis("off")
    return fig
