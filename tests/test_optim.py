"""Tests for course.optim: update rules against hand-computed steps, purity, errors, clipping."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course.optim import (
    UPDATE_RULES,
    adam,
    clip_grads_by_global_norm,
    fill_config,
    get_update_rule,
    rmsprop,
    sgd,
    sgd_momentum,
)

RULES = [sgd, sgd_momentum, rmsprop, adam]
RULE_IDS = [rule.__name__ for rule in RULES]

W0 = np.array([1.0, -2.0])
DW1 = np.array([0.5, -1.0])


def assert_same(actual: dict, expected: dict) -> None:
    """Compare two configs key by key (arrays by value)."""
    assert actual.keys() == expected.keys()
    for key, value in expected.items():
        np.testing.assert_array_equal(actual[key], value, err_msg=key)


# ---------------------------------------------------------------- hand-computed steps


def test_sgd_two_steps():
    w1, config = sgd(W0, DW1, {"learning_rate": 0.1})
    np.testing.assert_allclose(w1, [0.95, -1.9], rtol=1e-12)
    w2, config = sgd(w1, np.array([0.2, -0.4]), config)
    np.testing.assert_allclose(w2, [0.93, -1.86], rtol=1e-12)
    assert config == {"learning_rate": 0.1}


def test_sgd_momentum_two_steps():
    config = {"learning_rate": 0.1, "momentum": 0.9}
    w1, config = sgd_momentum(W0, DW1, config)
    # v1 = -0.1 * dw1 = [-0.05, 0.1]
    np.testing.assert_allclose(config["velocity"], [-0.05, 0.1], rtol=1e-12)
    np.testing.assert_allclose(w1, [0.95, -1.9], rtol=1e-12)
    w2, config = sgd_momentum(w1, np.array([0.2, -0.4]), config)
    # v2 = 0.9 * v1 - 0.1 * dw2 = [-0.045 - 0.02, 0.09 + 0.04]
    np.testing.assert_allclose(config["velocity"], [-0.065, 0.13], rtol=1e-12)
    np.testing.assert_allclose(w2, [0.885, -1.77], rtol=1e-12)


def test_rmsprop_two_steps():
    config = {"learning_rate": 0.01, "decay_rate": 0.99, "epsilon": 0.0}
    w1, config = rmsprop(W0, DW1, config)
    # cache1 = 0.01 * dw1**2 = [0.0025, 0.01], sqrt = [0.05, 0.1]; step = 0.01 * [10, -10]
    np.testing.assert_allclose(config["cache"], [0.0025, 0.01], rtol=1e-12)
    np.testing.assert_allclose(w1, [0.9, -1.9], rtol=1e-12)
    w2, config = rmsprop(w1, np.array([1.0, 0.0]), config)
    # cache2 = 0.99 * cache1 + 0.01 * [1, 0] = [0.012475, 0.0099]; a zero gradient does not move
    np.testing.assert_allclose(config["cache"], [0.012475, 0.0099], rtol=1e-12)
    np.testing.assert_allclose(w2, [0.9 - 0.01 / np.sqrt(0.012475), -1.9], rtol=1e-12)


def test_adam_two_steps():
    config = {"learning_rate": 0.1, "beta1": 0.9, "beta2": 0.999, "epsilon": 0.0}
    w1, config = adam(W0, DW1, config)
    # m1 = 0.1 * dw1, v1 = 0.001 * dw1**2; bias-corrected: m_hat = dw1, v_hat = dw1**2
    assert config["t"] == 1
    np.testing.assert_allclose(config["m"], [0.05, -0.1], rtol=1e-12)
    np.testing.assert_allclose(config["v"], [0.00025, 0.001], rtol=1e-12)
    np.testing.assert_allclose(w1, [0.9, -1.9], rtol=1e-12)
    w2, config = adam(w1, np.array([0.5, 1.0]), config)
    # m2 = [0.095, 0.01], m_hat = m2 / 0.19 = [0.5, 1/19]
    # v2 = [0.00049975, 0.001999], v_hat = v2 / 0.001999 = [0.25, 1]
    assert config["t"] == 2
    np.testing.assert_allclose(config["m"], [0.095, 0.01], rtol=1e-12)
    np.testing.assert_allclose(config["v"], [0.00049975, 0.001999], rtol=1e-12)
    np.testing.assert_allclose(w2, [0.8, -1.9 - 0.1 / 19], rtol=1e-12)


def test_adam_first_step_moves_every_weight_by_lr():
    """Bias correction at t=1: each step is lr * sign(dw), whatever the gradient's size."""
    w = np.zeros(4)
    dw = np.array([1e-3, 5.0, -2.0, -300.0])
    w1, config = adam(w, dw, {"learning_rate": 0.01})
    assert config["t"] == 1
    np.testing.assert_allclose(w1, -0.01 * np.sign(dw), rtol=1e-4)
    # With a constant gradient the steps stay lr-sized: m_hat = dw and v_hat = dw**2 at every t.
    w2, _ = adam(w1, dw, config)
    np.testing.assert_allclose(w2 - w1, -0.01 * np.sign(dw), rtol=1e-4)


def test_sgd_momentum_with_zero_momentum_is_sgd():
    w_m, _ = sgd_momentum(W0, DW1, {"learning_rate": 0.3, "momentum": 0.0})
    w_s, _ = sgd(W0, DW1, {"learning_rate": 0.3})
    np.testing.assert_allclose(w_m, w_s, rtol=1e-15)


# ---------------------------------------------------------------- defaults and purity


def test_defaults_are_filled():
    _, config = sgd(W0, DW1)
    assert config == {"learning_rate": 1e-2}
    _, config = sgd_momentum(W0, DW1)
    assert config["learning_rate"] == 1e-2 and config["momentum"] == 0.9
    np.testing.assert_allclose(config["velocity"], -1e-2 * DW1)
    _, config = rmsprop(W0, DW1, {})
    assert (config["learning_rate"], config["decay_rate"], config["epsilon"]) == (1e-2, 0.99, 1e-8)
    _, config = adam(W0, DW1)
    expected = {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "t": 1}
    assert {k: config[k] for k in expected} == expected
    assert config["m"].shape == config["v"].shape == W0.shape


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
def test_nothing_is_mutated(rule):
    rng = np.random.default_rng(0)
    w, dw = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    w_copy, dw_copy = w.copy(), dw.copy()
    _, config = rule(w, dw, {"learning_rate": 0.05})
    config_copy = copy.deepcopy(config)
    w2, config2 = rule(w, dw, config)

    np.testing.assert_array_equal(w, w_copy)
    np.testing.assert_array_equal(dw, dw_copy)
    assert_same(config, config_copy)  # the returned config of step 1 is left intact by step 2
    assert config2 is not config
    assert w2 is not w
    for key, value in config2.items():
        if isinstance(value, np.ndarray):
            assert not np.shares_memory(value, config[key]), key


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
def test_caller_config_dict_is_not_modified(rule):
    user_config = {"learning_rate": 0.05}
    _, config = rule(W0, DW1, user_config)
    assert user_config == {"learning_rate": 0.05}
    assert config is not user_config


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
@pytest.mark.parametrize("grad_dtype", [np.float32, np.float64])
def test_float32_stays_float32(rule, grad_dtype):
    w = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    dw = np.linspace(0.5, -0.5, 6).astype(grad_dtype).reshape(2, 3)
    config = None
    for _ in range(2):
        w, config = rule(w, dw, config)
        assert w.dtype == np.float32
        for key, value in config.items():
            if isinstance(value, np.ndarray):
                assert value.dtype == np.float32, key


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
def test_float64_and_shapes_preserved(rule):
    w = np.ones((2, 3, 4))
    next_w, _ = rule(w, np.full_like(w, 0.1))
    assert next_w.shape == w.shape and next_w.dtype == np.float64


def test_check_config_fills_defaults_without_state():
    assert fill_config("adam", {"learning_rate": 0.1}) == {
        "learning_rate": 0.1,
        "beta1": 0.9,
        "beta2": 0.999,
        "epsilon": 1e-8,
    }

    def custom(w, dw, config):
        return w, config

    config = {"anything": 1}
    assert fill_config(custom, config) == config and fill_config(custom, config) is not config


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
def test_shape_mismatch_names_both_shapes(rule):
    with pytest.raises(ValueError, match=r"w has shape \(2, 3\) but dw has shape \(3, 2\)"):
        rule(np.zeros((2, 3)), np.zeros((3, 2)))


@pytest.mark.parametrize("rule", RULES, ids=RULE_IDS)
def test_unknown_key_lists_valid_keys(rule):
    with pytest.raises(ValueError, match="learning_rte") as info:
        rule(W0, DW1, {"learning_rte": 0.1})
    message = str(info.value)
    assert "did you mean 'learning_rate'" in message
    assert "Valid keys are" in message and "'learning_rate'" in message


def test_sgd_refuses_momentum_key():
    with pytest.raises(ValueError, match="'momentum'"):
        sgd(W0, DW1, {"learning_rate": 0.1, "momentum": 0.9})


@pytest.mark.parametrize(
    ("rule", "key", "value"),
    [
        (sgd, "learning_rate", -0.1),
        (sgd, "learning_rate", float("nan")),
        (sgd, "learning_rate", "0.1"),
        (sgd_momentum, "momentum", 1.0),
        (rmsprop, "decay_rate", 1.5),
        (adam, "beta2", 1.0),
        (adam, "epsilon", -1e-8),
    ],
)
def test_bad_hyperparameter_values(rule, key, value):
    with pytest.raises(ValueError, match=key):
        rule(W0, DW1, {key: value})


def test_state_from_another_parameter_is_refused():
    _, config = sgd_momentum(np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match=r"config\['velocity'\] has shape \(3,\)"):
        sgd_momentum(W0, DW1, config)


def test_integer_arrays_and_bad_config_type_are_refused():
    with pytest.raises(TypeError, match="dtype int"):
        sgd(np.array([1, 2]), DW1)
    with pytest.raises(TypeError, match="config must be a dict"):
        sgd(W0, DW1, 0.1)
    with pytest.raises(TypeError, match=r"config\[.t.\] must be an integer"):
        adam(W0, DW1, {"t": 1.5})


def test_get_update_rule():
    assert get_update_rule("adam") is adam
    assert set(UPDATE_RULES) == {"sgd", "sgd_momentum", "rmsprop", "adam"}

    def custom(w, dw, config):
        return w, config

    assert get_update_rule(custom) is custom
    with pytest.raises(ValueError, match="did you mean 'adam'") as info:
        get_update_rule("adma")
    for name in UPDATE_RULES:
        assert repr(name) in str(info.value)
    with pytest.raises(TypeError):
        get_update_rule(3)


# ---------------------------------------------------------------- gradient clipping


def test_clip_below_the_limit_changes_nothing():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[0.0], [4.0]])}  # norm 5
    clipped, total = clip_grads_by_global_norm(grads, 5.0)
    assert total == pytest.approx(5.0, rel=1e-15)
    for name in grads:
        np.testing.assert_array_equal(clipped[name], grads[name])
        assert clipped[name] is not grads[name]


def test_clip_above_the_limit_scales_to_max_norm():
    grads = {"a": np.array([30.0, 0.0]), "b": np.array([[0.0], [-40.0]])}  # norm 50
    originals = copy.deepcopy(grads)
    clipped, total = clip_grads_by_global_norm(grads, 5)
    assert total == pytest.approx(50.0, rel=1e-15)
    np.testing.assert_allclose(clipped["a"], [3.0, 0.0], rtol=1e-15)
    np.testing.assert_allclose(clipped["b"], [[0.0], [-4.0]], rtol=1e-15)
    new_norm = np.sqrt(sum(np.sum(g**2) for g in clipped.values()))
    assert new_norm == pytest.approx(5.0, rel=1e-14)
    assert_same(grads, originals)  # inputs untouched


def test_clip_keeps_dtype_and_handles_zero_gradients():
    clipped, total = clip_grads_by_global_norm({"w": np.full(4, 100, dtype=np.float32)}, 1.0)
    assert clipped["w"].dtype == np.float32
    assert total == pytest.approx(200.0)
    zero, total = clip_grads_by_global_norm({"w": np.zeros(3)}, 1.0)
    assert total == 0.0
    np.testing.assert_array_equal(zero["w"], 0.0)


def test_clip_errors():
    with pytest.raises(ValueError, match="max_norm must be a positive number"):
        clip_grads_by_global_norm({"w": np.ones(2)}, 0)
    with pytest.raises(FloatingPointError, match="'w'"):
        clip_grads_by_global_norm({"w": np.array([1.0, np.nan]), "b": np.ones(1)}, 5.0)


@settings(max_examples=50, deadline=None)
@given(
    grads=st.dictionaries(
        st.sampled_from(["W1", "b1", "W2"]),
        hnp.arrays(
            np.float64,
            hnp.array_shapes(max_dims=2, max_side=4),
            elements=st.floats(-1e3, 1e3, allow_nan=False),
        ),
        min_size=1,
    ),
    max_norm=st.floats(1e-3, 1e3),
)
def test_clip_property_norm_bounded_and_direction_kept(grads, max_norm):
    clipped, total = clip_grads_by_global_norm(grads, max_norm)
    expected_total = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    assert total == pytest.approx(expected_total, rel=1e-12, abs=1e-300)
    new_norm = np.sqrt(sum(np.sum(g**2) for g in clipped.values()))
    assert new_norm <= max_norm * (1 + 1e-12) or new_norm == pytest.approx(total, rel=1e-12)
    scale = min(1.0, max_norm / total) if total > 0 else 1.0
    for name, g in grads.items():
        np.testing.assert_allclose(clipped[name], g * scale, rtol=1e-12, atol=0)
