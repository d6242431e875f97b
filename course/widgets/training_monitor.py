"""Watch a Solver train: a live plot of the loss per iteration and the metric per epoch.

The plain function does the drawing, and the widget only shows it:
:func:`plot_solver_history` draws a Solver's histories after (or during)
training with :func:`course.plots.plot_training_history`: the minibatch loss
with its moving average beside the training and validation metric per epoch.

:class:`TrainingMonitor` is fed by the Solver's callbacks while ``train()``
runs in a notebook: it records every iteration's loss and every epoch's
metrics, and redraws at most every ``redraw_every`` seconds (a redraw takes
about 0.1 s) and always at the end of an epoch. Typical use, in one cell::

    from IPython.display import display
    from course.widgets import TrainingMonitor
    monitor = TrainingMonitor()
    display(monitor)             # the live plot appears here
    solver = Solver(model, data, on_iteration=monitor.on_iteration,
                    on_epoch=monitor.on_epoch, verbose=False)
    solver.train()

A monitor follows one Solver: fed by another, it starts a new plot.
"""

from __future__ import annotations

import html
import time
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from course.plots import plot_training_history
from course.solver import Solver
from course.widgets._validation import require_seconds
from course.widgets._view import figure_png

__all__ = ["TrainingMonitor", "plot_solver_history"]

_GREY = "color:gray; font-size:12px"


def _plot_histories(
    losses: list[float], train: list[float], val: list[float], metric: str, title: str
) -> Figure:
    """``plot_training_history``, its right axes relabelled when the metric is the loss."""
    fig = plot_training_history(losses, train, val, title=title)
    if metric != "accuracy":  # plot_training_history's right axes assume an accuracy in [0, 1]
        ax = fig.axes[1]
        ax.set_ylabel(metric)
        ax.relim()
        ax.autoscale()
    return fig


def plot_solver_history(solver: Solver, title: str = "") -> Figure:
    """The histories of a Solver: minibatch loss per iteration, train/val metric per epoch.

    Inputs:
    - solver: a Solver, trained or training (its ``loss_history`` (T,),
      ``train_metric_history`` and ``val_metric_history`` (E,) are read)
    - title: the figure's title

    Returns:
    - fig: a matplotlib Figure with 2 axes, built without pyplot
    """
    if not isinstance(solver, Solver):
        raise TypeError(
            f"plot_solver_history: solver must be a Solver, got {type(solver).__name__}"
        )
    return _plot_histories(
        solver.loss_history,
        solver.train_metric_history,
        solver.val_metric_history,
        solver.metric,
        title,
    )


class TrainingMonitor:
    """A live view of a Solver's training, fed by its ``on_iteration`` and ``on_epoch`` callbacks.

    What it recorded: ``iterations`` and ``losses`` (one per iteration),
    ``epochs``, ``train_metric`` and ``val_metric`` (one per epoch),
    ``metric`` ('accuracy' or 'loss'), ``solver`` (the Solver it follows).
    What is on show: ``figure`` (the last Figure drawn, None before the first
    iteration), ``plot_view`` (its PNG, an ipywidget), ``status``, ``draws``
    (how many times it drew), ``last_update_seconds`` (the last drawing's
    time). ``widget`` is the whole view; a notebook shows the monitor itself.

    Inputs
    ------
    redraw_every : float, the fewest seconds between redraws during an epoch
        (0: after every iteration); the end of an epoch always redraws
    """

    def __init__(self, redraw_every: float = 0.5) -> None:
        self.redraw_every = require_seconds("TrainingMonitor", "redraw_every", redraw_every)
        import ipywidgets as widgets  # here, not at import: importing the module shows nothing

        self.plot_view = widgets.Image(format="png", layout={"width": "880px"})
        self.status = widgets.HTML(
            f"<span style='{_GREY}'>waiting for a Solver: pass on_iteration=monitor."
            "on_iteration and on_epoch=monitor.on_epoch</span>"
        )
        self.widget = widgets.VBox([self.status, self.plot_view])
        self.solver: Solver | None = None
        self._reset("accuracy")
        self.draws = 0
        self.figure: Figure | None = None
        self.last_update_seconds = float("nan")

    def _reset(self, metric: str) -> None:
        """Forget the recorded histories (a new Solver)."""
        self.metric = metric
        self.iterations: list[int] = []
        self.losses: list[float] = []
        self.epochs: list[int] = []
        self.train_metric: list[float] = []
        self.val_metric: list[float] = []
        self._started = time.perf_counter()
        self._last_draw = -np.inf

    def _follow(self, solver: Solver) -> None:
        if solver is not self.solver:
            self.solver = solver
            self._reset(solver.metric)

    def on_iteration(self, solver: Solver, it: int, loss: float) -> None:
        """The Solver's ``on_iteration`` callback: record the loss; redraw if it is time.

        Returns None, so it never stops the training.
        """
        self._follow(solver)
        self.iterations.append(int(it))
        self.losses.append(float(loss))
        if time.perf_counter() - self._last_draw >= self.redraw_every:
            self.draw()

    def on_epoch(self, solver: Solver, epoch: int) -> None:
        """The Solver's ``on_epoch`` callback: record the epoch's metrics, and redraw.

        Returns None, so it never stops the training.
        """
        self._follow(solver)
        self.epochs.append(int(epoch))
        self.train_metric.append(float(solver.train_metric_history[-1]))
        self.val_metric.append(float(solver.val_metric_history[-1]))
        self.draw()

    def draw(self) -> Figure:
        """Draw what is recorded now into ``figure`` and ``plot_view``; return the Figure."""
        start = time.perf_counter()
        self.figure = _plot_histories(
            self.losses, self.train_metric, self.val_metric, self.metric, self._title()
        )
        self.plot_view.value = figure_png(self.figure)
        self._last_draw = time.perf_counter()
        self.last_update_seconds = self._last_draw - start
        self.draws += 1
        self.status.value = (
            f"<span style='{_GREY}'>{html.escape(self._title())}; drawn in "
            f"{1000 * self.last_update_seconds:.0f} ms</span>"
        )
        return self.figure

    def _title(self) -> str:
        elapsed = time.perf_counter() - self._started
        text = f"iteration {self.iterations[-1] if self.iterations else 0}"
        if self.losses:
            text += f", loss {self.losses[-1]:.3f}"
        if self.epochs:
            text += (
                f"; epoch {self.epochs[-1]}: train {self.metric} {self.train_metric[-1]:.3f}, "
                f"val {self.val_metric[-1]:.3f}"
            )
        return f"{text} ({elapsed:.0f} s)"

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return (
            f"TrainingMonitor({len(self.iterations)} iterations, {len(self.epochs)} epochs, "
            f"{self.draws} draws)"
        )
