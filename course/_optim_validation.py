"""Input validation for the update rules of :mod:`course.optim`.

The rules themselves only show their maths; everything that turns a wrong
call into a clear message lives here: unknown config keys (with a "did you
mean" for typos), hyperparameters out of range, state arrays made for another
parameter, gradients that do not match their parameter.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from course.validation import (
    as_float_array,
    format_shape,
    is_positive_finite,
    is_real_number,
    require_positive_int,
)

# What each hyperparameter accepts, by name (a name means the same in every rule).
_NON_NEGATIVE = ("a non-negative number", lambda x: x >= 0)
_UNIT = ("a number in [0, 1)", lambda x: 0 <= x < 1)
_RANGES: dict[str, tuple[str, Callable[[float], bool]]] = {
    "learning_rate": _NON_NEGATIVE,
    "momentum": _UNIT,
    "decay_rate": _UNIT,
    "beta1": _UNIT,
    "beta2": _UNIT,
    "epsilon": ("a non-negative number (a small one, e.g. 1e-8)", _NON_NEGATIVE[1]),
}


def validate_hyperparameters(
    rule: str, config: object, defaults: Mapping[str, float], state_keys: tuple[str, ...]
) -> dict[str, float]:
    """Return a new dict of ``rule``'s hyperparameters: ``config``'s values, else the defaults.

    Unknown keys (typos such as 'learning_rte') raise ValueError listing the
    valid keys; values out of range raise ValueError naming the range; state
    keys are allowed but not copied.
    """
    if config is None:
        config = {}
    if not isinstance(config, Mapping):
        raise TypeError(
            f"{rule}: config must be a dict (or None for the defaults), "
            f"got {type(config).__name__}"
        )
    valid = [*defaults, *state_keys]
    unknown = [key for key in config if key not in valid]
    if unknown:
        hints = []
        for key in unknown:
            close = difflib.get_close_matches(str(key), valid, n=1)
            if close:
                hints.append(f"{key!r} -> did you mean {close[0]!r}?")
        hint = f" ({'; '.join(hints)})" if hints else ""
        raise ValueError(
            f"{rule}: unknown config key(s) {', '.join(repr(k) for k in unknown)}{hint}. "
            f"Valid keys are {', '.join(repr(k) for k in valid)}"
        )
    filled: dict[str, float] = {}
    for name, default in defaults.items():
        value = config.get(name, default)
        requirement, accepts = _RANGES[name]
        if not is_real_number(value) or not math.isfinite(value) or not accepts(float(value)):
            raise ValueError(f"{rule}: config[{name!r}] must be {requirement}, got {value!r}")
        filled[name] = float(value)  # a Python float keeps w's dtype in arithmetic
    return filled


def validate_step(
    rule: str,
    w: object,
    dw: object,
    config: Mapping[str, Any] | None,
    defaults: Mapping[str, float],
    state_keys: tuple[str, ...],
) -> tuple[np.ndarray, np.ndarray, dict[str, float], dict[str, Any]]:
    """Validate one call ``rule(w, dw, config)``; return ``(w, dw, hyper, state)``.

    ``hyper`` holds the hyperparameters with defaults filled in. ``state``
    holds the rule's state: each state array from ``config`` (checked against
    w's shape), or zeros like w on the first step; the step count ``t`` as an
    int (0 on the first step). The arrays are only read, never written.
    """
    w = as_float_array(rule, "w", w)
    dw = as_float_array(rule, "dw", dw)
    if w.shape != dw.shape:
        raise ValueError(
            f"{rule}: w has shape {format_shape(w.shape)} but dw has shape "
            f"{format_shape(dw.shape)}; a gradient must have the shape of its parameter"
        )
    hyper = validate_hyperparameters(rule, config, defaults, state_keys)
    config = config or {}
    state: dict[str, Any] = {}
    for key in state_keys:
        if key == "t":
            t = config.get("t", 0)
            state["t"] = require_positive_int(rule, "config['t']", t, allow_zero=True)
        else:
            state[key] = _state_array(rule, config.get(key), key, w)
    return w, dw, hyper, state


def _state_array(rule: str, value: object, key: str, w: np.ndarray) -> np.ndarray:
    """The state array ``config[key]`` checked against w, or zeros like w on the first step."""
    if value is None:
        return np.zeros_like(w)
    value = as_float_array(rule, f"config[{key!r}]", value)
    if value.shape != w.shape:
        raise ValueError(
            f"{rule}: config[{key!r}] has shape {format_shape(value.shape)} but w has shape "
            f"{format_shape(w.shape)}; was this config made for another parameter? "
            f"Keep one config per parameter"
        )
    return value


def validate_grads_to_clip(func: str, grads: object, max_norm: object) -> None:
    """Check a dict of floating-point gradients, all finite, and a positive ``max_norm``."""
    if not isinstance(grads, Mapping):
        raise TypeError(f"{func}: grads must be a dict name -> array, got {type(grads).__name__}")
    if not is_positive_finite(max_norm):
        raise ValueError(f"{func}: max_norm must be a positive number, got {max_norm!r}")
    for name, g in grads.items():
        as_float_array(func, f"grads[{name!r}]", g)
    broken = [name for name, g in grads.items() if not np.all(np.isfinite(g))]
    if broken:
        raise FloatingPointError(
            f"{func}: gradient(s) {', '.join(repr(n) for n in broken)} contain NaN or inf; "
            f"clipping cannot repair them. Look for an overflow in the forward pass or "
            f"try a smaller learning rate"
        )


def unknown_rule_message(name: str, known: list[str]) -> str:
    """The error for an update-rule name that is not one of ``known``."""
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (
        f"get_update_rule: unknown update rule {name!r}{hint}. "
        f"Known rules: {', '.join(repr(n) for n in known)}, "
        f"or pass your own function rule(w, dw, config) -> (next_w, next_config)"
    )
