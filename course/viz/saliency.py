"""Saliency maps (Simonyan, Vedaldi and Zisserman, 2014): which pixels the class score hangs on.

For image X and class y, the gradient of the unnormalised score S_y(X) with
respect to the pixels says how much a small change of each pixel moves the
score. The saliency of a pixel is the largest magnitude over its channels:

    saliency[n, i, j] = max over c of |dS_y / dX[n, c, i, j]|

The gradient comes from the model's own backward pass
(``model.input_gradient(X, dscores)`` with dscores one-hot in y), in test mode.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from course.viz._validation import require_class_labels, require_model_images, require_vis_model
from course.viz.pixels import to_pixels


def one_hot(y: np.ndarray, num_classes: int, dtype=np.float64) -> np.ndarray:
    """(N, num_classes) rows with a 1 in column y[n]: the upstream gradient of S_y."""
    out = np.zeros((len(y), num_classes), dtype=dtype)
    out[np.arange(len(y)), y] = 1
    return out


def score_gradient(model, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dS_y / dX (N, C, H, W): the gradient of each image's class-y[n] score on its pixels."""
    return model.input_gradient(X, one_hot(y, model.num_classes, X.dtype))


def saliency_maps(model, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Saliency of every pixel for the classes ``y``.

    Inputs:
    - X: (N, C, H, W) model inputs (mean image subtracted)
    - y: (N,) the class of each image whose score is explained

    Returns:
    - saliency: (N, H, W), max over channels of |dS_y / dX|, in the model's dtype
    """
    func = "saliency_maps"
    require_vis_model(func, model, gradient=True)
    X = require_model_images(func, model, X)
    y = require_class_labels(func, y, X.shape[0], model.num_classes)
    return np.abs(score_gradient(model, X, y)).max(axis=1)  # (N, H, W)


def plot_saliency_maps(model, X: np.ndarray, y: np.ndarray, class_names=None) -> Figure:
    """The images (top row) above their saliency maps (bottom row): 2 x N axes."""
    saliency = saliency_maps(model, X, y)  # validates
    N = X.shape[0]
    fig = Figure(figsize=(1.6 * N + 0.4, 3.6), layout="constrained")
    axes = fig.subplots(2, N, squeeze=False)
    for n, picture in enumerate(to_pixels(model, X)):
        axes[0, n].imshow(picture, interpolation="nearest")
        name = class_names[int(y[n])] if class_names is not None else int(y[n])
        axes[0, n].set_title(str(name), fontsize=8)
        axes[1, n].imshow(saliency[n], cmap="hot", interpolation="nearest")
    for ax in axes.flat:
        ax.axis("off")
    return fig
