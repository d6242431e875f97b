"""The fast convolution and pooling layers, importable under their CS231n-style name.

They live in :mod:`course.layers.fast_conv` and :mod:`course.layers.fast_pool`;
this module re-exports them so that ``from course.fast_layers import
conv_forward_fast`` keeps working.
"""

from course.layers._kernels import num_threads, using_compiled
from course.layers.fast_conv import (
    col2im,
    conv_backward_fast,
    conv_forward_fast,
    conv_relu_backward,
    conv_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
    im2col,
)
from course.layers.fast_pool import max_pool_backward_fast, max_pool_forward_fast

__all__ = [
    "col2im",
    "conv_backward_fast",
    "conv_forward_fast",
    "conv_relu_backward",
    "conv_relu_forward",
    "conv_relu_pool_backward",
    "conv_relu_pool_forward",
    "im2col",
    "max_pool_backward_fast",
    "max_pool_forward_fast",
    "num_threads",
    "using_compiled",
]
