"""Models with the course's contract: ``params`` and ``loss(X, y=None)``."""

from course.models.cnn import ThreeLayerConvNet, TinyVGG
from course.models.fc_net import FullyConnectedNet, TwoLayerNet
from course.models.pretrained import load_pretrained, pretrained_info
from course.models.rnn_lm import CharRNN, WordRNNLanguageModel

__all__ = [
    "CharRNN",
    "FullyConnectedNet",
    "ThreeLayerConvNet",
    "TinyVGG",
    "TwoLayerNet",
    "WordRNNLanguageModel",
    "load_pretrained",
    "pretrained_info",
]
