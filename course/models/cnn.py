"""Convolutional classifiers: the three-layer ConvNet and TinyVGG.

Both follow the model contract (``params`` and ``loss(X, y=None)``) and run on
the fast layers of :mod:`course.layers` (``fast_conv``, ``fast_pool``). Images
are NCHW batches. The three-layer net's loss is also a plain function of its
parameters, :func:`three_layer_conv_net_loss` (notebook 02's exercise).

TinyVGG is VGG's recipe at toy scale (Simonyan and Zisserman, 2015): stages
of 3x3 convolutions with padding 1 (which keep the size) and ReLUs, each stage
closed by a 2x2 max pool (which halves it), then fully connected layers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course import layers
from course.models._validation import (
    validate_conv_net_inputs,
    validate_images,
    validate_three_layer_conv_net,
    validate_tiny_vgg,
)
from course.models.weight_init import init_weight
from course.validation import require_dout

POOL_2X2 = {"pool_height": 2, "pool_width": 2, "stride": 2}


class ThreeLayerConvNet:
    """conv - relu - 2x2 max pool - affine - relu - affine - softmax.

    Parameters: ``W1`` (F, C, HH, HH) and ``b1`` (F,) for the convolution
    (stride 1, padding (HH - 1) // 2, which keeps H and W); ``W2``
    (F*H/2*W/2, hidden_dim), ``b2``; ``W3`` (hidden_dim, num_classes), ``b3``.
    The loss adds ``0.5 * reg * sum of squared weights`` (biases excluded).
    """

    def __init__(
        self,
        input_dim: Sequence[int] = (3, 32, 32),
        num_filters: int = 32,
        filter_size: int = 7,
        hidden_dim: int = 100,
        num_classes: int = 10,
        weight_scale: float | str = 1e-3,
        reg: float = 0.0,
        dtype=np.float32,
        seed: int = 0,
    ) -> None:
        C, H, W = self.input_dim = validate_three_layer_conv_net(
            input_dim, num_filters, filter_size, hidden_dim, num_classes
        )
        self.reg = float(reg)
        self.dtype = np.dtype(dtype)
        self.conv_param = {"stride": 1, "pad": (filter_size - 1) // 2}
        rng = np.random.default_rng(seed)
        pooled = num_filters * (H // 2) * (W // 2)
        shapes = {
            "W1": (num_filters, C, filter_size, filter_size),
            "W2": (pooled, hidden_dim),
            "W3": (hidden_dim, num_classes),
        }
        self.params = {}
        for i, (name, shape) in enumerate(shapes.items(), start=1):
            self.params[name] = init_weight(rng, shape, weight_scale, self.dtype)
            self.params[f"b{i}"] = np.zeros(shape[0] if i == 1 else shape[1], dtype=self.dtype)

    def loss(self, X: np.ndarray, y: np.ndarray | None = None):
        """Scores (N, num_classes) when ``y`` is None, else ``(loss, grads)``.

        Inputs:
        - X: (N, C, H, W) images
        - y: (N,) integer labels, or None
        """
        X = validate_images("ThreeLayerConvNet.loss", X, self.input_dim, self.dtype)
        return three_layer_conv_net_loss(self.params, X, y, self.reg)


def three_layer_conv_net_loss(
    params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray | None = None, reg: float = 0.0
):
    """The loss of :class:`ThreeLayerConvNet` as a function of its parameters.

    conv (stride 1, pad (HH - 1) // 2, which keeps H and W) - relu - 2x2 max pool
    - affine - relu - affine - softmax, with ``0.5 * reg * sum of squared
    weights`` added to the loss (the biases are not regularised).

    Inputs:
    - params: W1 (F, C, HH, HH), b1 (F,), W2 (F*H/2*W/2, Hd), b2 (Hd,),
      W3 (Hd, num_classes), b3 (num_classes,)
    - X: (N, C, H, W) images, H and W even; cast to W1's dtype
    - y: (N,) integer labels, or None
    - reg: the L2 regularisation strength, >= 0

    Returns:
    - scores (N, num_classes) when ``y`` is None, else
    - (loss, grads): the loss (a float) and a dict keyed like ``params``, each
      gradient in its parameter's dtype
    """
    X, reg = validate_conv_net_inputs("three_layer_conv_net_loss", params, X, reg)
    p = params
    conv_param = {"stride": 1, "pad": (p["W1"].shape[2] - 1) // 2}
    pooled, cache1 = layers.conv_relu_pool_forward(
        X, p["W1"], p["b1"], conv_param, POOL_2X2
    )  # (N, F, H/2, W/2)
    hidden, cache2 = layers.affine_relu_forward(pooled, p["W2"], p["b2"])  # (N, Hd)
    scores, cache3 = layers.affine_forward(hidden, p["W3"], p["b3"])  # (N, num_classes)
    if y is None:
        return scores
    loss, dscores = layers.softmax_loss(scores, y)
    grads = {}
    dhidden, grads["W3"], grads["b3"] = layers.affine_backward(dscores, cache3)
    dpooled, grads["W2"], grads["b2"] = layers.affine_relu_backward(dhidden, cache2)
    _, grads["W1"], grads["b1"] = layers.conv_relu_pool_backward(dpooled, cache1)
    for name in ("W1", "W2", "W3"):
        loss += 0.5 * reg * float(np.sum(p[name] * p[name]))
        grads[name] = grads[name] + reg * p[name]
    return float(loss), grads


class TinyVGG:
    """[conv3x3 - [spatial batchnorm] - relu] x k - 2x2 max pool, per stage; then FC layers.

    ``stages`` lists the filter counts of each stage's convolutions, e.g.
    ``((16, 16), (32, 32))`` is conv16-conv16-pool-conv32-conv32-pool. Then
    come ``hidden_dims`` affine-relu layers and a final affine layer with
    softmax loss.

    Parameters are numbered in order: ``W1, b1`` is the first convolution
    (F, C, 3, 3), and so on through the convolutions and then the affine
    layers; with batchnorm each convolution ``i`` also has ``gamma{i}``,
    ``beta{i}`` (F,), and the running averages live in ``self.bn_params``.
    The loss adds ``0.5 * reg * sum of squared weights``. ``mean_image``, None
    unless set, is the (C, H, W) mean training image the model's inputs had
    subtracted: ``model.loss(images - model.mean_image)`` for [0, 1] images.
    """

    def __init__(
        self,
        input_dim: Sequence[int] = (3, 32, 32),
        stages: Sequence[Sequence[int]] = ((16, 16), (32, 32)),
        hidden_dims: Sequence[int] = (128,),
        num_classes: int = 10,
        normalization: str | None = "batchnorm",
        weight_scale: float | str = "he",
        reg: float = 0.0,
        dtype=np.float32,
        seed: int = 0,
    ) -> None:
        self.input_dim, self.stages, self.hidden_dims = validate_tiny_vgg(
            input_dim, stages, hidden_dims, num_classes, normalization
        )
        C, H, W = self.input_dim
        factor = 2 ** len(self.stages)  # each stage's 2x2 pool halves H and W
        self.num_classes = num_classes
        self.normalization = normalization
        self.weight_scale = weight_scale
        self.reg = float(reg)
        self.dtype = np.dtype(dtype)
        self.seed = seed
        self.conv_param = {"stride": 1, "pad": 1}
        rng = np.random.default_rng(seed)
        self.params: dict[str, np.ndarray] = {}
        channels, i = C, 0
        for stage in self.stages:
            for filters in stage:
                i += 1
                shape = (filters, channels, 3, 3)
                self.params[f"W{i}"] = init_weight(rng, shape, weight_scale, self.dtype)
                self.params[f"b{i}"] = np.zeros(filters, dtype=self.dtype)
                if normalization:
                    self.params[f"gamma{i}"] = np.ones(filters, dtype=self.dtype)
                    self.params[f"beta{i}"] = np.zeros(filters, dtype=self.dtype)
                channels = filters
        self.num_convs = i
        dims = [channels * (H // factor) * (W // factor), *self.hidden_dims, num_classes]
        for d_in, d_out in zip(dims[:-1], dims[1:], strict=True):
            i += 1
            self.params[f"W{i}"] = init_weight(rng, (d_in, d_out), weight_scale, self.dtype)
            self.params[f"b{i}"] = np.zeros(d_out, dtype=self.dtype)
        self.num_layers = i
        self.bn_params = (
            [{"mode": "train"} for _ in range(self.num_convs)] if normalization else []
        )
        # The mean training image (C, H, W) that inputs must have subtracted, when known
        # (a pretrained model carries it; see course.models.pretrained).
        self.mean_image: np.ndarray | None = None

    def config(self) -> dict:
        """The constructor arguments, as plain JSON-ready values (saved beside the weights)."""
        return {
            "input_dim": list(self.input_dim),
            "stages": [list(stage) for stage in self.stages],
            "hidden_dims": list(self.hidden_dims),
            "num_classes": self.num_classes,
            "normalization": self.normalization,
            "reg": self.reg,
            "dtype": self.dtype.name,
        }

    def layer_names(self) -> list[str]:
        """Layer names in order: 'conv1_1', 'conv1_2', 'pool1', ..., 'fc1', ..., 'scores'."""
        names = []
        for s, stage in enumerate(self.stages, start=1):
            names += [f"conv{s}_{k}" for k in range(1, len(stage) + 1)] + [f"pool{s}"]
        return names + [f"fc{k}" for k in range(1, len(self.hidden_dims) + 1)] + ["scores"]

    def _forward(self, X: np.ndarray, mode: str, keep: bool):
        """Run the net; return scores, the caches and (when ``keep``) every layer's output."""
        p = self.params
        caches: list[tuple] = []
        outputs: dict[str, np.ndarray] = {}
        names = iter(self.layer_names())
        h = self._conv_stages(X, mode, caches, outputs if keep else None, names)
        i = self.num_convs
        for _ in self.hidden_dims:
            i += 1
            h, fc_cache = layers.affine_relu_forward(h, p[f"W{i}"], p[f"b{i}"])
            caches.append(("fc", fc_cache))
            if keep:
                outputs[next(names)] = h
        i += 1
        scores, scores_cache = layers.affine_forward(h, p[f"W{i}"], p[f"b{i}"])
        caches.append(("scores", scores_cache))
        if keep:
            outputs[next(names)] = scores
        return scores, caches, outputs

    def _conv_stages(
        self,
        X: np.ndarray,
        mode: str,
        caches: list[tuple],
        outputs: dict[str, np.ndarray] | None,
        names,
    ) -> np.ndarray:
        """Run the convolution stages; append their caches; return the last pool's output."""
        p = self.params
        h, i = X, 0
        for stage in self.stages:
            for _ in stage:
                i += 1
                h, conv_cache = layers.conv_forward_fast(
                    h, p[f"W{i}"], p[f"b{i}"], self.conv_param
                )
                bn_cache = None
                if self.normalization:
                    bn_param = self.bn_params[i - 1]
                    bn_param["mode"] = mode
                    h, bn_cache = layers.spatial_batchnorm_forward(
                        h, p[f"gamma{i}"], p[f"beta{i}"], bn_param
                    )
                h, relu_cache = layers.relu_forward(h)
                caches.append(("conv", conv_cache, bn_cache, relu_cache))
                if outputs is not None:
                    outputs[next(names)] = h
            h, pool_cache = layers.max_pool_forward_fast(h, POOL_2X2)
            caches.append(("pool", pool_cache))
            if outputs is not None:
                outputs[next(names)] = h
        return h

    def loss(self, X: np.ndarray, y: np.ndarray | None = None):
        """Scores (N, num_classes) when ``y`` is None (test mode), else ``(loss, grads)``.

        Inputs:
        - X: (N, C, H, W) images
        - y: (N,) integer labels, or None
        """
        X = validate_images("TinyVGG.loss", X, self.input_dim, self.dtype)
        mode = "test" if y is None else "train"
        scores, caches, _ = self._forward(X, mode, keep=False)
        if y is None:
            return scores
        loss, dscores = layers.softmax_loss(scores, y)
        _, grads = self._backward(dscores, caches)
        for k in range(1, self.num_layers + 1):
            W = self.params[f"W{k}"]
            loss += 0.5 * self.reg * float(np.sum(W * W))
            grads[f"W{k}"] = grads[f"W{k}"] + self.reg * W
        return float(loss), grads

    def input_gradient(self, X: np.ndarray, dscores: np.ndarray) -> np.ndarray:
        """The gradient on the input images of ``sum(dscores * scores)``, in test mode.

        Runs the forward pass in test mode (batchnorm uses its running averages),
        then backpropagates the upstream gradient ``dscores`` through the layers'
        own backward functions down to the pixels: with ``dscores`` one-hot in
        class y it is the gradient of the (unnormalised) class score S_y(X),
        what saliency maps, class visualisation and fooling images ascend.

        Inputs:
        - X: (N, C, H, W) images
        - dscores: (N, num_classes) upstream gradient on the scores

        Returns:
        - dX: (N, C, H, W), in the model's dtype
        """
        func = "TinyVGG.input_gradient"
        X = validate_images(func, X, self.input_dim, self.dtype)
        dscores = require_dout(
            func, dscores, (X.shape[0], self.num_classes), name="dscores", of="scores"
        )
        _, caches, _ = self._forward(X, "test", keep=False)
        dX, _ = self._backward(dscores.astype(self.dtype, copy=False), caches)
        return dX

    def _backward(self, dscores: np.ndarray, caches: list[tuple]):
        """Backpropagate ``dscores`` (N, num_classes) through the caches of :meth:`_forward`.

        Returns ``(dX, grads)``: the (N, C, H, W) gradient on the input and the
        gradients of every parameter (without the regularisation term).
        """
        grads: dict[str, np.ndarray] = {}
        dh, i = dscores, self.num_layers
        for cache in reversed(caches):
            kind = cache[0]
            if kind == "scores":
                dh, grads[f"W{i}"], grads[f"b{i}"] = layers.affine_backward(dh, cache[1])
                i -= 1
            elif kind == "fc":
                dh, grads[f"W{i}"], grads[f"b{i}"] = layers.affine_relu_backward(dh, cache[1])
                i -= 1
            elif kind == "pool":
                dh = layers.max_pool_backward_fast(dh, cache[1])
            else:
                _, conv_cache, bn_cache, relu_cache = cache
                dh = layers.relu_backward(dh, relu_cache)
                if bn_cache is not None:
                    dh, grads[f"gamma{i}"], grads[f"beta{i}"] = layers.spatial_batchnorm_backward(
                        dh, bn_cache
                    )
                dh, grads[f"W{i}"], grads[f"b{i}"] = layers.conv_backward_fast(dh, conv_cache)
                i -= 1
        return dh, grads

    def activations(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Every layer's output in test mode, keyed by :meth:`layer_names` (for visualisation).

        Inputs:
        - X: (N, C, H, W) images

        Returns:
        - dict name -> array: (N, F, H', W') for conv and pool layers, (N, D) for the rest
        """
        X = validate_images("TinyVGG.activations", X, self.input_dim, self.dtype)
        return self._forward(X, "test", keep=True)[2]

    def conv_volume(self, X: np.ndarray) -> np.ndarray:
        """The last pool's output in test mode, for images of any size: the conv trunk.

        The convolutions keep the spatial size and each stage's pool halves it,
        so the trunk runs on larger images than the net was trained on (its
        filters are local): transfer learning without the FC layers.

        Inputs:
        - X: (N, C, H, W) images, C as the net's input, H and W multiples of
          2 ** len(stages)

        Returns:
        - volume: (N, F, H / 2**S, W / 2**S), F the last stage's filters, S the stages
        """
        return self.conv_activations(X)[f"pool{len(self.stages)}"]

    def conv_activations(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Every conv and pool layer's output in test mode, for images of any size.

        Inputs:
        - X: (N, C, H, W) images, H and W multiples of 2 ** len(stages)

        Returns:
        - dict name -> (N, F, H', W'), keyed 'conv1_1', ..., 'pool1', ... as in
          :meth:`layer_names`
        """
        func = "TinyVGG.conv_activations"
        factor = 2 ** len(self.stages)
        if not (isinstance(X, np.ndarray) and X.ndim == 4 and X.shape[1] == self.input_dim[0]):
            raise ValueError(
                f"{func}: X must be images (N, {self.input_dim[0]}, H, W), got "
                f"{getattr(X, 'shape', type(X).__name__)}"
            )
        if X.shape[2] % factor or X.shape[3] % factor:
            raise ValueError(
                f"{func}: H and W must be multiples of {factor} (the net has "
                f"{len(self.stages)} 2x2 pools), got {X.shape[2]}x{X.shape[3]}"
            )
        X = validate_images(func, X, X.shape[1:], self.dtype)
        outputs: dict[str, np.ndarray] = {}
        self._conv_stages(X, "test", [], outputs, iter(self.layer_names()))
        return outputs

    def extract_features(self, X: np.ndarray) -> np.ndarray:
        """The last hidden layer's output in test mode: an image's learned feature vector.

        Inputs:
        - X: (N, C, H, W) images

        Returns:
        - features: (N, D), D = hidden_dims[-1] (or the flattened last pool without FC layers)
        """
        outputs = self.activations(X)
        names = self.layer_names()
        return outputs[names[-2]].reshape(X.shape[0], -1)
