"""Tests of course/widgets/training_monitor.py: a TrainingMonitor fed by a real, short Solver run
on a tiny TinyVGG records every iteration and epoch and draws; plot_solver_history draws a
Solver's histories."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure

from course.models import TinyVGG
from course.solver import Solver
from course.widgets import TrainingMonitor, plot_solver_history

N_TRAIN, BATCH, EPOCHS = 48, 16, 2  # 3 iterations an epoch


def _solver(monitor: TrainingMonitor | None = None, metric: str = "accuracy", seed: int = 0):
    model = TinyVGG(
        input_dim=(3, 8, 8),
        stages=((4,),),
        hidden_dims=(8,),
        num_classes=3,
        normalization=None,
        dtype=np.float64,
        seed=seed,
    )
    rng = np.random.default_rng(seed)
    data = {
        "X_train": rng.standard_normal((N_TRAIN, 3, 8, 8)),
        "y_train": rng.integers(0, 3, N_TRAIN),
        "X_val": rng.standard_normal((12, 3, 8, 8)),
        "y_val": rng.integers(0, 3, 12),
    }
    callbacks = {}
    if monitor is not None:
        callbacks = {"on_iteration": monitor.on_iteration, "on_epoch": monitor.on_epoch}
    return Solver(
        model,
        data,
        batch_size=BATCH,
        num_epochs=EPOCHS,
        metric=metric,
        verbose=False,
        optim_config={"learning_rate": 1e-2},
        seed=seed,
        **callbacks,
    )


def test_the_monitor_records_every_iteration_and_epoch_and_draws_each_time():
    monitor = TrainingMonitor(redraw_every=0)
    assert monitor.figure is None and "waiting for a Solver" in monitor.status.value
    solver = _solver(monitor)
    solver.train()
    T = EPOCHS * N_TRAIN // BATCH
    assert solver.epoch == EPOCHS  # the callbacks never stop the training
    assert monitor.iterations == list(range(1, T + 1))
    assert monitor.losses == solver.loss_history
    assert monitor.epochs == [1, 2]
    assert monitor.train_metric == solver.train_metric_history
    assert monitor.val_metric == solver.val_metric_history
    assert monitor.draws == T + EPOCHS  # every iteration, and every epoch's end
    assert isinstance(monitor.figure, Figure) and len(monitor.figure.axes) == 2
    ax_loss, ax_acc = monitor.figure.axes
    np.testing.assert_allclose(ax_loss.lines[0].get_ydata(), solver.loss_history)
    np.testing.assert_allclose(ax_acc.lines[1].get_ydata(), solver.val_metric_history)
    assert bytes(monitor.plot_view.value).startswith(b"\x89PNG")
    assert f"iteration {T}" in monitor.status.value and "epoch 2" in monitor.status.value
    assert monitor.last_update_seconds > 0
    assert repr(monitor) == f"TrainingMonitor({T} iterations, 2 epochs, {T + 2} draws)"
    assert "application/vnd.jupyter.widget-view+json" in monitor._repr_mimebundle_()


def test_redraws_are_throttled_but_every_epoch_end_draws():
    monitor = TrainingMonitor(redraw_every=3600)
    _solver(monitor).train()
    assert len(monitor.losses) == EPOCHS * N_TRAIN // BATCH
    assert monitor.draws == 1 + EPOCHS  # the first iteration, then only the epochs' ends


def test_a_new_solver_starts_a_new_plot_and_a_loss_metric_is_labelled():
    monitor = TrainingMonitor(redraw_every=3600)
    _solver(monitor).train()
    solver = _solver(monitor, metric="loss", seed=1)
    solver.train()
    assert monitor.solver is solver and monitor.metric == "loss"
    assert monitor.losses == solver.loss_history and monitor.epochs == [1, 2]
    assert monitor.figure.axes[1].get_ylabel() == "loss"


def test_plot_solver_history_draws_a_solver_s_histories():
    solver = _solver()
    solver.train()
    fig = plot_solver_history(solver, title="tiny")
    assert isinstance(fig, Figure) and fig.get_suptitle() == "tiny"
    ax_loss, ax_acc = fig.axes
    np.testing.assert_allclose(ax_loss.lines[0].get_ydata(), solver.loss_history)
    np.testing.assert_allclose(ax_acc.lines[0].get_ydata(), solver.train_metric_history)
    assert ax_acc.get_ylabel() == "accuracy"


def test_bad_arguments_are_rejected_clearly():
    with pytest.raises(ValueError, match="TrainingMonitor: redraw_every must be a finite number"):
        TrainingMonitor(redraw_every=-1)
    with pytest.raises(TypeError, match="TrainingMonitor: redraw_every must be a number of sec"):
        TrainingMonitor(redraw_every="often")
    with pytest.raises(TypeError, match="plot_solver_history: solver must be a Solver, got dict"):
        plot_solver_history({"loss_history": [1.0]})
