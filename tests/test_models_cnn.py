"""Tests for course/models/cnn.py: ThreeLayerConvNet and TinyVGG."""

import numpy as np
import pytest

from course.gradcheck import numerical_gradient, rel_error
from course.models.cnn import ThreeLayerConvNet, TinyVGG, three_layer_conv_net_loss


def _data(N=3, shape=(3, 8, 12), classes=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, *shape)), rng.integers(0, classes, N)


def _worst_gradient_error(model, X, y):
    """Largest relative error of the model's gradients against centred differences (float64)."""
    _, grads = model.loss(X, y)
    assert grads.keys() == model.params.keys()
    worst = 0.0
    for name, value in model.params.items():

        def f(v, name=name):
            saved = model.params[name]
            model.params[name] = v
            try:
                return model.loss(X, y)[0]
            finally:
                model.params[name] = saved

        numeric = numerical_gradient(f, value)
        if max(np.abs(numeric).max(), np.abs(grads[name]).max()) < 1e-9:
            continue  # a bias right before batchnorm has a true zero gradient
        error = rel_error(numeric, grads[name])
        assert error < 1e-7, f"{name}: {error:.1e}"
        worst = max(worst, error)
    return worst


@pytest.mark.parametrize("reg", [0.0, 0.3])
def test_three_layer_convnet_gradients(reg):
    X, y = _data()
    model = ThreeLayerConvNet(
        input_dim=(3, 8, 12),
        num_filters=3,
        filter_size=3,
        hidden_dim=5,
        num_classes=3,
        weight_scale=0.3,
        reg=reg,
        dtype=np.float64,
    )
    assert _worst_gradient_error(model, X, y) < 1e-7


def _conv_net_params(filter_size=5, shape=(3, 6, 8), F=4, Hd=7, classes=5, seed=1):
    """Random float64 parameters of a three-layer ConvNet, biases not zero."""
    rng = np.random.default_rng(seed)
    C, H, W = shape
    return {
        "W1": 0.3 * rng.standard_normal((F, C, filter_size, filter_size)),
        "b1": 0.1 * rng.standard_normal(F),
        "W2": 0.3 * rng.standard_normal((F * H // 2 * W // 2, Hd)),
        "b2": 0.1 * rng.standard_normal(Hd),
        "W3": 0.3 * rng.standard_normal((Hd, classes)),
        "b3": 0.1 * rng.standard_normal(classes),
    }


@pytest.mark.parametrize("filter_size, reg", [(3, 0.0), (5, 0.4)])
def test_three_layer_conv_net_loss_gradients(filter_size, reg):
    """The function's gradients against centred differences of its loss (float64)."""
    params = _conv_net_params(filter_size)
    X, y = _data(N=4, shape=(3, 6, 8), classes=5)
    _, grads = three_layer_conv_net_loss(params, X, y, reg)
    assert grads.keys() == params.keys()
    for name, value in params.items():

        def f(v, name=name):
            return three_layer_conv_net_loss({**params, name: v}, X, y, reg)[0]

        error = rel_error(numerical_gradient(f, value), grads[name])
        assert error < 1e-7, f"{name}: {error:.1e}"


def test_three_layer_conv_net_loss_is_the_models_loss():
    model = ThreeLayerConvNet(
        input_dim=(3, 6, 8),
        num_filters=4,
        filter_size=5,
        hidden_dim=7,
        num_classes=5,
        reg=0.2,
        dtype=np.float64,
    )
    model.params = _conv_net_params()
    X, y = _data(N=4, shape=(3, 6, 8), classes=5)
    np.testing.assert_array_equal(model.loss(X), three_layer_conv_net_loss(model.params, X))
    loss, grads = three_layer_conv_net_loss(model.params, X, y, 0.2)
    model_loss, model_grads = model.loss(X, y)
    assert loss == model_loss
    assert all(np.array_equal(grads[k], model_grads[k]) for k in grads)


def test_three_layer_conv_net_loss_keeps_float32():
    params = {k: v.astype(np.float32) for k, v in _conv_net_params().items()}
    X, y = _data(N=4, shape=(3, 6, 8), classes=5)
    scores = three_layer_conv_net_loss(params, X.astype(np.float32))
    loss, grads = three_layer_conv_net_loss(params, X.astype(np.float32), y, 0.1)
    assert scores.dtype == np.float32 and isinstance(loss, float)
    assert all(g.dtype == np.float32 for g in grads.values())


@pytest.mark.parametrize(
    "change, match",
    [
        ({"W1": np.zeros((4, 3, 4, 4))}, "square filters of odd size"),
        ({"W2": np.zeros((5, 7))}, r"X has shape \(4, 3, 6, 8\); expected \(N, 3, H, W\)"),
        ({"reg": -1.0}, "reg must be a number >= 0"),
    ],
)
def test_three_layer_conv_net_loss_errors(change, match):
    params = _conv_net_params() | change
    reg = params.pop("reg", 0.0)
    X, y = _data(N=4, shape=(3, 6, 8), classes=5)
    with pytest.raises(ValueError, match=match):
        three_layer_conv_net_loss(params, X, y, reg)


@pytest.mark.parametrize("normalization", [None, "batchnorm"])
def test_tinyvgg_gradients(normalization):
    X, y = _data()
    model = TinyVGG(
        input_dim=(3, 8, 12),
        stages=((3,), (2, 4)),
        hidden_dims=(5,),
        num_classes=3,
        normalization=normalization,
        reg=0.1,
        dtype=np.float64,
    )
    assert _worst_gradient_error(model, X, y) < 1e-7


def test_tinyvgg_parameter_shapes_and_names():
    model = TinyVGG(stages=((16, 16), (32,)), hidden_dims=(64, 32))
    shapes = {k: v.shape for k, v in model.params.items()}
    assert shapes["W1"] == (16, 3, 3, 3)
    assert shapes["W2"] == (16, 16, 3, 3)
    assert shapes["W3"] == (32, 16, 3, 3)
    assert shapes["W4"] == (32 * 8 * 8, 64)
    assert shapes["W5"] == (64, 32) and shapes["W6"] == (32, 10)
    assert shapes["gamma3"] == (32,) and "gamma4" not in shapes
    assert all(v.dtype == np.float32 for v in model.params.values())
    assert model.layer_names() == [
        "conv1_1",
        "conv1_2",
        "pool1",
        "conv2_1",
        "pool2",
        "fc1",
        "fc2",
        "scores",
    ]


def test_tinyvgg_activations_and_features():
    model = TinyVGG(input_dim=(3, 16, 16), stages=((4,), (6,)), hidden_dims=(7,))
    X = np.random.default_rng(1).standard_normal((2, 3, 16, 16)).astype(np.float32)
    outputs = model.activations(X)
    assert list(outputs) == model.layer_names()
    assert outputs["conv1_1"].shape == (2, 4, 16, 16)
    assert outputs["pool2"].shape == (2, 6, 4, 4)
    np.testing.assert_allclose(outputs["scores"], model.loss(X), rtol=1e-6)
    assert model.extract_features(X).shape == (2, 7)
    assert (outputs["conv1_1"] >= 0).all()  # after the ReLU


def test_tinyvgg_test_mode_does_not_depend_on_the_batch():
    model = TinyVGG(input_dim=(3, 8, 8), stages=((4,),), hidden_dims=(), dtype=np.float64)
    X, y = _data(N=6, shape=(3, 8, 8))
    model.loss(X, y)  # one training step fills the running averages
    alone = model.loss(X[:1])
    together = model.loss(X)[:1]
    np.testing.assert_allclose(alone, together, rtol=1e-12)


def test_seeded_initialisation_is_reproducible():
    a, b = TinyVGG(seed=3), TinyVGG(seed=3)
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    assert not np.array_equal(a.params["W1"], TinyVGG(seed=4).params["W1"])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"input_dim": (3, 30, 32)}, "multiples of 4"),
        ({"input_dim": (3, 32)}, r"input_dim must be \(C, H, W\)"),
        ({"stages": ()}, "non-empty"),
        ({"stages": ((16,), ())}, "non-empty"),
        ({"normalization": "layernorm"}, "normalization must be None or 'batchnorm'"),
        ({"weight_scale": -1.0}, "weight_scale must be a positive number or 'he'"),
    ],
)
def test_tinyvgg_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TinyVGG(**kwargs)


def test_three_layer_convnet_errors():
    with pytest.raises(ValueError, match="filter_size must be odd"):
        ThreeLayerConvNet(filter_size=4)
    with pytest.raises(ValueError, match="even H and W"):
        ThreeLayerConvNet(input_dim=(3, 31, 32))
    model = ThreeLayerConvNet(num_filters=2, hidden_dim=3)
    with pytest.raises(ValueError, match=r"X has shape \(2, 3, 16, 16\); expected"):
        model.loss(np.zeros((2, 3, 16, 16), dtype=np.float32))
    with pytest.raises(TypeError, match="X has dtype int64"):
        model.loss(np.zeros((2, 3, 32, 32), dtype=np.int64))


def test_three_layer_convnet_overfits_a_small_batch():
    from course.solver import Solver

    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3, 16, 16)).astype(np.float32)
    y = rng.integers(0, 4, 20)
    model = ThreeLayerConvNet(
        input_dim=(3, 16, 16),
        num_filters=8,
        filter_size=3,
        hidden_dim=32,
        num_classes=4,
        weight_scale="he",
    )
    data = {"X_train": X, "y_train": y, "X_val": X, "y_val": y}
    solver = Solver(
        model,
        data,
        update_rule="adam",
        optim_config={"learning_rate": 5e-3},
        batch_size=10,
        num_epochs=15,
        verbose=False,
    )
    solver.train()
    assert solver.train_acc_history[-1] == 1.0


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda model, X: model.loss(X), "loss"),
        (lambda model, X: model.loss(X, np.zeros(0, dtype=np.int64)), "loss"),
        (lambda model, X: model.activations(X), "activations"),
        (lambda model, X: model.extract_features(X), "activations"),
    ],
    ids=["scores", "loss", "activations", "extract_features"],
)
def test_tinyvgg_refuses_an_empty_batch(call, name):
    model = TinyVGG(input_dim=(3, 8, 12), stages=((2,),), hidden_dims=(4,), num_classes=3)
    X = np.zeros((0, 3, 8, 12), dtype=np.float32)
    message = rf"TinyVGG.{name}: X has 0 examples \(shape \(0, 3, 8, 12\)\); a batch needs"
    with pytest.raises(ValueError, match=message):
        call(model, X)


def test_three_layer_convnet_refuses_an_empty_batch():
    model = ThreeLayerConvNet(input_dim=(3, 8, 8), num_filters=2, hidden_dim=3)
    with pytest.raises(ValueError, match=r"ThreeLayerConvNet.loss: X has 0 examples"):
        model.loss(np.zeros((0, 3, 8, 8), dtype=np.float32), np.zeros(0, dtype=np.int64))
