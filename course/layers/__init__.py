"""Reference implementations of the course's layers, as pure forward/backward pairs.

``X_forward(inputs...) -> (out, cache)`` and ``X_backward(dout, cache) -> grads``
with the gradients in the order of the forward's differentiable inputs. Losses
return ``(loss, dx)``. Import everything from here: ``from course.layers import
affine_forward``.
"""

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
from course.layers.norm import batchnorm_backward, batchnorm_forward

__all__ = [
    "affine_backward",
    "affine_forward",
    "affine_relu_backward",
    "affine_relu_forward",
    "batchnorm_backward",
    "batchnorm_forward",
    "dropout_backward",
    "dropout_forward",
    "relu_backward",
    "relu_forward",
    "softmax_loss",
    "svm_loss",
]
