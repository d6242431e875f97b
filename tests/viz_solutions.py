"""The three exercises of notebook 03 (gradients on the input), written as a student writes them.

These are the solution regions of the visualisation notebook: plain numpy
around ``model.input_gradient(X, dscores)``, the gradient on the images of
``sum(dscores * scores)``, checked by ``course.checks.viz``
(``tests/test_checks_viz.py`` runs them through the checks). They do not call
``course.viz``. Dimension letters: N images, C channels, H and W height and
width, K classes.
"""

from __future__ import annotations

import numpy as np

from course.layers import softmax_loss


def saliency_maps(model, X, y):
    """Max over channels of |dS_y / dX|: which pixels each image's class-y score hangs on.

    Inputs:
    - model: a TinyVGG
    - X: (N, C, H, W) model inputs
    - y: (N,) the class of each image whose score is explained

    Returns:
    - saliency: (N, H, W)
    """
    N = X.shape[0]
    dscores = np.zeros((N, model.num_classes))  # (N, K) d S_y / d scores
    dscores[np.arange(N), y] = 1
    dX = model.input_gradient(X, dscores)  # (N, C, H, W)
    return np.abs(dX).max(axis=1)  # (N, H, W)


def class_visualisation_step(model, img, target, l2_reg, learning_rate):
    """One step uphill on J(I) = S_target(I) - l2_reg * ||I||^2, of L2 length learning_rate.

    Inputs:
    - img: (1, C, H, W) the current image
    - target: the class whose score is raised
    - l2_reg: the strength of the L2 penalty
    - learning_rate: the length of the step

    Returns:
    - new_img: (1, C, H, W)
    """
    dscores = np.zeros((1, model.num_classes))  # (1, K)
    dscores[0, target] = 1
    g = model.input_gradient(img, dscores) - 2 * l2_reg * img  # (1, C, H, W) dJ/dI
    return img + learning_rate * g / np.linalg.norm(g)


def make_fooling_image(model, X, target, learning_rate, max_iterations):
    """Step uphill on log P(target | X) until the model predicts target.

    Inputs:
    - X: (1, C, H, W) one model input
    - target: the class the model must predict
    - learning_rate: the L2 length of each step
    - max_iterations: the most steps taken

    Returns:
    - X_fooling: (1, C, H, W) predicted as target
    - steps: the number of steps taken
    """
    X_fooling = X.copy()
    for steps in range(max_iterations + 1):
        scores = model.loss(X_fooling)  # (1, K)
        if scores[0].argmax() == target:
            return X_fooling, steps
        if steps == max_iterations:
            break
        p = np.exp(scores - scores.max())
        p /= p.sum()  # (1, K) softmax
        dscores = -p  # d log P(target) / d scores = onehot(target) - softmax
        dscores[0, target] += 1
        g = model.input_gradient(X_fooling, dscores)  # (1, C, H, W)
        X_fooling = X_fooling + learning_rate * g / np.linalg.norm(g)
    raise RuntimeError(f"not fooled after {max_iterations} steps")


def make_fooling_image_by_descent(model, X, target, learning_rate, max_iterations):
    """The same, written as descent on the softmax loss of target (its gradient is -dlogP)."""
    X_fooling, steps = X.copy(), 0
    while model.loss(X_fooling)[0].argmax() != target:
        if steps == max_iterations:
            raise RuntimeError(f"not fooled after {max_iterations} steps")
        _, dscores = softmax_loss(model.loss(X_fooling), np.array([target]))
        g = model.input_gradient(X_fooling, dscores)  # (1, C, H, W)
        X_fooling = X_fooling - learning_rate * g / np.linalg.norm(g)
        steps += 1
    return X_fooling, steps
