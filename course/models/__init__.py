"""Models with the course's contract: ``params`` and ``loss(X, y=None)``.

- ``fc_net``: ``TwoLayerNet``, ``FullyConnectedNet``.
- ``cnn``: ``ThreeLayerConvNet``, ``TinyVGG``.
- ``word_lm``: ``WordRNNLanguageModel``; ``char_rnn``: ``CharRNN`` (their
  shared recurrent pieces are in the private ``_recurrent`` module).
- ``pretrained``: ``load_pretrained``, ``pretrained_info`` (weights shipped in
  ``course/weights/``).
- ``saved``: ``save_model``, ``load_model`` (a trained classifier as one
  ``.npz`` of data, no pickle; the best-model task's file).
- ``weight_init``: ``init_weight``, the one initialisation rule of every model.
- ``captioning``: ``CaptioningRNN`` (CS231n's image captioner, with beam search).
- ``ranking``: ``ImageSentenceRanker``, ``ranking_metrics``, ``retrieve``.
- ``image_features``: ``grid_features``, ``cached_grid_features`` (the
  pretrained TinyVGG's conv trunk as image features, for the captioners).

The models' argument checks live in the private ``_validation`` module. The
VGG-16 layer table is not a model: it is :mod:`course.vgg_table`.
"""

from course.models.captioning import CaptioningRNN
from course.models.char_rnn import CharRNN
from course.models.cnn import ThreeLayerConvNet, TinyVGG
from course.models.fc_net import FullyConnectedNet, TwoLayerNet
from course.models.image_features import cached_grid_features, grid_features
from course.models.pretrained import load_pretrained, pretrained_info
from course.models.ranking import ImageSentenceRanker, ranking_metrics, retrieve
from course.models.saved import load_model, save_model
from course.models.weight_init import init_weight
from course.models.word_lm import WordRNNLanguageModel

__all__ = [
    "CaptioningRNN",
    "CharRNN",
    "FullyConnectedNet",
    "ImageSentenceRanker",
    "ThreeLayerConvNet",
    "TinyVGG",
    "TwoLayerNet",
    "WordRNNLanguageModel",
    "cached_grid_features",
    "grid_features",
    "init_weight",
    "load_model",
    "load_pretrained",
    "pretrained_info",
    "ranking_metrics",
    "retrieve",
    "save_model",
]
