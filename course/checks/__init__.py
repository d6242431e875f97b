"""Autograded checks, one per exercise, named ``check_<function>``.

Each check takes the student's function(s), runs them on fixed-seed inputs
and either prints one line of success with the measured errors or raises
:class:`CheckFailed` (an ``AssertionError``) naming the output that is wrong,
the error against its threshold, and a hint. A backward check takes the
forward too, because the backward reads the forward's cache::

    from course.checks import check_affine_backward
    check_affine_backward(affine_forward, affine_backward)

The modules mirror ``course/layers/`` (``checks/pool.py`` checks
``layers/pool.py``; ``checks/optim.py`` checks ``course/optim.py``) and share
one harness and one tolerance table, in ``checks/core.py``.

Importing this package changes nothing in the process. A notebook's setup
cell shows failed checks as one line, not a traceback into ``course``, by
calling :func:`install_check_display` (``checks/display.py``) explicitly::

    from course.checks import install_check_display
    install_check_display()

Each call of a student's function may run 60 s (a loop that never ends fails
the check instead of hanging it); :func:`set_time_limit` changes that, 0 or
None turns it off (see ``checks/core.py``).
"""

from course.checks.best_model import best_model_points, check_best_model
from course.checks.captioning import (
    check_beam_search,
    check_captioning_loss,
    check_sample_captions,
)
from course.checks.conv import check_conv_backward_naive, check_conv_forward_naive
from course.checks.conv_net import check_three_layer_conv_net_loss
from course.checks.core import CheckFailed, set_time_limit
from course.checks.display import install_check_display
from course.checks.dropout import check_dropout_backward, check_dropout_forward
from course.checks.fc import (
    check_affine_backward,
    check_affine_forward,
    check_affine_relu_backward,
    check_affine_relu_forward,
    check_relu_backward,
    check_relu_forward,
)
from course.checks.gradcheck import check_numerical_gradient
from course.checks.losses import check_softmax_loss, check_svm_loss
from course.checks.models import check_fully_connected_net_loss, check_two_layer_net_loss
from course.checks.norm import (
    check_batchnorm_backward,
    check_batchnorm_forward,
    check_spatial_batchnorm_backward,
    check_spatial_batchnorm_forward,
)
from course.checks.optim import check_adam, check_rmsprop, check_sgd_momentum
from course.checks.overfit import check_overfit_small_data
from course.checks.pool import check_max_pool_backward_naive, check_max_pool_forward_naive
from course.checks.rnn import (
    check_lstm_backward,
    check_lstm_forward,
    check_lstm_step_backward,
    check_lstm_step_forward,
    check_rnn_backward,
    check_rnn_forward,
    check_rnn_step_backward,
    check_rnn_step_forward,
)
from course.checks.temporal import (
    check_temporal_affine_backward,
    check_temporal_affine_forward,
    check_temporal_softmax_loss,
    check_word_embedding_backward,
    check_word_embedding_forward,
)
from course.checks.viz import (
    check_class_visualisation_step,
    check_make_fooling_image,
    check_saliency_maps,
)

__all__ = [
    "CheckFailed",
    "best_model_points",
    "check_adam",
    "check_affine_backward",
    "check_affine_forward",
    "check_affine_relu_backward",
    "check_affine_relu_forward",
    "check_batchnorm_backward",
    "check_beam_search",
    "check_best_model",
    "check_captioning_loss",
    "check_batchnorm_forward",
    "check_class_visualisation_step",
    "check_conv_backward_naive",
    "check_conv_forward_naive",
    "check_dropout_backward",
    "check_dropout_forward",
    "check_fully_connected_net_loss",
    "check_lstm_backward",
    "check_lstm_forward",
    "check_lstm_step_backward",
    "check_lstm_step_forward",
    "check_make_fooling_image",
    "check_max_pool_backward_naive",
    "check_max_pool_forward_naive",
    "check_numerical_gradient",
    "check_overfit_small_data",
    "check_relu_backward",
    "check_relu_forward",
    "check_rmsprop",
    "check_rnn_backward",
    "check_rnn_forward",
    "check_rnn_step_backward",
    "check_rnn_step_forward",
    "check_saliency_maps",
    "check_sample_captions",
    "check_sgd_momentum",
    "check_softmax_loss",
    "check_spatial_batchnorm_backward",
    "check_spatial_batchnorm_forward",
    "check_svm_loss",
    "check_three_layer_conv_net_loss",
    "check_temporal_affine_backward",
    "check_temporal_affine_forward",
    "check_temporal_softmax_loss",
    "check_two_layer_net_loss",
    "check_word_embedding_backward",
    "check_word_embedding_forward",
    "install_check_display",
    "set_time_limit",
]
