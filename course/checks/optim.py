"""Checks for the update rules: SGD with momentum, RMSProp and Adam.

An update rule ``rule(w, dw, config) -> (next_w, next_config)`` is checked
along a short trajectory: several steps with fresh gradients, each step
given the config the student's rule returned the step before, so a rule
that forgets its state (or stores the wrong state) shows within a step or
two. The hyperparameters are deliberately not the defaults, so a rule that
hard-codes ``0.9`` or ``1e-8`` shows too. At every step the state the rule
returns (velocity, cache, or m, v and t) is compared before ``next_w``:
the state comes first in the formula, so its message points at the first
line that is wrong. A state or step that matches a classic mistake (swapped
weights, epsilon inside the root, the previous state used, ...) gets the
hint that names it.

This module passes the ~400 lines a module aims for: most of it is the hints
and the classic mistakes they name.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from course import optim
from course.checks.core import (
    FLOAT32_TOL,
    VALUE_TOL,
    CheckFailed,
    call_student,
    compare,
    compare_diagnosed,
    expect_tuple,
    report,
    require,
)

_STEPS = 4  # enough for the state of every rule to matter (bias correction fades with t)
_SHAPE = (4, 5)  # non-square, so a transposed state array shows

# Non-default hyperparameters: a rule that ignores config and uses the defaults fails.
# epsilon is large enough (1e-3) that putting it inside or outside the square root matters.
_CONFIGS: dict[str, dict[str, float]] = {
    "sgd_momentum": {"learning_rate": 0.05, "momentum": 0.7},
    "rmsprop": {"learning_rate": 0.02, "decay_rate": 0.8, "epsilon": 1e-3},
    "adam": {"learning_rate": 0.01, "beta1": 0.8, "beta2": 0.95, "epsilon": 1e-3},
}

# How the formulas name each state entry, for the examples in the hints.
_NAMES = {"velocity": "v", "cache": "cache", "m": "m", "v": "v", "t": "t"}


def check_sgd_momentum(sgd_momentum: Callable) -> None:
    """Check ``sgd_momentum(w, dw, config) -> (next_w, next_config)`` over several steps."""
    name = "sgd_momentum"
    errors, tols = _run_rule_steps(
        name,
        sgd_momentum,
        optim.sgd_momentum,
        state={
            "velocity": "the velocity keeps a fraction momentum of the previous velocity "
            "(config['velocity'], zeros on the first step) and adds a step downhill scaled by "
            "the learning rate; both hyperparameters come from config",
        },
        next_w_hint="the parameter moves by the velocity of THIS step, which already holds "
        "the learning rate",
        suspects={
            "velocity": [
                (
                    lambda w, dw, c: (
                        c["momentum"] * _state(c, "velocity", w) + c["learning_rate"] * dw
                    ),
                    "the velocity points uphill: a step that lowers the loss goes AGAINST "
                    "the gradient",
                ),
                (
                    lambda w, dw, c: 0.9 * _state(c, "velocity", w) - c["learning_rate"] * dw,
                    "the velocity keeps config['momentum'] of its previous value, not a fixed "
                    "0.9 (this check's momentum is 0.7)",
                ),
            ],
            "next_w": [
                (
                    lambda w, dw, c: w + c["learning_rate"] * _momentum_velocity(w, dw, c),
                    "the learning rate is already inside the velocity: do not multiply by it "
                    "again",
                ),
                (
                    lambda w, dw, c: w + _state(c, "velocity", w),
                    "you stepped with the previous velocity: update the velocity first, then "
                    "move by the NEW one",
                ),
            ],
        },
    )
    report(name, errors, tols)


def check_rmsprop(rmsprop: Callable) -> None:
    """Check ``rmsprop(w, dw, config) -> (next_w, next_config)`` over several steps."""
    name = "rmsprop"
    errors, tols = _run_rule_steps(
        name,
        rmsprop,
        optim.rmsprop,
        state={
            "cache": "the cache is a moving average of the SQUARED gradient, in which "
            "decay_rate is the weight of the past",
        },
        next_w_hint="the step divides the gradient by its root mean square, from the NEW "
        "cache, with epsilon added outside the square root so that nothing divides by zero",
        suspects={
            "cache": [
                (
                    lambda w, dw, c: _rms_cache(w, dw, c, square=False),
                    "the average is of the SQUARED gradient (elementwise), which measures "
                    "each weight's gradient scale",
                ),
                (
                    lambda w, dw, c: (
                        c["decay_rate"] * dw**2 + (1 - c["decay_rate"]) * _state(c, "cache", w)
                    ),
                    "decay_rate is the weight of the OLD cache (the memory); 1 - decay_rate "
                    "that of the new squared gradient",
                ),
                (
                    lambda w, dw, c: _state(c, "cache", w) + dw**2,
                    "that is Adagrad's cache, a sum that grows forever: RMSProp's is a moving "
                    "AVERAGE that forgets, weighted by decay_rate",
                ),
            ],
            "next_w": [
                (
                    lambda w, dw, c: (
                        w - c["learning_rate"] * dw / np.sqrt(_rms_cache(w, dw, c) + c["epsilon"])
                    ),
                    "epsilon is added outside the square root, to the root mean square",
                ),
                (
                    lambda w, dw, c: (
                        w - c["learning_rate"] * dw / (_rms_cache(w, dw, c) + c["epsilon"])
                    ),
                    "divide by the ROOT of the mean square (the gradient's typical size), not "
                    "by the mean square itself",
                ),
                (
                    lambda w, dw, c: (
                        w
                        - c["learning_rate"] * dw / (np.sqrt(_state(c, "cache", w)) + c["epsilon"])
                    ),
                    "you divided by the previous cache: update the cache first, then step "
                    "with the NEW cache",
                ),
                (
                    lambda w, dw, c: (
                        w - c["learning_rate"] * dw / (np.sqrt(_rms_cache(w, dw, c)) + 1e-8)
                    ),
                    "take epsilon from config (this check's is 1e-3), not a fixed 1e-8",
                ),
            ],
        },
    )
    report(name, errors, tols)


def check_adam(adam: Callable) -> None:
    """Check ``adam(w, dw, config) -> (next_w, next_config)`` over several steps."""
    name = "adam"
    errors, tols = _run_rule_steps(
        name,
        adam,
        optim.adam,
        state={
            "t": "t counts the steps taken, this one included: it is 0 (or absent) before the "
            "first step",
            "m": "m, the first moment, is a moving average of the gradient with beta1 as the "
            "weight of the past (beta2 belongs to v)",
            "v": "v, the second moment, is a moving average of the SQUARED gradient with beta2 "
            "as the weight of the past",
        },
        next_w_hint="increment t before the bias correction: m and v start at zero, so each is "
        "divided by one minus its beta to the power t, with the new t (1 on the first step); "
        "then step by the corrected m over the root of the corrected v, epsilon added outside "
        "the root",
        suspects={
            "m": [
                (
                    lambda w, dw, c: c["beta2"] * _state(c, "m", w) + (1 - c["beta2"]) * dw,
                    "m averages the gradient with beta1; beta2 belongs to v",
                ),
                (
                    lambda w, dw, c: (
                        _adam_moments(w, dw, c)[0] / (1 - c["beta1"] ** _adam_moments(w, dw, c)[2])
                    ),
                    "store the raw moving average m in config: the bias-corrected value is "
                    "only for this step's update",
                ),
            ],
            "v": [
                (
                    lambda w, dw, c: c["beta2"] * _state(c, "v", w) + (1 - c["beta2"]) * dw,
                    "v averages the SQUARED gradient (elementwise)",
                ),
            ],
            "next_w": [
                (
                    lambda w, dw, c: _adam_update(w, dw, c, corrected=False),
                    "increment t before the bias correction, and apply it: without it the "
                    "first steps are far too small, because m and v start at zero",
                ),
                (
                    lambda w, dw, c: _adam_update(w, dw, c, epsilon_inside=True),
                    "epsilon is added outside the square root, to the root of the corrected v",
                ),
                (_adam_step_size_form, _ADAM_STEP_SIZE_FORM_HINT),
            ],
        },
    )
    report(name, errors, tols)


_ADAM_STEP_SIZE_FORM_HINT = (
    "next_w matches Adam in the paper's step-size form (alpha_t = learning_rate * "
    "sqrt(1 - beta2**t) / (1 - beta1**t) times m over the root of v), which differs from the "
    "course's Adam only in where epsilon sits: the course uses the paper's Algorithm 1 (as "
    "PyTorch and CS231n do), which adds epsilon to the root of the bias-CORRECTED v; in your "
    "form epsilon acts as epsilon / sqrt(1 - beta2**t), a larger epsilon while t is small, "
    "and with this check's epsilon = 1e-3 the two differ by more than the threshold. Write "
    "Algorithm 1, or keep your form with eps_hat = epsilon * sqrt(1 - beta2**t) in place of "
    "epsilon"
)


def _state(config: dict, key: str, w: np.ndarray) -> np.ndarray:
    """The state ``config[key]`` a rule starts this step from: zeros like w when absent."""
    return config.get(key, np.zeros_like(w))


def _momentum_velocity(w: np.ndarray, dw: np.ndarray, config: dict) -> np.ndarray:
    """The velocity of this step (the reference's)."""
    return optim.sgd_momentum(w, dw, dict(config))[1]["velocity"]


def _rms_cache(w: np.ndarray, dw: np.ndarray, config: dict, square: bool = True) -> np.ndarray:
    """RMSProp's new cache; with ``square=False``, the classic mistake of averaging dw itself."""
    decay = config["decay_rate"]
    return decay * _state(config, "cache", w) + (1 - decay) * (dw**2 if square else dw)


def _adam_moments(w: np.ndarray, dw: np.ndarray, config: dict) -> tuple:
    """Adam's new (m, v, t) (the reference's)."""
    new = optim.adam(w, dw, dict(config))[1]
    return new["m"], new["v"], new["t"]


def _adam_update(
    w: np.ndarray, dw: np.ndarray, config: dict, corrected: bool = True, epsilon_inside=False
) -> np.ndarray:
    """Adam's next_w, or a classic mistake: no bias correction, or epsilon inside the root."""
    m, v, t = _adam_moments(w, dw, config)
    if corrected:
        m, v = m / (1 - config["beta1"] ** t), v / (1 - config["beta2"] ** t)
    eps = config["epsilon"]
    root = np.sqrt(v + eps) if epsilon_inside else np.sqrt(v) + eps
    return w - config["learning_rate"] * m / root


def _adam_step_size_form(w: np.ndarray, dw: np.ndarray, config: dict) -> np.ndarray:
    """Adam in the step-size form of Kingma & Ba (section 2), epsilon used as eps_hat.

    alpha_t = lr * sqrt(1 - b2**t) / (1 - b1**t); w' = w - alpha_t * m' / (sqrt(v') + eps):
    :func:`course.optim.adam` with epsilon replaced by eps / sqrt(1 - b2**t).
    """
    b2 = config["beta2"]
    t = config.get("t", 0) + 1
    with_eps_hat = dict(config, epsilon=config["epsilon"] / np.sqrt(1 - b2**t))
    next_w, _ = optim.adam(w, dw, with_eps_hat)
    return next_w


def _run_rule_steps(
    name: str,
    student: Callable,
    reference: Callable,
    state: dict[str, str],
    next_w_hint: str,
    suspects: Mapping[str, Sequence[tuple[Callable, str]]] | None = None,
) -> tuple[dict[str, float], dict[str, float]]:
    """Run ``student`` and ``reference`` side by side; compare state and ``next_w`` each step.

    Then one call with ``config=None`` (the defaults) and one in float32.
    ``suspects`` maps 'next_w' or a state key to classic mistakes: each a
    variant ``(w, dw, config) -> value`` (config: the state before the step)
    with the hint a value equal to its result gets.
    Returns (errors, thresholds); each error is the largest over the steps.
    """
    hints = {**state, "next_w": next_w_hint}
    labels = {key: "next_w" if key == "next_w" else f"config[{key!r}]" for key in hints}
    rng = np.random.default_rng(20)
    w = rng.standard_normal(_SHAPE)
    student_config: dict = dict(_CONFIGS[name])
    reference_config: dict = dict(_CONFIGS[name])
    errors = dict.fromkeys(labels.values(), 0.0)

    for step in range(1, _STEPS + 1):
        dw = rng.standard_normal(_SHAPE) * np.linspace(0.1, 3.0, _SHAPE[1])  # varied scales
        next_w, student_config = _student_step(
            name, student, w, dw, student_config, step, tuple(state)
        )
        wrong = {
            key: [(variant(w, dw, reference_config), hint) for variant, hint in variants]
            for key, variants in (suspects or {}).items()
        }
        expected_w, reference_config = reference(w, dw, reference_config)
        for key, label in labels.items():
            actual = next_w if key == "next_w" else student_config[key]
            expected = expected_w if key == "next_w" else reference_config[key]
            error = compare_diagnosed(
                name,
                f"{label} (step {step})",
                actual,
                expected,
                VALUE_TOL,
                hints[key],
                wrong.get(key, ()),
            )
            errors[label] = max(errors[label], error)
        w = expected_w  # both rules take their next step from the same point
    tols = dict.fromkeys(errors, VALUE_TOL)

    # config=None: the first call of a training loop, with the default hyperparameters.
    dw = rng.standard_normal(_SHAPE)
    try:
        next_w, _ = _student_step(name, student, w, dw, None, "config=None", tuple(state))
    except CheckFailed as failure:
        if failure.__cause__ is None:  # not an exception raised in the student's code
            raise
        raise CheckFailed(
            f"{failure} Hint: the first call may pass config=None; start with "
            "config = {} if config is None else config, and take each hyperparameter with "
            "config.get('learning_rate', <default>)"
        ) from failure.__cause__
    expected_w, _ = reference(w, dw, None)
    label = "next_w (config=None)"
    errors[label] = compare(name, label, next_w, expected_w, VALUE_TOL, next_w_hint)
    tols[label] = VALUE_TOL

    # float32: the update must keep the parameter's dtype.
    w32, dw32 = w.astype(np.float32), dw.astype(np.float32)
    next_w, _ = _student_step(
        name, student, w32, dw32, dict(_CONFIGS[name]), "float32", tuple(state)
    )
    expected_w, _ = reference(w32, dw32, dict(_CONFIGS[name]))
    label = "next_w (float32)"
    errors[label] = compare(
        name, label, next_w, expected_w, FLOAT32_TOL, next_w_hint, dtype=np.dtype(np.float32)
    )
    tols[label] = FLOAT32_TOL
    return errors, tols


def _student_step(
    name: str,
    student: Callable,
    w: np.ndarray,
    dw: np.ndarray,
    config: dict | None,
    step: int | str,
    state_keys: tuple[str, ...],
) -> tuple[object, dict]:
    """One call of the student's rule: its result, checked for form, and config purity."""
    before = _snapshot(config)
    result = call_student(name, student, w, dw, config, state_args=(2,))
    change = _first_change(before, config)
    example = "{**config, " + ", ".join(f"{k!r}: {_NAMES[k]}" for k in state_keys) + "}"
    require(
        name,
        change is None,
        f"{name} changed the config it was given ({change}, step {step}). Hint: return a NEW "
        f"dict, next_config = {example}, holding NEW arrays (x = a * x + b, not x *= a): "
        "the caller may still need the old config",
    )
    next_w, next_config = expect_tuple(name, result, ("next_w", "next_config"), name)
    if isinstance(next_w, Mapping) and isinstance(next_config, np.ndarray):
        raise CheckFailed(
            f"{name}: {name} returned (config, w); return them in the order (next_w, next_config)"
        )
    require(
        name,
        isinstance(next_config, Mapping),
        f"next_config should be a dict, got {type(next_config).__name__} (step {step}). "
        "Hint: return (next_w, next_config), where next_config holds the hyperparameters "
        "and the new state",
    )
    for key, value in (config or {}).items():
        if key in _CONFIGS[name]:
            require(
                name,
                key in next_config and _equal(next_config[key], value),
                f"the returned config lost or changed {key!r} (step {step}). Hint: keep the "
                "hyperparameters in the config you return: next_config = {**config, ...}",
            )
    for key in state_keys:
        require(
            name,
            key in next_config,
            f"the returned config has no {key!r} (step {step}). Hint: store the new state in "
            f"the config you return, next_config = {example}; the next call reads it from there",
        )
    return next_w, dict(next_config)


def _snapshot(config: Mapping | None) -> dict | None:
    """A deep copy of a config, to see afterwards whether the rule changed it."""
    return None if config is None else {key: copy.deepcopy(v) for key, v in config.items()}


def _first_change(before: dict | None, after: Mapping | None) -> str | None:
    """Describe the first difference between a config and its snapshot, or None."""
    if before is None:
        return None
    added = [key for key in after if key not in before]
    if added:
        return f"it added config[{added[0]!r}]"
    for key, old in before.items():
        if key not in after:
            return f"it removed config[{key!r}]"
        if not _equal(after[key], old):
            return f"config[{key!r}] was modified in place"
    return None


def _equal(a: object, b: object) -> bool:
    """Exact equality of two config values (arrays by shape, dtype and value)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and np.array_equal(a, b, equal_nan=True)
        )
    try:
        return bool(a == b)
    except Exception:
        return False
