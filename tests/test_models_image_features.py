"""Tests for course/models/image_features.py: the conv trunk pooled onto a grid, and its cache."""

import numpy as np
import pytest

from course.data import generate_shapes
from course.models import image_features
from course.models.image_features import cached_grid_features, grid_features
from course.models.pretrained import load_pretrained


@pytest.fixture(scope="module")
def model():
    return load_pretrained("tinyvgg-shapes")


def _scenes(num=6, seed=0):
    """64x64 images holding one Shapes-10 image in a random quadrant, on black."""
    shapes, _ = generate_shapes(num, seed=seed)
    rng = np.random.default_rng(seed)
    images = np.zeros((num, 64, 64, 3), dtype=np.uint8)
    for i, (row, col) in enumerate(rng.integers(0, 2, size=(num, 2))):
        images[i, 32 * row : 32 * row + 32, 32 * col : 32 * col + 32] = shapes[i]
    return images


def test_features_are_the_trunk_max_pooled_cell_by_cell(model):
    images = _scenes()
    features = grid_features(model, images, grid=2, batch_size=4, verbose=False)
    assert features.shape == (6, 64 * 2 * 2) and features.dtype == np.float32
    X = images.transpose(0, 3, 1, 2).astype(np.float32) / 255.0
    X -= model.mean_image.mean(axis=(1, 2)).reshape(1, 3, 1, 1)
    volume = model.conv_volume(X)  # (6, 64, 8, 8)
    assert volume.shape == (6, 64, 8, 8)
    top_right = volume[:, :, :4, 4:].max(axis=(2, 3))  # cell (0, 1): the second block
    np.testing.assert_allclose(features[:, 64:128], top_right, rtol=1e-6)


def test_the_grid_keeps_where_a_shape_is(model):
    shape, _ = generate_shapes(1, seed=3)
    left, right = np.zeros((2, 64, 64, 3), dtype=np.uint8)
    left[16:48, :32], right[16:48, 32:] = shape[0], shape[0]
    features = grid_features(model, np.stack([left, right]), grid=2, verbose=False)
    cells = features.reshape(2, 2, 2, 64)  # (image, row, col, F)
    # The shape's own response sits in the left cells of one and the right of the other.
    assert cells[0, :, 0].sum() > cells[0, :, 1].sum()
    assert cells[1, :, 1].sum() > cells[1, :, 0].sum()


def test_the_trunk_is_the_same_net_as_the_classifier(model):
    shapes, _ = generate_shapes(4, seed=1)
    X = shapes.transpose(0, 3, 1, 2).astype(np.float32) / 255.0 - model.mean_image
    pooled = model.activations(X)[f"pool{len(model.stages)}"]
    np.testing.assert_array_equal(model.conv_volume(X), pooled)


def test_cached_features_are_computed_once_and_follow_the_data(model, tmp_path, monkeypatch):
    images = _scenes(4)
    first = cached_grid_features(model, images, grid=2, cache_dir=tmp_path, verbose=False)
    (cache,) = tmp_path.iterdir()
    monkeypatch.setattr(image_features, "grid_features", pytest.fail)  # must not compute
    np.testing.assert_array_equal(
        cached_grid_features(model, images, grid=2, cache_dir=tmp_path), first
    )
    monkeypatch.undo()
    other = images.copy()
    other[0, 0, 0, 0] ^= 1  # one pixel changes the key
    cached_grid_features(model, other, grid=2, cache_dir=tmp_path, verbose=False)
    assert len(list(tmp_path.iterdir())) == 2
    cache.write_bytes(b"damaged")  # computed again and replaced
    again = cached_grid_features(model, images, grid=2, cache_dir=tmp_path, verbose=False)
    np.testing.assert_array_equal(again, first)


def test_cache_defaults_to_the_data_root(model, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    cached_grid_features(model, _scenes(2), grid=2, verbose=False)
    assert len(list((tmp_path / "cache").glob("grid-features-*.npz"))) == 1


def test_bad_inputs_are_named(model):
    with pytest.raises(TypeError, match="uint8 array"):
        grid_features(model, np.zeros((2, 64, 64, 3)), verbose=False)
    with pytest.raises(ValueError, match="multiples of 32"):
        grid_features(model, np.zeros((2, 48, 48, 3), dtype=np.uint8), verbose=False)
    with pytest.raises(ValueError, match="grid"):
        grid_features(model, np.zeros((2, 64, 64, 3), dtype=np.uint8), grid=0)
    with pytest.raises(TypeError, match="TinyVGG"):
        grid_features(object(), np.zeros((2, 64, 64, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="multiples of 8"):
        model.conv_volume(np.zeros((1, 3, 12, 12), dtype=np.float32))
