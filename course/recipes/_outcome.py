"""How a training recipe ends: what it says when it was stopped, diverged or learnt nothing.

:func:`train_until_stopped` runs a Solver and returns what stopped it early
(Ctrl-C or a divergence) instead of raising, so that the recipe can still
save the best model so far. A recipe checks its learning rate before any
work (``check_learning_rate`` warns about 0) and builds its Solver inside
:func:`learning_rate_checked`, so that the Solver does not warn again.
Every recipe saves the best model only when it beat a baseline (the
untrained model, or always answering the commonest class); then
:func:`end_training` turns how training ended into one exception that says
what was saved, or returns when all is well.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from course._solver_validation import ZERO_LEARNING_RATE
from course.artefacts import NotSavedError
from course.solver import Solver, TrainingInterrupted


@contextmanager
def learning_rate_checked() -> Iterator[None]:
    """Build a Solver without its learning_rate=0 warning: the recipe gave it already."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ZERO_LEARNING_RATE)
        yield


def train_until_stopped(solver: Solver) -> tuple[dict[str, Any] | None, BaseException | None]:
    """Run ``solver.train()``; return its summary and what ended it early.

    ``(summary, None)`` when training ran to its end; ``(summary,
    TrainingInterrupted)`` after Ctrl-C (the summary it carries); ``(None,
    FloatingPointError)`` after a divergence, when the model gets the best
    parameters measured before it (``Solver.load_best_params``).
    """
    try:
        return solver.train(), None
    except TrainingInterrupted as interrupt:
        return interrupt.summary, interrupt
    except FloatingPointError as error:
        solver.load_best_params()
        return None, error


def end_training(
    func: str,
    stopped: BaseException | None,
    out: str | Path | None,
    saved_to: Path | None,
    not_learnt: str | None,
) -> None:
    """Raise what ended training early, or NotSavedError when nothing worth saving was learnt.

    Inputs:
    - func: the recipe's name, for messages
    - stopped: the TrainingInterrupted (Ctrl-C) or FloatingPointError
      (divergence) that ended training, None when it ran to the end
    - out: where the model was to be saved (None: it was not to be saved)
    - saved_to: the file or folder it was saved to, None when it was not
    - not_learnt: None when the model beat its baseline, else the sentence
      saying by how much it did not

    A TrainingInterrupted is raised again with "the best model so far was
    saved to ..." (or "nothing was saved") added; a divergence becomes a
    FloatingPointError saying the same.
    """
    saved = "; nothing was saved" if out is not None else ""
    if saved_to is not None:
        saved = f"; the best model so far was saved to {saved_to}"
    if isinstance(stopped, TrainingInterrupted):
        raise TrainingInterrupted(f"{stopped}{saved}", stopped.summary) from None
    if stopped is not None:
        raise FloatingPointError(f"{func}: training diverged: {stopped}{saved}") from None
    if out is not None and not_learnt is not None:
        raise NotSavedError(f"{func}: {not_learnt}; nothing was saved to {out}")
