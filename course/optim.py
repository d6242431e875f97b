"""Update rules: how a parameter moves, given its gradient.

Every rule is a pure function with one signature::

    next_w, next_config = rule(w, dw, config)

- ``w`` is a parameter array of any shape and ``dw`` its gradient (same shape).
- ``config`` holds the rule's hyperparameters (``learning_rate``, ...) and its
  state (``velocity``, ``cache``, ``m``/``v``/``t``). Pass ``None`` (or a dict
  with only some hyperparameters) on the first step; the rule fills in the
  defaults and creates the state.
- The rule changes none of its inputs. It returns a NEW array ``next_w`` (same
  dtype as ``w``) and a NEW dict ``next_config`` to pass to the next call.

A training loop keeps one config per parameter::

    w, config = adam(w, dw)              # first step: defaults and state made for you
    w, config = adam(w, dw2, config)     # later steps: pass the returned config back

Also here: ``clip_grads_by_global_norm`` (the "clip gradients, 5 works" trick
for recurrent nets), ``UPDATE_RULES``, ``get_update_rule`` and ``fill_config``.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from course.validation import (
    as_float_array,
    format_shape,
    is_positive_finite,
    is_real_number,
    require_positive_int,
)

__all__ = [
    "UPDATE_RULES",
    "UpdateRule",
    "adam",
    "fill_config",
    "clip_grads_by_global_norm",
    "get_update_rule",
    "rmsprop",
    "sgd",
    "sgd_momentum",
]

UpdateRule = Callable[..., tuple[np.ndarray, dict[str, Any]]]
"""The type of an update rule: ``rule(w, dw, config=None) -> (next_w, next_config)``."""


@dataclass(frozen=True)
class _Hyper:
    """One hyperparameter: its default and the range of values it accepts."""

    default: float
    requirement: str  # said to the user, e.g. "a number in [0, 1)"
    accepts: Callable[[float], bool]


_LEARNING_RATE = "a non-negative number"
_UNIT = "a number in [0, 1)"
_EPSILON = "a non-negative number (a small one, e.g. 1e-8)"


def _non_negative(x: float) -> bool:
    return x >= 0


def _in_unit_interval(x: float) -> bool:
    return 0 <= x < 1


# Hyperparameters (with defaults) and state keys of every built-in rule.
_HYPERS: dict[str, dict[str, _Hyper]] = {
    "sgd": {"learning_rate": _Hyper(1e-2, _LEARNING_RATE, _non_negative)},
    "sgd_momentum": {
        "learning_rate": _Hyper(1e-2, _LEARNING_RATE, _non_negative),
        "momentum": _Hyper(0.9, _UNIT, _in_unit_interval),
    },
    "rmsprop": {
        "learning_rate": _Hyper(1e-2, _LEARNING_RATE, _non_negative),
        "decay_rate": _Hyper(0.99, _UNIT, _in_unit_interval),
        "epsilon": _Hyper(1e-8, _EPSILON, _non_negative),
    },
    "adam": {
        "learning_rate": _Hyper(1e-3, _LEARNING_RATE, _non_negative),
        "beta1": _Hyper(0.9, _UNIT, _in_unit_interval),
        "beta2": _Hyper(0.999, _UNIT, _in_unit_interval),
        "epsilon": _Hyper(1e-8, _EPSILON, _non_negative),
    },
}
_STATE_KEYS: dict[str, tuple[str, ...]] = {
    "sgd": (),
    "sgd_momentum": ("velocity",),
    "rmsprop": ("cache",),
    "adam": ("m", "v", "t"),
}


def _fill_hyperparameters(rule: str, config: object) -> dict[str, Any]:
    """Check ``config`` for ``rule`` and return a new dict of its hyperparameters.

    Unknown keys (typos such as 'learning_rte') raise ValueError listing the valid
    keys; missing hyperparameters get their defaults; state keys are not copied.
    """
    if config is None:
        config = {}
    if not isinstance(config, Mapping):
        raise TypeError(
            f"{rule}: config must be a dict (or None for the defaults), "
            f"got {type(config).__name__}"
        )
    hypers = _HYPERS[rule]
    valid = [*hypers, *_STATE_KEYS[rule]]
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

    filled: dict[str, Any] = {}
    for name, hyper in hypers.items():
        value = config.get(name, hyper.default)
        if (
            not is_real_number(value)
            or not math.isfinite(value)
            or not hyper.accepts(float(value))
        ):
            raise ValueError(
                f"{rule}: config[{name!r}] must be {hyper.requirement}, got {value!r}"
            )
        filled[name] = float(value)  # a Python float keeps w's dtype in arithmetic
    return filled


def _check_arrays(rule: str, w: object, dw: object) -> tuple[np.ndarray, np.ndarray]:
    """Check that ``w`` and ``dw`` are floating-point arrays of the same shape."""
    w = as_float_array(rule, "w", w)
    dw = as_float_array(rule, "dw", dw)
    if w.shape != dw.shape:
        raise ValueError(
            f"{rule}: w has shape {format_shape(w.shape)} but dw has shape "
            f"{format_shape(dw.shape)}; a gradient must have the shape of its parameter"
        )
    return w, dw


def _state_array(
    rule: str, config: Mapping[str, Any] | None, key: str, w: np.ndarray
) -> np.ndarray:
    """Return the state array ``config[key]`` (checked against ``w``), or zeros on the first step.

    The array is only read, never written: the rules compute new state arrays.
    """
    value = None if config is None else config.get(key)
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


def fill_config(rule: str | UpdateRule, config: Mapping[str, Any] | None = None) -> dict:
    """Return a new config for ``rule`` with its defaults filled in, after checking it.

    Use it to catch a typo in a config before training starts: the Solver calls
    it when it is built. For a built-in rule, unknown keys and out-of-range
    values raise ValueError; state entries (``velocity``, ``m``, ...) are kept.
    For a custom rule (a callable not in ``UPDATE_RULES``) the config is
    returned as a shallow copy, unchecked.

    Inputs:
    - rule: a name from ``UPDATE_RULES`` or an update-rule callable.
    - config: a dict of hyperparameters (and optionally state), or None.

    Returns:
    - a new dict: the hyperparameters with defaults filled in, plus any state
      entries that ``config`` held.
    """
    func = get_update_rule(rule)
    name = next((n for n, f in UPDATE_RULES.items() if f is func), None)
    if name is None:
        return dict(config or {})
    filled = _fill_hyperparameters(name, config)
    for key in _STATE_KEYS[name]:
        if config is not None and config.get(key) is not None:
            filled[key] = config[key]
    return filled


def sgd(
    w: np.ndarray, dw: np.ndarray, config: Mapping[str, Any] | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Vanilla stochastic gradient descent: one step against the gradient.

        w' = w - lr * dw

    Inputs:
    - w: parameter, array of any shape S (float32 or float64).
    - dw: gradient of the loss with respect to w, shape S.
    - config: dict or None, with
      - learning_rate (lr): step size, default 1e-2.

    Returns:
    - next_w: new array of shape S and w's dtype.
    - next_config: new dict {'learning_rate'}.
    """
    w, dw = _check_arrays("sgd", w, dw)
    config = _fill_hyperparameters("sgd", config)
    next_w = (w - config["learning_rate"] * dw).astype(w.dtype, copy=False)
    return next_w, config


def sgd_momentum(
    w: np.ndarray, dw: np.ndarray, config: Mapping[str, Any] | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Stochastic gradient descent with momentum: a velocity that accumulates gradients.

        1. v' = mu * v - lr * dw      (v starts at 0)
        2. w' = w + v'

    With a steady gradient g the velocity tends to -lr * g / (1 - mu): with
    mu = 0.9 the steps become ten times longer along directions where the
    gradient is consistent, while oscillating components cancel out.

    Inputs:
    - w: parameter, array of any shape S (float32 or float64).
    - dw: gradient of the loss with respect to w, shape S.
    - config: dict or None, with
      - learning_rate (lr): step size, default 1e-2.
      - momentum (mu): in [0, 1), default 0.9; 0 gives plain SGD.
      - velocity (v): state of shape S from the previous call; absent on the first.

    Returns:
    - next_w: new array of shape S and w's dtype.
    - next_config: new dict {'learning_rate', 'momentum', 'velocity'}.
    """
    w, dw = _check_arrays("sgd_momentum", w, dw)
    hyper = _fill_hyperparameters("sgd_momentum", config)
    velocity = _state_array("sgd_momentum", config, "velocity", w)
    lr, mu = hyper["learning_rate"], hyper["momentum"]

    next_velocity = (mu * velocity - lr * dw).astype(w.dtype, copy=False)  # step 1
    next_w = (w + next_velocity).astype(w.dtype, copy=False)  # step 2
    return next_w, {**hyper, "velocity": next_velocity}


def rmsprop(
    w: np.ndarray, dw: np.ndarray, config: Mapping[str, Any] | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """RMSProp: divide each step by a running root-mean-square of that weight's gradients.

        1. cache' = rho * cache + (1 - rho) * dw**2      (cache starts at 0)
        2. w'     = w - lr * dw / (sqrt(cache') + eps)

    Every weight gets its own effective step size: weights with large
    gradients take smaller steps and weights with small gradients larger ones,
    which is what the course recommends for training recurrent nets.

    Inputs:
    - w: parameter, array of any shape S (float32 or float64).
    - dw: gradient of the loss with respect to w, shape S.
    - config: dict or None, with
      - learning_rate (lr): step size, default 1e-2.
      - decay_rate (rho): in [0, 1), default 0.99.
      - epsilon (eps): keeps the division finite, default 1e-8.
      - cache: state of shape S from the previous call; absent on the first.

    Returns:
    - next_w: new array of shape S and w's dtype.
    - next_config: new dict {'learning_rate', 'decay_rate', 'epsilon', 'cache'}.
    """
    w, dw = _check_arrays("rmsprop", w, dw)
    hyper = _fill_hyperparameters("rmsprop", config)
    cache = _state_array("rmsprop", config, "cache", w)
    lr, rho, eps = hyper["learning_rate"], hyper["decay_rate"], hyper["epsilon"]

    next_cache = (rho * cache + (1 - rho) * dw**2).astype(w.dtype, copy=False)  # step 1
    next_w = (w - lr * dw / (np.sqrt(next_cache) + eps)).astype(w.dtype, copy=False)  # step 2
    return next_w, {**hyper, "cache": next_cache}


def adam(
    w: np.ndarray, dw: np.ndarray, config: Mapping[str, Any] | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Adam: momentum on the gradient (m) and RMSProp scaling (v), both bias-corrected.

        1. t' = t + 1                        (t starts at 0: the first step uses t' = 1)
        2. m' = b1 * m + (1 - b1) * dw       (m and v start at 0)
        3. v' = b2 * v + (1 - b2) * dw**2
        4. m_hat = m' / (1 - b1**t'),   v_hat = v' / (1 - b2**t')
        5. w' = w - lr * m_hat / (sqrt(v_hat) + eps)

    The bias correction (step 4) undoes the pull of the zero initial m and v:
    on the first step m_hat = dw and v_hat = dw**2, so every weight moves by
    almost exactly lr, whatever the size of its gradient.

    Inputs:
    - w: parameter, array of any shape S (float32 or float64).
    - dw: gradient of the loss with respect to w, shape S.
    - config: dict or None, with
      - learning_rate (lr): step size, default 1e-3.
      - beta1 (b1): decay of the first moment, in [0, 1), default 0.9.
      - beta2 (b2): decay of the second moment, in [0, 1), default 0.999.
      - epsilon (eps): keeps the division finite, default 1e-8.
      - m, v: state arrays of shape S, and t: the number of steps taken (int),
        from the previous call; absent on the first.

    Returns:
    - next_w: new array of shape S and w's dtype.
    - next_config: new dict {'learning_rate', 'beta1', 'beta2', 'epsilon', 'm', 'v', 't'}.
    """
    w, dw = _check_arrays("adam", w, dw)
    hyper = _fill_hyperparameters("adam", config)
    m = _state_array("adam", config, "m", w)
    v = _state_array("adam", config, "v", w)
    t = 0 if config is None else config.get("t", 0)
    t = require_positive_int("adam", "config['t']", t, allow_zero=True)
    lr, b1, b2, eps = (hyper[k] for k in ("learning_rate", "beta1", "beta2", "epsilon"))

    next_t = t + 1  # step 1
    next_m = (b1 * m + (1 - b1) * dw).astype(w.dtype, copy=False)  # step 2
    next_v = (b2 * v + (1 - b2) * dw**2).astype(w.dtype, copy=False)  # step 3
    m_hat = next_m / (1 - b1**next_t)  # step 4
    v_hat = next_v / (1 - b2**next_t)
    next_w = (w - lr * m_hat / (np.sqrt(v_hat) + eps)).astype(w.dtype, copy=False)  # step 5
    return next_w, {**hyper, "m": next_m, "v": next_v, "t": next_t}


def clip_grads_by_global_norm(
    grads: Mapping[str, np.ndarray], max_norm: float
) -> tuple[dict[str, np.ndarray], float]:
    """Scale all gradients together so that their joint L2 norm is at most ``max_norm``.

        total_norm = sqrt(sum over k of sum(grads[k]**2))
        scale      = min(1, max_norm / total_norm)
        clipped[k] = scale * grads[k]

    One common scale keeps the direction of the whole update and only shortens
    it, which tames the exploding gradients of recurrent nets (max_norm = 5
    works well for the captioning model).

    Inputs:
    - grads: dict name -> gradient array (any shapes, floating point).
    - max_norm: positive number.

    Returns:
    - clipped: new dict with new arrays (same keys, shapes and dtypes); the
      inputs are not modified.
    - total_norm: the global norm before clipping, as a float.

    Raises FloatingPointError, naming the gradients, if any gradient holds NaN
    or inf: no rescaling can repair those.
    """
    func = "clip_grads_by_global_norm"
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

    # Sum the squares in float64 so that float32 gradients lose no precision.
    total_norm = math.sqrt(
        sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads.values())
    )
    scale = min(1.0, max_norm / total_norm) if total_norm > 0 else 1.0
    if scale == 1.0:
        return {name: g.copy() for name, g in grads.items()}, total_norm
    clipped = {name: (g * scale).astype(g.dtype, copy=False) for name, g in grads.items()}
    return clipped, total_norm


UPDATE_RULES: dict[str, UpdateRule] = {
    "sgd": sgd,
    "sgd_momentum": sgd_momentum,
    "rmsprop": rmsprop,
    "adam": adam,
}
"""The built-in update rules by name, for ``Solver(update_rule='adam')``."""


def get_update_rule(name_or_callable: str | UpdateRule) -> UpdateRule:
    """Return the update rule called ``name_or_callable``, or the callable itself.

    Inputs:
    - name_or_callable: a key of ``UPDATE_RULES`` ('sgd', 'sgd_momentum',
      'rmsprop', 'adam') or any callable ``rule(w, dw, config) -> (next_w, next_config)``.

    Returns:
    - the update rule function.
    """
    if callable(name_or_callable):
        return name_or_callable
    if not isinstance(name_or_callable, str):
        raise TypeError(
            f"get_update_rule: expected a rule name or a callable, "
            f"got {type(name_or_callable).__name__}"
        )
    try:
        return UPDATE_RULES[name_or_callable]
    except KeyError:
        close = difflib.get_close_matches(name_or_callable, UPDATE_RULES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(
            f"get_update_rule: unknown update rule {name_or_callable!r}{hint}. "
            f"Known rules: {', '.join(repr(n) for n in UPDATE_RULES)}, "
            f"or pass your own function rule(w, dw, config) -> (next_w, next_config)"
        ) from None
