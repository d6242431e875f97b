"""Inverted dropout: randomly zero activations in training, identity at test time."""

from __future__ import annotations

import numpy as np

from course.validation import as_float_array, require_dout

_DROPOUT_KEYS = {"p", "mode", "seed"}


def dropout_forward(x: np.ndarray, dropout_param: dict) -> tuple[np.ndarray, tuple]:
    """Inverted dropout.

    In training each unit is *kept* with probability ``p`` and the kept units
    are scaled by ``1 / p``, so the expected activation is unchanged and the
    test-time pass is the identity. (``p`` is the keep probability, as in the
    original CS231n assignments, not the drop probability.)

    Inputs:
    - x: array of any shape
    - dropout_param: dict with
      - 'p': keep probability, 0 < p <= 1
      - 'mode': 'train' or 'test'
      - 'seed' (optional): seed for the mask; the same seed gives the same
        mask, which is what gradient checking needs

    Returns:
    - out: same shape as x
    - cache: (dropout_param, mask); mask is None in test mode
    """
    as_float_array("dropout_forward", "x", x)
    p, mode = _read_dropout_param(dropout_param)
    if mode == "test":
        return x.copy(), (dropout_param, None)
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = (rng.random(x.shape) < p).astype(x.dtype) / x.dtype.type(p)  # like x
    return x * mask, (dropout_param, mask)


def dropout_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Backward pass of :func:`dropout_forward`.

    Inputs:
    - dout: upstream gradient, shape of x
    - cache: (dropout_param, mask) from the forward pass

    Returns:
    - dx: same shape as x; ``dout * mask`` in training, ``dout`` at test time
    """
    dropout_param, mask = cache
    if mask is None:
        as_float_array("dropout_backward", "dout", dout)
        return dout.copy()
    require_dout("dropout_backward", dout, mask.shape)
    return dout * mask


def _read_dropout_param(dropout_param: dict) -> tuple[float, str]:
    if not isinstance(dropout_param, dict):
        raise TypeError(
            "dropout_forward: dropout_param must be a dict like {'p': 0.5, 'mode': 'train'}, "
            f"got {type(dropout_param).__name__}"
        )
    unknown = set(dropout_param) - _DROPOUT_KEYS
    if unknown:
        raise ValueError(
            f"dropout_forward: unknown dropout_param keys {sorted(unknown)}; "
            f"valid keys are {sorted(_DROPOUT_KEYS)}"
        )
    p = dropout_param.get("p")
    mode = dropout_param.get("mode", "train")
    if p is None or not 0 < p <= 1:
        raise ValueError(f"dropout_forward: 'p' is the keep probability, 0 < p <= 1; got {p!r}")
    if mode not in ("train", "test"):
        raise ValueError(f"dropout_forward: 'mode' must be 'train' or 'test', got {mode!r}")
    return float(p), mode
