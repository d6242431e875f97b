"""The batch normalisation checks fail on realistic wrong implementations and pass the reference.

Each function below is a mistake students make while writing
``batchnorm_forward(x, gamma, beta, bn_param) -> (out, cache)``,
``batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta)`` or their spatial
versions on (N, C, H, W) batches; each catalogue entry names the message the
check must give for it. The backward mistakes are written against a correct
forward in the staged ("computational graph") form most students write first,
which caches x, the statistics and x_hat.
"""

from __future__ import annotations

import numpy as np
import pytest

from course import layers
from course.checks import (
    CheckFailed,
    check_batchnorm_backward,
    check_batchnorm_forward,
    check_spatial_batchnorm_backward,
    check_spatial_batchnorm_forward,
)
from course.checks.core import references_allowed

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


# The CS231n assignment's default: running_var starts at zeros, where ours starts at ones.
def batchnorm_forward_running_var_zeros(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    N, D = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(D, dtype=x.dtype))
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
        r"out \(train, [^)]*\) is wrong: relative error"
        r".* Hint: .*the batch variance is the biased one",
        id="unbiased-variance",
    ),
    pytest.param(
        batchnorm_forward_eps_outside_sqrt,
        r"out \(train, [^)]*\) is wrong: relative error.* Hint: .*eps goes under the square root",
        id="eps-outside-sqrt",
    ),
    pytest.param(
        batchnorm_forward_momentum_swapped,
        r"bn_param\['running_mean'\] \([^)]*\) is wrong: relative error"
        r".* Hint: .*momentum is the weight of the OLD running average",
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
        r"out \(train, [^)]*\) is wrong: relative error.* Hint: .*the statistics are per feature",
        id="normalises-rows",
    ),
    pytest.param(
        batchnorm_forward_gamma_beta_swapped,
        r"out \(train, [^)]*\) is wrong: relative error"
        r".* Hint: .*gamma SCALES the normalised values",
        id="gamma-beta-swapped",
    ),
    pytest.param(
        batchnorm_forward_centres_in_place,
        r"changed its input argument 1 in place",
        id="x-minus-equals-mean",
    ),
    pytest.param(
        batchnorm_forward_running_std,
        r"bn_param\['running_var'\] \([^)]*\) is wrong: relative error"
        r".* Hint: .*averages the batch VARIANCE, not the standard deviation",
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
        r"out \(train, momentum 0.8, eps 1e-3\) is wrong"
        r".* Hint: .*take eps \(and momentum\) from bn_param",
        id="ignores-bn-param-momentum-and-eps",
    ),
    pytest.param(
        batchnorm_forward_requires_running_averages,
        r"raised KeyError: 'running_mean'",
        id="no-default-running-averages",
    ),
    pytest.param(
        batchnorm_forward_running_var_zeros,
        r"bn_param\['running_var'\] \(fresh bn_param\) is wrong: relative error .* Hint: "
        r"running_var starts at ones \(a variance of 1\), not zeros, as the docstring says",
        id="running-var-starts-at-zeros",
    ),
]


@pytest.mark.parametrize("student, expected", BATCHNORM_FORWARD_MISTAKES)
def test_check_batchnorm_forward_fails(student, expected, capsys):
    with pytest.raises(CheckFailed, match=expected) as failure:
        check_batchnorm_forward(student)
    assert str(failure.value).startswith("batchnorm_forward: ")
    assert "OK" not in capsys.readouterr().out


@references_allowed()  # the course's own reference is the right answer
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
        r"dx \(train\) is wrong: relative error.* Hint: .*you treated them as constants",
        id="statistics-as-constants",
    ),
    pytest.param(
        batchnorm_backward_forgets_mean_path,
        r"dx \(train\) is wrong: relative error"
        r".* Hint: .*the gradient through the batch MEAN is missing",
        id="no-mean-path",
    ),
    pytest.param(
        batchnorm_backward_forgets_variance_path,
        r"dx \(train\) is wrong: relative error"
        r".* Hint: .*the gradient through the batch VARIANCE is missing",
        id="no-variance-path",
    ),
    pytest.param(
        batchnorm_backward_dgamma_without_x_hat,
        r"dgamma \(train\) is wrong: relative error.* Hint: .*gamma multiplies x_hat",
        id="dgamma-without-x-hat",
    ),
    pytest.param(
        batchnorm_backward_dbeta_mean,
        r"dbeta \(train\) is wrong: relative error.* Hint: .*the SUM over the batch, not the mean",
        id="dbeta-mean",
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
        r"dx \(train\) is wrong: relative error.* Hint: .*scaled by gamma too",
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


@references_allowed()  # the course's own reference is the right answer
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


# ---------------------------------------------------------------------------
# spatial_batchnorm_forward(x, gamma, beta, bn_param) -> (out, cache)
# ---------------------------------------------------------------------------


def spatial_batchnorm_forward_staged(x, gamma, beta, bn_param):
    """A correct staged forward: statistics per channel over (N, H, W), kept as (1, C, 1, 1)."""
    mode = bn_param["mode"]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    C = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(C, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.ones(C, dtype=x.dtype))
    if mode == "train":
        mean = x.mean(axis=(0, 2, 3), keepdims=True)  # (1, C, 1, 1)
        var = x.var(axis=(0, 2, 3), keepdims=True)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean.ravel()
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var.ravel()
    else:
        mean, var = running_mean.reshape(1, C, 1, 1), running_var.reshape(1, C, 1, 1)
    x_hat = (x - mean) / np.sqrt(var + eps)
    g, b = gamma.reshape(1, C, 1, 1), beta.reshape(1, C, 1, 1)
    return g * x_hat + b, (mode, x, mean, var, eps, g, x_hat)


def _sbn_forward(x, gamma, beta, bn_param, axes=(0, 2, 3), ddof=0, eps=None, momentum=None):
    """The staged forward with the statistics taken over ``axes``; the body of the mistakes."""
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5) if eps is None else eps
    momentum = bn_param.get("momentum", 0.9) if momentum is None else momentum
    C = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(C))
    running_var = bn_param.get("running_var", np.ones(C))
    if mode == "train":
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True, ddof=ddof)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean.mean(0).ravel()
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var.mean(0).ravel()
    else:
        mean, var = running_mean.reshape(1, C, 1, 1), running_var.reshape(1, C, 1, 1)
    x_hat = (x - mean) / np.sqrt(var + eps)
    return gamma.reshape(1, C, 1, 1) * x_hat + beta.reshape(1, C, 1, 1), (x, x_hat)


# Statistics per (C, H, W) position: the fully connected batchnorm's axis=0.
def spatial_batchnorm_forward_per_position(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    running_mean = bn_param.get("running_mean", np.zeros(x.shape[1:]))
    running_var = bn_param.get("running_var", np.ones(x.shape[1:]))
    if mode == "train":
        mean, var = x.mean(axis=0), x.var(axis=0)  # (C, H, W)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
    else:
        mean, var = running_mean, running_var
    x_hat = (x - mean) / np.sqrt(var + eps)
    return gamma[:, None, None] * x_hat + beta[:, None, None], (x, x_hat)


# Per-example statistics (instance norm): the mean over (H, W) of each example and channel.
def spatial_batchnorm_forward_per_example(x, gamma, beta, bn_param):
    return _sbn_forward(x, gamma, beta, bn_param, axes=(2, 3))


# Reshapes to (N*H*W, C) without moving C last: each "row" mixes channels.
def spatial_batchnorm_forward_reshape_without_transpose(x, gamma, beta, bn_param):
    N, C, H, W = x.shape
    out_rows, cache = layers.batchnorm_forward(x.reshape(-1, C), gamma, beta, bn_param)
    return out_rows.reshape(N, C, H, W), cache


# The usual transpose and reshape around a batchnorm_forward whose running_var starts
# at zeros (the CS231n assignment's default).
def spatial_batchnorm_forward_via_running_var_zeros(x, gamma, beta, bn_param):
    N, C, H, W = x.shape
    rows = x.transpose(0, 2, 3, 1).reshape(-1, C)  # (N*H*W, C)
    out_rows, cache = batchnorm_forward_running_var_zeros(rows, gamma, beta, bn_param)
    return out_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2), cache


# Moves C last for batchnorm, but reshapes the result straight to (N, C, H, W).
def spatial_batchnorm_forward_not_transposed_back(x, gamma, beta, bn_param):
    N, C, H, W = x.shape
    rows = x.transpose(0, 2, 3, 1).reshape(-1, C)
    out_rows, cache = layers.batchnorm_forward(rows, gamma, beta, bn_param)
    return out_rows.reshape(N, C, H, W), cache


# Unbiased variance (ddof=1).
def spatial_batchnorm_forward_unbiased_variance(x, gamma, beta, bn_param):
    return _sbn_forward(x, gamma, beta, bn_param, ddof=1)


# Hard-codes eps = 1e-5 and momentum = 0.9, ignoring bn_param.
def spatial_batchnorm_forward_hard_coded_hyperparameters(x, gamma, beta, bn_param):
    return _sbn_forward(x, gamma, beta, bn_param, eps=1e-5, momentum=0.9)


# Normalises the test batch with its own statistics.
def spatial_batchnorm_forward_test_uses_batch_stats(x, gamma, beta, bn_param):
    if bn_param["mode"] == "train":
        return _sbn_forward(x, gamma, beta, bn_param)
    eps = bn_param.get("eps", 1e-5)
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    x_hat = (x - mean) / np.sqrt(x.var(axis=(0, 2, 3), keepdims=True) + eps)
    return gamma[:, None, None] * x_hat + beta[:, None, None], (x, x_hat)


# Updates the running averages in place.
def spatial_batchnorm_forward_running_in_place(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    C = x.shape[1]
    running_mean = bn_param.setdefault("running_mean", np.zeros(C))
    running_var = bn_param.setdefault("running_var", np.ones(C))
    if mode == "train":
        mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
        running_mean *= momentum
        running_mean += (1 - momentum) * mean
        running_var *= momentum
        running_var += (1 - momentum) * var
    else:
        mean, var = running_mean, running_var
    x_hat = (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + eps)
    return gamma[:, None, None] * x_hat + beta[:, None, None], (x, x_hat)


# Updates the running averages after the if/else, so test batches change them too.
def spatial_batchnorm_forward_updates_at_test_time(x, gamma, beta, bn_param):
    mode = bn_param["mode"]
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    C = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(C))
    running_var = bn_param.get("running_var", np.ones(C))
    batch_mean, batch_var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    mean, var = (batch_mean, batch_var) if mode == "train" else (running_mean, running_var)
    bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * batch_mean
    bn_param["running_var"] = momentum * running_var + (1 - momentum) * batch_var
    x_hat = (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + eps)
    return gamma[:, None, None] * x_hat + beta[:, None, None], (x, x_hat)


# Centres x in place: x -= mean.
def spatial_batchnorm_forward_centres_in_place(x, gamma, beta, bn_param):
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    C = x.shape[1]
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    if bn_param["mode"] == "train":
        bn_param["running_mean"] = (
            momentum * bn_param.get("running_mean", np.zeros(C)) + (1 - momentum) * mean
        )
        bn_param["running_var"] = (
            momentum * bn_param.get("running_var", np.ones(C)) + (1 - momentum) * var
        )
    else:
        mean, var = bn_param["running_mean"], bn_param["running_var"]
    x -= mean[:, None, None]
    x_hat = x / np.sqrt(var[:, None, None] + eps)
    return gamma[:, None, None] * x_hat + beta[:, None, None], (x, x_hat)


# Fills a float64 np.zeros channel by channel: float32 inputs give a float64 output.
def spatial_batchnorm_forward_float64_zeros(x, gamma, beta, bn_param):
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    N, C, H, W = x.shape
    mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    if bn_param["mode"] == "train":
        running_mean = bn_param.get("running_mean", np.zeros(C))
        running_var = bn_param.get("running_var", np.ones(C))
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
    else:
        mean, var = bn_param["running_mean"], bn_param["running_var"]
    out = np.zeros(x.shape)
    for c in range(C):
        out[:, c] = gamma[c] * (x[:, c] - mean[c]) / np.sqrt(var[c] + eps) + beta[c]
    return out, (x, mean, var)


# The released stub.
def spatial_batchnorm_forward_not_implemented(x, gamma, beta, bn_param):
    raise NotImplementedError


SPATIAL_BATCHNORM_FORWARD_MISTAKES = [
    pytest.param(
        spatial_batchnorm_forward_per_position,
        r"out \(train, fresh bn_param\) is wrong: relative error .* Hint: .*\(N\*H\*W values "
        r"per channel\): you normalised each \(channel, row, column\) position separately",
        id="statistics-per-chw-position",
    ),
    pytest.param(
        spatial_batchnorm_forward_per_example,
        r"out \(train, fresh bn_param\) is wrong: relative error.* Hint: .*not one image",
        id="per-example-statistics",
    ),
    pytest.param(
        spatial_batchnorm_forward_reshape_without_transpose,
        r"out \(train, fresh bn_param\) is wrong: relative error"
        r".* Hint: .*the rows you normalised mix channels",
        id="reshape-without-transpose",
    ),
    pytest.param(
        spatial_batchnorm_forward_not_transposed_back,
        r"out \(train, fresh bn_param\) is wrong: relative error"
        r".* Hint: .*come back in the wrong places",
        id="not-transposed-back",
    ),
    pytest.param(
        spatial_batchnorm_forward_unbiased_variance,
        r"out \(train, fresh bn_param\) is wrong: relative error"
        r".* Hint: .*the batch variance is the biased one",
        id="unbiased-variance",
    ),
    pytest.param(
        spatial_batchnorm_forward_hard_coded_hyperparameters,
        r"out \(train, momentum 0.8, eps 1e-3\) is wrong"
        r".* Hint: .*take eps \(and momentum\) from bn_param",
        id="ignores-bn-param-momentum-and-eps",
    ),
    pytest.param(
        spatial_batchnorm_forward_test_uses_batch_stats,
        r"out \(test\) is wrong: relative error",
        id="test-uses-batch-statistics",
    ),
    pytest.param(
        spatial_batchnorm_forward_running_in_place,
        r"the running_mean or running_var array passed in bn_param was changed in place",
        id="running-averages-in-place",
    ),
    pytest.param(
        spatial_batchnorm_forward_updates_at_test_time,
        r"test mode replaced bn_param\['running_mean'\]",
        id="updates-running-averages-at-test-time",
    ),
    pytest.param(
        spatial_batchnorm_forward_centres_in_place,
        r"changed its input argument 1 in place",
        id="x-minus-equals-mean",
    ),
    pytest.param(
        spatial_batchnorm_forward_float64_zeros,
        r"out \(train, float32\) has dtype float64 for float32 inputs",
        id="float64-zeros-upcast",
    ),
    pytest.param(
        spatial_batchnorm_forward_via_running_var_zeros,
        r"bn_param\['running_var'\] \(fresh bn_param\) is wrong: relative error .* Hint: "
        r"running_var starts at ones \(a variance of 1\), not zeros",
        id="running-var-starts-at-zeros",
    ),
    pytest.param(
        spatial_batchnorm_forward_not_implemented,
        r"spatial_batchnorm_forward_not_implemented is not implemented yet",
        id="not-implemented",
    ),
]


@pytest.mark.parametrize("student, expected", SPATIAL_BATCHNORM_FORWARD_MISTAKES)
def test_check_spatial_batchnorm_forward_fails(student, expected, capsys):
    with pytest.raises(CheckFailed, match=expected) as failure:
        check_spatial_batchnorm_forward(student)
    assert str(failure.value).startswith("spatial_batchnorm_forward: ")
    assert "OK" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "forward",
    [layers.spatial_batchnorm_forward, spatial_batchnorm_forward_staged],
    ids=["reference", "staged"],
)
@references_allowed()  # the course's own reference is the right answer
def test_check_spatial_batchnorm_forward_passes(forward, capsys):
    check_spatial_batchnorm_forward(forward)
    out = capsys.readouterr().out
    assert out.startswith("OK spatial_batchnorm_forward:")
    assert out.count("\n") == 1


# ---------------------------------------------------------------------------
# spatial_batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta); cache from the staged forward
# ---------------------------------------------------------------------------


def spatial_batchnorm_backward_staged(dout, cache):
    """The correct backward through the staged graph, with M = N*H*W values per channel."""
    mode, x, mean, var, eps, g, x_hat = cache
    N, C, H, W = x.shape
    M = N * H * W
    dbeta = dout.sum(axis=(0, 2, 3))
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3))
    dx_hat = dout * g
    if mode == "test":
        return dx_hat / np.sqrt(var + eps), dgamma, dbeta
    dvar = np.sum(dx_hat * (x - mean) * -0.5 * (var + eps) ** -1.5, axis=(0, 2, 3), keepdims=True)
    dmean = np.sum(-dx_hat / np.sqrt(var + eps), axis=(0, 2, 3), keepdims=True)
    dx = dx_hat / np.sqrt(var + eps) + dvar * 2 * (x - mean) / M + dmean / M
    return dx, dgamma, dbeta


# Treats the batch statistics as constants: only the direct path through x_hat.
def spatial_batchnorm_backward_statistics_as_constants(dout, cache):
    mode, x, mean, var, eps, g, x_hat = cache
    dx = dout * g / np.sqrt(var + eps)
    return dx, (dout * x_hat).sum(axis=(0, 2, 3)), dout.sum(axis=(0, 2, 3))


# Divides by the batch size N where each channel has N*H*W values.
def spatial_batchnorm_backward_count_is_n(dout, cache):
    mode, x, mean, var, eps, g, x_hat = cache
    N = x.shape[0]
    dx_hat = dout * g
    dgamma, dbeta = (dout * x_hat).sum(axis=(0, 2, 3)), dout.sum(axis=(0, 2, 3))
    if mode == "test":
        return dx_hat / np.sqrt(var + eps), dgamma, dbeta
    dvar = np.sum(dx_hat * (x - mean) * -0.5 * (var + eps) ** -1.5, axis=(0, 2, 3), keepdims=True)
    dmean = np.sum(-dx_hat / np.sqrt(var + eps), axis=(0, 2, 3), keepdims=True)
    dx = dx_hat / np.sqrt(var + eps) + dvar * 2 * (x - mean) / N + dmean / N
    return dx, dgamma, dbeta


# dgamma summed over the batch only, as in the fully connected layer: shape (C, H, W).
def spatial_batchnorm_backward_dgamma_per_position(dout, cache):
    dx, _, dbeta = spatial_batchnorm_backward_staged(dout, cache)
    x_hat = cache[-1]
    return dx, (dout * x_hat).sum(axis=0), dbeta


# dbeta summed over the batch only.
def spatial_batchnorm_backward_dbeta_per_position(dout, cache):
    dx, dgamma, _ = spatial_batchnorm_backward_staged(dout, cache)
    return dx, dgamma, dout.sum(axis=0)


# Reshapes dout and x_hat to (N*H*W, C) without moving C last, then uses the row formula.
def spatial_batchnorm_backward_reshape_without_transpose(dout, cache):
    mode, x, mean, var, eps, g, x_hat = cache
    N, C, H, W = x.shape
    d_rows, x_hat_rows = dout.reshape(-1, C), x_hat.reshape(-1, C)
    M = d_rows.shape[0]
    dbeta, dgamma = d_rows.sum(axis=0), (d_rows * x_hat_rows).sum(axis=0)
    inv_std = 1 / np.sqrt(var.ravel() + eps)
    if mode == "test":
        dx_rows = d_rows * g.ravel() * inv_std
    else:
        dx_rows = (g.ravel() * inv_std / M) * (M * d_rows - dbeta - x_hat_rows * dgamma)
    return dx_rows.reshape(N, C, H, W), dgamma, dbeta


# Moves C last for the row formula, but reshapes dx straight back to (N, C, H, W).
def spatial_batchnorm_backward_not_transposed_back(dout, cache):
    mode, x, mean, var, eps, g, x_hat = cache
    N, C, H, W = x.shape
    d_rows = dout.transpose(0, 2, 3, 1).reshape(-1, C)
    x_hat_rows = x_hat.transpose(0, 2, 3, 1).reshape(-1, C)
    M = d_rows.shape[0]
    dbeta, dgamma = d_rows.sum(axis=0), (d_rows * x_hat_rows).sum(axis=0)
    inv_std = 1 / np.sqrt(var.ravel() + eps)
    if mode == "test":
        dx_rows = d_rows * g.ravel() * inv_std
    else:
        dx_rows = (g.ravel() * inv_std / M) * (M * d_rows - dbeta - x_hat_rows * dgamma)
    return dx_rows.reshape(N, C, H, W), dgamma, dbeta


# Uses the train-mode formula whatever the mode.
def spatial_batchnorm_backward_ignores_mode(dout, cache):
    mode, *rest = cache
    return spatial_batchnorm_backward_staged(dout, ("train", *rest))


# Scales dout by gamma in place to get dx_hat.
def spatial_batchnorm_backward_scales_dout_in_place(dout, cache):
    mode, x, mean, var, eps, g, x_hat = cache
    M = dout.size // dout.shape[1]
    dgamma, dbeta = (dout * x_hat).sum(axis=(0, 2, 3)), dout.sum(axis=(0, 2, 3))
    dout *= g  # now dx_hat
    inv_std = 1 / np.sqrt(var + eps)
    if mode == "test":
        return dout * inv_std, dgamma, dbeta
    sum_dx_hat = dout.sum(axis=(0, 2, 3), keepdims=True)
    sum_dx_hat_x_hat = (dout * x_hat).sum(axis=(0, 2, 3), keepdims=True)
    dx = inv_std / M * (M * dout - sum_dx_hat - x_hat * sum_dx_hat_x_hat)
    return dx, dgamma, dbeta


# Computes in float64 "for accuracy" and never casts back: float32 in, float64 out.
def spatial_batchnorm_backward_float64(dout, cache):
    mode, x, mean, var, eps, g, x_hat = cache
    as64 = [np.asarray(v, dtype=np.float64) for v in (x, mean, var, g, x_hat)]
    x, mean, var, g, x_hat = as64
    return spatial_batchnorm_backward_staged(
        dout.astype(np.float64), (mode, x, mean, var, eps, g, x_hat)
    )


# Returns (dx, dbeta, dgamma).
def spatial_batchnorm_backward_wrong_order(dout, cache):
    dx, dgamma, dbeta = spatial_batchnorm_backward_staged(dout, cache)
    return dx, dbeta, dgamma


# The released stub.
def spatial_batchnorm_backward_not_implemented(dout, cache):
    raise NotImplementedError


SPATIAL_BATCHNORM_BACKWARD_MISTAKES = [
    pytest.param(
        spatial_batchnorm_backward_statistics_as_constants,
        r"dx \(train\) is wrong: relative error.* Hint: .*you treated them as constants",
        id="statistics-as-constants",
    ),
    pytest.param(
        spatial_batchnorm_backward_count_is_n,
        r"dx \(train\) is wrong: relative error .* divide by N\*H\*W, not N",
        id="count-is-n-not-nhw",
    ),
    pytest.param(
        spatial_batchnorm_backward_dgamma_per_position,
        r"dgamma \(train\) has the wrong shape: got \(3, 3, 4\), expected \(3,\)",
        id="dgamma-per-position",
    ),
    pytest.param(
        spatial_batchnorm_backward_dbeta_per_position,
        r"dbeta \(train\) has the wrong shape: got \(3, 3, 4\), expected \(3,\)",
        id="dbeta-per-position",
    ),
    pytest.param(
        spatial_batchnorm_backward_reshape_without_transpose,
        r"dx \(train\) is wrong: relative error",
        id="reshape-without-transpose",
    ),
    pytest.param(
        spatial_batchnorm_backward_not_transposed_back,
        r"dx \(train\) is wrong: relative error",
        id="not-transposed-back",
    ),
    pytest.param(
        spatial_batchnorm_backward_ignores_mode,
        r"dx \(test\) is wrong: relative error .* running mean and variance are constants",
        id="train-formula-in-test-mode",
    ),
    pytest.param(
        spatial_batchnorm_backward_scales_dout_in_place,
        r"changed its input argument 1 in place",
        id="dout-times-equals-gamma",
    ),
    pytest.param(
        spatial_batchnorm_backward_float64,
        r"dx \(float32\) has dtype float64 for float32 inputs",
        id="float64-upcast",
    ),
    pytest.param(
        spatial_batchnorm_backward_wrong_order,
        r"dgamma \(train\) is wrong: relative error",
        id="wrong-order",
    ),
    pytest.param(
        spatial_batchnorm_backward_not_implemented,
        r"spatial_batchnorm_backward_not_implemented is not implemented yet",
        id="not-implemented",
    ),
]


@pytest.mark.parametrize("student, expected", SPATIAL_BATCHNORM_BACKWARD_MISTAKES)
def test_check_spatial_batchnorm_backward_fails(student, expected, capsys):
    with pytest.raises(CheckFailed, match=expected) as failure:
        check_spatial_batchnorm_backward(spatial_batchnorm_forward_staged, student)
    assert str(failure.value).startswith("spatial_batchnorm_backward: ")
    assert "OK" not in capsys.readouterr().out


@pytest.mark.parametrize(
    "forward, backward",
    [
        (layers.spatial_batchnorm_forward, layers.spatial_batchnorm_backward),
        (spatial_batchnorm_forward_staged, spatial_batchnorm_backward_staged),
    ],
    ids=["reference", "staged"],
)
@references_allowed()  # the course's own reference is the right answer
def test_check_spatial_batchnorm_backward_passes(forward, backward, capsys):
    check_spatial_batchnorm_backward(forward, backward)
    out = capsys.readouterr().out
    assert out.startswith("OK spatial_batchnorm_backward:")
    assert out.count("\n") == 1


@pytest.mark.parametrize(
    "catalogue",
    [SPATIAL_BATCHNORM_FORWARD_MISTAKES, SPATIAL_BATCHNORM_BACKWARD_MISTAKES],
    ids=["spatial_batchnorm_forward", "spatial_batchnorm_backward"],
)
def test_spatial_catalogue_is_large_and_distinct(catalogue):
    functions = [param.values[0] for param in catalogue]
    assert len(functions) >= 8
    assert len(set(functions)) == len(functions)
    assert len({param.id for param in catalogue}) == len(catalogue)
