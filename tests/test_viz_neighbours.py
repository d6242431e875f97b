"""Tests for course/viz/neighbours.py: nearest images by features and by pixels."""

import numpy as np
import pytest
from matplotlib.figure import Figure
from viz_models import pretrained_and_shapes

from course.viz import nearest_neighbours, plot_nearest_neighbours
from course.viz.neighbours import k_nearest


def test_neighbours_match_a_brute_force_search():
    model, X, y = pretrained_and_shapes()
    data, queries = X[:150], X[[3, 40]]
    result = nearest_neighbours(model, queries, data, k=4)
    codes, query_codes = model.extract_features(data), model.extract_features(queries)
    for q in range(2):
        by_features = np.linalg.norm(codes.astype(np.float64) - query_codes[q], axis=1)
        by_pixels = np.linalg.norm((data - queries[q]).reshape(150, -1).astype(float), axis=1)
        np.testing.assert_array_equal(result.feature_indices[q], np.argsort(by_features)[:4])
        np.testing.assert_array_equal(result.pixel_indices[q], np.argsort(by_pixels)[:4])
        np.testing.assert_allclose(
            result.feature_distances[q], np.sort(by_features)[:4], rtol=1e-4, atol=1e-3
        )
    assert list(result.feature_indices[:, 0]) == [3, 40]  # each query finds itself first
    assert result.pixel_distances[0, 0] == pytest.approx(0, abs=1e-3)
    same_class = np.mean(y[result.feature_indices[:, 1:]] == y[[3, 40]][:, None])
    assert same_class >= 0.5  # the net's codes group images of one class
    given = nearest_neighbours(model, queries, data, k=4, features=codes)
    np.testing.assert_array_equal(given.feature_indices, result.feature_indices)
    fig = plot_nearest_neighbours(model, queries, data, result, query=1)
    assert isinstance(fig, Figure) and len(fig.axes) == 2 * 5


def test_k_nearest_breaks_ties_by_index():
    points = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [3.0, 0.0]])
    indices, distances = k_nearest(np.zeros((1, 2)), points, 3)
    np.testing.assert_array_equal(indices, [[0, 1, 2]])
    np.testing.assert_allclose(distances, [[1, 1, 1]])


def test_bad_inputs_name_the_function():
    model, X, _ = pretrained_and_shapes()
    with pytest.raises(ValueError, match=r"nearest_neighbours: features has shape \(3, 5\)"):
        nearest_neighbours(model, X[:1], X[:10], features=np.zeros((3, 5)))
    with pytest.raises(ValueError, match="nearest_neighbours: k must be a positive integer"):
        nearest_neighbours(model, X[:1], X[:10], k=0)
    with pytest.raises(ValueError, match=r"nearest_neighbours: queries has shape \(3, 32, 32\)"):
        nearest_neighbours(model, X[0], X[:10])
