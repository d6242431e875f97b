"""Tests for course/models/fc_net.py: gradients, shapes, dtypes, and learning."""

import numpy as np
import pytest

from course.gradcheck import numerical_gradient, rel_error
from course.models import FullyConnectedNet, TwoLayerNet, fc_net
from course.models.fc_net import fully_connected_net_loss, two_layer_net_loss


def _data(seed=0, N=6, D=5, C=4):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, D)), rng.integers(0, C, size=N)


def _check_model_gradients(model, X, y, replay=None):
    """Every parameter's analytic gradient against centred differences, float64."""
    if replay:
        replay()
    _, grads = model.loss(X, y)
    assert grads.keys() == model.params.keys()
    worst = 0.0
    for name, value in model.params.items():

        def f(v, name=name):
            if replay:
                replay()
            saved = model.params[name]
            model.params[name] = v
            try:
                return model.loss(X, y)[0]
            finally:
                model.params[name] = saved

        numeric = numerical_gradient(f, value)
        if max(np.abs(numeric).max(), np.abs(grads[name]).max()) < 1e-9:
            continue  # a true zero gradient (a bias before batchnorm): nothing to compare
        error = rel_error(numeric, grads[name])
        assert error < 1e-7, f"{name}: {error:.1e}"
        worst = max(worst, error)
    return worst


@pytest.mark.parametrize("reg", [0.0, 0.7])
def test_two_layer_net_gradients(reg):
    X, y = _data()
    model = TwoLayerNet(
        input_dim=5, hidden_dim=7, num_classes=4, weight_scale=0.5, reg=reg, dtype=np.float64
    )
    _check_model_gradients(model, X, y)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"reg": 0.3},
        {"normalization": "batchnorm"},
        {"dropout_keep_ratio": 0.6},
        {"normalization": "batchnorm", "dropout_keep_ratio": 0.7, "reg": 0.1},
    ],
    ids=["plain", "reg", "batchnorm", "dropout", "all"],
)
def test_fully_connected_net_gradients(kwargs):
    X, y = _data(N=8)
    model = FullyConnectedNet(
        [6, 5], input_dim=5, num_classes=4, dtype=np.float64, seed=1, **kwargs
    )

    def replay():
        model.dropout_step = 0

    _check_model_gradients(model, X, y, replay)


def test_scores_shape_and_dtype_float32():
    X = np.random.default_rng(0).standard_normal((3, 2, 4, 4))  # float64 images, D = 32
    for model in (
        TwoLayerNet(input_dim=32, hidden_dim=10, num_classes=3),
        FullyConnectedNet([10, 8], input_dim=32, num_classes=3, normalization="batchnorm"),
    ):
        scores = model.loss(X)
        assert scores.shape == (3, 3)
        assert scores.dtype == np.float32
        loss, grads = model.loss(X, np.array([0, 1, 2]))
        assert all(g.dtype == np.float32 for g in grads.values())
        assert np.isfinite(loss)


def test_initial_loss_is_log_num_classes():
    X, y = _data(N=200, D=20, C=10)
    model = TwoLayerNet(input_dim=20, hidden_dim=30, num_classes=10, dtype=np.float64)
    loss, _ = model.loss(X, y)
    assert loss == pytest.approx(np.log(10), rel=1e-2)


def test_loss_does_not_mutate_params_or_inputs():
    X, y = _data()
    model = FullyConnectedNet(
        [6],
        input_dim=5,
        num_classes=4,
        normalization="batchnorm",
        dropout_keep_ratio=0.5,
        dtype=np.float64,
    )
    before = {k: v.copy() for k, v in model.params.items()}
    X_before = X.copy()
    model.loss(X, y)
    assert all(np.array_equal(before[k], model.params[k]) for k in before)
    assert np.array_equal(X, X_before)


def test_batchnorm_running_averages_used_at_test_time():
    X, y = _data(N=50)
    model = FullyConnectedNet(
        [6], input_dim=5, num_classes=4, normalization="batchnorm", dtype=np.float64
    )
    model.loss(X, y)
    assert not np.allclose(model.bn_params[0]["running_mean"], 0)
    # Test mode: each example's scores do not depend on the rest of the batch.
    assert np.allclose(model.loss(X[:3]), model.loss(X)[:3])


def test_same_seed_same_init_and_dropout_masks():
    X, y = _data(N=10)
    a = FullyConnectedNet([8], input_dim=5, num_classes=4, dropout_keep_ratio=0.5, seed=3)
    b = FullyConnectedNet([8], input_dim=5, num_classes=4, dropout_keep_ratio=0.5, seed=3)
    first = a.loss(X, y)[0]
    assert first == b.loss(X, y)[0]
    assert a.loss(X, y)[0] != first  # a new mask on the next step
    a.dropout_step = 0
    assert a.loss(X, y)[0] == first  # replayed


def test_overfits_a_small_batch_by_gradient_descent():
    X, y = _data(N=20, D=10, C=5)
    model = FullyConnectedNet([50, 50], input_dim=10, num_classes=5, dtype=np.float64)
    for _ in range(300):
        loss, grads = model.loss(X, y)
        model.params = {k: v - 0.1 * grads[k] for k, v in model.params.items()}
    assert (model.loss(X).argmax(axis=1) == y).mean() == 1.0
    assert loss < 0.05


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"hidden_dims": [10, -1]}, r"hidden_dims\[1\] must be a positive integer"),
        ({"hidden_dims": [10], "normalization": "layer"}, "normalization must be None or"),
        ({"hidden_dims": [10], "dropout_keep_ratio": 0.0}, "probability of keeping"),
        ({"hidden_dims": [10], "weight_scale": -1.0}, "weight_scale must be a positive"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        FullyConnectedNet(**kwargs)


def test_wrong_input_size_names_both_shapes():
    model = TwoLayerNet(input_dim=12, hidden_dim=4, num_classes=3)
    with pytest.raises(ValueError, match=r"\(2, 5\).*D=5.*\(12, 4\)"):
        model.loss(np.zeros((2, 5), dtype=np.float32))


@pytest.mark.parametrize(
    "model",
    [TwoLayerNet(input_dim=5, hidden_dim=4, num_classes=3), FullyConnectedNet([4], input_dim=5)],
    ids=["TwoLayerNet", "FullyConnectedNet"],
)
def test_an_empty_batch_is_refused_by_the_model(model):
    name = type(model).__name__
    X = np.zeros((0, 5), dtype=np.float32)
    for y in (None, np.zeros(0, dtype=np.int64)):
        with pytest.raises(ValueError, match=rf"{name}.loss: X has 0 examples \(shape \(0, 5\)\)"):
            model.loss(X, y)


# ---------------------------------------------------------------------------
# The loss functions the models call (the graded references of notebook 01)
# ---------------------------------------------------------------------------


def _function_gradient_errors(loss_of_params, params):
    """Each gradient of ``loss_of_params(params) -> (loss, grads)`` against centred differences."""
    _, grads = loss_of_params(params)
    assert grads.keys() == params.keys()
    errors = {}
    for name, value in params.items():

        def f(v, name=name):
            return loss_of_params({**params, name: v})[0]

        numeric = numerical_gradient(f, value)
        if max(np.abs(numeric).max(), np.abs(grads[name]).max()) < 1e-9:
            continue  # a true zero gradient (a bias before batchnorm): nothing to compare
        errors[name] = rel_error(numeric, grads[name])
    return errors


@pytest.mark.parametrize("reg", [0.0, 0.7])
def test_two_layer_net_loss_gradients(reg):
    X, y = _data()
    rng = np.random.default_rng(3)
    params = {
        "W1": rng.standard_normal((5, 7)) * 0.5,
        "b1": rng.standard_normal(7) * 0.1,
        "W2": rng.standard_normal((7, 4)) * 0.5,
        "b2": rng.standard_normal(4) * 0.1,
    }
    errors = _function_gradient_errors(lambda p: two_layer_net_loss(p, X, y, reg), params)
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize(
    "kwargs",
    [
        {"reg": 0.3},
        {"normalization": "batchnorm", "reg": 0.1},
        {"dropout_keep_ratio": 0.6, "dropout_seed": 4},
        {"normalization": "batchnorm", "dropout_keep_ratio": 0.7, "reg": 0.2},
    ],
    ids=["reg", "batchnorm", "dropout", "all"],
)
def test_fully_connected_net_loss_gradients(kwargs):
    X, y = _data(N=8)
    model = FullyConnectedNet([6, 5, 4], input_dim=5, num_classes=4, dtype=np.float64, seed=2)
    rng = np.random.default_rng(5)
    params = {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in model.params.items()}
    if kwargs.get("normalization"):
        for i, width in enumerate([6, 5, 4], start=1):
            params[f"gamma{i}"] = 1 + 0.2 * rng.standard_normal(width)
            params[f"beta{i}"] = 0.2 * rng.standard_normal(width)

    def loss_of(p):
        bn_params = [{} for _ in range(3)]
        return fully_connected_net_loss(p, X, y, bn_params=bn_params, **kwargs)

    errors = _function_gradient_errors(loss_of, params)
    assert max(errors.values()) < 1e-7, errors


def test_the_models_call_the_loss_functions():
    X, y = _data(N=10)
    two = TwoLayerNet(input_dim=5, hidden_dim=6, num_classes=4, reg=0.2, dtype=np.float64)
    assert two.loss(X, y)[0] == two_layer_net_loss(two.params, X, y, 0.2)[0]
    net = FullyConnectedNet(
        [6],
        input_dim=5,
        num_classes=4,
        normalization="batchnorm",
        dropout_keep_ratio=0.5,
        dtype=np.float64,
        seed=3,
    )
    bn_params = [{}]
    net_loss = net.loss(X, y)[0]
    seed = fc_net._step_seed(3, 1)
    loss = fully_connected_net_loss(net.params, X, y, 0.0, "batchnorm", bn_params, 0.5, seed)[0]
    assert loss == net_loss
    assert np.array_equal(bn_params[0]["running_mean"], net.bn_params[0]["running_mean"])


def test_fully_connected_net_loss_keeps_state_in_bn_params_only():
    X, y = _data(N=10)
    net = FullyConnectedNet([6, 5], input_dim=5, num_classes=4, normalization="batchnorm")
    old = {"running_mean": np.full(6, 0.5, np.float32), "running_var": np.full(6, 2.0, np.float32)}
    bn_params = [dict(old), {}]
    params = {k: v.copy() for k, v in net.params.items()}
    fully_connected_net_loss(params, X.astype(np.float32), y, 0.1, "batchnorm", bn_params)
    assert all(np.array_equal(params[k], net.params[k]) for k in params)
    assert np.array_equal(old["running_mean"], np.full(6, 0.5))  # replaced, not written into
    assert not np.array_equal(bn_params[0]["running_mean"], old["running_mean"])
    before = [dict(b) for b in bn_params]
    scores = fully_connected_net_loss(
        params, X.astype(np.float32), None, 0.1, "batchnorm", bn_params
    )
    assert scores.dtype == np.float32
    assert all(bn_params[i][k] is before[i][k] for i in range(2) for k in old)


@pytest.mark.parametrize(
    "params, kwargs, match",
    [
        ({"W1": np.zeros((5, 4)), "W2": np.zeros((4, 3)), "b2": np.zeros(3)}, {}, "no b1"),
        (
            {"W1": np.zeros((5, 4)), "b1": np.zeros(4), "W2": np.zeros((4, 3)), "b2": np.zeros(3)},
            {"normalization": "batchnorm"},
            "no gamma1, beta1",
        ),
        (
            {"W1": np.zeros((5, 3)), "b1": np.zeros(3)},
            {"normalization": "layernorm"},
            "normalization must be None or 'batchnorm'",
        ),
        ([np.zeros((5, 3))], {}, "params must be a dict"),
    ],
)
def test_fully_connected_net_loss_names_bad_arguments(params, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fully_connected_net_loss(params, np.zeros((2, 5)), **kwargs)
