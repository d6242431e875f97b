"""Tests for ``course.gradcheck``: numerical gradients, relative error, and the quality bar.

The quality bar: every backward function in ``course.layers`` agrees with a
centred numerical gradient to a relative error below 1e-7 in float64.
"""

from __future__ import annotations

import numpy as np
import pytest

from course import layers
from course.gradcheck import (
    differentiable_positions,
    gradient_errors,
    numerical_backward,
    numerical_gradient,
    numerical_gradient_array,
    param_gradient_errors,
    rel_error,
    sparse_gradient_error,
)

QUALITY_BAR = 1e-7


# ---------------------------------------------------------------------------
# rel_error
# ---------------------------------------------------------------------------


def test_rel_error_of_known_values():
    assert rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.2])) == pytest.approx(0.2 / 2.2)
    assert rel_error(np.array([3.0, -4.0]), np.zeros(2)) == 1.0


def test_rel_error_is_zero_for_equal_arrays_and_for_all_zeros():
    a = np.random.default_rng(0).standard_normal((3, 4))
    assert rel_error(a, a.copy()) == 0.0
    assert rel_error(np.zeros(5), np.zeros(5)) == 0.0
    assert rel_error(np.zeros((0, 3)), np.zeros((0, 3))) == 0.0


def test_rel_error_is_symmetric_and_scale_invariant():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    assert rel_error(a, b) == rel_error(b, a)
    assert rel_error(1e-6 * a, 1e-6 * b) == pytest.approx(rel_error(a, b), rel=1e-12)
    assert rel_error(1e6 * a, 1e6 * b) == pytest.approx(rel_error(a, b), rel=1e-12)


def test_rel_error_is_measured_against_the_scale_of_the_arrays():
    """A tiny entry that is relatively far off does not dominate."""
    a = np.array([1.0, 1e-12])
    b = np.array([1.0, 2e-12])
    assert rel_error(a, b) == pytest.approx(1e-12)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def test_rel_error_is_infinite_when_an_entry_is_not_finite(bad):
    assert rel_error(np.array([1.0, bad]), np.array([1.0, 2.0])) == float("inf")


def test_rel_error_refuses_different_shapes():
    with pytest.raises(ValueError, match=r"rel_error: shapes differ, \(2, 3\) and \(3, 2\)"):
        rel_error(np.zeros((2, 3)), np.zeros((3, 2)))


def test_rel_error_accepts_lists_and_integers_and_returns_a_float():
    error = rel_error([1, 2, 4], np.array([1.0, 2.0, 3.0]))
    assert type(error) is float and error == 0.25


def test_rel_error_does_not_change_its_inputs():
    a, b = np.array([1.0, 2.0]), np.array([1.5, 2.0], dtype=np.float32)
    rel_error(a, b)
    assert np.array_equal(a, [1.0, 2.0]) and b.dtype == np.float32


# ---------------------------------------------------------------------------
# numerical_gradient and numerical_gradient_array
# ---------------------------------------------------------------------------


def test_numerical_gradient_of_a_sum_of_squares():
    x = np.random.default_rng(2).standard_normal((3, 4, 2))
    grad = numerical_gradient(lambda z: np.sum(z**2), x)
    assert grad.shape == x.shape
    assert rel_error(grad, 2 * x) < 1e-9


def test_numerical_gradient_of_a_matrix_product():
    rng = np.random.default_rng(3)
    A, W, G = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal((5, 3))
    grad = numerical_gradient(lambda w: np.sum((A @ w) * G), W)
    assert rel_error(grad, A.T @ G) < 1e-9


def test_numerical_gradient_does_not_change_x_even_if_f_edits_its_argument():
    x = np.arange(6.0).reshape(2, 3)

    def doubles_in_place(z):
        z *= 2
        return z.sum()

    grad = numerical_gradient(doubles_in_place, x)
    assert np.array_equal(x, np.arange(6.0).reshape(2, 3))
    assert rel_error(grad, np.full((2, 3), 2.0)) < 1e-9


def test_numerical_gradient_works_in_float64_for_float32_input():
    x = np.linspace(-1, 1, 5, dtype=np.float32)
    grad = numerical_gradient(lambda z: np.sum(np.sin(z)), x)
    assert grad.dtype == np.float64 and x.dtype == np.float32
    assert rel_error(grad, np.cos(x.astype(np.float64))) < 1e-9


def test_numerical_gradient_array_of_a_matrix_product():
    rng = np.random.default_rng(4)
    A, x, dout = (
        rng.standard_normal((5, 4)),
        rng.standard_normal((4, 3)),
        rng.standard_normal((5, 3)),
    )
    grad = numerical_gradient_array(lambda z: A @ z, x, dout)
    assert rel_error(grad, A.T @ dout) < 1e-9


def test_numerical_gradient_array_of_an_elementwise_function():
    rng = np.random.default_rng(5)
    x, dout = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    x_before, dout_before = x.copy(), dout.copy()
    grad = numerical_gradient_array(np.tanh, x, dout)
    assert rel_error(grad, (1 - np.tanh(x) ** 2) * dout) < 1e-9
    assert np.array_equal(x, x_before) and np.array_equal(dout, dout_before)


# ---------------------------------------------------------------------------
# sparse_gradient_error
# ---------------------------------------------------------------------------


def _quadratic_problem():
    rng = np.random.default_rng(6)
    A = rng.standard_normal((6, 4))
    W = rng.standard_normal((4, 5))

    def f(w):
        return 0.5 * np.sum((A @ w) ** 2)

    return f, W, A.T @ (A @ W)


def test_sparse_gradient_error_accepts_a_correct_gradient():
    f, W, grad = _quadratic_problem()
    assert sparse_gradient_error(f, W, grad) < 1e-8


def test_sparse_gradient_error_finds_a_planted_error():
    f, W, grad = _quadratic_problem()
    wrong = grad.copy()
    wrong[2, 3] += 0.1 * abs(wrong[2, 3]) + 0.1
    assert sparse_gradient_error(f, W, wrong, num_checks=W.size) > 1e-3


def test_sparse_gradient_error_finds_a_gradient_off_by_a_factor():
    f, W, grad = _quadratic_problem()
    assert sparse_gradient_error(f, W, 2 * grad) == pytest.approx(0.5, rel=1e-6)


def test_sparse_gradient_error_is_reproducible_and_leaves_x_alone():
    f, W, grad = _quadratic_problem()
    W_before = W.copy()
    wrong = grad + np.random.default_rng(7).standard_normal(grad.shape)
    first = sparse_gradient_error(f, W, wrong, num_checks=3, seed=11)
    assert sparse_gradient_error(f, W, wrong, num_checks=3, seed=11) == first
    assert np.array_equal(W, W_before)


def test_sparse_gradient_error_allows_more_checks_than_entries():
    f, W, grad = _quadratic_problem()
    assert sparse_gradient_error(f, W, grad, num_checks=10 * W.size) < 1e-8


def test_sparse_gradient_error_counts_zero_against_zero_as_agreement():
    x = np.array([0.0, 1.0])
    assert sparse_gradient_error(lambda z: z[1] ** 2, x, np.array([0.0, 2.0])) < 1e-9


def test_sparse_gradient_error_refuses_a_gradient_of_another_shape():
    f, W, grad = _quadratic_problem()
    with pytest.raises(ValueError, match=r"analytic_grad has shape \(5, 4\), x has shape"):
        sparse_gradient_error(f, W, grad.T)


# ---------------------------------------------------------------------------
# differentiable_positions, numerical_backward, gradient_errors
# ---------------------------------------------------------------------------


def test_differentiable_positions_are_the_floating_point_arrays():
    inputs = [
        np.ones(2),
        np.arange(3),
        {"mode": "train"},
        np.ones(2, dtype=np.float32),
        1.5,
        np.array([True]),
    ]
    assert differentiable_positions(inputs) == [0, 3]


def test_numerical_backward_gives_each_call_a_fresh_state_dict():
    x = np.random.default_rng(8).standard_normal((5, 3))
    bn_param = {"mode": "train"}
    dout = np.random.default_rng(9).standard_normal((5, 3))
    grads = numerical_backward(
        layers.batchnorm_forward, (x, np.ones(3), np.zeros(3), bn_param), dout
    )
    assert [g.shape for g in grads] == [(5, 3), (3,), (3,)]
    assert bn_param == {"mode": "train"}


def _away_from_zero(a: np.ndarray, margin: float = 1e-3) -> np.ndarray:
    """Push entries out of (-margin, margin): the ReLU kink has no derivative."""
    return np.where(np.abs(a) < margin, np.copysign(margin, a) + a, a)


def _affine_2d(rng):
    return (
        layers.affine_forward,
        layers.affine_backward,
        (
            rng.standard_normal((4, 5)),
            rng.standard_normal((5, 3)),
            rng.standard_normal(3),
        ),
    )


def _affine_4d(rng):
    return (
        layers.affine_forward,
        layers.affine_backward,
        (
            rng.standard_normal((3, 2, 3, 4)),  # non-square trailing dims
            rng.standard_normal((24, 5)),
            rng.standard_normal(5),
        ),
    )


def _relu(rng):
    return (
        layers.relu_forward,
        layers.relu_backward,
        (_away_from_zero(rng.standard_normal((6, 3, 5))),),
    )


def _affine_relu(rng):
    x, w = rng.standard_normal((4, 2, 3)), rng.standard_normal((6, 5))
    b = rng.standard_normal(5)
    a = x.reshape(4, -1) @ w + b
    assert np.abs(a).min() > 1e-3, "pick another seed: a pre-activation sits on the kink"
    return layers.affine_relu_forward, layers.affine_relu_backward, (x, w, b)


def _batchnorm(mode):
    def make(rng):
        x = rng.standard_normal((6, 4)) * np.array([1.0, 2.0, 0.5, 3.0]) + 2.0
        bn_param = {
            "mode": mode,
            "running_mean": rng.standard_normal(4),
            "running_var": rng.uniform(0.5, 2.0, size=4),
        }
        gamma, beta = rng.uniform(0.5, 1.5, size=4), rng.standard_normal(4)
        return layers.batchnorm_forward, layers.batchnorm_backward, (x, gamma, beta, bn_param)

    return make


def _dropout(mode):
    def make(rng):
        x = rng.standard_normal((5, 7))
        param = {"mode": mode, "p": 0.6, "seed": 17}
        return layers.dropout_forward, layers.dropout_backward, (x, param)

    return make


def _conv(rng):
    x = rng.standard_normal((2, 3, 5, 8))  # non-square input
    w = rng.standard_normal((4, 3, 3, 2))  # non-square kernel
    b = rng.standard_normal(4)
    conv_param = {"stride": 2, "pad": 1}
    return layers.conv_forward_naive, layers.conv_backward_naive, (x, w, b, conv_param)


def _max_pool(rng):
    x = rng.permutation(2 * 3 * 6 * 5).reshape(2, 3, 6, 5) * 0.1  # distinct values: no ties
    pool_param = {"pool_height": 3, "pool_width": 2, "stride": 1}  # overlapping windows
    return layers.max_pool_forward_naive, layers.max_pool_backward_naive, (x, pool_param)


def _spatial_batchnorm(mode):
    def make(rng):
        x = rng.standard_normal((3, 4, 2, 5)) * np.array([1.0, 2.0, 0.5, 3.0])[:, None, None]
        bn_param = {
            "mode": mode,
            "running_mean": rng.standard_normal(4),
            "running_var": rng.uniform(0.5, 2.0, size=4),
        }
        gamma, beta = rng.uniform(0.5, 1.5, size=4), rng.standard_normal(4)
        return (
            layers.spatial_batchnorm_forward,
            layers.spatial_batchnorm_backward,
            (x, gamma, beta, bn_param),
        )

    return make


def _conv_fast(rng):
    _, _, inputs = _conv(rng)
    return layers.conv_forward_fast, layers.conv_backward_fast, inputs


def _max_pool_fast(rng):
    _, _, inputs = _max_pool(rng)
    return layers.max_pool_forward_fast, layers.max_pool_backward_fast, inputs


def _conv_relu(rng):
    x, w = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4)
    conv_param = {"stride": 1, "pad": 1}
    a, _ = layers.conv_forward_naive(x, w, b, conv_param)
    assert np.abs(a).min() > 1e-3, "pick another seed: a pre-activation sits on the kink"
    return layers.conv_relu_forward, layers.conv_relu_backward, (x, w, b, conv_param)


def _conv_relu_pool(rng):
    _, _, (x, w, b, conv_param) = _conv_relu(rng)
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    return (
        layers.conv_relu_pool_forward,
        layers.conv_relu_pool_backward,
        (x[:, :, :, :4], w, b, conv_param, pool_param),
    )


def _recurrent_inputs(rng, gates: int, sequence: bool) -> tuple:
    """x ((N, T, D) or (N, D)), h0 (N, Hd), Wx (D, G*Hd), Wh (Hd, G*Hd), b (G*Hd,)."""
    N, T, D, Hd = 3, 4, 5, 2
    x = rng.standard_normal((N, T, D) if sequence else (N, D))
    Wx, Wh = rng.standard_normal((D, gates * Hd)), rng.standard_normal((Hd, gates * Hd))
    return x, rng.standard_normal((N, Hd)), 0.5 * Wx, 0.5 * Wh, rng.standard_normal(gates * Hd)


def _one_output(forward, backward):
    """A forward that returns (out, extra, cache), seen with ``out`` as its only output."""

    def first_output(*inputs):
        out, _, cache = forward(*inputs)
        return out, cache

    first_output.__name__ = forward.__name__
    return first_output, backward


def _stacked(forward, backward):
    """A forward of two outputs of one shape, seen as one stacked output (2, ...)."""

    def stacked_forward(*inputs):
        *outs, cache = forward(*inputs)
        return np.stack(outs), cache

    def stacked_backward(dout, cache):
        return backward(*dout, cache)

    stacked_forward.__name__ = forward.__name__
    return stacked_forward, stacked_backward


def _rnn_step(rng):
    inputs = _recurrent_inputs(rng, gates=1, sequence=False)
    return layers.rnn_step_forward, layers.rnn_step_backward, inputs


def _rnn(forward, backward):
    def make(rng):
        return forward, backward, _recurrent_inputs(rng, gates=1, sequence=True)

    return make


def _lstm_step(rng):
    x, prev_h, Wx, Wh, b = _recurrent_inputs(rng, gates=4, sequence=False)
    prev_c = rng.standard_normal(prev_h.shape)
    pair = _stacked(layers.lstm_step_forward, layers.lstm_step_backward)
    return (*pair, (x, prev_h, prev_c, Wx, Wh, b))


def _lstm(with_c0: bool):
    def make(rng):
        inputs = _recurrent_inputs(rng, gates=4, sequence=True)
        c0 = (rng.standard_normal(inputs[1].shape),) if with_c0 else ()
        return layers.lstm_forward, layers.lstm_backward, (*inputs, *c0)

    return make


def _lstm_fused(with_c0: bool):
    def make(rng):
        _, _, inputs = _lstm(with_c0)(rng)
        return (*_one_output(layers.lstm_forward_fused, layers.lstm_backward_fused), inputs)

    return make


def _word_embedding(rng):
    x = rng.integers(0, 6, size=(3, 4))  # indices repeat: their gradients must add up
    return (
        layers.word_embedding_forward,
        layers.word_embedding_backward,
        (x, rng.standard_normal((6, 5))),
    )


def _temporal_affine(rng):
    x, w, b = rng.standard_normal((3, 4, 5)), rng.standard_normal((5, 6)), rng.standard_normal(6)
    return layers.temporal_affine_forward, layers.temporal_affine_backward, (x, w, b)


LAYER_PAIRS = [
    pytest.param(_conv, id="conv"),
    pytest.param(_max_pool, id="max_pool"),
    pytest.param(_spatial_batchnorm("train"), id="spatial_batchnorm-train"),
    pytest.param(_spatial_batchnorm("test"), id="spatial_batchnorm-test"),
    pytest.param(_affine_2d, id="affine-2d"),
    pytest.param(_affine_4d, id="affine-4d"),
    pytest.param(_relu, id="relu"),
    pytest.param(_affine_relu, id="affine_relu"),
    pytest.param(_batchnorm("train"), id="batchnorm-train"),
    pytest.param(_batchnorm("test"), id="batchnorm-test"),
    pytest.param(_dropout("train"), id="dropout-train"),
    pytest.param(_dropout("test"), id="dropout-test"),
    pytest.param(_conv_fast, id="conv_fast"),
    pytest.param(_max_pool_fast, id="max_pool_fast"),
    pytest.param(_conv_relu, id="conv_relu"),
    pytest.param(_conv_relu_pool, id="conv_relu_pool"),
    pytest.param(_rnn_step, id="rnn_step"),
    pytest.param(_rnn(layers.rnn_forward, layers.rnn_backward), id="rnn"),
    pytest.param(_rnn(layers.rnn_forward_fused, layers.rnn_backward_fused), id="rnn_fused"),
    pytest.param(_lstm_step, id="lstm_step"),
    pytest.param(_lstm(with_c0=False), id="lstm"),
    pytest.param(_lstm(with_c0=True), id="lstm-c0"),
    pytest.param(_lstm_fused(with_c0=False), id="lstm_fused"),
    pytest.param(_lstm_fused(with_c0=True), id="lstm_fused-c0"),
    pytest.param(_word_embedding, id="word_embedding"),
    pytest.param(_temporal_affine, id="temporal_affine"),
]


@pytest.mark.parametrize("make", LAYER_PAIRS)
def test_every_reference_backward_meets_the_quality_bar(make):
    forward, backward, inputs = make(np.random.default_rng(20))
    errors = gradient_errors(forward, backward, inputs)
    assert list(errors) == [f"d{i}" for i in differentiable_positions(inputs)]
    assert max(errors.values()) < QUALITY_BAR, errors


def test_the_quality_bar_covers_every_layer_pair_in_course_layers():
    rng = np.random.default_rng(21)
    covered = {make(rng)[0].__name__ for make in (p.values[0] for p in LAYER_PAIRS)}
    pairs = {
        name
        for name in layers.__all__
        if "_forward" in name and name.replace("_forward", "_backward") in layers.__all__
    }
    assert covered == pairs


@pytest.mark.parametrize("loss", [layers.softmax_loss, layers.svm_loss], ids=lambda f: f.__name__)
def test_every_reference_loss_gradient_meets_the_quality_bar(loss):
    rng = np.random.default_rng(22)
    x, y = rng.standard_normal((8, 5)), rng.integers(0, 5, size=8)
    _, dx = loss(x, y)
    numeric = numerical_gradient(lambda s: loss(s, y)[0], x)
    assert rel_error(dx, numeric) < QUALITY_BAR


def test_check_backward_leaves_its_inputs_alone():
    _, _, inputs = _batchnorm("train")(np.random.default_rng(23))
    x, gamma, beta, bn_param = inputs
    snapshot = [x.copy(), gamma.copy(), beta.copy(), dict(bn_param)]
    gradient_errors(layers.batchnorm_forward, layers.batchnorm_backward, inputs)
    assert np.array_equal(x, snapshot[0])
    assert np.array_equal(gamma, snapshot[1]) and np.array_equal(beta, snapshot[2])
    assert bn_param.keys() == snapshot[3].keys()
    assert all(bn_param[key] is snapshot[3][key] for key in bn_param)


def test_check_backward_uses_the_given_dout():
    x = np.random.default_rng(24).standard_normal((3, 4))
    seen = []

    def relu_backward(dout, cache):
        seen.append(dout)
        return layers.relu_backward(dout, cache)

    dout = np.ones((3, 4))
    gradient_errors(layers.relu_forward, relu_backward, (x,), dout=dout)
    assert seen[0] is dout


def test_check_backward_reveals_a_wrong_backward():
    def affine_backward_db_mean(dout, cache):
        dx, dw, db = layers.affine_backward(dout, cache)
        return dx, dw, db / dout.shape[0]

    _, _, inputs = _affine_2d(np.random.default_rng(25))
    errors = gradient_errors(layers.affine_forward, affine_backward_db_mean, inputs)
    assert errors["d0"] < QUALITY_BAR and errors["d1"] < QUALITY_BAR
    assert errors["d2"] == pytest.approx(0.75)


def test_check_backward_refuses_the_wrong_number_of_gradients():
    def affine_backward_without_db(dout, cache):
        return layers.affine_backward(dout, cache)[:2]

    _, _, inputs = _affine_2d(np.random.default_rng(26))
    with pytest.raises(
        ValueError, match=r"backward returned 2 gradients for 3 differentiable inputs"
    ):
        gradient_errors(layers.affine_forward, affine_backward_without_db, inputs)


def test_param_gradient_errors_checks_every_parameter_and_restores_it():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((5, 4))
    params = {"W": rng.standard_normal((4, 3)), "b": rng.standard_normal(3)}
    held = {name: value for name, value in params.items()}

    def loss():
        return float(np.sum((X @ params["W"] + params["b"]) ** 2) / 2)

    scores = X @ params["W"] + params["b"]  # (N, M); dL/dscores = scores
    grads = {"W": X.T @ scores, "b": scores.sum(axis=0)}
    errors = param_gradient_errors(loss, params, grads)
    assert set(errors) == {"W", "b"} and max(errors.values()) < 1e-9
    assert all(params[name] is held[name] for name in params)  # the same arrays, put back
    wrong = {"W": grads["W"], "b": scores.mean(axis=0)}  # a mean where a sum is right
    assert param_gradient_errors(loss, params, wrong)["b"] > 0.5
