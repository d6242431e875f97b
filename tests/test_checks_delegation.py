"""A check fails when the student's function hands its work to the course's own implementation.

``call_student`` (``course/checks/core.py``) watches the functions a student's
function enters and recognises the course's implementation of the exercise
being checked (``course/references.py``): by name, through any import, by an
alias (``captioning_loss`` is ``CaptioningRNN.loss``), or as a copy of its
code. The course's other functions stay allowed, as building blocks; so do
the functions a check hands the student (beam search's ``step``).
"""

from __future__ import annotations

import inspect
import sys

import numpy as np
import pytest
from captioning_solutions import beam_search, captioning_loss, sample_captions
from viz_solutions import class_visualisation_step, make_fooling_image, saliency_maps

import course.layers
import course.layers.fc as fc
from course.checks import (
    CheckFailed,
    check_affine_backward,
    check_affine_forward,
    check_affine_relu_forward,
    check_beam_search,
    check_captioning_loss,
    check_class_visualisation_step,
    check_make_fooling_image,
    check_relu_forward,
    check_saliency_maps,
    check_sample_captions,
)
from course.checks.core import call_student, references_allowed
from course.layers import affine_forward as af
from course.models.captioning import CaptioningRNN

ADVICE = "the check grades your code, so write the computation yourself"


def affine_by_import(x, w, b):
    return course.layers.affine_forward(x, w, b)


def affine_by_alias(x, w, b):
    return af(x, w, b)


_COPY = dict(vars(fc))
exec(inspect.getsource(fc.affine_forward).replace("def affine_forward", "def borrowed"), _COPY)


def affine_by_copy(x, w, b):
    return _COPY["borrowed"](x, w, b)


@pytest.mark.parametrize(
    ("student", "entered"),
    [
        (affine_by_import, "the course's own affine_forward (course/layers/fc.py)"),
        (affine_by_alias, "the course's own affine_forward (course/layers/fc.py)"),
        (affine_by_copy, "a copy of the course's own affine_forward"),
        (course.layers.affine_forward, "the course's own affine_forward (course/layers/fc.py)"),
    ],
    ids=["import", "from-import-as", "exec-copy", "the-reference-itself"],
)
def test_delegating_to_the_reference_fails_with_a_clear_message(student, entered, capsys):
    with pytest.raises(CheckFailed) as failure:
        check_affine_forward(student)
    assert str(failure.value).startswith(
        f"affine_forward: your {student.__name__} calls {entered}; {ADVICE}"
    )
    assert "OK" not in capsys.readouterr().out


def captioning_loss_by_method(features, captions, params, cell_type, null_index):
    """The loss through the reference model's method (an alias of the exercise)."""
    V, W = params["W_embed"].shape
    D, Hd = params["W_proj"].shape
    names = [f"w{i}" for i in range(V)]
    names[null_index] = "<NULL>"
    model = CaptioningRNN(
        {w: i for i, w in enumerate(names)}, D, W, Hd, cell_type, np.float64, seed=0
    )
    model.params = {key: np.asarray(value, dtype=np.float64) for key, value in params.items()}
    return model.loss(features, captions)


def test_delegating_to_a_method_alias_fails():
    with pytest.raises(CheckFailed) as failure:
        check_captioning_loss(captioning_loss_by_method)
    message = str(failure.value)
    assert message.startswith(
        "captioning_loss: your captioning_loss_by_method calls the course's own "
        "CaptioningRNN.loss (course/models/captioning.py); " + ADVICE
    )


def affine_relu_from_building_blocks(x, w, b):
    """Allowed: the exercise is affine_relu_forward; the course's layers are its parts."""
    a, fc_cache = course.layers.affine_forward(x, w, b)
    out, relu_cache = course.layers.relu_forward(a)
    return out, (fc_cache, relu_cache)


def affine_backward_by_hand(dout, cache):
    x, w = cache
    return (dout @ w.T).reshape(x.shape), x.reshape(len(x), -1).T @ dout, dout.sum(axis=0)


@pytest.mark.parametrize(
    ("check", "students"),
    [
        (check_affine_relu_forward, (affine_relu_from_building_blocks,)),
        # The backward check runs the forward too: the course's forward is no delegation there.
        (check_affine_backward, (course.layers.affine_forward, affine_backward_by_hand)),
        (check_captioning_loss, (captioning_loss,)),  # the course's layers, in a loop
        (check_sample_captions, (sample_captions,)),
        (check_beam_search, (beam_search,)),  # calls the step function the check hands it
        (check_saliency_maps, (saliency_maps,)),  # calls the course model the check hands it
        (check_class_visualisation_step, (class_visualisation_step,)),
        (check_make_fooling_image, (make_fooling_image,)),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_honest_implementations_on_the_course_s_building_blocks_pass(check, students, capsys):
    check(*students)
    assert capsys.readouterr().out.startswith("OK ")


def test_references_allowed_lets_a_check_s_own_tests_pass_the_reference(capsys):
    with references_allowed():
        check_relu_forward(course.layers.relu_forward)
    assert capsys.readouterr().out.startswith("OK relu_forward:")
    with pytest.raises(CheckFailed, match="calls the course's own relu_forward"):
        check_relu_forward(course.layers.relu_forward)


def test_the_watch_ends_with_the_call_and_leaves_another_profiler_alone():
    assert sys.getprofile() is None
    call_student("affine_forward", lambda x: x + 1, np.ones(2))
    assert sys.getprofile() is None

    def profiler(frame, event, arg):
        return None

    sys.setprofile(profiler)
    try:  # a profiler runs (%prun): the check runs unwatched and leaves it in place
        assert call_student("affine_forward", affine_by_import, *_affine_inputs())[0].shape
        assert sys.getprofile() is profiler
    finally:
        sys.setprofile(None)


def test_delegation_is_reported_even_when_the_call_then_raises():
    def delegates_then_fails(x, w, b):
        course.layers.affine_forward(x, w, b)
        raise ValueError("something else")

    with pytest.raises(CheckFailed, match="your delegates_then_fails calls the course's own"):
        call_student("affine_forward", delegates_then_fails, *_affine_inputs())


def _affine_inputs():
    return np.ones((2, 3)), np.ones((3, 4)), np.zeros(4)
