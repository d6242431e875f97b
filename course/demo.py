"""The course's main job end to end, headless: data, training, accuracy, figures.

``course demo`` (and ``make demo``) generates Shapes-10, trains a
FullyConnectedNet with a progress bar, prints its accuracy and writes the
figures a student would look at into an output folder.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from course import plots
from course.data import load_shapes
from course.models import FullyConnectedNet
from course.solver import Solver


@dataclass(frozen=True)
class DemoSettings:
    """What the demo trains; the defaults take about 80 s on two cores.

    With them a FullyConnectedNet reaches about 46% validation accuracy on
    Shapes-10 (chance is 10%): the shapes sit anywhere in the image, which a
    fully connected net must learn position by position; a ConvNet does far
    better (see the convolution notebooks).
    """

    num_train: int = 49_000
    num_val: int = 1_000
    num_test: int = 1_000
    hidden_dims: tuple[int, ...] = (512, 512)
    dropout_keep_ratio: float = 1.0
    num_epochs: int = 12
    batch_size: int = 200
    learning_rate: float = 2e-3
    lr_decay: float = 0.8
    reg: float = 1e-3
    seed: int = 0


def run_demo(
    out_dir: str | Path, settings: DemoSettings = DemoSettings(), verbose: bool = True
) -> dict:
    """Train a FullyConnectedNet on Shapes-10 and write figures into ``out_dir``.

    Returns a dict of the measured figures (accuracies, times) and the paths written.
    """
    out_dir = Path(out_dir)
    say = print if verbose else (lambda *args, **kwargs: None)
    start = time.perf_counter()
    say(
        f"Generating Shapes-10: {settings.num_train} train, {settings.num_val} val, "
        f"{settings.num_test} test images (seed {settings.seed})"
    )
    data = load_shapes(settings.num_train, settings.num_val, settings.num_test, seed=settings.seed)
    data_seconds = time.perf_counter() - start
    say(f"  done in {data_seconds:.1f} s")

    model = FullyConnectedNet(
        settings.hidden_dims,
        input_dim=int(np.prod(data["X_train"].shape[1:])),
        num_classes=len(data["class_names"]),
        normalization="batchnorm",
        dropout_keep_ratio=settings.dropout_keep_ratio,
        reg=settings.reg,
        seed=settings.seed,
    )
    dims = " -> ".join(str(d) for d in (3 * 32 * 32, *settings.hidden_dims, 10))
    say(f"Training FullyConnectedNet ({dims}, batchnorm) with Adam, {settings.num_epochs} epochs")
    solver = Solver(
        model,
        data,
        update_rule="adam",
        optim_config={"learning_rate": settings.learning_rate},
        lr_decay=settings.lr_decay,
        batch_size=settings.batch_size,
        num_epochs=settings.num_epochs,
        verbose=verbose,
        seed=settings.seed,
    )
    train_start = time.perf_counter()
    solver.train()
    train_seconds = time.perf_counter() - train_start
    test_acc = solver.check_accuracy(data["X_test"], data["y_test"])

    sample = load_shapes(
        num_train=80, num_val=0, num_test=0, seed=settings.seed, subtract_mean=False
    )
    figures = {
        "samples": plots.plot_samples(sample["X_train"], sample["y_train"], sample["class_names"]),
        "training_curves": plots.plot_training_history(
            solver.loss_history,
            solver.train_acc_history,
            solver.val_acc_history,
            title="FullyConnectedNet on Shapes-10",
        ),
        "first_layer_weights": plots.plot_first_layer_weights(model.params["W1"], (3, 32, 32)),
    }
    paths = {name: plots.save(fig, out_dir / f"{name}.png") for name, fig in figures.items()}
    results = {
        "train_acc": solver.train_acc_history[-1],
        "val_acc": solver.best_val_acc,
        "test_acc": test_acc,
        "data_seconds": data_seconds,
        "train_seconds": train_seconds,
        "total_seconds": time.perf_counter() - start,
        "figures": paths,
    }
    say(
        f"FullyConnectedNet on Shapes-10: validation accuracy {results['val_acc']:.1%} "
        f"(best epoch {solver.best_epoch}), test accuracy {test_acc:.1%}; "
        f"training took {train_seconds:.0f} s"
    )
    say(f"Figures written to {out_dir.resolve()}/:")
    for path in paths.values():
        say(f"  {path.name}")
    return results
