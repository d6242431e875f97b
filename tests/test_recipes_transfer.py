"""Tests of course/recipes/transfer.py: the new-shapes task and the three ways to learn it."""

from __future__ import annotations

import copy

import matplotlib
import numpy as np
import pytest

from course.models.pretrained import load_pretrained
from course.recipes import transfer
from course.recipes.transfer import (
    METHODS,
    NEW_SHAPE_NAMES,
    build_finetune_model,
    build_scratch_model,
    compare_transfer,
    format_transfer_table,
    load_new_shapes,
    new_shapes,
    plot_transfer,
    train_linear_classifier,
    train_steps,
)

matplotlib.use("Agg")

TINY = {"sizes": (6, 12), "num_test": 12, "steps": 2, "batch_size": 6, "progress": False}


@pytest.fixture(scope="module")
def pretrained():
    return load_pretrained()


def _state(model):
    """Copies of every parameter and batchnorm running average of a TinyVGG."""
    arrays = {name: value.copy() for name, value in model.params.items()}
    for i, bn_param in enumerate(model.bn_params):
        for key in ("running_mean", "running_var"):
            arrays[f"bn{i}/{key}"] = bn_param[key].copy()
    return arrays


def _same(a, b):
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


# --- the new task -----------------------------------------------------------------


def test_new_shapes_are_images_of_six_balanced_classes():
    images, labels = new_shapes(40, seed=3, stream=1)
    assert images.shape == (40, 32, 32, 3) and images.dtype == np.uint8
    assert labels.shape == (40,) and labels.dtype == np.int64
    for start in range(0, 36, 6):  # every block of six holds each class once
        assert sorted(labels[start : start + 6]) == list(range(len(NEW_SHAPE_NAMES)))
    assert images.std() > 20  # drawn, not blank


def test_new_shapes_are_deterministic_and_independent_of_the_count():
    images, labels = new_shapes(200, seed=1)  # 200 crosses a chunk boundary (180)
    again, again_labels = new_shapes(200, seed=1)
    assert np.array_equal(images, again) and np.array_equal(labels, again_labels)
    prefix, prefix_labels = new_shapes(7, seed=1)
    assert np.array_equal(prefix, images[:7]) and np.array_equal(prefix_labels, labels[:7])
    other, _ = new_shapes(7, seed=1, stream=2)
    assert not np.array_equal(other, prefix)
    empty, empty_labels = new_shapes(0)
    assert empty.shape == (0, 32, 32, 3) and empty_labels.shape == (0,)


def test_no_class_is_told_by_its_brightness():
    # Colour, size, place and clutter are drawn without looking at the class.
    images, labels = new_shapes(180, seed=0)
    per_class = [images[labels == k].astype(float).mean() for k in range(6)]
    assert max(per_class) - min(per_class) < 25  # no class is a colour or brightness


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"num_images": -1}, ValueError, "num_images"),
        ({"num_images": 2.5}, TypeError, "num_images"),
        ({"num_images": 3, "seed": -2}, ValueError, "seed"),
        ({"num_images": 3, "stream": True}, TypeError, "stream"),
    ],
)
def test_new_shapes_names_a_bad_argument(kwargs, error, words):
    with pytest.raises(error, match=words):
        new_shapes(**kwargs)


def test_load_new_shapes_subtracts_the_mean_image(pretrained):
    data = load_new_shapes(12, 6, pretrained.mean_image, seed=2)
    assert data["X_train"].shape == (12, 3, 32, 32) and data["X_test"].shape == (6, 3, 32, 32)
    assert data["X_train"].dtype == np.float32 and data["class_names"] == NEW_SHAPE_NAMES
    images, labels = new_shapes(12, 2, stream=10)
    raw = images.transpose(0, 3, 1, 2) / 255.0
    assert np.allclose(data["X_train"], raw - pretrained.mean_image, atol=1e-6)
    assert np.array_equal(data["y_train"], labels)
    assert not np.allclose(data["X_test"], data["X_train"][:6])  # another stream


# --- the three methods ------------------------------------------------------------


def test_the_linear_classifier_learns_separable_features_and_folds_the_scaling():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 20)
    features = rng.normal(size=(60, 5)) * 0.3 + 50.0 + np.eye(3, 5)[y] * 4.0  # far from 0
    W, b = train_linear_classifier(features, y, num_classes=3, steps=200)
    assert W.shape == (5, 3) and b.shape == (3,)
    assert np.mean((features @ W + b).argmax(axis=1) == y) == 1.0
    again = train_linear_classifier(features, y, num_classes=3, steps=200)
    assert np.array_equal(W, again[0]) and np.array_equal(b, again[1])


def test_bad_labels_and_heads_are_named(pretrained):
    with pytest.raises(ValueError, match="labels must lie in"):
        train_linear_classifier(np.ones((4, 3)), np.array([0, 1, 2, 3]), num_classes=3)
    with pytest.raises(ValueError, match=r"head must be W \(128, K\)"):
        build_finetune_model(pretrained, (np.ones((64, 6)), np.zeros(6)))
    with pytest.raises(ValueError, match="head"):
        build_finetune_model(pretrained, (np.ones((128, 6)), np.zeros(5)))


def test_fine_tuning_starts_from_the_pretrained_weights(pretrained):
    before = _state(pretrained)
    head = (np.ones((128, 6)), np.zeros(6))
    model = build_finetune_model(pretrained, head)
    last = model.num_layers
    state = _state(model)
    for name, value in before.items():
        if name not in (f"W{last}", f"b{last}"):
            assert np.array_equal(state[name], value), name
    assert model.params[f"W{last}"].shape == (128, 6) and model.num_classes == 6
    assert model.params[f"W{last}"].dtype == pretrained.dtype
    train_steps(model, *_batch(pretrained), steps=1, batch_size=6, learning_rate=1e-3)
    assert not np.array_equal(model.params["W1"], pretrained.params["W1"])  # the trunk trains
    assert _same(_state(pretrained), before)  # ... on a copy: the source never changes


def test_scratch_has_the_architecture_but_not_the_weights(pretrained):
    model = build_scratch_model(pretrained, num_classes=6, seed=0)
    assert model.config() == {**pretrained.config(), "num_classes": 6}
    for name, value in model.params.items():
        if name.startswith("W") and name != f"W{model.num_layers}":  # the last has 6 columns
            assert not np.allclose(value, pretrained.params[name]), name
    assert "running_mean" not in model.bn_params[0]  # no statistics carried over
    assert np.array_equal(
        build_scratch_model(pretrained, 6, seed=0).params["W1"], model.params["W1"]
    )


def _batch(model, n=6):
    data = load_new_shapes(n, 1, model.mean_image, seed=0)
    return data["X_train"], data["y_train"]


def test_train_steps_replaces_arrays_and_is_seeded(pretrained):
    X, y = _batch(pretrained, 12)
    models = [build_scratch_model(pretrained, 6, seed=1) for _ in range(2)]
    W1 = models[0].params["W1"]
    kept = W1.copy()
    for model in models:
        train_steps(model, X, y, steps=2, batch_size=5, learning_rate=1e-3, seed=4)
    assert np.array_equal(W1, kept)  # the old array was not written into
    assert _same(models[0].params, models[1].params)
    assert not np.array_equal(models[0].params["W1"], kept)


# --- the comparison ---------------------------------------------------------------


def test_compare_transfer_returns_one_accuracy_per_method_and_size(pretrained):
    results = compare_transfer(pretrained=pretrained, **TINY)
    assert results["sizes"] == [6, 12] and results["num_test"] == 12
    assert set(results["accuracy"]) == set(METHODS)
    for method in METHODS:
        accuracies = results["accuracy"][method]
        assert len(accuracies) == 2 and all(0.0 <= a <= 1.0 for a in accuracies)
        assert all(a * 12 == round(a * 12) for a in accuracies)  # a fraction of 12 test images
    assert results["chance"] == pytest.approx(1 / 6) and results["steps"] == 2


def test_compare_transfer_is_deterministic_and_leaves_the_source_net_alone(pretrained):
    before = _state(pretrained)
    first = compare_transfer(pretrained=pretrained, **TINY)
    second = compare_transfer(pretrained=pretrained, **TINY)
    assert first["accuracy"] == second["accuracy"]
    assert _same(_state(pretrained), before)  # the frozen trunk (and the fine-tune's source)


def test_compare_transfer_fine_tunes_the_pretrained_net_and_trains_scratch_afresh(
    pretrained, monkeypatch
):
    started = []
    real = transfer.train_steps

    def spy(model, *args, **kwargs):
        started.append(copy.deepcopy(model.params))
        return real(model, *args, **kwargs)

    monkeypatch.setattr(transfer, "train_steps", spy)
    compare_transfer(pretrained=pretrained, **{**TINY, "sizes": (6,)})
    finetune, scratch = started
    trunk = [name for name in pretrained.params if name != f"W{pretrained.num_layers}"]
    trunk = [name for name in trunk if name != f"b{pretrained.num_layers}"]
    assert all(np.array_equal(finetune[name], pretrained.params[name]) for name in trunk)
    assert not np.allclose(scratch["W1"], pretrained.params["W1"])


def test_frozen_features_beat_chance_on_a_small_training_set(pretrained):
    # 60 images of six classes: the pretrained features separate the new shapes well
    # (about 75% on 500 test images in the measured run); here only twice chance is asked.
    results = compare_transfer(
        pretrained=pretrained, sizes=(60,), num_test=60, steps=1, batch_size=5, progress=False
    )
    assert results["accuracy"]["frozen"][0] > 2 * results["chance"]


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"sizes": ()}, TypeError, "sizes"),
        ({"sizes": "50"}, TypeError, "sizes"),
        ({"sizes": (50, 0)}, ValueError, "sizes"),
        ({"sizes": (200, 50)}, ValueError, "increase"),
        ({"sizes": (5.0,)}, TypeError, "sizes"),
        ({"num_test": 0}, ValueError, "num_test"),
        ({"steps": 0}, ValueError, "steps"),
        ({"batch_size": -1}, ValueError, "batch_size"),
        ({"finetune_lr": -1e-3}, ValueError, "learning_rate"),
        ({"scratch_lr": float("nan")}, ValueError, "learning_rate"),
    ],
)
def test_compare_transfer_names_a_bad_argument(pretrained, kwargs, error, words):
    with pytest.raises(error, match=words):
        compare_transfer(pretrained=pretrained, **{**TINY, **kwargs})


def test_compare_transfer_names_an_unusable_source_net(pretrained):
    with pytest.raises(TypeError, match="TinyVGG"):
        compare_transfer(pretrained="tinyvgg-shapes", **TINY)
    no_mean = copy.deepcopy(pretrained)
    no_mean.mean_image = None
    with pytest.raises(ValueError, match="mean_image"):
        compare_transfer(pretrained=no_mean, **TINY)


def test_the_table_and_the_plot_show_every_method():
    results = {
        "sizes": [50, 200],
        "accuracy": {"frozen": [0.5, 0.75], "finetune": [0.6, 0.8], "scratch": [0.2, 0.25]},
        "chance": 1 / 6,
        "num_test": 500,
    }
    table = format_transfer_table(results)
    assert "frozen" in table and "75.0%" in table and "25.0%" in table and "16.7%" in table
    assert len(table.splitlines()) == 4
    ax = plot_transfer(results)
    assert ax.get_xscale() == "log" and len(ax.get_lines()) == 4  # three methods and chance
    labels = ax.get_legend_handles_labels()[1]
    assert labels[:3] == ["frozen features + linear", "fine-tuned", "from scratch"]
    matplotlib.pyplot.close(ax.figure)
