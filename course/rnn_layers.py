"""The recurrent and temporal layers, importable under their CS231n-style name.

They live in :mod:`course.layers.rnn` (the RNN and LSTM references),
:mod:`course.layers.fused_rnn` (their fast paths) and
:mod:`course.layers.temporal`; this module re-exports them so that
``from course.rnn_layers import lstm_forward`` keeps working.
"""

from course.layers.fused_rnn import (
    lstm_backward_fused,
    lstm_forward_fused,
    rnn_backward_fused,
    rnn_forward_fused,
)
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
    "lstm_backward",
    "lstm_backward_fused",
    "lstm_forward",
    "lstm_forward_fused",
    "lstm_step_backward",
    "lstm_step_forward",
    "rnn_backward",
    "rnn_backward_fused",
    "rnn_forward",
    "rnn_forward_fused",
    "rnn_step_backward",
    "rnn_step_forward",
    "sigmoid",
    "temporal_affine_backward",
    "temporal_affine_forward",
    "temporal_softmax_loss",
    "word_embedding_backward",
    "word_embedding_forward",
]
