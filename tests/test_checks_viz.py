"""The visualisation checks fail on realistic wrong implementations and pass the right ones.

Each function below is a mistake students make while writing the three
gradient-on-the-input exercises of notebook 03 (saliency maps, one class
visualisation step, a fooling image); each catalogue entry names the message
the check must give for it. Most are written through one function with
switches for the classic slips (``_saliency``, ``_step``, ``_fooling``), whose
default is the correct version; the plain correct versions students write are
in ``viz_solutions.py`` and must pass too. Then: the references pass with one
line, each check is fast, the model reaches the student as a plain TinyVGG
with arrays and numbers, and the fooling cases have no near ties.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from check_catalogue import (
    WRONG,
    assert_check_fails,
    assert_check_passes_with_one_line,
    assert_distinct_mistakes,
    mistake,
    mistake_params,
    not_implemented,
)
from viz_solutions import (
    class_visualisation_step,
    make_fooling_image,
    make_fooling_image_by_descent,
    saliency_maps,
)

from course.checks import viz as V
from course.checks.core import references_allowed
from course.checks.viz import (
    check_class_visualisation_step,
    check_make_fooling_image,
    check_saliency_maps,
)
from course.layers import softmax_loss
from course.models import TinyVGG
from course.viz import class_visualisation_step as reference_class_visualisation_step
from course.viz import make_fooling_image as reference_make_fooling_image
from course.viz import saliency_maps as reference_saliency_maps


def _one_hot(y, K):
    out = np.zeros((len(y), K))
    out[np.arange(len(y)), y] = 1
    return out


def _softmax(scores):
    p = np.exp(scores - scores.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------------------
# saliency_maps(model, X, y) -> saliency (N, H, W)
# ---------------------------------------------------------------------------


def _saliency(
    model,
    X,
    y,
    *,
    upstream="score",
    reduce="max abs",
    images="as given",
    train_first=False,
    fill=0.0,
):
    """Saliency maps, with switches for the classic slips (defaults: right)."""
    N, K = X.shape[0], model.num_classes
    if train_first:
        model.loss(X, y)  # "to fill the caches": trains, so batchnorm's running averages move
    if images == "mean again":
        X = X - model.mean_image
    elif images == "mean added":
        X = X + model.mean_image
    elif images == "mean in place":
        X -= model.mean_image
    dscores = np.full((N, K), fill)
    if upstream == "columns":
        dscores[:, y] = 1
    else:
        dscores[np.arange(N), y] = 1
    if upstream == "all classes":
        dscores = np.ones((N, K))
    elif upstream == "probability":
        p = _softmax(model.loss(X))
        p_y = p[np.arange(N), y][:, None]  # (N, 1)
        dscores = p_y * (dscores - p)  # d P(y) / d scores
    elif upstream == "loss":
        _, dscores = softmax_loss(model.loss(X), y)
    dX = model.input_gradient(X, dscores)  # (N, C, H, W)
    return {
        "max abs": lambda: np.abs(dX).max(axis=1),
        "max": lambda: dX.max(axis=1),
        "sum abs": lambda: np.abs(dX).sum(axis=1),
        "abs sum": lambda: np.abs(dX.sum(axis=1)),
        "axis 0": lambda: np.abs(dX).max(axis=0),
        "none": lambda: np.abs(dX),
    }[reduce]()


def _saliency_with(**slips):
    def saliency_maps_with_slip(model, X, y):
        return _saliency(model, X, y, **slips)

    return saliency_maps_with_slip


def saliency_maps_float32_params(model, X, y):
    """Casts the model to float32 "for speed", in place."""
    for key in model.params:
        model.params[key] = model.params[key].astype(np.float32)
    return _saliency(model, X, y)


SALIENCY_MISTAKES = [
    mistake(
        _saliency_with(reduce="max"),
        match=rf"saliency \(plain\) {WRONG}.*Hint: take the absolute value before the max",
        id="no-abs",
    ),
    mistake(
        _saliency_with(reduce="sum abs"),
        match=r"saliency \(plain\) is wrong.*MAX over its channels of \|dX\|, not their sum",
        id="sum-over-channels",
    ),
    mistake(
        _saliency_with(reduce="abs sum"),
        match=r"saliency \(plain\) is wrong.*take \|dX\| of every channel, then the max",
        id="abs-of-channel-sum",
    ),
    mistake(
        _saliency_with(upstream="probability"),
        match=r"saliency \(plain\) is wrong.*gradient of the softmax probability",
        id="probability-gradient",
    ),
    mistake(
        _saliency_with(upstream="loss"),
        match=r"saliency \(plain\) is wrong.*gradient of the softmax loss",
        id="loss-gradient",
    ),
    mistake(
        _saliency_with(upstream="all classes"),
        match=r"saliency \(plain\) is wrong.*sum of ALL scores \(dscores all ones\)",
        id="all-classes",
    ),
    mistake(
        _saliency_with(upstream="columns"),
        match=r"saliency \(plain\) is wrong.*dscores\[:, y\] = 1 sets every row's columns",
        id="dscores-columns",
    ),
    mistake(
        _saliency_with(images="mean again"),
        match=r"saliency \(plain\) is wrong.*without subtracting model.mean_image again",
        id="mean-subtracted-again",
    ),
    mistake(
        _saliency_with(images="mean added"),
        match=r"saliency \(plain\) is wrong.*without adding model.mean_image back",
        id="mean-added",
    ),
    mistake(
        _saliency_with(images="mean in place"),
        match=r"saliency_maps_with_slip changed its input argument 2 in place",
        id="X-changed-in-place",
    ),
    mistake(
        _saliency_with(reduce="none"),
        match=r"saliency \(plain\) has the wrong shape: got \(4, 3, 8, 8\), expected "
        r"\(4, 8, 8\)\. Hint: saliency has one map per image, \(N, H, W\)",
        id="per-channel",
    ),
    mistake(
        _saliency_with(reduce="axis 0"),
        match=r"saliency \(plain\) has the wrong shape: got \(3, 8, 8\), expected \(4, 8, 8\)",
        id="max-over-batch",
    ),
    mistake(
        _saliency_with(fill=np.nan),
        match=r"saliency \(plain\) contains NaN or inf",
        id="nan",
    ),
    mistake(
        _saliency_with(train_first=True),
        match=r"saliency_maps_with_slip changed the model in place: "
        r"bn_params\[0\]\['running_mean'\] is not what it was\. Hint: .*model.loss\(X, y\) "
        r"trains",
        id="loss-with-labels-trains-batchnorm",
    ),
    mistake(
        saliency_maps_float32_params,
        match=r"saliency_maps_float32_params changed the model in place: params\['W1'\]",
        id="params-changed",
    ),
    mistake(not_implemented, match=r"not_implemented is not implemented yet", id="stub"),
]

# ---------------------------------------------------------------------------
# class_visualisation_step(model, img, target, l2_reg, learning_rate) -> new_img
# ---------------------------------------------------------------------------


def _step(
    model,
    img,
    target,
    l2_reg,
    learning_rate,
    *,
    sign=1.0,
    l2_factor=2.0,
    normalise="whole",
    in_place=False,
    returns="image",
    train_first=False,
):
    """One class-visualisation step, with switches for the classic slips (defaults: right)."""
    if train_first:
        model.loss(img, np.array([target]))  # trains: batchnorm's running averages move
    dS = model.input_gradient(img, _one_hot([target], model.num_classes))  # (1, C, H, W)
    penalty = l2_factor * l2_reg * img
    if normalise == "whole":
        g = dS - penalty
        step = learning_rate * g / np.linalg.norm(g)
    elif normalise == "score only":  # the penalty added after normalising
        step = learning_rate * (dS / np.linalg.norm(dS) - penalty)
    elif normalise == "none":
        step = learning_rate * (dS - penalty)
    elif normalise == "max abs":
        g = dS - penalty
        step = learning_rate * g / np.abs(g).max()
    elif normalise == "zero":  # the norm of the wrong (zero) array
        g = dS - penalty
        step = learning_rate * g / np.linalg.norm(g - g)
    step = sign * step
    if returns == "step":
        return step
    if in_place:
        img += step
        return img
    new_img = img + step
    return new_img[0] if returns == "one image" else new_img


def _step_with(**slips):
    def class_visualisation_step_with_slip(model, img, target, l2_reg, learning_rate):
        return _step(model, img, target, l2_reg, learning_rate, **slips)

    return class_visualisation_step_with_slip


STEP_DIRECTION = r"direction \(plain, numerical gradient\) is wrong: relative error .* > threshold"
STEP_LENGTH = r"the step new_img - img \(plain\) has L2 length .*, expected learning_rate = 0\.7"
STEP_MISTAKES = [
    mistake(
        _step_with(sign=-1.0),
        match=rf"{STEP_DIRECTION} 1e-07\. Hint: you stepped downhill",
        id="descent",
    ),
    mistake(
        _step_with(l2_factor=0.0),
        match=rf"{STEP_DIRECTION}.*Hint: the L2 penalty is missing",
        id="no-l2",
    ),
    mistake(
        _step_with(l2_factor=1.0),
        match=rf"{STEP_DIRECTION}.*Hint: the derivative of l2_reg \* \|\|I\|\|\^2 is 2",
        id="l2-without-factor-2",
    ),
    mistake(
        _step_with(l2_factor=-2.0),
        match=rf"{STEP_DIRECTION}.*Hint: the penalty is subtracted from J",
        id="l2-added",
    ),
    mistake(
        _step_with(normalise="none"),
        match=rf"{STEP_LENGTH}.*Hint: the step must have L2 length learning_rate",
        id="not-normalised",
    ),
    mistake(
        _step_with(normalise="max abs"),
        match=rf"{STEP_LENGTH}.*np.linalg.norm\(g\)",
        id="normalised-by-max",
    ),
    mistake(
        _step_with(normalise="score only"),
        match=rf"{STEP_LENGTH}.*the L2 term included\), normalised once",
        id="penalty-outside-normalisation",
    ),
    mistake(
        _step_with(in_place=True),
        match=r"class_visualisation_step_with_slip changed its input argument 2 in place",
        id="img-changed-in-place",
    ),
    mistake(_step_with(returns="step"), match=STEP_LENGTH, id="returns-the-step"),
    mistake(
        _step_with(returns="one image"),
        match=r"new_img \(plain\) has the wrong shape: got \(3, 8, 8\), expected \(1, 3, 8, 8\)",
        id="drops-batch-axis",
    ),
    mistake(
        _step_with(normalise="zero"),
        match=r"new_img \(plain\) contains NaN or inf",
        id="nan",
    ),
    mistake(
        _step_with(train_first=True),
        match=r"changed the model in place: bn_params\[0\]\['running_mean'\]",
        id="loss-with-labels-trains-batchnorm",
    ),
    mistake(not_implemented, match=r"not_implemented is not implemented yet", id="stub"),
]

# ---------------------------------------------------------------------------
# make_fooling_image(model, X, target, learning_rate, max_iterations) -> (X_fooling, steps)
# ---------------------------------------------------------------------------


def _fooling(
    model,
    X,
    target,
    learning_rate,
    max_iterations,
    *,
    objective="log_prob",
    ascend="target",
    step="normalised",
    stop="before step",
    copy=True,
    first_step=0,
    returns="tuple",
    steps_type=int,
    train_first=False,
):
    """A fooling image, with switches for the classic slips (defaults: right)."""
    if train_first:
        model.loss(X, np.array([target]))  # trains: batchnorm's running averages move
    X_fooling = X.copy() if copy else X
    climbed = target if ascend == "target" else int(model.loss(X)[0].argmax())
    steps = 0
    for steps in range(max_iterations + 1):
        scores = model.loss(X_fooling)  # (1, K)
        if stop == "before step" and scores[0].argmax() == target:
            break
        if steps == max_iterations:
            break
        dscores = _one_hot([climbed], model.num_classes)
        if objective == "log_prob":
            dscores -= _softmax(scores)
        g = model.input_gradient(X_fooling, dscores)  # (1, C, H, W)
        g = {
            "normalised": lambda g=g: g / np.linalg.norm(g),
            "raw": lambda g=g: g,
            "sign": lambda g=g: np.sign(g),
        }[step]()
        if copy:
            X_fooling = X_fooling + learning_rate * g
        else:
            X_fooling += learning_rate * g
        if stop == "after step" and model.loss(X_fooling)[0].argmax() == target:
            steps += 1
            break
    steps += first_step
    if returns == "image":
        return X_fooling
    return X_fooling, steps_type(steps)


def _fooling_with(**slips):
    def make_fooling_image_with_slip(model, X, target, learning_rate, max_iterations):
        return _fooling(model, X, target, learning_rate, max_iterations, **slips)

    return make_fooling_image_with_slip


def make_fooling_image_late(model, X, target, learning_rate, max_iterations):
    """Steps first, then checks the scores computed before that step: one step late."""
    X_fooling = X.copy()
    for steps in range(1, max_iterations + 1):
        scores = model.loss(X_fooling)
        dscores = _one_hot([target], model.num_classes) - _softmax(scores)
        g = model.input_gradient(X_fooling, dscores)
        X_fooling = X_fooling + learning_rate * g / np.linalg.norm(g)
        if scores[0].argmax() == target:
            return X_fooling, steps
    return X_fooling, max_iterations


def make_fooling_image_rounded_differently(model, X, target, learning_rate, max_iterations):
    """Right, with other rounding: softmax without the max shift, the norm as a root of sums."""
    if model.loss(X)[0].argmax() == target:
        return X, 0  # X itself: the caller's array is not changed
    X_fooling = X
    for steps in range(1, max_iterations + 1):
        scores = model.loss(X_fooling)
        p = np.exp(scores) / np.exp(scores).sum()
        g = model.input_gradient(X_fooling, _one_hot([target], model.num_classes) - p)
        X_fooling = X_fooling + learning_rate * g / np.sqrt(np.sum(g * g))
        if model.loss(X_fooling)[0].argmax() == target:
            return X_fooling, steps
    raise RuntimeError("not fooled")


FOOLING_MISTAKES = [
    mistake(
        _fooling_with(stop="never"),
        match=r"steps \(plain\) is 50, expected 13\. Hint: stop as soon as the model predicts",
        id="never-stops",
    ),
    mistake(
        make_fooling_image_late,
        match=r"steps \(plain\) is 14, expected 13\. Hint: you took one step after the model "
        r"was fooled",
        id="one-step-late",
    ),
    mistake(
        _fooling_with(stop="after step"),
        match=r"steps \(already\) is 1, expected 0\. Hint: X is predicted as target already",
        id="checks-after-the-step",
    ),
    mistake(
        _fooling_with(ascend="original"),
        match=r"X_fooling \(plain\) is predicted as class 3, not the target 4 \(X is class 3\)"
        r"\. Hint: the model still predicts the class X has",
        id="ascends-the-original-class",
    ),
    mistake(
        _fooling_with(objective="score"),
        match=r"steps \(plain\) is 42, expected 13\. Hint: this is CS231n's objective",
        id="score-objective",
    ),
    mistake(
        _fooling_with(step="raw"),
        match=r"X_fooling \(plain\) lies .* from X \(L2 norm\), more than steps \* "
        r"learning_rate = \d+ \* 0\.1\. Hint: each step must have L2 length learning_rate",
        id="not-normalised",
    ),
    mistake(
        _fooling_with(step="sign"),
        match=r"X_fooling \(plain\) lies .* more than steps \* learning_rate",
        id="sign-step",
    ),
    mistake(
        _fooling_with(copy=False),
        match=r"make_fooling_image_with_slip changed its input argument 2 in place",
        id="X-changed-in-place",
    ),
    mistake(
        _fooling_with(returns="image"),
        match=r"make_fooling_image must return a tuple \(X_fooling, steps\); it returned ndarray",
        id="returns-only-the-image",
    ),
    mistake(
        _fooling_with(first_step=1),
        match=r"steps \(plain\) is 14, expected 13\. Hint: your image is right, but steps counts",
        id="steps-counted-from-1",
    ),
    mistake(
        _fooling_with(steps_type=float),
        match=r"steps \(plain\) should be an int, got float 13\.0",
        id="float-steps",
    ),
    mistake(
        _fooling_with(train_first=True),
        match=r"changed the model in place: bn_params\[0\]\['running_mean'\]",
        id="loss-with-labels-trains-batchnorm",
    ),
    mistake(not_implemented, match=r"not_implemented is not implemented yet", id="stub"),
]

CHECKS = {
    "saliency_maps": (check_saliency_maps, (reference_saliency_maps,), SALIENCY_MISTAKES),
    "class_visualisation_step": (
        check_class_visualisation_step,
        (reference_class_visualisation_step,),
        STEP_MISTAKES,
    ),
    "make_fooling_image": (
        check_make_fooling_image,
        (reference_make_fooling_image,),
        FOOLING_MISTAKES,
    ),
}


@pytest.mark.parametrize("name, student, expected", mistake_params(CHECKS))
def test_check_fails_on_the_mistake(name, student, expected, capsys):
    assert_check_fails(CHECKS[name][0], name, student, expected, capsys)


@pytest.mark.parametrize("name", CHECKS)
def test_check_passes_the_reference_with_one_line(name, capsys):
    check, reference, _ = CHECKS[name]
    assert_check_passes_with_one_line(check, name, reference, capsys)


@pytest.mark.parametrize(
    "check, student",
    [
        (check_saliency_maps, saliency_maps),
        (check_class_visualisation_step, class_visualisation_step),
        (check_make_fooling_image, make_fooling_image),
        (check_make_fooling_image, make_fooling_image_by_descent),
        (check_make_fooling_image, make_fooling_image_rounded_differently),
    ],
    ids=[
        "saliency_maps",
        "class_visualisation_step",
        "make_fooling_image",
        "fooling_by_descent",
        "fooling_rounded_differently",
    ],
)
def test_the_student_solutions_pass_with_one_line(check, student, capsys):
    check(student)
    out = capsys.readouterr().out
    assert out.startswith("OK ") and out.count("\n") == 1


def test_the_catalogue_functions_without_slips_are_right(capsys):
    """So each catalogue failure is its slip's, not the function's."""
    check_saliency_maps(_saliency_with())
    check_class_visualisation_step(_step_with())
    check_make_fooling_image(_fooling_with())
    assert capsys.readouterr().out.count("OK ") == 3


@pytest.mark.parametrize("name", CHECKS)
def test_catalogue_has_ten_distinct_mistakes(name):
    assert_distinct_mistakes(CHECKS[name][2], minimum=10)


@pytest.mark.parametrize("name", CHECKS)
@references_allowed()  # the course's own reference is the right answer
def test_each_check_is_fast(name, capsys):
    check, reference, _ = CHECKS[name]
    check(*reference)  # warm up imports and caches
    started = time.perf_counter()
    check(*reference)
    assert time.perf_counter() - started < 0.5


# ---------------------------------------------------------------------------
# What the student's function receives, and the properties of the cases
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", CHECKS)
@references_allowed()  # the course's own reference is the right answer
def test_the_student_gets_a_plain_tiny_vgg_and_data(name, capsys):
    """The grader sends the arguments as data: a TinyVGG, arrays, ints and floats; no callables."""
    check, (reference,), _ = CHECKS[name]
    seen = []

    def spy(model, *args):
        seen.append((model, args))
        return reference(model, *args)

    spy.__name__ = name
    check(spy)
    assert seen
    for model, args in seen:
        assert type(model) is TinyVGG and model.dtype == np.float64
        assert model.input_dim == (3, 8, 8) and model.mean_image is not None
        assert all(bn_param["mode"] == "test" for bn_param in model.bn_params)
        for arg in args:
            assert type(arg) in (np.ndarray, int, float), type(arg)
    assert {model.normalization for model, _ in seen} == {None, "batchnorm"}


def test_the_models_are_alive_and_their_gradients_large():
    """No dead ReLU layer, and input gradients above 1, so an unnormalised step is too long."""
    for label in V._MODELS:
        model = V._model(label)
        X = V._images(model, 4, seed=0)
        dX = model.input_gradient(X, _one_hot([0, 1, 2, 4], model.num_classes))
        assert (np.abs(dX).max(axis=1) > 0).mean() > 0.9
        assert np.linalg.norm(dX.reshape(4, -1), axis=1).min() > 1


@pytest.mark.parametrize("case", V._FOOLING_CASES, ids=[c[0] for c in V._FOOLING_CASES])
def test_the_fooling_path_has_no_near_ties(case):
    """Along the reference's path the target is never within 1e-2 of the winning score.

    So a student whose softmax rounds differently (or who descends the loss
    instead) stops at the same step.
    """
    _, model_label, seed, n, target, learning_rate, max_iterations = case
    model, X = V._fooling_case(model_label, seed, n)
    _, steps = reference_make_fooling_image(model, X, target, learning_rate, max_iterations)
    X_fooling = X.copy()
    for _ in range(steps + 1):
        scores = model.loss(X_fooling)[0]
        assert abs(scores[target] - np.delete(scores, target).max()) > 1e-2
        dscores = _one_hot([target], model.num_classes) - _softmax(scores[None])
        g = model.input_gradient(X_fooling, dscores)
        X_fooling = X_fooling + learning_rate * g / np.linalg.norm(g)


def test_the_fooling_cases_separate_the_mistakes():
    """plain: 13 steps, 42 on the score; batchnorm: exactly max_iterations; already: 0."""
    found = {}
    for label, model_label, seed, n, target, lr, max_iterations in V._FOOLING_CASES:
        model, X = V._fooling_case(model_label, seed, n)
        found[label] = reference_make_fooling_image(model, X, target, lr, max_iterations)[1]
        if label == "plain":
            score = reference_make_fooling_image(
                model, X, target, lr, max_iterations, objective="score"
            )
            assert score[1] == 42
    assert found == {"plain": 13, "batchnorm": 13, "already": 0}
    assert V._FOOLING_CASES[1][-1] == found["batchnorm"]
