"""The check of notebook 01's "overfit 50 images" task.

A net that cannot fit 50 images perfectly has a bug or bad settings; one
that can is ready to be trained on more. The student writes::

    overfit_settings() -> dict

returning the settings of the training run: ``learning_rate`` and
``weight_scale`` (required), and optionally ``update_rule`` (one of 'sgd',
'sgd_momentum', 'rmsprop', 'adam'; default 'sgd'), ``num_epochs`` (1 to 20;
default 20) and ``batch_size`` (1 to 50; default 25).

The check owns everything else: it loads the first 50 training images of
Shapes-10 (``load_shapes(num_train=50, num_val=50, num_test=0, seed=0)``),
builds the reference ``FullyConnectedNet`` with hidden_dims [100, 100]
(three layers, as in CS231n; seed 0, float32) and trains it with
:class:`course.solver.Solver` (``verbose=False``). It passes when the
training accuracy after the last epoch is 100%. A failure says what the
accuracy was and reads the loss history: NaN or a loss that grew means the
learning rate is too large; a loss that barely moved, too small (or weights
so small that the signal vanishes).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping

import numpy as np

from course.checks.core import CheckFailed, call_student, require
from course.data import load_shapes
from course.models import FullyConnectedNet
from course.solver import Solver

NUM_IMAGES = 50  # the first 50 training images of Shapes-10
HIDDEN_DIMS = (100, 100)
MAX_EPOCHS = 20
UPDATE_RULES = ("sgd", "sgd_momentum", "rmsprop", "adam")
_DEFAULTS = {"update_rule": "sgd", "num_epochs": MAX_EPOCHS, "batch_size": 25}
_REQUIRED = ("learning_rate", "weight_scale")
_KEYS = (*_REQUIRED, *_DEFAULTS)
_SMALL_WEIGHTS = 1e-3  # below this, three layers shrink the signal to almost nothing


def _validated(name: str, settings: object) -> dict:
    """The settings with the defaults filled in; CheckFailed naming the first problem."""
    require(
        name,
        isinstance(settings, Mapping),
        f"overfit_settings() should return a dict of settings, got {type(settings).__name__}",
    )
    for key in settings:
        if key not in _KEYS:
            close = difflib.get_close_matches(str(key), _KEYS, n=1)
            maybe = f" (did you mean {close[0]!r}?)" if close else ""
            raise CheckFailed(
                f"{name}: unknown setting {key!r}{maybe}; the settings are {', '.join(_KEYS)}"
            )
    for key in _REQUIRED:
        require(
            name,
            key in settings,
            f"the settings have no {key!r}; give at least 'learning_rate' and 'weight_scale'",
        )
    chosen = {**_DEFAULTS, **settings}
    for key in _REQUIRED:
        value = chosen[key]
        number = isinstance(value, (int, float, np.integer, np.floating))
        require(
            name,
            number and not isinstance(value, bool) and math.isfinite(value) and value > 0,
            f"{key} must be a positive number, got {value!r}",
        )
    require(
        name,
        chosen["update_rule"] in UPDATE_RULES,
        f"update_rule must be one of {', '.join(map(repr, UPDATE_RULES))}, "
        f"got {chosen['update_rule']!r}",
    )
    for key, top in (("num_epochs", MAX_EPOCHS), ("batch_size", NUM_IMAGES)):
        value = chosen[key]
        whole = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
        require(
            name,
            whole and 1 <= value <= top,
            f"{key} must be an int from 1 to {top}, got {value!r}",
        )
    return {
        key: float(v) if key in _REQUIRED else (int(v) if key != "update_rule" else v)
        for key, v in chosen.items()
    }


def _data() -> dict[str, np.ndarray]:
    """The first 50 training images of Shapes-10 (and 50 validation images the Solver needs)."""
    data = load_shapes(num_train=NUM_IMAGES, num_val=NUM_IMAGES, num_test=0, seed=0)
    return {key: data[key] for key in ("X_train", "y_train", "X_val", "y_val")}


def _diagnosis(losses: list[float], settings: dict) -> str:
    """What the loss history says about the learning rate (and the weight scale)."""
    lr = settings["learning_rate"]
    first, last = losses[0], losses[-1]
    small_weights = (
        f"weight_scale {settings['weight_scale']:g} is tiny: three layers shrink the signal "
        "(and the gradients) by about that factor each, so try 1e-2 to 1e-1; also, "
        if settings["weight_scale"] < _SMALL_WEIGHTS
        else ""
    )
    epochs = settings["num_epochs"]
    if epochs < MAX_EPOCHS:  # the loss may only need more time
        small_weights += f"num_epochs {epochs} leaves time unused ({MAX_EPOCHS} are allowed); and "
    if last > 1.5 * first or last > first + 1.0:
        return small_weights + (
            f"the loss grew from {first:.3f} to {last:.3f}: learning_rate {lr:g} is too large "
            "(try 10 times smaller)"
        )
    if last > 0.9 * first:
        return small_weights + (
            f"the loss barely moved ({first:.3f} to {last:.3f}): learning_rate {lr:g} is too "
            "small (try 10 times larger)"
        )
    return small_weights + (
        f"the loss went down from {first:.3f} to {last:.3f}, but not far enough: a larger "
        "learning_rate, more epochs or another update_rule ('adam' adapts the step to each "
        "weight) should fit all 50"
    )


def check_overfit_small_data(overfit_settings: Callable) -> None:
    """Train the reference three-layer net on 50 images with ``overfit_settings()``: 100%?

    ``overfit_settings()`` returns a dict with 'learning_rate' and
    'weight_scale' and optionally 'update_rule', 'num_epochs' (<= 20) and
    'batch_size'. Prints one OK line with the training accuracy and the
    epochs, or raises CheckFailed with the accuracy reached and a hint read
    from the loss history.
    """
    name = "overfit_settings"
    settings = _validated(name, call_student(name, overfit_settings, what="overfit_settings"))
    model = FullyConnectedNet(list(HIDDEN_DIMS), weight_scale=settings["weight_scale"], seed=0)
    solver = Solver(
        model,
        _data(),
        update_rule=settings["update_rule"],
        optim_config={"learning_rate": settings["learning_rate"]},
        num_epochs=settings["num_epochs"],
        batch_size=settings["batch_size"],
        verbose=False,
    )
    used = (
        f"{settings['update_rule']}, learning_rate {settings['learning_rate']:g}, "
        f"weight_scale {settings['weight_scale']:g}"
    )
    try:
        with np.errstate(all="ignore"):
            solver.train()
    except FloatingPointError as error:
        raise CheckFailed(
            f"{name}: training diverged ({used}): {error}. Hint: the loss became NaN or inf, "
            f"so learning_rate {settings['learning_rate']:g} is far too large (try 100 times "
            "smaller)"
        ) from None
    accuracy = solver.train_acc_history[-1]
    epochs = len(solver.train_acc_history)
    if round(accuracy * NUM_IMAGES) < NUM_IMAGES:
        raise CheckFailed(
            f"{name}: the training accuracy after {epochs} epochs is {accuracy:.0%} "
            f"({round(accuracy * NUM_IMAGES)}/{NUM_IMAGES} images; {used}); it must reach "
            f"100%. Hint: {_diagnosis(solver.loss_history, settings)}"
        )
    first = 1 + solver.train_acc_history.index(1.0)
    print(
        f"OK {name}: training accuracy 100% on {NUM_IMAGES} images after {epochs} epochs "
        f"(first at epoch {first}; {used}; final loss {solver.loss_history[-1]:.3f})"
    )
