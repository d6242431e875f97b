"""Checks for batch normalisation: batchnorm on (N, D) and spatial batchnorm on (N, C, H, W).

A forward is checked in train mode (the output and the running averages it
leaves in ``bn_param``) and in test mode (which must use those averages and
leave them in place); a backward against numerical gradients in both modes.
Spatial batchnorm is also run in float32, where its results must stay float32.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from course import layers
from course.checks.core import (
    FLOAT32_TOL,
    VALUE_TOL,
    call_forward,
    call_student,
    compare,
    compare_backward,
    compare_diagnosed,
    compare_float32_backward,
    report,
    require,
)

_TRAIN_HINT = (
    "normalise each feature (column) with the batch mean and the biased variance "
    "x.var(axis=0), add eps inside the square root, then scale by gamma and shift by beta"
)
_RUNNING_HINT = (
    "in train mode set bn_param['running_mean'] = momentum * running_mean + "
    "(1 - momentum) * batch_mean (likewise the variance), as new arrays"
)
_RUNNING_VAR_ZEROS_HINT = (
    "running_var starts at ones (a variance of 1), not zeros: "
    "bn_param.get('running_var', np.ones(D, dtype=x.dtype)), as the docstring says (and "
    "running_mean at zeros). Started at zeros, the average misses a fraction momentum**k of "
    "the variance after k steps, so early in training test mode divides by too small a "
    "standard deviation"
)
_TEST_HINT = (
    "in test mode normalise with bn_param['running_mean'] and ['running_var'], "
    "not with the statistics of the test batch"
)


class _BatchnormHints(NamedTuple):
    """The hints of a batchnorm forward check: train output, running averages, test output."""

    train: str
    running: str
    test: str


def _running_averages() -> dict[str, np.ndarray]:
    """The running averages a backward check starts from (test mode normalises with them)."""
    return {"running_mean": np.array([4.0, -1.0, 0.0]), "running_var": np.array([2.0, 3.0, 5.0])}


def _inputs(seed: int, N: int = 200, D: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = (
        rng.standard_normal((N, D)) * np.array([1.0, 2.0, 3.0])[:D]
        + np.array([5.0, -2.0, 0.5])[:D]
    )
    gamma = np.array([1.0, 2.0, 3.0])[:D]
    beta = np.array([0.0, -1.0, 4.0])[:D]
    return x, gamma, beta


def check_batchnorm_forward(batchnorm_forward: Callable) -> None:
    """Check ``batchnorm_forward(x, gamma, beta, bn_param) -> (out, cache)``.

    Train mode: the output against the reference, the running averages it
    leaves in ``bn_param`` (from a fresh ``{'mode': 'train'}``, and with given
    averages, momentum and eps). Test mode: after 30 training steps the output
    must use the running averages and leave them as they are.
    """
    name = "batchnorm_forward"
    x, gamma, beta = _inputs(seed=10)
    errors = _compare_batchnorm_modes(
        name,
        batchnorm_forward,
        layers.batchnorm_forward,
        x,
        gamma,
        beta,
        steps=30,
        batch_size=50,
        seed=11,
        test_rows=40,
        hints=_BatchnormHints(_TRAIN_HINT, _RUNNING_HINT, _TEST_HINT),
    )
    report(name, errors, VALUE_TOL)


def _compare_batchnorm_modes(
    name: str,
    student_forward: Callable,
    reference_forward: Callable,
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    *,
    steps: int,
    batch_size: int,
    seed: int,
    test_rows: int,
    hints: _BatchnormHints,
    dtype: np.dtype | None = None,
) -> dict[str, float]:
    """Run a batchnorm forward in train and test mode beside the reference; return the errors.

    Train mode from a fresh ``{'mode': 'train'}`` and from given averages,
    momentum and eps (whose arrays must not change in place); then ``steps``
    training calls on random batches of ``batch_size`` rows (seeded by
    ``seed``); then test mode on the first ``test_rows`` rows, rescaled so that
    their own statistics differ, which must use the running averages and leave
    them in place. ``dtype``, when given, is the dtype the train outputs must have.
    """
    errors: dict[str, float] = {}
    step = (name, student_forward, reference_forward, x, gamma, beta)
    _compare_train_step(
        *step, {"mode": "train"}, {"mode": "train"}, errors, "fresh bn_param", hints, dtype
    )

    old_mean, old_var = np.full(3, 0.5), np.full(3, 2.0)
    settings = {"momentum": 0.8, "eps": 1e-3}
    student_param = {"mode": "train", "running_mean": old_mean, "running_var": old_var, **settings}
    reference_param = {
        "mode": "train",
        "running_mean": old_mean.copy(),
        "running_var": old_var.copy(),
        **settings,
    }
    _compare_train_step(
        *step, student_param, reference_param, errors, "momentum 0.8, eps 1e-3", hints, dtype
    )
    require(
        name,
        np.array_equal(old_mean, np.full(3, 0.5)) and np.array_equal(old_var, np.full(3, 2.0)),
        "the running_mean or running_var array passed in bn_param was changed in place; "
        "store the updated average as a new array in bn_param['running_mean']",
    )

    rng = np.random.default_rng(seed)
    for _ in range(steps):
        batch = x[rng.choice(len(x), size=batch_size, replace=False)]
        call_student(name, student_forward, batch, gamma, beta, student_param, state_args=(3,))
        reference_forward(batch, gamma, beta, reference_param)
    x_test = x[:test_rows] * 1.5 + 1.0  # a test batch whose own statistics differ
    test_student = dict(student_param, mode="test")
    test_reference = dict(reference_param, mode="test")
    out, _ = call_forward(
        name, student_forward, x_test, gamma, beta, test_student, state_args=(3,)
    )
    expected, _ = reference_forward(x_test, gamma, beta, test_reference)
    errors["out (test)"] = compare(name, "out (test)", out, expected, VALUE_TOL, hints.test)
    for key in ("running_mean", "running_var"):
        require(
            name,
            test_student.get(key) is student_param[key],
            f"test mode replaced bn_param['{key}']; the running averages change only in train "
            "mode, otherwise evaluating the model would change it",
        )
    return errors


def _compare_train_step(
    name: str,
    student_forward: Callable,
    reference_forward: Callable,
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    student_param: dict,
    reference_param: dict,
    errors: dict[str, float],
    label: str,
    hints: _BatchnormHints,
    dtype: np.dtype | None,
) -> None:
    """One train-mode call: the output and the running averages left in bn_param.

    On a fresh bn_param, a running_var that started at zeros (the classic
    CS231n default) instead of ones gets a hint that says so.
    """
    suspects: dict[str, list] = {"running_mean": [], "running_var": []}
    if "running_var" not in reference_param:  # fresh: the default start is used
        started_at_zeros = dict(reference_param, running_var=np.zeros_like(gamma))
        reference_forward(x, gamma, beta, started_at_zeros)
        suspects["running_var"].append((started_at_zeros["running_var"], _RUNNING_VAR_ZEROS_HINT))
    out, _ = call_forward(name, student_forward, x, gamma, beta, student_param, state_args=(3,))
    expected, _ = reference_forward(x, gamma, beta, reference_param)
    output = f"out (train, {label})"
    errors[output] = compare(name, output, out, expected, VALUE_TOL, hints.train, dtype=dtype)
    for key in ("running_mean", "running_var"):
        require(
            name,
            key in student_param,
            f"train mode did not store bn_param['{key}'] ({label}). Hint: {hints.running}",
        )
        output = f"bn_param['{key}'] ({label})"
        errors[output] = compare_diagnosed(
            name,
            output,
            student_param[key],
            reference_param[key],
            VALUE_TOL,
            hints.running,
            suspects[key],
        )


def check_batchnorm_backward(batchnorm_forward: Callable, batchnorm_backward: Callable) -> None:
    """Check ``batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta)`` in train and test modes."""
    name = "batchnorm_backward"
    hints = {
        "train": {
            "dx": "in train mode the batch mean and variance depend on every x[i], so dx has "
            "three terms: through x_hat directly, through the variance and through the mean",
            "dgamma": "dgamma = sum over the batch of dout * x_hat",
            "dbeta": "dbeta = sum over the batch of dout",
        },
        "test": {
            "dx": "in test mode the running mean and variance are constants, so "
            "dx = dout * gamma / sqrt(running_var + eps): no terms through batch statistics",
            "dgamma": "dgamma = sum over the batch of dout * x_hat, with x_hat normalised by "
            "the running averages",
            "dbeta": "dbeta = sum over the batch of dout",
        },
    }
    x, gamma, beta = _inputs(seed=12, N=8)
    errors, tols = {}, {}
    running = _running_averages()
    for mode in ("train", "test"):
        bn_param = {"mode": mode, **running}
        case_errors, case_tols = compare_backward(
            name,
            batchnorm_forward,
            batchnorm_backward,
            layers.batchnorm_forward,
            (x, gamma, beta, bn_param),
            hints[mode],
            seed=13,
            state_args=(3,),
            label=f" ({mode})",
        )
        errors |= case_errors
        tols |= case_tols
    report(name, errors, tols)


# ---------------------------------------------------------------------------
# Spatial batch normalisation
# ---------------------------------------------------------------------------

_SBN_TRAIN_HINT = (
    "a channel's mean and biased variance are taken over the batch and both spatial axes "
    "(N*H*W values per channel): move C last, x.transpose(0, 2, 3, 1).reshape(-1, C), "
    "normalise those rows as batchnorm_forward does, then reshape to (N, H, W, C) and "
    "transpose back to (N, C, H, W)"
)
_SBN_RUNNING_HINT = (
    "in train mode set bn_param['running_mean'] = momentum * running_mean + "
    "(1 - momentum) * batch_mean, one per channel, shape (C,) (likewise the variance), "
    "as new arrays"
)
_SBN_TEST_HINT = (
    "in test mode normalise with bn_param['running_mean'] and ['running_var'] (one per channel), "
    "not with the statistics of the test batch"
)
_SBN_CHANNEL_MEANS = np.array([5.0, -2.0, 0.5])
_SBN_CHANNEL_SCALES = np.array([1.0, 2.0, 3.0])


def _sbn_inputs(
    seed: int, shape: tuple = (4, 3, 5, 6), dtype=np.float64
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x of shape (N, 3, H, W) whose channels have different means and scales; gamma, beta (3,)."""
    rng = np.random.default_rng(seed)
    per_channel = (1, 3, 1, 1)
    x = rng.standard_normal(shape) * _SBN_CHANNEL_SCALES.reshape(per_channel)
    x = x + _SBN_CHANNEL_MEANS.reshape(per_channel)  # (N, C, H, W)
    gamma = np.array([1.0, 2.0, 3.0])
    beta = np.array([0.0, -1.0, 4.0])
    return x.astype(dtype), gamma.astype(dtype), beta.astype(dtype)


def check_spatial_batchnorm_forward(spatial_batchnorm_forward: Callable) -> None:
    """Check ``spatial_batchnorm_forward(x, gamma, beta, bn_param) -> (out, cache)``.

    Train mode: the output and the (C,) running averages left in
    ``bn_param`` (from a fresh ``{'mode': 'train'}``, and with given
    averages, momentum and eps), with the arrays passed in left unchanged.
    Test mode, after 20 training steps: the output must use the running
    averages and leave them in place. Last, a float32 batch must give float32.
    """
    name = "spatial_batchnorm_forward"
    x, gamma, beta = _sbn_inputs(seed=60)
    errors = _compare_batchnorm_modes(
        name,
        spatial_batchnorm_forward,
        layers.spatial_batchnorm_forward,
        x,
        gamma,
        beta,
        steps=20,
        batch_size=2,
        seed=61,
        test_rows=3,
        hints=_BatchnormHints(_SBN_TRAIN_HINT, _SBN_RUNNING_HINT, _SBN_TEST_HINT),
        dtype=np.dtype(np.float64),
    )
    tols = dict.fromkeys(errors, VALUE_TOL)

    x32, gamma32, beta32 = _sbn_inputs(seed=62, shape=(2, 3, 4, 5), dtype=np.float32)
    out, _ = call_forward(
        name, spatial_batchnorm_forward, x32, gamma32, beta32, {"mode": "train"}, state_args=(3,)
    )
    expected, _ = layers.spatial_batchnorm_forward(x32, gamma32, beta32, {"mode": "train"})
    output = "out (train, float32)"
    tols[output] = FLOAT32_TOL
    errors[output] = compare(
        name, output, out, expected, FLOAT32_TOL, _SBN_TRAIN_HINT, dtype=np.dtype(np.float32)
    )
    report(name, errors, tols)


def check_spatial_batchnorm_backward(
    spatial_batchnorm_forward: Callable, spatial_batchnorm_backward: Callable
) -> None:
    """Check ``spatial_batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta)``.

    Against numerical gradients in train and test modes, then in float32
    (train mode) against the reference, where the gradients must stay float32.
    """
    name = "spatial_batchnorm_backward"
    per_channel = "summed over the batch and both spatial axes (axis=(0, 2, 3)), shape (C,)"
    hints = {
        "train": {
            "dx": "in train mode each channel's mean and variance depend on all N*H*W of its "
            "values, so dx has the three batchnorm terms with N*H*W in place of N; reuse "
            "batchnorm_backward on dout.transpose(0, 2, 3, 1).reshape(-1, C) and transpose "
            "the result back to (N, C, H, W)",
            "dgamma": f"dgamma is dout * x_hat {per_channel}",
            "dbeta": f"dbeta is dout {per_channel}",
        },
        "test": {
            "dx": "in test mode the running mean and variance are constants, so "
            "dx = dout * gamma / sqrt(running_var + eps) per channel: no terms through "
            "batch statistics",
            "dgamma": f"dgamma is dout * x_hat {per_channel}, x_hat normalised by the "
            "running averages",
            "dbeta": f"dbeta is dout {per_channel}",
        },
    }
    x, gamma, beta = _sbn_inputs(seed=70, shape=(2, 3, 3, 4))
    errors, tols = {}, {}
    running = _running_averages()
    for mode in ("train", "test"):
        case_errors, case_tols = compare_backward(
            name,
            spatial_batchnorm_forward,
            spatial_batchnorm_backward,
            layers.spatial_batchnorm_forward,
            (x, gamma, beta, {"mode": mode, **running}),
            hints[mode],
            seed=71,
            state_args=(3,),
            label=f" ({mode})",
        )
        errors |= case_errors
        tols |= case_tols
    case_errors, case_tols = compare_float32_backward(
        name,
        spatial_batchnorm_forward,
        spatial_batchnorm_backward,
        layers.spatial_batchnorm_forward,
        layers.spatial_batchnorm_backward,
        (*_sbn_inputs(seed=72, shape=(2, 3, 3, 4), dtype=np.float32), {"mode": "train"}),
        hints["train"],
        state_args=(3,),
    )
    report(name, errors | case_errors, tols | case_tols)
