"""Fully connected classifiers: a two-layer net and a net of any depth.

Both keep their weights in ``self.params`` (name -> ndarray) and expose
``loss(X, y=None)``: class scores (N, C) when ``y`` is None, else
``(loss, grads)`` with ``grads`` keyed like ``params``. The layers come from
:mod:`course.layers`; a model only wires them together. Weights are drawn by
:func:`course.models.weight_init.init_weight`; the argument checks are in
:mod:`course.models._validation`.

Each model's loss is a plain function of its parameters, which the model's
``loss`` calls: :func:`two_layer_net_loss` and :func:`fully_connected_net_loss`
are the graded references of the notebook-01 exercises of the same names.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course import layers
from course.models._validation import (
    validate_batch,
    validate_fully_connected_loss,
    validate_fully_connected_net,
    validate_two_layer_net,
)
from course.models.weight_init import init_weight


class TwoLayerNet:
    """affine - relu - affine - softmax, with L2 regularisation.

    Parameters ``W1`` (D, Hd), ``b1`` (Hd,), ``W2`` (Hd, C), ``b2`` (C,).
    The loss is the mean softmax loss plus ``0.5 * reg * (|W1|^2 + |W2|^2)``.
    """

    def __init__(
        self,
        input_dim: int = 3 * 32 * 32,
        hidden_dim: int = 100,
        num_classes: int = 10,
        weight_scale: float | str = 1e-3,
        reg: float = 0.0,
        dtype=np.float32,
        seed: int = 0,
    ) -> None:
        validate_two_layer_net(input_dim, hidden_dim, num_classes)
        self.reg = float(reg)
        self.dtype = np.dtype(dtype)
        rng = np.random.default_rng(seed)
        self.params = {
            "W1": init_weight(rng, (input_dim, hidden_dim), weight_scale, self.dtype),
            "b1": np.zeros(hidden_dim, dtype=self.dtype),
            "W2": init_weight(rng, (hidden_dim, num_classes), weight_scale, self.dtype),
            "b2": np.zeros(num_classes, dtype=self.dtype),
        }

    def loss(self, X: np.ndarray, y: np.ndarray | None = None):
        """Scores (N, C) when ``y`` is None, else ``(loss, grads)``.

        Inputs:
        - X: (N, d_1, ..., d_k) with d_1 * ... * d_k = input_dim
        - y: (N,) integer labels, or None
        """
        X = validate_batch("TwoLayerNet.loss", X, self.dtype)
        return two_layer_net_loss(self.params, X, y, self.reg)


class FullyConnectedNet:
    """{affine - [batchnorm] - relu - [dropout]} x (L - 1) - affine - softmax.

    ``hidden_dims`` gives the width of each of the L - 1 hidden layers.
    Parameters are ``W1, b1, ..., WL, bL`` and, with batchnorm, ``gamma1,
    beta1, ...`` for the hidden layers. Batchnorm's running averages are the
    model's state, in ``self.bn_params`` (one dict per hidden layer); dropout's
    keep probability is ``dropout_keep_ratio`` (1 means no dropout). Dropout
    masks are seeded by ``(seed, dropout_step)`` and the layer (see
    :func:`fully_connected_net_loss`), where ``dropout_step`` counts the
    training calls of ``loss``: runs are reproducible, and setting
    ``dropout_step`` back replays the same masks (gradient checking does).
    """

    def __init__(
        self,
        hidden_dims: Sequence[int],
        input_dim: int = 3 * 32 * 32,
        num_classes: int = 10,
        dropout_keep_ratio: float = 1.0,
        normalization: str | None = None,
        reg: float = 0.0,
        weight_scale: float | str = "he",
        dtype=np.float32,
        seed: int = 0,
    ) -> None:
        hidden_dims = validate_fully_connected_net(
            hidden_dims, input_dim, num_classes, normalization, dropout_keep_ratio
        )
        self.normalization = normalization
        self.use_dropout = dropout_keep_ratio < 1
        self.reg = float(reg)
        self.num_layers = len(hidden_dims) + 1
        self.dtype = np.dtype(dtype)
        self.seed = seed
        rng = np.random.default_rng(seed)
        dims = [input_dim, *hidden_dims, num_classes]
        self.params: dict[str, np.ndarray] = {}
        for i in range(self.num_layers):
            self.params[f"W{i + 1}"] = init_weight(
                rng, (dims[i], dims[i + 1]), weight_scale, self.dtype
            )
            self.params[f"b{i + 1}"] = np.zeros(dims[i + 1], dtype=self.dtype)
            if normalization and i < self.num_layers - 1:
                self.params[f"gamma{i + 1}"] = np.ones(dims[i + 1], dtype=self.dtype)
                self.params[f"beta{i + 1}"] = np.zeros(dims[i + 1], dtype=self.dtype)
        self.dropout_keep_ratio = float(dropout_keep_ratio)
        self.bn_params = [{"mode": "train"} for _ in hidden_dims] if normalization else []
        self.dropout_step = 0

    def loss(self, X: np.ndarray, y: np.ndarray | None = None):
        """Scores (N, C) when ``y`` is None (test mode), else ``(loss, grads)`` (train mode).

        Inputs:
        - X: (N, d_1, ..., d_k) with d_1 * ... * d_k = input_dim
        - y: (N,) integer labels, or None
        """
        X = validate_batch("FullyConnectedNet.loss", X, self.dtype)
        if self.use_dropout and y is not None:
            self.dropout_step += 1
        return fully_connected_net_loss(
            self.params,
            X,
            y,
            self.reg,
            self.normalization,
            self.bn_params,
            self.dropout_keep_ratio,
            _step_seed(self.seed, self.dropout_step),
        )


def two_layer_net_loss(params: dict[str, np.ndarray], X: np.ndarray, y=None, reg: float = 0.0):
    """The loss of affine - relu - affine - softmax, with L2 regularisation of the weights.

    ``loss = mean_n softmax_loss(scores_n, y_n) + 0.5 * reg * (|W1|^2 + |W2|^2)``,
    ``scores = relu(X @ W1 + b1) @ W2 + b2`` (X flattened to (N, D)).

    Inputs:
    - params: W1 (D, Hd), b1 (Hd,), W2 (Hd, C), b2 (C,), all of one dtype
    - X: (N, d_1, ..., d_k) with d_1 * ... * d_k = D, in the params' dtype
    - y: (N,) integer labels, or None
    - reg: the L2 strength

    Returns:
    - scores (N, C) when y is None, else
    - (loss, grads): loss a float, grads keyed like params, each of its
      parameter's shape and dtype
    """
    X = validate_batch("two_layer_net_loss", X, params["W1"].dtype)
    p = params
    hidden, hidden_cache = layers.affine_relu_forward(X, p["W1"], p["b1"])  # (N, Hd)
    scores, scores_cache = layers.affine_forward(hidden, p["W2"], p["b2"])  # (N, C)
    if y is None:
        return scores
    data_loss, dscores = layers.softmax_loss(scores, y)
    dhidden, dW2, db2 = layers.affine_backward(dscores, scores_cache)
    _, dW1, db1 = layers.affine_relu_backward(dhidden, hidden_cache)
    loss = data_loss + 0.5 * reg * (np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2))
    grads = {"W1": dW1 + reg * p["W1"], "b1": db1, "W2": dW2 + reg * p["W2"], "b2": db2}
    return float(loss), grads


def fully_connected_net_loss(
    params: dict[str, np.ndarray],
    X: np.ndarray,
    y=None,
    reg: float = 0.0,
    normalization: str | None = None,
    bn_params: list[dict] | None = None,
    dropout_keep_ratio: float = 1.0,
    dropout_seed: int = 0,
):
    """The loss of {affine - [batchnorm] - relu - [dropout]} x (L - 1) - affine - softmax.

    ``loss = mean_n softmax_loss(scores_n, y_n) + 0.5 * reg * sum_i |Wi|^2``:
    L2 on the weights only (not the biases, gammas or betas). Train mode when
    y is given, test mode (batchnorm with the running averages, no dropout)
    when y is None.

    Inputs:
    - params: W1 (D, Hd_1), b1 (Hd_1,), ..., WL (Hd_{L-1}, C), bL (C,); with
      batchnorm also gamma_i, beta_i (Hd_i,) for the hidden layers i < L
    - X: (N, d_1, ..., d_k) with d_1 * ... * d_k = D, in the params' dtype
    - y: (N,) integer labels, or None
    - reg: the L2 strength
    - normalization: None or 'batchnorm'
    - bn_params: with batchnorm, one state dict per hidden layer (keys
      'running_mean', 'running_var', optional 'momentum', 'eps'), handed to
      batchnorm_forward with 'mode' set; in train mode batchnorm_forward
      stores new running averages in it (None: fresh dicts, updates lost)
    - dropout_keep_ratio: the probability of keeping a unit (1: no dropout)
    - dropout_seed: an int; hidden layer i's mask is dropout_forward's with
      dropout_param {'mode': mode, 'p': dropout_keep_ratio, 'seed': (dropout_seed, i)}

    Returns:
    - scores (N, C) when y is None, else
    - (loss, grads): loss a float, grads keyed like params, each of its
      parameter's shape and dtype
    """
    X, L = validate_fully_connected_loss(
        "fully_connected_net_loss", params, X, normalization, bn_params, dropout_keep_ratio
    )
    mode = "test" if y is None else "train"
    if normalization and bn_params is None:
        bn_params = [{} for _ in range(L - 1)]
    p = params
    caches = []
    h = X
    for i in range(1, L):
        h, fc_cache = layers.affine_forward(h, p[f"W{i}"], p[f"b{i}"])  # (N, Hd_i)
        bn_cache = drop_cache = None
        if normalization:
            bn_param = bn_params[i - 1]  # documented state: batchnorm stores its averages here
            bn_param["mode"] = mode
            h, bn_cache = layers.batchnorm_forward(h, p[f"gamma{i}"], p[f"beta{i}"], bn_param)
        h, relu_cache = layers.relu_forward(h)
        if dropout_keep_ratio < 1:
            drop_param = {"mode": mode, "p": dropout_keep_ratio, "seed": (dropout_seed, i)}
            h, drop_cache = layers.dropout_forward(h, drop_param)
        caches.append((fc_cache, bn_cache, relu_cache, drop_cache))
    scores, scores_cache = layers.affine_forward(h, p[f"W{L}"], p[f"b{L}"])  # (N, C)
    if mode == "test":
        return scores

    loss, dscores = layers.softmax_loss(scores, y)
    grads: dict[str, np.ndarray] = {}
    dh, grads[f"W{L}"], grads[f"b{L}"] = layers.affine_backward(dscores, scores_cache)
    for i in range(L - 1, 0, -1):
        fc_cache, bn_cache, relu_cache, drop_cache = caches[i - 1]
        if drop_cache is not None:
            dh = layers.dropout_backward(dh, drop_cache)
        dh = layers.relu_backward(dh, relu_cache)
        if bn_cache is not None:
            dh, grads[f"gamma{i}"], grads[f"beta{i}"] = layers.batchnorm_backward(dh, bn_cache)
        dh, grads[f"W{i}"], grads[f"b{i}"] = layers.affine_backward(dh, fc_cache)
    for i in range(1, L + 1):
        W = p[f"W{i}"]
        loss += 0.5 * reg * float(np.sum(W * W))
        grads[f"W{i}"] = grads[f"W{i}"] + reg * W
    return float(loss), grads


def _step_seed(seed: int, step: int) -> int:
    """The ``dropout_seed`` of a model's training step: one int per (model seed, step)."""
    return int(np.random.SeedSequence((seed, step)).generate_state(1, np.uint64)[0])
