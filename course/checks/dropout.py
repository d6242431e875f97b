"""Checks for inverted dropout."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course.checks.core import (
    FORM_ONLY,
    GRAD_TOL,
    MEAN_TOL,
    RATE_TOL,
    VALUE_TOL,
    CheckFailed,
    call_forward,
    call_student,
    compare,
    compare_diagnosed,
    expect_tuple,
    report,
    require,
)
from course.gradcheck import numerical_gradient_array

_KEEP = 0.3  # not 0.5, so a keep/drop mix-up shows


def check_dropout_forward(dropout_forward: Callable) -> None:
    """Check ``dropout_forward(x, dropout_param) -> (out, cache)`` in train and test modes.

    A mask is random, so the train mode is checked by its statistics on a
    large input: the fraction of units kept, the scale of the kept units,
    the preserved mean, and that the same seed gives the same mask.
    """
    name = "dropout_forward"
    x = np.random.default_rng(8).uniform(1.0, 3.0, size=(400, 250))  # all positive, no zeros
    param = {"mode": "train", "p": _KEEP, "seed": 123}
    out, _ = call_forward(name, dropout_forward, x, dict(param))
    compare(name, "out (train)", out, x, FORM_ONLY, "out has the shape of x")
    kept = out != 0
    shared = bool((kept == kept[:1]).all() or (kept == kept[:, :1]).all())  # one row or column
    require(
        name,
        kept.all() or not kept.any() or not shared,
        "every example got the same mask (or every unit the same decision across a row). "
        "Hint: draw one random number per activation: a mask of the full shape x.shape",
    )
    kept_fraction = kept.mean()
    require(
        name,
        abs(kept_fraction - _KEEP) < RATE_TOL,
        f"in train mode with p={_KEEP} you kept {kept_fraction:.1%} of the units; expected "
        f"{_KEEP:.0%}. Hint: in this course p is the probability of KEEPING a unit (some texts, "
        "CS231n's 2016-17 assignments among them, use the probability of dropping it)",
    )
    scale = out[kept] / x[kept]
    scale_error = float(np.abs(scale - 1 / _KEEP).max() * _KEEP)
    require(
        name,
        scale_error < VALUE_TOL,
        f"kept units are scaled by {np.median(scale):.3g}; expected 1/p = {1 / _KEEP:.3g}. "
        "Hint: inverted dropout scales the kept units at training time, so that each unit's "
        "EXPECTED output equals its input and the test-time pass needs no scaling",
    )
    mean_error = abs(out.mean() / x.mean() - 1)
    require(
        name,
        mean_error < MEAN_TOL,
        f"the mean activation changed by {mean_error:.1%}; inverted dropout preserves it",
    )
    again, _ = call_forward(name, dropout_forward, x, dict(param))
    require(
        name,
        isinstance(again, np.ndarray) and np.array_equal(again, out),
        "two calls with the same dropout_param['seed'] gave different masks. Hint: draw the "
        "mask from a generator seeded with dropout_param['seed'] when it is given",
    )
    test_out, _ = call_forward(name, dropout_forward, x, {"mode": "test", "p": _KEEP})
    errors = {
        "mask scale": scale_error,
        "out (test)": compare(
            name,
            "out (test)",
            test_out,
            x,
            VALUE_TOL,
            "at test time dropout passes x through unchanged: no mask and no scaling",
        ),
    }
    x32 = x[:50].astype(np.float32)
    out32, _ = call_forward(name, dropout_forward, x32, dict(param))
    compare(
        name,
        "out (float32)",
        out32,
        x32,
        FORM_ONLY,
        "keep the dtype of x: build the mask with .astype(x.dtype) or divide by a float32 p",
        dtype=np.dtype(np.float32),
    )
    report(name, errors, VALUE_TOL)


_BACKWARD_HINTS = {
    "general": "the gradient passes exactly where the forward pass let the input through, "
    "scaled as the input was (the mask in your cache); in test mode the forward changed "
    "nothing",
    "unmasked": "the gradient passed every unit: a unit the forward pass dropped did not "
    "affect the output, so no gradient reaches it",
    "unscaled": "the kept units were scaled in the forward pass, so their gradient is scaled "
    "by the same factor",
    "twice": "the gradient was scaled twice: the scale belongs once, with the mask",
    "forgets dout": "you returned the mask alone: the gradient that arrives, dout, must flow "
    "through it (the chain rule)",
    "test scaled": "in test mode the forward pass changed nothing, so neither does the "
    "backward pass",
}


def _backward_suspects(
    out: object, x: np.ndarray, dout: np.ndarray, mode: str
) -> list[tuple[np.ndarray, str]]:
    """The gradients of the classic dropout_backward mistakes, with the hints that name them.

    The mask is read back from the student's own forward output (x has no zeros).
    """
    h = _BACKWARD_HINTS
    if mode == "test":
        return [(dout * _KEEP, h["test scaled"]), (dout / _KEEP, h["test scaled"])]
    if not isinstance(out, np.ndarray) or out.shape != x.shape:
        return []
    scaled_mask = out / x  # (N, D): 1/p where kept, 0 where dropped
    kept = (scaled_mask != 0).astype(x.dtype)
    return [
        (dout, h["unmasked"]),
        (dout * kept, h["unscaled"]),
        (dout * scaled_mask / _KEEP, h["twice"]),
        (scaled_mask, h["forgets dout"]),
        (kept, h["forgets dout"]),
    ]


def check_dropout_backward(dropout_forward: Callable, dropout_backward: Callable) -> None:
    """Check ``dropout_backward(dout, cache) -> dx`` against numerical gradients."""
    name = "dropout_backward"
    rng = np.random.default_rng(9)
    x = rng.standard_normal((10, 12))
    errors = {}
    for mode in ("train", "test"):
        param = {"mode": mode, "p": _KEEP, "seed": 321}
        out, cache = call_forward(name, dropout_forward, x, dict(param), what="dropout_forward")
        dout = rng.standard_normal(x.shape)
        dx = call_student(name, dropout_backward, dout, cache)

        def forward(z, param=param):
            with np.errstate(all="ignore"):
                out, _ = expect_tuple(
                    name, dropout_forward(z, dict(param)), ("out", "cache"), name
                )
            return out

        try:
            numeric = numerical_gradient_array(forward, x, dout)
        except CheckFailed:
            raise
        except Exception as error:
            raise CheckFailed(
                f"{name}: dropout_forward failed during gradient checking: {error}"
            ) from error
        errors[f"dx ({mode})"] = compare_diagnosed(
            name,
            f"dx ({mode})",
            dx,
            numeric,
            GRAD_TOL,
            _BACKWARD_HINTS["general"],
            _backward_suspects(out, x, dout, mode),
        )
    report(name, errors, GRAD_TOL)
