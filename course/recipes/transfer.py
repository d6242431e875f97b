"""Transfer learning: the pretrained TinyVGG's features reused for a new task.

The talk's tip for small datasets is to initialise from a net trained
elsewhere. Here "elsewhere" is Shapes-10 (the shipped ``tinyvgg-shapes``)
and the new task is :func:`new_shapes`: six shapes the net never saw
(``NEW_SHAPE_NAMES``), drawn on the same cluttered backgrounds. Three ways to
learn it from N labelled images, compared by :func:`compare_transfer`:

- ``'frozen'``: keep the pretrained net fixed, take its last hidden layer
  (``extract_features``, 128 numbers an image) and train only a linear softmax
  classifier on them (:func:`train_linear_classifier`);
- ``'finetune'``: the pretrained net with a new last layer (initialised with
  that linear classifier), then every weight trained with a small learning rate;
- ``'scratch'``: the same architecture from a fresh random initialisation,
  trained with the same number of steps and minibatch size.

Everything is seeded: the same arguments give the same accuracies. Measured
with seed 0 on 500 test images (frozen / fine-tuned / scratch): with the
defaults (80 steps of 25 images, about 35 s on one core), 75% / 78% / 18% from
50 images and 95% / 95% / 29% from 1000; with 1000 steps, 75% / 77% / 19% from
50 images and 96% / 98% / 84% from 5000.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence

import numpy as np
from tqdm.auto import tqdm

from course.data._validation import validate_image_stream
from course.data.shape_renderer import (
    IMAGE_SIZE,
    _circle_sdf,
    _convex_sdf,
    _to_pixels,
    balanced_labels,
    make_workspace,
    render_scenes,
    sample_scenes,
)
from course.data.shapes import to_nchw_float
from course.layers import softmax_loss
from course.models.cnn import TinyVGG
from course.models.pretrained import load_pretrained
from course.optim import adam
from course.validation import check_learning_rate, require_labels, require_positive_int

__all__ = [
    "METHODS",
    "NEW_SHAPE_NAMES",
    "build_finetune_model",
    "build_scratch_model",
    "compare_transfer",
    "format_transfer_table",
    "load_new_shapes",
    "new_shapes",
    "plot_transfer",
    "train_linear_classifier",
    "train_steps",
]

METHODS = ("frozen", "finetune", "scratch")
NEW_SHAPE_NAMES: tuple[str, ...] = ("pentagon", "semicircle", "crescent", "ell", "tee", "bar")
_TRAIN_STREAM, _TEST_STREAM = 10, 11  # load_shapes uses streams 0-2 of the same seeds
_CHUNK = 180  # images per independently seeded chunk, a multiple of the six classes


# ---------------------------------------------------------------------------
# The new task: six new shapes on Shapes-10 backgrounds
# ---------------------------------------------------------------------------


def _box(x0: float, x1: float, y0: float, y1: float) -> np.ndarray:
    """Vertices (4, 2) of an axis-aligned rectangle, unit coordinates, y up."""
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])


def _pentagon() -> np.ndarray:
    angles = np.deg2rad(90.0 + 72.0 * np.arange(5))
    return 0.95 * np.stack([np.cos(angles), np.sin(angles)], axis=1)  # (5, 2)


# Each shape is a union of convex pieces (unit coordinates, circumradius about 1),
# intersected with a half-plane box (semicircle) or cut by a circle (crescent).
_PIECES = {
    "pentagon": [_pentagon()],
    "ell": [_box(-0.7, -0.2, -0.85, 0.85), _box(-0.7, 0.7, -0.85, -0.35)],
    "tee": [_box(-0.85, 0.85, 0.35, 0.85), _box(-0.25, 0.25, -0.85, 0.85)],
    "bar": [_box(-0.95, 0.95, -0.22, 0.22)],
}
_SEMI_CENTRE, _SEMI_RADIUS = np.array([[0.0, -0.4]]), 0.95
_CRESCENT = (np.array([[0.0, 0.0], [0.45, 0.0]]), 0.9, 0.72)  # centres, outer and inner radius


def _new_shape_sdf(name: str, centre: np.ndarray, size: np.ndarray, angle: np.ndarray):
    """Signed distance (m, 32, 32) in pixels to m shapes of one new class."""
    if name in _PIECES:
        dist = None
        for piece in _PIECES[name]:
            piece_dist = _convex_sdf(*_to_pixels(piece, centre, size, angle))
            dist = piece_dist if dist is None else np.minimum(dist, piece_dist)
        return dist
    if name == "semicircle":  # a disc cut by the line y = -0.4 (unit coordinates)
        cx, cy = _to_pixels(_SEMI_CENTRE, centre, size, angle)
        disc = _circle_sdf(cx[:, 0], cy[:, 0], _SEMI_RADIUS * size)
        half = _convex_sdf(*_to_pixels(_box(-2.0, 2.0, -0.4, 2.0), centre, size, angle))
        return np.maximum(disc, half)
    centres, outer, inner = _CRESCENT  # crescent: a disc minus a shifted smaller disc
    cx, cy = _to_pixels(centres, centre, size, angle)
    big = _circle_sdf(cx[:, 0], cy[:, 0], outer * size)
    bite = _circle_sdf(cx[:, 1], cy[:, 1], inner * size)
    return np.maximum(big, -bite)


def _render_chunk(rng: np.random.Generator, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw m images (m a multiple of 6): uint8 (m, 32, 32, 3) and labels (m,)."""
    scenes = sample_scenes(rng, m + (-m) % 10)  # Shapes-10 draws: background, size, colour ...
    scenes = {key: value[:m] for key, value in scenes.items()}
    labels = balanced_labels(rng, m, len(NEW_SHAPE_NAMES))  # each block of six: every class
    # 1. The Shapes-10 background and distractors, without its shape (moved far
    #    outside the image) and without noise (added after our shape, as there).
    background = dict(scenes, centre=np.full((m, 2), -1e3), noise_sigma=np.zeros(m))
    images = np.empty((m, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    render_scenes(background, rng, images, make_workspace(m))
    canvas = to_nchw_float(images)  # (m, 3, 32, 32) in [0, 1]
    # 2. The new shape, anti-aliased like Shapes-10: coverage clip(0.5 - d, 0, 1).
    cover = np.zeros((m, IMAGE_SIZE, IMAGE_SIZE), dtype=np.float32)
    for k, name in enumerate(NEW_SHAPE_NAMES):
        rows = np.flatnonzero(labels == k)
        if rows.size:
            dist = _new_shape_sdf(
                name, scenes["centre"][rows], scenes["size"][rows], scenes["angle"][rows]
            )
            cover[rows] = np.clip(0.5 - dist, 0.0, 1.0)
    colour = scenes["colour"].astype(np.float32)[:, :, None, None]  # (m, 3, 1, 1)
    canvas += cover[:, None] * (colour - canvas)
    # 3. Uniform pixel noise of the scene's strength, then bytes.
    noise = rng.random(canvas.shape, dtype=np.float32) - np.float32(0.5)
    canvas += (
        noise * (np.sqrt(12.0) * scenes["noise_sigma"]).astype(np.float32)[:, None, None, None]
    )
    images = np.clip(canvas * 255.0 + 0.5, 0.0, 255.0).astype(np.uint8)  # truncation rounds
    return images.transpose(0, 2, 3, 1), labels  # (m, 32, 32, 3)


def new_shapes(num_images: int, seed: int = 0, *, stream: int = 0):
    """Images of the six new shapes (``NEW_SHAPE_NAMES``) on Shapes-10 backgrounds.

    Size, position, rotation, colour and clutter are drawn as in Shapes-10
    (:mod:`course.data.shape_renderer`), independently of the class; only the
    shape differs. Image i of a (seed, stream) does not depend on ``num_images``.

    Inputs:
    - num_images: N, how many images (0 gives empty arrays)
    - seed, stream: non-negative; the same pair gives byte-identical images

    Returns:
    - images: uint8 (N, 32, 32, 3), RGB, channels last
    - labels: int64 (N,), indices into ``NEW_SHAPE_NAMES``; each block of six
      consecutive images holds every class once
    """
    func = "new_shapes"
    num_images, seed, stream = validate_image_stream(func, num_images, seed, stream)
    images = np.empty((num_images, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    labels = np.empty(num_images, dtype=np.int64)
    for index, start in enumerate(range(0, num_images, _CHUNK)):
        stop = min(start + _CHUNK, num_images)
        chunk_images, chunk_labels = _render_chunk(
            np.random.default_rng([seed, stream, index]), _CHUNK
        )
        images[start:stop], labels[start:stop] = (
            chunk_images[: stop - start],
            chunk_labels[: stop - start],
        )
    return images, labels


def load_new_shapes(num_train: int, num_test: int, mean_image: np.ndarray, seed: int = 0) -> dict:
    """The new task ready for the pretrained net: X (N, 3, 32, 32) float32 minus ``mean_image``.

    Train and test come from independent streams of ``seed``; the first n
    training images are the same whatever ``num_train`` is, so a larger
    training set contains the smaller ones.

    Returns a dict with 'X_train' (N_train, 3, 32, 32), 'y_train' (N_train,),
    'X_test', 'y_test' and 'class_names'.
    """
    data: dict = {"class_names": NEW_SHAPE_NAMES}
    for split, count, stream in (
        ("train", num_train, _TRAIN_STREAM),
        ("test", num_test, _TEST_STREAM),
    ):
        images, labels = new_shapes(count, seed, stream=stream)
        data[f"X_{split}"] = to_nchw_float(images) - mean_image.astype(np.float32)
        data[f"y_{split}"] = labels
    return data


# ---------------------------------------------------------------------------
# The three methods
# ---------------------------------------------------------------------------


def train_linear_classifier(
    features: np.ndarray,
    y: np.ndarray,
    num_classes: int,
    steps: int = 1000,
    learning_rate: float = 1e-2,
    reg: float = 1e-3,
) -> tuple[np.ndarray, np.ndarray]:
    """A linear softmax classifier on fixed features, by full-batch Adam on the softmax loss.

    The features are standardised with their training mean and spread; the
    returned W and b act on the raw features (the standardisation folded in).

    Inputs:
    - features: (N, D) feature vectors, y: (N,) labels in [0, num_classes)
    - steps, learning_rate: Adam steps on all N at once; reg: L2 strength on W

    Returns:
    - W: (D, num_classes) float64, b: (num_classes,): scores = features @ W + b
    """
    features = np.asarray(features, dtype=np.float64)
    y = require_labels("train_linear_classifier", y, len(features), num_classes)
    mu, sigma = features.mean(axis=0), features.std(axis=0) + 1e-3
    A = (features - mu) / sigma  # (N, D) standardised
    W, b = np.zeros((A.shape[1], num_classes)), np.zeros(num_classes)
    config_W, config_b = {"learning_rate": learning_rate}, {"learning_rate": learning_rate}
    for _ in range(steps):
        _, dscores = softmax_loss(A @ W + b, y)  # dscores (N, num_classes)
        W, config_W = adam(W, A.T @ dscores + reg * W, config_W)
        b, config_b = adam(b, dscores.sum(axis=0), config_b)
    W_raw = W / sigma[:, None]  # scores = ((f - mu) / sigma) @ W + b = f @ W_raw + b_raw
    return W_raw, b - mu @ W_raw


def build_finetune_model(pretrained: TinyVGG, head: tuple[np.ndarray, np.ndarray]) -> TinyVGG:
    """A copy of ``pretrained`` whose last layer is ``head`` = (W (Hd, K), b (K,)), to fine-tune.

    Every other parameter and the batchnorm running averages start as the
    pretrained ones (copies: ``pretrained`` is never changed).
    """
    W, b = head
    hidden = pretrained.params[f"W{pretrained.num_layers}"].shape[0]
    if np.ndim(W) != 2 or np.shape(W)[0] != hidden or np.shape(b) != (np.shape(W)[1],):
        raise ValueError(
            f"build_finetune_model: head must be W ({hidden}, K) and b (K,), got shapes "
            f"{np.shape(W)} and {np.shape(b)}"
        )
    model = copy.deepcopy(pretrained)
    last = model.num_layers
    model.params[f"W{last}"] = np.asarray(W, dtype=model.dtype)
    model.params[f"b{last}"] = np.asarray(b, dtype=model.dtype)
    model.num_classes = W.shape[1]
    return model


def build_scratch_model(pretrained: TinyVGG, num_classes: int, seed: int = 0) -> TinyVGG:
    """The pretrained net's architecture, freshly initialised (He), with ``num_classes`` scores."""
    return TinyVGG(
        input_dim=pretrained.input_dim,
        stages=pretrained.stages,
        hidden_dims=pretrained.hidden_dims,
        num_classes=num_classes,
        normalization=pretrained.normalization,
        reg=pretrained.reg,
        dtype=pretrained.dtype,
        seed=seed,
    )


def train_steps(
    model: TinyVGG,
    X: np.ndarray,
    y: np.ndarray,
    steps: int,
    batch_size: int,
    learning_rate: float,
    seed: int = 0,
    progress_bar: tqdm | None = None,
) -> TinyVGG:
    """Train every parameter of ``model`` for ``steps`` Adam steps on random minibatches.

    "Sample a batch, forward, backprop, update": each step draws
    min(batch_size, N) of the images X (N, C, H, W) with labels y (N,),
    without replacement (seeded). The model is trained in place and
    returned; its ``params`` hold new arrays (old arrays are never written into).
    """
    rng = np.random.default_rng(seed)
    configs = {name: {"learning_rate": learning_rate} for name in model.params}
    for _ in range(steps):
        batch = rng.choice(len(X), size=min(batch_size, len(X)), replace=False)
        _, grads = model.loss(X[batch], y[batch])
        for name, w in model.params.items():
            model.params[name], configs[name] = adam(w, grads[name], configs[name])
        if progress_bar is not None:
            progress_bar.update(1)
    return model


def _predict(model: TinyVGG, X: np.ndarray, batch_size: int = 100) -> np.ndarray:
    """Predicted labels (N,) in test mode, in batches (large batches are slower)."""
    return np.concatenate(
        [model.loss(X[i : i + batch_size]).argmax(axis=1) for i in range(0, len(X), batch_size)]
    )


def _features(model: TinyVGG, X: np.ndarray, batch_size: int = 100) -> np.ndarray:
    """The last hidden layer (N, Hd) in test mode, in batches."""
    return np.concatenate(
        [model.extract_features(X[i : i + batch_size]) for i in range(0, len(X), batch_size)]
    )


# ---------------------------------------------------------------------------
# The comparison
# ---------------------------------------------------------------------------


def compare_transfer(
    sizes: Sequence[int] = (50, 200, 1000),
    num_test: int = 500,
    steps: int = 80,
    batch_size: int = 25,
    finetune_lr: float = 3e-4,
    scratch_lr: float = 1e-3,
    seed: int = 0,
    progress: bool = True,
    pretrained: TinyVGG | None = None,
) -> dict:
    """Accuracy on the new shapes of frozen features, fine-tuning and scratch, per training size.

    For each n in ``sizes`` the three methods learn from the same first n
    training images and are measured on one fixed test set of ``num_test``:

    - 'frozen': a linear classifier on the pretrained net's last hidden layer;
    - 'finetune': the pretrained net, new last layer (the frozen classifier),
      ``steps`` Adam steps on every weight at ``finetune_lr``;
    - 'scratch': a fresh TinyVGG of the same architecture, ``steps`` Adam
      steps at ``scratch_lr``.

    Inputs:
    - sizes: training-set sizes, increasing positive integers
    - num_test: test images; steps, batch_size: the budget of both trained nets
    - seed: seeds the data, the scratch initialisation and the minibatches
    - progress: show a tqdm progress bar
    - pretrained: the source net (default ``load_pretrained()``); never changed

    Returns a dict: 'sizes' (list), 'accuracy' {method: list of test
    accuracies, one per size}, 'chance' (1 / number of classes), 'num_test',
    'steps', 'batch_size', 'class_names' and 'seconds' (the time it took).
    """
    sizes, steps, batch_size, finetune_lr, scratch_lr = _validate_comparison(
        sizes, num_test, steps, batch_size, finetune_lr, scratch_lr
    )
    pretrained = load_pretrained() if pretrained is None else pretrained
    _require_source_net(pretrained)
    start = time.perf_counter()
    data = load_new_shapes(sizes[-1], num_test, pretrained.mean_image, seed)
    num_classes = len(data["class_names"])
    accuracy: dict[str, list[float]] = {method: [] for method in METHODS}
    total = len(sizes) * (1 + 2 * steps)  # per size: the linear classifier, two trainings
    with tqdm(total=total, desc="transfer", unit="step", disable=not progress) as bar:
        features_train = _features(pretrained, data["X_train"])  # (N_max, Hd)
        features_test = _features(pretrained, data["X_test"])  # (N_test, Hd)
        y_test = data["y_test"]
        for n in sizes:  # the first n training images: each set contains the smaller ones
            X, y = data["X_train"][:n], data["y_train"][:n]
            bar.set_postfix_str(f"{n} images: frozen")
            W, b = train_linear_classifier(features_train[:n], y, num_classes)
            accuracy["frozen"].append(_accuracy((features_test @ W + b).argmax(axis=1), y_test))
            bar.update(1)
            budget = {"steps": steps, "batch_size": batch_size, "seed": seed, "progress_bar": bar}
            bar.set_postfix_str(f"{n} images: fine-tune")
            model = build_finetune_model(pretrained, (W, b))
            train_steps(model, X, y, learning_rate=finetune_lr, **budget)
            accuracy["finetune"].append(_accuracy(_predict(model, data["X_test"]), y_test))
            bar.set_postfix_str(f"{n} images: scratch")
            model = build_scratch_model(pretrained, num_classes, seed)
            train_steps(model, X, y, learning_rate=scratch_lr, **budget)
            accuracy["scratch"].append(_accuracy(_predict(model, data["X_test"]), y_test))
    return {
        "sizes": sizes,
        "accuracy": accuracy,
        "chance": 1.0 / num_classes,
        "num_test": num_test,
        "steps": steps,
        "batch_size": batch_size,
        "class_names": data["class_names"],
        "seconds": time.perf_counter() - start,
    }


def _accuracy(predicted: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(predicted == y))


def _require_source_net(pretrained: object) -> None:
    """The source net is a TinyVGG on (3, 32, 32) images that knows its mean training image."""
    func = "compare_transfer"
    if not isinstance(pretrained, TinyVGG):
        raise TypeError(f"{func}: pretrained must be a TinyVGG, got {type(pretrained).__name__}")
    if tuple(pretrained.input_dim) != (3, IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(
            f"{func}: pretrained takes {tuple(pretrained.input_dim)} images; the new shapes "
            f"are (3, {IMAGE_SIZE}, {IMAGE_SIZE})"
        )
    if pretrained.mean_image is None:
        raise ValueError(
            f"{func}: pretrained has no mean_image, so its inputs cannot be prepared as in its "
            "training; use load_pretrained(), or set model.mean_image to its (3, 32, 32) "
            "mean training image"
        )


def _validate_comparison(sizes, num_test, steps, batch_size, finetune_lr, scratch_lr):
    func = "compare_transfer"
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or not sizes:
        raise TypeError(f"{func}: sizes must be a non-empty sequence of integers, got {sizes!r}")
    sizes = [require_positive_int(func, "each of sizes", n) for n in sizes]
    if any(a >= b for a, b in zip(sizes[:-1], sizes[1:], strict=True)):
        raise ValueError(
            f"{func}: sizes must increase strictly (e.g. (50, 200, 1000)), got {sizes}"
        )
    require_positive_int(func, "num_test", num_test)
    steps = require_positive_int(func, "steps", steps)
    batch_size = require_positive_int(func, "batch_size", batch_size)
    finetune_lr = check_learning_rate(func, finetune_lr)
    scratch_lr = check_learning_rate(func, scratch_lr)
    return sizes, steps, batch_size, finetune_lr, scratch_lr


def format_transfer_table(results: dict) -> str:
    """The accuracies of :func:`compare_transfer` as a text table, one row per training size."""
    header = f"{'train images':>12} " + " ".join(f"{m:>9}" for m in METHODS)
    rows = [
        f"{n:>12} " + " ".join(f"{results['accuracy'][m][i]:>9.1%}" for m in METHODS)
        for i, n in enumerate(results["sizes"])
    ]
    chance = f"(chance {results['chance']:.1%}; {results['num_test']} test images)"
    return "\n".join([header, *rows, chance])


def plot_transfer(results: dict, ax=None):
    """Plot test accuracy against training-set size (log x), one line per method; return ax."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.5), layout="constrained")
    labels = {
        "frozen": "frozen features + linear",
        "finetune": "fine-tuned",
        "scratch": "from scratch",
    }
    for method in METHODS:
        ax.plot(results["sizes"], results["accuracy"][method], "o-", label=labels[method])
    ax.axhline(results["chance"], color="grey", linestyle=":", label="chance")
    ax.set_xscale("log")
    ax.set_xticks(results["sizes"], [str(n) for n in results["sizes"]])
    ax.set_xlabel("training images")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1)
    ax.set_title("Six new shapes, learnt from n images")
    ax.legend(loc="center right", fontsize="small")
    return ax
