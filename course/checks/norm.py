"""Checks for batch normalisation."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from course import layers
from course.checks.core import (
    GRAD_TOL,
    VALUE_TOL,
    call_student,
    check_layer_backward,
    compare,
    expect_tuple,
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
_TEST_HINT = (
    "in test mode normalise with bn_param['running_mean'] and ['running_var'], "
    "not with the statistics of the test batch"
)


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
    errors = compare_batchnorm_modes(
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
        hints=BatchnormHints(_TRAIN_HINT, _RUNNING_HINT, _TEST_HINT),
    )
    report(name, errors, VALUE_TOL)


class BatchnormHints(NamedTuple):
    """The hints of a batchnorm forward check: train output, running averages, test output."""

    train: str
    running: str
    test: str


def compare_batchnorm_modes(
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
    hints: BatchnormHints,
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
    result = call_student(
        name, student_forward, x_test, gamma, beta, test_student, state_args=(3,)
    )
    out, _ = expect_tuple(name, result, ("out", "cache"), name)
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
    hints: BatchnormHints,
    dtype: np.dtype | None,
) -> None:
    """One train-mode call: the output and the running averages left in bn_param."""
    result = call_student(name, student_forward, x, gamma, beta, student_param, state_args=(3,))
    out, _ = expect_tuple(name, result, ("out", "cache"), name)
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
        errors[output] = compare(
            name, output, student_param[key], reference_param[key], VALUE_TOL, hints.running
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
    errors = {}
    running = {
        "running_mean": np.array([4.0, -1.0, 0.0]),
        "running_var": np.array([2.0, 3.0, 5.0]),
    }
    for mode in ("train", "test"):
        bn_param = {"mode": mode, **running}
        errors |= check_layer_backward(
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
    report(name, errors, GRAD_TOL)
