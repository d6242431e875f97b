"""Figures the course draws: training curves, image grids, first-layer weights.

Every function returns a matplotlib ``Figure`` built without pyplot, so the
same code draws inline in a notebook and saves to a file headless; ``save``
writes one to disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure


def image_grid(images: np.ndarray, padding: int = 1, per_image_scale: bool = True) -> np.ndarray:
    """Tile a batch of images into one RGB picture for display.

    Inputs:
    - images: (N, C, H, W) with C in (1, 3), or (N, H, W, C)
    - padding: pixels of white between tiles
    - per_image_scale: rescale each image to [0, 1] on its own (weights and
      mean-subtracted images have no fixed range); otherwise clip to [0, 1]

    Returns:
    - grid: (rows * (H + padding) - padding, cols * (W + padding) - padding, 3)
      floats in [0, 1], with rows = cols = ceil(sqrt(N)) or close to it
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 4:
        raise ValueError(f"image_grid: images has shape {images.shape}; expected (N, C, H, W)")
    if images.shape[1] in (1, 3) and images.shape[-1] not in (1, 3):
        images = images.transpose(0, 2, 3, 1)  # (N, H, W, C)
    if images.shape[-1] == 1:
        images = np.repeat(images, 3, axis=-1)
    N, H, W, _ = images.shape
    if per_image_scale:
        low = images.min(axis=(1, 2, 3), keepdims=True)
        high = images.max(axis=(1, 2, 3), keepdims=True)
        images = (images - low) / np.maximum(high - low, 1e-12)
    else:
        images = np.clip(images, 0, 1)
    cols = int(np.ceil(np.sqrt(N)))
    rows = int(np.ceil(N / cols))
    grid = np.ones((rows * (H + padding) - padding, cols * (W + padding) - padding, 3))
    for i in range(N):
        r, c = divmod(i, cols)
        grid[
            r * (H + padding) : r * (H + padding) + H, c * (W + padding) : c * (W + padding) + W
        ] = images[i]
    return grid


def plot_training_history(
    loss_history: Sequence[float],
    train_acc_history: Sequence[float],
    val_acc_history: Sequence[float],
    title: str = "",
) -> Figure:
    """Loss per iteration (with a moving average) beside train/val accuracy per epoch."""
    fig = Figure(figsize=(11, 4), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    losses = np.asarray(loss_history, dtype=np.float64)
    ax_loss.plot(losses, ".", markersize=2, alpha=0.4, label="minibatch loss")
    if len(losses) >= 10:
        window = max(len(losses) // 50, 5)
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        ax_loss.plot(np.arange(window - 1, len(losses)), smooth, label=f"mean of {window}")
    ax_loss.set_xlabel("iteration")
    ax_loss.set_ylabel("loss")
    ax_loss.legend()
    epochs = np.arange(1, len(val_acc_history) + 1)
    ax_acc.plot(epochs, train_acc_history, "o-", label="train")
    ax_acc.plot(epochs, val_acc_history, "o-", label="validation")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_ylabel("accuracy")
    ax_acc.set_ylim(0, 1)
    ax_acc.legend()
    if title:
        fig.suptitle(title)
    return fig


def plot_first_layer_weights(
    W1: np.ndarray, image_shape: tuple[int, int, int], num: int = 64
) -> Figure:
    """Show the first ``num`` columns of a first-layer weight matrix as images.

    Inputs:
    - W1: (D, Hd) weights of the first affine layer, D = C * H * W
    - image_shape: (C, H, W) of the input images
    """
    C, H, W = image_shape
    if W1.shape[0] != C * H * W:
        raise ValueError(
            f"plot_first_layer_weights: W1 has {W1.shape[0]} rows; image_shape {image_shape} "
            f"needs {C * H * W}"
        )
    num = min(num, W1.shape[1])
    templates = W1[:, :num].T.reshape(num, C, H, W)  # (num, C, H, W)
    fig = Figure(figsize=(6, 6), layout="constrained")
    ax = fig.subplots()
    ax.imshow(image_grid(templates), interpolation="nearest")
    ax.set_title(f"First-layer weights: {num} of {W1.shape[1]} hidden units")
    ax.axis("off")
    return fig


def plot_conv_filters(w: np.ndarray, title: str = "First-layer filters") -> Figure:
    """Show the filters of a convolution on RGB images as small colour tiles.

    Inputs:
    - w: (F, 3, HH, WW) filters; each is rescaled to [0, 1] on its own for display
    """
    if w.ndim != 4 or w.shape[1] != 3:
        raise ValueError(
            f"plot_conv_filters: w has shape {w.shape}; expected (F, 3, HH, WW), the filters "
            "of a convolution on RGB images"
        )
    fig = Figure(figsize=(4, 4), layout="constrained")
    ax = fig.subplots()
    tiles = w.transpose(0, 2, 3, 1)  # (F, HH, WW, 3): 3x3x3 filters are ambiguous as NCHW
    ax.imshow(image_grid(tiles), interpolation="nearest")
    ax.set_title(f"{title}: {w.shape[0]} of size {w.shape[2]}x{w.shape[3]}x3")
    ax.axis("off")
    return fig


def plot_samples(
    images: np.ndarray, labels: np.ndarray, class_names: Sequence[str], per_class: int = 8
) -> Figure:
    """A gallery with ``per_class`` examples of each class, one row per class.

    Inputs:
    - images: (N, 3, H, W) floats in [0, 1] or uint8 (N, H, W, 3)
    - labels: (N,) class indices
    """
    images = np.asarray(images)
    if images.dtype == np.uint8:
        images = images.astype(np.float64) / 255
    if images.shape[1] == 3:
        images = images.transpose(0, 2, 3, 1)  # (N, H, W, 3)
    fig = Figure(figsize=(per_class * 0.9 + 1.5, len(class_names) * 0.9), layout="constrained")
    axes = fig.subplots(len(class_names), per_class, squeeze=False)
    for c, name in enumerate(class_names):
        chosen = np.flatnonzero(labels == c)[:per_class]
        for j in range(per_class):
            ax = axes[c, j]
            ax.axis("off")
            if j < len(chosen):
                ax.imshow(np.clip(images[chosen[j]], 0, 1), interpolation="nearest")
        axes[c, 0].set_title(name, loc="left", fontsize=9)
    return fig


def save(fig: Figure, path: str | Path, dpi: int = 120) -> Path:
    """Save a figure, creating the folder; returns the path written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    return path


def show_retrieval(
    query_text: str,
    images: np.ndarray,
    indices: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray | None = None,
    target: int | None = None,
) -> Figure:
    """The query caption above its k retrieved images in a row, best first.

    Inputs:
    - query_text: the query caption as words
    - images: (N, H, W, 3) or (N, 3, H, W), uint8 or floats in [0, 1]
    - indices: (k,) rows of ``images`` to show, e.g. from
      :func:`course.models.ranking.retrieve`
    - scores: None, or the (k,) scores of the shown images, for their titles
    - target: None, or the row of the query's own image: framed in green
      when it was retrieved

    Returns:
    - fig: a matplotlib Figure with k axes
    """
    from course.models._ranking_validation import validate_retrieval_view

    shown, indices = validate_retrieval_view(images, indices, scores)  # (k, H, W, 3), (k,)
    k = len(indices)
    fig = Figure(figsize=(1.8 * k + 0.4, 2.4), layout="constrained")
    axes = fig.subplots(1, k, squeeze=False)[0]
    for rank, (ax, image, index) in enumerate(zip(axes, shown, indices, strict=True), start=1):
        ax.imshow(image, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        title = f"#{rank}" if scores is None else f"#{rank}  s={float(scores[rank - 1]):.2f}"
        hit = target is not None and int(index) == int(target)
        ax.set_title(title + ("  (its image)" if hit else ""), fontsize=8)
        for spine in ax.spines.values():
            spine.set_visible(hit)
            spine.set_color("tab:green")
            spine.set_linewidth(3)
    fig.suptitle(f'query: "{query_text}"', fontsize=10)
    return fig
