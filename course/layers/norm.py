"""Batch normalisation for fully connected layers (Ioffe and Szegedy, 2015)."""

from __future__ import annotations

import numpy as np

from course.layers._validation import (
    validate_batchnorm_inputs,
    validate_spatial_batchnorm_inputs,
)
from course.validation import require_dout


def batchnorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, bn_param: dict
) -> tuple[np.ndarray, tuple]:
    r"""Batch normalisation over the batch axis.

    Training normalises each feature with the statistics of the batch and
    updates exponential running averages of them; testing uses the running
    averages, so an example's output does not depend on its batch:

    .. math::
        \mu = \frac{1}{N}\sum_i x_i, \quad \sigma^2 = \frac{1}{N}\sum_i (x_i - \mu)^2, \quad
        \hat x_i = \frac{x_i - \mu}{\sqrt{\sigma^2 + \epsilon}}, \quad
        y_i = \gamma \hat x_i + \beta

    ``running = momentum * running + (1 - momentum) * batch_statistic``.

    Inputs:
    - x: (N, D) data
    - gamma: (D,) scale
    - beta: (D,) shift
    - bn_param: the layer's explicit state dict
      - 'mode': 'train' or 'test' (required)
      - 'eps': added to the variance, default 1e-5
      - 'momentum': of the running averages, default 0.9
      - 'running_mean', 'running_var': (D,) running averages; zeros and ones
        when absent. In train mode these two keys are *replaced* by new arrays
        holding the updated averages: this is the one documented side effect,
        the layer's state; x, gamma, beta and the old arrays are never changed.

    Returns:
    - out: (N, D)
    - cache: what the backward pass needs
    """
    mode, eps, momentum = validate_batchnorm_inputs(x, gamma, beta, bn_param)
    D = x.shape[1]
    running_mean = bn_param.get("running_mean", np.zeros(D, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.ones(D, dtype=x.dtype))

    if mode == "train":
        mean = x.mean(axis=0)  # (D,)
        var = x.var(axis=0)  # (D,)
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
    else:
        mean, var = running_mean, running_var
    inv_std = 1.0 / np.sqrt(var + eps)  # (D,)
    x_hat = (x - mean) * inv_std  # (N, D)
    out = gamma * x_hat + beta
    return out.astype(x.dtype, copy=False), (mode, x_hat, gamma, inv_std)


def batchnorm_backward(
    dout: np.ndarray, cache: tuple
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Backward pass of :func:`batchnorm_forward`.

    In train mode the mean and variance depend on every example, so the
    gradient has three terms; simplified on paper it reads

    .. math::
        \frac{\partial L}{\partial x_i} = \frac{\gamma}{N\sqrt{\sigma^2+\epsilon}}
        \Big(N g_i - \sum_j g_j - \hat x_i \sum_j g_j \hat x_j\Big), \quad g = dout

    In test mode the statistics are constants and ``dx = gamma * inv_std * dout``.

    Inputs:
    - dout: (N, D) upstream gradient
    - cache: from the forward pass

    Returns:
    - dx: (N, D); dgamma: (D,); dbeta: (D,)
    """
    mode, x_hat, gamma, inv_std = cache
    require_dout("batchnorm_backward", dout, x_hat.shape)
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)  # (D,)
    dgamma = (dout * x_hat).sum(axis=0)  # (D,)
    if mode == "test":
        return dout * gamma * inv_std, dgamma, dbeta
    dx = (gamma * inv_std / N) * (N * dout - dbeta - x_hat * dgamma)  # (N, D)
    return dx, dgamma, dbeta


def spatial_batchnorm_forward(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, bn_param: dict
) -> tuple[np.ndarray, tuple]:
    """Batch normalisation for convolutional layers: one mean and variance per channel.

    A channel's statistics are taken over the batch *and* every spatial
    position (N*H*W values), so each feature map is normalised as a whole.
    The result equals :func:`batchnorm_forward` on x viewed as (N*H*W, C)
    rows; it is computed on the (N, C, H, W) array directly, without the two
    transposes that view would cost.

    Inputs:
    - x: (N, C, H, W) data
    - gamma: (C,) scale; beta: (C,) shift
    - bn_param: the state dict of :func:`batchnorm_forward`, with (C,) running averages

    Returns:
    - out: (N, C, H, W)
    - cache: what the backward pass needs
    """
    mode, eps, momentum = validate_spatial_batchnorm_inputs(x, gamma, beta, bn_param)
    C = x.shape[1]
    if mode == "train":
        mean = x.mean(axis=(0, 2, 3))  # (C,)
        centred = x - mean[:, None, None]  # (N, C, H, W)
        var = np.square(centred).mean(axis=(0, 2, 3))  # (C,)
        running_mean = bn_param.get("running_mean", np.zeros(C, dtype=x.dtype))
        running_var = bn_param.get("running_var", np.ones(C, dtype=x.dtype))
        bn_param["running_mean"] = momentum * running_mean + (1 - momentum) * mean
        bn_param["running_var"] = momentum * running_var + (1 - momentum) * var
    else:
        mean = bn_param.get("running_mean", np.zeros(C, dtype=x.dtype))
        var = bn_param.get("running_var", np.ones(C, dtype=x.dtype))
        centred = x - mean[:, None, None]
    inv_std = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)  # (C,)
    x_hat = centred * inv_std[:, None, None]  # (N, C, H, W)
    out = x_hat * gamma[:, None, None] + beta[:, None, None]
    return out.astype(x.dtype, copy=False), (mode, x_hat, gamma, inv_std)


def spatial_batchnorm_backward(
    dout: np.ndarray, cache: tuple
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of :func:`spatial_batchnorm_forward`.

    The formula of :func:`batchnorm_backward` with M = N*H*W values per channel.

    Inputs:
    - dout: (N, C, H, W) upstream gradient
    - cache: from the forward pass

    Returns:
    - dx: (N, C, H, W); dgamma: (C,); dbeta: (C,)
    """
    mode, x_hat, gamma, inv_std = cache
    require_dout("spatial_batchnorm_backward", dout, x_hat.shape)
    N, C, H, W = x_hat.shape
    dbeta = dout.sum(axis=(0, 2, 3))  # (C,)
    dgamma = (dout * x_hat).sum(axis=(0, 2, 3))  # (C,)
    scale = (gamma * inv_std)[:, None, None]  # (C, 1, 1)
    if mode == "test":
        return dout * scale, dgamma, dbeta
    M = N * H * W
    dx = (scale / M) * (M * dout - dbeta[:, None, None] - x_hat * dgamma[:, None, None])
    return dx, dgamma, dbeta
