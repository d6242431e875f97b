"""Caption scenes: procedural 64x64 images of one to three shapes, made to be described.

Every scene shows one, two or three non-overlapping shapes of the Shapes-10
kinds (``CLASS_NAMES``) on a plain dark-grey background (grey level 0.15 to
0.4, faintly tinted) with light pixel noise. Each object has a shape, a
colour from a small palette of clearly distinct named colours
(``COLOUR_NAMES``), a size class (``'small'`` or ``'large'``, far apart in
pixels) and a position. The scenes are drawn so that every fact a caption can
state is plainly visible:

- sizes: small shapes have circumradius 5.5-7 px (11-14 px across), large
  ones 10-12 px (20-24 px across), the range of Shapes-10;
- no overlap: the outlines of two shapes are at least 3 px apart, and every
  shape lies wholly inside the image;
- positions: along each axis the centres of two objects are either aligned
  (less than ``ALIGNED_WITHIN`` = 3 px apart) or clearly apart (at least
  ``APART_BY`` = 12 px); nothing lies in between, so whether one object is
  "left of" or "above" another (``RELATION_MARGIN`` = 8 px, see
  :mod:`course.data.caption_grammar`) never hinges on a few pixels.

The captions, their grammar and their judge live in
:mod:`course.data.caption_grammar` and :mod:`course.data.caption_facts`;
the ready-made dataset (splits, vocabulary, integer captions) in
:mod:`course.data.caption_dataset`. Shapes are drawn with the Shapes-10 signed
distance functions of :mod:`course.data.shape_renderer`, anti-aliased the same way.

Generation is deterministic: the same (seed, stream) gives byte-identical
images and equal scenes, made in independently seeded chunks so that scene
``i`` does not depend on how many scenes are requested.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from course.data.shape_renderer import CLASS_NAMES, _shape_sdf
from course.validation import require_positive_int

__all__ = [
    "ALIGNED_WITHIN",
    "APART_BY",
    "COLOURS",
    "COLOUR_NAMES",
    "MAX_OBJECTS",
    "SCENE_SIZE",
    "SIZE_NAMES",
    "CaptionScene",
    "SceneObject",
    "generate_caption_scenes",
    "render_caption_scenes",
]

SCENE_SIZE = 64
MAX_OBJECTS = 3
# The palette: names and RGB in [0, 1], chosen to stay distinct from each
# other and from the dark grey background after noise and anti-aliasing.
COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (0.90, 0.12, 0.12),
    "green": (0.15, 0.75, 0.20),
    "blue": (0.15, 0.35, 1.00),
    "yellow": (0.95, 0.85, 0.10),
    "white": (0.95, 0.95, 0.95),
    "purple": (0.65, 0.20, 0.85),
}
COLOUR_NAMES: tuple[str, ...] = tuple(COLOURS)
SIZE_NAMES: tuple[str, ...] = ("small", "large")
ALIGNED_WITHIN = 3.0  # generated centres closer than this along an axis count as aligned ...
APART_BY = 12.0  # ... and otherwise are at least this far apart along it

_RADIUS = {"small": (5.5, 7.0), "large": (10.0, 12.0)}  # circumradius ranges, pixels
_NUM_OBJECTS_P = (0.3, 0.4, 0.3)  # P(1, 2, 3 objects)
_COPY_P = 0.25  # P(an object copies the shape / the colour of an earlier one): gives counts
_MAX_ANGLE = 20.0  # degrees
_BACKGROUND = (0.15, 0.40)  # grey level of the background
_TINT = 0.03  # per-channel tint of the background
_NOISE_SIGMA = 0.03  # standard deviation of the per-pixel noise
_GAP = 3.0  # least gap between two outlines, pixels
_BORDER = 1.0  # least gap between an outline and the image border
_CANDIDATES = 4096  # layouts drawn per round for all unplaced scenes together (16 or more each)
_CHUNK = 250  # scenes per independently seeded chunk
_WINDOW = 32  # each shape is drawn in a 32x32 window (the Shapes-10 grid) around its centre
_HALF = _WINDOW // 2
_MAX_RADIUS = 14.0  # the largest shape that fits its window: 1.05 * 14 + 1 < 16


def _extent(radius):
    """How far (px) a shape of circumradius ``radius`` reaches from its centre, blur included."""
    return 1.05 * radius + 1.0


@dataclass(frozen=True)
class SceneObject:
    """One shape of a caption scene.

    Attributes
    ----------
    shape : str, one of ``CLASS_NAMES`` ('circle', 'square', ...)
    colour : str, one of ``COLOUR_NAMES``
    size : str, 'small' or 'large'
    x, y : float
        Centre in pixels, x to the right and y *downwards* from the top-left
        corner of the 64x64 image.
    radius : float
        Circumradius in pixels (the shape is about ``2 * radius`` across).
    angle : float
        Counter-clockwise rotation in degrees (invisible for circles and rings).
    """

    shape: str
    colour: str
    size: str
    x: float
    y: float
    radius: float
    angle: float = 0.0

    def __post_init__(self) -> None:
        for field, allowed in (
            ("shape", CLASS_NAMES),
            ("colour", COLOUR_NAMES),
            ("size", SIZE_NAMES),
        ):
            if getattr(self, field) not in allowed:
                raise ValueError(
                    f"SceneObject: {field} {getattr(self, field)!r} is not one of {allowed}"
                )
        if not (0 <= self.x <= SCENE_SIZE and 0 <= self.y <= SCENE_SIZE):
            raise ValueError(
                f"SceneObject: the centre ({self.x}, {self.y}) lies outside the "
                f"{SCENE_SIZE}x{SCENE_SIZE} image; x and y must be in [0, {SCENE_SIZE}]"
            )
        if not 0 < self.radius <= _MAX_RADIUS:
            raise ValueError(
                f"SceneObject: radius {self.radius} must be in (0, {_MAX_RADIUS}] pixels "
                f"(a shape is drawn in a {_WINDOW}x{_WINDOW} window around its centre)"
            )


@dataclass(frozen=True)
class CaptionScene:
    """A caption scene: its objects and its plain background colour.

    Attributes
    ----------
    objects : tuple of SceneObject, at most ``MAX_OBJECTS`` of them (generated
        scenes have at least one), in drawing order
    background : tuple of 3 floats, the background's RGB in [0, 1]
    """

    objects: tuple[SceneObject, ...]
    background: tuple[float, float, float] = (0.25, 0.25, 0.25)

    def __post_init__(self) -> None:
        if not isinstance(self.objects, tuple) or not all(
            isinstance(obj, SceneObject) for obj in self.objects
        ):
            raise TypeError("CaptionScene: objects must be a tuple of SceneObject")
        if len(self.objects) > MAX_OBJECTS:
            raise ValueError(
                f"CaptionScene: {len(self.objects)} objects; a scene holds at most {MAX_OBJECTS} "
                "(the grammar counts up to 'three')"
            )
        if len(self.background) != 3:
            raise ValueError(
                f"CaptionScene: background must be 3 floats (RGB), got {self.background}"
            )


# ---------------------------------------------------------------------------
# Sampling: the parameters of a chunk of scenes
# ---------------------------------------------------------------------------


def _sample_layout(rng: np.random.Generator, extent: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Centres (m, 3, 2) for scenes of ``count`` (m,) objects with ``extent`` (m, 3).

    Rejection sampling, vectorised: draw K candidate layouts per scene and
    keep the first that passes every rule (inside the image, no overlap,
    each axis aligned or clearly apart); redraw for the scenes with none.
    """
    m = len(count)
    centres = np.empty((m, MAX_OBJECTS, 2))
    todo = np.arange(m)
    first, second = np.triu_indices(MAX_OBJECTS, k=1)  # the 3 pairs (0, 1), (0, 2), (1, 2)
    while todo.size:
        k = max(16, _CANDIDATES // todo.size)  # more tries each for the few hard scenes left
        ext = extent[todo][:, None, :, None]  # (t, 1, 3, 1)
        low = ext + _BORDER
        candidate = low + rng.random((todo.size, k, MAX_OBJECTS, 2)) * (
            SCENE_SIZE - 2 * low
        )  # (t, K, 3, 2)
        delta = np.abs(candidate[:, :, first] - candidate[:, :, second])  # (t, K, 3 pairs, 2)
        apart = np.hypot(delta[..., 0], delta[..., 1])  # (t, K, 3 pairs)
        needed = ext[:, :, first, 0] + ext[:, :, second, 0] + _GAP  # (t, 1, 3 pairs)
        clear = (delta < ALIGNED_WITHIN) | (delta >= APART_BY)
        ok_pair = (apart >= needed) & clear.all(axis=-1)
        active = second[None, :] < count[todo][:, None]  # (t, 3 pairs): both objects exist
        ok = (ok_pair | ~active[:, None, :]).all(axis=-1)  # (t, K)
        found = ok.any(axis=1)
        choice = ok.argmax(axis=1)
        centres[todo[found]] = candidate[found, choice[found]]
        todo = todo[~found]
    return centres


def _sample_scenes(rng: np.random.Generator, m: int) -> list[CaptionScene]:
    """Draw m scenes from ``rng``: objects, then their layout, then the background."""
    count = rng.choice(np.arange(1, MAX_OBJECTS + 1), size=m, p=_NUM_OBJECTS_P)
    shape = rng.integers(0, len(CLASS_NAMES), size=(m, MAX_OBJECTS))
    colour = rng.integers(0, len(COLOUR_NAMES), size=(m, MAX_OBJECTS))
    for j in range(1, MAX_OBJECTS):  # sometimes repeat a shape or a colour, so counts occur
        source = rng.integers(0, j, size=(2, m))
        copy = rng.random((2, m)) < _COPY_P
        shape[:, j] = np.where(copy[0], shape[np.arange(m), source[0]], shape[:, j])
        colour[:, j] = np.where(copy[1], colour[np.arange(m), source[1]], colour[:, j])
    large = rng.random((m, MAX_OBJECTS)) < 0.5
    low = np.where(large, _RADIUS["large"][0], _RADIUS["small"][0])
    high = np.where(large, _RADIUS["large"][1], _RADIUS["small"][1])
    radius = low + rng.random((m, MAX_OBJECTS)) * (high - low)
    angle = rng.uniform(-_MAX_ANGLE, _MAX_ANGLE, size=(m, MAX_OBJECTS))
    grey = rng.uniform(*_BACKGROUND, size=(m, 1))
    background = np.clip(grey + rng.uniform(-_TINT, _TINT, size=(m, 3)), 0.0, 1.0)
    centre = _sample_layout(rng, _extent(radius), count)

    scenes = []
    for i in range(m):
        objects = tuple(
            SceneObject(
                shape=CLASS_NAMES[shape[i, j]],
                colour=COLOUR_NAMES[colour[i, j]],
                size=SIZE_NAMES[int(large[i, j])],
                x=float(centre[i, j, 0]),
                y=float(centre[i, j, 1]),
                radius=float(radius[i, j]),
                angle=float(angle[i, j]),
            )
            for j in range(count[i])
        )
        scenes.append(CaptionScene(objects, tuple(float(v) for v in background[i])))
    return scenes


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------


def _render(scenes: Sequence[CaptionScene], rng: np.random.Generator | None, out: np.ndarray):
    """Draw ``scenes`` into ``out``, uint8 (m, 64, 64, 3); noise from ``rng`` unless None."""
    f32 = np.float32
    owner = [i for i, s in enumerate(scenes) for _ in s.objects]
    objects = [obj for s in scenes for obj in s.objects]
    label = np.array([CLASS_NAMES.index(o.shape) for o in objects], dtype=np.int64)
    centre = np.array([(o.x, o.y) for o in objects], dtype=np.float64).reshape(-1, 2)
    radius = np.array([o.radius for o in objects], dtype=np.float64)
    angle = np.deg2rad(np.array([o.angle for o in objects], dtype=np.float64))

    # 1. Each shape's coverage in a 32x32 window (the Shapes-10 grid) around
    #    it: the window's corner is the centre rounded down, minus 16.
    corner = np.floor(centre).astype(np.int64) - _HALF  # (n, 2) x, y of the window's corner
    cover = np.empty((len(objects), _WINDOW, _WINDOW), dtype=f32)  # (n, 32, 32)
    for k, name in enumerate(CLASS_NAMES):
        rows = np.flatnonzero(label == k)
        if rows.size:
            dist = _shape_sdf(name, centre[rows] - corner[rows], radius[rows], angle[rows])
            cover[rows] = np.clip(0.5 - dist, 0.0, 1.0)

    # 2. Paint the background, then blend each shape into its window (the
    #    part of the window inside the image; the shape lies wholly inside).
    canvas = np.empty(out.shape, dtype=f32)  # (m, 64, 64, 3)
    canvas[:] = np.array([s.background for s in scenes], dtype=f32).reshape(-1, 1, 1, 3)
    for i, (scene, obj) in enumerate(zip(owner, objects, strict=True)):
        (x0, y0), rgb = corner[i], np.array(COLOURS[obj.colour], dtype=f32)
        cx, cy = max(-x0, 0), max(-y0, 0)  # window pixels cut off at the left / top border
        region = canvas[scene, y0 + cy : y0 + _WINDOW, x0 + cx : x0 + _WINDOW]  # (h, w, 3)
        alpha = cover[i, cy : cy + region.shape[0], cx : cx + region.shape[1], None]
        region += alpha * (rgb - region)

    # 3. Pixel noise, then quantise to bytes.
    if rng is not None:
        noise = rng.random(canvas.shape, dtype=f32)
        noise -= 0.5
        noise *= f32(np.sqrt(12.0) * _NOISE_SIGMA)  # uniform noise with this standard deviation
        canvas += noise
    np.clip(canvas, 0.0, 1.0, out=canvas)
    canvas *= f32(255.0)
    canvas += f32(0.5)  # round to nearest when the cast truncates
    np.copyto(out, canvas, casting="unsafe")


def render_caption_scenes(
    scenes: Sequence[CaptionScene], rng: np.random.Generator | None = None
) -> np.ndarray:
    """Draw caption scenes (for instance ones built by hand) into images.

    Inputs
    ------
    scenes : sequence of N CaptionScene
    rng : numpy Generator or None
        Where the per-pixel noise comes from; None draws the scenes without noise.

    Returns
    -------
    images : np.ndarray of uint8, shape (N, 64, 64, 3), RGB, channels last
    """
    if isinstance(scenes, CaptionScene) or not all(isinstance(s, CaptionScene) for s in scenes):
        raise TypeError("render_caption_scenes: scenes must be a sequence of CaptionScene")
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"render_caption_scenes: rng must be a numpy Generator or None, got {rng!r}"
        )
    images = np.empty((len(scenes), SCENE_SIZE, SCENE_SIZE, 3), dtype=np.uint8)
    for start in range(0, len(scenes), _CHUNK):
        _render(scenes[start : start + _CHUNK], rng, images[start : start + _CHUNK])
    return images


def generate_caption_scenes(
    num_scenes: int, seed: int = 0, *, stream: int = 0
) -> tuple[np.ndarray, list[CaptionScene]]:
    """Generate caption scenes: images and the objects they show.

    Inputs
    ------
    num_scenes : int
        N, how many scenes to make (0 gives an empty array and list).
    seed : int
        Non-negative seed; the same (seed, stream) gives byte-identical images.
    stream : int
        Non-negative stream number, for independent splits of one seed
        (``load_caption_scenes`` uses 0 for train, 1 for val, 2 for test).
        Scene i of a stream does not depend on ``num_scenes``.

    Returns
    -------
    images : np.ndarray of uint8, shape (N, 64, 64, 3), RGB, channels last
    scenes : list of N CaptionScene, scene i being what image i shows
    """
    func = "generate_caption_scenes"
    num_scenes = require_positive_int(func, "num_scenes", num_scenes, allow_zero=True)
    seed = require_positive_int(func, "seed", seed, allow_zero=True)
    stream = require_positive_int(func, "stream", stream, allow_zero=True)
    images = np.empty((num_scenes, SCENE_SIZE, SCENE_SIZE, 3), dtype=np.uint8)
    scenes: list[CaptionScene] = []
    for index, start in enumerate(range(0, num_scenes, _CHUNK)):
        stop = min(start + _CHUNK, num_scenes)
        rng = np.random.default_rng([seed, stream, index])
        chunk = _sample_scenes(rng, _CHUNK)[: stop - start]  # always a full chunk's draws
        _render(chunk, rng, images[start:stop])
        scenes.extend(chunk)
    return images, scenes
