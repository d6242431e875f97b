"""The procedural renderer behind Shapes-10: ten shapes drawn into cluttered 32x32 scenes.

``sample_scenes`` draws the random parameters of a chunk of scenes (label,
size, position, rotation and colour of the shape; the background and its
distractors), and ``render_scenes`` paints them into uint8 pixels. The
dataset API on top (seeding, chunks, splits) is :mod:`course.data.shapes`.

Shapes are drawn anti-aliased from signed distance functions (SDFs): a pixel
whose centre lies at signed distance ``d`` pixels from the outline (negative
inside) is covered by ``clip(0.5 - d, 0, 1)`` of the shape's colour.

Everything is vectorised over chunks of images (no Python loop over pixels),
so 50,000 images take a few seconds on one core, and it is deterministic: the
same generator state gives byte-identical pixels. Rendering works in float32
and in place in preallocated work arrays (``make_workspace``); change no
operation or its order here without checking that the images stay
byte-identical, since the shipped pretrained model was trained on them.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "CLASS_NAMES",
    "IMAGE_SIZE",
    "NUM_CLASSES",
    "make_workspace",
    "plain_scenes",
    "render_scenes",
    "sample_scenes",
]

CLASS_NAMES: tuple[str, ...] = (
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
NUM_CLASSES = len(CLASS_NAMES)
IMAGE_SIZE = 32

# The random ranges of one scene. Sizes are circumradii in pixels, so a shape
# is 2 * size pixels across; angles are in degrees.
_SIZE_RANGE = (5.5, 12.0)
_MAX_ANGLE = 30.0
_NUM_LINES = 3
_LINE_PROBABILITY = 0.7
_LINE_HALF_WIDTH = (0.4, 1.1)
_NUM_BLOBS = 2
_BLOB_SIGMA = (2.0, 5.0)
_FIELD_STRENGTH = 0.12
_NOISE_SIGMA = (0.02, 0.07)
_COLOUR_CANDIDATES = 4

# Pixel centres along one axis: x for columns, y for rows (y grows downwards).
_COORDS = np.arange(IMAGE_SIZE, dtype=np.float32) + np.float32(0.5)


def _regular_polygon(num: int, radius: float, start_deg: float) -> np.ndarray:
    """Vertices (num, 2) of a regular polygon, counter-clockwise, y pointing up."""
    angles = np.deg2rad(start_deg + 360.0 * np.arange(num) / num)
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def _star_pieces() -> list[np.ndarray]:
    """A five-pointed star as convex pieces: the inner pentagon and five spikes."""
    tips = _regular_polygon(5, 1.0, 90.0)
    inner = _regular_polygon(5, 0.45, 90.0 + 36.0)  # inner[i] sits between tips i and i+1
    spikes = [np.stack([inner[i - 1], tips[i], inner[i]]) for i in range(5)]
    return [inner, *spikes]


def _box(x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
    """Vertices (4, 2) of an axis-aligned rectangle."""
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])


# Each polygonal class is a union of convex polygons, in unit coordinates
# (y up, circumradius about 1) before scaling by the size and rotating.
_HEART_SIDE = 1.1  # side of the heart's tilted square; its circles have diameter _HEART_SIDE
_HEART_SHIFT = 0.14  # moves the heart up so that it is centred vertically
_POLYGONS: dict[str, list[np.ndarray]] = {
    "square": [_box(-0.72, 0.72, -0.72, 0.72)],
    "triangle": [_regular_polygon(3, 1.0, 90.0)],
    "diamond": [np.array([[0.0, -1.0], [0.6, 0.0], [0.0, 1.0], [-0.6, 0.0]])],
    "hexagon": [_regular_polygon(6, 0.95, 0.0)],
    "star": _star_pieces(),
    "cross": [_box(-0.92, 0.92, -0.3, 0.3), _box(-0.3, 0.3, -0.92, 0.92)],
    "arrow": [
        _box(-0.95, 0.2, -0.24, 0.24),
        np.array([[0.2, -0.62], [0.95, 0.0], [0.2, 0.62]]),
    ],
    "heart": [
        _regular_polygon(4, _HEART_SIDE / np.sqrt(2), 0.0)
        + np.array([0.0, -1.0 + _HEART_SIDE / np.sqrt(2) + _HEART_SHIFT])
    ],
}
_HEART_CIRCLE_CENTRES = np.array(
    [
        [sign * _HEART_SIDE / (2 * np.sqrt(2)), -1.0 + 3 * _HEART_SIDE / (2 * np.sqrt(2))]
        for sign in (-1.0, 1.0)
    ]
) + np.array([0.0, _HEART_SHIFT])
_CIRCLE_RADIUS = 0.9
_RING_RADIUS, _RING_HALF_WIDTH = 0.72, 0.24


# ---------------------------------------------------------------------------
# Signed distances on the pixel grid, for m images at once
# ---------------------------------------------------------------------------


def _to_pixels(points: np.ndarray, centre: np.ndarray, size: np.ndarray, angle: np.ndarray):
    """Map unit-coordinate points (k, 2), y up, to pixel coordinates of m images.

    Returns x, y, each (m, k): rotate counter-clockwise by ``angle`` (radians,
    shape (m,)), scale by ``size`` (m,), flip y to point down, move to ``centre`` (m, 2).
    """
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    px, py = points[None, :, 0], points[None, :, 1]
    x = centre[:, 0:1] + size[:, None] * (px * cos - py * sin)
    y = centre[:, 1:2] - size[:, None] * (px * sin + py * cos)
    return x, y


def _convex_sdf(vx: np.ndarray, vy: np.ndarray) -> np.ndarray:
    """Signed distance (m, 32, 32) in pixels to convex polygons with vertices ``vx, vy`` (m, k).

    The distance is the largest signed distance to the edges' lines: exact
    inside and along the edges, slightly short of exact beyond the corners,
    which only sharpens the corners by a fraction of a pixel.
    """
    ex = np.roll(vx, -1, axis=1) - vx  # (m, k) edge vectors
    ey = np.roll(vy, -1, axis=1) - vy
    length = np.sqrt(ex**2 + ey**2)
    # Orientation from the signed area (shoelace), so the normals point outwards.
    area2 = np.sum(vx * np.roll(vy, -1, axis=1) - np.roll(vx, -1, axis=1) * vy, axis=1)
    sign = np.where(area2 > 0, 1.0, -1.0)[:, None]
    nx, ny = sign * ey / length, -sign * ex / length  # (m, k) outward unit normals
    offset = nx * vx + ny * vy
    nx, ny, offset = (a.astype(np.float32) for a in (nx, ny, offset))
    dist = None
    for j in range(vx.shape[1]):
        # (m, 1, 32) + (m, 32, 1) -> (m, 32, 32): one full-size operation per edge
        along_x = _COORDS[None, None, :] * nx[:, j, None, None]
        along_y = _COORDS[None, :, None] * ny[:, j, None, None] - offset[:, j, None, None]
        edge = along_x + along_y
        dist = edge if dist is None else np.maximum(dist, edge, out=dist)
    return dist


def _circle_sdf(cx: np.ndarray, cy: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Signed distance (m, 32, 32) to circles with centres ``cx, cy`` and radii (m,)."""
    dx2 = ((_COORDS[None, None, :] - cx[:, None, None]) ** 2).astype(np.float32)
    dy2 = ((_COORDS[None, :, None] - cy[:, None, None]) ** 2).astype(np.float32)
    return np.sqrt(dx2 + dy2) - radius[:, None, None].astype(np.float32)


def _shape_sdf(name: str, centre: np.ndarray, size: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Signed distance (m, 32, 32) in pixels to m shapes of one class."""
    cx, cy = centre[:, 0], centre[:, 1]
    if name == "circle":
        return _circle_sdf(cx, cy, _CIRCLE_RADIUS * size)
    if name == "ring":
        dist = _circle_sdf(cx, cy, _RING_RADIUS * size)
        return np.abs(dist) - (_RING_HALF_WIDTH * size)[:, None, None].astype(np.float32)
    dist = None
    for piece in _POLYGONS[name]:
        piece_dist = _convex_sdf(*_to_pixels(piece, centre, size, angle))
        dist = piece_dist if dist is None else np.minimum(dist, piece_dist, out=dist)
    if name == "heart":
        ccx, ccy = _to_pixels(_HEART_CIRCLE_CENTRES, centre, size, angle)
        for j in range(2):
            circle = _circle_sdf(ccx[:, j], ccy[:, j], size * _HEART_SIDE / 2)
            dist = np.minimum(dist, circle, out=dist)
    return dist


def shape_coverage(scenes: dict[str, np.ndarray]) -> np.ndarray:
    """How much of each pixel the shape covers, (m, 32, 32) in [0, 1], as it is painted.

    ``scenes`` needs ``labels``, ``centre``, ``size`` and ``angle`` (m,...);
    the coverage is what :func:`render_scenes` paints the shape's colour with.
    """
    labels = scenes["labels"]
    cover = np.zeros((len(labels), IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    for k, name in enumerate(CLASS_NAMES):
        rows = np.flatnonzero(labels == k)
        if rows.size:
            dist = _shape_sdf(
                name, scenes["centre"][rows], scenes["size"][rows], scenes["angle"][rows]
            )
            cover[rows] = np.clip(0.5 - dist, 0.0, 1.0)
    return cover


def _segment_distance(ax, ay, bx, by, out: np.ndarray, scratch: np.ndarray) -> np.ndarray:
    """Distance in pixels to segments from (ax, ay) to (bx, by), each (m,), written into ``out``.

    ``out`` and ``scratch`` are (m, 32, 32) float32 work arrays; returns ``out``.
    """
    dx, dy = bx - ax, by - ay
    inv = 1.0 / np.maximum(dx**2 + dy**2, 1e-6)
    px = (_COORDS[None, None, :] - ax[:, None, None]).astype(np.float32)  # (m, 1, 32)
    py = (_COORDS[None, :, None] - ay[:, None, None]).astype(np.float32)  # (m, 32, 1)
    dx, dy, inv = (a[:, None, None].astype(np.float32) for a in (dx, dy, inv))
    # 1. t in [0, 1]: where along the segment the closest point lies.
    t = np.add(px * (dx * inv), py * (dy * inv), out=scratch)  # (m, 32, 32)
    np.clip(t, 0.0, 1.0, out=t)
    # 2. distance = |p - t * d|, computed in place.
    ex = np.subtract(px, np.multiply(t, dx, out=out), out=out)  # x offset from the closest point
    np.square(ex, out=ex)
    ey = np.subtract(py, np.multiply(t, dy, out=scratch), out=scratch)
    ex += np.square(ey, out=ey)
    return np.sqrt(ex, out=ex)


# ---------------------------------------------------------------------------
# Scenes: random parameters, then rendering
# ---------------------------------------------------------------------------


def balanced_labels(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """int64 (n,) labels in [0, k) (n a multiple of k), each block of k a permutation of them.

    Any prefix of such a stream is as balanced as it can be.
    """
    blocks = np.tile(np.arange(k, dtype=np.int64), (n // k, 1))
    return rng.permuted(blocks, axis=1).reshape(n)


def sample_scenes(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Draw the parameters of n scenes (n a multiple of 10) from ``rng``.

    Labels come in blocks of ten that are each a permutation of the classes,
    so any prefix of the stream is as balanced as it can be. Every other
    parameter is drawn without looking at the label.
    """
    labels = balanced_labels(rng, n, NUM_CLASSES)
    size = rng.uniform(*_SIZE_RANGE, size=n)
    # Keep the shape (almost) inside the image: its centre at least 0.9 * size from each border.
    margin = 0.9 * size[:, None]
    centre = margin + rng.random((n, 2)) * (IMAGE_SIZE - 2 * margin)
    angle = np.deg2rad(rng.uniform(-_MAX_ANGLE, _MAX_ANGLE, size=n))

    # Background: a linear gradient from colour_a to colour_b along a random direction.
    bg_a, bg_b = rng.random((n, 3)), rng.random((n, 3))
    direction = rng.uniform(0.0, 2 * np.pi, size=n)
    field = rng.normal(0.0, _FIELD_STRENGTH, size=(n, 3, 4, 4))
    line_ends = rng.uniform(-4.0, IMAGE_SIZE + 4.0, size=(n, _NUM_LINES, 4))
    line_width = rng.uniform(*_LINE_HALF_WIDTH, size=(n, _NUM_LINES))
    line_colour = rng.random((n, _NUM_LINES, 3))
    line_alpha = rng.uniform(0.5, 1.0, size=(n, _NUM_LINES))
    line_alpha *= rng.random((n, _NUM_LINES)) < _LINE_PROBABILITY
    blob_centre = rng.uniform(0.0, IMAGE_SIZE, size=(n, _NUM_BLOBS, 2))
    blob_sigma = rng.uniform(*_BLOB_SIGMA, size=(n, _NUM_BLOBS))
    blob_colour = rng.random((n, _NUM_BLOBS, 3))
    blob_alpha = rng.uniform(0.3, 0.8, size=(n, _NUM_BLOBS))
    noise_sigma = rng.uniform(*_NOISE_SIGMA, size=n)

    # The shape's colour: of a few random candidates, the one farthest from the
    # background gradient's colour at the shape's centre.
    candidates = rng.random((n, _COLOUR_CANDIDATES, 3))
    bg_at_centre = _gradient(bg_a, bg_b, direction, centre[:, 0], centre[:, 1])  # (n, 3)
    distance = np.linalg.norm(candidates - bg_at_centre[:, None, :], axis=2)
    colour = candidates[np.arange(n), np.argmax(distance, axis=1)]
    return {
        "labels": labels,
        "centre": centre,
        "size": size,
        "angle": angle,
        "colour": colour,
        "bg_a": bg_a,
        "bg_b": bg_b,
        "direction": direction,
        "field": field,
        "line_ends": line_ends,
        "line_width": line_width,
        "line_colour": line_colour,
        "line_alpha": line_alpha,
        "blob_centre": blob_centre,
        "blob_sigma": blob_sigma,
        "blob_colour": blob_colour,
        "blob_alpha": blob_alpha,
        "noise_sigma": noise_sigma,
    }


def plain_scenes(
    labels: np.ndarray,
    centre: np.ndarray,
    size: np.ndarray,
    angle: np.ndarray,
    colour: np.ndarray,
    background: np.ndarray,
    noise_sigma: float,
) -> dict[str, np.ndarray]:
    """Scenes for ``render_scenes`` with one flat background colour and no distractors.

    Inputs: ``labels`` (m,) int64, ``centre`` (m, 2) pixels (x, y), ``size`` (m,)
    circumradius in pixels, ``angle`` (m,) radians, ``colour`` and ``background``
    (m, 3) RGB in [0, 1], ``noise_sigma`` the standard deviation of the pixel noise.
    The gradient's two colours are both ``background``; the colour field, the lines
    and the blobs are switched off (zero strength, zero opacity).
    """
    m = len(labels)
    return {
        "labels": labels,
        "centre": centre,
        "size": size,
        "angle": angle,
        "colour": colour,
        "bg_a": background,
        "bg_b": background,
        "direction": np.zeros(m),
        "field": np.zeros((m, 3, 4, 4)),
        "line_ends": np.zeros((m, _NUM_LINES, 4)),
        "line_width": np.ones((m, _NUM_LINES)),
        "line_colour": np.zeros((m, _NUM_LINES, 3)),
        "line_alpha": np.zeros((m, _NUM_LINES)),
        "blob_centre": np.zeros((m, _NUM_BLOBS, 2)),
        "blob_sigma": np.ones((m, _NUM_BLOBS)),
        "blob_colour": np.zeros((m, _NUM_BLOBS, 3)),
        "blob_alpha": np.zeros((m, _NUM_BLOBS)),
        "noise_sigma": np.full(m, float(noise_sigma)),
    }


def _gradient(bg_a, bg_b, direction, x, y):
    """Colour of the background gradient at points x, y; broadcasts like ``x`` + (3,)."""
    along = (x - IMAGE_SIZE / 2) * np.cos(direction) + (y - IMAGE_SIZE / 2) * np.sin(direction)
    t = 0.5 + along / IMAGE_SIZE  # 0 at one side of the image, 1 at the other
    return bg_a + (bg_b - bg_a) * t[..., None]


def _upsample_matrix() -> np.ndarray:
    """(32, 4) bilinear interpolation from a 4x4 grid of control values to 32 pixels."""
    knots = np.linspace(0.0, IMAGE_SIZE, 4)
    spacing = knots[1] - knots[0]
    weights = np.maximum(0.0, 1.0 - np.abs(_COORDS[:, None] - knots[None, :]) / spacing)
    return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)


_UPSAMPLE = _upsample_matrix()


def _paint(canvas: np.ndarray, alpha: np.ndarray, colour: np.ndarray, scratch: np.ndarray):
    """Blend ``colour`` (m, 3) into ``canvas`` (m, 3, 32, 32) with coverage ``alpha`` (m, 32, 32).

    Works in place on the renderer's own canvas; ``scratch`` is a work array
    shaped like the canvas.
    """
    colour = colour.astype(np.float32)[:, :, None, None]  # (m, 3, 1, 1)
    change = np.subtract(colour, canvas, out=scratch)
    change *= alpha[:, None]
    canvas += change


def make_workspace(m: int) -> dict[str, np.ndarray]:
    """Work arrays for rendering up to m images.

    Rendering writes into these instead of making fresh temporaries for every
    operation: allocating megabyte-sized arrays again and again costs the
    operating system page faults and made generation about twice as slow.
    """
    rgb = (m, 3, IMAGE_SIZE, IMAGE_SIZE)
    grey = (m, IMAGE_SIZE, IMAGE_SIZE)
    return {
        "canvas": np.empty(rgb, np.float32),
        "rgb": np.empty(rgb, np.float32),
        "a": np.empty(grey, np.float32),
        "b": np.empty(grey, np.float32),
    }


def render_scenes(
    scenes: dict[str, np.ndarray],
    rng: np.random.Generator,
    out: np.ndarray,
    work: dict[str, np.ndarray],
) -> None:
    """Draw the scenes into ``out``, uint8 (m, 32, 32, 3); pixel noise is drawn from ``rng``."""
    m = len(scenes["labels"])
    f32 = np.float32
    canvas, rgb, a, b = (work[key][:m] for key in ("canvas", "rgb", "a", "b"))

    # 1. Background gradient + smooth colour field.
    direction = scenes["direction"]
    offset = (_COORDS - IMAGE_SIZE / 2) / IMAGE_SIZE  # (32,) from -0.5 to 0.5
    t_x = 0.5 + offset[None, None, :] * np.cos(direction)[:, None, None]  # (m, 1, 32)
    t_y = offset[None, :, None] * np.sin(direction)[:, None, None]  # (m, 32, 1)
    t = np.add(t_x.astype(f32), t_y.astype(f32), out=a)  # (m, 32, 32), 0..1 across the image
    bg_a = scenes["bg_a"].astype(f32)[:, :, None, None]  # (m, 3, 1, 1)
    bg_b = scenes["bg_b"].astype(f32)[:, :, None, None]
    np.multiply(bg_b - bg_a, t[:, None], out=canvas)  # (m, 3, 32, 32)
    canvas += bg_a
    field = _UPSAMPLE @ scenes["field"].astype(f32)  # (m, 3, 32, 4)
    canvas += np.matmul(field, _UPSAMPLE.T, out=rgb)  # (m, 3, 32, 32)

    # 2. Distractors behind the shape: soft blobs, then thin lines.
    for j in range(_NUM_BLOBS):
        bx, by = scenes["blob_centre"][:, j, 0], scenes["blob_centre"][:, j, 1]
        scale = -0.5 / scenes["blob_sigma"][:, j] ** 2
        gx = np.exp(scale[:, None, None] * (_COORDS[None, None, :] - bx[:, None, None]) ** 2)
        gy = np.exp(scale[:, None, None] * (_COORDS[None, :, None] - by[:, None, None]) ** 2)
        # Zero the far tails: float32 denormals there would slow every later operation.
        gx = np.where(gx < 1e-4, 0.0, gx * scenes["blob_alpha"][:, j, None, None]).astype(f32)
        gy = np.where(gy < 1e-4, 0.0, gy).astype(f32)
        blob = np.multiply(gx, gy, out=a)  # (m, 1, 32) * (m, 32, 1) -> (m, 32, 32)
        _paint(canvas, blob, scenes["blob_colour"][:, j], rgb)
    for j in range(_NUM_LINES):
        ax, ay, bx, by = (scenes["line_ends"][:, j, i] for i in range(4))
        dist = _segment_distance(ax, ay, bx, by, out=a, scratch=b)
        half_width = (scenes["line_width"][:, j] + 0.5).astype(f32)[:, None, None]
        cover = np.subtract(half_width, dist, out=dist)
        np.clip(cover, 0.0, 1.0, out=cover)
        cover *= scenes["line_alpha"][:, j].astype(f32)[:, None, None]
        _paint(canvas, cover, scenes["line_colour"][:, j], rgb)

    # 3. The shape, one class at a time (each class has its own SDF).
    cover = a
    cover[...] = shape_coverage(scenes)
    _paint(canvas, cover, scenes["colour"], rgb)

    # 4. Per-pixel noise, then quantise to bytes like a photo.
    # Uniform noise on [-0.5, 0.5) has standard deviation 1/sqrt(12); it is 5x
    # faster to draw than Gaussian noise and looks the same after quantising.
    noise = rng.random(out=rgb, dtype=f32)
    noise -= 0.5
    noise *= (np.sqrt(12.0) * scenes["noise_sigma"]).astype(f32)[:, None, None, None]
    canvas += noise
    np.clip(canvas, 0.0, 1.0, out=canvas)
    canvas *= 255.0
    canvas += 0.5  # round to nearest when the cast below truncates
    np.copyto(out, canvas.transpose(0, 2, 3, 1), casting="unsafe")  # (m, 32, 32, 3)
