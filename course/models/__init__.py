"""Models with the course's contract: ``params`` and ``loss(X, y=None)``."""

from course.models.fc_net import FullyConnectedNet, TwoLayerNet
from course.models.rnn_lm import CharRNN, WordRNNLanguageModel

__all__ = ["CharRNN", "FullyConnectedNet", "TwoLayerNet", "WordRNNLanguageModel"]
