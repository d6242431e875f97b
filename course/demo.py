"""The course's main job end to end, headless: data, training, accuracy, figures.

``course demo`` (and ``make demo``) generates Shapes-10, trains a
FullyConnectedNet and then a ConvNet (TinyVGG) with progress bars, prints
their accuracies beside the shipped pretrained TinyVGG's, and writes the
figures a student would look at into an output folder.
"""

from __future__ import annotations

import dataclasses
import errno
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from course import plots
from course.data import load_shapes
from course.models import FullyConnectedNet
from course.models.pretrained import load_pretrained
from course.recipes.tinyvgg import TinyVGGRecipe
from course.solver import Solver


@dataclass(frozen=True)
class DemoSettings:
    """What the demo trains; the defaults take about 3 minutes on two cores.

    With them a FullyConnectedNet reaches about 46% validation accuracy on
    Shapes-10 (chance is 10%): the shapes sit anywhere in the image, which a
    fully connected net must learn position by position. The ConvNet (the
    TinyVGG architecture of ``course train tinyvgg``, trained briefly on the
    first ``conv_num_train`` training images) does far better.
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
    conv_num_train: int = 20_000
    conv_epochs: int = 2
    seed: int = 0


def run_demo(
    out_dir: str | Path, settings: DemoSettings = DemoSettings(), verbose: bool = True
) -> dict:
    """Train a FullyConnectedNet on Shapes-10 and write figures into ``out_dir``.

    Returns a dict of the measured figures (accuracies, times) and the paths written.
    ``out_dir`` is created (or checked) first, so that a path that cannot hold
    the figures fails before minutes of training.
    """
    out_dir = Path(out_dir)
    _prepare_output_folder(out_dir)
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

    conv = _train_convnet(data, settings, say)

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
        "convnet_training_curves": plots.plot_training_history(
            conv["solver"].loss_history,
            conv["solver"].train_acc_history,
            conv["solver"].val_acc_history,
            title="TinyVGG ConvNet on Shapes-10",
        ),
        "convnet_filters": plots.plot_conv_filters(
            conv["model"].params["W1"], title="ConvNet first-layer filters"
        ),
    }
    paths = {name: plots.save(fig, out_dir / f"{name}.png") for name, fig in figures.items()}
    results = {
        "train_acc": solver.train_acc_history[-1],
        "val_acc": solver.best_val_acc,
        "test_acc": test_acc,
        "data_seconds": data_seconds,
        "train_seconds": train_seconds,
        "conv_val_acc": conv["solver"].best_val_acc,
        "conv_test_acc": conv["test_acc"],
        "conv_train_seconds": conv["train_seconds"],
        "pretrained_test_acc": conv["pretrained_test_acc"],
        "total_seconds": time.perf_counter() - start,
        "figures": paths,
    }
    say(
        f"FullyConnectedNet on Shapes-10: validation accuracy {results['val_acc']:.1%} "
        f"(best epoch {solver.best_epoch}), test accuracy {test_acc:.1%}; "
        f"training took {train_seconds:.0f} s"
    )
    say(
        f"TinyVGG ConvNet ({conv['num_train']} images, {settings.conv_epochs} epochs): "
        f"validation accuracy {conv['solver'].best_val_acc:.1%}, test accuracy "
        f"{conv['test_acc']:.1%}; training took {conv['train_seconds']:.0f} s"
    )
    if conv["pretrained_test_acc"] is not None:
        say(
            f"Pretrained TinyVGG (course.models.load_pretrained('tinyvgg-shapes')): "
            f"test accuracy {conv['pretrained_test_acc']:.1%}"
        )
    say(f"Figures written to {out_dir.resolve()}/:")
    for path in paths.values():
        say(f"  {path.name}")
    return results


def _prepare_output_folder(out_dir: Path) -> None:
    """Create ``out_dir`` if needed; refuse a file, or a folder this process cannot write in."""
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(
            f"run_demo: {out_dir} is a file; the demo writes its figures into a folder. "
            f"Pass a folder (course demo --out DIR); nothing was trained"
        )
    out_dir.mkdir(parents=True, exist_ok=True)  # an OSError here names the path
    if not os.access(out_dir, os.W_OK):
        raise PermissionError(errno.EACCES, "the demo cannot write its figures here", str(out_dir))


def _train_convnet(data: dict, settings: DemoSettings, say) -> dict:
    """Train TinyVGG briefly on the first ``conv_num_train`` images; score the pretrained one."""
    num_train = min(settings.conv_num_train, len(data["y_train"]))
    recipe = dataclasses.replace(
        TinyVGGRecipe(),
        num_epochs=settings.conv_epochs,
        batch_size=min(TinyVGGRecipe.batch_size, num_train),
        seed=settings.seed,
    )
    conv_data = {
        **data,
        "X_train": data["X_train"][:num_train],
        "y_train": data["y_train"][:num_train],
    }
    model = recipe.build_model(data)
    say(
        f"Training a TinyVGG ConvNet {recipe.stages} on {num_train} images with Adam, "
        f"{settings.conv_epochs} epochs"
    )
    solver = recipe.build_solver(model, conv_data, verbose=say is print)
    train_start = time.perf_counter()
    solver.train()
    train_seconds = time.perf_counter() - train_start
    test_acc = solver.check_accuracy(data["X_test"], data["y_test"])
    pretrained_test_acc = None
    try:
        pretrained = load_pretrained("tinyvgg-shapes")
    except FileNotFoundError as error:
        say(f"(no pretrained TinyVGG to compare: {error})")
    else:
        # The pretrained model expects its own training mean subtracted.
        X_test = data["X_test"] + (data["mean_image"] - pretrained.mean_image)
        predicted = [
            pretrained.loss(X_test[i : i + 500]).argmax(axis=1) for i in range(0, len(X_test), 500)
        ]
        pretrained_test_acc = float(np.mean(np.concatenate(predicted) == data["y_test"]))
    return {
        "model": model,
        "solver": solver,
        "num_train": num_train,
        "test_acc": test_acc,
        "train_seconds": train_seconds,
        "pretrained_test_acc": pretrained_test_acc,
    }
