"""Checks for the gradient-on-the-input exercises (notebook 03): saliency, class images, fooling.

The three functions students write, whose references are in ``course.viz``
(``saliency_maps``, ``class_visualisation_step``, ``make_fooling_image``)::

    saliency_maps(model, X, y) -> saliency
    class_visualisation_step(model, img, target, l2_reg, learning_rate) -> new_img
    make_fooling_image(model, X, target, learning_rate, max_iterations) -> (X_fooling, steps)

Each gets its gradient from ``model.input_gradient(X, dscores)``, the gradient
on the images of ``sum(dscores * scores)`` in test mode:

- ``saliency_maps``: saliency (N, H, W) = max over channels of |dS_y / dX|,
  with dscores one-hot in y (the unnormalised score, not a probability or loss).
- ``class_visualisation_step``: one step uphill on J(I) = S_target(I) -
  l2_reg * ||I||^2 along the normalised gradient: new_img = img +
  learning_rate * g / ||g||, g = dS_target/dI - 2 * l2_reg * img.
- ``make_fooling_image``: from X (1, C, H, W), steps X += learning_rate * g /
  ||g|| uphill on log P(target | X) (dscores = onehot(target) - softmax(S),
  the reference's default objective) until the model predicts target, checked
  before every step; steps counts the steps taken (0 when X is predicted as
  target already). CS231n ascends the score S_target instead; that gets its
  own hint.

The model is an ordinary ``course.models.TinyVGG`` (float64, 3x8x8 inputs,
seeded weights, random biases, a ``mean_image``), one without normalisation
and one with spatial batchnorm in test mode (random running averages), so the
grader can send it to the student's process as data. The student gets a copy
of it; afterwards every parameter, running average and attribute must be as
it was. The saliency maps and the class-image step are compared with the
reference to VALUE_TOL, and the step's direction also with the centred
numerical gradient of J (GRAD_TOL); the fooling image must be predicted as the
target, lie within ``steps * learning_rate`` of X, and match the reference's
step count exactly and its image to VALUE_TOL. Wrong answers that match a
classic mistake get that mistake's hint.

Dimension letters: N images, C channels, H and W height and width, K classes.

This module passes the ~400 lines a module aims for: it is three checks of one
exercise notebook, and most of it is hints and the diagnosis that picks one.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np

from course.checks.core import (
    FORM_ONLY,
    GRAD_TOL,
    VALUE_TOL,
    CheckFailed,
    _same,
    call_student,
    compare,
    compare_diagnosed,
    expect_tuple,
    report,
)
from course.gradcheck import numerical_gradient, rel_error
from course.models import TinyVGG
from course.viz import class_visualisation_step as reference_class_visualisation_step
from course.viz import make_fooling_image as reference_make_fooling_image
from course.viz import saliency_maps as reference_saliency_maps
from course.viz.fooling import FoolingFailed

# ---------------------------------------------------------------------------
# Hints
# ---------------------------------------------------------------------------

_GRADIENT = "model.input_gradient(X, dscores)"
_SALIENCY_HINTS = {
    "saliency": "a pixel's saliency is the largest absolute gradient, over its channels, of "
    "the image's correct-class SCORE S_y: backprop a gradient that is 1 at each image's own "
    f"class y[n] and 0 elsewhere through the model ({_GRADIENT}, (N, C, H, W))",
    "shape": "saliency has one map per image, (N, H, W): reduce |dX| over the channel axis",
    "no abs": "take the absolute value before the max: a large negative gradient matters as "
    "much as a large positive one",
    "sum": "the saliency of a pixel is the MAX over its channels of |dX|, not their sum",
    "mean": "the saliency of a pixel is the MAX over its channels of |dX|, not their mean",
    "abs of sum": "take |dX| of every channel, then the max over channels",
    "probability": "this is the gradient of the softmax probability P(y | X): explain the "
    "unnormalised score S_y, dscores one-hot in y",
    "log-probability": "this is the gradient of log P(y | X): explain the unnormalised score "
    "S_y, dscores one-hot in y",
    "loss": "this is the gradient of the softmax loss: explain the unnormalised score S_y, "
    "dscores one-hot in y",
    "all classes": "this is the gradient of the sum of ALL scores (dscores all ones): only "
    "column y[n] of row n is 1",
    "columns": "dscores[:, y] = 1 sets every row's columns y: set ONE entry per row, at that "
    "row's own label",
    "mean again": "X is already the model's input (mean image subtracted): pass it to "
    "model.input_gradient as it is, without subtracting model.mean_image again",
    "mean added": "X is already the model's input: pass it to model.input_gradient as it is, "
    "without adding model.mean_image back",
}
_STEP_HINTS = {
    "new_img": "gradient ASCENT on J(I) = S_target(I) - l2_reg * ||I||^2: its gradient g "
    f"combines the score's ({_GRADIENT} with dscores 1 at target) and the penalty's; the "
    "step is g scaled to L2 length learning_rate",
    "shape": "new_img is the whole image after the step, shaped like img (1, C, H, W)",
    "length": "the step must have L2 length learning_rate: scale the WHOLE gradient g of J "
    "(the L2 term included), normalised once by its norm np.linalg.norm(g)",
    "descent": "you stepped downhill: gradient ASCENT raises the score",
    "no l2": "the L2 penalty is missing: J subtracts l2_reg * ||I||^2, so its gradient counts "
    "in g too",
    "no factor 2": "the derivative of l2_reg * ||I||^2 is 2 * l2_reg * I",
    "l2 sign": "the penalty is subtracted from J, so its gradient is subtracted too",
}
_FOOLING_HINTS = {
    "general": "start from a copy of X; before every step compute the scores and stop if the "
    "model predicts target; otherwise step uphill on log P(target | X) (its gradient with "
    "respect to the scores is softmax_loss's dx for label target, negated and without the "
    f"1/N; {_GRADIENT} takes it to the image), scaled to L2 length learning_rate; return "
    "(X_fooling, steps)",
    "shape": "X_fooling is the changed image, shaped like X (1, C, H, W)",
    "steps type": "steps is the number of gradient steps taken, a Python int",
    "original": "the model still predicts the class X has: raise the log-probability of "
    "target, the argument, not of the class predicted now",
    "not fooled": "keep stepping uphill on log P(target | X) until the argmax of the scores is "
    "target",
    "length": "each step must have L2 length learning_rate: scale the gradient to that length "
    "(not g itself, nor its sign)",
    "score": "this is CS231n's objective, the score S_target (dscores one-hot): this exercise "
    "ascends log P(target | X), which also pushes the other classes down",
    "count": "your image is right, but steps counts the gradient steps taken: 0 when X is "
    "already predicted as target, 1 after one step, ...",
    "already": "X is predicted as target already: check the prediction BEFORE every step, so "
    "X comes back unchanged with steps = 0",
    "late": "you took one step after the model was fooled: compute the scores of the current "
    "X_fooling and stop BEFORE stepping when their argmax is target",
    "not stopped": "stop as soon as the model predicts target (check before every step); "
    "max_iterations only bounds the steps",
}
_MODEL_HINT = (
    "leave the model as it is: model.loss(X) gives the scores and model.input_gradient(X, "
    "dscores) the gradient, both in test mode; model.loss(X, y) trains (batchnorm updates its "
    "running averages), and never assign into model.params"
)

# ---------------------------------------------------------------------------
# Inputs: two small float64 TinyVGGs and fixed-seed images
# ---------------------------------------------------------------------------

_INPUT_DIM = (3, 8, 8)  # (C, H, W)
_NUM_CLASSES = 5
_MODELS = {  # label: (normalization, stages, hidden_dims, seed)
    "plain": (None, ((4,), (6,)), (8,), 1),
    "batchnorm": ("batchnorm", ((4, 4),), (6,), 3),
}
_SCORE_SCALE = 4.0  # the last layer's weights are scaled up: gradient norms above 1


def randomise_state(model: TinyVGG, rng: np.random.Generator) -> TinyVGG:
    """Give a fresh TinyVGG's zero and one parameters random values; batchnorm in test mode.

    Biases and betas ~ 0.1 N(0, 1) (so a forgotten bias shows), gammas
    uniform in [0.5, 1.5], and each batchnorm's running mean ~ 0.1 N(0, 1)
    and running variance uniform in [0.5, 2]; drawn from ``rng`` in that
    order. Changes ``model`` in place and returns it.
    """
    for name, value in model.params.items():
        if name.startswith(("b", "beta")):
            model.params[name] = 0.1 * rng.standard_normal(value.shape)
        elif name.startswith("gamma"):
            model.params[name] = rng.uniform(0.5, 1.5, value.shape)
    for i, bn_param in enumerate(model.bn_params, start=1):
        F = len(model.params[f"gamma{i}"])
        bn_param.update(
            mode="test",
            running_mean=0.1 * rng.standard_normal(F),
            running_var=rng.uniform(0.5, 2.0, F),
        )
    return model


def _model(label: str) -> TinyVGG:
    """The seeded float64 TinyVGG ``label`` names, in test mode, with a mean image."""
    normalization, stages, hidden_dims, seed = _MODELS[label]
    model = TinyVGG(
        input_dim=_INPUT_DIM,
        stages=stages,
        hidden_dims=hidden_dims,
        num_classes=_NUM_CLASSES,
        normalization=normalization,
        dtype=np.float64,
        seed=seed,
    )
    rng = np.random.default_rng(seed + 100)
    randomise_state(model, rng)
    model.params[f"W{model.num_layers}"] *= _SCORE_SCALE
    model.mean_image = rng.uniform(0.3, 0.6, _INPUT_DIM)  # (C, H, W)
    return model


def _images(model: TinyVGG, N: int, seed: int) -> np.ndarray:
    """(N, C, H, W) model inputs: pixels uniform in [0, 1] minus the model's mean image."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 1.0, (N, *_INPUT_DIM)) - model.mean_image


# Saliency: (model, images (N, C, H, W) seed, N, labels y). N != C in one case, so
# a max over the wrong axis shows as a shape.
_SALIENCY_CASES = (
    ("plain", 10, np.array([0, 3, 4, 1])),
    ("batchnorm", 11, np.array([2, 4, 3])),
)
# Class visualisation: (model, img seed, target, l2_reg, learning_rate).
_STEP_CASES = (
    ("plain", 20, 2, 0.1, 0.7),
    ("batchnorm", 21, 4, 0.02, 1.3),
)
# Fooling: (label, model, images seed, image index, target, learning_rate, max_iterations).
# 'plain' takes 13 steps (42 ascending the score); 'batchnorm' takes exactly its
# max_iterations, 13; 'already' is predicted as target from the start (0 steps).
_FOOLING_CASES = (
    ("plain", "plain", 0, 3, 4, 0.1, 50),
    ("batchnorm", "batchnorm", 0, 1, 1, 0.1, 13),
    ("already", "plain", 1, 0, 3, 0.1, 10),
)


def _step_image(seed: int) -> np.ndarray:
    """(1, C, H, W) the image a class-visualisation step starts from: small Gaussian noise."""
    return 0.3 * np.random.default_rng(seed).standard_normal((1, *_INPUT_DIM))


def _fooling_case(model_label: str, seed: int, n: int) -> tuple[TinyVGG, np.ndarray]:
    """The model and the one image (1, C, H, W) a fooling case starts from."""
    model = _model(model_label)
    return model, _images(model, n + 1, seed)[n : n + 1]


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------


def check_saliency_maps(saliency_maps: Callable) -> None:
    """Check ``saliency_maps(model, X, y) -> saliency`` (N, H, W) against the reference.

    Two models (plain, batchnorm in test mode), 4 and 3 images, labels
    mostly other than the predicted classes. The saliency must be float64 and agree to
    VALUE_TOL with max over channels of |dS_y / dX|; a wrong value that
    matches a classic mistake (no abs, a sum or mean over channels, the
    gradient of a probability, a loss or all scores, the mean image
    subtracted again) gets that mistake's hint.
    """
    name = "saliency_maps"
    errors = {}
    for label, seed, y in _SALIENCY_CASES:
        model = _model(label)
        X = _images(model, len(y), seed)
        expected = reference_saliency_maps(model, X, y)
        saliency = _call_with_model(name, saliency_maps, model, X, y)
        output = f"saliency ({label})"
        _compare_form(name, output, saliency, expected, _SALIENCY_HINTS, "saliency")
        errors[output] = compare_diagnosed(
            name,
            output,
            saliency,
            expected,
            VALUE_TOL,
            _SALIENCY_HINTS["saliency"],
            _saliency_suspects(model, X, y),
            np.dtype(np.float64),
        )
    report(name, errors, VALUE_TOL)


def check_class_visualisation_step(class_visualisation_step: Callable) -> None:
    """Check ``class_visualisation_step(model, img, target, l2_reg, learning_rate) -> new_img``.

    Two models (plain, batchnorm in test mode), each with its own target,
    l2_reg and learning_rate. In order: new_img is a finite float64 array
    shaped like img; the step new_img - img has L2 length learning_rate; its
    direction agrees to GRAD_TOL with the centred numerical gradient of
    J(I) = S_target(I) - l2_reg * ||I||^2 (a direction that matches a classic
    mistake gets its hint); new_img agrees with the reference to VALUE_TOL.
    """
    name = "class_visualisation_step"
    errors, tols = {}, {}
    for label, seed, target, l2_reg, learning_rate in _STEP_CASES:
        model = _model(label)
        img = _step_image(seed)
        expected = reference_class_visualisation_step(model, img, target, l2_reg, learning_rate)
        args = (img, target, l2_reg, learning_rate)
        new_img = _call_with_model(name, class_visualisation_step, model, *args)
        output = f"new_img ({label})"
        _compare_form(name, output, new_img, expected, _STEP_HINTS, "new_img")
        step = new_img - img  # (1, C, H, W)
        length = float(np.linalg.norm(step))
        error = abs(length - learning_rate) / learning_rate
        if not error <= VALUE_TOL:
            raise CheckFailed(
                f"{name}: the step new_img - img ({label}) has L2 length {length:.4g}, expected "
                f"learning_rate = {learning_rate:g}: relative error {error:.1e} > threshold "
                f"{VALUE_TOL:.0e}. Hint: {_STEP_HINTS['length']}"
            )
        errors[f"step length ({label})"], tols[f"step length ({label})"] = error, VALUE_TOL

        def objective(x, model=model, target=target, l2_reg=l2_reg):
            return model.loss(x)[0, target] - l2_reg * np.sum(x * x)  # J(I)

        numeric = numerical_gradient(objective, img)  # (1, C, H, W)
        output = f"direction ({label}, numerical gradient)"
        errors[output] = compare_diagnosed(
            name,
            output,
            step / learning_rate,
            numeric / np.linalg.norm(numeric),
            GRAD_TOL,
            _STEP_HINTS["new_img"],
            _step_suspects(model, img, target, l2_reg),
        )
        tols[output] = GRAD_TOL
        output = f"new_img ({label})"
        errors[output] = compare(
            name, output, new_img, expected, VALUE_TOL, _STEP_HINTS["new_img"]
        )
        tols[output] = VALUE_TOL
    report(name, errors, tols)


def check_make_fooling_image(make_fooling_image: Callable) -> None:
    """Check ``make_fooling_image(model, X, target, learning_rate, max_iterations)``.

    It returns ``(X_fooling, steps)``. Three cases: a plain model that needs
    13 steps (42 when ascending the score instead), a batchnorm model that
    needs exactly its max_iterations, and an image predicted as the target
    from the start (0 steps, X unchanged). In order: X_fooling is a finite
    float64 array shaped like X and steps an int; the model predicts target
    for X_fooling; X_fooling lies within steps * learning_rate of X (each
    step has length learning_rate); steps equals the reference's (the default
    objective, log P(target | X)) and X_fooling agrees with its image to
    VALUE_TOL. A wrong answer that matches a classic mistake (the score
    objective, a step too many, never stopping early) gets that mistake's hint.
    """
    name = "make_fooling_image"
    errors, tols = {}, {}
    for label, model_label, seed, n, target, learning_rate, max_iterations in _FOOLING_CASES:
        model, X = _fooling_case(model_label, seed, n)
        expected, expected_steps = reference_make_fooling_image(
            model, X, target, learning_rate, max_iterations
        )
        args = (X, target, learning_rate, max_iterations)
        result = _call_with_model(name, make_fooling_image, model, *args)
        X_fooling, steps = expect_tuple(name, result, ("X_fooling", "steps"), name)
        output = f"X_fooling ({label})"
        _compare_form(name, output, X_fooling, expected, _FOOLING_HINTS, "general")
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)):
            raise CheckFailed(
                f"{name}: steps ({label}) should be an int, got {type(steps).__name__} "
                f"{steps!r}. Hint: {_FOOLING_HINTS['steps type']}"
            )
        steps = int(steps)
        predicted, original = (int(model.loss(x)[0].argmax()) for x in (X_fooling, X))
        if predicted != target:
            why = "original" if predicted == original else "not fooled"
            raise CheckFailed(
                f"{name}: X_fooling ({label}) is predicted as class {predicted}, not the target "
                f"{target} (X is class {original}). Hint: {_FOOLING_HINTS[why]}"
            )
        moved = float(np.linalg.norm(X_fooling - X))
        if moved > steps * learning_rate * (1 + VALUE_TOL):
            raise CheckFailed(
                f"{name}: X_fooling ({label}) lies {moved:.4g} from X (L2 norm), more than "
                f"steps * learning_rate = {steps} * {learning_rate:g}. Hint: "
                f"{_FOOLING_HINTS['length']}"
            )
        error = rel_error(X_fooling, expected)
        if steps != expected_steps or not error <= VALUE_TOL:
            mistake = _fooling_mistake(
                model,
                X,
                target,
                learning_rate,
                max_iterations,
                (X_fooling, steps),
                (expected, expected_steps),
            )
            if steps != expected_steps:
                raise CheckFailed(
                    f"{name}: steps ({label}) is {steps}, expected {expected_steps}. "
                    f"Hint: {_FOOLING_HINTS[mistake]}"
                )
            compare(name, output, X_fooling, expected, VALUE_TOL, _FOOLING_HINTS[mistake])
        errors[output], tols[output] = error, VALUE_TOL
        errors[f"steps ({label})"], tols[f"steps ({label})"] = 0.0, 0.0
    report(name, errors, tols)


# ---------------------------------------------------------------------------
# What the checks share
# ---------------------------------------------------------------------------


def _call_with_model(name: str, func: Callable, model: TinyVGG, *args) -> object:
    """:func:`call_student` with a copy of ``model`` first; fail if the call changed the model."""
    passed = copy.deepcopy(model)
    result = call_student(name, func, passed, *args)
    changed = _model_change(passed, model)
    if changed:
        what = getattr(func, "__name__", name)
        raise CheckFailed(
            f"{name}: {what} changed the model in place: {changed} is not what it was. "
            f"Hint: {_MODEL_HINT}"
        )
    return result


def _compare_form(
    name: str, output: str, actual: object, expected: np.ndarray, hints: dict, hint: str
) -> None:
    """An array shaped like ``expected`` (else hints['shape']), float64 and finite (else hint)."""
    if isinstance(actual, np.ndarray) and actual.shape != expected.shape:
        compare(name, output, actual, expected, FORM_ONLY, hints["shape"])
    compare(name, output, actual, expected, FORM_ONLY, hints[hint], np.dtype(np.float64))


def _model_change(after: TinyVGG, before: TinyVGG) -> str | None:
    """The first of the model's parameters, running averages or attributes that differ."""
    for key in before.params:
        if key not in after.params or not _same(after.params[key], before.params[key]):
            return f"params[{key!r}]"
    if after.params.keys() != before.params.keys():
        return "params (its keys)"
    for i, bn_param in enumerate(before.bn_params):
        for key in bn_param:
            if key not in after.bn_params[i] or not _same(after.bn_params[i][key], bn_param[key]):
                return f"bn_params[{i}][{key!r}]"
    for key, value in vars(before).items():
        if key not in vars(after) or not _same(vars(after)[key], value):
            return key
    return None


def _one_hot(y: np.ndarray, num_classes: int) -> np.ndarray:
    """(N, num_classes) rows with a 1 in column y[n]."""
    out = np.zeros((len(y), num_classes))
    out[np.arange(len(y)), y] = 1
    return out


def _softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax of scores (N, num_classes)."""
    p = np.exp(scores - scores.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def _saliency_suspects(
    model: TinyVGG, X: np.ndarray, y: np.ndarray
) -> list[tuple[np.ndarray, str]]:
    """The saliency each classic mistake gives on this case, with the hint that names it."""
    onehot = _one_hot(y, model.num_classes)  # (N, num_classes)
    p = _softmax(model.loss(X))
    columns = np.zeros_like(onehot)
    columns[:, y] = 1
    dX = model.input_gradient(X, onehot)  # (N, C, H, W)

    def saliency(dscores, images=X):
        return np.abs(model.input_gradient(images, dscores)).max(axis=1)  # (N, H, W)

    wrong = {
        "no abs": dX.max(axis=1),
        "sum": np.abs(dX).sum(axis=1),
        "mean": np.abs(dX).mean(axis=1),
        "abs of sum": np.abs(dX.sum(axis=1)),
        "probability": saliency((p * onehot).sum(axis=1, keepdims=True) * (onehot - p)),
        "log-probability": saliency(onehot - p),
        "loss": saliency((onehot - p) / len(y)),  # softmax_loss averages over the batch
        "all classes": saliency(np.ones_like(onehot)),
        "columns": saliency(columns),
        "mean again": saliency(onehot, X - model.mean_image),
        "mean added": saliency(onehot, X + model.mean_image),
    }
    return [(value, _SALIENCY_HINTS[mistake]) for mistake, value in wrong.items()]


def _step_suspects(
    model: TinyVGG, img: np.ndarray, target: int, l2_reg: float
) -> list[tuple[np.ndarray, str]]:
    """The unit step direction of each classic mistake on this case, with its hint."""
    dS = model.input_gradient(img, _one_hot(np.array([target]), model.num_classes))
    wrong = {
        "descent": -(dS - 2 * l2_reg * img),
        "no l2": dS,
        "no factor 2": dS - l2_reg * img,
        "l2 sign": dS + 2 * l2_reg * img,
    }
    return [(g / np.linalg.norm(g), _STEP_HINTS[mistake]) for mistake, g in wrong.items()]


def _fooling_mistake(
    model: TinyVGG,
    X: np.ndarray,
    target: int,
    learning_rate: float,
    max_iterations: int,
    answer: tuple[np.ndarray, int],
    expected: tuple[np.ndarray, int],
) -> str:
    """The key in _FOOLING_HINTS of the mistake that explains a wrong ``answer``."""
    X_fooling, steps = answer
    expected_X, expected_steps = expected
    if rel_error(X_fooling, expected_X) <= VALUE_TOL:
        return "count"
    try:
        score_X, score_steps = reference_make_fooling_image(
            model, X, target, learning_rate, max_iterations, objective="score"
        )
    except FoolingFailed:
        score_X, score_steps = None, None
    if steps == score_steps and rel_error(X_fooling, score_X) <= VALUE_TOL:
        return "score"
    if expected_steps == 0:
        return "already"
    if steps == expected_steps + 1:
        return "late"
    if steps == max_iterations:
        return "not stopped"
    return "general"
