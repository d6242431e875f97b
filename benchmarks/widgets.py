"""How fast do the ConvNet widgets respond? The time from a control change to the new view.

Each widget of ``course.widgets`` (the filter, activation and neuron
browsers, the saliency explorer, the training monitor) is built on the
shipped TinyVGG and driven as a student's clicks would drive it: a control's
value is set, and the time until the setter returns (the widget has
computed and rendered its new view, PNG bytes included) is measured. Each
row is the median over ``--changes`` changes to values not shown before
(first visits, nothing cached, unless the row says "cached"), after one
warm-up change. The goal of the widgets' issue is under 200 ms on two cores.

Two references are timed in the same run, and every time is also printed
as a ratio against them:

- ``forward``: one forward pass of the model on one image (``model.loss``);
- ``empty fig``: rendering an empty 4 x 4 inch matplotlib figure to PNG, the
  least a figure-based view costs.

Usage::

    python benchmarks/widgets.py                # 1 BLAS thread, 10 changes (about 30 s)
    python benchmarks/widgets.py --changes 5    # quicker
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterable

from timing import blas_threads, median_ms, set_threads

GOAL_MS = 200.0


def change_ms(set_value: Callable[[object], object], values: Iterable[object]) -> float:
    """Median ms of ``set_value(v)`` over ``values``, the first one an untimed warm-up."""
    values = list(values)
    set_value(values[0])
    times = []
    for value in values[1:]:
        start = time.perf_counter()
        set_value(value)
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def setter(control) -> Callable[[object], None]:
    def set_value(value: object) -> None:
        control.value = value

    return set_value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    parser.add_argument("--changes", type=int, default=10, help="timed changes per row")
    args = parser.parse_args()
    set_threads(args.threads)

    import io

    import numpy as np
    from matplotlib.figure import Figure

    from course.models import load_pretrained
    from course.models.cnn import TinyVGG
    from course.solver import Solver
    from course.widgets import (
        ActivationBrowser,
        FilterBrowser,
        NeuronBrowser,
        SaliencyExplorer,
        TrainingMonitor,
    )

    n = args.changes
    threads, how = blas_threads()
    print(f"BLAS threads: {threads} ({how}); median of {n} changes after a warm-up\n")
    model = load_pretrained()
    X = np.zeros((1, *model.input_dim), dtype=model.dtype)

    def empty_figure_png() -> bytes:
        buffer = io.BytesIO()
        Figure(figsize=(4, 4)).savefig(buffer, format="png")
        return buffer.getvalue()

    forward = median_ms(lambda: model.loss(X), 50)
    empty = median_ms(empty_figure_png, 20)
    rows: list[tuple[str, str, float]] = []

    # FilterBrowser: every change of layer or channel draws plot_filters (a figure) once.
    browser = FilterBrowser(model)
    rows.append(
        (
            "FilterBrowser",
            "filter (enlarged)",
            change_ms(setter(browser.filter_slider), range(n + 1)),
        )
    )
    browser.layer_dropdown.value = "conv3_2"
    rows.append(
        (
            "FilterBrowser",
            "input channel (new grid)",
            change_ms(setter(browser.channel_slider), range(n + 1)),
        )
    )
    layers = browser.layers
    rows.append(
        (
            "FilterBrowser",
            "layer (new grid)",
            change_ms(setter(browser.layer_dropdown), layers[1:] + layers[:1]),
        )
    )
    rows.append(
        (
            "FilterBrowser",
            "layer (cached)",
            change_ms(setter(browser.layer_dropdown), (layers * 2)[: n + 1]),
        )
    )

    # ActivationBrowser: a new image is one forward pass; layer and channel only redraw.
    activations = ActivationBrowser(model, count=100)
    rows.append(
        (
            "ActivationBrowser",
            "channel",
            change_ms(setter(activations.channel_slider), range(n + 1)),
        )
    )
    rows.append(
        (
            "ActivationBrowser",
            "layer",
            change_ms(setter(activations.layer_dropdown), (activations.layers * 2)[: n + 1]),
        )
    )
    rows.append(
        (
            "ActivationBrowser",
            "test image (new)",
            change_ms(setter(activations.index_slider), range(1, n + 2)),
        )
    )
    rows.append(
        (
            "ActivationBrowser",
            "fresh image (new)",
            change_ms(lambda _: activations.new_image_button.click(), range(n + 1)),
        )
    )

    # NeuronBrowser: the net runs over the 500 images once, when it is made; after that a
    # layer or channel change ranks precomputed peaks (a layer's first visit renders anew).
    started = time.perf_counter()
    neurons = NeuronBrowser(model, count=500)
    rows.append(
        ("NeuronBrowser", "made (one pass; no control)", 1000 * (time.perf_counter() - started))
    )
    neurons.layer_dropdown.value = "conv2_1"
    rows.append(
        (
            "NeuronBrowser",
            "channel (500 images)",
            change_ms(setter(neurons.channel_slider), range(1, n + 2)),
        )
    )
    rows.append(
        (
            "NeuronBrowser",
            "layer (first visit)",
            change_ms(
                setter(neurons.layer_dropdown), ["conv1_2", "pool1", "conv2_2", "pool2", "conv3_1"]
            ),
        )
    )
    rows.append(
        (
            "NeuronBrowser",
            "layer (cached)",
            change_ms(
                setter(neurons.layer_dropdown),
                ["conv1_1", "conv1_2", "pool1", "conv2_1", "conv2_2", "pool2", "conv3_1"][: n + 1],
            ),
        )
    )

    # SaliencyExplorer: a saliency map is one backward pass; a class image 25 ascent steps.
    explorer = SaliencyExplorer(model, count=100)
    explorer.class_dropdown.value = 0
    rows.append(
        (
            "SaliencyExplorer",
            "image (saliency)",
            change_ms(setter(explorer.index_slider), range(1, n + 2)),
        )
    )
    rows.append(
        (
            "SaliencyExplorer",
            "class (class image, 25 steps)",
            change_ms(setter(explorer.class_dropdown), list(range(1, 10))),
        )
    )
    explorer.result_buttons.value = "fooling"
    rows.append(
        (
            "SaliencyExplorer",
            "image (fooling image)",
            change_ms(setter(explorer.index_slider), range(n + 2, 2 * n + 3)),
        )
    )

    # TrainingMonitor: a redraw with 1,000 iterations and 5 epochs recorded.
    tiny = TinyVGG(
        input_dim=(3, 8, 8), stages=((4,),), hidden_dims=(8,), num_classes=3, normalization=None
    )
    rng = np.random.default_rng(0)
    data = {
        "X_train": rng.standard_normal((20, 3, 8, 8)),
        "y_train": rng.integers(0, 3, 20),
        "X_val": rng.standard_normal((10, 3, 8, 8)),
        "y_val": rng.integers(0, 3, 10),
    }
    solver = Solver(tiny, data, num_epochs=1, verbose=False)
    monitor = TrainingMonitor(redraw_every=3600)
    for it in range(1, 1001):
        monitor.on_iteration(solver, it, float(np.exp(-it / 300) + 0.1 * rng.random()))
    solver.train_metric_history[:] = [0.3, 0.5, 0.6, 0.7, 0.75]
    solver.val_metric_history[:] = [0.3, 0.45, 0.55, 0.6, 0.62]
    monitor.train_metric, monitor.val_metric, monitor.epochs = (
        solver.train_metric_history[:],
        solver.val_metric_history[:],
        [1, 2, 3, 4, 5],
    )
    rows.append(("TrainingMonitor", "redraw (1,000 iterations)", median_ms(monitor.draw, n)))
    per_iteration = median_ms(lambda: monitor.on_iteration(solver, 1001, 0.5), 200)
    rows.append(("TrainingMonitor", "on_iteration, no redraw due", per_iteration))

    print(f"references: forward pass of one image {forward:.2f} ms; ", end="")
    print(f"empty 4x4 figure to PNG {empty:.1f} ms\n")
    header = f"{'widget':<18} {'control change':<31} {'median ms':>9} {'/ forward':>9} "
    header += f"{'/ empty fig':>11}  goal <{GOAL_MS:.0f} ms"
    print(header)
    print("-" * len(header))
    for widget, change, ms in rows:
        mark = "yes" if ms < GOAL_MS else "NO"
        print(
            f"{widget:<18} {change:<31} {ms:9.1f} {ms / forward:9.1f} {ms / empty:11.2f}  {mark}"
        )


if __name__ == "__main__":
    main()
