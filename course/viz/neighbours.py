"""Nearest neighbours in feature space and in pixel space.

The net's penultimate layer (``model.extract_features``) maps an image to a
code of D numbers; images whose codes are close (in L2) are what the net
considers alike, whatever their pixels. Beside them, the neighbours in pixel
space (L2 between the raw images) show what a pixel-level similarity finds:
mostly images of the same colours, not of the same shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from course.validation import as_float_array, require_positive_int
from course.viz._validation import require_index, require_model_images, require_vis_model
from course.viz.pixels import to_pixels


@dataclass(frozen=True)
class Neighbours:
    """The k nearest images of X to each of Q queries, nearest first (ties: smaller index).

    - feature_indices, feature_distances (Q, k): by L2 distance of the penultimate-layer codes
    - pixel_indices, pixel_distances (Q, k): by L2 distance of the images themselves
    """

    feature_indices: np.ndarray
    feature_distances: np.ndarray
    pixel_indices: np.ndarray
    pixel_distances: np.ndarray


def k_nearest(queries: np.ndarray, points: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k rows of points (N, D) nearest (L2) to each query (Q, D): indices and distances (Q, k).

    Squared distances are ||q||^2 + ||p||^2 - 2 q.p (one matrix multiply), in float64.
    """
    q = np.asarray(queries, dtype=np.float64)
    p = np.asarray(points, dtype=np.float64)
    squared = (q * q).sum(1)[:, None] + (p * p).sum(1)[None, :] - 2 * q @ p.T  # (Q, N)
    order = np.argsort(squared, axis=1, kind="stable")[:, :k]  # (Q, k)
    distances = np.sqrt(np.maximum(np.take_along_axis(squared, order, axis=1), 0))
    return order, distances


def nearest_neighbours(
    model, queries: np.ndarray, X: np.ndarray, k: int = 5, features: np.ndarray | None = None
) -> Neighbours:
    """The k images of X nearest to each query, in feature space and in pixel space.

    Inputs:
    - queries: (Q, C, H, W) model inputs; a query that is also in X finds itself first
    - X: (N, C, H, W) model inputs to search
    - k: neighbours per query (at most N)
    - features: optional (N, D) ``model.extract_features(X)``, computed once by the caller

    Returns:
    - Neighbours (see its docstring)
    """
    func = "nearest_neighbours"
    require_vis_model(func, model)
    queries = require_model_images(func, model, queries, name="queries")
    X = require_model_images(func, model, X)
    N = X.shape[0]
    k = min(require_positive_int(func, "k", k), N)
    query_codes = model.extract_features(queries)  # (Q, D)
    if features is None:
        features = model.extract_features(X)  # (N, D)
    else:
        as_float_array(func, "features", features)
        if features.shape != (N, query_codes.shape[1]):
            raise ValueError(
                f"{func}: features has shape {features.shape}; expected (N, D) = "
                f"({N}, {query_codes.shape[1]}), model.extract_features(X)"
            )
    feature_indices, feature_distances = k_nearest(query_codes, features, k)
    pixel_indices, pixel_distances = k_nearest(
        queries.reshape(len(queries), -1),
        X.reshape(N, -1),
        k,  # (Q, C*H*W), (N, C*H*W)
    )
    return Neighbours(feature_indices, feature_distances, pixel_indices, pixel_distances)


def plot_nearest_neighbours(
    model, queries: np.ndarray, X: np.ndarray, result: Neighbours, query: int = 0
) -> Figure:
    """One query beside its k feature-space neighbours (top row) and pixel-space ones (bottom).

    Returns:
    - fig: 2 x (k + 1) axes; the query sits in the first column of the top row
    """
    func = "plot_nearest_neighbours"
    require_vis_model(func, model)
    if not isinstance(result, Neighbours):
        raise TypeError(
            f"{func}: result must be a Neighbours from nearest_neighbours(), got "
            f"{type(result).__name__}"
        )
    queries = require_model_images(func, model, queries, name="queries")
    X = require_model_images(func, model, X)
    query = require_index(func, "query", query, len(result.feature_indices), "result (queries)")
    k = result.feature_indices.shape[1]
    fig = Figure(figsize=(1.3 * (k + 1) + 0.4, 3.2), layout="constrained")
    axes = fig.subplots(2, k + 1, squeeze=False)
    axes[0, 0].imshow(to_pixels(model, queries[query : query + 1])[0], interpolation="nearest")
    axes[0, 0].set_title("query", fontsize=8)
    rows = (
        ("features", result.feature_indices, result.feature_distances),
        ("pixels", result.pixel_indices, result.pixel_distances),
    )
    for r, (space, indices, distances) in enumerate(rows):
        pictures = to_pixels(model, X[indices[query]])  # (k, H, W, 3)
        for j in range(k):
            axes[r, j + 1].imshow(pictures[j], interpolation="nearest")
            axes[r, j + 1].set_title(f"{space} d={distances[query, j]:.2g}", fontsize=7)
    for ax in axes.flat:
        ax.axis("off")
    return fig
