"""The update-rule checks fail on realistic wrong implementations and pass correct ones.

Each function below is a mistake students make while writing
``rule(w, dw, config=None) -> (next_w, next_config)`` for SGD with momentum,
RMSProp or Adam; each catalogue entry names the message the check must give
for it (the output that is wrong, the step, and the kind of failure). The
correct implementations at the top are written the way a student would
(not copied from ``course.optim``), so the checks are shown not to demand
one particular way of writing a right answer.
"""

from __future__ import annotations

import numpy as np
import pytest

from course import optim
from course.checks import CheckFailed, check_adam, check_rmsprop, check_sgd_momentum
from course.checks.core import references_allowed

# ---------------------------------------------------------------------------
# Correct implementations in a student's style
# ---------------------------------------------------------------------------


def student_sgd_momentum(w, dw, config=None):
    config = {} if config is None else config
    lr = config.get("learning_rate", 1e-2)
    mu = config.get("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = mu * v - lr * dw
    return w + v, {**config, "velocity": v}


def student_rmsprop(w, dw, config=None):
    config = dict(config or {})
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("decay_rate", 0.99)
    config.setdefault("epsilon", 1e-8)
    cache = config.get("cache", np.zeros_like(w))
    rho = config["decay_rate"]
    config["cache"] = rho * cache + (1 - rho) * dw * dw
    step = config["learning_rate"] * dw / (np.sqrt(config["cache"]) + config["epsilon"])
    return w - step, config


def student_adam(w, dw, config=None):
    config = dict(config or {})
    lr = config.setdefault("learning_rate", 1e-3)
    b1 = config.setdefault("beta1", 0.9)
    b2 = config.setdefault("beta2", 0.999)
    eps = config.setdefault("epsilon", 1e-8)
    t = config.get("t", 0) + 1
    m = b1 * config.get("m", np.zeros_like(w)) + (1 - b1) * dw
    v = b2 * config.get("v", np.zeros_like(w)) + (1 - b2) * np.square(dw)
    root = (1 - b2**t) ** 0.5  # a Python float: np.sqrt would give a float64 scalar
    step_size = lr * root / (1 - b1**t)  # the paper's folded bias correction
    next_w = w - step_size * m / (np.sqrt(v) + eps * root)
    config.update(m=m, v=v, t=t)
    return next_w, config


@pytest.mark.parametrize(
    "check, rule",
    [
        (check_sgd_momentum, optim.sgd_momentum),
        (check_rmsprop, optim.rmsprop),
        (check_adam, optim.adam),
        (check_sgd_momentum, student_sgd_momentum),
        (check_rmsprop, student_rmsprop),
        (check_adam, student_adam),
    ],
    ids=["sgd_momentum", "rmsprop", "adam", "student-momentum", "student-rmsprop", "student-adam"],
)
@references_allowed()  # the course's own reference is the right answer
def test_check_passes_correct_rules(check, rule, capsys):
    check(rule)
    out = capsys.readouterr().out
    name = check.__name__.removeprefix("check_")
    assert out.startswith(f"OK {name}:")
    assert out.count("\n") == 1


def test_check_leaves_the_rule_usable_by_the_solver(capsys):
    """A checked rule trains: the check's inputs are private and nothing global is changed."""
    check_adam(student_adam)
    w, config = np.ones(3), None
    for _ in range(3):
        w, config = student_adam(w, 2 * w, config)
    assert config["t"] == 3
    assert np.all(w < 1)


# ---------------------------------------------------------------------------
# sgd_momentum(w, dw, config) -> (next_w, next_config)
# ---------------------------------------------------------------------------


def _momentum_hypers(config):
    config = {} if config is None else config
    return config, config.get("learning_rate", 1e-2), config.get("momentum", 0.9)


# The velocity's sign flipped: it accumulates +lr * dw, so the step goes uphill.
def momentum_velocity_sign_flipped(w, dw, config=None):
    config, lr, mu = _momentum_hypers(config)
    v = mu * config.get("velocity", np.zeros_like(w)) + lr * dw
    return w + v, {**config, "velocity": v}


# The learning rate applied twice: once in v, once more in the step.
def momentum_learning_rate_twice(w, dw, config=None):
    config, lr, mu = _momentum_hypers(config)
    v = mu * config.get("velocity", np.zeros_like(w)) - lr * dw
    return w + lr * v, {**config, "velocity": v}


# The velocity computed but never stored: every step starts from v = 0 (plain SGD).
def momentum_velocity_not_stored(w, dw, config=None):
    config, lr, mu = _momentum_hypers(config)
    v = mu * config.get("velocity", np.zeros_like(w)) - lr * dw
    return w + v, dict(config)


# The momentum hard-coded to its default 0.9; step 1 (v = 0) cannot tell, step 2 can.
def momentum_hard_coded(w, dw, config=None):
    config, lr, _ = _momentum_hypers(config)
    v = 0.9 * config.get("velocity", np.zeros_like(w)) - lr * dw
    return w + v, {**config, "velocity": v}


# Steps with the OLD velocity, then updates it: the update lags one step behind.
def momentum_steps_with_old_velocity(w, dw, config=None):
    config, lr, mu = _momentum_hypers(config)
    v = config.get("velocity", np.zeros_like(w))
    next_w = w + v
    return next_w, {**config, "velocity": mu * v - lr * dw}


# The classic scaffold: config.setdefault and config['velocity'] = v write into the caller's dict.
def momentum_setdefault_mutates_config(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config.get("velocity", np.zeros_like(w))
    v = config["momentum"] * v - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config


# Updates the stored velocity in place: the caller's config['velocity'] changes under it.
def momentum_velocity_in_place(w, dw, config=None):
    config, lr, mu = _momentum_hypers(config)
    v = config.get("velocity", np.zeros_like(w))
    v *= mu
    v -= lr * dw
    return w + v, {**config, "velocity": v}


# Updates w in place and returns it.
def momentum_w_in_place(w, dw, config=None):
    config, lr, mu = _momentum_hypers(config)
    v = mu * config.get("velocity", np.zeros_like(w)) - lr * dw
    w += v
    return w, {**config, "velocity": v}


# The velocity starts as np.zeros(w.shape), float64 whatever w is: float32 w comes back float64.
def momentum_float64_velocity(w, dw, config=None):
    config, lr, mu = _momentum_hypers(config)
    v = mu * config.get("velocity", np.zeros(w.shape)) - lr * dw
    return w + v, {**config, "velocity": v}


# Reads config without handling None: the first call of a training loop crashes.
def momentum_config_none_crashes(w, dw, config=None):
    lr, mu = config.get("learning_rate", 1e-2), config.get("momentum", 0.9)
    v = mu * config.get("velocity", np.zeros_like(w)) - lr * dw
    return w + v, {**config, "velocity": v}


# Returns only the state: the hyperparameters are lost for the next call.
def momentum_returns_only_state(w, dw, config=None):
    config, lr, mu = _momentum_hypers(config)
    v = mu * config.get("velocity", np.zeros_like(w)) - lr * dw
    return w + v, {"velocity": v}


# Returns the pair in the wrong order.
def momentum_config_first(w, dw, config=None):
    config, lr, mu = _momentum_hypers(config)
    v = mu * config.get("velocity", np.zeros_like(w)) - lr * dw
    return {**config, "velocity": v}, w + v


# The released stub.
def momentum_not_implemented(w, dw, config=None):
    raise NotImplementedError


SGD_MOMENTUM_MISTAKES = [
    pytest.param(
        momentum_velocity_sign_flipped,
        r"config\['velocity'\] \(step 1\) is wrong: relative error .* > threshold 1e-09. "
        r"Hint: the velocity points uphill",
        id="velocity-sign-flipped",
    ),
    pytest.param(
        momentum_learning_rate_twice,
        r"next_w \(step 1\) is wrong: relative error .* Hint: .*do not multiply by it again",
        id="learning-rate-twice",
    ),
    pytest.param(
        momentum_velocity_not_stored,
        r"the returned config has no 'velocity' \(step 1\)",
        id="velocity-not-stored",
    ),
    pytest.param(
        momentum_hard_coded,
        r"config\['velocity'\] \(step 2\) is wrong: relative error.* Hint: .*not a fixed 0\.9",
        id="momentum-hard-coded",
    ),
    pytest.param(
        momentum_steps_with_old_velocity,
        r"next_w \(step 1\) is wrong: relative error .* Hint: you stepped with the previous "
        r"velocity",
        id="steps-with-old-velocity",
    ),
    pytest.param(
        momentum_setdefault_mutates_config,
        r"changed the config it was given \(it added config\['velocity'\], step 1\)",
        id="setdefault-mutates-config",
    ),
    pytest.param(
        momentum_velocity_in_place,
        r"changed the config it was given \(config\['velocity'\] was modified in place, step 2\)",
        id="velocity-in-place",
    ),
    pytest.param(
        momentum_w_in_place,
        r"changed its input argument 1 in place",
        id="w-in-place",
    ),
    pytest.param(
        momentum_float64_velocity,
        r"next_w \(float32\) has dtype float64 for float32 inputs",
        id="float64-velocity",
    ),
    pytest.param(
        momentum_config_none_crashes,
        r"raised AttributeError: .* Hint: the first call may pass config=None",
        id="config-none-crashes",
    ),
    pytest.param(
        momentum_returns_only_state,
        r"the returned config lost or changed 'learning_rate' \(step 1\)",
        id="hyperparameters-dropped",
    ),
    pytest.param(
        momentum_config_first,
        r"returned \(config, w\); return them in the order \(next_w, next_config\)",
        id="config-first",
    ),
    pytest.param(
        momentum_not_implemented,
        r"momentum_not_implemented is not implemented yet",
        id="not-implemented",
    ),
]


@pytest.mark.parametrize("student, expected", SGD_MOMENTUM_MISTAKES)
def test_check_sgd_momentum_fails(student, expected, capsys):
    with pytest.raises(CheckFailed, match=expected) as failure:
        check_sgd_momentum(student)
    assert str(failure.value).startswith("sgd_momentum: ")
    assert "OK" not in capsys.readouterr().out


# ---------------------------------------------------------------------------
# rmsprop(w, dw, config) -> (next_w, next_config)
# ---------------------------------------------------------------------------


def _rmsprop_hypers(config):
    config = {} if config is None else config
    return (
        config,
        config.get("learning_rate", 1e-2),
        config.get("decay_rate", 0.99),
        config.get("epsilon", 1e-8),
    )


# Forgets the square: averages the gradient, not its square (and sqrt of a negative is NaN).
def rmsprop_no_square(w, dw, config=None):
    config, lr, rho, eps = _rmsprop_hypers(config)
    cache = rho * config.get("cache", np.zeros_like(w)) + (1 - rho) * dw
    return w - lr * dw / (np.sqrt(cache) + eps), {**config, "cache": cache}


# epsilon inside the square root: sqrt(cache + eps), where the rule adds it outside.
def rmsprop_epsilon_inside_sqrt(w, dw, config=None):
    config, lr, rho, eps = _rmsprop_hypers(config)
    cache = rho * config.get("cache", np.zeros_like(w)) + (1 - rho) * dw**2
    return w - lr * dw / np.sqrt(cache + eps), {**config, "cache": cache}


# The decay weights swapped: the new squared gradient gets decay_rate.
def rmsprop_decay_swapped(w, dw, config=None):
    config, lr, rho, eps = _rmsprop_hypers(config)
    cache = (1 - rho) * config.get("cache", np.zeros_like(w)) + rho * dw**2
    return w - lr * dw / (np.sqrt(cache) + eps), {**config, "cache": cache}


# Adagrad instead of RMSProp: the cache sums squared gradients forever.
def rmsprop_adagrad_cache(w, dw, config=None):
    config, lr, _, eps = _rmsprop_hypers(config)
    cache = config.get("cache", np.zeros_like(w)) + dw**2
    return w - lr * dw / (np.sqrt(cache) + eps), {**config, "cache": cache}


# Forgets the square root: divides by the mean square, not the root mean square.
def rmsprop_no_sqrt(w, dw, config=None):
    config, lr, rho, eps = _rmsprop_hypers(config)
    cache = rho * config.get("cache", np.zeros_like(w)) + (1 - rho) * dw**2
    return w - lr * dw / (cache + eps), {**config, "cache": cache}


# Divides by the OLD cache (zeros on the first step), then updates it.
def rmsprop_old_cache(w, dw, config=None):
    config, lr, rho, eps = _rmsprop_hypers(config)
    cache = config.get("cache", np.zeros_like(w))
    next_w = w - lr * dw / (np.sqrt(cache) + eps)
    return next_w, {**config, "cache": rho * cache + (1 - rho) * dw**2}


# epsilon hard-coded to its default 1e-8.
def rmsprop_epsilon_hard_coded(w, dw, config=None):
    config, lr, rho, _ = _rmsprop_hypers(config)
    cache = rho * config.get("cache", np.zeros_like(w)) + (1 - rho) * dw**2
    return w - lr * dw / (np.sqrt(cache) + 1e-8), {**config, "cache": cache}


# The cache computed but not stored.
def rmsprop_cache_not_stored(w, dw, config=None):
    config, lr, rho, eps = _rmsprop_hypers(config)
    cache = rho * config.get("cache", np.zeros_like(w)) + (1 - rho) * dw**2
    return w - lr * dw / (np.sqrt(cache) + eps), config


# Updates the cache in place: the caller's config['cache'] changes.
def rmsprop_cache_in_place(w, dw, config=None):
    config, lr, rho, eps = _rmsprop_hypers(config)
    cache = config.get("cache", np.zeros_like(w))
    cache *= rho
    cache += (1 - rho) * dw**2
    return w - lr * dw / (np.sqrt(cache) + eps), {**config, "cache": cache}


# Updates w in place with -=.
def rmsprop_w_in_place(w, dw, config=None):
    config, lr, rho, eps = _rmsprop_hypers(config)
    cache = rho * config.get("cache", np.zeros_like(w)) + (1 - rho) * dw**2
    w -= lr * dw / (np.sqrt(cache) + eps)
    return w, {**config, "cache": cache}


# The released stub.
def rmsprop_not_implemented(w, dw, config=None):
    raise NotImplementedError


RMSPROP_MISTAKES = [
    pytest.param(
        rmsprop_no_square,
        r"config\['cache'\] \(step 1\) is wrong: relative error .* Hint: .*SQUARED gradient",
        id="no-square",
    ),
    pytest.param(
        rmsprop_epsilon_inside_sqrt,
        r"next_w \(step 1\) is wrong: relative error .* epsilon is added outside",
        id="epsilon-inside-sqrt",
    ),
    pytest.param(
        rmsprop_decay_swapped,
        r"config\['cache'\] \(step 1\) is wrong: relative error"
        r".* Hint: .*decay_rate is the weight of the OLD cache",
        id="decay-swapped",
    ),
    pytest.param(
        rmsprop_adagrad_cache,
        r"config\['cache'\] \(step 1\) is wrong: relative error.* Hint: .*that is Adagrad",
        id="adagrad-cache",
    ),
    pytest.param(
        rmsprop_no_sqrt,
        r"next_w \(step 1\) is wrong: relative error"
        r".* Hint: .*divide by the ROOT of the mean square",
        id="no-sqrt",
    ),
    pytest.param(
        rmsprop_old_cache,
        r"next_w \(step 1\) is wrong: relative error .* with the NEW cache",
        id="old-cache",
    ),
    pytest.param(
        rmsprop_epsilon_hard_coded,
        r"next_w \(step 1\) is wrong: relative error.* Hint: .*take epsilon from config",
        id="epsilon-hard-coded",
    ),
    pytest.param(
        rmsprop_cache_not_stored,
        r"the returned config has no 'cache' \(step 1\)",
        id="cache-not-stored",
    ),
    pytest.param(
        rmsprop_cache_in_place,
        r"changed the config it was given \(config\['cache'\] was modified in place, step 2\)",
        id="cache-in-place",
    ),
    pytest.param(
        rmsprop_w_in_place,
        r"changed its input argument 1 in place",
        id="w-in-place",
    ),
    pytest.param(
        rmsprop_not_implemented,
        r"rmsprop_not_implemented is not implemented yet",
        id="not-implemented",
    ),
]


@pytest.mark.parametrize("student, expected", RMSPROP_MISTAKES)
def test_check_rmsprop_fails(student, expected, capsys):
    with pytest.raises(CheckFailed, match=expected) as failure:
        check_rmsprop(student)
    assert str(failure.value).startswith("rmsprop: ")
    assert "OK" not in capsys.readouterr().out


# ---------------------------------------------------------------------------
# adam(w, dw, config) -> (next_w, next_config)
# ---------------------------------------------------------------------------


def _adam_start(w, config):
    """The hyperparameters and the state (zeros, t = 0 on the first call), read not written."""
    config = {} if config is None else config
    hyper = (
        config.get("learning_rate", 1e-3),
        config.get("beta1", 0.9),
        config.get("beta2", 0.999),
        config.get("epsilon", 1e-8),
    )
    state = (config.get("m", np.zeros_like(w)), config.get("v", np.zeros_like(w)))
    return config, hyper, state, config.get("t", 0)


# No bias correction: the first steps are far too small.
def adam_no_bias_correction(w, dw, config=None):
    config, (lr, b1, b2, eps), (m, v), t = _adam_start(w, config)
    t, m, v = t + 1, b1 * m + (1 - b1) * dw, b2 * v + (1 - b2) * dw**2
    return w - lr * m / (np.sqrt(v) + eps), {**config, "m": m, "v": v, "t": t}


# t incremented after the bias correction: 1 - beta1**0 = 0 divides by zero on step 1.
def adam_t_incremented_after(w, dw, config=None):
    config, (lr, b1, b2, eps), (m, v), t = _adam_start(w, config)
    m, v = b1 * m + (1 - b1) * dw, b2 * v + (1 - b2) * dw**2
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    t += 1
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), {**config, "m": m, "v": v, "t": t}


# beta1 and beta2 swapped.
def adam_betas_swapped(w, dw, config=None):
    config, (lr, b2, b1, eps), (m, v), t = _adam_start(w, config)
    t, m, v = t + 1, b1 * m + (1 - b1) * dw, b2 * v + (1 - b2) * dw**2
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), {**config, "m": m, "v": v, "t": t}


# The second moment averages dw, not dw**2.
def adam_v_without_square(w, dw, config=None):
    config, (lr, b1, b2, eps), (m, v), t = _adam_start(w, config)
    t, m, v = t + 1, b1 * m + (1 - b1) * dw, b2 * v + (1 - b2) * dw
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), {**config, "m": m, "v": v, "t": t}


# Stores the bias-corrected m_hat and v_hat as the state.
def adam_stores_corrected_moments(w, dw, config=None):
    config, (lr, b1, b2, eps), (m, v), t = _adam_start(w, config)
    t, m, v = t + 1, b1 * m + (1 - b1) * dw, b2 * v + (1 - b2) * dw**2
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    next_w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return next_w, {**config, "m": m_hat, "v": v_hat, "t": t}


# t starts at 1 instead of 0: every step's bias correction is one step off.
def adam_t_starts_at_one(w, dw, config=None):
    config, (lr, b1, b2, eps), (m, v), _ = _adam_start(w, config)
    t = config.get("t", 1) + 1
    m, v = b1 * m + (1 - b1) * dw, b2 * v + (1 - b2) * dw**2
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), {**config, "m": m, "v": v, "t": t}


# epsilon inside the square root.
def adam_epsilon_inside_sqrt(w, dw, config=None):
    config, (lr, b1, b2, eps), (m, v), t = _adam_start(w, config)
    t, m, v = t + 1, b1 * m + (1 - b1) * dw, b2 * v + (1 - b2) * dw**2
    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
    return w - lr * m_hat / np.sqrt(v_hat + eps), {**config, "m": m, "v": v, "t": t}


# The paper's step-size form (Kingma & Ba, end of section 2) with epsilon as eps_hat:
# the same update but for where epsilon sits (epsilon / sqrt(1 - beta2**t) in Algorithm 1).
def adam_step_size_form(w, dw, config=None):
    config, (lr, b1, b2, eps), (m, v), t = _adam_start(w, config)
    t, m, v = t + 1, b1 * m + (1 - b1) * dw, b2 * v + (1 - b2) * dw**2
    alpha_t = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
    return w - alpha_t * m / (np.sqrt(v) + eps), {**config, "m": m, "v": v, "t": t}


# Updates w in place with -=.
def adam_w_in_place(w, dw, config=None):
    config, (lr, b1, b2, eps), (m, v), t = _adam_start(w, config)
    t, m, v = t + 1, b1 * m + (1 - b1) * dw, b2 * v + (1 - b2) * dw**2
    w -= lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return w, {**config, "m": m, "v": v, "t": t}


# Keeps its state in the caller's config: config['t'] += 1 and friends.
def adam_mutates_config(w, dw, config=None):
    config, (lr, b1, b2, eps), (m, v), t = _adam_start(w, config)
    config["t"] = t + 1
    config["m"] = b1 * m + (1 - b1) * dw
    config["v"] = b2 * v + (1 - b2) * dw**2
    m_hat = config["m"] / (1 - b1 ** config["t"])
    v_hat = config["v"] / (1 - b2 ** config["t"])
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), config


# The moments start as float64 np.zeros(w.shape): a float32 w comes back float64.
def adam_float64_moments(w, dw, config=None):
    config, (lr, b1, b2, eps), _, t = _adam_start(w, config)
    m = b1 * config.get("m", np.zeros(w.shape)) + (1 - b1) * dw
    v = b2 * config.get("v", np.zeros(w.shape)) + (1 - b2) * dw**2
    t += 1
    next_w = w - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return next_w, {**config, "m": m, "v": v, "t": t}


# The paper's folded bias correction with np.sqrt of a Python number: under NumPy 2 that
# is a float64 scalar, and a float64 scalar times a float32 array is float64.
def adam_float64_scalar_step(w, dw, config=None):
    config, (lr, b1, b2, eps), (m, v), t = _adam_start(w, config)
    t, m, v = t + 1, b1 * m + (1 - b1) * dw, b2 * v + (1 - b2) * dw**2
    step_size = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
    next_w = w - step_size * m / (np.sqrt(v) + eps * np.sqrt(1 - b2**t))
    return next_w, {**config, "m": m, "v": v, "t": t}


# Returns the pair in the wrong order.
def adam_config_first(w, dw, config=None):
    config, (lr, b1, b2, eps), (m, v), t = _adam_start(w, config)
    t, m, v = t + 1, b1 * m + (1 - b1) * dw, b2 * v + (1 - b2) * dw**2
    next_w = w - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return {**config, "m": m, "v": v, "t": t}, next_w


# The released stub.
def adam_not_implemented(w, dw, config=None):
    raise NotImplementedError


ADAM_MISTAKES = [
    pytest.param(
        adam_no_bias_correction,
        r"next_w \(step 1\) is wrong: relative error .* Hint: increment t before the bias "
        r"correction",
        id="no-bias-correction",
    ),
    pytest.param(
        adam_t_incremented_after,
        r"next_w \(step 1\) contains NaN or inf .* Hint: increment t before the bias correction",
        id="t-incremented-after",
    ),
    pytest.param(
        adam_betas_swapped,
        r"config\['m'\] \(step 1\) is wrong: relative error .* Hint: m averages the gradient "
        r"with beta1",
        id="betas-swapped",
    ),
    pytest.param(
        adam_v_without_square,
        r"config\['v'\] \(step 1\) is wrong: relative error .* SQUARED gradient",
        id="v-without-square",
    ),
    pytest.param(
        adam_stores_corrected_moments,
        r"config\['m'\] \(step 1\) is wrong: relative error"
        r".* Hint: .*store the raw moving average m",
        id="stores-corrected-moments",
    ),
    pytest.param(
        adam_t_starts_at_one,
        r"config\['t'\] \(step 1\) is wrong: relative error .* Hint: t counts the steps",
        id="t-starts-at-one",
    ),
    pytest.param(
        adam_epsilon_inside_sqrt,
        r"next_w \(step 1\) is wrong: relative error"
        r".* Hint: .*epsilon is added outside the square root",
        id="epsilon-inside-sqrt",
    ),
    pytest.param(
        adam_step_size_form,
        r"next_w \(step 1\) is wrong: relative error .* Hint: next_w matches Adam in the "
        r"paper's step-size form .* differs from the course's Adam only in where epsilon "
        r"sits: the course uses the paper's Algorithm 1 .* eps_hat = epsilon \* "
        r"sqrt\(1 - beta2\*\*t\) in place of epsilon$",
        id="step-size-form-epsilon-as-eps-hat",
    ),
    pytest.param(
        adam_w_in_place,
        r"changed its input argument 1 in place",
        id="w-in-place",
    ),
    pytest.param(
        adam_mutates_config,
        r"changed the config it was given \(it added config\['t'\], step 1\)",
        id="config-mutated",
    ),
    pytest.param(
        adam_float64_moments,
        r"next_w \(float32\) has dtype float64 for float32 inputs",
        id="float64-moments",
    ),
    pytest.param(
        adam_float64_scalar_step,
        r"next_w \(float32\) has dtype float64 for float32 inputs",
        id="float64-scalar-step",
    ),
    pytest.param(
        adam_config_first,
        r"returned \(config, w\); return them in the order \(next_w, next_config\)",
        id="config-first",
    ),
    pytest.param(
        adam_not_implemented,
        r"adam_not_implemented is not implemented yet",
        id="not-implemented",
    ),
]


@pytest.mark.parametrize("student, expected", ADAM_MISTAKES)
def test_check_adam_fails(student, expected, capsys):
    with pytest.raises(CheckFailed, match=expected) as failure:
        check_adam(student)
    assert str(failure.value).startswith("adam: ")
    assert "OK" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "catalogue",
    [SGD_MOMENTUM_MISTAKES, RMSPROP_MISTAKES, ADAM_MISTAKES],
    ids=["sgd_momentum", "rmsprop", "adam"],
)
def test_catalogue_has_six_distinct_mistakes(catalogue):
    functions = [param.values[0] for param in catalogue]
    assert len(functions) >= 6
    assert len(set(functions)) == len(functions)
    assert len({param.id for param in catalogue}) == len(catalogue)


@pytest.mark.parametrize(
    "check", [check_sgd_momentum, check_rmsprop, check_adam], ids=lambda c: c.__name__
)
def test_check_refuses_something_that_is_not_a_function(check):
    name = check.__name__.removeprefix("check_")
    with pytest.raises(CheckFailed, match=rf"^{name}: expected a function, got str"):
        check(name)
