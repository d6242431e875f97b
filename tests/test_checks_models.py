"""The model-loss checks fail on realistic wrong implementations and pass the right ones.

Each function below is a mistake students make while writing notebook 01's
``two_layer_net_loss`` and ``fully_connected_net_loss``; each catalogue entry
names the message the check must give for it. They are written through one
function with switches for the classic slips (``_net_loss``), whose default
is the correct version a student writes from the layer functions. Then: the
correct versions pass with one line, and calling the course's own reference
(or its model) fails.
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
    mistake_params,
    not_implemented,
)

from course import layers
from course.checks import check_fully_connected_net_loss, check_two_layer_net_loss
from course.checks import models as M
from course.models import FullyConnectedNet, TwoLayerNet
from course.models.fc_net import fully_connected_net_loss as reference_fc_loss


def _net_loss(
    params,
    X,
    y=None,
    reg=0.0,
    normalization=None,
    bn_params=None,
    dropout_keep_ratio=1.0,
    dropout_seed=0,
    *,
    reg_factor=0.5,
    reg_keys="W",
    relu_last=False,
    bn_after_relu=False,
    bn_mode=None,
    bn_copy=False,
    bn_in_place=False,
    dropout_mode=None,
    scale_mask=True,
    mean_over_n=True,
    skip_relu_backward_at=None,
    grads_from_zeros=False,
    scores_for_test=True,
    dW_reg_factor=1.0,
    two_hidden_only=False,
):
    """A student's fully connected net loss, with switches for the classic slips."""
    p = params
    L = sum(1 for key in p if key.startswith("W"))
    if two_hidden_only:
        L = min(L, 3)
    mode = "test" if y is None else "train"
    caches = []
    h = X
    for i in range(1, L):
        h, fc_cache = layers.affine_forward(h, p[f"W{i}"], p[f"b{i}"])
        bn_cache = drop_cache = relu_cache = None
        if bn_after_relu:
            h, relu_cache = layers.relu_forward(h)
        if normalization == "batchnorm":
            bn_param = bn_params[i - 1]
            if bn_copy:
                bn_param = dict(bn_param)
            bn_param["mode"] = bn_mode or mode
            old = {k: bn_param.get(k) for k in ("running_mean", "running_var")}
            h, bn_cache = layers.batchnorm_forward(h, p[f"gamma{i}"], p[f"beta{i}"], bn_param)
            if bn_in_place and mode == "train":  # keeps "its" arrays: copies the new values in
                for key, array in old.items():
                    array[...] = bn_param[key]
                    bn_param[key] = array
        if not bn_after_relu:
            h, relu_cache = layers.relu_forward(h)
        if dropout_keep_ratio < 1:
            seed = (dropout_seed, i)
            drop_mode = dropout_mode or mode
            if scale_mask:
                drop_param = {"mode": drop_mode, "p": dropout_keep_ratio, "seed": seed}
                h, drop_cache = layers.dropout_forward(h, drop_param)
            elif drop_mode == "train":
                mask = np.random.default_rng(seed).random(h.shape) < dropout_keep_ratio
                h, drop_cache = h * mask, ("mask", mask)
        caches.append((fc_cache, bn_cache, relu_cache, drop_cache))
    scores, scores_cache = layers.affine_forward(h, p[f"W{L}"], p[f"b{L}"])
    relu_scores_cache = None
    if relu_last:
        scores, relu_scores_cache = layers.relu_forward(scores)
    if y is None and scores_for_test:
        return scores

    loss, dscores = layers.softmax_loss(scores, y)
    if not mean_over_n:
        loss, dscores = loss * len(X), dscores * len(X)
    if relu_scores_cache is not None:
        dscores = layers.relu_backward(dscores, relu_scores_cache)
    grads = {}
    dh, grads[f"W{L}"], grads[f"b{L}"] = layers.affine_backward(dscores, scores_cache)
    for i in range(L - 1, 0, -1):
        fc_cache, bn_cache, relu_cache, drop_cache = caches[i - 1]
        if isinstance(drop_cache, tuple) and drop_cache[0] == "mask":
            dh = dh * drop_cache[1]
        elif drop_cache is not None:
            dh = layers.dropout_backward(dh, drop_cache)
        if not bn_after_relu and i != skip_relu_backward_at:
            dh = layers.relu_backward(dh, relu_cache)
        if bn_cache is not None:
            dh, grads[f"gamma{i}"], grads[f"beta{i}"] = layers.batchnorm_backward(dh, bn_cache)
        if bn_after_relu:
            dh = layers.relu_backward(dh, relu_cache)
        dh, grads[f"W{i}"], grads[f"b{i}"] = layers.affine_backward(dh, fc_cache)
    for key, value in p.items():
        if key.startswith(reg_keys) or reg_keys == "all":
            loss += reg_factor * reg * np.sum(value * value)
            grads[key] = grads[key] + dW_reg_factor * 2 * reg_factor * reg * value
    if grads_from_zeros:
        grads = {key: np.zeros(value.shape) + grads[key] for key, value in p.items()}
    return float(loss), grads


def fully_connected_net_loss(
    params,
    X,
    y=None,
    reg=0.0,
    normalization=None,
    bn_params=None,
    dropout_keep_ratio=1.0,
    dropout_seed=0,
):
    """The correct version a student writes from the layer functions."""
    return _net_loss(params, X, y, reg, normalization, bn_params, dropout_keep_ratio, dropout_seed)


def two_layer_net_loss(params, X, y=None, reg=0.0):
    """The correct version a student writes: affine_relu, affine, softmax, L2."""
    hidden, hidden_cache = layers.affine_relu_forward(X, params["W1"], params["b1"])
    scores, scores_cache = layers.affine_forward(hidden, params["W2"], params["b2"])
    if y is None:
        return scores
    loss, dscores = layers.softmax_loss(scores, y)
    dhidden, dW2, db2 = layers.affine_backward(dscores, scores_cache)
    _, dW1, db1 = layers.affine_relu_backward(dhidden, hidden_cache)
    loss += 0.5 * reg * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    return loss, {
        "W1": dW1 + reg * params["W1"],
        "b1": db1,
        "W2": dW2 + reg * params["W2"],
        "b2": db2,
    }


def _fc_with(**slips):
    def fully_connected_net_loss_with_slip(
        params,
        X,
        y=None,
        reg=0.0,
        normalization=None,
        bn_params=None,
        dropout_keep_ratio=1.0,
        dropout_seed=0,
    ):
        return _net_loss(
            params, X, y, reg, normalization, bn_params, dropout_keep_ratio, dropout_seed, **slips
        )

    return fully_connected_net_loss_with_slip


def _two_with(**slips):
    def two_layer_net_loss_with_slip(params, X, y=None, reg=0.0):
        return _net_loss(params, X, y, reg, **slips)

    return two_layer_net_loss_with_slip


def fully_connected_net_loss_calls_the_reference(params, X, y=None, *args):
    return reference_fc_loss(params, X, y, *args)


def fully_connected_net_loss_calls_the_model(
    params, X, y=None, reg=0.0, normalization=None, bn_params=None, keep=1.0, seed=0
):
    dims = [params["W1"].shape[0]] + [
        params[f"W{i}"].shape[1] for i in range(1, 10) if f"W{i}" in params
    ]
    model = FullyConnectedNet(dims[1:-1], input_dim=dims[0], num_classes=dims[-1], reg=reg)
    model.params = params
    return model.loss(X, y)


def two_layer_net_loss_calls_the_model(params, X, y=None, reg=0.0):
    D, Hd = params["W1"].shape
    model = TwoLayerNet(D, Hd, params["W2"].shape[1], reg=reg, dtype=params["W1"].dtype)
    model.params = params
    return model.loss(X, y)


def two_layer_net_loss_returns_a_list(params, X, y=None, reg=0.0):
    result = two_layer_net_loss(params, X, y, reg)
    return result if y is None else [result[0], list(result[1].values())]


def two_layer_net_loss_returns_none_for_test(params, X, y=None, reg=0.0):
    if y is not None:
        return two_layer_net_loss(params, X, y, reg)


def two_layer_net_loss_returns_loss_for_test(params, X, y=None, reg=0.0):
    return two_layer_net_loss(params, X, np.zeros(len(X), dtype=int) if y is None else y, reg)


TWO_LAYER_MISTAKES = [
    mistake(
        _two_with(reg_factor=1.0),
        match=f"loss \\(example\\) {WRONG}.*your L2 term is twice too large",
        id="reg-not-halved",
    ),
    mistake(
        _two_with(reg_factor=0.0),
        match=f"loss \\(example\\) {WRONG}.*the L2 term of the weights is missing",
        id="reg-missing",
    ),
    mistake(
        _two_with(reg_keys="all"),
        match=f"loss \\(example\\) {WRONG}.*includes the biases",
        id="reg-on-biases",
    ),
    mistake(
        _two_with(relu_last=True),
        match=f"scores \\(example\\) {WRONG}.*ReLU applied after the LAST affine layer",
        id="relu-after-last-layer",
    ),
    mistake(
        _two_with(mean_over_n=False),
        match=f"loss \\(example\\) {WRONG}.*sum over the examples",
        id="loss-summed-over-N",
    ),
    mistake(
        _two_with(dW_reg_factor=0.0, reg_factor=0.5),
        match=f"grads\\['W2'\\] \\(example\\) {WRONG}.*lacks the derivative of the L2 term",
        id="dW-without-reg",
    ),
    mistake(
        _two_with(skip_relu_backward_at=1),
        match=f"grads\\['W1'\\] \\(example\\) {WRONG}.*affine_backward of this layer",
        id="relu-backward-skipped",
    ),
    mistake(
        _two_with(grads_from_zeros=True),
        match=r"grads\['W2'\] \(float32\) has dtype float64 for float32 inputs",
        id="float64-grads",
    ),
    mistake(
        _two_with(scores_for_test=False),
        match=r"raised TypeError: softmax_loss: y must be .*Hint: this call had y None",
        id="no-scores-for-y-None",
    ),
    mistake(
        two_layer_net_loss_returns_none_for_test,
        match=r"scores \(example\): with y None return the scores \(N, C\) alone.*NoneType",
        id="none-for-y-None",
    ),
    mistake(
        two_layer_net_loss_returns_loss_for_test,
        match=r"scores \(example\): with y None return the scores .* got tuple",
        id="loss-for-y-None",
    ),
    mistake(
        two_layer_net_loss_returns_a_list,
        match=r"grads \(example\) should be a dict keyed like params, got list",
        id="grads-as-list",
    ),
    mistake(
        two_layer_net_loss_calls_the_model,
        match=r"calls .*TwoLayerNet.loss.*write the computation yourself",
        id="calls-the-model",
    ),
    mistake(not_implemented, match=r"not_implemented is not implemented yet", id="stub"),
]

FC_MISTAKES = [
    mistake(
        _fc_with(reg_factor=1.0),
        match=f"loss \\(3 layers\\) {WRONG}.*twice too large",
        id="reg-not-halved",
    ),
    mistake(
        _fc_with(reg_keys="all"),
        match=f"loss \\(3 layers\\) {WRONG}.*includes the biases \\(or gamma, beta\\)",
        id="reg-on-biases-and-gammas",
    ),
    mistake(
        _fc_with(relu_last=True),
        match=f"scores \\(3 layers\\) {WRONG}.*after the LAST affine layer",
        id="relu-after-last-layer",
    ),
    mistake(
        _fc_with(bn_after_relu=True),
        match=f"scores \\(batchnorm, 4 layers\\) {WRONG}.*batchnorm placed after the ReLU",
        id="batchnorm-after-relu",
    ),
    mistake(
        _fc_with(bn_mode="train"),
        match=f"scores \\(batchnorm, 4 layers\\) {WRONG}.*statistics of the batch",
        id="batchnorm-train-mode-at-test",
    ),
    mistake(
        _fc_with(bn_copy=True),
        match=r"bn_params\[0\]\['running_mean'\] \(batchnorm, 4 layers\) "
        f"{WRONG}.*not a copy",
        id="running-averages-not-stored",
    ),
    mistake(
        _fc_with(bn_in_place=True),
        match=r"bn_params\[0\]\['running_mean'\] \(batchnorm, 4 layers\): .*was written into",
        id="running-averages-written-in-place",
    ),
    mistake(
        _fc_with(dropout_mode="train"),
        match=f"scores \\(dropout, 2 layers\\) {WRONG}.*dropout applied",
        id="dropout-at-test-time",
    ),
    mistake(
        _fc_with(scale_mask=False),
        match=f"loss \\(dropout, 2 layers\\) {WRONG}.*does not scale them",
        id="dropout-mask-not-scaled",
    ),
    mistake(
        _fc_with(skip_relu_backward_at=1),
        match=f"grads\\['W1'\\] \\(3 layers\\) {WRONG}",
        id="one-layer-gradient-wrong",
    ),
    mistake(
        _fc_with(dW_reg_factor=2.0),
        match=f"grads\\['W3'\\] \\(3 layers\\) {WRONG}.*twice the derivative",
        id="dW-reg-twice",
    ),
    mistake(
        _fc_with(grads_from_zeros=True),
        match=r"grads\['W3'\] \(batchnorm and dropout, float32\) has dtype float64",
        id="float64-grads",
    ),
    mistake(
        _fc_with(mean_over_n=False),
        match=f"loss \\(3 layers\\) {WRONG}.*sum over the examples",
        id="loss-summed-over-N",
    ),
    mistake(
        _fc_with(scores_for_test=False),
        match=r"raised TypeError: softmax_loss: y must be .*Hint: this call had y None",
        id="no-scores-for-y-None",
    ),
    mistake(
        _fc_with(two_hidden_only=True),
        match=r"scores \(batchnorm, 4 layers\) has the wrong shape",
        id="depth-hard-coded",
    ),
    mistake(
        fully_connected_net_loss_calls_the_reference,
        match=r"calls .*fully_connected_net_loss.*write the computation yourself",
        id="calls-the-reference",
    ),
    mistake(
        fully_connected_net_loss_calls_the_model,
        match=r"calls .*FullyConnectedNet.loss.*write the computation yourself",
        id="calls-the-model",
    ),
    mistake(not_implemented, match=r"not_implemented is not implemented yet", id="stub"),
]

CHECKS = {
    "two_layer_net_loss": (check_two_layer_net_loss, (two_layer_net_loss,), TWO_LAYER_MISTAKES),
    "fully_connected_net_loss": (
        check_fully_connected_net_loss,
        (fully_connected_net_loss,),
        FC_MISTAKES,
    ),
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_a_correct_implementation_passes_with_one_line(name, capsys):
    check, reference, _ = CHECKS[name]
    assert_check_passes_with_one_line(check, name, reference, capsys)


@pytest.mark.parametrize(("name", "student", "expected"), mistake_params(CHECKS))
def test_a_realistic_mistake_fails_with_its_message(name, student, expected, capsys):
    check, _, _ = CHECKS[name]
    assert_check_fails(check, name, student, expected, capsys)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_each_catalogue_holds_distinct_mistakes(name):
    assert_distinct_mistakes(CHECKS[name][2], minimum=10)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_a_non_function_is_named(name):
    check = CHECKS[name][0]
    with pytest.raises(Exception, match=f"^{name}: expected a function, got int"):
        check(3)


def test_the_worked_example_loss_is_the_references():
    case = M._two_layer_cases()[0]
    loss, _ = reference_fc_loss(case["params"], case["X"], case["y"], case["reg"])
    assert loss == pytest.approx(M._TWO_LAYER_EXAMPLE_LOSS, rel=1e-12)


def test_the_cases_make_the_mistakes_visible():
    """Every diagnosed mistake changes the outputs of the cases it is diagnosed on."""
    for case in M._fully_connected_cases() + M._two_layer_cases():
        right = M._forward(case, "train")
        for wrong, _ in M._score_suspects(case, "train"):
            assert np.abs(wrong - right).max() > 1e-3
        relu_inputs = M._forward(case, "test")
        assert (relu_inputs < 0).any()  # a ReLU after the last layer changes the scores
