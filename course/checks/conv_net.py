"""Check of notebook 02's model exercise: the three-layer ConvNet's loss as a function.

The function students write, whose reference is
``course.models.cnn.three_layer_conv_net_loss`` (what ``ThreeLayerConvNet.loss`` runs)::

    three_layer_conv_net_loss(params, X, y=None, reg=0.0)
        -> scores (N, K) when y is None, else (loss, grads)

conv (stride 1, padding that keeps H and W) - relu - 2x2 max pool (stride 2) -
affine - relu - affine - softmax, with params W1 (F, C, HH, HH), b1 (F,),
W2 (F*H/2*W/2, Hd), b2 (Hd,), W3 (Hd, K), b3 (K,) (K classes) and
``0.5 * reg * sum of squared weights`` added to the loss, biases excluded.
grads is keyed like params, each gradient of its parameter's dtype.

Four seeded cases, on images whose H and W differ: the scores of 3x3 filters
(y None), the loss of 3x3 filters without regularisation, of 5x5 filters with
it (so a padding that fits only 3x3 filters shows), and 5x5 in float32 (the
gradients must stay float32). The values are compared with the reference's
for the same numbers in float64, the gradients in the order backprop reaches
them; the reference's gradients are themselves tested against centred
differences in ``tests/test_models_cnn.py``. A wrong value that matches a
classic mistake (a missing ReLU, softmax probabilities for scores, the
regularisation doubled, on the biases, or missing from the gradients) gets
that mistake's hint.

Dimension letters: N images, C channels, H and W height and width, F filters,
HH filter size, Hd hidden size, K classes.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from course import layers
from course.checks.core import (
    CheckFailed,
    by_output_kind,
    call_student,
    compare_diagnosed,
    expect_tuple,
    report,
    require,
    require_grads,
    value_tol,
)
from course.models.cnn import POOL_2X2, three_layer_conv_net_loss

# The loss of the 'no reg' case, written out so that a change of the reference shows.
_NO_REG_LOSS = 1.8144409555726047

# The order in which the gradients are compared: the order backprop computes them.
_BACKWARD_ORDER = ("W3", "b3", "W2", "b2", "W1", "b1")

_HINTS = {
    "scores": "the scores are the last affine layer's output, before any softmax: conv - relu "
    "- 2x2 max pool - affine - relu - affine (layers.conv_relu_pool_forward and "
    "layers.affine_relu_forward are the sandwiches)",
    "loss": "the loss is softmax_loss of the scores plus 0.5 * reg times the sum of the squared "
    "weights W1, W2, W3",
    "W3": "affine_backward(dscores, cache3) gives (dhidden, dW3, db3), dscores from "
    "softmax_loss; then add the regularisation's gradient to dW3",
    "b3": "affine_backward(dscores, cache3) gives (dhidden, dW3, db3), dscores from softmax_loss",
    "W2": "the hidden layer is affine then ReLU: backprop dhidden through both "
    "(affine_relu_backward); then add the regularisation's gradient to dW2",
    "b2": "the hidden layer is affine then ReLU: backprop dhidden through both "
    "(affine_relu_backward)",
    "W1": "backprop dpooled through the pool, the ReLU and the convolution "
    "(conv_relu_pool_backward); then add the regularisation's gradient to dW1",
    "b1": "backprop dpooled through the pool, the ReLU and the convolution "
    "(conv_relu_pool_backward)",
}
_SUSPECT_HINTS = {  # the hint of a value that matches a known mistake
    "no conv relu": "these are the values of a net without the ReLU between the convolution and "
    "the pool: conv - relu - pool",
    "no hidden relu": "these are the values of a net without the ReLU after the hidden affine "
    "layer: affine - relu - affine",
    "relu on scores": "these are the values of a net with a ReLU on the scores: the last layer "
    "is affine only, so scores can be negative",
    "probabilities": "these are softmax probabilities: the scores are the raw outputs of the last "
    "affine layer, before any softmax",
    "svm": "this is the multiclass SVM loss: the model's loss is the softmax loss",
    "reg doubled": "your regularisation term is twice the expected one: look at the factor in "
    "front of it (the loss's term must have the gradient reg * W)",
    "reg on biases": "your loss regularises the biases too: the L2 term covers the weights W1, "
    "W2, W3 only",
    "no reg": "your loss has no regularisation term: add it for the weights W1, W2, W3",
    "no reg grad": "this is the gradient without the regularisation term: the loss's L2 term "
    "has a gradient too, added to each weight's",
    "reg grad doubled": "the regularisation's part of this gradient is twice the expected one: "
    "differentiate the loss's L2 term as you wrote it",
    "bias reg grad": "this bias's gradient has a regularisation term: the biases are not "
    "regularised",
}
_SIZE_HINTS = {  # the hint of a ValueError (shapes that do not fit W2), by the size it names
    "general": "the pooled volume must have W2's F*H/2*W/2 values per image: a convolution "
    "that keeps H and W (this case's filters are {HH}x{HH}), then a 2x2 max pool with "
    "stride 2 that halves them",
    "padding": "your convolution changes H and W, so the pooled volume does not fit W2: this "
    "case's filters are {HH}x{HH}, and the padding that keeps the size depends on the filter "
    "size",
    "pool": "your pooled volume has F*H*W values per image, the size before pooling: the 2x2 "
    "max pool with stride 2, which halves H and W, is missing",
}
_NO_Y_HINT = "when y is None (test time) return the scores alone, before any loss is computed"


def _case(
    rng: np.random.Generator, filter_size: int, dtype: type
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Seeded params (non-zero biases), images (N=4, C=3, H=6, W=8) and labels of K=5 classes."""
    N, C, H, W, F, Hd, K = 4, 3, 6, 8, 4, 7, 5
    HH = filter_size
    params = {
        "W1": rng.standard_normal((F, C, HH, HH)) / np.sqrt(C * HH * HH),
        "b1": 0.2 * rng.standard_normal(F),
        "W2": rng.standard_normal((F * H // 2 * W // 2, Hd)) / np.sqrt(F * H * W / 4),
        "b2": 0.2 * rng.standard_normal(Hd),
        "W3": 2.0 * rng.standard_normal((Hd, K)) / np.sqrt(Hd),
        "b3": 0.2 * rng.standard_normal(K),
    }
    X = rng.standard_normal((N, C, H, W))
    y = rng.integers(0, K, N)
    return {k: v.astype(dtype) for k, v in params.items()}, X.astype(dtype), y


def _cases() -> list[tuple[str, dict, np.ndarray, np.ndarray | None, float, type]]:
    """(label, params, X, y, reg, dtype) of every case, the scores case first."""
    rng = np.random.default_rng(2)
    params3, X3, _ = _case(rng, 3, np.float64)
    params3b, X3b, y3b = _case(rng, 3, np.float64)
    params5, X5, y5 = _case(rng, 5, np.float64)
    params32, X32, y32 = _case(rng, 5, np.float32)
    return [
        ("scores", params3, X3, None, 0.0, np.float64),
        ("no reg", params3b, X3b, y3b, 0.0, np.float64),
        ("5x5, reg", params5, X5, y5, 0.3, np.float64),
        ("float32", params32, X32, y32, 0.2, np.float32),
    ]


def check_three_layer_conv_net_loss(three_layer_conv_net_loss: Callable) -> None:
    """Check ``three_layer_conv_net_loss(params, X, y=None, reg=0.0)``.

    Scores when y is None; else (loss, grads), the loss and every gradient
    compared with the reference's for the same numbers in float64 (float32
    results to FLOAT32_TOL, their gradients kept float32). A wrong value
    that matches a classic mistake gets that mistake's hint.
    """
    name = "three_layer_conv_net_loss"
    errors: dict[str, float] = {}
    for label, params, X, y, reg, dtype in _cases():
        result = _call(name, three_layer_conv_net_loss, params, X, y, reg)
        exact = {k: v.astype(np.float64) for k, v in params.items()}
        X64 = X.astype(np.float64)
        tol = value_tol(dtype)
        if y is None:
            require(
                name,
                not isinstance(result, (tuple, list)),
                f"with y None it returned a {type(result).__name__}, not the scores (N, K). "
                f"Hint: {_NO_Y_HINT}",
            )
            expected = _reference(exact, X64, None, reg)
            suspects = _score_suspects(exact, X64)
            errors[f"scores ({label})"] = compare_diagnosed(
                name,
                f"scores ({label})",
                result,
                expected,
                tol,
                _HINTS["scores"],
                suspects,
                np.dtype(dtype),
            )
            continue
        loss, grads = expect_tuple(name, result, ("loss", "grads"), name)
        expected_loss, expected_grads = _reference(exact, X64, y, reg)
        if label == "no reg":
            expected_loss = _NO_REG_LOSS
        suspects = _loss_suspects(exact, X64, y, reg)
        output = f"loss ({label})"
        errors[output] = compare_diagnosed(
            name, output, loss, expected_loss, tol, _HINTS["loss"], suspects
        )
        for key, grad in _grads_in_order(name, grads, label):
            output = f"grads[{key!r}] ({label})"
            errors[output] = compare_diagnosed(
                name,
                output,
                grad,
                expected_grads[key],
                tol,
                _HINTS[key],
                _grad_suspects(key, exact, X64, y, reg),
                np.dtype(dtype),
            )
    report(name, *by_output_kind(errors))


def _call(name: str, func: Callable, params: dict, X: np.ndarray, y, reg: float) -> object:
    """:func:`call_student`, with the hint that fits what the student's code raised.

    A ValueError is how numpy and the layers say that shapes do not fit: the
    pooled volume is not the size W2 expects (the size the message names
    tells which mistake made it). Anything else raised with y None is most
    often a loss computed without labels.
    """
    try:
        return call_student(name, func, params, X, y, reg)
    except CheckFailed as failure:
        cause = failure.__cause__
        if isinstance(cause, ValueError):
            HH = params["W1"].shape[2]
            hint = _SIZE_HINTS[_size_mistake(str(cause), params, X)].format(HH=HH)
        elif cause is not None and y is None:
            hint = _NO_Y_HINT
        else:
            raise
        raise CheckFailed(f"{failure}. Hint: {hint}") from cause


def _size_mistake(message: str, params: dict, X: np.ndarray) -> str:
    """'pool' or 'padding' if ``message`` names the size of that mistake's volume, else 'general'.

    A message of numpy or the layers names the flattened size D of the volume
    that did not fit W2: F*H*W without the pool, F*(H_out/2)*(W_out/2) for a
    convolution whose padding does not keep the size.
    """
    F, _, HH, _ = params["W1"].shape
    _, _, H, W = X.shape
    numbers = {int(n) for n in re.findall(r"\d+", message)}
    if F * H * W in numbers:
        return "pool"
    right = (HH - 1) // 2
    padded = {
        F * ((H + 2 * pad - HH + 1) // 2) * ((W + 2 * pad - HH + 1) // 2)
        for pad in range(HH)
        if pad != right
    }
    return "padding" if numbers & padded else "general"


def _grads_in_order(name: str, grads: object, label: str) -> list[tuple[str, object]]:
    """(key, gradient) of every parameter in backward order; grads must be a dict holding each."""
    require_grads(name, grads, _BACKWARD_ORDER, label)
    return [(key, grads[key]) for key in _BACKWARD_ORDER]


# ---------------------------------------------------------------------------
# The reference and the classic mistakes' values
# ---------------------------------------------------------------------------


def _reference(params: dict, X: np.ndarray, y, reg: float):
    """The reference on private copies (float64)."""
    return three_layer_conv_net_loss({k: v.copy() for k, v in params.items()}, X.copy(), y, reg)


def _variant_scores(
    params: dict, X: np.ndarray, conv_relu: bool = True, hidden_relu: bool = True
) -> np.ndarray:
    """The scores (N, K) of the net with the ReLUs switched on or off."""
    p = params
    conv_param = {"stride": 1, "pad": (p["W1"].shape[2] - 1) // 2}
    h, _ = layers.conv_forward_fast(X, p["W1"], p["b1"], conv_param)  # (N, F, H, W)
    if conv_relu:
        h = np.maximum(h, 0)
    h, _ = layers.max_pool_forward_fast(h, POOL_2X2)  # (N, F, H/2, W/2)
    h = h.reshape(len(X), -1) @ p["W2"] + p["b2"]  # (N, Hd)
    if hidden_relu:
        h = np.maximum(h, 0)
    return h @ p["W3"] + p["b3"]  # (N, K)


def _score_suspects(params: dict, X: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """The scores each classic mistake gives, with the hint that names it."""
    scores = _variant_scores(params, X)
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    wrong = {
        "no conv relu": _variant_scores(params, X, conv_relu=False),
        "no hidden relu": _variant_scores(params, X, hidden_relu=False),
        "relu on scores": np.maximum(scores, 0),
        "probabilities": shifted / shifted.sum(axis=1, keepdims=True),
    }
    return [(value, _SUSPECT_HINTS[mistake]) for mistake, value in wrong.items()]


def _loss_suspects(params: dict, X: np.ndarray, y, reg: float) -> list[tuple[np.ndarray, str]]:
    """The loss each classic mistake gives, with the hint that names it."""
    weights = sum(float(np.sum(params[k] ** 2)) for k in ("W1", "W2", "W3"))
    biases = sum(float(np.sum(params[k] ** 2)) for k in ("b1", "b2", "b3"))
    data_loss = layers.softmax_loss(_variant_scores(params, X), y)[0]
    right = data_loss + 0.5 * reg * weights
    wrong = {
        "no conv relu": layers.softmax_loss(_variant_scores(params, X, conv_relu=False), y)[0]
        + 0.5 * reg * weights,
        "no hidden relu": layers.softmax_loss(_variant_scores(params, X, hidden_relu=False), y)[0]
        + 0.5 * reg * weights,
        "svm": layers.svm_loss(_variant_scores(params, X), y)[0] + 0.5 * reg * weights,
    }
    if reg:
        wrong |= {
            "reg doubled": right + 0.5 * reg * weights,
            "reg on biases": right + 0.5 * reg * biases,
            "no reg": data_loss,
        }
    return [(np.asarray(value), _SUSPECT_HINTS[mistake]) for mistake, value in wrong.items()]


def _grad_suspects(
    key: str, params: dict, X: np.ndarray, y, reg: float
) -> list[tuple[np.ndarray, str]]:
    """The gradient of ``key`` each classic regularisation mistake gives, with its hint."""
    if not reg:
        return []
    unregularised = _reference(params, X, y, 0.0)[1][key]
    if key.startswith("b"):
        return [(unregularised + reg * params[key], _SUSPECT_HINTS["bias reg grad"])]
    return [
        (unregularised, _SUSPECT_HINTS["no reg grad"]),
        (unregularised + 2 * reg * params[key], _SUSPECT_HINTS["reg grad doubled"]),
    ]
