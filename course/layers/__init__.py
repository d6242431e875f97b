"""Reference implementations of the course's layers, as pure forward/backward pairs.

``X_forward(inputs...) -> (out, cache)`` and ``X_backward(dout, cache) -> grads``
with the gradients in the order of the forward's differentiable inputs. Losses
return ``(loss, dx)``. Import everything from here: ``from course.layers import
affine_forward``.
"""

from course.layers.conv import conv_backward_naive, conv_forward_naive
from course.layers.dropout import dropout_backward, dropout_forward
from course.layers.fc import (
    affine_backward,
    affine_forward,
    affine_relu_backward,
    affine_relu_forward,
    relu_backward,
    relu_forward,
)
from course.layers.losses import softmax_loss, svm_loss
from course.layers.norm import (
    batchnorm_backward,
    batchnorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)
from course.layers.pool import max_pool_backward_naive, max_pool_forward_naive

__all__ = [
    "affine_backward",
    "affine_forward",
    "affine_relu_backward",
    "affine_relu_forward",
    "batchnorm_backward",
    "batchnorm_forward",
    "conv_backward_naive",
    "conv_forward_naive",
    "dropout_backward",
    "dropout_forward",
    "max_pool_backward_naive",
    "max_pool_forward_naive",
    "relu_backward",
    "relu_forward",
    "softmax_loss",
    "spatial_batchnorm_backward",
    "spatial_batchnorm_forward",
    "svm_loss",
]
