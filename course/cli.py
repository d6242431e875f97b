"""The ``course`` command line: every command's arguments, in one place.

    course demo [--out DIR] [--num-train N] [--epochs E] [--seed S]
    course data info
    course release SRC --out OUT [--check | --force]
    course progress NOTEBOOK [--timeout S] [--verbose]
    course grade --master MASTER SUBMISSIONS... --out DIR [--workers N] [--scheduler URL]
    course train charrnn [...] | course train tinyvgg [...]
    course sample charrnn [...]
    course train captioner [...] | course caption [...] | course train ranker [...]

Run ``course --help`` (or ``python -m course --help``) for the commands and
``course COMMAND --help`` for each one's options.

All argparse of the package lives here, and only here; the feature modules
export plain functions. Each command is one section below: an ``_add_<command>``
function that declares its arguments (registered in :func:`build_parser`) and a
``_run_<command>`` runner beside it that turns them into calls of feature
functions and returns the exit status. An error a person can fix (ValueError,
TypeError, MemoryError, and every OSError: a missing file, a folder where a
file was expected, a permission refused, ...) is printed as ``course COMMAND:
error: ...`` with exit status 1, the file first for an OS error. Runners import
what they call when they run, so the notebook machinery (nbformat, nbclient),
plotting and the demo load only for the commands that use them; building the
parser imports the training recipes, which hold the ``train`` commands'
defaults. The module passes ~400 lines because every command's arguments are
kept here by design.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from course.allocator import keep_freed_memory_once

# Commands whose runs train a network: they reuse large temporaries every step, so
# the allocator keeps freed memory for them (see course/allocator.py).
_TRAINING_COMMANDS = ("demo", "train")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    if args.command.split()[0] in _TRAINING_COMMANDS:
        keep_freed_memory_once()
    try:
        return args.run(args) or 0
    except (ValueError, TypeError, OSError, MemoryError, FloatingPointError) as error:
        print(f"course {args.command}: error: {_error_message(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as interrupt:  # a trainer's TrainingInterrupted says what it saved
        print(f"\ncourse {args.command}: {str(interrupt) or 'interrupted'}", file=sys.stderr)
        return 130


def _error_message(error: Exception) -> str:
    """One line for an error a person can fix; an OS error names its file first.

    ``PermissionError: [Errno 13] Permission denied: 'out/a.png'`` becomes
    ``out/a.png: permission denied``; the course's own messages are kept as
    they are.
    """
    if isinstance(error, OSError) and error.strerror and error.filename is not None:
        files = [str(name) for name in (error.filename, error.filename2) if name is not None]
        return f"{' -> '.join(files)}: {error.strerror[0].lower()}{error.strerror[1:]}"
    return str(error) or type(error).__name__


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of every command; each sets ``args.run`` and ``args.command``."""
    parser = argparse.ArgumentParser(
        prog="course",
        description="Neural Networks Practitioner: build and train neural networks in numpy.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    _add_demo(commands)
    _add_data(commands)
    _add_release(commands)
    _add_progress(commands)
    _add_grade(commands)
    _add_train(commands)
    _add_sample(commands)
    _add_caption(commands)
    return parser


# ----- course demo -------------------------------------------------------------------


def _add_demo(commands: argparse._SubParsersAction) -> None:
    demo = commands.add_parser(
        "demo",
        help="generate Shapes-10, train a fully connected net, write figures",
        description="The course end to end, headless: generate the Shapes-10 dataset, train a "
        "FullyConnectedNet with a progress bar, print its validation and test accuracy, and "
        "write figures (sample images, training curves, first-layer weights) into a folder.",
    )
    demo.add_argument(
        "--out", default="output/demo", help="folder for the figures (default: %(default)s)"
    )
    demo.add_argument(
        "--num-train", type=int, default=None, help="training images (default 49000)"
    )
    demo.add_argument("--epochs", type=int, default=None, help="training epochs (default 12)")
    demo.add_argument(
        "--seed", type=int, default=0, help="seed of the data and the model (default 0)"
    )
    demo.set_defaults(run=_run_demo, command="demo")


def _run_demo(args: argparse.Namespace) -> int:
    from course.demo import DemoSettings, run_demo

    overrides = {"seed": args.seed}
    if args.num_train is not None:
        overrides["num_train"] = args.num_train
    if args.epochs is not None:
        overrides["num_epochs"] = args.epochs
    run_demo(args.out, DemoSettings(**overrides))
    return 0


# ----- course data info --------------------------------------------------------------


def _add_data(commands: argparse._SubParsersAction) -> None:
    data = commands.add_parser("data", help="datasets: what there is and where it lives")
    data_commands = data.add_subparsers(title="data commands", metavar="DATA_COMMAND")
    info = data_commands.add_parser(
        "info",
        help="describe the datasets and where local copies are looked for",
        description="Describe Shapes-10 (generated) and CIFAR-10 (a local copy), with the folder "
        "CIFAR-10 is looked for in and whether it is there.",
    )
    info.set_defaults(run=_run_data_info, command="data info")
    data.set_defaults(run=lambda args: data.print_help() or 2, command="data")


def _run_data_info(args: argparse.Namespace) -> int:
    from course.data import CLASS_NAMES, DatasetNotFoundError, generate_shapes
    from course.data.cifar10 import cifar10_folder

    start = time.perf_counter()
    generate_shapes(1000, seed=0)
    per_thousand = time.perf_counter() - start
    print("Shapes-10 (generated by the package, nothing to download)")
    print(f"  classes: {', '.join(CLASS_NAMES)}")
    print("  images:  32x32 RGB, any number, deterministic from a seed")
    print(f"  speed:   1,000 images in {per_thousand:.2f} s on this machine")
    print(
        "  load:    course.data.load_shapes(num_train=49000, num_val=1000, num_test=1000, seed=0)"
    )
    print()
    print("CIFAR-10 (a local copy of the official python batches)")
    try:
        print(f"  folder:  {cifar10_folder()}  (found)")
    except DatasetNotFoundError as missing:  # its message names the folder and how to get it
        print("  not found: " + str(missing).replace("\n", "\n  "))
    print("  load:    course.data.load_cifar10()")
    return 0


# ----- course release ----------------------------------------------------------------


def _add_release(commands: argparse._SubParsersAction) -> None:
    release = commands.add_parser(
        "release",
        help="make the student notebooks from the master notebooks",
        description="Release every master notebook in SRC (solutions/) into OUT (assignments/): "
        "solution regions become stubs that raise NotImplementedError, hidden tests are "
        "removed, outputs are cleared, cell ids and check-cell metadata are kept. Every master "
        "is checked before anything is written, and any problem writes nothing: a line that "
        "looks like a marker but is not exactly one (### BEGIN SOLUTION, ### END SOLUTION, "
        "### BEGIN HIDDEN TESTS, ### END HIDDEN TESTS, alone on its line), a cell that no "
        "longer parses once released, a check cell whose function gets no stub, a malformed "
        "notebook, or a SRC without notebooks. Unchanged files are not rewritten. A file in "
        "OUT that may hold a person's work (not made by a release, edited or run since) is "
        "never replaced, unless --force backs it up first.",
    )
    release.add_argument("src", metavar="SRC", help="folder of master notebooks, e.g. solutions")
    release.add_argument(
        "--out",
        required=True,
        metavar="OUT",
        help="folder for the student notebooks, e.g. assignments (created when missing)",
    )
    mode = release.add_mutually_exclusive_group()
    mode.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and list the student notebooks that are missing or out of "
        "date (for tests and CI)",
    )
    mode.add_argument(
        "--force",
        action="store_true",
        help="also replace student notebooks that were edited or run, or were not made by a "
        "release: each is first copied beside itself as NAME.backup-YYYYmmdd-HHMMSS.ipynb "
        "(never over an existing file) and the backup is printed",
    )
    release.set_defaults(run=_run_release, command="release")


def _run_release(args: argparse.Namespace) -> int:
    """Print what was backed up and written, or with --check what is stale (then exit 1)."""
    from course.classroom.release import release, replacement_refusal

    src, out = Path(args.src), Path(args.out)
    if args.check:
        stale = release(src, out, check=True)
        if not stale:
            print(f"up to date: {out} matches {src}")
            return 0
        print(f"{len(stale)} released notebook(s) in {out} out of date with {src}:")
        for path in stale:
            refusal = replacement_refusal(path)
            state = "out of date" if path.exists() else "missing"
            if refusal:
                state += f"; {refusal}: the release replaces it only with --force"
            print(f"  {path} ({state})")
        print(f"fix with: course release {shlex.quote(str(src))} --out {shlex.quote(str(out))}")
        return 1
    written = release(
        src,
        out,
        force=args.force,
        on_backup=lambda target, backup: print(f"backed up {target} to {backup}"),
    )
    for path in written:
        print(f"wrote {path}")
    if not written:
        print("up to date")
    return 0


# ----- course progress ---------------------------------------------------------------


def _add_progress(commands: argparse._SubParsersAction) -> None:
    progress = commands.add_parser(
        "progress",
        help="run a notebook headless and show which checks pass",
        description="Run NOTEBOOK top to bottom in a fresh kernel (the file is not changed) and "
        "print a table of its check cells: pass, fail (with the check's message), not "
        "implemented, not run, or timeout, and the score. Failing checks are progress, not "
        "an error: the exit status is 0 whenever the notebook could be run. A cell that "
        "does not stop when interrupted gets the kernel restarted (the cells above it run "
        "again) and the run goes on. Ctrl-C stops the run and its kernel (exit status 130). "
        "Cells are numbered as JupyterLab counts them: every cell from 1, markdown included.",
    )
    progress.add_argument("notebook", metavar="NOTEBOOK", help="the student notebook (.ipynb)")
    progress.add_argument(
        "--timeout",
        type=int,
        default=600,
        metavar="S",
        help="seconds one cell may run before it is interrupted and reported as a timeout "
        "(default: %(default)s)",
    )
    progress.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print each check's full message under the table (the table cuts long ones)",
    )
    progress.set_defaults(run=_run_progress, command="progress")


def _run_progress(args: argparse.Namespace) -> int:
    """Run the notebook and print the table of its check cells; Ctrl-C: one line, 130."""
    from course.classroom.progress import format_progress, notebook_progress

    path = Path(args.notebook)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such notebook")
    if path.suffix != ".ipynb":
        raise ValueError(f"{path}: is not a notebook (expected a .ipynb file)")
    print(
        f"running {path} in a fresh kernel (a cell may take up to {args.timeout} s)...",
        file=sys.stderr,
    )
    try:
        results = notebook_progress(path, timeout=args.timeout)
    except KeyboardInterrupt:  # the kernel is already shut down
        print("\ncourse progress: interrupted; no results", file=sys.stderr)
        return 130
    print(format_progress(results, verbose=args.verbose))
    return 0


# ----- course grade ------------------------------------------------------------------


def _add_grade(commands: argparse._SubParsersAction) -> None:
    grade = commands.add_parser(
        "grade",
        help="grade student submissions against the master notebook",
        description="Grade each submission against MASTER, the only authority: its setup and "
        "check cells run, the submission's exercise cells (matched by cell id) run in a "
        "separate, limited worker process. The student id is each file's stem. Writes "
        "DIR/gradebook.sqlite, DIR/grades.csv and DIR/feedback/<student>.md and .html, and "
        "prints each student's points. Re-grading the same files changes nothing.",
    )
    grade.add_argument("--master", required=True, metavar="MASTER", help="the master notebook")
    grade.add_argument("submissions", nargs="+", metavar="SUBMISSIONS", help="student notebooks")
    grade.add_argument("--out", required=True, metavar="DIR", help="folder for the results")
    grade.add_argument(
        "--workers",
        type=_positive_int,
        default=2,
        metavar="N",
        help="submissions graded at once here (default: %(default)s)",
    )
    grade.add_argument(
        "--scheduler",
        default=None,
        metavar="tcp://HOST:PORT",
        help="grade on this running Dask cluster instead (needs the [grading] extra)",
    )
    grade.add_argument("--cell-timeout", type=float, default=30, metavar="S", help="per cell")
    grade.add_argument("--total-timeout", type=float, default=600, metavar="S", help="per worker")
    grade.add_argument(
        "--memory-mb", type=_positive_int, default=2048, metavar="M", help="per worker"
    )
    grade.add_argument(
        "--hidden-salt",
        default="",
        metavar="TEXT",
        help="renews every hidden test input (they are seeded from the master and this)",
    )
    grade.set_defaults(run=_run_grade, command="grade")


def _run_grade(args: argparse.Namespace) -> int:
    """Grade the batch; print one line per student and where the CSV is."""
    from course.grading.batch import grade_batch

    try:
        report = grade_batch(
            args.master,
            args.submissions,
            args.out,
            workers=args.workers,
            scheduler=args.scheduler,
            cell_timeout=args.cell_timeout,
            total_timeout=args.total_timeout,
            memory_mb=args.memory_mb,
            hidden_salt=args.hidden_salt,
        )
    except ImportError as error:  # --scheduler without distributed: it says what to install
        print(f"course grade: error: {error}", file=sys.stderr)
        return 1
    width = max(len("student"), *(len(s.student) for s in report.students))
    print(f"{'student':<{width}}  {'points':>12}  error")
    for s in report.students:
        points = f"{s.points:g} / {s.possible:g}"
        print(f"{s.student:<{width}}  {points:>12}  {s.error or ''}".rstrip())
    print(f"{report.assignment}: {len(report.students)} graded in {report.seconds:.1f} s")
    print(f"wrote {report.csv}, {report.gradebook} and {len(report.feedback)} feedback files")
    return 0


# ----- course train MODEL, course sample MODEL ---------------------------------------


class _ModelListFormatter(argparse.HelpFormatter):
    """Help whose column of descriptions starts after the longest model name ('captioner').

    argparse places that column after the group's own options ('-h, --help'),
    so a longer model name would push its description onto the next line.
    """

    def __init__(self, prog: str) -> None:
        super().__init__(prog)
        self._action_max_length = len("    captioner")


def _add_model_group(
    commands: argparse._SubParsersAction, name: str, help_text: str
) -> argparse._SubParsersAction:
    """Register ``course NAME MODEL``; return the subparsers its models register on.

    ``course NAME`` without a model prints the group's help and exits with 2.
    """
    group = commands.add_parser(name, help=help_text, formatter_class=_ModelListFormatter)
    models = group.add_subparsers(title="models", metavar="MODEL")
    group.set_defaults(run=lambda args: group.print_help() or 2, command=name)
    return models


def _add_train(commands: argparse._SubParsersAction) -> None:
    models = _add_model_group(commands, "train", "train a model")
    _add_train_captioner(models)
    _add_train_charrnn(models)
    _add_train_ranker(models)
    _add_train_tinyvgg(models)


def _add_sample(commands: argparse._SubParsersAction) -> None:
    models = _add_model_group(commands, "sample", "generate text from a trained model")
    _add_sample_charrnn(models)


def _add_train_charrnn(models: argparse._SubParsersAction) -> None:
    from course.recipes.charrnn import DEFAULT_MODEL_DIR

    p = models.add_parser(
        "charrnn",
        help="train a character-level LSTM on English text",
        description="Train a stacked character-level RNN (default: 2-layer LSTM) on the pydoc "
        "corpus or a text file, show the validation bits per character against the 3-gram "
        "baseline, and save the best model to --out (never over a saved one without "
        "--overwrite; Ctrl-C saves the best model so far). Tip: when other programs share the "
        "CPU, OMP_NUM_THREADS=1 keeps BLAS threads from fighting them.",
    )
    p.add_argument("--text", metavar="FILE", default=None, help="UTF-8 text (default: pydoc)")
    p.add_argument("--minutes", type=float, default=9.0, help="time budget (default: %(default)s)")
    p.add_argument("--iterations", type=int, default=None, help="most updates (default: none)")
    p.add_argument(
        "--out", default=str(DEFAULT_MODEL_DIR), metavar="DIR", help="(default: %(default)s)"
    )
    p.add_argument("--hidden-dim", type=int, default=128)
    p.add_argument("--num-layers", type=int, default=2)
    p.add_argument("--cell", choices=("lstm", "rnn"), default="lstm")
    p.add_argument("--seq-length", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--update-rule", choices=("adam", "rmsprop"), default="adam")
    p.add_argument("--learning-rate", type=float, default=2e-3)
    p.add_argument("--lr-decay", type=float, default=0.95)
    p.add_argument("--grad-clip", type=float, default=5.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--overwrite", action="store_true", help="replace a model already saved in --out"
    )
    p.set_defaults(run=_run_train_charrnn, command="train charrnn")


def _run_train_charrnn(args: argparse.Namespace) -> int:
    """Train, print the best validation loss against the 3-gram baseline, and a sample."""
    from course.data import load_text_file
    from course.recipes.charrnn import train_charrnn

    text = None
    if args.text is not None:
        text = load_text_file(args.text)  # DatasetNotFoundError names the missing path
    summary = train_charrnn(
        text=text,
        hidden_dim=args.hidden_dim,
        num_layers=args.num_layers,
        cell=args.cell,
        seq_length=args.seq_length,
        batch_size=args.batch_size,
        update_rule=args.update_rule,
        learning_rate=args.learning_rate,
        lr_decay=args.lr_decay,
        grad_clip=args.grad_clip,
        max_minutes=args.minutes,
        max_iterations=args.iterations,
        seed=args.seed,
        out=args.out,
        overwrite=args.overwrite,
    )
    baseline = summary["baseline_bpc"]
    baseline_text = "n/a" if baseline is None else f"{baseline:.3f}"
    print(
        f"best validation loss {summary['best_val_bpc']:.3f} bits/char "
        f"(3-gram baseline {baseline_text}) after {summary['iterations']} iterations, "
        f"{summary['seconds'] / 60:.1f} min; saved to {summary['out']}"
    )
    print(summary["model"].sample(summary["vocab"], length=300, temperature=0.8, seed=args.seed))
    return 0


def _positive_int(text: str) -> int:
    """argparse type: a whole number >= 1 (a count of threads, say)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (1, 2, ...), got {text!r}")
    return value


def _add_train_tinyvgg(models: argparse._SubParsersAction) -> None:
    # The recipe is the one source of its defaults (and of the package's weights folder).
    from course.models.pretrained import WEIGHTS_DIR
    from course.recipes.tinyvgg import TinyVGGRecipe

    defaults = TinyVGGRecipe()
    p = models.add_parser(
        "tinyvgg",
        help="train the TinyVGG ConvNet on Shapes-10 (the package's pretrained model)",
        description="Train TinyVGG on Shapes-10 with a fixed seed and save it as "
        "tinyvgg-shapes.npz/.json (by default into the package, where "
        "course.models.load_pretrained('tinyvgg-shapes') finds it). About 7 minutes on two "
        "cores with the defaults.",
    )
    p.add_argument("--out", default=str(WEIGHTS_DIR), metavar="DIR", help="(default: %(default)s)")
    p.add_argument("--num-train", type=int, default=defaults.num_train)
    p.add_argument("--epochs", type=int, default=defaults.num_epochs)
    p.add_argument("--batch-size", type=int, default=defaults.batch_size)
    p.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.add_argument(
        "--threads", type=_positive_int, default=1, help="BLAS threads (default: %(default)s)"
    )
    p.add_argument(
        "--overwrite", action="store_true", help="replace a model already saved in --out"
    )
    p.set_defaults(run=_run_train_tinyvgg, command="train tinyvgg")


def _run_train_tinyvgg(args: argparse.Namespace) -> int:
    """Train the recipe with the given changes and save the model."""
    from course.recipes.tinyvgg import TinyVGGRecipe, train_tinyvgg

    recipe = dataclasses.replace(
        TinyVGGRecipe(),
        num_train=args.num_train,
        num_epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        seed=args.seed,
    )
    train_tinyvgg(recipe, out=args.out, threads=args.threads, overwrite=args.overwrite)
    return 0


def _add_sample_charrnn(models: argparse._SubParsersAction) -> None:
    from course.recipes.charrnn import DEFAULT_MODEL_DIR

    p = models.add_parser(
        "charrnn",
        help="generate text from a trained character-level RNN",
        description="Print text sampled from a model saved by `course train charrnn`.",
    )
    p.add_argument(
        "--model", default=str(DEFAULT_MODEL_DIR), metavar="DIR", help="(default: %(default)s)"
    )
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--length", type=int, default=500)
    p.add_argument("--prime", default="The ", metavar="TEXT")
    p.add_argument("--argmax", action="store_true", help="always take the likeliest character")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(run=_run_sample_charrnn, command="sample charrnn")


def _run_sample_charrnn(args: argparse.Namespace) -> int:
    """Print text from the saved model (a bad temperature fails before loading)."""
    from course.recipes.charrnn import sample_charrnn

    text = sample_charrnn(
        args.model,
        length=args.length,
        temperature=args.temperature,
        prime=args.prime,
        argmax=args.argmax,
        seed=args.seed,
    )
    print(text)
    sys.stdout.flush()
    return 0


def _add_scene_recipe_arguments(p: argparse.ArgumentParser, defaults: Any) -> None:
    """The options `train captioner` and `train ranker` share (see :func:`_scene_recipe`)."""
    p.add_argument("--cell", choices=("lstm", "rnn"), default=defaults.cell)
    p.add_argument(
        "--minutes", type=float, default=defaults.minutes, help="time budget (%(default)s)"
    )
    p.add_argument("--epochs", type=_positive_int, default=defaults.max_epochs, help="at most")
    p.add_argument("--num-train", type=_positive_int, default=defaults.num_train)
    p.add_argument("--learning-rate", type=float, default=defaults.learning_rate)
    p.add_argument("--seed", type=int, default=defaults.seed)


def _scene_recipe(defaults: Any, args: argparse.Namespace, **more: Any) -> Any:
    """``defaults`` (a recipe dataclass) with the shared options of the command, and ``more``."""
    return dataclasses.replace(
        defaults,
        cell=args.cell,
        minutes=args.minutes,
        max_epochs=args.epochs,
        num_train=args.num_train,
        learning_rate=args.learning_rate,
        seed=args.seed,
        **more,
    )


def _add_train_captioner(models: argparse._SubParsersAction) -> None:
    from course.models.pretrained import WEIGHTS_DIR
    from course.recipes.captioner import CaptionerRecipe

    defaults = CaptionerRecipe()
    p = models.add_parser(
        "captioner",
        help="train an RNN or LSTM image captioner on caption scenes",
        description="Draw caption scenes, turn them into features with the pretrained "
        "TinyVGG's conv trunk (cached in $COURSE_DATA/cache), train a CaptioningRNN under a "
        "time budget, and report on held-out scenes its exact caption accuracy (every fact "
        "true), BLEU-1..4 and CIDEr-D, greedy and with beam search. Saves "
        "captioner-CELL.npz/.json into --out (by default the package's weights folder, "
        "where `course caption` finds it), never over a saved model without --overwrite.",
    )
    _add_scene_recipe_arguments(p, defaults)
    p.add_argument("--hidden-dim", type=_positive_int, default=defaults.hidden_dim)
    p.add_argument("--beam", type=_positive_int, default=defaults.beam_width, metavar="K")
    p.add_argument("--out", default=str(WEIGHTS_DIR), metavar="DIR", help="(default: %(default)s)")
    p.add_argument(
        "--overwrite", action="store_true", help="replace a captioner already saved in --out"
    )
    p.set_defaults(run=_run_train_captioner, command="train captioner")


def _run_train_captioner(args: argparse.Namespace) -> int:
    from course.recipes.captioner import CaptionerRecipe, train_captioner

    recipe = _scene_recipe(
        CaptionerRecipe(), args, hidden_dim=args.hidden_dim, beam_width=args.beam
    )
    results = train_captioner(recipe, out=args.out, overwrite=args.overwrite)
    for example in results["examples"]:
        print(f"  true:   {' | '.join(example['true'])}")
        print(f"  greedy: {example['greedy']}")
        print(f"  beam:   {example['beam']}")
    return 0


def _add_train_ranker(models: argparse._SubParsersAction) -> None:
    from course.recipes.ranker import RankerRecipe

    defaults = RankerRecipe()
    p = models.add_parser(
        "ranker",
        help="train the image-sentence ranking model on caption scenes",
        description="Embed caption scenes (TinyVGG grid features, shared with the captioner "
        "and cached) and their captions (an RNN/LSTM) in one space with a softmax "
        "contrastive loss and a caption bias (see RankerRecipe), with five new true captions "
        "of every training scene each epoch, under a time budget; print "
        "Recall@1/5/10 and the median rank, image -> caption and caption -> image, on the "
        "test scenes, the same rankings judged by the scenes, and three retrieval examples. "
        "With --out, saves ranker-CELL.npz/.json there (never over a saved model without "
        "--overwrite).",
    )
    _add_scene_recipe_arguments(p, defaults)
    p.add_argument("--out", default=None, metavar="DIR", help="save the model here")
    p.add_argument("--overwrite", action="store_true", help="replace a ranker saved in --out")
    p.set_defaults(run=_run_train_ranker, command="train ranker")


def _run_train_ranker(args: argparse.Namespace) -> int:
    from course.recipes.ranker import RankerRecipe, train_scene_ranker

    recipe = _scene_recipe(RankerRecipe(), args)
    results = train_scene_ranker(recipe, out=args.out, overwrite=args.overwrite)
    for example in results["examples"]:
        found = "its image among them" if example["found"] else "its image NOT among them"
        print(f'  "{example["query"]}" -> images {example["top5"]} ({found})')
    return 0


# ----- course caption ----------------------------------------------------------------


def _add_caption(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser(
        "caption",
        help="caption fresh scenes (or an image file) with a trained captioner",
        description="Draw --num fresh caption scenes (or read --image, a 64x64 PNG or JPEG) "
        "and print, for each, its true captions and the captioner's greedy or beam-search "
        "caption with its log-probability and whether every fact of it is true.",
    )
    p.add_argument(
        "--model",
        default="captioner-lstm",
        metavar="NAME|DIR",
        help="a captioner shipped in the package (default: %(default)s) or a folder "
        "written by `course train captioner --out DIR`",
    )
    p.add_argument("--num", type=_positive_int, default=4, help="scenes (default: %(default)s)")
    p.add_argument("--seed", type=int, default=1234, help="of the scenes (default: %(default)s)")
    p.add_argument("--beam", type=_positive_int, default=None, metavar="K", help="beam width")
    p.add_argument("--image", default=None, metavar="FILE", help="caption this image instead")
    p.set_defaults(run=_run_caption, command="caption")


def _run_caption(args: argparse.Namespace) -> int:
    import numpy as np

    from course.data import generate_caption_scenes, judge_caption, true_captions
    from course.recipes.caption_pipeline import open_captioner, read_scene_image

    captioner = open_captioner(args.model)
    how = "greedy" if args.beam is None else f"beam {args.beam}"
    if args.image is not None:
        image = read_scene_image(args.image)
        (text,), logprob = captioner.caption(image[None], beam_width=args.beam)
        print(f"{args.image}: {text}  ({how}, log p {logprob[0]:.2f})")
        return 0
    images, scenes = generate_caption_scenes(args.num, seed=args.seed, stream=3)
    texts, logprobs = captioner.caption(images, beam_width=args.beam)
    for i, (scene, text, logprob) in enumerate(zip(scenes, texts, logprobs, strict=True)):
        verdict = "true" if judge_caption(text, scene).true else "NOT true"
        truths = " | ".join(true_captions(scene, np.random.default_rng(i), count=3))
        print(f"scene {i + 1}: {text}  ({how}, log p {float(logprob):.2f}; {verdict})")
        print(f"  true captions: {truths}")
    return 0
