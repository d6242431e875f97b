"""Models with the course's contract: ``params`` and ``loss(X, y=None)``."""

from course.models.fc_net import FullyConnectedNet, TwoLayerNet

__all__ = ["FullyConnectedNet", "TwoLayerNet"]
