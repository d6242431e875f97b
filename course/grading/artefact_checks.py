"""Check cells that grade a file the student saved (an artefact), not a function.

A master check cell whose metadata names an artefact, e.g.
``{"check": true, "points": 10, "checks": ["best_model"], "artefact": "best_model.npz"}``,
is graded here, in the grader's process, without the student's worker: the
file is data (:func:`course.models.load_model` reads it with no pickle and
checks every array), so nothing of the student's runs.

Where the file is (:func:`artefact_path`), for a submission ``S.ipynb``:

- flat layout, every student's notebook in one folder, named by student
  (``submissions/alice.ipynb``): the file is ``submissions/alice.best_model.npz``
  (the notebook's stem, a dot, the artefact's name);
- one folder per student, the notebook keeping the master's file name
  (``submissions/alice/02_convolutional_networks.ipynb``): the file is
  ``submissions/alice/best_model.npz``, as the notebook saved it.

A missing file scores 0 with status 'missing'.

The best model (``checks: ["best_model"]``): the saved classifier is
evaluated on ``NUM_HIDDEN`` Shapes-10 images generated afresh from a seed
drawn from the hidden cases' seed (the master's SHA-256 and the grader's
``--hidden-salt``; never in the notebook), each with the model's saved mean
image subtracted, and earns
:func:`~course.checks.best_model.best_model_points` (accuracy, cell points):
status 'passed' for full points, 'partial' for some, 'failed' for none.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from course.checks.best_model import (
    FULL_POINTS_AT,
    NUM_HIDDEN,
    ZERO_POINTS_BELOW,
    best_model_points,
    evaluate_saved_model,
    hidden_test_set,
)
from course.grading.gradebook import PASSED, CheckResult
from course.grading.hidden import stable_hash

__all__ = ["ARTEFACT_GRADERS", "artefact_path", "grade_best_model"]


def artefact_path(submission: Path, master: Path, name: str) -> Path | None:
    """The artefact ``name`` that goes with ``submission`` (see the module), or None."""
    submission = Path(submission)
    flat = submission.with_name(f"{submission.stem}.{name}")
    if flat.is_file():
        return flat
    in_folder = submission.with_name(name)
    if submission.name == Path(master).name and in_folder.is_file():
        return in_folder
    return None


def grade_best_model(check: str, path: Path, possible: float, seed: int) -> CheckResult:
    """Evaluate the saved model at ``path`` on the hidden test set; points by its accuracy."""
    hidden_seed = stable_hash(f"course-best-model\0{seed}")
    try:
        accuracy, model = evaluate_saved_model(path, *hidden_test_set(hidden_seed))
    except ValueError as error:  # ArtefactError, or not a Shapes-10 classifier
        message = str(error).replace(str(path), path.name)  # never the grader's paths
        return CheckResult(check, 0, possible, "failed", f"{check}: {message}", str(error))
    except Exception as error:  # noqa: BLE001 - a file must never stop the grading
        return CheckResult(
            check,
            0,
            possible,
            "crashed",
            f"{check}: {path.name} could not be evaluated ({type(error).__name__})",
            f"{type(error).__name__}: {error}",
        )
    points = best_model_points(accuracy, possible)
    status = PASSED if points == possible else "partial" if points > 0 else "failed"
    message = (
        f"{check}: {type(model).__name__} hidden test accuracy {accuracy:.1%} on {NUM_HIDDEN} "
        f"new Shapes-10 images -> {points:g} / {possible:g} points (0 below "
        f"{ZERO_POINTS_BELOW:.0%}, all from {FULL_POINTS_AT:.0%})"
    )
    return CheckResult(check, points, possible, status, message)


# check name -> grader(check name, file, possible points, hidden seed) -> CheckResult
ARTEFACT_GRADERS: dict[str, Callable[[str, Path, float, int], CheckResult]] = {
    "best_model": grade_best_model,
}
