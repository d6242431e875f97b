"""Models and data shared by the tests of course/viz and of TinyVGG.input_gradient.

``tiny_vgg`` builds a small float64 TinyVGG (with batchnorm in test mode, its
running averages and scales random) for numerical gradient checks;
``pretrained_and_shapes`` is the shipped model with a few hundred unseen
Shapes-10 images prepared as its inputs.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from course.checks.viz import randomise_state
from course.data.shapes import generate_shapes, to_nchw_float
from course.models import TinyVGG, load_pretrained


def tiny_vgg(
    normalization: str | None = None,
    input_dim=(3, 8, 8),
    stages=((3,), (4,)),
    hidden_dims=(5,),
    num_classes: int = 4,
    seed: int = 0,
) -> TinyVGG:
    """A float64 TinyVGG; with batchnorm, random gamma, beta and running averages, test mode."""
    model = TinyVGG(
        input_dim=input_dim,
        stages=stages,
        hidden_dims=hidden_dims,
        num_classes=num_classes,
        normalization=normalization,
        dtype=np.float64,
        seed=seed,
    )
    return randomise_state(model, np.random.default_rng(seed + 100))


def random_images(model: TinyVGG, N: int, seed: int = 0) -> np.ndarray:
    """(N, C, H, W) standard normal model inputs in the model's dtype."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, *model.input_dim)).astype(model.dtype)


@lru_cache(maxsize=1)
def pretrained_and_shapes(N: int = 300) -> tuple[TinyVGG, np.ndarray, np.ndarray]:
    """The shipped TinyVGG, and N unseen Shapes-10 images as its inputs with their labels."""
    model = load_pretrained()
    images, labels = generate_shapes(N, seed=2026)  # a seed the training never used
    X = to_nchw_float(images) - model.mean_image  # (N, 3, 32, 32)
    X.setflags(write=False)
    labels.setflags(write=False)
    return model, X, labels
