"""Top-activating patches: the image regions that excite one neuron channel most.

For a channel f of a conv or pool layer, each image n of a dataset gets one
score, its strongest response anywhere, ``a[n] = max over (i, j) of
maps[n, f, i, j]``, at the first (row-major) position of that maximum. The k
images with the largest scores (ties: the smaller image index first) are
cropped to the receptive field of the neuron that fired (see
:mod:`course.viz.receptive_field`): what that neuron saw. The class
histogram of those k images tells whether the channel is selective.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from course.validation import require_positive_int
from course.viz._validation import (
    require_class_labels,
    require_index,
    require_layer,
    require_model_images,
    require_vis_model,
)
from course.viz.pixels import as_pictures, input_offset
from course.viz.receptive_field import receptive_field_box, receptive_fields


@dataclass(frozen=True)
class TopPatches:
    """The k strongest responses of one channel over a dataset, strongest first.

    - indices (k,): the images; positions (k, 2): (row, col) of the maximum in the maps
    - activations (k,): the maxima, in decreasing order
    - boxes (k, 4): (top, bottom, left, right) of each receptive field, clipped to the image
    - patches (k, C, S, S): pixels in [0, 1] of each receptive field (S its size);
      parts that fall outside the image (the padding) are 0
    - histogram (num_classes,) or None: the classes of the k images (when labels are given)
    """

    layer: str
    channel: int
    indices: np.ndarray
    positions: np.ndarray
    activations: np.ndarray
    boxes: np.ndarray
    patches: np.ndarray
    histogram: np.ndarray | None


def map_peaks(maps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every channel's strongest response per image and where it is (the first maximum).

    Inputs:
    - maps: (N, F, H', W') a layer's maps

    Returns:
    - maxima: (N, F); positions: (N, F, 2) as (row, col)
    """
    N, F, H_out, W_out = maps.shape
    flat = maps.reshape(N, F, H_out * W_out)
    where = flat.argmax(axis=2)  # (N, F), the first maximum
    maxima = np.take_along_axis(flat, where[..., None], axis=2)[..., 0]
    return maxima, np.stack(np.divmod(where, W_out), axis=2)


def layer_peaks(
    model, X: np.ndarray, batch_size: int = 250
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """:func:`map_peaks` of every conv and pool layer, in one pass over X.

    All :func:`top_patches` needs of a layer, for every channel, in (N, F)
    numbers rather than the (N, F, H', W') maps: a browser can switch layers
    and channels without running the net again, and keep little memory.

    Inputs:
    - X: (N, C, H, W) model inputs; batch_size: images per forward pass

    Returns:
    - dict layer -> (maxima (N, F), positions (N, F, 2))
    """
    func = "layer_peaks"
    require_vis_model(func, model)
    X = require_model_images(func, model, X)
    batch_size = require_positive_int(func, "batch_size", batch_size)
    batches = [
        {
            name: map_peaks(maps)
            for name, maps in model.conv_activations(X[s : s + batch_size]).items()
        }
        for s in range(0, X.shape[0], batch_size)
    ]
    return {
        name: tuple(np.concatenate([batch[name][i] for batch in batches]) for i in (0, 1))
        for name in batches[0]
    }


def channel_maxima(maps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each image's strongest response and where it is (the first maximum, row-major).

    Inputs:
    - maps: (N, H', W') one channel's maps

    Returns:
    - maxima: (N,); positions: (N, 2) as (row, col)
    """
    N, H_out, W_out = maps.shape
    flat = maps.reshape(N, H_out * W_out)  # (N, H'*W')
    where = flat.argmax(axis=1)  # the first maximum
    return flat[np.arange(N), where], np.stack(np.divmod(where, W_out), axis=1)


def top_patches(
    model,
    X: np.ndarray,
    layer: str,
    channel: int,
    k: int = 9,
    labels: np.ndarray | None = None,
    maps: np.ndarray | None = None,
    batch_size: int = 250,
    peaks: tuple[np.ndarray, np.ndarray] | None = None,
) -> TopPatches:
    """The k images of X that excite ``channel`` of ``layer`` most, cropped to the neuron.

    Inputs:
    - X: (N, C, H, W) model inputs (mean image subtracted)
    - layer: a conv or pool layer, e.g. 'conv2_1'; channel: one of its F maps
    - k: how many patches (at most N); one per image
    - labels: (N,) class labels, for the histogram, or None
    - maps: optional (N, F, H', W'), ``model.conv_activations(X)[layer]`` computed
      once by the caller, to switch channels without running the net again
    - batch_size: images per forward pass when maps is None
    - peaks: optional ``layer_peaks(model, X)[layer]`` instead of maps: the
      (N, F) maxima and (N, F, 2) positions of every channel

    Returns:
    - TopPatches (see its docstring)
    """
    func = "top_patches"
    require_vis_model(func, model)
    X = require_model_images(func, model, X)
    layer = require_layer(func, model, layer, ("conv", "pool"))
    N = X.shape[0]
    k = min(require_positive_int(func, "k", k), N)
    if labels is not None:
        labels = require_class_labels(func, labels, N, model.num_classes, name="labels")
    field = receptive_fields(model)[layer]
    if peaks is not None:
        maxima, positions = _require_peaks(func, peaks, N, layer)
        channel = require_index(func, "channel", channel, maxima.shape[1], layer)
        maxima, positions = maxima[:, channel], positions[:, channel]
    elif maps is None:
        batch_size = require_positive_int(func, "batch_size", batch_size)
        F = model.conv_activations(X[:1])[layer].shape[1]
        channel = require_index(func, "channel", channel, F, layer)
        maps = np.concatenate(
            [
                model.conv_activations(X[s : s + batch_size])[layer][:, channel]
                for s in range(0, N, batch_size)
            ]
        )  # (N, H', W')
    else:
        maps = _require_maps(func, maps, N, field.output_shape, layer)
        channel = require_index(func, "channel", channel, maps.shape[1], layer)
        maps = maps[:, channel]  # (N, H', W')
    if peaks is None:
        maxima, positions = channel_maxima(maps)  # (N,), (N, 2)
    order = np.lexsort((np.arange(N), -maxima))[:k]  # largest first; ties: smaller index
    boxes = np.array([receptive_field_box(model, layer, *positions[n]) for n in order])
    pixels = X[order] + input_offset(model)  # (k, C, H, W) in [0, 1]
    S = field.size
    patches = np.zeros((k, X.shape[1], S, S))  # outside the image: 0
    for p, (n, (top, bottom, left, right)) in enumerate(zip(order, boxes, strict=True)):
        row, col = positions[n]
        r0 = top - (field.offset + row * field.jump)  # where the clipped box starts in the patch
        c0 = left - (field.offset + col * field.jump)
        patches[p, :, r0 : r0 + bottom - top, c0 : c0 + right - left] = pixels[
            p, :, top:bottom, left:right
        ]
    histogram = None
    if labels is not None:
        histogram = np.bincount(labels[order], minlength=model.num_classes)
    return TopPatches(
        layer=layer,
        channel=channel,
        indices=order,
        positions=positions[order],
        activations=maxima[order],
        boxes=boxes,
        patches=np.clip(patches, 0.0, 1.0),
        histogram=histogram,
    )


def _require_peaks(func: str, peaks: object, N: int, layer: str):
    if not (isinstance(peaks, tuple) and len(peaks) == 2):
        raise ValueError(f"{func}: peaks must be layer_peaks(model, X)['{layer}']: a pair")
    maxima, positions = peaks
    if not (
        isinstance(maxima, np.ndarray)
        and isinstance(positions, np.ndarray)
        and maxima.ndim == 2
        and maxima.shape[0] == N
        and positions.shape == (*maxima.shape, 2)
    ):
        raise ValueError(
            f"{func}: peaks must be layer_peaks(model, X)['{layer}']: maxima (N, F) and "
            f"positions (N, F, 2) with N = {N}; got {getattr(maxima, 'shape', None)} and "
            f"{getattr(positions, 'shape', None)}"
        )
    return maxima, positions


def _require_maps(func: str, maps: object, N: int, shape: tuple[int, int], layer: str):
    if not isinstance(maps, np.ndarray) or maps.ndim != 4 or maps.shape[0] != N:
        got = getattr(maps, "shape", type(maps).__name__)
        raise ValueError(
            f"{func}: maps must be (N, F, H', W') = model.conv_activations(X)['{layer}'] "
            f"with N = {N}; got {got}"
        )
    if maps.shape[2:] != shape:
        raise ValueError(
            f"{func}: maps are {maps.shape[2]}x{maps.shape[3]}; {layer}'s maps are "
            f"{shape[0]}x{shape[1]}: pass model.conv_activations(X)['{layer}']"
        )
    return maps


def plot_top_patches(result: TopPatches, class_names=None, labels=None) -> Figure:
    """The k patches in a row, strongest first, and the class histogram below when known.

    Inputs:
    - result: from :func:`top_patches`
    - class_names: names of the classes, for the histogram (default: the class numbers)
    - labels: the dataset's (N,) labels, to title each patch with its class (optional)

    Returns:
    - fig: k axes (+1 for the histogram when ``result.histogram`` is not None)
    """
    if not isinstance(result, TopPatches):
        raise TypeError(
            f"plot_top_patches: result must be a TopPatches from top_patches(), got "
            f"{type(result).__name__}"
        )
    k = len(result.indices)
    rows = 1 if result.histogram is None else 2
    fig = Figure(figsize=(max(1.3 * k, 4), 1.6 * rows + 0.4), layout="constrained")
    grid = fig.add_gridspec(rows, k)
    for p in range(k):
        ax = fig.add_subplot(grid[0, p])
        ax.imshow(as_pictures(result.patches[p : p + 1])[0], interpolation="nearest")
        title = f"{result.activations[p]:.2g}"
        if labels is not None:
            c = int(labels[result.indices[p]])
            title += f"\n{class_names[c] if class_names is not None else c}"
        ax.set_title(title, fontsize=7)
        ax.axis("off")
    if result.histogram is not None:
        ax = fig.add_subplot(grid[1, :])
        K = len(result.histogram)
        ax.bar(np.arange(K), result.histogram)
        ax.set_xticks(np.arange(K), class_names if class_names is not None else range(K))
        ax.tick_params(axis="x", labelsize=7, rotation=45)
        ax.set_ylabel("patches")
    fig.suptitle(f"{result.layer}, channel {result.channel}: top {k} patches", fontsize=9)
    return fig
