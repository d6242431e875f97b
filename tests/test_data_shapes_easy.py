"""Tests for course/data/easy_shapes.py: Easy Shapes, centred shapes on a plain background."""

from __future__ import annotations

import numpy as np
import pytest

from course.data import (
    CLASS_NAMES,
    generate_easy_shapes,
    generate_shapes,
    load_easy_shapes,
    load_shapes,
)
from course.models import TwoLayerNet
from course.solver import Solver


def _border_and_shape(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per image: the border pixels (N, P, 3) and a mask (N, 32, 32) of pixels far from them."""
    x = images.astype(np.float64)  # (N, 32, 32, 3)
    n = len(x)
    border = np.concatenate(
        [
            x[:, :3].reshape(n, -1, 3),
            x[:, -3:].reshape(n, -1, 3),
            x[:, :, :3].reshape(n, -1, 3),
            x[:, :, -3:].reshape(n, -1, 3),
        ],
        axis=1,
    )  # (N, P, 3): a frame three pixels wide
    background = np.median(border, axis=1)  # (N, 3)
    shape = np.abs(x - background[:, None, None, :]).max(axis=3) > 0.25 * 255  # (N, 32, 32)
    return border, shape


def test_generate_easy_shapes_returns_raw_uint8_images_and_balanced_labels() -> None:
    images, labels = generate_easy_shapes(230, seed=1)  # crosses a chunk boundary
    assert images.shape == (230, 32, 32, 3) and images.dtype == np.uint8
    assert labels.shape == (230,) and labels.dtype == np.int64
    counts = np.bincount(labels, minlength=len(CLASS_NAMES))
    assert counts.sum() == 230 and counts.max() - counts.min() <= 1
    assert not np.array_equal(labels, np.arange(230) % 10)  # shuffled within blocks


def test_background_is_one_plain_colour_with_faint_noise() -> None:
    images, _ = generate_easy_shapes(500, seed=0)
    border, _ = _border_and_shape(images)
    # Shapes-10's backgrounds vary by tens of grey levels; these only by the noise (~5).
    assert border.std(axis=1).max() < 8
    clutter, _ = _border_and_shape(generate_shapes(500, seed=0)[0])
    assert np.median(clutter.std(axis=1)) > 15


def test_every_shape_is_large_centred_and_inside_the_image() -> None:
    images, _ = generate_easy_shapes(1000, seed=2, stream=1)
    _, shape = _border_and_shape(images)
    area = shape.sum(axis=(1, 2))
    assert area.min() >= 60  # every shape is visible, and big
    rows, cols = np.mgrid[0:32, 0:32] + 0.5
    centroid_y = (shape * rows).sum(axis=(1, 2)) / area
    centroid_x = (shape * cols).sum(axis=(1, 2)) / area
    # Near the centre (arrows and hearts are lopsided, hence a few pixels of slack).
    assert np.abs(centroid_y - 16).max() < 4 and np.abs(centroid_x - 16).max() < 4
    assert not shape[:, [0, -1], :].any() and not shape[:, :, [0, -1]].any()


def test_same_seed_gives_identical_bytes_and_image_i_does_not_depend_on_the_count() -> None:
    a_images, a_labels = generate_easy_shapes(40, seed=7)
    b_images, b_labels = generate_easy_shapes(40, seed=7)
    assert a_images.tobytes() == b_images.tobytes()
    np.testing.assert_array_equal(a_labels, b_labels)
    long_images, long_labels = generate_easy_shapes(250, seed=7)
    np.testing.assert_array_equal(long_images[:40], a_images)
    np.testing.assert_array_equal(long_labels[:40], a_labels)


def test_seeds_streams_and_shapes10_give_different_images() -> None:
    base, _ = generate_easy_shapes(20, seed=0)
    assert not np.array_equal(base, generate_easy_shapes(20, seed=1)[0])
    assert not np.array_equal(base, generate_easy_shapes(20, seed=0, stream=1)[0])
    assert not np.array_equal(base, generate_shapes(20, seed=0)[0])


def test_zero_images_give_empty_arrays() -> None:
    images, labels = generate_easy_shapes(0)
    assert images.shape == (0, 32, 32, 3) and labels.shape == (0,)


def test_load_easy_shapes_returns_the_load_shapes_layout() -> None:
    data = load_easy_shapes(num_train=300, num_val=50, num_test=20, seed=3)
    reference = load_shapes(num_train=30, num_val=5, num_test=2, seed=3)
    assert set(data) == set(reference)
    assert data["X_train"].shape == (300, 3, 32, 32) and data["X_train"].dtype == np.float32
    assert data["X_val"].shape == (50, 3, 32, 32) and data["X_test"].shape == (20, 3, 32, 32)
    assert data["y_train"].dtype == np.int64
    assert data["class_names"] == CLASS_NAMES
    assert data["mean_image"].shape == (3, 32, 32)
    np.testing.assert_allclose(data["X_train"].mean(axis=0), 0, atol=1e-5)
    # The validation set does not depend on num_train.
    other = load_easy_shapes(num_train=100, num_val=50, num_test=0, seed=3, subtract_mean=False)
    np.testing.assert_array_equal(other["y_val"], data["y_val"])
    np.testing.assert_allclose(other["X_val"] - data["mean_image"], data["X_val"], atol=1e-6)


def test_load_easy_shapes_without_mean_subtraction_and_in_float64() -> None:
    data = load_easy_shapes(
        num_train=20, num_val=0, num_test=0, subtract_mean=False, dtype=np.float64
    )
    images, labels = generate_easy_shapes(20, seed=0)
    assert data["X_train"].dtype == np.float64
    np.testing.assert_array_equal(data["X_train"], images.transpose(0, 3, 1, 2) / 255.0)
    np.testing.assert_array_equal(data["y_train"], labels)
    assert data["X_val"].shape == (0, 3, 32, 32)


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: generate_easy_shapes(-1), ValueError, "num_images"),
        (lambda: generate_easy_shapes(2.5), TypeError, "num_images"),
        (lambda: generate_easy_shapes(5, seed=-3), ValueError, "seed"),
        (lambda: generate_easy_shapes(5, stream=-1), ValueError, "stream"),
        (lambda: load_easy_shapes(num_train=0), ValueError, "num_train"),
        (lambda: load_easy_shapes(num_val=-1), ValueError, "num_val"),
        (lambda: load_easy_shapes(10, seed="0"), TypeError, "seed"),
        (lambda: load_easy_shapes(10, dtype=np.int32), TypeError, "dtype"),
        (lambda: load_easy_shapes(10, subtract_mean="yes"), TypeError, "subtract_mean"),
    ],
)
def test_bad_arguments_get_errors_that_name_them(call, error, words: str) -> None:
    with pytest.raises(error, match=words) as info:
        call()
    assert "easy_shapes" in str(info.value)


def test_a_fully_connected_net_learns_easy_shapes_but_not_shapes10() -> None:
    """What the dataset is for: the same small net and budget, far above chance only here."""
    accuracies = {}
    for loader in (load_easy_shapes, load_shapes):
        data = loader(num_train=1000, num_val=500, num_test=0, seed=1)
        solver = Solver(
            TwoLayerNet(hidden_dim=100, weight_scale="he", seed=0),
            data,
            update_rule="adam",
            optim_config={"learning_rate": 1e-3},
            num_epochs=5,
            batch_size=100,
            verbose=False,
            seed=0,
        )
        solver.train()
        accuracies[loader.__name__] = solver.best_val_acc
    assert accuracies["load_easy_shapes"] > 0.5
    assert accuracies["load_shapes"] < 0.3
