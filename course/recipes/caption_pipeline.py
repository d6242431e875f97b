"""A trained captioner end to end: scenes (or image files) in, caption text out.

:class:`Captioner` joins the pieces a captioner needs at test time: the
pretrained TinyVGG that turns scenes into grid features, the training
features' mean and deviation, and the :class:`~course.models.CaptioningRNN`.
:func:`load_captioner` reads one saved by ``course train captioner`` (a
damaged file is one :class:`~course.artefacts.ArtefactError` saying how to
restore it), :func:`open_captioner` finds one from a name or a folder, and
:func:`read_scene_image` reads a 64x64 image file for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from course.artefacts import ArtefactError, building_from, read_arrays, read_record
from course.data.caption_scenes import SCENE_SIZE
from course.models import CaptioningRNN, TinyVGG, grid_features, load_pretrained
from course.models.pretrained import WEIGHTS_DIR, pretrained_info

__all__ = ["Captioner", "load_captioner", "open_captioner", "read_scene_image"]

FORMAT = "course-captioner"  # the "format" of a saved captioner's JSON record


class Captioner:
    """A trained captioner end to end: uint8 scenes in, caption text out.

    Attributes: ``model`` (CaptioningRNN), ``feature_net`` (the TinyVGG whose
    conv trunk makes the features), ``grid``, ``layers``, ``feature_mean`` and
    ``feature_std`` (the training features' statistics), ``record`` (the
    saved JSON: recipe, metrics, history).
    """

    def __init__(
        self,
        model: CaptioningRNN,
        feature_net: TinyVGG,
        grid: int,
        layers: tuple[str, ...],
        feature_mean: np.ndarray,
        feature_std: np.ndarray,
        record: dict[str, Any] | None = None,
    ) -> None:
        self.model, self.feature_net, self.grid, self.layers = model, feature_net, grid, layers
        self.feature_mean, self.feature_std = feature_mean, feature_std
        self.record = record or {}

    def features(self, images: np.ndarray, verbose: bool = False) -> np.ndarray:
        """Standardised grid features (N, D) of uint8 images (N, 64, 64, 3)."""
        raw = grid_features(
            self.feature_net, images, grid=self.grid, verbose=verbose, layers=self.layers
        )
        return ((raw - self.feature_mean) / self.feature_std).astype(self.model.dtype)

    def caption(
        self, images: np.ndarray, beam_width: int | None = None, max_length: int = 12
    ) -> tuple[list[str], np.ndarray]:
        """Captions of uint8 images (N, 64, 64, 3): greedy, or beam search of ``beam_width``.

        Returns the N captions as text and their log-probabilities (N,).
        """
        return self.caption_features(self.features(images), beam_width, max_length)

    def caption_features(
        self, features: np.ndarray, beam_width: int | None = None, max_length: int = 12
    ) -> tuple[list[str], np.ndarray]:
        """:meth:`caption` from features already computed by :meth:`features`."""
        if beam_width is None:
            words, word_logprobs = self.model.sample(
                features, max_length=max_length, return_logprobs=True
            )
            logprobs = word_logprobs.sum(axis=1)
        else:
            words, logprobs = self.model.beam_search(
                features, beam_width=beam_width, max_length=max_length
            )
        return self.model.captions_to_text(words), logprobs


def load_captioner(name: str = "captioner-lstm", folder: str | Path | None = None) -> Captioner:
    """A captioner saved by :func:`train_captioner` (default: the one shipped in the package).

    A damaged pair of files raises :class:`~course.artefacts.ArtefactError`
    naming the file and how to restore it.
    """
    folder = WEIGHTS_DIR if folder is None else Path(folder)
    weights, meta = folder / f"{name}.npz", folder / f"{name}.json"
    where = "" if folder == WEIGHTS_DIR else f" --out {folder}"
    restore = f"retrain it with `course train captioner{where} --overwrite`"
    if not weights.is_file() or not meta.is_file():
        raise FileNotFoundError(
            f"no captioner {name!r} in {folder}: expected {weights.name} and {meta.name}; "
            f"train one with `course train captioner{where}`"
        )
    record = read_record(meta, restore, required=("format", "config", "features"))
    if record.get("format") != FORMAT:
        raise ArtefactError(f"{meta}: was not written by train_captioner; {restore}")
    with building_from(meta, "a captioner", restore):
        config = dict(record["config"])
        words = config.pop("words")
        model = CaptioningRNN(
            {word: i for i, word in enumerate(words)},
            dtype=np.dtype(config.pop("dtype")),
            **config,
        )
        grid = int(record["features"]["grid"])
        layers = tuple(record["features"]["layers"])
    expected: dict[str, tuple[int, ...] | None] = {
        f"params/{k}": v.shape for k, v in model.params.items()
    }
    expected["feature_mean"] = expected["feature_std"] = (model.params["W_proj"].shape[0],)
    arrays = read_arrays(
        weights, restore, expected, digest=record.get("arrays_sha256"), record_path=meta
    )
    for k in model.params:
        model.params[k] = arrays[f"params/{k}"]
    net = record["features"].get("net")
    feature_net = load_pretrained(net)
    trained_on = record["features"].get("net_sha256")
    if trained_on is not None and trained_on != pretrained_info(net).get("arrays_sha256"):
        raise ArtefactError(
            f"{meta}: was trained on the features of another {net!r} than the one installed "
            f"now (its weights changed since), so its captions would be guesses; {restore}"
        )
    return Captioner(
        model, feature_net, grid, layers, arrays["feature_mean"], arrays["feature_std"], record
    )


def open_captioner(where: str | Path) -> Captioner:
    """A captioner from a name shipped in the package, or from a folder holding one.

    ``where`` is a name (``captioner-lstm``), a folder written by
    ``course train captioner --out DIR`` (it must hold exactly one
    ``captioner-*.json``), or the path of a captioner's ``.npz`` or ``.json``.
    """
    path = Path(where).expanduser()
    if path.suffix in (".npz", ".json"):
        return load_captioner(path.stem, path.parent)
    if path.is_dir():
        found = sorted(path.glob("captioner-*.json"))
        if len(found) != 1:
            what = "no captioner" if not found else f"{len(found)} captioners"
            names = ", ".join(p.name for p in found)
            raise FileNotFoundError(
                f"{path}: holds {what} (captioner-*.json{': ' + names if names else ''}); "
                "give the .json file of the one you mean"
                if found
                else f"{path}: holds no captioner (captioner-*.json); train one with "
                f"`course train captioner --out {path}`"
            )
        return load_captioner(found[0].stem, path)
    return load_captioner(str(where))


def read_scene_image(path: str | Path) -> np.ndarray:
    """A 64x64 PNG or JPEG as uint8 RGB (64, 64, 3), the input of :meth:`Captioner.caption`."""
    import matplotlib.image

    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such image file")
    try:
        image = np.asarray(matplotlib.image.imread(path))
    except (OSError, ValueError, SyntaxError) as error:
        raise ValueError(f"{path}: is not an image matplotlib can read ({error})") from None
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise ValueError(f"{path}: expected an RGB image, got an array of shape {image.shape}")
    if image.shape[:2] != (SCENE_SIZE, SCENE_SIZE):
        raise ValueError(
            f"{path}: is {image.shape[1]}x{image.shape[0]} pixels; the captioners read "
            f"{SCENE_SIZE}x{SCENE_SIZE} scenes: resize or crop it first"
        )
    image = image[..., :3]
    if image.dtype != np.uint8:  # PNGs read as floats in [0, 1]
        image = np.clip(np.round(image * 255.0), 0, 255).astype(np.uint8)
    return image
