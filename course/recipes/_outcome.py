"""How a training recipe ends: what it says when it was stopped, diverged or learnt nothing.

:func:`train_until_stopped` runs a Solver and returns what stopped it early
(Ctrl-C or a divergence) instead of raising, so that the recipe can still
save the best model so far. Every recipe saves the best model only when it
beat a baseline (the untrained model, or always answering the commonest
class); then :func:`end_training` turns how training ended into one
exception that says what was saved, or returns when all is well.
"""

from __future__ import annotations

from pathlib import Path

from course.artefacts import NotSavedError
from course.solver import Solver, TrainingInterrupted


def train_until_stopped(solver: Solver) -> BaseException | None:
    """Run ``solver.train()``; return the TrainingInterrupted or FloatingPointError that ended it.

    None when training ran to its end. After a divergence the model gets the
    best parameters measured before it (``Solver.load_best_params``).
    """
    try:
        solver.train()
    except TrainingInterrupted as interrupt:
        return interrupt
    except FloatingPointError as error:
        solver.load_best_params()
        return error
    return None


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
