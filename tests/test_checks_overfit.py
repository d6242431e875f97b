"""The overfit check trains the reference net on 50 images; it passes good settings only.

Each catalogue entry is a setting students try (or a malformed dict) and
the message the check must give: a learning rate too small or huge, tiny
weights, a missing or unknown key, a wrong type, too many epochs. Each
training run takes well under a second.
"""

from __future__ import annotations

import pytest
from check_catalogue import assert_check_fails, mistake, not_implemented

from course.checks import CheckFailed, check_overfit_small_data

PASSING = {"learning_rate": 1e-3, "weight_scale": 5e-2, "update_rule": "adam"}


def settings(**values):
    def overfit_settings():
        return values

    return overfit_settings


MISTAKES = [
    mistake(
        settings(learning_rate=1e-5, weight_scale=5e-2, update_rule="adam"),
        match=r"accuracy after 20 epochs is \d+% .*it must reach 100%\. Hint: the loss barely "
        r"moved .*too small",
        id="lr-too-small",
    ),
    mistake(
        settings(learning_rate=1e3, weight_scale=5e-2),
        match=r"training diverged \(sgd, learning_rate 1000.*loss became nan.*far too large",
        id="lr-huge-nan",
    ),
    mistake(
        settings(learning_rate=1e-3, weight_scale=1e-6, update_rule="adam"),
        match=r"accuracy after 20 epochs is \d+% .*Hint: weight_scale 1e-06 is tiny",
        id="weight-scale-tiny",
    ),
    mistake(
        settings(learning_rate=1e-3, weight_scale=5e-2, num_epochs=2, update_rule="adam"),
        match=r"accuracy after 2 epochs is \d+% .*num_epochs 2 leaves time unused",
        id="too-few-epochs",
    ),
    mistake(
        settings(learning_rate=1e-3),
        match=r"the settings have no 'weight_scale'; give at least",
        id="missing-key",
    ),
    mistake(
        settings(learning_rate=1e-3, weight_scale=5e-2, learning_rat=1e-2),
        match=r"unknown setting 'learning_rat' \(did you mean 'learning_rate'\?\)",
        id="unknown-key",
    ),
    mistake(
        settings(learning_rate="1e-3", weight_scale=5e-2),
        match=r"learning_rate must be a positive number, got '1e-3'",
        id="lr-a-string",
    ),
    mistake(
        settings(learning_rate=-1e-3, weight_scale=5e-2),
        match=r"learning_rate must be a positive number, got -0.001",
        id="lr-negative",
    ),
    mistake(
        settings(learning_rate=1e-3, weight_scale=5e-2, num_epochs=100),
        match=r"num_epochs must be an int from 1 to 20, got 100",
        id="too-many-epochs",
    ),
    mistake(
        settings(learning_rate=1e-3, weight_scale=5e-2, batch_size=12.5),
        match=r"batch_size must be an int from 1 to 50, got 12.5",
        id="batch-size-float",
    ),
    mistake(
        settings(learning_rate=1e-3, weight_scale=5e-2, update_rule="Adam"),
        match=r"update_rule must be one of 'sgd', 'sgd_momentum', 'rmsprop', 'adam', got 'Adam'",
        id="update-rule-unknown",
    ),
    mistake(
        lambda: [1e-3, 5e-2],
        match=r"overfit_settings\(\) should return a dict of settings, got list",
        id="not-a-dict",
    ),
    mistake(not_implemented, match=r"overfit_settings is not implemented yet", id="stub"),
]


def test_good_settings_pass_with_one_line(capsys):
    check_overfit_small_data(settings(**PASSING))
    out = capsys.readouterr().out
    assert out.startswith("OK overfit_settings: training accuracy 100% on 50 images after ")
    assert out.count("\n") == 1


@pytest.mark.parametrize(
    ("student", "expected"), [m.values for m in MISTAKES], ids=[m.id for m in MISTAKES]
)
def test_bad_settings_fail_with_their_message(student, expected, capsys):
    assert_check_fails(check_overfit_small_data, "overfit_settings", student, expected, capsys)


def test_a_non_function_is_named():
    with pytest.raises(CheckFailed, match=r"^overfit_settings: expected a function, got dict"):
        check_overfit_small_data(PASSING)
