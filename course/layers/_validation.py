"""Input validation of the layers, kept apart so that each layer reads as its maths.

Every public layer function makes one call into this module; the helper
checks types, shapes and parameter dicts and raises an error that says what
was expected, what was given and what to do (STYLE conventions 6 and 11).
The general helpers that every package uses (``as_float_array``,
``require_dout``, ...) live in :mod:`course.validation`; the validators of
the sequence layers (``rnn``, ``fused_rnn``, ``temporal``) in
:mod:`course.layers._sequence_validation`.

Names: ``validate_*`` checks the inputs of one layer (and returns the sizes
it derived), ``read_*`` returns the checked entries of a parameter dict,
``require_*`` checks one value.
"""

from __future__ import annotations

import numpy as np

from course.validation import (
    as_float_array,
    format_shape,
    is_positive_finite,
    is_real_number,
    require_dout,
    require_examples,
    require_labels,
    require_ndim,
    require_positive_int,
)

# ----------------------------------------------------------------------------- fc, losses


def validate_affine_inputs(func: str, x: object, w: object, b: object) -> None:
    """x (N, d_1, ..., d_k) flattens to rows of D = w.shape[0]; w (D, M); b (M,)."""
    for name, value in (("x", x), ("w", w), ("b", b)):
        as_float_array(func, name, value)
    require_ndim(func, "w", w, 2, "(D, M)")
    require_ndim(func, "b", b, 1, "(M,)")
    if x.ndim < 2:
        raise ValueError(
            f"{func}: x has shape {format_shape(x.shape)}; expected a batch (N, d_1, ..., d_k) "
            "with at least 2 dims. For a single example use x[None]"
        )
    require_examples(func, "x", x)
    D = int(np.prod(x.shape[1:]))
    if D != w.shape[0]:
        raise ValueError(
            f"{func}: x of shape {format_shape(x.shape)} flattens to rows of D={D}, "
            f"but w has shape {format_shape(w.shape)} and expects D={w.shape[0]}"
        )
    if b.shape[0] != w.shape[1]:
        raise ValueError(
            f"{func}: b has shape {format_shape(b.shape)}; expected ({w.shape[1]},) to match "
            f"w of shape {format_shape(w.shape)}"
        )


def validate_loss_inputs(func: str, x: object, y: object) -> None:
    """x (N, C) float class scores with N > 0; y (N,) integer labels in [0, C)."""
    as_float_array(func, "x", x)
    require_ndim(func, "x", x, 2, "(N, C) class scores")
    if x.shape[0] == 0:
        raise ValueError(f"{func}: x has no rows; the loss of an empty batch is undefined")
    require_labels(func, y, x.shape[0], x.shape[1])


# ----------------------------------------------------------------------------- dropout

_DROPOUT_KEYS = {"p", "mode", "seed"}


def validate_dropout_inputs(x: object, dropout_param: object) -> tuple[float, str]:
    """Check x and dropout_param; return ``(p, mode)``."""
    as_float_array("dropout_forward", "x", x)
    if not isinstance(dropout_param, dict):
        raise TypeError(
            "dropout_forward: dropout_param must be a dict like {'p': 0.5, 'mode': 'train'}, "
            f"got {type(dropout_param).__name__}"
        )
    unknown = set(dropout_param) - _DROPOUT_KEYS
    if unknown:
        raise ValueError(
            f"dropout_forward: unknown dropout_param keys {sorted(unknown)}; "
            f"valid keys are {sorted(_DROPOUT_KEYS)}"
        )
    p = dropout_param.get("p")
    mode = dropout_param.get("mode", "train")
    if p is None or not 0 < p <= 1:
        raise ValueError(f"dropout_forward: 'p' is the keep probability, 0 < p <= 1; got {p!r}")
    if mode not in ("train", "test"):
        raise ValueError(f"dropout_forward: 'mode' must be 'train' or 'test', got {mode!r}")
    return float(p), mode


def validate_dropout_dout(dout: object, mask: np.ndarray | None) -> None:
    """dout is a float array; in training (a mask was drawn) it is shaped like the mask."""
    if mask is None:
        as_float_array("dropout_backward", "dout", dout)
    else:
        require_dout("dropout_backward", dout, mask.shape)


# ----------------------------------------------------------------------------- batchnorm

_BN_KEYS = {"mode", "eps", "momentum", "running_mean", "running_var"}


def validate_batchnorm_inputs(
    x: object, gamma: object, beta: object, bn_param: object
) -> tuple[str, float, float]:
    """x (N, D), gamma and beta (D,), a valid bn_param; return ``(mode, eps, momentum)``."""
    func = "batchnorm_forward"
    mode, eps, momentum = read_bn_param(func, bn_param)
    _require_bn_arrays(func, x, gamma, beta, "(N, D)", " for")
    _require_running_averages(func, bn_param, x.shape[1])
    if mode == "train" and x.shape[0] < 2:
        raise ValueError(
            f"{func}: training needs a batch of at least 2 rows to estimate a variance; "
            f"x has shape {format_shape(x.shape)}"
        )
    return mode, eps, momentum


def validate_spatial_batchnorm_inputs(
    x: object, gamma: object, beta: object, bn_param: object
) -> tuple[str, float, float]:
    """x (N, C, H, W), gamma and beta (C,), a valid bn_param; return ``(mode, eps, momentum)``."""
    func = "spatial_batchnorm_forward"
    mode, eps, momentum = read_bn_param(func, bn_param)
    _require_bn_arrays(func, x, gamma, beta, "(N, C, H, W)", ", one per channel of")
    _require_running_averages(func, bn_param, x.shape[1])
    N, _, H, W = x.shape
    if mode == "train" and N * H * W < 2:
        raise ValueError(
            f"{func}: training needs at least 2 values per channel to estimate a "
            f"variance; x has shape {format_shape(x.shape)}"
        )
    return mode, eps, momentum


def read_bn_param(func: str, bn_param: object) -> tuple[str, float, float]:
    """Return ``(mode, eps, momentum)`` from a batchnorm state dict, checked."""
    if not isinstance(bn_param, dict):
        raise TypeError(
            f"{func}: bn_param must be a dict like {{'mode': 'train'}}, "
            f"got {type(bn_param).__name__}"
        )
    unknown = set(bn_param) - _BN_KEYS
    if unknown:
        raise ValueError(
            f"{func}: unknown bn_param keys {sorted(unknown)}; valid keys are {sorted(_BN_KEYS)}"
        )
    mode = bn_param.get("mode")
    if mode not in ("train", "test"):
        raise ValueError(f"{func}: bn_param['mode'] must be 'train' or 'test', got {mode!r}")
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    if not is_positive_finite(eps):
        raise ValueError(
            f"{func}: bn_param['eps'] must be a small positive number (default 1e-5); "
            f"got {eps!r}. It keeps sqrt(var + eps) away from zero"
        )
    if not (is_real_number(momentum) and 0 <= momentum <= 1):
        raise ValueError(
            f"{func}: bn_param['momentum'] must be a number in [0, 1] (default 0.9), the "
            f"weight of the old running average; got {momentum!r}"
        )
    return mode, float(eps), float(momentum)


def _require_bn_arrays(func: str, x, gamma, beta, dims: str, per: str) -> None:
    """x is a float array with the axes ``dims``; gamma and beta hold one number per feature."""
    for name, value in (("x", x), ("gamma", gamma), ("beta", beta)):
        as_float_array(func, name, value)
    require_ndim(func, "x", x, dims.count(",") + 1, dims)
    size = x.shape[1]
    for name, value in (("gamma", gamma), ("beta", beta)):
        if value.shape != (size,):
            raise ValueError(
                f"{func}: {name} has shape {format_shape(value.shape)}; expected ({size},)"
                f"{per} x of shape {format_shape(x.shape)}"
            )


def _require_running_averages(func: str, bn_param: dict, size: int) -> None:
    """The running averages in bn_param, where present, hold one number per feature."""
    for key in ("running_mean", "running_var"):
        value = bn_param.get(key)
        if value is not None and np.shape(value) != (size,):
            raise ValueError(
                f"{func}: bn_param['{key}'] has shape {format_shape(np.shape(value))}; "
                f"expected ({size},), one per feature of x. Was this bn_param made for "
                f"another layer? Give each batchnorm layer its own dict"
            )


# ----------------------------------------------------------------------------- convolution


def validate_conv_inputs(
    func: str, x: object, w: object, b: object, conv_param: object
) -> tuple[int, int, int, int]:
    """Validate a convolution's inputs; return ``(stride, pad, H_out, W_out)``."""
    for name, value in (("x", x), ("w", w), ("b", b)):
        as_float_array(func, name, value)
    require_ndim(func, "x", x, 4, "(N, C, H, W)")
    require_ndim(func, "w", w, 4, "(F, C, HH, WW)")
    stride, pad = read_conv_param(func, conv_param)
    H_out, W_out = _conv_output_size(func, x.shape, w.shape, b.shape, stride, pad)
    return stride, pad, H_out, W_out


def validate_conv_dout(
    func: str, dout: object, x_shape: tuple, w_shape: tuple, conv_param: object
) -> tuple[int, int]:
    """Check dout against the convolution's output shape; return ``(stride, pad)``."""
    stride, pad = read_conv_param(func, conv_param)
    (N, _, H, W), (F, _, HH, WW) = x_shape, w_shape
    H_out, W_out = 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride
    require_dout(func, dout, (N, F, H_out, W_out))
    return stride, pad


def read_conv_param(func: str, conv_param: object) -> tuple[int, int]:
    """Return ``(stride, pad)`` from a ``{'stride': s, 'pad': p}`` dict, checked."""
    if not isinstance(conv_param, dict):
        raise TypeError(
            f"{func}: conv_param must be a dict like {{'stride': 1, 'pad': 1}}, "
            f"got {type(conv_param).__name__}"
        )
    unknown = set(conv_param) - {"stride", "pad"}
    missing = {"stride", "pad"} - set(conv_param)
    if unknown or missing:
        raise ValueError(
            f"{func}: conv_param needs exactly the keys 'stride' and 'pad'; "
            f"missing {sorted(missing)}, unknown {sorted(unknown)}"
        )
    stride = require_positive_int(func, "conv_param['stride']", conv_param["stride"])
    pad = require_positive_int(func, "conv_param['pad']", conv_param["pad"], allow_zero=True)
    return stride, pad


def _conv_output_size(
    func: str, x_shape: tuple, w_shape: tuple, b_shape: tuple, stride: int, pad: int
) -> tuple[int, int]:
    """Check the shapes of a convolution and return ``(H_out, W_out)``.

    The window must fit in the padded input and the stride must tile it
    exactly: ``(H + 2*pad - HH) % stride == 0``, and the same for widths.
    """
    N, C, H, W = x_shape
    F, C_w, HH, WW = w_shape
    if C_w != C:
        raise ValueError(
            f"{func}: w has shape {format_shape(w_shape)} with {C_w} channels, but x has shape "
            f"{format_shape(x_shape)} with C={C}; w must be (F, C, HH, WW)"
        )
    if b_shape != (F,):
        raise ValueError(
            f"{func}: b has shape {format_shape(b_shape)}; expected ({F},), one bias per filter"
        )
    for side, size, kernel in (("height", H, HH), ("width", W, WW)):
        padded = size + 2 * pad
        if kernel > padded:
            raise ValueError(
                f"{func}: the kernel {side} {kernel} (w of shape {format_shape(w_shape)}) is "
                f"larger than the padded input {side} {size} + 2*{pad} = {padded} "
                f"(x of shape {format_shape(x_shape)})"
            )
        if (padded - kernel) % stride:
            raise ValueError(
                f"{func}: stride {stride} does not tile the input {side}: "
                f"({size} + 2*{pad} - {kernel}) = {padded - kernel} is not a multiple of "
                f"{stride} (x of shape {format_shape(x_shape)}, w of shape "
                f"{format_shape(w_shape)}); change pad or stride"
            )
    return 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride


# ----------------------------------------------------------------------------- max pooling

_POOL_KEYS = ("pool_height", "pool_width", "stride")


def validate_pool_inputs(
    func: str, x: object, pool_param: object
) -> tuple[int, int, int, int, int]:
    """Validate a max pool's inputs; return ``(pool_height, pool_width, stride, H_out, W_out)``."""
    as_float_array(func, "x", x)
    require_ndim(func, "x", x, 4, "(N, C, H, W)")
    ph, pw, stride = read_pool_param(func, pool_param)
    H, W = x.shape[2:]
    for side, size, pool in (("height", H, ph), ("width", W, pw)):
        if pool > size:
            raise ValueError(
                f"{func}: pool_{side} {pool} is larger than the input {side} {size} "
                f"(x of shape {format_shape(x.shape)})"
            )
        if (size - pool) % stride:
            raise ValueError(
                f"{func}: stride {stride} does not tile the input {side}: "
                f"{size} - {pool} = {size - pool} is not a multiple of {stride} "
                f"(x of shape {format_shape(x.shape)})"
            )
    return ph, pw, stride, 1 + (H - ph) // stride, 1 + (W - pw) // stride


def validate_pool_dout(
    func: str, dout: object, x: object, pool_param: object
) -> tuple[int, int, int, int, int]:
    """Check the cached x and pool_param, then dout; return as :func:`validate_pool_inputs`."""
    ph, pw, stride, H_out, W_out = validate_pool_inputs(func, x, pool_param)
    require_dout(func, dout, (*x.shape[:2], H_out, W_out))
    return ph, pw, stride, H_out, W_out


def read_pool_param(func: str, pool_param: object) -> tuple[int, int, int]:
    """Return ``(pool_height, pool_width, stride)`` from a pool_param dict, checked."""
    if not isinstance(pool_param, dict):
        raise TypeError(
            f"{func}: pool_param must be a dict like "
            f"{{'pool_height': 2, 'pool_width': 2, 'stride': 2}}, got {type(pool_param).__name__}"
        )
    unknown = set(pool_param) - set(_POOL_KEYS)
    missing = set(_POOL_KEYS) - set(pool_param)
    if unknown or missing:
        raise ValueError(
            f"{func}: pool_param needs exactly the keys {list(_POOL_KEYS)}; "
            f"missing {sorted(missing)}, unknown {sorted(unknown)}"
        )
    ph, pw, stride = (
        require_positive_int(func, f"pool_param[{k!r}]", pool_param[k]) for k in _POOL_KEYS
    )
    return ph, pw, stride


# ----------------------------------------------------------------------------- fast layers


def require_fast_cache(
    func: str, cache: object, size: int, forward: str, naive_backward: str
) -> None:
    """Refuse a cache that ``forward`` did not make (the naive layer's, say), naming both."""
    if not (isinstance(cache, tuple) and len(cache) == size):
        raise TypeError(
            f"{func}: cache must be the cache returned by {forward} "
            f"(the naive layer's cache goes to {naive_backward})"
        )


def validate_conv_fast_dout(dout: object, cache: object) -> None:
    """The cache came from ``conv_forward_fast`` and dout is shaped like its output."""
    func = "conv_backward_fast"
    require_fast_cache(func, cache, 7, "conv_forward_fast", "conv_backward_naive")
    (N, _, H, W), (F, _, HH, WW), _, _, stride, pad, _ = cache
    H_out, W_out = 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride
    require_dout(func, dout, (N, F, H_out, W_out))


def validate_pool_fast_dout(dout: object, cache: object) -> None:
    """The cache came from ``max_pool_forward_fast`` and dout is shaped like its output."""
    func = "max_pool_backward_fast"
    require_fast_cache(func, cache, 3, "max_pool_forward_fast", "max_pool_backward_naive")
    require_dout(func, dout, cache[2].shape)  # argmax is (N, C, H_out, W_out), like out
