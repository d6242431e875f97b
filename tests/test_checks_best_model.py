"""Tests for course/checks/best_model.py: the saved model's check and the points rule."""

from __future__ import annotations

import numpy as np
import pytest
from small_master import save_stand_in_as, stand_in_model

from course.checks import CheckFailed, best_model_points, check_best_model
from course.checks.best_model import (
    MAX_MULTIPLY_ADDS,
    hidden_test_set,
    multiply_adds,
    shipped_weight_distances,
    validation_set,
)
from course.data import load_shapes
from course.models import (
    FullyConnectedNet,
    TinyVGG,
    TwoLayerNet,
    load_pretrained,
    pretrained_info,
    save_model,
)


@pytest.mark.parametrize(
    "accuracy, points",
    [(0.0, 0), (0.1, 0), (0.5, 0), (0.6, 2.5), (0.7, 5), (0.8, 7.5), (0.9, 10), (1.0, 10)],
)
def test_points_are_zero_below_half_then_linear_to_full_at_ninety(accuracy, points):
    assert best_model_points(accuracy) == pytest.approx(points)


def test_points_are_monotone_rounded_and_scale_with_the_cell():
    grid = np.linspace(0, 1, 1001)
    points = [best_model_points(a) for a in grid]
    assert all(b >= a for a, b in zip(points, points[1:], strict=False))
    assert all(round(p, 1) == p for p in points)
    assert best_model_points(0.75, possible=4) == 2.5
    assert best_model_points(0.95, possible=0) == 0


@pytest.mark.parametrize("accuracy, possible", [(-0.1, 10), (1.5, 10), (np.nan, 10), (0.5, -1)])
def test_points_refuse_what_is_not_an_accuracy(accuracy, possible):
    with pytest.raises(ValueError, match="accuracy must be in"):
        best_model_points(accuracy, possible)


def test_the_validation_set_is_load_shapes_validation_split():
    images, labels = validation_set(20)
    data = load_shapes(num_train=10, num_val=20, num_test=0, seed=0, subtract_mean=False)
    np.testing.assert_array_equal(images, data["X_val"])
    np.testing.assert_array_equal(labels, data["y_val"])


def test_the_hidden_set_depends_on_its_seed_only():
    a, la = hidden_test_set(12345, 10)
    b, _ = hidden_test_set(12345, 10)
    c, _ = hidden_test_set(12346, 10)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.shape == (10, 3, 32, 32) and la.shape == (10,)


def test_a_well_trained_model_passes_with_its_accuracy_and_points(tmp_path, capsys):
    path = save_stand_in_as(tmp_path / "best_model.npz")
    check_best_model(path)
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith("OK best_model: TinyVGG validation accuracy 93.7% -> 10 / 10 points")
    assert "if the hidden test set agrees" in line


def test_the_shipped_pretrained_model_unchanged_is_not_the_students(tmp_path):
    path = save_model(load_pretrained(), tmp_path / "best_model.npz")
    with pytest.raises(CheckFailed, match="W1, W2, .* are those of the course's shipped"):
        check_best_model(path)


def test_the_shipped_model_fine_tuned_is_refused(tmp_path):
    """Every weight moved by a tenth of its own training's movement, as a short fine-tuning
    does (measured: at most 0.16 for the conv layers after two epochs at 1e-3)."""
    model = load_pretrained()
    start = TinyVGG(**{**model.config(), "seed": pretrained_info()["recipe"]["seed"]})
    rng = np.random.default_rng(1)
    for name in ("W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8"):
        moved = np.linalg.norm(model.params[name] - start.params[name])
        step = rng.standard_normal(model.params[name].shape)
        step *= 0.1 * moved / np.linalg.norm(step)
        model.params[name] = (model.params[name] + step).astype(np.float32)
    distances = shipped_weight_distances(model)
    assert all(0.09 < d < 0.11 for d in distances.values()), distances
    path = save_model(model, tmp_path / "best_model.npz")
    with pytest.raises(CheckFailed, match="not the shipped one fine-tuned"):
        check_best_model(path)


def test_a_net_started_from_the_shipped_recipes_seed_is_not_derived():
    """The shipped net's first layer barely moved in training, so a net drawn from the same
    seed starts near it; the whole net, though, lies about one training's movement away."""
    shipped = load_pretrained()
    fresh = TinyVGG(**{**shipped.config(), "seed": pretrained_info()["recipe"]["seed"]})
    distances = shipped_weight_distances(fresh)
    assert all(d > 0.9 for d in distances.values()), distances
    assert shipped_weight_distances(TinyVGG(**{**shipped.config(), "seed": 1}))["W2"] > 2


def test_the_default_path_is_best_model_npz_in_the_working_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CheckFailed, match=r"no file best_model.npz .*save_model\(model"):
        check_best_model()


def random_fc(seed: int = 0) -> FullyConnectedNet:
    return FullyConnectedNet([8], seed=seed)  # (3*32*32) -> 8 -> 10, untrained


def wrong_input() -> TinyVGG:
    model = TinyVGG(input_dim=(3, 16, 16), stages=((4,),), hidden_dims=())
    model.loss(np.zeros((2, 3, 16, 16), np.float32), np.array([0, 1]))
    return model


def five_classes() -> TwoLayerNet:
    return TwoLayerNet(num_classes=5)


def too_costly() -> TinyVGG:
    model = TinyVGG(stages=((128, 128),), hidden_dims=(), normalization=None)
    assert multiply_adds(model) > MAX_MULTIPLY_ADDS
    return model


@pytest.mark.parametrize(
    "make, mean, message",
    [
        (random_fc, True, r"validation accuracy \d+\.\d% earns 0 / 10 points"),
        (wrong_input, False, r"takes inputs of \(3, 16, 16\); Shapes-10 images are \(3, 32, 32\)"),
        (five_classes, False, "scores 5 classes; Shapes-10 has 10"),
        (too_costly, False, "M multiply-adds per image"),
    ],
)
def test_a_model_that_cannot_score_fails_with_its_reason(tmp_path, capsys, make, mean, message):
    mean_image = np.full((3, 32, 32), 0.5, np.float32) if mean else None
    path = save_model(make(), tmp_path / "best_model.npz", mean_image=mean_image)
    with pytest.raises(CheckFailed, match=message):
        check_best_model(path)
    assert "OK" not in capsys.readouterr().out


def test_a_trained_model_without_its_mean_image_scores_less(tmp_path, capsys):
    """The mean image matters: without it the inputs are not what the model was trained on."""
    model = stand_in_model()
    model.mean_image = None
    path = save_model(model, tmp_path / "best_model.npz")
    try:
        check_best_model(path)
        accuracy = float(capsys.readouterr().out.split("accuracy ")[1].split("%")[0])
        assert accuracy < 93.7
    except CheckFailed as failure:
        assert "earns 0" in str(failure)


def test_a_file_that_is_not_a_model_fails_clearly(tmp_path):
    path = tmp_path / "best_model.npz"
    np.savez(path, W1=np.array([{"x": 1}], dtype=object))
    with pytest.raises(CheckFailed, match="Python objects"):
        check_best_model(path)
