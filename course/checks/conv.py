"""Checks for the convolutional exercises: naive convolution, max pooling, spatial batch norm.

Every case uses non-square inputs and kernels (so a swapped height and width
shows), a stride above 1 with padding and a stride of 1, and a float32 run
whose outputs must stay float32. Max pooling is also checked on overlapping
windows and on tied maxima, where the gradient must go to the first maximum
of each window only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course import layers
from course.checks.core import (
    GRAD_TOL,
    VALUE_TOL,
    CheckFailed,
    call_student,
    check_layer_backward,
    compare,
    expect_tuple,
    report,
)
from course.checks.norm import BatchnormHints, compare_batchnorm_modes
from course.gradcheck import rel_error

FLOAT32_TOL = 1e-5  # float32 outputs against the reference computed in float32

# ---------------------------------------------------------------------------
# Convolution
# ---------------------------------------------------------------------------

# (label, x shape (N, C, H, W), w shape (F, C, HH, WW), conv_param); non-square
# everywhere, and H_out != W_out, so a swapped height and width cannot pass.
_CONV_CASES = (
    ("stride 1, pad 1", (2, 2, 4, 6), (3, 2, 3, 2), {"stride": 1, "pad": 1}),  # out (2, 3, 4, 7)
    ("stride 2, pad 1", (2, 3, 5, 8), (4, 3, 3, 2), {"stride": 2, "pad": 1}),  # out (2, 4, 3, 5)
)
_CONV_FLOAT32_CASE = (
    "float32, stride 3, pad 0",
    (2, 2, 7, 8),
    (3, 2, 4, 2),
    {"stride": 3, "pad": 0},
)  # out (2, 3, 2, 3)
# The same kinds of case, smaller (each numerical gradient runs the loop forward
# twice per input entry), and one without padding.
_CONV_BACKWARD_CASES = (
    ("stride 2, pad 1", (2, 2, 5, 6), (3, 2, 3, 2), {"stride": 2, "pad": 1}),  # out (2, 3, 3, 4)
    ("stride 1, pad 1", (2, 2, 4, 5), (2, 2, 3, 2), {"stride": 1, "pad": 1}),  # out (2, 2, 4, 6)
    ("stride 1, pad 0", (2, 2, 3, 4), (2, 2, 2, 3), {"stride": 1, "pad": 0}),  # out (2, 2, 2, 2)
)
_CONV_FORWARD_HINT = (
    "pad x (not the output) with pad zeros on its two spatial axes only; "
    "H_out = 1 + (H + 2*pad - HH) // stride, W_out = 1 + (W + 2*pad - WW) // stride; "
    "out[n, f, i, j] = sum(x_pad[n, :, i*stride:i*stride+HH, j*stride:j*stride+WW] * w[f]) + b[f]"
)
_CONV_BACKWARD_HINTS = {
    "dx": "each out[n, f, i, j] sends dout[n, f, i, j] * w[f] back to the window of x_pad it "
    "saw, with += since windows overlap, stepping by the forward's stride; then crop the "
    "padding: dx = dx_pad[:, :, pad:pad+H, pad:pad+W]",
    "dw": "dw[f] += dout[n, f, i, j] * x_pad[n, :, i*stride:i*stride+HH, j*stride:j*stride+WW], "
    "summed over every example n and every output position (i, j)",
    "db": "db sums dout over the batch and both spatial axes: dout.sum(axis=(0, 2, 3)), "
    "shape (F,)",
}


def _conv_inputs(
    seed: int, x_shape: tuple, w_shape: tuple, dtype=np.float64
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape).astype(dtype)  # (N, C, H, W)
    w = rng.standard_normal(w_shape).astype(dtype)  # (F, C, HH, WW)
    b = rng.standard_normal(w_shape[0]).astype(dtype)  # (F,)
    return x, w, b


def check_conv_forward_naive(conv_forward_naive: Callable) -> None:
    """Check ``conv_forward_naive(x, w, b, conv_param) -> (out, cache)``.

    Two float64 cases (stride 1 with pad 1, and stride 2 with pad 1) with
    non-square inputs and kernels, and a float32 case (stride 3, no padding)
    whose output must stay float32. A flipped kernel (a true convolution) or
    padding added to the output instead of the input gets a hint that names it.
    """
    name = "conv_forward_naive"
    errors, tols = {}, {}
    cases = [(*case, np.float64) for case in _CONV_CASES] + [(*_CONV_FLOAT32_CASE, np.float32)]
    for seed, (label, x_shape, w_shape, conv_param, dtype) in enumerate(cases, start=20):
        x, w, b = _conv_inputs(seed, x_shape, w_shape, dtype)
        result = call_student(name, conv_forward_naive, x, w, b, dict(conv_param))
        out, _ = expect_tuple(name, result, ("out", "cache"), name)
        expected, _ = layers.conv_forward_naive(x, w, b, dict(conv_param))
        flipped, _ = layers.conv_forward_naive(x, w[:, :, ::-1, ::-1], b, dict(conv_param))
        pad = conv_param["pad"]
        unpadded, _ = layers.conv_forward_naive(
            x, w, b, {"stride": conv_param["stride"], "pad": 0}
        )
        output_padded = np.pad(unpadded, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        suspects = [
            (
                flipped,
                "the output matches a true convolution, with the filter flipped; the layer "
                "computes a cross-correlation: multiply each window by w[f] as it is",
            ),
            (
                output_padded,
                "the output matches a convolution without padding whose output was then "
                "padded with zeros; pad the input x before sliding the filter over it",
            ),
        ]
        output = f"out ({label})"
        tols[output] = VALUE_TOL if dtype == np.float64 else FLOAT32_TOL
        errors[output] = _compare_diagnosed(
            name, output, out, expected, tols[output], _CONV_FORWARD_HINT, dtype, suspects
        )
    report(name, errors, tols)


def check_conv_backward_naive(conv_forward_naive: Callable, conv_backward_naive: Callable) -> None:
    """Check ``conv_backward_naive(dout, cache) -> (dx, dw, db)`` against numerical gradients.

    The gradients are checked with stride 2 and pad 1, stride 1 and pad 1,
    and stride 1 without padding (non-square inputs and kernels throughout),
    then in float32 against the reference backward, where they must stay float32.
    """
    name = "conv_backward_naive"
    errors, tols = {}, {}
    for seed, (label, x_shape, w_shape, conv_param) in enumerate(_CONV_BACKWARD_CASES, start=30):
        x, w, b = _conv_inputs(seed, x_shape, w_shape)
        case_errors = check_layer_backward(
            name,
            conv_forward_naive,
            conv_backward_naive,
            layers.conv_forward_naive,
            (x, w, b, dict(conv_param)),
            _CONV_BACKWARD_HINTS,
            seed=seed,
            label=f" ({label})",
        )
        errors |= case_errors
        tols |= dict.fromkeys(case_errors, GRAD_TOL)
    label, x_shape, w_shape, conv_param = _CONV_BACKWARD_CASES[0]
    case_errors = _check_float32_backward(
        name,
        conv_forward_naive,
        conv_backward_naive,
        layers.conv_forward_naive,
        layers.conv_backward_naive,
        (*_conv_inputs(32, x_shape, w_shape, np.float32), dict(conv_param)),
        _CONV_BACKWARD_HINTS,
    )
    errors |= case_errors
    tols |= dict.fromkeys(case_errors, FLOAT32_TOL)
    report(name, errors, tols)


# ---------------------------------------------------------------------------
# Max pooling
# ---------------------------------------------------------------------------

# (label, x shape (N, C, H, W), pool_param): the usual 2x2 stride 2, overlapping
# 3x2 windows with stride 1 (where the stride is not the window), and 3x3 windows
# with stride 2; H_out != W_out in each.
_POOL_CASES = (
    ("2x2, stride 2", (2, 3, 4, 6), {"pool_height": 2, "pool_width": 2, "stride": 2}),
    ("3x2, stride 1", (2, 2, 5, 6), {"pool_height": 3, "pool_width": 2, "stride": 1}),
    ("3x3, stride 2", (2, 2, 7, 5), {"pool_height": 3, "pool_width": 3, "stride": 2}),
)
_POOL_FORWARD_HINT = (
    "H_out = 1 + (H - pool_height) // stride, W_out = 1 + (W - pool_width) // stride; "
    "out[n, c, i, j] = x[n, c, i*stride:i*stride+pool_height, "
    "j*stride:j*stride+pool_width].max(): "
    "pool_height x pool_width is the window, stride only its step (windows overlap when the "
    "stride is smaller)"
)
_POOL_BACKWARD_HINT = (
    "each dout[n, c, i, j] goes only to the position of its window's maximum "
    "(np.unravel_index(np.argmax(window), window.shape)), added with += because "
    "overlapping windows can share a maximum"
)
_POOL_TIES_HINT = (
    "when several inputs tie for a window's maximum (after a ReLU whole windows are 0), "
    "the gradient goes to the first of them in row-major order only, the one np.argmax "
    "returns; a mask x == max sends it to every tied input and multiplies it"
)


def _distinct_values(seed: int, shape: tuple, dtype=np.float64) -> np.ndarray:
    """Values 0.1 apart in random order: no two inputs tie, so max pooling is differentiable."""
    size = int(np.prod(shape))
    values = (np.random.default_rng(seed).permutation(size) - size / 2) * 0.1
    return values.reshape(shape).astype(dtype)


def _tied_values(seed: int, shape: tuple) -> np.ndarray:
    """Small integers after a ReLU: many all-zero windows and ties between positive maxima."""
    integers = np.random.default_rng(seed).integers(-4, 3, size=shape)
    return np.maximum(integers, 0).astype(np.float64)


def check_max_pool_forward_naive(max_pool_forward_naive: Callable) -> None:
    """Check ``max_pool_forward_naive(x, pool_param) -> (out, cache)``.

    Cases: 2x2 windows with stride 2; overlapping 3x2 windows with stride 1;
    3x3 windows with stride 2; and the first case in float32, whose output
    must stay float32.
    """
    name = "max_pool_forward_naive"
    errors, tols = {}, {}
    cases = [(label, shape, p, np.float64) for label, shape, p in _POOL_CASES]
    cases.append(("2x2, stride 2, float32", *_POOL_CASES[0][1:], np.float32))
    for seed, (label, x_shape, pool_param, dtype) in enumerate(cases, start=40):
        x = np.random.default_rng(seed).standard_normal(x_shape).astype(dtype)
        result = call_student(name, max_pool_forward_naive, x, dict(pool_param))
        out, _ = expect_tuple(name, result, ("out", "cache"), name)
        expected, _ = layers.max_pool_forward_naive(x, dict(pool_param))
        output = f"out ({label})"
        tols[output] = VALUE_TOL
        errors[output] = compare(
            name, output, out, expected, VALUE_TOL, _POOL_FORWARD_HINT, dtype=np.dtype(dtype)
        )
    report(name, errors, tols)


def check_max_pool_backward_naive(
    max_pool_forward_naive: Callable, max_pool_backward_naive: Callable
) -> None:
    """Check ``max_pool_backward_naive(dout, cache) -> dx``.

    Against numerical gradients on inputs without ties, in every case of the
    forward check (including overlapping windows, whose contributions add);
    then, on inputs after a ReLU with all-zero windows and tied maxima,
    against the reference: the gradient goes to the first maximum of each
    window in row-major order, as ``np.argmax`` finds it. Last, in float32.
    """
    name = "max_pool_backward_naive"
    errors, tols = {}, {}
    hints = {"dx": _POOL_BACKWARD_HINT}
    for seed, (label, x_shape, pool_param) in enumerate(_POOL_CASES, start=50):
        case_errors = check_layer_backward(
            name,
            max_pool_forward_naive,
            max_pool_backward_naive,
            layers.max_pool_forward_naive,
            (_distinct_values(seed, x_shape), dict(pool_param)),
            hints,
            seed=seed,
            label=f" ({label})",
        )
        errors |= case_errors
        tols |= dict.fromkeys(case_errors, GRAD_TOL)

    # Ties: no numerical gradient exists there, so the reference's rule decides.
    for seed, (label, x_shape, pool_param) in enumerate(_POOL_CASES[:2], start=55):
        x = _tied_values(seed, x_shape)
        forward = "max_pool_forward_naive"
        result = call_student(name, max_pool_forward_naive, x, dict(pool_param), what=forward)
        _, cache = expect_tuple(name, result, ("out", "cache"), forward)
        expected_out, reference_cache = layers.max_pool_forward_naive(x, dict(pool_param))
        dout = np.random.default_rng(seed).standard_normal(expected_out.shape)
        dx = call_student(name, max_pool_backward_naive, dout, cache)
        (dx,) = expect_tuple(name, dx, ("dx",), name)
        expected = layers.max_pool_backward_naive(dout, reference_cache)
        suspects = [
            (
                _pool_backward_every_tie(x, pool_param, dout),
                "the gradient went to every input tied for the maximum; " + _POOL_TIES_HINT,
            ),
            (
                _pool_backward_every_tie(x, pool_param, dout, last_only=True),
                "the gradient went to the last of the tied maxima; " + _POOL_TIES_HINT,
            ),
        ]
        output = f"dx (ties after ReLU, {label})"
        tols[output] = VALUE_TOL
        errors[output] = _compare_diagnosed(
            name, output, dx, expected, VALUE_TOL, _POOL_TIES_HINT, None, suspects
        )

    label, x_shape, pool_param = _POOL_CASES[1]
    case_errors = _check_float32_backward(
        name,
        max_pool_forward_naive,
        max_pool_backward_naive,
        layers.max_pool_forward_naive,
        layers.max_pool_backward_naive,
        (_distinct_values(58, x_shape, np.float32), dict(pool_param)),
        hints,
    )
    errors |= case_errors
    tols |= dict.fromkeys(case_errors, FLOAT32_TOL)
    report(name, errors, tols)


def _pool_backward_every_tie(
    x: np.ndarray, pool_param: dict, dout: np.ndarray, last_only: bool = False
) -> np.ndarray:
    """The two classic tie rules that are wrong: every tied maximum, or the last one."""
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[n, c, i * s : i * s + ph, j * s : j * s + pw]
                    mask = window == window.max()  # (ph, pw)
                    if last_only:
                        last = np.flatnonzero(mask)[-1]
                        mask = np.zeros_like(mask)
                        mask.flat[last] = True
                    dx[n, c, i * s : i * s + ph, j * s : j * s + pw] += mask * dout[n, c, i, j]
    return dx


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
    errors = compare_batchnorm_modes(
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
        hints=BatchnormHints(_SBN_TRAIN_HINT, _SBN_RUNNING_HINT, _SBN_TEST_HINT),
        dtype=np.dtype(np.float64),
    )
    tols = dict.fromkeys(errors, VALUE_TOL)

    x32, gamma32, beta32 = _sbn_inputs(seed=62, shape=(2, 3, 4, 5), dtype=np.float32)
    result = call_student(
        name, spatial_batchnorm_forward, x32, gamma32, beta32, {"mode": "train"}, state_args=(3,)
    )
    out, _ = expect_tuple(name, result, ("out", "cache"), name)
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
    running = {
        "running_mean": np.array([4.0, -1.0, 0.0]),
        "running_var": np.array([2.0, 3.0, 5.0]),
    }
    errors, tols = {}, {}
    for mode in ("train", "test"):
        case_errors = check_layer_backward(
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
        tols |= dict.fromkeys(case_errors, GRAD_TOL)
    case_errors = _check_float32_backward(
        name,
        spatial_batchnorm_forward,
        spatial_batchnorm_backward,
        layers.spatial_batchnorm_forward,
        layers.spatial_batchnorm_backward,
        (*_sbn_inputs(seed=72, shape=(2, 3, 3, 4), dtype=np.float32), {"mode": "train"}),
        hints["train"],
        state_args=(3,),
    )
    errors |= case_errors
    tols |= dict.fromkeys(case_errors, FLOAT32_TOL)
    report(name, errors, tols)


# ---------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------


def _compare_diagnosed(
    exercise: str,
    output: str,
    actual: object,
    expected: np.ndarray,
    tol: float,
    hint: str,
    dtype: type | None,
    suspects: list[tuple[np.ndarray, str]],
) -> float:
    """:func:`compare`, but a wrong value that matches a known mistake gets that mistake's hint.

    ``suspects`` pairs the output of a classic wrong implementation with the
    hint that names it (a flipped kernel, a gradient sent to every tie).
    """
    dtype = None if dtype is None else np.dtype(dtype)
    try:
        return compare(exercise, output, actual, expected, tol, hint, dtype=dtype)
    except CheckFailed as failure:
        if " is wrong: relative error " not in str(failure):
            raise  # a wrong type, shape, dtype or a NaN: the general hint fits
        for wrong, diagnosis in suspects:
            if wrong.shape != actual.shape:
                continue  # e.g. padding the output changes its size when the stride is not 1
            if rel_error(wrong, expected) > tol >= rel_error(actual, wrong):
                compare(exercise, output, actual, expected, tol, diagnosis, dtype=dtype)
        raise


def _check_float32_backward(
    name: str,
    student_forward: Callable,
    student_backward: Callable,
    reference_forward: Callable,
    reference_backward: Callable,
    inputs: tuple,
    hints: dict[str, str],
    state_args: tuple[int, ...] = (),
    seed: int = 0,
) -> dict[str, float]:
    """Run the student's forward and backward on float32 inputs with a float32 dout.

    Each gradient must be float32 and agree with the reference backward (on
    the reference forward's cache) to FLOAT32_TOL. Returns the errors keyed
    ``'<grad> (float32)'``.
    """
    forward_name = name.replace("_backward", "_forward")
    student_inputs = tuple(dict(v) if isinstance(v, dict) else v for v in inputs)
    result = call_student(
        name, student_forward, *student_inputs, what=forward_name, state_args=state_args
    )
    out, cache = expect_tuple(name, result, ("out", "cache"), forward_name)
    dout = np.random.default_rng(seed).standard_normal(np.shape(out)).astype(np.float32)
    grads = expect_tuple(
        name, call_student(name, student_backward, dout, cache), tuple(hints), name
    )
    reference_inputs = [v.copy() if isinstance(v, (np.ndarray, dict)) else v for v in inputs]
    _, reference_cache = reference_forward(*reference_inputs)
    expected = reference_backward(dout, reference_cache)
    if isinstance(expected, np.ndarray):
        expected = (expected,)
    return {
        f"{grad_name} (float32)": compare(
            name,
            f"{grad_name} (float32)",
            grad,
            reference,
            FLOAT32_TOL,
            hints[grad_name],
            dtype=np.dtype(np.float32),
        )
        for grad_name, grad, reference in zip(hints, grads, expected, strict=True)
    }
