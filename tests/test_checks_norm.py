"""The batch normalisation checks fail on realistic wrong implementations and pass the reference.

Each function below is a mistake students make while writing
``batchnorm_forward(x, gamma, beta, bn_param) -> (out, cache)`` or
``batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta)``; each catalogue
entry names the message the check must give for it. The backward mistakes are
written against a correct forward in the staged ("computational graph") form
most students write first, which caches x, the statistics and x_hat.
"""

from __future__ import annotations

import numpy as np
import pytest

from course import layers
from course.checks import CheckFailed, check_batchnorm_backward, check_batchnorm_forward

# ---------------------------------------------------------------------------
# batchnorm_forward(x, gamma, beta, bn_param) -> (out, cache)
# ---------------------------------------------------------------------------


# Unbiased variance (ddof=1) where batch norm uses the biased one.
def batchnorm_forward_unbiased_variance(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    running_mean = bn_param.get("running_mean", np.zeros(x.shape[1]))
    running_var = bn_param.get("running_var", np.ones(x.shape[1]))
    if mode == "train":
        mean, var = x.mean(axis=0), x.var(axis=0, ddof=1)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
    else:
        mean, var = running_mean, running_var
    x_hat = (x - mean) / np.sqrt(var + eps)
    return gamma * x_hat + beta, (x, x_hat, gamma, var + eps)


# eps outside the square root: divides by std + eps.
def batchnorm_forward_eps_outside_sqrt(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    running_mean = bn_param.get("running_mean", np.zeros(x.shape[1]))
    running_var = bn_param.get("running_var", np.ones(x.shape[1]))
    if mode == "train":
        mean, var = x.mean(axis=0), x.var(axis=0)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
    else:
        mean, var = running_mean, running_var
    x_hat = (x - mean) / (np.sqrt(var) + eps)
    return gamma * x_hat + beta, (x, x_hat, gamma, var)


# Momentum on the wrong side: the running averages follow the current batch.
def batchnorm_forward_momentum_swapped(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    running_mean = bn_param.get("running_mean", np.zeros(x.shape[1]))
    running_var = bn_param.get("running_var", np.ones(x.shape[1]))
    if mode == "train":
        mean, var = x.mean(axis=0), x.var(axis=0)
        bn_param["running_mean"] = (1 - momentum) * running_mean + momentum * mean
        bn_param["running_var"] = (1 - momentum) * running_var + momentum * var
    else:
        mean, var = running_mean, running_var
    x_hat = (x - mean) / np.sqrt(var + eps)
    return gamma * x_hat + beta, (x, x_hat, gamma, var + eps)


# Normalises with the test batch's own statistics at test time.
def batchnorm_forward_test_uses_batch_stats(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    running_mean = bn_param.get("running_mean", np.zeros(x.shape[1]))
    running_var = bn_param.get("running_var", np.ones(x.shape[1]))
    mean, var = x.mean(axis=0), x.var(axis=0)
    if mode == "train":
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
    x_hat = (x - mean) / np.sqrt(var + eps)
    return gamma * x_hat + beta, (x, x_hat, gamma, var + eps)


# Updates the running mean in place (running_mean *= momentum), changing the caller's array.
def batchnorm_forward_running_mean_in_place(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    running_mean = bn_param.get("running_mean", np.zeros(x.shape[1]))
    running_var = bn_param.get("running_var", np.ones(x.shape[1]))
    if mode == "train":
        mean, var = x.mean(axis=0), x.var(axis=0)
        running_mean *= momentum
        running_mean += (1 - momentum) * mean
        running_var *= momentum
        running_var += (1 - momentum) * var
        bn_param["running_mean"], bn_param["running_var"] = running_mean, running_var
    else:
        mean, var = running_mean, running_var
    x_hat = (x - mean) / np.sqrt(var + eps)
    return gamma * x_hat + beta, (x, x_hat, gamma, var + eps)


# Computes the new running averages into local names and never stores them in bn_param.
def batchnorm_forward_running_not_stored(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    running_mean = bn_param.get("running_mean", np.zeros(x.shape[1]))
    running_var = bn_param.get("running_var", np.ones(x.shape[1]))
    if mode == "train":
        mean, var = x.mean(axis=0), x.var(axis=0)
        running_mean = momentum * running_mean + (1 - momentum) * mean
        running_var = momentum * running_var + (1 - momentum) * var
    else:
        mean, var = running_mean, running_var
    x_hat = (x - mean) / np.sqrt(var + eps)
    return gamma * x_hat + beta, (x, x_hat, gamma, var + eps)


# Normalises each example (axis 1, layer-norm style) instead of each feature.
def batchnorm_forward_normalises_rows(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    running_mean = bn_param.get("running_mean", np.zeros(x.shape[1]))
    running_var = bn_param.get("running_var", np.ones(x.shape[1]))
    if mode == "train":
        mean, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * x.mean(axis=0)
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * x.var(axis=0)
    else:
        mean, var = running_mean, running_var
    x_hat = (x - mean) / np.sqrt(var + eps)
    return gamma * x_hat + beta, (x, x_hat, gamma, var + eps)


# Swaps gamma and beta: shifts by gamma and scales by beta.
def batchnorm_forward_gamma_beta_swapped(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    running_mean = bn_param.get("running_mean", np.zeros(x.shape[1]))
    running_var = bn_param.get("running_var", np.ones(x.shape[1]))
    if mode == "train":
        mean, var = x.mean(axis=0), x.var(axis=0)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
    else:
        mean, var = running_mean, running_var
    x_hat = (x - mean) / np.sqrt(var + eps)
    return beta * x_hat + gamma, (x, x_hat, gamma, var + eps)


# Centres x in place: x -= mean.
def batchnorm_forward_centres_in_place(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    running_mean = bn_param.get("running_mean", np.zeros(x.shape[1]))
    running_var = bn_param.get("running_var", np.ones(x.shape[1]))
    if mode == "train":
        mean, var = x.mean(axis=0), x.var(axis=0)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
    else:
        mean, var = running_mean, running_var
    x -= mean
    x_hat = x / np.sqrt(var + eps)
    return gamma * x_hat + beta, (x, x_hat, gamma, var + eps)


# Tracks the running standard deviation where the running variance is wanted.
def batchnorm_forward_running_std(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    running_mean = bn_param.get("running_mean", np.zeros(x.shape[1]))
    running_var = bn_param.get("running_var", np.ones(x.shape[1]))
    if mode == "train":
        mean, std = x.mean(axis=0), np.sqrt(x.var(axis=0) + eps)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * std
    else:
        mean, std = running_mean, np.sqrt(running_var + eps)
    x_hat = (x - mean) / std
    return gamma * x_hat + beta, (x, x_hat, gamma, std**2)


# Test branch forgets eps: divides by sqrt(running_var).
def batchnorm_forward_test_forgets_eps(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    running_mean = bn_param.get("running_mean", np.zeros(x.shape[1]))
    running_var = bn_param.get("running_var", np.ones(x.shape[1]))
    if mode == "train":
        mean, var = x.mean(axis=0), x.var(axis=0)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
        x_hat = (x - mean) / np.sqrt(var + eps)
    else:
        x_hat = (x - running_mean) / np.sqrt(running_var)
    return gamma * x_hat + beta, (x, x_hat, gamma)


# The stub left as it was.
def batchnorm_forward_pass_stub(x, gamma, beta, bn_param):
    pass


# The released stub.
def batchnorm_forward_not_implemented(x, gamma, beta, bn_param):
    raise NotImplementedError


# Updates the running averages after the if/else, so test batches update them too.
def batchnorm_forward_updates_at_test_time(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    running_mean = bn_param.get("running_mean", np.zeros(x.shape[1]))
    running_var = bn_param.get("running_var", np.ones(x.shape[1]))
    if mode == "train":
        mean, var = x.mean(axis=0), x.var(axis=0)
    else:
        mean, var = running_mean, running_var
    x_hat = (x - mean) / np.sqrt(var + eps)
    bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * x.mean(axis=0)
    bn_param["running_var"] = momentum * running_var + (1 - momentum) * x.var(axis=0)
    return gamma * x_hat + beta, (x, x_hat, gamma, var + eps)


# Hard-codes eps = 1e-5 and momentum = 0.9, ignoring the values in bn_param.
def batchnorm_forward_hard_coded_hyperparameters(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps, momentum = 1e-5, 0.9
    running_mean = bn_param.get("running_mean", np.zeros(x.shape[1]))
    running_var = bn_param.get("running_var", np.ones(x.shape[1]))
    if mode == "train":
        mean, var = x.mean(axis=0), x.var(axis=0)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
    else:
        mean, var = running_mean, running_var
    x_hat = (x - mean) / np.sqrt(var + eps)
    return gamma * x_hat + beta, (x, x_hat, gamma, var + eps)


# Reads bn_param['running_mean'] without a default: the first call of a fresh
# layer, whose bn_param is just {'mode': 'train'}, raises KeyError.
def batchnorm_forward_requires_running_averages(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    running_mean, running_var = bn_param["running_mean"], bn_param["running_var"]
    if mode == "train":
        mean, var = x.mean(axis=0), x.var(axis=0)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
    else:
        mean, var = running_mean, running_var
    x_hat = (x - mean) / np.sqrt(var + eps)
    return gamma * x_hat + beta, (x, x_hat, gamma, var + eps)


BATCHNORM_FORWARD_MISTAKES = [
    pytest.param(
        batchnorm_forward_unbiased_variance,
        r"out \(train, [^)]*\) is wrong: relative error",
        id="unbiased-variance",
    ),
    pytest.param(
        batchnorm_forward_eps_outside_sqrt,
        r"out \(train, [^)]*\) is wrong: relative error",
        id="eps-outside-sqrt",
    ),
    pytest.param(
        batchnorm_forward_momentum_swapped,
        r"bn_param\['running_mean'\] \([^)]*\) is wrong: relative error",
        id="momentum-swapped",
    ),
    pytest.param(
        batchnorm_forward_test_uses_batch_stats,
        r"out \(test\) is wrong: relative error",
        id="test-uses-batch-statistics",
    ),
    pytest.param(
        batchnorm_forward_running_mean_in_place,
        r"the running_mean or running_var array passed in bn_param was changed in place",
        id="running-mean-in-place",
    ),
    pytest.param(
        batchnorm_forward_running_not_stored,
        r"train mode did not store bn_param\['running_mean'\] \(fresh bn_param\)",
        id="running-not-stored",
    ),
    pytest.param(
        batchnorm_forward_normalises_rows,
        r"out \(train, [^)]*\) is wrong: relative error",
        id="normalises-rows",
    ),
    pytest.param(
        batchnorm_forward_gamma_beta_swapped,
        r"out \(train, [^)]*\) is wrong: relative error",
        id="gamma-beta-swapped",
    ),
    pytest.param(
        batchnorm_forward_centres_in_place,
        r"changed its input argument 1 in place",
        id="x-minus-equals-mean",
    ),
    pytest.param(
        batchnorm_forward_running_std,
        r"bn_param\['running_var'\] \([^)]*\) is wrong: relative error",
        id="running-std",
    ),
    pytest.param(
        batchnorm_forward_test_forgets_eps,
        r"out \(test\) is wrong: relative error",
        id="test-forgets-eps",
    ),
    pytest.param(
        batchnorm_forward_pass_stub,
        r"must return a tuple \(out, cache\); it returned NoneType",
        id="pass-stub",
    ),
    pytest.param(
        batchnorm_forward_not_implemented,
        r"batchnorm_forward_not_implemented is not implemented yet",
        id="not-implemented",
    ),
    pytest.param(
        batchnorm_forward_updates_at_test_time,
        r"test mode replaced bn_param\['running_mean'\]",
        id="updates-running-averages-at-test-time",
    ),
    pytest.param(
        batchnorm_forward_hard_coded_hyperparameters,
        r"out \(train, momentum 0.8, eps 1e-3\) is wrong",
        id="ignores-bn-param-momentum-and-eps",
    ),
    pytest.param(
        batchnorm_forward_requires_running_averages,
        r"raised KeyError: 'running_mean'",
        id="no-default-running-averages",
    ),
]


@pytest.mark.parametrize("student, expected", BATCHNORM_FORWARD_MISTAKES)
def test_check_batchnorm_forward_fails(student, expected, capsys):
    with pytest.raises(CheckFailed, match=expected) as failure:
        check_batchnorm_forward(student)
    assert str(failure.value).startswith("batchnorm_forward: ")
    assert "OK" not in capsys.readouterr().out


def test_check_batchnorm_forward_passes_reference(capsys):
    check_batchnorm_forward(layers.batchnorm_forward)
    out = capsys.readouterr().out
    assert out.startswith("OK batchnorm_forward:")
    assert out.count("\n") == 1


# ---------------------------------------------------------------------------
# batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta)
# ---------------------------------------------------------------------------


def batchnorm_forward_staged(x, gamma, beta, bn_param):
    """A correct forward in the staged form; its cache feeds the wrong backwards below."""
    mode = bn_param["mode"]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    running_mean = bn_param.get("running_mean", np.zeros(x.shape[1]))
    running_var = bn_param.get("running_var", np.ones(x.shape[1]))
    if mode == "train":
        mean, var = x.mean(axis=0), x.var(axis=0)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
    else:
        mean, var = running_mean, running_var
    x_hat = (x - mean) / np.sqrt(var + eps)
    return gamma * x_hat + beta, (mode, x, mean, var, eps, gamma, x_hat)


def batchnorm_backward_staged(dout, cache):
    """The correct backward through the staged graph (x -> mean, var -> x_hat -> out)."""
    mode, x, mean, var, eps, gamma, x_hat = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    if mode == "test":
        return dx_hat / np.sqrt(var + eps), dgamma, dbeta
    dvar = np.sum(dx_hat * (x - mean) * -0.5 * (var + eps) ** -1.5, axis=0)
    dmean = np.sum(-dx_hat / np.sqrt(var + eps), axis=0)
    dx = dx_hat / np.sqrt(var + eps) + dvar * 2 * (x - mean) / N + dmean / N
    return dx, dgamma, dbeta


# Treats the batch mean and variance as constants: only the direct path through x_hat.
def batchnorm_backward_statistics_as_constants(dout, cache):
    mode, x, mean, var, eps, gamma, x_hat = cache
    dx = dout * gamma / np.sqrt(var + eps)
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


# Forgets the path through the mean.
def batchnorm_backward_forgets_mean_path(dout, cache):
    mode, x, mean, var, eps, gamma, x_hat = cache
    N = dout.shape[0]
    dx_hat = dout * gamma
    if mode == "test":
        return dx_hat / np.sqrt(var + eps), (dout * x_hat).sum(axis=0), dout.sum(axis=0)
    dvar = np.sum(dx_hat * (x - mean) * -0.5 * (var + eps) ** -1.5, axis=0)
    dx = dx_hat / np.sqrt(var + eps) + dvar * 2 * (x - mean) / N
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


# Forgets the path through the variance.
def batchnorm_backward_forgets_variance_path(dout, cache):
    mode, x, mean, var, eps, gamma, x_hat = cache
    N = dout.shape[0]
    dx_hat = dout * gamma
    if mode == "test":
        return dx_hat / np.sqrt(var + eps), (dout * x_hat).sum(axis=0), dout.sum(axis=0)
    dmean = np.sum(-dx_hat / np.sqrt(var + eps), axis=0)
    dx = dx_hat / np.sqrt(var + eps) + dmean / N
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


# dgamma = sum of dout: forgets to multiply by x_hat.
def batchnorm_backward_dgamma_without_x_hat(dout, cache):
    dx, _, dbeta = batchnorm_backward_staged(dout, cache)
    return dx, dout.sum(axis=0), dbeta


# Averages dbeta over the batch.
def batchnorm_backward_dbeta_mean(dout, cache):
    dx, dgamma, _ = batchnorm_backward_staged(dout, cache)
    return dx, dgamma, dout.mean(axis=0)


# dbeta = dout: forgets to sum over the batch.
def batchnorm_backward_dbeta_not_summed(dout, cache):
    dx, dgamma, _ = batchnorm_backward_staged(dout, cache)
    return dx, dgamma, dout


# Returns (dx, dbeta, dgamma).
def batchnorm_backward_wrong_order(dout, cache):
    dx, dgamma, dbeta = batchnorm_backward_staged(dout, cache)
    return dx, dbeta, dgamma


# Unpacks the shape the wrong way round, so N is the number of features.
def batchnorm_backward_n_and_d_swapped(dout, cache):
    mode, x, mean, var, eps, gamma, x_hat = cache
    D, N = dout.shape
    dx_hat = dout * gamma
    if mode == "test":
        return dx_hat / np.sqrt(var + eps), (dout * x_hat).sum(axis=0), dout.sum(axis=0)
    dvar = np.sum(dx_hat * (x - mean) * -0.5 * (var + eps) ** -1.5, axis=0)
    dmean = np.sum(-dx_hat / np.sqrt(var + eps), axis=0)
    dx = dx_hat / np.sqrt(var + eps) + dvar * 2 * (x - mean) / N + dmean / N
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


# Forgets gamma: backprops dout into x_hat as if gamma were 1.
def batchnorm_backward_forgets_gamma(dout, cache):
    mode, x, mean, var, eps, gamma, x_hat = cache
    N = dout.shape[0]
    dx_hat = dout
    if mode == "test":
        return dx_hat / np.sqrt(var + eps), (dout * x_hat).sum(axis=0), dout.sum(axis=0)
    dvar = np.sum(dx_hat * (x - mean) * -0.5 * (var + eps) ** -1.5, axis=0)
    dmean = np.sum(-dx_hat / np.sqrt(var + eps), axis=0)
    dx = dx_hat / np.sqrt(var + eps) + dvar * 2 * (x - mean) / N + dmean / N
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


# Uses the train-mode formula whatever the mode: in test mode the statistics are constants.
def batchnorm_backward_ignores_mode(dout, cache):
    mode, x, mean, var, eps, gamma, x_hat = cache
    N = dout.shape[0]
    dx_hat = dout * gamma
    dvar = np.sum(dx_hat * (x - mean) * -0.5 * (var + eps) ** -1.5, axis=0)
    dmean = np.sum(-dx_hat / np.sqrt(var + eps), axis=0)
    dx = dx_hat / np.sqrt(var + eps) + dvar * 2 * (x - mean) / N + dmean / N
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


# Scales dout by gamma in place.
def batchnorm_backward_scales_dout_in_place(dout, cache):
    mode, x, mean, var, eps, gamma, x_hat = cache
    dgamma, dbeta = (dout * x_hat).sum(axis=0), dout.sum(axis=0)
    N = dout.shape[0]
    dout *= gamma  # now dx_hat
    if mode == "test":
        return dout / np.sqrt(var + eps), dgamma, dbeta
    inv_std = 1 / np.sqrt(var + eps)
    dx = inv_std / N * (N * dout - dout.sum(axis=0) - x_hat * (dout * x_hat).sum(axis=0))
    return dx, dgamma, dbeta


# The stub left as it was.
def batchnorm_backward_pass_stub(dout, cache):
    pass


# The released stub.
def batchnorm_backward_not_implemented(dout, cache):
    raise NotImplementedError


BATCHNORM_BACKWARD_MISTAKES = [
    pytest.param(
        batchnorm_backward_statistics_as_constants,
        r"dx \(train\) is wrong: relative error",
        id="statistics-as-constants",
    ),
    pytest.param(
        batchnorm_backward_forgets_mean_path,
        r"dx \(train\) is wrong: relative error",
        id="no-mean-path",
    ),
    pytest.param(
        batchnorm_backward_forgets_variance_path,
        r"dx \(train\) is wrong: relative error",
        id="no-variance-path",
    ),
    pytest.param(
        batchnorm_backward_dgamma_without_x_hat,
        r"dgamma \(train\) is wrong: relative error",
        id="dgamma-without-x-hat",
    ),
    pytest.param(
        batchnorm_backward_dbeta_mean, r"dbeta \(train\) is wrong: relative error", id="dbeta-mean"
    ),
    pytest.param(
        batchnorm_backward_dbeta_not_summed,
        r"dbeta \(train\) has the wrong shape: got \(8, 3\), expected \(3,\)",
        id="dbeta-not-summed",
    ),
    pytest.param(
        batchnorm_backward_wrong_order,
        r"dgamma \(train\) is wrong: relative error",
        id="wrong-order",
    ),
    pytest.param(
        batchnorm_backward_n_and_d_swapped,
        r"dx \(train\) is wrong: relative error",
        id="n-and-d-swapped",
    ),
    pytest.param(
        batchnorm_backward_forgets_gamma,
        r"dx \(train\) is wrong: relative error",
        id="forgets-gamma",
    ),
    pytest.param(
        batchnorm_backward_ignores_mode,
        r"dx \(test\) is wrong: relative error",
        id="train-formula-in-test-mode",
    ),
    pytest.param(
        batchnorm_backward_scales_dout_in_place,
        r"changed its input argument 1 in place",
        id="dout-times-equals-gamma",
    ),
    pytest.param(
        batchnorm_backward_pass_stub,
        r"must return a tuple \(dx, dgamma, dbeta\); it returned NoneType",
        id="pass-stub",
    ),
    pytest.param(
        batchnorm_backward_not_implemented,
        r"batchnorm_backward_not_implemented is not implemented yet",
        id="not-implemented",
    ),
]


@pytest.mark.parametrize("student, expected", BATCHNORM_BACKWARD_MISTAKES)
def test_check_batchnorm_backward_fails(student, expected, capsys):
    with pytest.raises(CheckFailed, match=expected) as failure:
        check_batchnorm_backward(batchnorm_forward_staged, student)
    assert str(failure.value).startswith("batchnorm_backward: ")
    assert "OK" not in capsys.readouterr().out


def test_check_batchnorm_backward_passes_reference(capsys):
    check_batchnorm_backward(layers.batchnorm_forward, layers.batchnorm_backward)
    out = capsys.readouterr().out
    assert out.startswith("OK batchnorm_backward:")
    assert out.count("\n") == 1


def test_check_batchnorm_backward_failure_names_the_mode():
    with pytest.raises(CheckFailed, match=r"dx \(test\) is wrong.*running mean and variance are"):
        check_batchnorm_backward(batchnorm_forward_staged, batchnorm_backward_ignores_mode)


def test_check_batchnorm_passes_a_correct_staged_implementation(capsys):
    """The forward the backward catalogue runs with is right, so each failure is the backward's."""
    check_batchnorm_forward(batchnorm_forward_staged)
    check_batchnorm_backward(batchnorm_forward_staged, batchnorm_backward_staged)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "OK batchnorm_forward",
        "OK batchnorm_backward",
    ]


@pytest.mark.parametrize(
    "catalogue",
    [BATCHNORM_FORWARD_MISTAKES, BATCHNORM_BACKWARD_MISTAKES],
    ids=["batchnorm_forward", "batchnorm_backward"],
)
def test_catalogue_has_six_distinct_mistakes(catalogue):
    functions = [param.values[0] for param in catalogue]
    assert len(functions) >= 6
    assert len(set(functions)) == len(functions)
    assert len({param.id for param in catalogue}) == len(catalogue)
