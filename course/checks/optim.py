"""Checks for the update rules: SGD with momentum, RMSProp and Adam.

An update rule ``rule(w, dw, config) -> (next_w, next_config)`` is checked
along a short trajectory: several steps with fresh gradients, each step
given the config the student's rule returned the step before, so a rule
that forgets its state (or stores the wrong state) shows within a step or
two. The hyperparameters are deliberately not the defaults, so a rule that
hard-codes ``0.9`` or ``1e-8`` shows too. At every step the state the rule
returns (velocity, cache, or m, v and t) is compared before ``next_w``:
the state comes first in the formula, so its message points at the first
line that is wrong.
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
            "velocity": "v = momentum * v - learning_rate * dw, with the previous v read from "
            "config['velocity'] (zeros on the first step) and both hyperparameters from config",
        },
        next_w_hint="next_w = w + v with the NEW velocity v; the learning rate is already "
        "inside v, so do not multiply by it again",
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
            "cache": "cache = decay_rate * cache + (1 - decay_rate) * dw**2: the old cache is "
            "weighted by decay_rate and the SQUARED gradient by 1 - decay_rate",
        },
        next_w_hint="next_w = w - learning_rate * dw / (np.sqrt(cache) + epsilon) with the NEW "
        "cache; epsilon is added outside the square root",
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
            "t": "t counts the steps taken: read config['t'] (0 when absent) and store t + 1",
            "m": "m = beta1 * m + (1 - beta1) * dw: the first moment averages the gradient "
            "with beta1 (beta2 belongs to v)",
            "v": "v = beta2 * v + (1 - beta2) * dw**2: the second moment averages the SQUARED "
            "gradient with beta2",
        },
        next_w_hint="increment t before the bias correction: m_hat = m / (1 - beta1**t) and "
        "v_hat = v / (1 - beta2**t) with the new t (1 on the first step), then "
        "next_w = w - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon)",
        next_w_suspects=[(_adam_step_size_form, _ADAM_STEP_SIZE_FORM_HINT)],
    )
    report(name, errors, tols)


_ADAM_STEP_SIZE_FORM_HINT = (
    "next_w matches Adam in the paper's step-size form, alpha_t = learning_rate * "
    "sqrt(1 - beta2**t) / (1 - beta1**t), next_w = w - alpha_t * m / (np.sqrt(v) + epsilon), "
    "which differs from the course's Adam only in where epsilon sits: it equals "
    "learning_rate * m_hat / (np.sqrt(v_hat) + epsilon / sqrt(1 - beta2**t)), a larger "
    "epsilon while t is small. The course uses the paper's Algorithm 1 (as PyTorch and "
    "CS231n do): next_w = w - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon), with "
    "m_hat = m / (1 - beta1**t) and v_hat = v / (1 - beta2**t); with this check's "
    "epsilon = 1e-3 the two forms differ by more than the threshold. Write that form, or "
    "keep the step-size form with eps_hat = epsilon * sqrt(1 - beta2**t) in place of epsilon"
)


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
    next_w_suspects: Sequence[tuple[Callable, str]] = (),
) -> tuple[dict[str, float], dict[str, float]]:
    """Run ``student`` and ``reference`` side by side; compare state and ``next_w`` each step.

    Then one call with ``config=None`` (the defaults) and one in float32.
    ``next_w_suspects`` pairs a known variant ``(w, dw, config) -> next_w``
    with the hint a stepwise next_w equal to its result gets.
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
        suspects = [(variant(w, dw, reference_config), hint) for variant, hint in next_w_suspects]
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
                suspects if key == "next_w" else (),
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
