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
for recurrent nets), ``UPDATE_RULES``, ``get_update_rule`` and ``fill_config``;
the input validation lives in ``course._optim_validation``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from course._optim_validation import (
    unknown_rule_message,
    validate_grads_to_clip,
    validate_hyperparameters,
    validate_step,
)

__all__ = [
    "DEFAULTS",
    "STATE_KEYS",
    "UPDATE_RULES",
    "UpdateRule",
    "adam",
    "clip_grads_by_global_norm",
    "fill_config",
    "get_update_rule",
    "global_norm",
    "rmsprop",
    "sgd",
    "sgd_momentum",
]

UpdateRule = Callable[..., tuple[np.ndarray, dict[str, Any]]]
"""The type of an update rule: ``rule(w, dw, config=None) -> (next_w, next_config)``."""

DEFAULTS: dict[str, dict[str, float]] = {
    "sgd": {"learning_rate": 1e-2},
    "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
    "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
}
"""The hyperparameters of every built-in rule, with their defaults."""

STATE_KEYS: dict[str, tuple[str, ...]] = {
    "sgd": (),
    "sgd_momentum": ("velocity",),
    "rmsprop": ("cache",),
    "adam": ("m", "v", "t"),
}
"""The state each built-in rule keeps in its config between calls."""


def _validate(rule: str, w: object, dw: object, config: object) -> tuple:
    """``(w, dw, hyper, state)`` of one call of a built-in rule (see validate_step)."""
    return validate_step(rule, w, dw, config, DEFAULTS[rule], STATE_KEYS[rule])


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
    filled = validate_hyperparameters(name, config, DEFAULTS[name], STATE_KEYS[name])
    for key in STATE_KEYS[name]:
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
    w, dw, hyper, _ = _validate("sgd", w, dw, config)
    next_w = (w - hyper["learning_rate"] * dw).astype(w.dtype, copy=False)
    return next_w, hyper


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
    w, dw, hyper, state = _validate("sgd_momentum", w, dw, config)
    lr, mu, velocity = hyper["learning_rate"], hyper["momentum"], state["velocity"]

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
    w, dw, hyper, state = _validate("rmsprop", w, dw, config)
    lr, rho, eps = hyper["learning_rate"], hyper["decay_rate"], hyper["epsilon"]
    cache = state["cache"]

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
    w, dw, hyper, state = _validate("adam", w, dw, config)
    m, v, t = state["m"], state["v"], state["t"]
    lr, b1, b2, eps = (hyper[k] for k in ("learning_rate", "beta1", "beta2", "epsilon"))

    next_t = t + 1  # step 1
    next_m = (b1 * m + (1 - b1) * dw).astype(w.dtype, copy=False)  # step 2
    next_v = (b2 * v + (1 - b2) * dw**2).astype(w.dtype, copy=False)  # step 3
    m_hat = next_m / (1 - b1**next_t)  # step 4
    v_hat = next_v / (1 - b2**next_t)
    next_w = (w - lr * m_hat / (np.sqrt(v_hat) + eps)).astype(w.dtype, copy=False)  # step 5
    return next_w, {**hyper, "m": next_m, "v": next_v, "t": next_t}


def global_norm(grads: Mapping[str, np.ndarray]) -> float:
    """The joint L2 norm of all gradients, ``sqrt(sum over k of sum(grads[k]**2))``.

    The squares are summed in float64, so float32 gradients lose no
    precision; a gradient holding inf or NaN gives inf or NaN.
    """
    return math.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads.values()))


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
    validate_grads_to_clip("clip_grads_by_global_norm", grads, max_norm)
    total_norm = global_norm(grads)
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
        raise ValueError(unknown_rule_message(name_or_callable, list(UPDATE_RULES))) from None
