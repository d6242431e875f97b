"""Every layer of the course, as pure forward/backward pairs, one module per topic.

``X_forward(inputs...) -> (out, cache)`` and ``X_backward(dout, cache) -> grads``
with the gradients in the order of the forward's differentiable inputs. Losses
return ``(loss, dx)``. Import everything from here: ``from course.layers import
affine_forward``.

- ``fc``: affine, ReLU, affine-ReLU; ``losses``: softmax and SVM;
  ``dropout``; ``norm``: batch and spatial batch normalisation
- ``conv``, ``pool``: the naive convolution and max pooling (loops)
- ``fast_conv``, ``fast_pool``: the same, fast (im2col over the compiled
  kernels ``_im2col``, with a numpy fallback), and the conv-relu(-pool)
  sandwiches; ``using_compiled()`` says whether the kernels are in use and
  ``num_threads()`` on how many threads they run
- ``rnn``: RNN and LSTM steps and sequences (the graded references, loops of
  steps); ``fused_rnn``: the same sequences, fast (what training uses)
- ``temporal``: word embedding, temporal affine, temporal softmax loss
"""

from course.layers._kernels import num_threads, using_compiled
from course.layers.conv import conv_backward_naive, conv_forward_naive
from course.layers.dropout import dropout_backward, dropout_forward
from course.layers.fast_conv import (
    conv_backward_fast,
    conv_forward_fast,
    conv_relu_backward,
    conv_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)
from course.layers.fast_pool import max_pool_backward_fast, max_pool_forward_fast
from course.layers.fc import (
    affine_backward,
    affine_forward,
    affine_relu_backward,
    affine_relu_forward,
    relu_backward,
    relu_forward,
)
from course.layers.fused_rnn import (
    lstm_backward_fused,
    lstm_forward_fused,
    rnn_backward_fused,
    rnn_forward_fused,
)
from course.layers.losses import softmax_loss, svm_loss
from course.layers.norm import (
    batchnorm_backward,
    batchnorm_forward,
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
)
from course.layers.pool import max_pool_backward_naive, max_pool_forward_naive
from course.layers.rnn import (
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
    sigmoid,
)
from course.layers.temporal import (
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)

__all__ = [
    "affine_backward",
    "affine_forward",
    "affine_relu_backward",
    "affine_relu_forward",
    "batchnorm_backward",
    "batchnorm_forward",
    "conv_backward_fast",
    "conv_backward_naive",
    "conv_forward_fast",
    "conv_forward_naive",
    "conv_relu_backward",
    "conv_relu_forward",
    "conv_relu_pool_backward",
    "conv_relu_pool_forward",
    "dropout_backward",
    "dropout_forward",
    "lstm_backward",
    "lstm_backward_fused",
    "lstm_forward",
    "lstm_forward_fused",
    "lstm_step_backward",
    "lstm_step_forward",
    "max_pool_backward_fast",
    "max_pool_backward_naive",
    "max_pool_forward_fast",
    "max_pool_forward_naive",
    "num_threads",
    "relu_backward",
    "relu_forward",
    "rnn_backward",
    "rnn_backward_fused",
    "rnn_forward",
    "rnn_forward_fused",
    "rnn_step_backward",
    "rnn_step_forward",
    "sigmoid",
    "softmax_loss",
    "spatial_batchnorm_backward",
    "spatial_batchnorm_forward",
    "svm_loss",
    "temporal_affine_backward",
    "temporal_affine_forward",
    "temporal_softmax_loss",
    "using_compiled",
    "word_embedding_backward",
    "word_embedding_forward",
]
