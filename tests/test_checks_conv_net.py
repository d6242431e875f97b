"""The ConvNet loss check fails on realistic wrong implementations and passes right ones.

Each function below is a mistake students make while writing
``three_layer_conv_net_loss`` in notebook 02; each catalogue entry names the
message the check must give for it. Most are written through one function
with switches for the classic slips (``_loss``), whose default is right; a
version built from the naive layers of the notebook must pass too.
"""

from __future__ import annotations

import numpy as np
import pytest
from check_catalogue import (
    WRONG,
    assert_check_fails,
    assert_check_passes_with_one_line,
    assert_distinct_mistakes,
    mistake,
    not_implemented,
)

from course import layers
from course.checks import check_three_layer_conv_net_loss
from course.checks import conv_net as C
from course.models.cnn import ThreeLayerConvNet, three_layer_conv_net_loss

POOL = {"pool_height": 2, "pool_width": 2, "stride": 2}


def _loss(
    params,
    X,
    y=None,
    reg=0.0,
    *,
    pad=None,
    conv_relu=True,
    pool=True,
    hidden_relu=True,
    probabilities=False,
    loss="softmax",
    reg_factor=0.5,
    reg_biases=False,
    reg_in_grads=True,
    grads_from_zeros=False,
    center_in_place=False,
):
    """The loss, with switches for the classic slips (defaults: right), on the fast layers."""
    p = params
    if center_in_place:
        X -= X.mean(axis=0)  # "normalise the batch" on the caller's array
    HH = p["W1"].shape[2]
    conv_param = {"stride": 1, "pad": (HH - 1) // 2 if pad is None else pad}
    h, conv_cache = layers.conv_forward_fast(X, p["W1"], p["b1"], conv_param)
    relu1_cache = None
    if conv_relu:
        h, relu1_cache = layers.relu_forward(h)
    pool_cache = None
    if pool:
        h, pool_cache = layers.max_pool_forward_fast(h, POOL)
    if hidden_relu:
        hidden, cache2 = layers.affine_relu_forward(h, p["W2"], p["b2"])
    else:
        hidden, cache2 = layers.affine_forward(h, p["W2"], p["b2"])
    scores, cache3 = layers.affine_forward(hidden, p["W3"], p["b3"])
    if y is None:
        if probabilities:
            e = np.exp(scores - scores.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        return scores
    data_loss, dscores = {"softmax": layers.softmax_loss, "svm": layers.svm_loss}[loss](scores, y)
    grads = {}
    dhidden, grads["W3"], grads["b3"] = layers.affine_backward(dscores, cache3)
    backward2 = layers.affine_relu_backward if hidden_relu else layers.affine_backward
    dh, grads["W2"], grads["b2"] = backward2(dhidden, cache2)
    if pool:
        dh = layers.max_pool_backward_fast(dh, pool_cache)
    if conv_relu:
        dh = layers.relu_backward(dh, relu1_cache)
    _, grads["W1"], grads["b1"] = layers.conv_backward_fast(dh, conv_cache)
    penalised = ("W1", "W2", "W3") + (("b1", "b2", "b3") if reg_biases else ())
    total = data_loss
    for name in penalised:
        total += reg_factor * reg * np.sum(p[name] ** 2)
        if reg_in_grads:
            grads[name] = grads[name] + 2 * reg_factor * reg * p[name]
    if grads_from_zeros:
        grads = {key: np.zeros(value.shape) + grads[key] for key, value in p.items()}
    return total, grads


def _loss_with(**slips):
    def three_layer_conv_net_loss_with_slip(params, X, y=None, reg=0.0):
        return _loss(params, X, y, reg, **slips)

    return three_layer_conv_net_loss_with_slip


def naive_three_layer_conv_net_loss(params, X, y=None, reg=0.0):
    """A right answer from the naive layers (the notebook's own), written out step by step."""
    p = params
    conv_param = {"stride": 1, "pad": (p["W1"].shape[2] - 1) // 2}
    a, conv_cache = layers.conv_forward_naive(X, p["W1"], p["b1"], conv_param)
    r, relu_cache = layers.relu_forward(a)
    pooled, pool_cache = layers.max_pool_forward_naive(r, POOL)
    hidden, cache2 = layers.affine_relu_forward(pooled, p["W2"], p["b2"])
    scores, cache3 = layers.affine_forward(hidden, p["W3"], p["b3"])
    if y is None:
        return scores
    loss, dscores = layers.softmax_loss(scores, y)
    dhidden, dW3, db3 = layers.affine_backward(dscores, cache3)
    dpooled, dW2, db2 = layers.affine_relu_backward(dhidden, cache2)
    dr = layers.max_pool_backward_naive(dpooled, pool_cache)
    da = layers.relu_backward(dr, relu_cache)
    _, dW1, db1 = layers.conv_backward_naive(da, conv_cache)
    grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "W3": dW3, "b3": db3}
    for name in ("W1", "W2", "W3"):
        loss += 0.5 * reg * np.sum(p[name] * p[name])
        grads[name] = grads[name] + reg * p[name]
    return loss, grads


def returns_loss_when_y_is_none(params, X, y=None, reg=0.0):
    """Always computes the loss: softmax_loss(scores, None) fails at test time."""
    return _loss(params, X, np.asarray(y), reg)


def returns_tuple_when_y_is_none(params, X, y=None, reg=0.0):
    """Returns (scores, None) at test time, as if the loss were optional."""
    if y is None:
        return _loss(params, X), None
    return _loss(params, X, y, reg)


def numpy_hidden_layer_without_pool(params, X, y=None, reg=0.0):
    """Writes the hidden layer in numpy, and forgets the pool: numpy's matmul error."""
    p = params
    conv_param = {"stride": 1, "pad": (p["W1"].shape[2] - 1) // 2}
    a, _ = layers.conv_forward_fast(X, p["W1"], p["b1"], conv_param)
    hidden = np.maximum(np.maximum(a, 0).reshape(len(X), -1) @ p["W2"] + p["b2"], 0)
    scores = hidden @ p["W3"] + p["b3"]
    return scores if y is None else layers.softmax_loss(scores, y)


MISTAKES = [
    mistake(
        _loss_with(pad=1),
        match=r"raised ValueError.*Hint: your convolution changes H and W.*5x5",
        id="pad-1-hard-coded",
    ),
    mistake(
        _loss_with(pad=0),
        match=r"raised ValueError.*Hint: your convolution changes H and W.*3x3",
        id="no-padding",
    ),
    mistake(
        _loss_with(pool=False),
        match=r"raised ValueError.*Hint: your pooled volume has F\*H\*W values.*is missing",
        id="pool-skipped",
    ),
    mistake(
        numpy_hidden_layer_without_pool,
        match=r"raised ValueError: matmul.*Hint: your pooled volume has F\*H\*W values",
        id="numpy-matmul-pool-skipped",
    ),
    mistake(
        _loss_with(conv_relu=False),
        match=f"scores \\(scores\\) {WRONG}.*without the ReLU between the convolution and",
        id="conv-relu-forgotten",
    ),
    mistake(
        _loss_with(hidden_relu=False),
        match=f"scores \\(scores\\) {WRONG}.*without the ReLU after the hidden affine",
        id="hidden-relu-forgotten",
    ),
    mistake(
        _loss_with(probabilities=True),
        match=f"scores \\(scores\\) {WRONG}.*these are softmax probabilities",
        id="probabilities-for-scores",
    ),
    mistake(
        returns_loss_when_y_is_none,
        match=r"raised .*Hint: when y is None \(test time\) return the scores alone",
        id="loss-without-labels",
    ),
    mistake(
        returns_tuple_when_y_is_none,
        match=r"with y None it returned a tuple, not the scores",
        id="tuple-for-scores",
    ),
    mistake(
        _loss_with(loss="svm"),
        match=f"loss \\(no reg\\) {WRONG}.*multiclass SVM loss",
        id="svm-loss",
    ),
    mistake(
        _loss_with(reg_factor=1.0),
        match=f"loss \\(5x5, reg\\) {WRONG}.*twice the expected",
        id="reg-not-halved",
    ),
    mistake(
        _loss_with(reg_biases=True),
        match=f"loss \\(5x5, reg\\) {WRONG}.*regularises the biases too",
        id="reg-on-biases",
    ),
    mistake(
        _loss_with(reg_factor=0.0),
        match=f"loss \\(5x5, reg\\) {WRONG}.*no regularisation term",
        id="reg-forgotten",
    ),
    mistake(
        _loss_with(reg_in_grads=False),
        match=f"grads\\['W3'\\] \\(5x5, reg\\) {WRONG}.*the gradient without the regularisation",
        id="reg-missing-from-grads",
    ),
    mistake(
        _loss_with(grads_from_zeros=True),
        match=r"grads\['W3'\] \(float32\) has dtype float64 for float32 inputs",
        id="float64-grads",
    ),
    mistake(
        _loss_with(center_in_place=True),
        match=r"changed its input argument 2 in place",
        id="X-edited-in-place",
    ),
    mistake(not_implemented, match=r"not_implemented is not implemented yet", id="stub"),
]


def test_catalogue_is_distinct():
    assert_distinct_mistakes(MISTAKES, minimum=6)


@pytest.mark.parametrize("student, expected", MISTAKES)
def test_check_fails_on_mistake(student, expected, capsys):
    assert_check_fails(
        check_three_layer_conv_net_loss, "three_layer_conv_net_loss", student, expected, capsys
    )


@pytest.mark.parametrize(
    "student", [_loss_with(), naive_three_layer_conv_net_loss], ids=["fast-layers", "naive-layers"]
)
def test_check_passes_right_answers(student, capsys):
    assert_check_passes_with_one_line(
        check_three_layer_conv_net_loss, "three_layer_conv_net_loss", (student,), capsys
    )


def delegates_to_the_model(params, X, y=None, reg=0.0):
    """Builds the course's ThreeLayerConvNet around the params and returns its loss."""
    F, C, HH, _ = params["W1"].shape
    model = ThreeLayerConvNet(
        input_dim=X.shape[1:],
        num_filters=F,
        filter_size=HH,
        hidden_dim=params["W2"].shape[1],
        num_classes=params["W3"].shape[1],
        reg=reg,
        dtype=X.dtype,
    )
    model.params = params
    return model.loss(X, y)


@pytest.mark.parametrize(
    "student", [three_layer_conv_net_loss, delegates_to_the_model], ids=["function", "model"]
)
def test_check_refuses_the_reference(student, capsys):
    expected = r"calls the course's own (three_layer_conv_net_loss|ThreeLayerConvNet.loss)"
    assert_check_fails(
        check_three_layer_conv_net_loss, "three_layer_conv_net_loss", (student,), expected, capsys
    )


def test_the_written_out_loss_is_the_references():
    label, params, X, y, reg, _ = C._cases()[1]
    assert label == "no reg"
    assert three_layer_conv_net_loss(params, X, y, reg)[0] == pytest.approx(C._NO_REG_LOSS, 1e-12)


def test_cases_make_the_mistakes_visible():
    """Every ReLU has units on both sides of 0, and no two maxima of a pool window tie."""
    for _, params, X, _, _, _ in C._cases():
        p = {k: v.astype(np.float64) for k, v in params.items()}
        X = X.astype(np.float64)
        conv_param = {"stride": 1, "pad": (p["W1"].shape[2] - 1) // 2}
        a, _ = layers.conv_forward_fast(X, p["W1"], p["b1"], conv_param)
        assert 0.2 < (a > 0).mean() < 0.8
        pooled, _ = layers.max_pool_forward_fast(np.maximum(a, 0), POOL)
        hidden = pooled.reshape(len(X), -1) @ p["W2"] + p["b2"]
        assert 0.2 < (hidden > 0).mean() < 0.8
        N, F, H, W = a.shape
        windows = a.reshape(N, F, H // 2, 2, W // 2, 2).transpose(0, 1, 2, 4, 3, 5)
        windows = np.sort(windows.reshape(N, F, H // 2, W // 2, 4), axis=-1)
        positive = windows[..., -1] > 0
        assert (np.diff(windows, axis=-1)[..., -1][positive] > 1e-6).all()
