"""Tests for course/data/caption_scenes.py: procedural scenes of one to three shapes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from course.data.caption_scenes import (
    ALIGNED_WITHIN,
    APART_BY,
    COLOUR_NAMES,
    COLOURS,
    MAX_OBJECTS,
    SCENE_SIZE,
    SIZE_NAMES,
    CaptionScene,
    SceneObject,
    _extent,
    generate_caption_scenes,
    render_caption_scenes,
)
from course.data.shape_renderer import CLASS_NAMES

NOISE = 0.03 * np.sqrt(3.0) * 255 + 1  # the largest pixel noise (uniform) plus rounding


@pytest.fixture(scope="module")
def many() -> tuple[np.ndarray, list[CaptionScene]]:
    return generate_caption_scenes(1000, seed=3)


def test_images_are_uint8_64x64_rgb_with_one_scene_each(many) -> None:
    images, scenes = many
    assert images.shape == (1000, SCENE_SIZE, SCENE_SIZE, 3) and images.dtype == np.uint8
    assert len(scenes) == 1000 and all(isinstance(s, CaptionScene) for s in scenes)
    counts = np.bincount([len(s.objects) for s in scenes], minlength=MAX_OBJECTS + 1)
    assert counts[0] == 0 and all(counts[1:] > 200)  # one, two and three objects all common


def test_every_attribute_is_a_named_value_and_all_values_occur(many) -> None:
    _, scenes = many
    objects = [obj for s in scenes for obj in s.objects]
    assert {o.shape for o in objects} == set(CLASS_NAMES)
    assert {o.colour for o in objects} == set(COLOUR_NAMES)
    assert {o.size for o in objects} == set(SIZE_NAMES)
    small = [o.radius for o in objects if o.size == "small"]
    large = [o.radius for o in objects if o.size == "large"]
    assert max(small) * 1.4 < min(large)  # the two sizes are clearly apart
    assert 10 <= 2 * min(small) and 2 * max(large) <= 26  # 11 to 24 px across


def test_shapes_lie_inside_the_image_apart_and_each_axis_aligned_or_clearly_apart(many) -> None:
    _, scenes = many
    for scene in scenes:
        for obj in scene.objects:
            reach = _extent(obj.radius)
            assert reach <= obj.x <= SCENE_SIZE - reach and reach <= obj.y <= SCENE_SIZE - reach
        for a, b in itertools.combinations(scene.objects, 2):
            assert np.hypot(a.x - b.x, a.y - b.y) >= _extent(a.radius) + _extent(b.radius)
            for d in (abs(a.x - b.x), abs(a.y - b.y)):
                assert d < ALIGNED_WITHIN or d >= APART_BY


def test_counts_of_a_repeated_shape_or_colour_are_common(many) -> None:
    _, scenes = many
    repeated_shape = sum(len({o.shape for o in s.objects}) < len(s.objects) for s in scenes)
    repeated_colour = sum(len({o.colour for o in s.objects}) < len(s.objects) for s in scenes)
    assert repeated_shape > 100 and repeated_colour > 150


def test_each_object_shows_its_palette_colour_and_the_rest_is_background(many) -> None:
    images, scenes = many
    yy, xx = np.mgrid[0:SCENE_SIZE, 0:SCENE_SIZE] + 0.5
    for image, scene in zip(images[:200], scenes[:200], strict=True):
        far = np.ones((SCENE_SIZE, SCENE_SIZE), dtype=bool)
        for obj in scene.objects:
            far &= np.hypot(xx - obj.x, yy - obj.y) > _extent(obj.radius)
            if obj.shape != "ring":  # a ring's centre is its hole
                centre = image[int(obj.y), int(obj.x)].astype(float)
                assert np.abs(centre - 255 * np.array(COLOURS[obj.colour])).max() <= NOISE
        background = 255 * np.array(scene.background)
        assert np.abs(image[far] - background).max() <= NOISE


def test_the_same_seed_and_stream_give_identical_bytes_and_scenes() -> None:
    a_images, a_scenes = generate_caption_scenes(30, seed=5, stream=2)
    b_images, b_scenes = generate_caption_scenes(30, seed=5, stream=2)
    assert a_images.tobytes() == b_images.tobytes() and a_scenes == b_scenes


def test_other_seeds_and_streams_give_other_scenes() -> None:
    base, _ = generate_caption_scenes(20, seed=0)
    assert not np.array_equal(base, generate_caption_scenes(20, seed=1)[0])
    assert not np.array_equal(base, generate_caption_scenes(20, seed=0, stream=1)[0])


def test_scene_i_does_not_depend_on_how_many_are_requested() -> None:
    few_images, few_scenes = generate_caption_scenes(260, seed=2)  # crosses a chunk boundary
    many_images, many_scenes = generate_caption_scenes(520, seed=2)
    assert few_images.tobytes() == many_images[:260].tobytes()
    assert few_scenes == many_scenes[:260]


def test_zero_scenes_give_empty_results() -> None:
    images, scenes = generate_caption_scenes(0)
    assert images.shape == (0, SCENE_SIZE, SCENE_SIZE, 3) and scenes == []


def test_rendering_the_scenes_again_gives_the_images_up_to_noise(many) -> None:
    images, scenes = many
    clean = render_caption_scenes(scenes[:300])
    assert np.abs(clean.astype(int) - images[:300]).max() <= NOISE
    again = render_caption_scenes(scenes[:300], np.random.default_rng(0))
    assert np.abs(again.astype(int) - clean).max() <= NOISE


def test_a_scene_built_by_hand_is_drawn_where_it_says_even_at_the_border() -> None:
    scene = CaptionScene(
        (
            SceneObject("square", "red", "large", x=16.0, y=20.0, radius=11.0),
            SceneObject("circle", "blue", "small", x=50.0, y=48.0, radius=6.0),
        ),
        background=(0.2, 0.2, 0.2),
    )
    image = render_caption_scenes([scene])[0]
    assert tuple(image[20, 16]) == (230, 31, 31)  # red: (0.90, 0.12, 0.12) * 255, rounded
    assert tuple(image[48, 50]) == (38, 89, 255)  # blue
    assert tuple(image[5, 60]) == (51, 51, 51)  # background
    assert tuple(image[20, 27]) == (51, 51, 51)  # just right of the square (side 2*0.72*11)
    corner = CaptionScene((SceneObject("circle", "white", "large", x=0.0, y=64.0, radius=14.0),))
    image = render_caption_scenes([corner])[0]  # a quarter of the circle shows
    assert tuple(image[63, 0]) == (242, 242, 242) and tuple(image[0, 63]) == (64, 64, 64)
    covered = (image[:, :, 0] > (242 + 64) / 2).sum()  # at least half covered
    assert covered == pytest.approx(np.pi * (0.9 * 14) ** 2 / 4, rel=0.03)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"shape": "oval"}, "shape 'oval' is not one of"),
        ({"colour": "orange"}, "colour 'orange' is not one of"),
        ({"size": "medium"}, "size 'medium' is not one of"),
        ({"x": -1.0}, "lies outside the 64x64 image"),
        ({"y": 64.5}, "lies outside the 64x64 image"),
        ({"radius": 15.0}, "radius 15.0 must be in \\(0, 14.0\\]"),
        ({"radius": 0.0}, "radius 0.0 must be in"),
    ],
)
def test_scene_objects_refuse_unknown_attributes(fields: dict, message: str) -> None:
    base = {"shape": "circle", "colour": "red", "size": "small", "x": 10.0, "y": 10.0, "radius": 6}
    with pytest.raises(ValueError, match=message):
        SceneObject(**{**base, **fields})


def test_a_caption_scene_needs_a_tuple_of_objects() -> None:
    obj = SceneObject("circle", "red", "small", 10.0, 10.0, 6.0)
    with pytest.raises(TypeError, match="tuple of SceneObject"):
        CaptionScene([obj])
    with pytest.raises(ValueError, match="3 floats"):
        CaptionScene((obj,), background=(0.1, 0.2))
    with pytest.raises(ValueError, match="4 objects; a scene holds at most 3"):
        CaptionScene((obj,) * 4)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"num_scenes": -1}, ValueError, "num_scenes must be a non-negative integer"),
        ({"num_scenes": 2.5}, TypeError, "num_scenes must be an integer"),
        ({"num_scenes": True}, TypeError, "num_scenes must be an integer"),
        ({"num_scenes": 3, "seed": -1}, ValueError, "seed must be a non-negative"),
        ({"num_scenes": 3, "stream": "1"}, TypeError, "stream must be an integer"),
    ],
)
def test_generate_refuses_bad_arguments(kwargs: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        generate_caption_scenes(**kwargs)


def test_render_refuses_what_is_not_a_list_of_scenes() -> None:
    _, scenes = generate_caption_scenes(2)
    with pytest.raises(TypeError, match="sequence of CaptionScene"):
        render_caption_scenes(scenes[0])
    with pytest.raises(TypeError, match="numpy Generator"):
        render_caption_scenes(scenes, rng=0)
