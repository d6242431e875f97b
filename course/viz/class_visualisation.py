"""Class model visualisation (Simonyan et al., 2014; Yosinski et al., 2015): a class's image.

Starting from noise, gradient ascent on the *input* maximises the class score
minus an L2 penalty that keeps the image small:

    J(I) = S_y(I) - l2_reg * ||I||^2,     dJ/dI = dS_y/dI - 2 * l2_reg * I

Each step moves the image a fixed distance ``learning_rate`` (in L2 norm)
uphill, along the *normalised* gradient: ``I += learning_rate * g / ||g||``.
Three regularisers make the result look like a picture rather than noise:
random jitter (the image is rolled by up to ``max_jitter`` pixels before each
step and rolled back after it), a Gaussian blur every ``blur_every`` steps,
and clipping to the valid pixel range (pixels in [0, 1], mean image subtracted).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from course.validation import require_positive_int
from course.viz._validation import (
    require_index,
    require_model_images,
    require_non_negative,
    require_rate,
    require_vis_model,
)
from course.viz.pixels import input_range, to_pixels
from course.viz.saliency import score_gradient


def gaussian_blur(images: np.ndarray, sigma: float = 0.5) -> np.ndarray:
    """Blur every channel of images (N, C, H, W) with a Gaussian of width ``sigma`` pixels.

    The kernel exp(-t^2 / (2 sigma^2)), t = -r..r with r = ceil(3 sigma), is
    normalised to sum 1 and applied along H then W (it is separable); the
    border is reflected. Returns a new array of the same shape and dtype.
    """
    sigma = require_rate("gaussian_blur", "sigma", sigma)
    r = int(np.ceil(3 * sigma))
    t = np.arange(-r, r + 1)
    kernel = np.exp(-(t**2) / (2 * sigma**2))
    kernel /= kernel.sum()  # (2r + 1,)
    out = np.asarray(images)
    for axis in (2, 3):
        size = out.shape[axis]
        pad = [(0, 0)] * 4
        pad[axis] = (r, r)
        padded = np.pad(out, pad, mode="reflect")
        out = sum(w * padded.take(np.arange(s, s + size), axis=axis) for s, w in enumerate(kernel))
    return out.astype(images.dtype, copy=False)


def class_visualisation_step(
    model, img: np.ndarray, target: int, l2_reg: float, learning_rate: float
) -> np.ndarray:
    """One normalised gradient-ascent step on J(I) = S_target(I) - l2_reg * ||I||^2.

    Inputs:
    - img: (1, C, H, W) the current image (model input); not changed
    - target: the class whose score is raised
    - l2_reg: the L2 penalty's strength (>= 0)
    - learning_rate: the L2 length of the step

    Returns:
    - new_img: (1, C, H, W) = img + learning_rate * g / ||g||, g = dJ/dI
      (img itself when g is 0); not clipped
    """
    func = "class_visualisation_step"
    require_vis_model(func, model, gradient=True)
    img = require_model_images(func, model, img, name="img")
    if img.shape[0] != 1:
        raise ValueError(f"{func}: img has {img.shape[0]} images; expected one (1, C, H, W)")
    target = require_index(func, "target", target, model.num_classes, "the model's classes")
    l2_reg = require_non_negative(func, "l2_reg", l2_reg)
    learning_rate = require_rate(func, "learning_rate", learning_rate)
    g = score_gradient(model, img, np.array([target])) - 2 * l2_reg * img  # (1, C, H, W)
    norm = float(np.linalg.norm(g))
    if norm == 0:
        return img.copy()
    return (img + learning_rate * g / norm).astype(img.dtype, copy=False)


def class_visualisation(
    model,
    target: int,
    num_iterations: int = 100,
    l2_reg: float = 1e-3,
    learning_rate: float = 1.0,
    blur_every: int = 10,
    max_jitter: int = 2,
    seed: int = 0,
    blur_sigma: float = 0.5,
) -> np.ndarray:
    """An image that the model scores highly as ``target``, by regularised gradient ascent.

    Starts from Gaussian noise (std 0.1, drawn from ``seed``, which also draws
    the jitter); each iteration rolls the image by a random (dy, dx) in
    [-max_jitter, max_jitter], takes :func:`class_visualisation_step`, rolls it
    back and clips it to the valid range; every ``blur_every`` iterations
    (0: never) it is blurred with :func:`gaussian_blur`.

    Returns:
    - img: (1, C, H, W) model input in the valid range; ``to_pixels(model, img)`` shows it
    """
    func = "class_visualisation"
    require_vis_model(func, model, gradient=True)
    target = require_index(func, "target", target, model.num_classes, "the model's classes")
    num_iterations = require_positive_int(func, "num_iterations", num_iterations, allow_zero=True)
    blur_every = require_positive_int(func, "blur_every", blur_every, allow_zero=True)
    max_jitter = require_positive_int(func, "max_jitter", max_jitter, allow_zero=True)
    seed = require_positive_int(func, "seed", seed, allow_zero=True)
    require_non_negative(func, "l2_reg", l2_reg)
    require_rate(func, "learning_rate", learning_rate)
    require_rate(func, "blur_sigma", blur_sigma)
    dtype = np.dtype(getattr(model, "dtype", np.float64))
    low, high = input_range(model)  # (C, H, W) each
    rng = np.random.default_rng(seed)
    img = np.clip(0.1 * rng.standard_normal((1, *model.input_dim)), low, high).astype(dtype)
    for t in range(1, num_iterations + 1):
        dy, dx = rng.integers(-max_jitter, max_jitter + 1, size=2)
        img = np.roll(img, (dy, dx), axis=(2, 3))
        img = class_visualisation_step(model, img, target, l2_reg, learning_rate)
        img = np.clip(np.roll(img, (-dy, -dx), axis=(2, 3)), low, high).astype(dtype)
        if blur_every and t % blur_every == 0:
            img = gaussian_blur(img, blur_sigma)
    return img


def plot_class_visualisations(model, images: np.ndarray, targets, class_names=None) -> Figure:
    """Class visualisations (N, C, H, W) side by side, titled with their class: N axes."""
    func = "plot_class_visualisations"
    require_vis_model(func, model)
    images = require_model_images(func, model, images, name="images")
    fig = Figure(figsize=(1.8 * len(images) + 0.4, 2.2), layout="constrained")
    axes = fig.subplots(1, len(images), squeeze=False)[0]
    for ax, picture, target in zip(axes, to_pixels(model, images), targets, strict=True):
        ax.imshow(picture, interpolation="nearest")
        ax.set_title(str(class_names[target] if class_names is not None else target), fontsize=8)
        ax.axis("off")
    return fig
