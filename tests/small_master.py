"""A small master for the grading tests: one exercise, two written questions, a best model.

Cells (ids in brackets): setup [setup]; relu_forward's exercise [relu-code] and
its check [relu-check] (2 points); question 1 [q1-text] and its answer cell
[q1-answer] (3 points, question "why-relu"); question 2 [q2-text] and its
answer cell [q2-answer] (2 points, question "what-bias"); the best-model check
[best-check] (10 points, artefact "best_model.npz").
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from course.models import load_pretrained, save_model

Q1 = "**Question 1.** Why does ReLU pass no gradient where its input is negative?"
A1 = "Because it is constant (zero) there, so its derivative is zero."
Q2 = "**Question 2.** What does the bias of an affine layer do?"
A2 = "It shifts every output by a learned constant, independent of the input."
ANSWER = {"answer": True}
RELU = '''\
def relu_forward(x):
    """max(0, x), elementwise."""
    ### BEGIN SOLUTION
    out = np.maximum(0, x)
    ### END SOLUTION
    return out, x
'''


def cell(source: str, cell_id: str, kind: str = "code", **course) -> nbformat.NotebookNode:
    make = new_code_cell if kind == "code" else new_markdown_cell
    metadata = {"course": course} if course else {}
    made = make(source, metadata=metadata)
    made.id = cell_id
    return made


def small_master() -> nbformat.NotebookNode:
    """The master notebook (see the module docstring)."""
    nb = new_notebook(
        cells=[
            cell(
                "import numpy as np\nfrom course.checks import check_best_model, "
                "check_relu_forward",
                "setup",
            ),
            cell(RELU, "relu-code"),
            cell(
                "check_relu_forward(relu_forward)",
                "relu-check",
                check=True,
                points=2,
                checks=["relu_forward"],
            ),
            cell(Q1, "q1-text", "markdown"),
            cell(A1, "q1-answer", "markdown", answer=True, points=3, question="why-relu"),
            cell(Q2, "q2-text", "markdown"),
            cell(A2, "q2-answer", "markdown", answer=True, points=2, question="what-bias"),
            cell(
                'check_best_model("best_model.npz")',
                "best-check",
                check=True,
                points=10,
                checks=["best_model"],
                artefact="best_model.npz",
            ),
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    return nb


def write_notebook(nb: nbformat.NotebookNode, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    return path


def stand_in_model():
    """A stand-in, at no cost, for a Shapes-10 model a student trained well: the shipped
    TinyVGG with every layer's units renumbered (a seeded permutation of each conv layer's
    filters and of the hidden layer's units, carried into the next layer). It computes
    the same function, and layer by layer its weights look unrelated to the shipped ones,
    which the best-model check refuses as they are (or fine-tuned)."""
    model = load_pretrained()
    p, rng = model.params, np.random.default_rng(0)
    conv_layers = sum(len(stage) for stage in model.stages)
    for i in range(1, conv_layers + 2):  # the conv layers, then the hidden affine layer
        order = rng.permutation(p[f"b{i}"].shape[0])
        p[f"W{i}"] = p[f"W{i}"][order] if i <= conv_layers else p[f"W{i}"][:, order]
        for key in (f"b{i}", f"gamma{i}", f"beta{i}"):
            if key in p:
                p[key] = p[key][order]
        if i <= conv_layers:
            for key in ("running_mean", "running_var"):
                model.bn_params[i - 1][key] = model.bn_params[i - 1][key][order]
        after = p[f"W{i + 1}"]
        if i < conv_layers:  # the next conv layer reads these channels
            p[f"W{i + 1}"] = after[:, order]
        elif i == conv_layers:  # the affine layer reads them flattened as (C, H, W)
            blocks = after.reshape(len(order), -1, after.shape[1])
            p[f"W{i + 1}"] = blocks[order].reshape(after.shape)
        else:  # the output layer reads the hidden units
            p[f"W{i + 1}"] = after[order]
    return model


def save_stand_in_as(path: Path) -> Path:
    """:func:`stand_in_model` saved as a best-model file at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return save_model(stand_in_model(), path)
