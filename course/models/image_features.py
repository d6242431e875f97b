"""Image features by transfer learning: the pretrained TinyVGG's conv trunk, pooled onto a grid.

The shipped TinyVGG learnt to classify single 32x32 shapes; its convolutions
are local, so its conv trunk (:meth:`TinyVGG.conv_volume`) runs on larger
images too and finds the same parts there. A 64x64 scene gives an (F, 8, 8)
volume; max pooling it onto a coarse ``grid`` x ``grid`` layout keeps where
things are (what is in the left half, what is at the top), so a captioner fed
these features can learn "left of" and "above", which one vector for the whole
image (the FC layer's output) would have lost.

:func:`grid_features` computes the features in batches over the fast layers
with a progress bar; :func:`cached_grid_features` keeps them on disk, in
``$COURSE_DATA/cache/``, keyed by the SHA-256 of the weights, the settings and
the images themselves, so a second run with the same data and model reads them
back in a moment, and any change to either computes them anew.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from course.artefacts import ArtefactError, arrays_digest, read_arrays, write_arrays
from course.models.cnn import TinyVGG
from course.models.pretrained import model_arrays
from course.validation import require_positive_int

__all__ = ["cached_grid_features", "grid_features"]

_VERSION = 1  # bump when the computation changes, so old caches are not read


def grid_features(
    model: TinyVGG,
    images: np.ndarray,
    grid: int = 4,
    batch_size: int = 250,
    verbose: bool = True,
    layers: tuple[str, ...] | None = None,
) -> np.ndarray:
    """Features (N, D) of uint8 images: conv trunk layers max-pooled onto a grid.

    Inputs:
    - model: a TinyVGG (e.g. ``load_pretrained('tinyvgg-shapes')``); when it
      has a ``mean_image`` its per-channel mean is subtracted, as in training
    - images: (N, H, W, 3) uint8, H and W multiples of 2**stages * grid
    - grid: cells per side of the layout each layer's output is pooled onto
    - batch_size: images per forward pass (memory: about 1 MB per 64x64 image)
    - verbose: show a progress bar, and the throughput at the end
    - layers: the conv or pool layers to pool (names of ``model.layer_names()``);
      None means the last pool only. Early layers keep what the last one was
      trained to ignore: the net classified shapes whatever their colour, so
      colour survives in 'pool1' better than in the last pool.

    Returns:
    - features: (N, D) in the model's dtype, D = grid * grid * (the layers'
      channels); layer by layer, each cell by cell in row-major order (all
      channels of the top-left cell first)
    """
    func = "grid_features"
    if not isinstance(model, TinyVGG):
        raise TypeError(f"{func}: model must be a TinyVGG, got {type(model).__name__}")
    if not (isinstance(images, np.ndarray) and images.dtype == np.uint8 and images.ndim == 4):
        raise TypeError(
            f"{func}: images must be a uint8 array (N, H, W, 3), got "
            f"{getattr(images, 'dtype', type(images).__name__)} of shape "
            f"{getattr(images, 'shape', None)}"
        )
    grid = require_positive_int(func, "grid", grid)
    batch_size = require_positive_int(func, "batch_size", batch_size)
    layers = _require_layers(func, model, layers)
    N, H, W, _ = images.shape
    side = 2 ** len(model.stages) * grid
    if N == 0 or H % side or W % side:
        raise ValueError(
            f"{func}: images of shape {images.shape} need N >= 1 and H, W multiples of "
            f"{side} (the net's {len(model.stages)} pools times grid={grid})"
        )
    mean = 0.0
    if model.mean_image is not None:
        mean = model.mean_image.mean(axis=(1, 2)).reshape(1, -1, 1, 1)  # (1, C, 1, 1)
    chunks: list[list[np.ndarray]] = []
    start = time.perf_counter()
    with tqdm(total=N, desc="features", unit="img", disable=not verbose) as bar:
        for first in range(0, N, batch_size):
            batch = images[first : first + batch_size]
            X = batch.transpose(0, 3, 1, 2).astype(model.dtype) / 255.0 - mean  # (B, C, H, W)
            outputs = model.conv_activations(X.astype(model.dtype, copy=False))
            chunks.append([_pool_onto_grid(outputs[name], grid) for name in layers])
            bar.update(len(batch))
    if verbose:
        seconds = time.perf_counter() - start
        tqdm.write(f"features: {N} images in {seconds:.1f} s ({N / seconds:,.0f} images/s)")
    return np.concatenate([np.concatenate(parts, axis=1) for parts in chunks], axis=0)


def _pool_onto_grid(volume: np.ndarray, grid: int) -> np.ndarray:
    """(B, F, H, W) -> (B, grid * grid * F): the maximum of each channel in each cell."""
    B, F, H, W = volume.shape
    cells = volume.reshape(B, F, grid, H // grid, grid, W // grid).max(axis=(3, 5))
    return cells.transpose(0, 2, 3, 1).reshape(B, -1)


def _require_layers(func: str, model: TinyVGG, layers: tuple[str, ...] | None) -> tuple[str, ...]:
    if layers is None:
        return (f"pool{len(model.stages)}",)
    known = [name for name in model.layer_names() if name.startswith(("conv", "pool"))]
    unknown = [name for name in layers if name not in known]
    if isinstance(layers, str) or not layers or unknown:
        raise ValueError(
            f"{func}: layers must be a tuple of conv or pool layer names of the model "
            f"({', '.join(known)}), got {layers!r}"
        )
    return tuple(layers)


def cached_grid_features(
    model: TinyVGG,
    images: np.ndarray,
    grid: int = 4,
    cache_dir: str | Path | None = None,
    verbose: bool = True,
    layers: tuple[str, ...] | None = None,
) -> np.ndarray:
    """:func:`grid_features`, kept on disk so that the same images and model are computed once.

    Inputs:
    - model, images, grid, verbose, layers: as for :func:`grid_features`
    - cache_dir: the folder of cached features (default ``$COURSE_DATA/cache``,
      see :func:`course.data.paths.data_root`); created when missing

    The cache file's name is a SHA-256 of the model's weights, its mean image,
    the grid, the layers, the images' bytes and the version of this computation. A
    damaged cache file is computed anew and replaced (atomically).
    """
    folder = _cache_folder(cache_dir)
    layers = _require_layers("cached_grid_features", model, layers)
    path = folder / f"grid-features-{_cache_key(model, images, grid, layers)[:24]}.npz"
    if path.is_file():
        try:
            return read_arrays(path, "it is recomputed", {"features": None})["features"]
        except ArtefactError:
            pass  # damaged: computed again below and replaced
    features = grid_features(model, images, grid=grid, verbose=verbose, layers=layers)
    folder.mkdir(parents=True, exist_ok=True)
    write_arrays(path, {"features": features}, overwrite=True)
    return features


def _cache_folder(cache_dir: str | Path | None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    from course.data.paths import data_root

    return data_root() / "cache"


def _cache_key(model: TinyVGG, images: np.ndarray, grid: int, layers: tuple[str, ...]) -> str:
    """SHA-256 of everything the features depend on."""
    digest = hashlib.sha256()
    settings = {"version": _VERSION, "grid": grid, "layers": layers, "config": model.config()}
    digest.update(json.dumps(settings, sort_keys=True).encode())
    digest.update(arrays_digest(model_arrays(model)).encode())
    digest.update(f"{images.shape}".encode())
    digest.update(np.ascontiguousarray(images).tobytes())
    return digest.hexdigest()
