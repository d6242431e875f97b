"""Tests for course.solver: a tiny softmax classifier trained, determinism, bookkeeping, errors."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from course.artefacts import ArtefactError
from course.optim import sgd
from course.solver import Solver, TrainingInterrupted

NUM_CLASSES = 3
DIM = 4


class SoftmaxClassifier:
    """A linear softmax classifier: scores = X W + b. Just enough model for the Solver."""

    def __init__(self, seed: int = 0, dtype: type = np.float64) -> None:
        rng = np.random.default_rng(seed)
        self.params = {
            "W": (1e-2 * rng.standard_normal((DIM, NUM_CLASSES))).astype(dtype),  # (D, C)
            "b": np.zeros(NUM_CLASSES, dtype=dtype),  # (C,)
        }

    def loss(self, X, y=None):
        scores = X @ self.params["W"] + self.params["b"]  # (N, C)
        if y is None:
            return scores
        num = len(y)
        shifted = scores - scores.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (N, C)
        loss = -log_probs[np.arange(num), y].mean()
        dscores = np.exp(log_probs)
        dscores[np.arange(num), y] -= 1
        dscores /= num
        return loss, {"W": X.T @ dscores, "b": dscores.sum(axis=0)}


class RecordingClassifier(SoftmaxClassifier):
    """Remembers the first feature of every training row it sees, batch by batch."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[np.ndarray] = []

    def loss(self, X, y=None):
        if y is not None:
            self.batches.append(X[:, 0].copy())
        return super().loss(X, y)


class BadLossAfter(SoftmaxClassifier):
    """Returns ``bad`` (NaN or inf) as the loss from the ``fail_at``-th training call on."""

    def __init__(self, fail_at: int, bad: float) -> None:
        super().__init__()
        self.calls, self.fail_at, self.bad = 0, fail_at, bad

    def loss(self, X, y=None):
        out = super().loss(X, y)
        if y is None:
            return out
        self.calls += 1
        return (self.bad if self.calls >= self.fail_at else out[0]), out[1]


def make_data(num_train: int = 300, num_val: int = 90, seed: int = 1) -> dict[str, np.ndarray]:
    """Three well separated Gaussian blobs in DIM dimensions (linearly separable in practice)."""
    rng = np.random.default_rng(seed)
    centres = 3.0 * np.eye(NUM_CLASSES, DIM)  # (C, D)

    def blobs(num):
        y = rng.integers(0, NUM_CLASSES, size=num)
        X = centres[y] + 0.4 * rng.standard_normal((num, DIM))  # (N, D)
        return X, y

    X_train, y_train = blobs(num_train)
    X_val, y_val = blobs(num_val)
    return {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val}


def make_solver(model=None, data=None, **kwargs) -> Solver:
    options = {
        "optim_config": {"learning_rate": 0.5},
        "batch_size": 30,
        "num_epochs": 3,
        "verbose": False,
    }
    options.update(kwargs)
    return Solver(model or SoftmaxClassifier(), data or make_data(), **options)


# ---------------------------------------------------------------- learning


@pytest.mark.parametrize(
    ("rule", "lr"), [("sgd", 0.5), ("sgd_momentum", 0.1), ("rmsprop", 0.02), ("adam", 0.05)]
)
def test_loss_goes_down_and_toy_set_is_learnt(rule, lr):
    solver = make_solver(update_rule=rule, optim_config={"learning_rate": lr}, num_epochs=4)
    summary = solver.train()

    assert len(solver.loss_history) == 4 * (300 // 30)
    assert solver.loss_history[0] > 0.9  # about log(3) at the start
    assert np.mean(solver.loss_history[-5:]) < 0.25
    assert solver.best_val_acc >= 0.95
    assert len(solver.train_acc_history) == len(solver.val_acc_history) == 4
    assert summary["best_val_acc"] == solver.best_val_acc == max(solver.val_acc_history)
    assert summary["epochs"] == 4 and summary["iterations"] == 40
    assert summary["stopped_early"] is False


def test_float32_model_stays_float32():
    model = SoftmaxClassifier(dtype=np.float32)
    data = make_data()
    data = {**data, "X_train": data["X_train"].astype(np.float32)}
    make_solver(model, data, update_rule="adam", optim_config={"learning_rate": 0.05}).train()
    assert model.params["W"].dtype == np.float32 and model.params["b"].dtype == np.float32


def test_same_seed_same_histories_other_seed_differs():
    runs = []
    for seed in (7, 7, 8):
        model = SoftmaxClassifier(seed=0)
        solver = make_solver(model, seed=seed, num_train_samples=100, num_val_samples=50)
        solver.train()
        runs.append((solver, model))
    (a, model_a), (b, model_b), (c, _) = runs
    assert a.loss_history == b.loss_history
    assert a.train_acc_history == b.train_acc_history
    assert a.val_acc_history == b.val_acc_history
    for name in model_a.params:
        np.testing.assert_array_equal(model_a.params[name], model_b.params[name])
    assert a.loss_history != c.loss_history


def test_data_is_not_modified():
    data = make_data()
    original = copy.deepcopy(data)
    make_solver(data=data).train()
    for key in data:
        np.testing.assert_array_equal(data[key], original[key])


# ---------------------------------------------------------------- bookkeeping


def test_minibatches_cover_each_epoch_without_replacement():
    model = RecordingClassifier()
    data = make_data(num_train=300)
    make_solver(model, data, num_epochs=2).train()
    per_epoch = 300 // 30
    assert len(model.batches) == 2 * per_epoch
    for epoch in range(2):
        seen = np.concatenate(model.batches[epoch * per_epoch : (epoch + 1) * per_epoch])
        np.testing.assert_array_equal(np.sort(seen), np.sort(data["X_train"][:, 0]))
    assert not np.array_equal(model.batches[0], model.batches[per_epoch])  # a fresh order


def test_tiny_training_set_gives_one_full_batch_per_epoch():
    model = RecordingClassifier()
    solver = make_solver(model, make_data(num_train=12), batch_size=100, num_epochs=3)
    solver.train()
    assert len(solver.loss_history) == 3
    assert all(len(batch) == 12 for batch in model.batches)


def test_on_iteration_gets_solver_iteration_and_loss():
    calls = []
    solver = make_solver(
        on_iteration=lambda s, it, loss: calls.append((s, it, loss)), num_epochs=2
    )
    solver.train()
    assert [it for _, it, _ in calls] == list(range(1, 21))
    assert [loss for _, _, loss in calls] == solver.loss_history
    assert all(s is solver for s, _, _ in calls)


def test_best_params_are_restored_and_user_arrays_untouched():
    # Start from a good classifier, then climb the loss (gradient ascent): the
    # validation accuracy falls, so the best epoch is not the last one.
    model = SoftmaxClassifier()
    make_solver(model).train()

    def ascent(w, dw, config):
        return w + config["learning_rate"] * dw, config

    W_held = model.params["W"]
    W_held_copy = W_held.copy()
    snapshots = {}

    def snapshot(solver, epoch):
        snapshots[epoch] = {k: v.copy() for k, v in solver.model.params.items()}

    solver = make_solver(
        model,
        update_rule=ascent,
        optim_config={"learning_rate": 0.5},
        num_epochs=4,
        on_epoch=snapshot,
    )
    solver.train()

    assert solver.best_epoch < 4 and solver.val_acc_history[-1] < solver.best_val_acc
    assert solver.best_val_acc == max(solver.val_acc_history)
    for name, value in snapshots[solver.best_epoch].items():
        np.testing.assert_array_equal(model.params[name], value)
        np.testing.assert_array_equal(solver.best_params[name], value)
        assert model.params[name] is not solver.best_params[name]
    assert not np.array_equal(model.params["W"], snapshots[4]["W"])
    np.testing.assert_array_equal(W_held, W_held_copy)  # an array the user held is unchanged
    assert model.params["W"] is not W_held


def test_lr_decay_is_applied_after_each_epoch():
    seen = []

    def recording_sgd(w, dw, config):
        seen.append(config["learning_rate"])
        return sgd(w, dw, config)

    user_config = {"learning_rate": 0.1}
    solver = make_solver(
        update_rule=recording_sgd, optim_config=user_config, lr_decay=0.5, num_epochs=3
    )
    solver.train()

    per_epoch = 2 * (300 // 30)  # two parameters, one call each per iteration
    for epoch, lr in enumerate([0.1, 0.05, 0.025]):
        assert seen[epoch * per_epoch : (epoch + 1) * per_epoch] == pytest.approx([lr] * per_epoch)
    assert solver.optim_configs["W"]["learning_rate"] == pytest.approx(0.0125)
    assert solver.optim_configs["b"]["learning_rate"] == pytest.approx(0.0125)
    assert solver.optim_configs["W"] is not solver.optim_configs["b"]
    assert user_config == {"learning_rate": 0.1}


def test_each_parameter_has_its_own_optimiser_state():
    solver = make_solver(update_rule="adam", optim_config={"learning_rate": 0.01}, num_epochs=1)
    solver.train()
    assert solver.optim_configs["W"]["m"].shape == (DIM, NUM_CLASSES)
    assert solver.optim_configs["b"]["m"].shape == (NUM_CLASSES,)
    assert solver.optim_configs["W"]["t"] == solver.optim_configs["b"]["t"] == 10


def test_grad_clip_bounds_the_global_norm_of_every_update():
    squared = []

    def recording_sgd(w, dw, config):
        squared.append(float(np.sum(dw**2)))
        return sgd(w, dw, config)

    make_solver(
        update_rule=recording_sgd, optim_config={"learning_rate": 0.5}, grad_clip=0.05
    ).train()
    norms = np.sqrt(np.add.reduceat(squared, np.arange(0, len(squared), 2)))  # W and b together
    assert len(norms) == 30
    assert np.all(norms <= 0.05 * (1 + 1e-12))
    assert np.any(norms > 0.049)  # clipping was active


def test_early_stop_callback():
    calls = []

    def stop_at_two(solver, epoch):
        return epoch >= 2

    def record(solver, epoch):
        calls.append(epoch)

    solver = make_solver(num_epochs=10, on_epoch=[stop_at_two, record])
    summary = solver.train()
    assert solver.epoch == 2 and summary["stopped_early"] is True
    assert calls == [1, 2]  # every callback still runs on the stopping epoch
    assert len(solver.val_acc_history) == 2 and len(solver.loss_history) == 20


class BatchnormClassifier(SoftmaxClassifier):
    """Keeps a batchnorm-like state: the running mean of the inputs it trained on."""

    def __init__(self) -> None:
        super().__init__()
        self.bn_params = [{"mode": "train", "running_mean": np.zeros(DIM)}]

    def loss(self, X, y=None):
        if y is not None:
            state = self.bn_params[0]
            state["running_mean"] = 0.5 * state["running_mean"] + 0.5 * X.mean(axis=0)
        return super().loss(X, y)


def test_best_epoch_batchnorm_state_is_restored_with_its_params():
    # Gradient ascent after a good start: the best epoch is not the last, and the
    # running averages of the last epoch differ from those of the best.
    model = BatchnormClassifier()
    make_solver(model).train()
    snapshots = {}

    def snapshot(solver, epoch):
        snapshots[epoch] = [dict(p) for p in solver.model.bn_params]

    def ascent(w, dw, config):
        return w + config["learning_rate"] * dw, config

    solver = make_solver(model, update_rule=ascent, num_epochs=4, on_epoch=snapshot)
    solver.train()
    assert solver.best_epoch < 4
    best = snapshots[solver.best_epoch][0]["running_mean"]
    last = snapshots[4][0]["running_mean"]
    assert not np.array_equal(best, last)
    np.testing.assert_array_equal(model.bn_params[0]["running_mean"], best)
    np.testing.assert_array_equal(solver.best_bn_params[0]["running_mean"], best)
    assert model.bn_params[0] is not solver.best_bn_params[0]


class StreamModel(SoftmaxClassifier):
    """Records the rows it is given and when its carried state is reset."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list = []

    def reset_state(self) -> None:
        self.events.append("reset")

    def loss(self, X, y=None):
        self.events.append(("train" if y is not None else "score", int(X[0, 3])))
        return super().loss(X, y)


def test_shuffle_false_walks_batches_in_order_and_resets_state_per_pass():
    data = make_data(num_train=90, num_val=30)
    data["X_train"][:, 3] = np.arange(90)  # the row number, to read the order back
    data["X_val"][:, 3] = np.arange(30)
    model = StreamModel()
    make_solver(model, data, shuffle=False, num_epochs=2, num_train_samples=60).train()
    assert model.events[:2] == ["reset", ("score", 0)]  # counting the classes before training
    del model.events[:2]
    first_epoch = model.events[: model.events.index(("score", 0))]
    assert first_epoch == ["reset", ("train", 0), ("train", 30), ("train", 60), "reset"]
    # Evaluation reads the first 60 training rows, then the validation rows, in
    # training-sized batches, each pass from a reset state.
    evaluation = model.events[len(first_epoch) - 1 : len(first_epoch) + 4]
    assert evaluation == ["reset", ("score", 0), ("score", 30), "reset", ("score", 0)]
    assert model.events.count("reset") == 2 * 3


def test_a_callback_can_give_the_next_epoch_new_training_data():
    data = make_data(num_train=90, num_val=30)
    data["X_train"][:, 3] = np.arange(90)
    model = StreamModel()

    def shrink(solver, epoch):
        rows = slice(0, max(90 - 30 * epoch, 30))  # 60 rows for epoch 2, 30 for epoch 3
        solver.set_training_data(data["X_train"][rows], data["y_train"][rows])

    make_solver(model, data, shuffle=False, num_epochs=3, on_epoch=shrink).train()
    trained = [event[1] for event in model.events if event[0] == "train"]
    assert trained == [0, 30, 60, 0, 30, 0]  # 3 batches, then 2, then 1
    solver = make_solver(data=data)
    with pytest.raises(ValueError, match="X_train has 2 examples but y_train has 3 labels"):
        solver.set_training_data(data["X_train"][:2], data["y_train"][:3])


def test_loss_metric_keeps_the_lowest_validation_loss():
    model = SoftmaxClassifier()
    solver = make_solver(model, metric="loss", num_epochs=3)
    summary = solver.train()
    assert summary["metric"] == "loss" and "best_val_acc" not in summary
    assert solver.best_val_metric == min(solver.val_metric_history)
    expected = solver.mean_loss(solver.X_val, solver.y_val)
    assert expected == pytest.approx(solver.best_val_metric)
    with pytest.raises(AttributeError, match="metric='loss', not accuracy"):
        _ = solver.val_acc_history
    with pytest.raises(ValueError, match="batchnorm and dropout in training mode"):
        make_solver(BatchnormClassifier(), metric="loss")
    with pytest.raises(ValueError, match="metric must be 'accuracy'"):
        make_solver(metric="bits")


def test_on_iteration_can_stop_mid_epoch_after_measuring():
    solver = make_solver(num_epochs=None, on_iteration=lambda s, it, loss: it >= 15)
    summary = solver.train()
    assert summary["stopped_early"] and solver.iteration == 15 and solver.epoch == 2
    assert len(solver.val_acc_history) == 2  # the cut-short epoch is measured too
    with pytest.raises(ValueError, match="num_epochs=None trains until a callback stops it"):
        make_solver(num_epochs=None)


def test_sequence_labels_are_scored_position_by_position():
    class EchoModel(SoftmaxClassifier):
        def loss(self, X, y=None):
            if y is None:
                return np.eye(NUM_CLASSES)[X.astype(int)]  # (N, T, C): predicts X itself
            return super().loss(X[:, :DIM].astype(float), y[:, 0])

    X = np.random.default_rng(0).integers(0, NUM_CLASSES, size=(40, DIM))
    y = X.copy()
    y[:10, 0] = (y[:10, 0] + 1) % NUM_CLASSES  # 10 of 160 positions wrong
    data = {"X_train": X, "y_train": y, "X_val": X, "y_val": y}
    solver = make_solver(EchoModel(), data, num_epochs=1)
    assert solver.check_accuracy(X, y) == pytest.approx(150 / 160)


def test_train_again_continues_counting():
    solver = make_solver(num_epochs=2)
    solver.train()
    summary = solver.train()
    assert solver.epoch == 4 and summary["iterations"] == 40
    assert len(solver.val_acc_history) == 4


def test_predict_and_check_accuracy():
    model = SoftmaxClassifier()
    data = make_data()
    solver = make_solver(model, data)
    solver.train()
    y_pred = solver.predict(data["X_val"], batch_size=7)
    assert y_pred.shape == (90,) and np.issubdtype(y_pred.dtype, np.integer)
    np.testing.assert_array_equal(y_pred, np.argmax(model.loss(data["X_val"]), axis=1))
    assert solver.check_accuracy(data["X_val"], data["y_val"]) == np.mean(y_pred == data["y_val"])
    subset_acc = solver.check_accuracy(data["X_val"], data["y_val"], num_samples=50)
    assert (subset_acc * 50) == pytest.approx(round(subset_acc * 50))


# ---------------------------------------------------------------- checkpoints


def test_checkpoints_are_written_each_epoch_and_loadable(tmp_path):
    folder = tmp_path / "runs" / "first"  # does not exist yet
    snapshots = {}

    def snapshot(solver, epoch):
        snapshots[epoch] = {k: v.copy() for k, v in solver.model.params.items()}

    solver = make_solver(checkpoint_dir=folder, lr_decay=0.5, on_epoch=snapshot)
    solver.train()

    names = sorted(p.name for p in folder.iterdir())
    assert names == [f"epoch_{e:03d}.{ext}" for e in (1, 2, 3) for ext in ("json", "npz")]
    for epoch, form in zip(
        (1, 2, 3), ("epoch_001.npz", "epoch_002.json", "epoch_003"), strict=True
    ):
        ckpt = Solver.load_checkpoint(folder / form)
        assert ckpt["epoch"] == epoch and ckpt["iteration"] == 10 * epoch
        for name, value in snapshots[epoch].items():
            np.testing.assert_array_equal(ckpt["params"][name], value)
        assert ckpt["val_metric_history"] == solver.val_acc_history[:epoch]
        assert ckpt["loss_history"] == solver.loss_history[: 10 * epoch]
        assert ckpt["config"]["update_rule"] == "sgd"
        assert ckpt["config"]["optim_config"]["learning_rate"] == pytest.approx(0.5 ** (epoch + 1))
        assert ckpt["config"]["batch_size"] == 30


def test_checkpoint_folder_with_old_checkpoints_is_refused(tmp_path):
    old = tmp_path / "epoch_001.npz"
    old.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="never overwrites"):
        make_solver(checkpoint_dir=tmp_path)
    assert old.read_bytes() == b"precious"

    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    with pytest.raises(NotADirectoryError):
        make_solver(checkpoint_dir=a_file)


def test_load_checkpoint_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="epoch_009"):
        Solver.load_checkpoint(tmp_path / "epoch_009.npz")


# ---------------------------------------------------------------- errors and output


@pytest.mark.parametrize(
    ("bad", "fail_at", "where"),
    [(np.nan, 13, "nan at iteration 13 (epoch 2)"), (np.inf, 1, "inf at iteration 1 (epoch 1)")],
)
def test_non_finite_loss_names_iteration_and_learning_rate(bad, fail_at, where):
    model = BadLossAfter(fail_at, bad)
    solver = make_solver(model, optim_config={"learning_rate": 0.1})
    with pytest.raises(FloatingPointError) as info:
        solver.train()
    assert str(info.value) == f"loss became {where}; try a smaller learning_rate (now 0.1)"
    assert len(solver.loss_history) == fail_at - 1


def test_missing_data_keys_are_listed():
    data = make_data()
    del data["X_val"], data["y_val"]
    with pytest.raises(KeyError, match="'X_val', 'y_val'"):
        make_solver(data=data)
    with pytest.raises(TypeError, match="data must be a dict"):
        Solver(SoftmaxClassifier(), [1, 2, 3])


def test_train_lengths_must_agree():
    data = make_data()
    data["y_train"] = data["y_train"][:-1]
    with pytest.raises(ValueError, match="X_train has 300 examples but y_train has 299"):
        make_solver(data=data)


def test_float_labels_are_refused():
    data = make_data()
    data["y_val"] = data["y_val"].astype(float)
    with pytest.raises(TypeError, match="y_val has dtype float64"):
        make_solver(data=data)


def test_unknown_keyword_arguments_are_listed():
    with pytest.raises(TypeError, match="'learning_rate', 'num_epoch'") as info:
        make_solver(learning_rate=0.1, num_epoch=3)
    assert "did you mean 'num_epochs'" in str(info.value)
    assert "'learning_rate' goes inside optim_config" in str(info.value)


def test_optim_config_typo_fails_at_construction():
    with pytest.raises(ValueError, match="did you mean 'learning_rate'"):
        make_solver(optim_config={"learning_rte": 0.1})
    with pytest.raises(ValueError, match="unknown update rule"):
        make_solver(update_rule="adamw")


@pytest.mark.parametrize(
    ("option", "value", "error"),
    [
        ("batch_size", 0, ValueError),
        ("num_epochs", 2.5, TypeError),
        ("lr_decay", -1.0, ValueError),
        ("grad_clip", 0, ValueError),
        ("num_train_samples", 0, ValueError),
        ("on_epoch", "stop", TypeError),
        ("verbose", "yes", TypeError),
    ],
)
def test_bad_option_values(option, value, error):
    with pytest.raises(error, match=option):
        make_solver(**{option: value})


def test_model_without_contract_is_refused():
    class NoParams:
        def loss(self, X, y=None):
            return X

    with pytest.raises(TypeError, match="params"):
        Solver(NoParams(), make_data())


def test_verbose_false_prints_nothing(capfd):
    make_solver(verbose=False).train()
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_verbose_true_shows_progress(capfd):
    make_solver(verbose=True, num_epochs=2).train()
    out, err = capfd.readouterr()
    assert "epoch 2:" in out and "val acc" in out
    assert "training" in err  # the progress bar


def test_training_tunes_malloc_once(monkeypatch):
    from course import allocator

    calls = []
    monkeypatch.setattr(allocator, "keep_freed_memory", lambda: calls.append(True))
    monkeypatch.setattr(allocator, "_kept", False)
    solver = make_solver(num_epochs=1)
    assert calls == []  # building a Solver changes nothing
    solver.train()
    solver.train()
    assert calls == [True]


@pytest.mark.parametrize("split", ["train", "val"])
def test_negative_labels_are_refused_at_construction(split):
    data = make_data()
    data[f"y_{split}"][[3, 7]] = -1
    with pytest.raises(ValueError, match=rf"y_{split} holds the negative label -1 \(2 of"):
        make_solver(data=data)


@pytest.mark.parametrize("split", ["train", "val"])
def test_labels_the_model_cannot_score_are_refused_before_training(split):
    data = make_data()
    data[f"y_{split}"][5] = NUM_CLASSES + 2  # the model scores 3 classes
    solver = make_solver(data=data)
    message = rf"y_{split} holds the label 5, but the model scores 3 classes \(labels 0 to 2"
    with pytest.raises(ValueError, match=message):
        solver.train()
    assert solver.iteration == 0 and solver.loss_history == []


@pytest.mark.parametrize(("split", "bad"), [("train", np.nan), ("val", np.inf), ("val", -np.inf)])
def test_non_finite_inputs_are_refused_with_their_count(split, bad):
    data = make_data()
    data[f"X_{split}"][[0, 4, 9], 1] = bad
    with pytest.raises(ValueError, match=rf"X_{split} holds 3 NaN or inf entries"):
        make_solver(data=data)
    solver = make_solver()
    with pytest.raises(ValueError, match=r"X_train holds 3 NaN or inf entries"):
        solver.set_training_data(data[f"X_{split}"], data[f"y_{split}"])


def test_integer_inputs_need_no_finiteness_check():
    data = make_data()
    data["X_val"] = np.zeros((90, DIM), dtype=np.int64)
    make_solver(data=data)  # token ids: nothing to check


def test_learning_rate_zero_warns_and_negative_is_refused():
    def custom_rule(w, dw, config):
        return sgd(w, dw, config)

    with pytest.warns(UserWarning, match="learning_rate=0: the parameters will never change"):
        make_solver(optim_config={"learning_rate": 0})
    with pytest.warns(UserWarning, match="learning_rate=0"):
        make_solver(update_rule=custom_rule, optim_config={"learning_rate": 0.0})
    with pytest.raises(ValueError, match=r"config\['learning_rate'\] must be a non-negative"):
        make_solver(optim_config={"learning_rate": -0.1})


# ---------------------------------------------------------------- Ctrl-C and damaged checkpoints


class InterruptedAt(SoftmaxClassifier):
    """Raises KeyboardInterrupt (Ctrl-C) in its ``at``-th training call; ``also_measuring``
    raises it again in the first evaluation after that (a second Ctrl-C)."""

    def __init__(self, at: int, also_measuring: bool = False) -> None:
        super().__init__()
        self.calls, self.at, self.also_measuring, self.fired = 0, at, also_measuring, False

    def loss(self, X, y=None):
        if y is None and self.fired and self.also_measuring:
            self.also_measuring = False
            raise KeyboardInterrupt
        if y is not None:
            self.calls += 1
            if self.calls == self.at:
                self.fired = True
                raise KeyboardInterrupt
        return super().loss(X, y)


def test_ctrl_c_measures_the_parameters_reached_and_keeps_the_best():
    model = InterruptedAt(at=5)  # mid-way through the first epoch (10 iterations)
    solver = make_solver(model)
    with pytest.raises(TrainingInterrupted, match="iteration 4 .*best parameters so far") as err:
        solver.train()
    summary = err.value.summary
    assert summary["interrupted"] and summary["iterations"] == 4 and summary["best_epoch"] == 1
    assert solver.val_acc_history == [summary["best_val_acc"]] and summary["best_val_acc"] > 0.9
    np.testing.assert_array_equal(model.params["W"], solver.best_params["W"])
    assert isinstance(err.value, KeyboardInterrupt)  # a notebook's Run All stops here


def test_a_second_ctrl_c_skips_the_measurement_and_keeps_the_earlier_best():
    model = InterruptedAt(at=15, also_measuring=True)  # in epoch 2, then while measuring
    solver = make_solver(model)
    with pytest.raises(TrainingInterrupted, match="epoch 1") as err:
        solver.train()
    assert err.value.summary["best_epoch"] == 1 and len(solver.val_acc_history) == 1
    np.testing.assert_array_equal(model.params["W"], solver.best_params["W"])


def test_ctrl_c_before_any_measurement_says_the_model_is_as_left():
    solver = make_solver(InterruptedAt(at=1, also_measuring=True))
    with pytest.raises(TrainingInterrupted, match="before any parameters were measured"):
        solver.train()


class NanOnValidationWhenBroken(SoftmaxClassifier):
    """Its loss on validation rows is NaN while ``broken`` is set."""

    def __init__(self, X_val: np.ndarray) -> None:
        super().__init__()
        self.val_rows = {row.tobytes() for row in X_val}
        self.broken = False

    def loss(self, X, y=None):
        out = super().loss(X, y)
        if not self.broken or X[0].tobytes() not in self.val_rows:
            return out
        return out * np.nan if y is None else (np.nan, out[1])


def test_an_epoch_whose_validation_metric_is_nan_is_never_the_best(tmp_path):
    data = make_data()
    model = NanOnValidationWhenBroken(data["X_val"])
    solver = make_solver(
        model,
        data,
        metric="loss",
        checkpoint_dir=tmp_path,
        on_epoch=lambda solver, epoch: setattr(model, "broken", True),  # NaN from epoch 2
    )
    solver.train()
    assert solver.best_epoch == 1 and np.isnan(solver.val_metric_history[1:]).all()
    np.testing.assert_array_equal(model.params["W"], solver.best_params["W"])
    later = Solver.load_checkpoint(tmp_path / "epoch_003")  # JSON has no NaN: null
    assert later["val_metric_history"][1:] == [None, None] and later["best_epoch"] == 1


def _checkpoint(tmp_path):
    make_solver(checkpoint_dir=tmp_path, num_epochs=1).train()
    return tmp_path / "epoch_001.npz", tmp_path / "epoch_001.json"


DAMAGED_CHECKPOINTS = {
    "empty npz": ("npz", lambda p: p.write_bytes(b""), "is empty"),
    "truncated npz": ("npz", lambda p: p.write_bytes(p.read_bytes()[:100]), "damaged"),
    "other arrays": ("npz", lambda p: np.savez(p, W=np.zeros((DIM, 3))), "do not belong"),
    "nan arrays": ("npz", lambda p: np.savez(p, W=np.full(2, np.nan)), "NaN or inf"),
    "bad json": ("json", lambda p: p.write_text("{"), "not valid JSON"),
    "incomplete json": ("json", lambda p: p.write_text('{"epoch": 1}'), "has no 'iteration'"),
}


@pytest.mark.parametrize("case", sorted(DAMAGED_CHECKPOINTS))
def test_a_damaged_checkpoint_is_one_message(tmp_path, case):
    which, damage, expected = DAMAGED_CHECKPOINTS[case]
    npz, meta = _checkpoint(tmp_path)
    damage(npz if which == "npz" else meta)
    with pytest.raises(ArtefactError, match=expected) as err:
        Solver.load_checkpoint(npz)
    assert str(npz if which == "npz" else meta) in str(err.value)
    assert "earlier epoch" in str(err.value)


def test_a_failed_checkpoint_write_leaves_no_file_behind(tmp_path, monkeypatch):
    def disk_full(file, **arrays):
        file.write(b"PK\x03\x04 half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(OSError, match="No space left"):
        make_solver(checkpoint_dir=tmp_path, num_epochs=1).train()
    assert list(tmp_path.iterdir()) == []
