"""Checks for batch normalisation: batchnorm on (N, D) and spatial batchnorm on (N, C, H, W).

A forward is checked in train mode (the output and the running averages it
leaves in ``bn_param``) and in test mode (which must use those averages and
leave them in place); a backward against numerical gradients in both modes.
Spatial batchnorm is also run in float32, where its results must stay float32.
A wrong output, running average or gradient that matches a classic mistake
(the unbiased variance, eps outside the root, statistics per row or per
position, a backward without the paths through the batch statistics, ...)
gets the hint that names it.

This module passes the ~400 lines a module aims for: it is four checks of one
topic, and most of the growth is the hints and the diagnosis that picks one.
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
    "in train mode each feature (column) is normalised with the statistics of the batch, its "
    "mean and its variance, eps added under the square root; then scaled by gamma and "
    "shifted by beta"
)
_RUNNING_HINT = (
    "the running averages are exponential moving averages of the batch statistics, with "
    "momentum the weight of the OLD average; store them in bn_param as new arrays"
)
_RUNNING_VAR_ZEROS_HINT = (
    "running_var starts at ones (a variance of 1), not zeros, as the docstring says (and "
    "running_mean at zeros). Started at zeros, the average misses a fraction momentum**k of "
    "the variance after k steps, so early in training test mode divides by too small a "
    "standard deviation"
)
# The hints of a train output or running average that matches a classic mistake.
_MISTAKE_HINTS = {
    "unbiased": "the batch variance is the biased one, the mean squared deviation over N "
    "values (numpy's default), not over N - 1",
    "eps outside": "eps goes under the square root, added to the variance, not to the "
    "standard deviation",
    "rows": "the statistics are per feature, taken down each column over the batch, not "
    "across the features of one example",
    "gamma beta": "gamma SCALES the normalised values and beta SHIFTS them, not the reverse",
    "momentum swapped": "momentum is the weight of the OLD running average; 1 - momentum that "
    "of this batch's statistic",
    "std": "bn_param['running_var'] averages the batch VARIANCE, not the standard deviation",
    "per position": "a channel's statistics pool the batch AND both spatial axes (N*H*W "
    "values per channel): you normalised each (channel, row, column) position separately",
    "per example": "a channel's statistics pool the whole batch too, not one image's "
    "positions only",
    "not back": "the values are normalised right but come back in the wrong places: undo "
    "the rearrangement (a reshape alone does not move the channel axis back)",
    "constants": "in train mode the batch mean and variance depend on every x[i]: you "
    "treated them as constants; the gradient also flows through them",
    "no mean path": "the gradient through the batch MEAN is missing (the mean depends on every "
    "x[i])",
    "no variance path": "the gradient through the batch VARIANCE is missing (the variance "
    "depends on every x[i])",
    "no gamma": "x_hat is scaled by gamma on its way to out, so the gradient that reaches "
    "x_hat is scaled by gamma too",
    "count": "a channel's statistics average N*H*W values, so the paths through them divide "
    "by N*H*W, not N",
    "dgamma no x_hat": "gamma multiplies x_hat, so each example's dout counts weighted by its "
    "x_hat",
    "dbeta mean": "beta is added to every example: its gradient is the SUM over the batch, "
    "not the mean",
    "eps default": "take eps (and momentum) from bn_param when it gives them: this case sets "
    "eps = 1e-3",
    "mixed channels": "the rows you normalised mix channels: arrange the values so that each "
    "column holds ONE channel's values before reshaping (a reshape alone keeps the memory "
    "order, channel before position)",
}
_TEST_HINT = (
    "in test mode normalise with bn_param['running_mean'] and ['running_var'] (eps under the "
    "square root as in train mode), not with the statistics of the test batch"
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
    old = {key: reference_param.get(key) for key in ("running_mean", "running_var")}
    expected, _ = reference_forward(x, gamma, beta, reference_param)
    output = f"out (train, {label})"
    eps = reference_param.get("eps", 1e-5)
    errors[output] = compare_diagnosed(
        name,
        output,
        out,
        expected,
        VALUE_TOL,
        hints.train,
        _train_suspects(x, gamma, beta, eps),
        dtype=dtype,
    )
    suspects = {
        key: [*suspects[key], *items]
        for key, items in _running_suspects(x, reference_param, old, eps).items()
    }
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


def _columns(x: np.ndarray) -> np.ndarray:
    """x as columns of features: (N, D) as it is, (N, C, H, W) as (N*H*W, C)."""
    return x if x.ndim == 2 else x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1])


def _uncolumns(values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """:func:`_columns` undone: columns back to an array of ``shape`` (N, D) or (N, C, H, W)."""
    if len(shape) == 2:
        return values
    N, C, H, W = shape
    return values.reshape(N, H, W, C).transpose(0, 3, 1, 2)


def _train_suspects(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float
) -> list[tuple[np.ndarray, str]]:
    """The train outputs of the classic batchnorm mistakes, with the hints that name them."""
    h, cols = _MISTAKE_HINTS, _columns(x)
    spatial = x.ndim == 4

    def normalised(values: np.ndarray, axis, ddof: int = 0, eps_outside: bool = False):
        mean = values.mean(axis=axis, keepdims=True)
        var = values.var(axis=axis, keepdims=True, ddof=ddof)
        std = np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
        return (values - mean) / std

    per = (1, -1, 1, 1) if spatial else (1, -1)
    g, b = gamma.reshape(per), beta.reshape(per)
    wrong = [
        (_uncolumns(normalised(cols, 0, ddof=1) * gamma + beta, x.shape), h["unbiased"]),
        (
            _uncolumns(
                (cols - cols.mean(axis=0)) / np.sqrt(cols.var(axis=0) + 1e-5) * gamma + beta,
                x.shape,
            ),
            h["eps default"],
        ),
        (
            _uncolumns(normalised(cols, 0, eps_outside=True) * gamma + beta, x.shape),
            h["eps outside"],
        ),
        (_uncolumns(normalised(cols, 0) * beta + gamma, x.shape), h["gamma beta"]),
    ]
    if spatial:
        N, C, H, W = x.shape
        mixed = normalised(x.reshape(-1, C), 0) * gamma + beta  # rows that mix channels
        right = normalised(cols, 0) * gamma + beta  # (N*H*W, C)
        wrong += [
            (normalised(x, 0) * g + b, h["per position"]),
            (normalised(x, (2, 3)) * g + b, h["per example"]),
            (mixed.reshape(N, C, H, W), h["mixed channels"]),
            (right.reshape(N, C, H, W), h["not back"]),
        ]
    else:
        wrong.append((normalised(x, 1) * gamma + beta, h["rows"]))
    return wrong


def _running_suspects(x: np.ndarray, param: dict, old: dict, eps: float) -> dict[str, list]:
    """The running averages of the classic mistakes, from ``old`` (None: the defaults)."""
    cols, h = _columns(x), _MISTAKE_HINTS
    momentum = param.get("momentum", 0.9)
    mean0 = old["running_mean"] if old["running_mean"] is not None else np.zeros(cols.shape[1])
    var0 = old["running_var"] if old["running_var"] is not None else np.ones(cols.shape[1])
    mean, var = cols.mean(axis=0), cols.var(axis=0)
    return {
        "running_mean": [((1 - momentum) * mean0 + momentum * mean, h["momentum swapped"])],
        "running_var": [
            ((1 - momentum) * var0 + momentum * var, h["momentum swapped"]),
            (momentum * var0 + (1 - momentum) * np.sqrt(var + eps), h["std"]),
        ],
    }


def _backward_suspects(inputs: tuple, upstream: list[np.ndarray]) -> dict[str, list]:
    """The gradients of the classic batchnorm backward mistakes (train mode), with their hints."""
    x, gamma, _, bn_param = inputs
    if bn_param["mode"] != "train":
        return {}
    h, cols, dout = _MISTAKE_HINTS, _columns(x), _columns(upstream[0])
    eps = bn_param.get("eps", 1e-5)
    M = len(cols)  # the number of values behind each statistic
    centred = cols - cols.mean(axis=0)
    inv_std = 1 / np.sqrt(cols.var(axis=0) + eps)

    def dx_of(dx_hat: np.ndarray, count: int, mean_path: bool = True, var_path: bool = True):
        dvar = np.sum(dx_hat * centred, axis=0) * -0.5 * inv_std**3
        dmean = -np.sum(dx_hat, axis=0) * inv_std
        dx = dx_hat * inv_std
        dx = dx + (2 * dvar * centred / count if var_path else 0)
        return _uncolumns(dx + (dmean / count if mean_path else 0), x.shape)

    dx_hat = dout * gamma
    wrong_dx = [
        (dx_of(dx_hat, M, mean_path=False, var_path=False), h["constants"]),
        (dx_of(dx_hat, M, mean_path=False), h["no mean path"]),
        (dx_of(dx_hat, M, var_path=False), h["no variance path"]),
        (dx_of(dout, M), h["no gamma"]),
    ]
    if x.ndim == 4:
        wrong_dx.append((dx_of(dx_hat, x.shape[0]), h["count"]))
    return {
        "dx": wrong_dx,
        "dgamma": [(dout.sum(axis=0), h["dgamma no x_hat"])],
        "dbeta": [(dout.mean(axis=0), h["dbeta mean"])],
    }


def check_batchnorm_backward(batchnorm_forward: Callable, batchnorm_backward: Callable) -> None:
    """Check ``batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta)`` in train and test modes."""
    name = "batchnorm_backward"
    hints = {
        "train": {
            "dx": "in train mode the batch mean and variance depend on every x[i], so dx has "
            "three terms: through x_hat directly, through the variance and through the mean",
            "dgamma": "gamma scales x_hat in every example: its gradient collects, over the "
            "batch, dout weighted by x_hat",
            "dbeta": "beta is added in every example: its gradient collects dout over the batch",
        },
        "test": {
            "dx": "in test mode the running mean and variance are constants: x_hat is an "
            "affine function of x alone, with no terms through batch statistics",
            "dgamma": "gamma scales x_hat in every example: its gradient collects, over the "
            "batch, dout weighted by x_hat (normalised by the running averages)",
            "dbeta": "beta is added in every example: its gradient collects dout over the batch",
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
            suspects=_backward_suspects,
        )
        errors |= case_errors
        tols |= case_tols
    report(name, errors, tols)


# ---------------------------------------------------------------------------
# Spatial batch normalisation
# ---------------------------------------------------------------------------

_SBN_TRAIN_HINT = (
    "a channel's mean and variance are taken over the batch and both spatial axes (N*H*W "
    "values per channel): arrange the values so that each channel is one column, normalise "
    "them as batchnorm_forward does, and put the result back in (N, C, H, W) order"
)
_SBN_RUNNING_HINT = (
    "the running averages are exponential moving averages of the batch statistics, one per "
    "channel, shape (C,), with momentum the weight of the OLD average; store them as new "
    "arrays"
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
    per_channel = "collected over the batch and both spatial axes, one per channel (C,)"
    hints = {
        "train": {
            "dx": "in train mode each channel's mean and variance depend on all N*H*W of its "
            "values, so dx has the three batchnorm terms over N*H*W values; batchnorm_backward "
            "does it when dout is arranged as the forward arranged x (one column per "
            "channel), and its result arranged back to (N, C, H, W)",
            "dgamma": f"dgamma is dout weighted by x_hat, {per_channel}",
            "dbeta": f"dbeta is dout {per_channel}",
        },
        "test": {
            "dx": "in test mode the running mean and variance are constants: x_hat is an "
            "affine function of x alone, per channel, with no terms through batch statistics",
            "dgamma": f"dgamma is dout weighted by x_hat (normalised by the running averages), "
            f"{per_channel}",
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
            suspects=_backward_suspects,
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
