"""Tests for course/data/shapes.py: the procedural Shapes-10 dataset."""

from __future__ import annotations

import numpy as np
import pytest

from course.data import CLASS_NAMES, generate_shapes, load_shapes, shape_masks, shape_parameters


def test_class_names() -> None:
    assert CLASS_NAMES == (
        "circle",
        "square",
        "triangle",
        "diamond",
        "hexagon",
        "star",
        "cross",
        "ring",
        "arrow",
        "heart",
    )


def test_generate_shapes_returns_raw_uint8_images_and_int64_labels() -> None:
    images, labels = generate_shapes(30, seed=1)
    assert images.shape == (30, 32, 32, 3)
    assert images.dtype == np.uint8
    assert labels.shape == (30,)
    assert labels.dtype == np.int64
    assert labels.min() >= 0 and labels.max() < len(CLASS_NAMES)


def test_two_thousand_images_generate_and_look_like_photos() -> None:
    images, labels = generate_shapes(2000, seed=0)
    assert images.shape == (2000, 32, 32, 3)
    np.testing.assert_array_equal(np.bincount(labels, minlength=10), np.full(10, 200))
    # Cluttered, varied images: no blank images, and the pixel values use the whole range.
    assert images.reshape(2000, -1).std(axis=1).min() > 5
    assert images.min() == 0 and images.max() == 255
    assert 90 < images.mean() < 165


def test_same_seed_gives_identical_bytes() -> None:
    a_images, a_labels = generate_shapes(40, seed=7)
    b_images, b_labels = generate_shapes(40, seed=7)
    assert a_images.tobytes() == b_images.tobytes()
    np.testing.assert_array_equal(a_labels, b_labels)


def test_different_seed_or_stream_gives_different_images() -> None:
    base, _ = generate_shapes(20, seed=0)
    other_seed, _ = generate_shapes(20, seed=1)
    other_stream, _ = generate_shapes(20, seed=0, stream=1)
    assert not np.array_equal(base, other_seed)
    assert not np.array_equal(base, other_stream)


def test_image_i_does_not_depend_on_how_many_are_requested() -> None:
    short_images, short_labels = generate_shapes(7, seed=3)
    long_images, long_labels = generate_shapes(230, seed=3)  # crosses a chunk boundary
    np.testing.assert_array_equal(short_images, long_images[:7])
    np.testing.assert_array_equal(short_labels, long_labels[:7])


@pytest.mark.parametrize("num_images", [0, 1, 9, 23, 100])
def test_labels_are_as_balanced_as_possible(num_images: int) -> None:
    _, labels = generate_shapes(num_images, seed=2)
    counts = np.bincount(labels, minlength=10)
    assert counts.sum() == num_images
    assert counts.max() - counts.min() <= 1


def test_labels_are_shuffled() -> None:
    _, labels = generate_shapes(100, seed=0)
    assert not np.array_equal(labels, np.arange(100) % 10)


def test_shape_parameters_match_the_images() -> None:
    """Each shape is drawn at its centre, in its colour (the ring's centre is its hole)."""
    images, labels = generate_shapes(300, seed=4)
    params = shape_parameters(300, seed=4)
    np.testing.assert_array_equal(params["labels"], labels)
    assert params["centre"].shape == (300, 2)
    assert params["colour"].shape == (300, 3)
    col, row = np.floor(params["centre"]).astype(int).T
    centre_pixels = images[np.arange(300), row, col] / 255.0  # (N, 3)
    error = np.abs(centre_pixels - params["colour"]).max(axis=1)
    solid = labels != CLASS_NAMES.index("ring")
    assert np.mean(error[solid] < 0.25) > 0.97


def test_shape_masks_cover_the_pixels_painted_in_the_shape_s_colour() -> None:
    images, _ = generate_shapes(200, seed=5, stream=2)
    masks = shape_masks(200, seed=5, stream=2)
    colour = shape_parameters(200, seed=5, stream=2)["colour"]  # (N, 3)
    assert masks.shape == (200, 32, 32) and masks.dtype == bool
    assert masks.sum(axis=(1, 2)).min() >= 20  # every shape is there, and not tiny
    error = np.abs(images / 255.0 - colour[:, None, None, :]).max(axis=3)  # (N, 32, 32)
    # Inside the mask the pixels are the shape's colour (up to noise); far outside, rarely.
    assert np.mean(error[masks] < 0.25) > 0.95
    assert np.mean(error[~masks] < 0.1) < 0.1
    np.testing.assert_array_equal(shape_masks(5, seed=5, stream=2), masks[:5])  # chunked


def test_shapes_are_big_and_inside_the_image() -> None:
    params = shape_parameters(1000, seed=0)
    across = 2 * params["size"]
    assert across.min() >= 10 and across.max() <= 24
    centre = params["centre"]
    assert np.all(centre - 0.9 * params["size"][:, None] >= 0)
    assert np.all(centre + 0.9 * params["size"][:, None] <= 32)


def test_colour_position_and_size_carry_no_class_information() -> None:
    params = shape_parameters(4000, seed=0)
    labels = params["labels"]
    for key, tolerance in [("colour", 0.05), ("centre", 1.0), ("size", 0.5)]:
        values = params[key].reshape(4000, -1)
        overall = values.mean(axis=0)
        for k in range(10):
            class_mean = values[labels == k].mean(axis=0)
            assert np.abs(class_mean - overall).max() < tolerance, (key, CLASS_NAMES[k])


def test_mean_image_colour_is_the_same_for_every_class() -> None:
    images, labels = generate_shapes(2000, seed=0)
    colour = images.reshape(2000, -1, 3).mean(axis=1) / 255.0  # (N, 3) mean colour per image
    overall = colour.mean(axis=0)
    for k in range(10):
        assert np.abs(colour[labels == k].mean(axis=0) - overall).max() < 0.04, CLASS_NAMES[k]


def test_load_shapes_returns_nchw_splits() -> None:
    data = load_shapes(num_train=50, num_val=20, num_test=10, seed=0)
    assert set(data) == {
        "X_train",
        "y_train",
        "X_val",
        "y_val",
        "X_test",
        "y_test",
        "class_names",
        "mean_image",
    }
    for split, count in [("train", 50), ("val", 20), ("test", 10)]:
        assert data[f"X_{split}"].shape == (count, 3, 32, 32)
        assert data[f"X_{split}"].dtype == np.float32
        # NCHW in memory too: a transposed view makes every minibatch gather slow
        assert data[f"X_{split}"].flags["C_CONTIGUOUS"]
        assert data[f"y_{split}"].shape == (count,)
        assert data[f"y_{split}"].dtype == np.int64
    assert data["class_names"] == CLASS_NAMES
    assert data["mean_image"].shape == (3, 32, 32)


def test_load_shapes_scales_to_unit_range_and_transposes() -> None:
    data = load_shapes(num_train=20, num_val=0, num_test=0, seed=5, subtract_mean=False)
    images, _ = generate_shapes(20, seed=5)
    expected = images.transpose(0, 3, 1, 2) / 255.0  # (N, 3, 32, 32)
    np.testing.assert_allclose(data["X_train"], expected, atol=1e-6)
    assert data["X_train"].min() >= 0.0 and data["X_train"].max() <= 1.0


def test_mean_image_comes_from_train_only() -> None:
    plain = load_shapes(num_train=60, num_val=10, num_test=10, seed=1, subtract_mean=False)
    centred = load_shapes(num_train=60, num_val=10, num_test=10, seed=1)
    mean = plain["X_train"].mean(axis=0)
    np.testing.assert_allclose(centred["mean_image"], mean, atol=1e-6)
    np.testing.assert_allclose(centred["X_train"].mean(axis=0), 0.0, atol=1e-5)
    for split in ("val", "test"):
        np.testing.assert_allclose(centred[f"X_{split}"], plain[f"X_{split}"] - mean, atol=1e-6)


def test_splits_are_disjoint_and_val_test_do_not_depend_on_num_train() -> None:
    small = load_shapes(num_train=40, num_val=30, num_test=30, subtract_mean=False)
    large = load_shapes(num_train=90, num_val=30, num_test=30, subtract_mean=False)
    np.testing.assert_array_equal(small["X_val"], large["X_val"])
    np.testing.assert_array_equal(small["X_test"], large["X_test"])
    rows = {
        split: {x.tobytes() for x in large[f"X_{split}"]} for split in ("train", "val", "test")
    }
    assert not rows["train"] & rows["val"]
    assert not rows["train"] & rows["test"]
    assert not rows["val"] & rows["test"]


def test_load_shapes_float64_and_empty_val_test() -> None:
    data = load_shapes(num_train=10, num_val=0, num_test=0, dtype=np.float64)
    assert data["X_train"].dtype == np.float64
    assert data["X_val"].shape == (0, 3, 32, 32)
    assert data["y_test"].shape == (0,)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        (
            {"num_train": -1},
            ValueError,
            "load_shapes: num_train must be a positive integer, got -1",
        ),
        ({"num_train": 0}, ValueError, "num_train must be a positive integer, got 0"),
        ({"num_train": 10.0}, TypeError, "num_train must be an integer, got 10.0"),
        ({"num_train": "100"}, TypeError, "num_train must be an integer, got '100'"),
        ({"num_val": -3}, ValueError, "num_val must be a non-negative integer, got -3"),
        ({"num_test": True}, TypeError, "num_test must be an integer, got True"),
        ({"seed": -1}, ValueError, "seed must be a non-negative integer, got -1"),
        ({"dtype": np.uint8}, TypeError, "dtype must be a floating type"),
        ({"dtype": "not a dtype"}, TypeError, "dtype must be a numpy floating type"),
    ],
)
def test_load_shapes_bad_arguments(kwargs: dict, error: type, message: str) -> None:
    arguments = {"num_train": 10, "num_val": 0, "num_test": 0, **kwargs}
    with pytest.raises(error, match=message):
        load_shapes(**arguments)


def test_generate_shapes_bad_arguments() -> None:
    with pytest.raises(ValueError, match="generate_shapes: num_images must be a non-negative"):
        generate_shapes(-5)
    with pytest.raises(TypeError, match="generate_shapes: seed must be an integer"):
        generate_shapes(5, seed=1.5)
