"""Tests for course/data/shape_renderer.py: scene sampling and painting behind Shapes-10."""

import numpy as np

from course.data.shape_renderer import (
    CLASS_NAMES,
    IMAGE_SIZE,
    NUM_CLASSES,
    make_workspace,
    render_scenes,
    sample_scenes,
)
from course.data.shapes import generate_shapes


def test_scenes_come_in_blocks_of_ten_that_hold_every_class_once():
    scenes = sample_scenes(np.random.default_rng(0), 60)
    assert NUM_CLASSES == len(CLASS_NAMES) == 10
    assert all(value.shape[0] == 60 for value in scenes.values())
    blocks = np.sort(scenes["labels"].reshape(6, 10), axis=1)
    np.testing.assert_array_equal(blocks, np.tile(np.arange(10), (6, 1)))


def test_render_scenes_paints_uint8_images_into_out():
    scenes = sample_scenes(np.random.default_rng(1), 20)
    out = np.zeros((20, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    render_scenes(scenes, np.random.default_rng(2), out, make_workspace(40))  # a larger workspace
    assert out.reshape(20, -1).std(axis=1).min() > 5  # every image has content


def test_generate_shapes_is_the_renderer_on_seeded_chunks():
    """One chunk of 200 images of stream 0 is one (seed, stream, chunk) generator's scenes."""
    images, labels = generate_shapes(200, seed=5)
    rng = np.random.default_rng([5, 0, 0])
    scenes = sample_scenes(rng, 200)
    out = np.empty_like(images)
    render_scenes(scenes, rng, out, make_workspace(200))
    np.testing.assert_array_equal(out, images)
    np.testing.assert_array_equal(scenes["labels"], labels)
