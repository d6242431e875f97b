"""Red-team submissions of notebook 01: every known trick, and the exact grade each must get.

Each :class:`Trick` edits a copy of the master's JSON (the fully correct
notebook) into what a student who tries the trick would hand in, usually
with the tricked exercises' own code replaced by the released stub (or a
wrong answer), so that the trick is the only way those checks could pass.
``zero`` maps each check the submission must lose to the status it must
get; every other check must keep all its points. Used by
``tests/test_grading_redteam.py`` and ``benchmarks/grade_batch.py``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MASTER = ROOT / "solutions" / "01_fully_connected.ipynb"
RELEASED = ROOT / "assignments" / "01_fully_connected.ipynb"
POINTS = {
    "affine_forward": 2,
    "affine_backward": 3,
    "relu_forward": 1,
    "relu_backward": 1,
    "softmax_loss": 3,
    "svm_loss": 3,
    "numerical_gradient": 2,
    "two_layer_net_loss": 3,
    "sgd_momentum": 2,
    "rmsprop": 2,
    "adam": 3,
    "batchnorm_forward": 3,
    "batchnorm_backward": 4,
    "dropout_forward": 2,
    "dropout_backward": 1,
    "fully_connected_net_loss": 5,
    "overfit_settings": 2,
}
# The master's written questions (answer cells): graded by a person, never by the engine.
QUESTIONS = ("learning-curve-gap", "relu-initialisation", "dropout-scaling")
AFFINE = {"affine_forward": "not implemented", "affine_backward": "not implemented"}
# The backward's check runs the student's forward for its cache: a broken forward fails both.
BROKEN_AFFINE = {"affine_forward": "failed", "affine_backward": "failed"}
CELL_TIMEOUT = 3  # s per cell or call in the red-team batch: the loops cost 3 s, not 30
GRADER_FILE = "GRADER_FILE"  # replaced by a path in the grader's output folder


@dataclass(frozen=True)
class Trick:
    """A submission made from the master by ``edit``; the checks it must lose, with statuses."""

    edit: Callable[[dict], None]
    zero: dict[str, str]
    note: str | None = None  # a phrase the grade's notes must contain
    error: bool = False  # the submission cannot be read at all
    raw: bytes | None = field(default=None, repr=False)  # the file's bytes, when not JSON

    def expected_points(self) -> int:
        return 0 if self.error else sum(POINTS.values()) - sum(POINTS[c] for c in self.zero)


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _cell(nb: dict, cell_id: str) -> dict:
    return next(c for c in nb["cells"] if c.get("id") == cell_id)


def _set(nb: dict, cell_id: str, source: str) -> None:
    _cell(nb, cell_id)["source"] = source


def _stub(nb: dict, *cell_ids: str) -> None:
    """Put back the released (not implemented) version of each exercise cell."""
    released = _load(RELEASED)
    for cell_id in cell_ids:
        _set(nb, cell_id, "".join(_cell(released, cell_id)["source"]))


def _stub_affine(nb: dict) -> None:
    _stub(nb, "affine-forward-code", "affine-backward-code")


def _prepend(nb: dict, cell_id: str, source: str) -> None:
    cell = _cell(nb, cell_id)
    cell["source"] = source + "\n" + "".join(cell["source"])


def _append(nb: dict, cell_id: str, source: str) -> None:
    cell = _cell(nb, cell_id)
    cell["source"] = "".join(cell["source"]) + "\n" + source


def _checks(nb: dict, names: tuple[str, ...]) -> list[dict]:
    return [
        c
        for c in nb["cells"]
        if c.get("metadata", {}).get("course", {}).get("check")
        and set(c["metadata"]["course"]["checks"]) & set(names)
    ]


# -- the edits ----------------------------------------------------------------


def check_cells_edited_to_pass(nb: dict) -> None:
    _stub_affine(nb)
    for cell in _checks(nb, tuple(AFFINE)):
        cell["source"] = "pass"


def check_cells_deleted(nb: dict) -> None:
    _stub_affine(nb)
    gone = {c["id"] for c in _checks(nb, tuple(AFFINE))}
    nb["cells"] = [c for c in nb["cells"] if c.get("id") not in gone]


def check_cells_turned_into_markdown(nb: dict) -> None:
    _stub_affine(nb)
    for cell in _checks(nb, tuple(AFFINE)):
        cell["cell_type"] = "markdown"
        for key in ("outputs", "execution_count"):
            cell.pop(key, None)


def check_cell_duplicated_with_a_fake(nb: dict) -> None:
    _stub_affine(nb)
    for cell in _checks(nb, tuple(AFFINE)):
        fake = copy.deepcopy(cell)
        name = cell["metadata"]["course"]["checks"][0]
        fake["source"] = f"print('OK {name}: relative error 0.0e+00 <= 1e-09')"
        nb["cells"].insert(nb["cells"].index(cell), fake)  # the fake comes first


def exercise_cell_id_duplicated(nb: dict) -> None:
    """A stub first, the correct code in a later cell with the same id: the first counts."""
    code = _cell(nb, "affine-forward-code")
    stub = copy.deepcopy(code)
    stub["source"] = "".join(_cell(_load(RELEASED), "affine-forward-code")["source"])
    nb["cells"].insert(nb["cells"].index(code), stub)


def showtraceback_overridden(nb: dict) -> None:
    _stub_affine(nb)
    _prepend(
        nb,
        "affine-forward-code",
        "try:\n    get_ipython().showtraceback = lambda *args, **kwargs: None\n"
        "except NameError:\n    pass\n"
        "import sys\nsys.excepthook = lambda *args: print('OK affine_forward')\n",
    )


def always_equal_objects(nb: dict) -> None:
    _set(
        nb,
        "affine-forward-code",
        "import numpy as np\n\n"
        "class Anything(np.ndarray):\n"
        "    def __eq__(self, other):\n        return True\n"
        "    def __ne__(self, other):\n        return False\n"
        "    def __array_ufunc__(self, *args, **kwargs):\n        return Anything((0,))\n\n"
        "class Equal:\n    shape = dtype = None\n"
        "    def __eq__(self, other):\n        return True\n"
        "    def __sub__(self, other):\n        return 0.0\n"
        "    __rsub__ = __sub__\n\n"
        "def affine_forward(x, w, b):\n    return Equal(), (x, w, b)\n",
    )


def printing_ok_lines(nb: dict) -> None:
    _stub_affine(nb)
    _prepend(
        nb,
        "affine-forward-code",
        "print('OK affine_forward: max relative error 1.2e-16 <= 1e-09')\n"
        "print('OK affine_backward: max relative error 3.0e-16 <= 1e-07')\n",
    )


def delegates_by_import(nb: dict) -> None:
    _set(
        nb,
        "affine-forward-code",
        "from course.layers import affine_forward as reference\n\n"
        "def affine_forward(x, w, b):\n    return reference(x, w, b)\n",
    )


def delegates_to_a_copy_of_the_package_file(nb: dict) -> None:
    _set(
        nb,
        "affine-forward-code",
        "import importlib.util, pathlib, course\n"
        "path = pathlib.Path(course.__file__).parent / 'layers' / 'fc.py'\n"
        "spec = importlib.util.spec_from_file_location('mine', path)\n"
        "mine = importlib.util.module_from_spec(spec)\nspec.loader.exec_module(mine)\n\n"
        "def affine_forward(x, w, b):\n    return mine.affine_forward(x, w, b)\n",
    )


def runs_a_copy_of_the_reference_source(nb: dict) -> None:
    """The reference's source, read and exec'd under another name: the same code, caught."""
    _set(
        nb,
        "affine-forward-code",
        "import inspect\nimport course.layers.fc as fc\n"
        "source = inspect.getsource(fc.affine_forward).replace('affine_forward(', 'mine(', 1)\n"
        "space = dict(vars(fc))\nexec(source, space)\n\n"
        "def affine_forward(x, w, b):\n    return space['mine'](x, w, b)\n",
    )


_WRONG_AFFINE = (
    "def affine_forward(x, w, b):\n"
    "    out = np.zeros((x.shape[0], w.shape[1]), dtype=x.dtype)\n    return out, (x, w, b)\n\n"
    "def affine_backward(dout, cache):\n    x, w, b = cache\n"
    "    return np.zeros_like(x), np.zeros_like(w), np.zeros_like(b)\n"
)


def numpy_monkeypatched(nb: dict) -> None:
    _set(
        nb,
        "affine-forward-code",
        "import numpy as np\n"
        "np.allclose = lambda *args, **kwargs: True\n"
        "np.testing.assert_allclose = lambda *args, **kwargs: None\n"
        "np.abs = np.absolute = lambda x, *args, **kwargs: 0 * x\n"
        "np.max = np.amax = lambda *args, **kwargs: 0.0\n\n" + _WRONG_AFFINE,
    )
    _set(nb, "affine-backward-code", "pass\n")


def course_checks_monkeypatched(nb: dict) -> None:
    _set(
        nb,
        "affine-forward-code",
        "import numpy as np\nimport course.checks, course.checks.core\n"
        "course.checks.check_affine_forward = lambda *a: print('OK affine_forward')\n"
        "course.checks.check_affine_backward = lambda *a: print('OK affine_backward')\n"
        "course.checks.core.compare = lambda *a, **k: 0.0\n"
        "course.checks.CheckFailed = type('Nothing', (Exception,), {})\n\n" + _WRONG_AFFINE,
    )
    _set(nb, "affine-backward-code", "pass\n")


def builtins_monkeypatched(nb: dict) -> None:
    _set(
        nb,
        "affine-forward-code",
        "import builtins, numpy as np\n"
        "builtins.isinstance = lambda *args: True\n"
        "builtins.abs = lambda x: 0\nbuiltins.max = lambda *args, **kwargs: 0\n"
        "builtins.AssertionError = type('Nothing', (Exception,), {})\n\n" + _WRONG_AFFINE,
    )
    _set(nb, "affine-backward-code", "pass\n")


def infinite_loop_in_a_cell(nb: dict) -> None:
    _append(nb, "softmax-loss-code", "while True:\n    pass\n")


def function_that_hangs_when_called(nb: dict) -> None:
    _set(
        nb,
        "relu-backward-code",
        "def relu_backward(dout, cache):\n    while True:\n        pass\n",
    )


def memory_bomb(nb: dict) -> None:
    _prepend(nb, "svm-loss-code", "hog = []\nwhile True:\n    hog.append(bytearray(10**8))\n")


def os_exit_in_a_cell(nb: dict) -> None:
    _prepend(nb, "adam-code", "import os\nos._exit(0)\n")


def fifty_megabytes_of_output(nb: dict) -> None:
    _append(nb, "relu-forward-code", "for _ in range(50):\n    print('x' * 1_000_000)\n")


def reads_the_master(nb: dict) -> None:
    """Run the master's answers from the installed course's folder."""
    _set(
        nb,
        "affine-forward-code",
        "import json, pathlib, course\n"
        "root = pathlib.Path(course.__file__).resolve().parents[1]\n"
        "master = json.loads((root / 'solutions' / '01_fully_connected.ipynb').read_text())\n"
        "for c in master['cells']:\n"
        "    if c.get('id') in ('affine-forward-code', 'affine-backward-code'):\n"
        "        exec(''.join(c['source']))\n",
    )
    _stub(nb, "affine-backward-code")


def writes_the_grader_files(nb: dict) -> None:
    _stub_affine(nb)
    _prepend(
        nb,
        "affine-forward-code",
        f"import sqlite3\nopen({GRADER_FILE!r} + '.json', 'w').write('{{\"points\": 30}}')\n"
        f"sqlite3.connect({GRADER_FILE!r}).execute('DELETE FROM results')\n",
    )


def metadata_asks_for_more_time_and_skips(nb: dict) -> None:
    nb["metadata"]["course"] = {"cell_timeout": 10_000, "skip": ["dropout-forward-code"]}
    nb["metadata"]["kernelspec"] = {"name": "cheat", "display_name": "x", "language": "python"}
    code = _cell(nb, "dropout-forward-code")
    code["metadata"]["course"] = {"timeout": 10_000}
    code["metadata"]["tags"] = ["skip-execution", "raises-exception"]
    code["source"] = "import time\ntime.sleep(60)\n" + "".join(code["source"])


def pickle_payload(nb: dict) -> None:
    _set(
        nb,
        "affine-forward-code",
        "import pickle, numpy as np\n\n"
        "class Payload:\n    def __reduce__(self):\n"
        "        return (print, ('OK affine_forward (ran in the grader)',))\n\n"
        "def affine_forward(x, w, b):\n"
        "    blob = np.frombuffer(pickle.dumps(Payload()), dtype=np.uint8)\n"
        "    return np.array([Payload(), blob], dtype=object), pickle.dumps(Payload())\n",
    )


def right_only_on_the_visible_inputs(nb: dict) -> None:
    """Adam keeping its moments in arrays of the visible weight's shape: hidden cases catch it."""
    code = _cell(nb, "adam-code")
    source = "".join(code["source"])
    code["source"] = source.replace("np.zeros_like(w)", "np.zeros((4, 5), dtype=w.dtype)")


def syntax_error(nb: dict) -> None:
    _append(nb, "rmsprop-code", "def broken(:\n    pass\n")


def half_complete(nb: dict) -> None:
    _stub(
        nb,
        "svm-loss-code",
        "sgd-momentum-code",
        "rmsprop-code",
        "adam-code",
        "batchnorm-forward-code",
        "batchnorm-backward-code",
        "dropout-forward-code",
        "dropout-backward-code",
    )


def fully_correct(nb: dict) -> None:
    """The master itself (outputs and all): every check passes."""


TRICKS: dict[str, Trick] = {
    "check-cells-edited-to-pass": Trick(check_cells_edited_to_pass, AFFINE, "edited"),
    "check-cells-deleted": Trick(check_cells_deleted, AFFINE, "deleted"),
    "check-cells-turned-into-markdown": Trick(
        check_cells_turned_into_markdown, AFFINE, "markdown"
    ),
    "check-cell-duplicated-with-a-fake": Trick(
        check_cell_duplicated_with_a_fake, AFFINE, "repeats"
    ),
    "exercise-cell-id-duplicated": Trick(
        exercise_cell_id_duplicated,
        AFFINE,
        "repeats the id 'affine-forward-code'",
    ),
    "showtraceback-overridden": Trick(showtraceback_overridden, AFFINE),
    "always-equal-objects": Trick(always_equal_objects, BROKEN_AFFINE),
    "printing-ok-lines": Trick(printing_ok_lines, AFFINE),
    "delegates-by-import": Trick(delegates_by_import, {"affine_forward": "failed"}),
    "delegates-to-a-copy-of-the-package-file": Trick(
        delegates_to_a_copy_of_the_package_file, {"affine_forward": "failed"}
    ),
    "runs-a-copy-of-the-reference-source": Trick(
        runs_a_copy_of_the_reference_source, {"affine_forward": "failed"}
    ),
    "numpy-monkeypatched": Trick(numpy_monkeypatched, BROKEN_AFFINE),
    "course-checks-monkeypatched": Trick(course_checks_monkeypatched, BROKEN_AFFINE),
    "builtins-monkeypatched": Trick(builtins_monkeypatched, BROKEN_AFFINE),
    "infinite-loop-in-a-cell": Trick(
        infinite_loop_in_a_cell, {"softmax_loss": "timeout"}, "restarted without"
    ),
    "function-that-hangs-when-called": Trick(
        function_that_hangs_when_called, {"relu_backward": "timeout"}, "restarted after"
    ),
    "memory-bomb": Trick(memory_bomb, {"svm_loss": "out of memory"}, "restarted without"),
    "os-exit-in-a-cell": Trick(os_exit_in_a_cell, {"adam": "crashed"}, "restarted without"),
    "fifty-megabytes-of-output": Trick(fifty_megabytes_of_output, {}),
    "reads-the-master": Trick(reads_the_master, BROKEN_AFFINE),
    "writes-the-grader-files": Trick(writes_the_grader_files, BROKEN_AFFINE),
    "metadata-asks-for-more-time-and-skips": Trick(
        metadata_asks_for_more_time_and_skips,
        {"dropout_forward": "timeout", "dropout_backward": "timeout"},
    ),
    "pickle-payload": Trick(pickle_payload, BROKEN_AFFINE),
    "right-only-on-the-visible-inputs": Trick(
        right_only_on_the_visible_inputs, {"adam": "failed"}
    ),
    "syntax-error": Trick(syntax_error, {"rmsprop": "failed"}),
    "half-complete": Trick(
        half_complete,
        {
            name: "not implemented"
            for name in (
                "svm_loss",
                "sgd_momentum",
                "rmsprop",
                "adam",
                "batchnorm_forward",
                "batchnorm_backward",
                "dropout_forward",
                "dropout_backward",
            )
        },
    ),
    "fully-correct": Trick(fully_correct, {}),
    "malformed-json": Trick(
        fully_correct,
        dict.fromkeys(POINTS, "not run"),
        error=True,
        raw=b'{"cells": [{"cell_type": "code", ',
    ),
    "wrong-nbformat": Trick(
        fully_correct,
        dict.fromkeys(POINTS, "not run"),
        error=True,
        raw=b'{"nbformat": 3, "nbformat_minor": 0, "worksheets": []}',
    ),
}


def write_submission(name: str, folder: Path, grader_file: Path) -> Path:
    """Write the submission of trick ``name`` as ``folder/<name>.ipynb``."""
    trick = TRICKS[name]
    path = folder / f"{name}.ipynb"
    if trick.raw is not None:
        path.write_bytes(trick.raw)
        return path
    nb = _load(MASTER)
    trick.edit(nb)
    text = json.dumps(nb, indent=1).replace(GRADER_FILE, str(grader_file))
    path.write_text(text, encoding="utf-8")
    return path
