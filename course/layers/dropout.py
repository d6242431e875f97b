"""Inverted dropout: randomly zero activations in training, identity at test time."""

from __future__ import annotations

import numpy as np

from course.layers._validation import validate_dropout_dout, validate_dropout_inputs


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
    p, mode = validate_dropout_inputs(x, dropout_param)
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
    validate_dropout_dout(dout, mask)
    if mask is None:
        return dout.copy()
    return dout * mask
