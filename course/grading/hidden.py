"""Hidden, seeded test cases: each graded function on inputs the student never sees.

A visible check (``course.checks``) runs a student's function on fixed inputs
that the student can read, so a function that is right only there (one that
hard-codes the expected output, or handles only N = 2) passes it. The grader
therefore also runs every graded function on *hidden* inputs: drawn from a
seed that the instructor controls, of other shapes (batch, feature, time and
spatial sizes, strides, paddings, hyperparameters drawn from small ranges),
and compared in the grader's process with the course's reference
implementation, with the tolerance the visible check uses in float64::

    seed = seed_for(master_sha256)                  # per course; a salt renews it
    result = run_hidden_cases("affine_backward",
                              {"affine_forward": worker.function("affine_forward"),
                               "affine_backward": worker.function("affine_backward")},
                              seed)
    result.passed, result.message

Case ``k`` of a function draws from ``np.random.default_rng([seed,
stable_hash(name)])``, so the inputs depend only on the seed and the
function's name. A backward is fed the cache of the student's own forward
(as the visible check does) and one random upstream gradient per output; an
update rule runs a few steps, each given the config the student's rule
returned the step before; a batchnorm forward is run in train mode (fresh and
with given running averages) and test mode, and the running averages it
leaves in ``bn_param`` are compared too. Inputs keep away from ReLU's kink,
max-pooling inputs have no ties, convolutions fit exactly, caption masks have
masked steps.

The message of a :class:`HiddenResult` is shown to students, so it names
the function, the case, the output that differs and its error against the
tolerance, and never the inputs, their shapes or the expected values. An
exception in the student's code fails the case with its type and message,
every number in it shown as ``#`` (an error such as "shapes (6,4) and (5,3)
not aligned" would show the hidden shapes) and cut to ERROR_MESSAGE_LIMIT
characters; :class:`~course.grading.worker.WorkerDied` propagates, for the
engine to report.

Functions without hidden cases (``NO_HIDDEN_CASES``): ``dropout_forward`` and
``dropout_backward`` draw a random mask, which no reference can reproduce
value for value (their check tests its statistics); ``captioning_loss``,
``sample_captions`` and ``beam_search`` take a whole captioning model, which
their visible checks build and exercise.
Notebook 01's ``two_layer_net_loss`` and ``fully_connected_net_loss`` (whole
models: their visible checks run four seeded nets of different depths,
batchnorm, dropout and dtypes), ``numerical_gradient`` (its arguments
include a function) and ``overfit_small_data`` (a training run on data the
check loads itself) have none either, nor notebook 02's
``three_layer_conv_net_loss`` (a whole model's loss and gradients: its visible
check runs 3x3 and 5x5 filters, with and without regularisation, in float64
and float32). Notebook 02's ``best_model`` is itself a hidden test: the
grader scores the student's saved model on freshly drawn Shapes-10 images
(:mod:`course.grading.artefact_checks`).

Notebook 03's ``saliency_maps``, ``class_visualisation_step`` and
``make_fooling_image`` take a model too: their hidden cases draw a small
float64 TinyVGG of their own (input size, stages, filters, classes, with or
without batchnorm in test mode, and its weights from the seed), which travels
to the student's process as data, and compare the saliency, the new image,
or the fooling image and its exact step count with ``course.viz``.

Instructors change every hidden input (after a leak, or for a new term) by
passing a salt: ``seed_for(master_sha256, salt="2027-spring")``.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from course import layers, optim, viz
from course.checks.core import GRAD_TOL, VALUE_TOL, _copies, _private_copy
from course.checks.rnn import _recurrent_inputs
from course.checks.viz import randomise_state
from course.gradcheck import rel_error
from course.grading.worker import StudentError, WorkerDied
from course.models.cnn import TinyVGG

__all__ = [
    "HIDDEN_CASES",
    "NO_HIDDEN_CASES",
    "HiddenCase",
    "HiddenResult",
    "run_hidden_cases",
    "seed_for",
    "stable_hash",
]

ERROR_MESSAGE_LIMIT = 160  # characters of a student's exception message shown in feedback
# Numbers in an exception's message (a shape, a value) are shown as '#': numpy's and the
# course's own errors name the shapes of the arguments, which are hidden.
_NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.])")
KINK_MARGIN = 1e-3  # ReLU inputs (and pre-activations) at least this far from 0
NO_HIDDEN_CASES = frozenset(
    {
        "dropout_forward",
        "dropout_backward",
        "captioning_loss",
        "sample_captions",
        "beam_search",
        "two_layer_net_loss",
        "fully_connected_net_loss",
        "three_layer_conv_net_loss",
        "numerical_gradient",
        "overfit_small_data",
        "best_model",
    }
)

Rng = np.random.Generator


@dataclass(frozen=True)
class HiddenResult:
    """The verdict on one function's hidden cases; ``message`` is fit for students."""

    passed: bool
    message: str


@dataclass(frozen=True)
class HiddenCase:
    """How to test one graded function on hidden inputs.

    - kind: 'forward', 'backward', 'loss', 'update' or 'model' (how the function is run)
    - needs: the student functions called, in order (a backward needs its forward)
    - draw: ``draw(rng, case) -> inputs`` (``case`` counts from 0)
    - reference: the reference forward, loss or update rule
    - reference_backward: the reference backward (kind 'backward')
    - outputs: what a forward returns before its cache (kind 'model': all it returns)
    - grads: what a backward returns, in order
    - state: the keys of ``bn_param`` a forward updates, or of the state an
      update rule keeps in its config
    """

    kind: str
    needs: tuple[str, ...]
    draw: Callable[[Rng, int], tuple]
    reference: Callable
    reference_backward: Callable | None = None
    outputs: tuple[str, ...] = ("out",)
    grads: tuple[str, ...] = ()
    state: tuple[str, ...] = ()


class _Failed(Exception):
    """One hidden case failed; the message is fit for students."""


def stable_hash(text: str) -> int:
    """A 64-bit hash of ``text`` that is the same in every process (unlike ``hash``)."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")


def seed_for(master_sha256: str, salt: str = "") -> int:
    """The hidden cases' seed of a course: derived from its master notebook's SHA-256.

    Every submission graded against the same master gets the same hidden
    inputs; editing the master, or passing another ``salt``, changes them all.
    """
    if not isinstance(master_sha256, str) or not isinstance(salt, str):
        raise TypeError("seed_for: master_sha256 and salt must be strings")
    return stable_hash(f"course-hidden-cases\0{master_sha256}\0{salt}")


def run_hidden_cases(
    name: str, functions: Mapping[str, Callable], seed: int, cases: int = 3
) -> HiddenResult:
    """Run ``name`` (and the functions it needs, from ``functions``) on ``cases`` hidden cases.

    Returns a passed result with the largest relative error, or the first
    failure. Raises WorkerDied when the student's worker is gone, ValueError
    for a name without hidden cases or a function missing from ``functions``.
    """
    spec = HIDDEN_CASES.get(name)
    if spec is None:
        raise ValueError(f"run_hidden_cases: no hidden cases for {name!r}")
    missing = [need for need in spec.needs if not callable(functions.get(need))]
    if missing:
        raise ValueError(f"run_hidden_cases: {name} needs the function(s) {', '.join(missing)}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"run_hidden_cases: seed must be an int >= 0, got {seed!r}")
    if isinstance(cases, bool) or not isinstance(cases, int) or cases < 1:
        raise ValueError(f"run_hidden_cases: cases must be an int >= 1, got {cases!r}")
    rng = np.random.default_rng([seed, stable_hash(name)])
    largest = 0.0
    for case in range(cases):
        inputs = spec.draw(rng, case)
        try:
            errors = _RUNNERS[spec.kind](spec, functions, inputs, rng)
        except _Failed as failure:
            return HiddenResult(False, f"{name}: hidden case {case + 1} of {cases}: {failure}")
        largest = max(largest, *errors.values())
    return HiddenResult(
        True, f"{name}: {cases} hidden cases passed (largest relative error {largest:.1e})"
    )


# ---------------------------------------------------------------------------
# Running one case: call the student's functions and the reference, compare
# ---------------------------------------------------------------------------


def _run_forward(spec: HiddenCase, functions: Mapping, inputs: tuple, rng: Rng) -> dict:
    """A forward's outputs (and the ``bn_param`` entries it updates) against the reference."""
    (forward,) = spec.needs
    student_inputs, reference_inputs = _copies(inputs), _copies(inputs)
    result = _call(forward, functions[forward], *student_inputs)
    outs = _expect_tuple(forward, result, (*spec.outputs, "cache"))
    expected = spec.reference(*reference_inputs)
    errors = {
        output: _compare(output, outs[i], expected[i], VALUE_TOL)
        for i, output in enumerate(spec.outputs)
    }
    if spec.state:  # batchnorm: bn_param, argument 4, is documented state
        student_param, reference_param = student_inputs[3], reference_inputs[3]
        for key in spec.state:
            label = f"bn_param[{key!r}]"
            if key not in student_param:
                raise _Failed(f"{label} is missing after the call ({inputs[3]['mode']} mode)")
            errors[label] = _compare(label, student_param[key], reference_param[key], VALUE_TOL)
    return errors


def _run_backward(spec: HiddenCase, functions: Mapping, inputs: tuple, rng: Rng) -> dict:
    """The student's forward, then its backward on that cache, against the reference backward."""
    forward, backward = spec.needs
    *reference_outs, reference_cache = spec.reference(*_copies(inputs))
    upstream = [rng.standard_normal(np.shape(out)) for out in reference_outs[: len(spec.outputs)]]
    result = _call(forward, functions[forward], *_copies(inputs))
    *_, cache = _expect_tuple(forward, result, (*spec.outputs, "cache"))
    result = _call(backward, functions[backward], *_copies(upstream), cache)
    grads = _expect_tuple(backward, result, spec.grads)
    expected = spec.reference_backward(*upstream, reference_cache)
    expected = (expected,) if len(spec.grads) == 1 else expected
    return {
        grad: _compare(grad, actual, value, GRAD_TOL)
        for grad, actual, value in zip(spec.grads, grads, expected, strict=True)
    }


def _run_loss(spec: HiddenCase, functions: Mapping, inputs: tuple, rng: Rng) -> dict:
    """A loss's value and dx against the reference."""
    (loss_name,) = spec.needs
    result = _call(loss_name, functions[loss_name], *_copies(inputs))
    loss, dx = _expect_tuple(loss_name, result, ("loss", "dx"))
    expected_loss, expected_dx = spec.reference(*_copies(inputs))
    return {
        "loss": _compare("loss", loss, expected_loss, VALUE_TOL),
        "dx": _compare("dx", dx, expected_dx, VALUE_TOL),
    }


def _run_update(spec: HiddenCase, functions: Mapping, inputs: tuple, rng: Rng) -> dict:
    """An update rule over several steps, each given the config the student's rule returned.

    At every step the state entries, then next_w, then the hyperparameters of
    the returned config are compared; both rules step from the reference's w.
    """
    (rule,) = spec.needs
    w, gradients, config = inputs
    student_config, reference_config = dict(config), dict(config)
    errors: dict[str, float] = {}
    for step, dw in enumerate(gradients, start=1):
        result = _call(rule, functions[rule], w.copy(), dw.copy(), _private_copy(student_config))
        next_w, next_config = _expect_tuple(rule, result, ("next_w", "next_config"))
        if not isinstance(next_config, Mapping):
            raise _Failed(
                f"next_config should be a dict, got {type(next_config).__name__} (step {step})"
            )
        expected_w, reference_config = spec.reference(w, dw, reference_config)
        for key in (*spec.state, "next_w", *config):
            label = f"config[{key!r}]" if key != "next_w" else "next_w"
            if key != "next_w" and key not in next_config:
                raise _Failed(f"the returned config has no {key!r} (step {step})")
            actual = next_w if key == "next_w" else next_config[key]
            expected = expected_w if key == "next_w" else reference_config[key]
            error = _compare(f"{label} (step {step})", actual, expected, VALUE_TOL)
            errors[label] = max(errors.get(label, 0.0), error)
        student_config, w = dict(next_config), expected_w
    return errors


def _run_model(spec: HiddenCase, functions: Mapping, inputs: tuple, rng: Rng) -> dict:
    """A function of a model (notebook 03): each output against ``course.viz``'s.

    The student's function gets its own copy of the model; a step count (an
    int output) must be exact.
    """
    (name,) = spec.needs
    result = _call(name, functions[name], *_copies(inputs))
    outs = _expect_tuple(name, result, spec.outputs)
    expected = spec.reference(*_copies(inputs))
    expected = (expected,) if len(spec.outputs) == 1 else expected
    errors = {}
    for output, actual, value in zip(spec.outputs, outs, expected, strict=True):
        if isinstance(value, int):
            if isinstance(actual, bool) or not isinstance(actual, (int, np.integer)):
                raise _Failed(f"{output} should be an int, got {type(actual).__name__}")
            if actual != value:
                raise _Failed(f"{output} differs from the reference's")
            errors[output] = 0.0
        else:
            errors[output] = _compare(output, actual, value, VALUE_TOL)
    return errors


_RUNNERS = {
    "forward": _run_forward,
    "backward": _run_backward,
    "loss": _run_loss,
    "update": _run_update,
    "model": _run_model,
}


def _call(what: str, function: Callable, *args):
    """Call a student's function; its exception (not WorkerDied) fails the case."""
    try:
        with np.errstate(all="ignore"):
            return function(*args)
    except WorkerDied:
        raise
    except Exception as error:
        if isinstance(error, StudentError):
            kind, message = error.type_name, error.message
        else:
            kind, message = type(error).__name__, str(error)
        message = _NUMBER.sub("#", " ".join(message.split()))
        if len(message) > ERROR_MESSAGE_LIMIT:
            message = message[: ERROR_MESSAGE_LIMIT - 3] + "..."
        raise _Failed(f"{what} raised {kind}" + (f": {message}" if message else "")) from None


def _expect_tuple(what: str, result: object, names: tuple[str, ...]) -> tuple:
    """``result`` as a tuple of ``len(names)`` items (one name: the result itself)."""
    if len(names) == 1:
        return (result,)
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        got = (
            f"a {type(result).__name__} of length {len(result)}"
            if isinstance(result, (tuple, list))
            else f"a {type(result).__name__}"
        )
        raise _Failed(f"{what} must return a tuple ({', '.join(names)}); it returned {got}")
    return tuple(result)


def _compare(label: str, actual: object, expected: object, tol: float) -> float:
    """The relative error of ``actual``; fails on a wrong type, shape, dtype, NaN or value.

    An array output must have the reference's dtype (float64 here); the
    messages name neither the expected shape nor any value.
    """
    expected_arr = np.asarray(expected)
    if expected_arr.ndim == 0:
        if isinstance(actual, np.ndarray) and actual.size == 1:
            actual = actual.reshape(())
        if isinstance(actual, bool) or not isinstance(
            actual, (int, float, np.integer, np.floating, np.ndarray)
        ):
            raise _Failed(f"{label} should be a number, got {type(actual).__name__}")
    elif not isinstance(actual, np.ndarray):
        raise _Failed(f"{label} should be a numpy array, got {type(actual).__name__}")
    actual_arr = np.asarray(actual)
    if actual_arr.dtype.kind not in "iuf":
        raise _Failed(f"{label} has dtype {actual_arr.dtype}; expected real numbers")
    if actual_arr.shape != expected_arr.shape:
        raise _Failed(f"{label} has the wrong shape")
    float_array = expected_arr.ndim > 0 and expected_arr.dtype.kind == "f"
    if float_array and actual_arr.dtype != expected_arr.dtype:
        raise _Failed(
            f"{label} has dtype {actual_arr.dtype}; expected {expected_arr.dtype}, "
            "the dtype of the inputs"
        )
    if not np.all(np.isfinite(actual_arr)):
        raise _Failed(f"{label} contains NaN or inf")
    error = rel_error(actual_arr, expected_arr)
    if not error <= tol:
        raise _Failed(f"{label} differs (relative error {error:.1e} > {tol:.0e})")
    return error


# ---------------------------------------------------------------------------
# Drawing the inputs: small random shapes, float64
# ---------------------------------------------------------------------------


def _int(rng: Rng, low: int, high: int) -> int:
    """A random int in [low, high], inclusive."""
    return int(rng.integers(low, high + 1))


def _away_from_kink(x: np.ndarray) -> np.ndarray:
    """``x`` with every entry at least KINK_MARGIN from 0 (ReLU has no derivative there)."""
    return np.where(np.abs(x) < KINK_MARGIN, np.where(x < 0, -0.5, 0.5), x)


def _draw_affine(rng: Rng, case: int) -> tuple:
    """x (N, d_1, ..., d_k) with 1 to 3 trailing dims, w (D, M), b (M,)."""
    N = _int(rng, 2, 7)
    dims = tuple(int(d) for d in rng.integers(1, 5, size=_int(rng, 1, 3)))
    D, M = math.prod(dims), _int(rng, 2, 8)
    x = rng.standard_normal((N, *dims))
    w = rng.standard_normal((D, M)) / np.sqrt(D)
    return x, w, rng.standard_normal(M)


def _draw_affine_relu(rng: Rng, case: int) -> tuple:
    """Affine inputs whose pre-activations x_flat @ w + b keep away from ReLU's kink."""
    while True:
        x, w, b = _draw_affine(rng, case)
        if np.abs(x.reshape(len(x), -1) @ w + b).min() >= KINK_MARGIN:
            return x, w, b


def _draw_relu(rng: Rng, case: int) -> tuple:
    shape = tuple(int(d) for d in rng.integers(2, 6, size=_int(rng, 1, 4)))
    return (_away_from_kink(rng.standard_normal(shape)),)


def _draw_scores(rng: Rng, case: int) -> tuple:
    """Scores (N, C) of a random scale and offset, and labels (N,)."""
    N, C = _int(rng, 2, 9), _int(rng, 2, 9)
    scores = rng.standard_normal((N, C)) * rng.uniform(0.5, 3.0) + rng.uniform(-5.0, 5.0)
    return scores, rng.integers(0, C, size=N)


def _bn_param(rng: Rng, case: int, size: int) -> dict:
    """Train mode with given averages (case 0, 3, ...), test mode (1, 4, ...), fresh train."""
    if case % 3 == 2:
        return {"mode": "train"}
    return {
        "mode": "train" if case % 3 == 0 else "test",
        "momentum": rng.uniform(0.5, 0.95),
        "eps": 10.0 ** rng.uniform(-5, -2),
        "running_mean": rng.standard_normal(size),
        "running_var": rng.uniform(0.5, 3.0, size=size),
    }


def _draw_batchnorm(rng: Rng, case: int) -> tuple:
    """x (N, D) whose columns have different means and scales; gamma, beta (D,); bn_param."""
    N, D = _int(rng, 3, 12), _int(rng, 2, 6)
    x = rng.standard_normal((N, D)) * rng.uniform(0.5, 3.0, size=D) + rng.normal(0, 3, size=D)
    gamma, beta = rng.uniform(0.5, 2.0, size=D), rng.standard_normal(D)
    return x, gamma, beta, _bn_param(rng, case, D)


def _draw_spatial_batchnorm(rng: Rng, case: int) -> tuple:
    """x (N, C, H, W) whose channels have different means and scales; gamma, beta (C,)."""
    N, C, H, W = _int(rng, 1, 3), _int(rng, 2, 4), _int(rng, 2, 4), _int(rng, 2, 4)
    per_channel = (1, C, 1, 1)
    scales = rng.uniform(0.5, 3.0, size=C).reshape(per_channel)
    x = rng.standard_normal((N, C, H, W)) * scales + rng.normal(0, 3, size=C).reshape(per_channel)
    gamma, beta = rng.uniform(0.5, 2.0, size=C), rng.standard_normal(C)
    return x, gamma, beta, _bn_param(rng, case, C)


def _fitting_size(rng: Rng, kernel: int, stride: int, pad: int) -> int:
    """An input size that the windows cover exactly: (size + 2*pad - kernel) % stride == 0."""
    out = _int(rng, 1, 4)
    while (out - 1) * stride + kernel - 2 * pad < 1:
        out += 1
    return (out - 1) * stride + kernel - 2 * pad


def _draw_conv(rng: Rng, case: int) -> tuple:
    """x (N, C, H, W), w (F, C, HH, WW), b (F,), conv_param with stride 1-3 and pad 0-2."""
    N, C, F = _int(rng, 2, 3), _int(rng, 1, 3), _int(rng, 1, 3)
    HH, WW = _int(rng, 1, 4), _int(rng, 1, 4)
    stride, pad = _int(rng, 1, 3), _int(rng, 0, min(2, min(HH, WW) - 1))
    H, W = _fitting_size(rng, HH, stride, pad), _fitting_size(rng, WW, stride, pad)
    x = rng.standard_normal((N, C, H, W))
    w = rng.standard_normal((F, C, HH, WW))
    return x, w, rng.standard_normal(F), {"stride": stride, "pad": pad}


def _draw_pool(rng: Rng, case: int) -> tuple:
    """Distinct values (no ties: max pooling is differentiable) and a pool_param."""
    N, C = _int(rng, 1, 2), _int(rng, 1, 3)
    ph, pw, stride = _int(rng, 1, 3), _int(rng, 1, 3), _int(rng, 1, 3)
    H, W = _fitting_size(rng, ph, stride, 0), _fitting_size(rng, pw, stride, 0)
    size = N * C * H * W
    x = (rng.permutation(size) - size / 2) * rng.uniform(0.05, 0.5)  # distinct values
    pool_param = {"pool_height": ph, "pool_width": pw, "stride": stride}
    return x.reshape(N, C, H, W), pool_param


def _draw_recurrent(gates: int, step: bool) -> Callable[[Rng, int], tuple]:
    """(x, prev_h[, prev_c], Wx, Wh, b) for an RNN (gates=1) or an LSTM (gates=4)."""

    def draw(rng: Rng, case: int) -> tuple:
        N, T, D, Hd = _int(rng, 2, 5), _int(rng, 2, 5), _int(rng, 2, 6), _int(rng, 2, 5)
        seed = int(rng.integers(2**31))  # the visible check's drawing, at other sizes
        return _recurrent_inputs(seed, gates, step, N=N, T=T, D=D, Hd=Hd)

    return draw


def _draw_embedding(rng: Rng, case: int) -> tuple:
    """Indices x (N, T) that repeat a word, and W (V, D)."""
    N, T, V, D = _int(rng, 2, 4), _int(rng, 2, 5), _int(rng, 3, 8), _int(rng, 2, 5)
    x = rng.integers(0, V, size=(N, T))
    x[-1, -1] = x[0, 0]  # a word used twice: its gradients must add up
    return x, rng.standard_normal((V, D))


def _draw_temporal_affine(rng: Rng, case: int) -> tuple:
    N, T, D, M = _int(rng, 2, 4), _int(rng, 2, 5), _int(rng, 2, 6), _int(rng, 2, 6)
    x = rng.standard_normal((N, T, D))
    return x, rng.standard_normal((D, M)) / np.sqrt(D), rng.standard_normal(M)


def _draw_temporal_loss(rng: Rng, case: int) -> tuple:
    """Scores (N, T, V), targets (N, T) and a mask of captions of different lengths."""
    N, T, V = _int(rng, 2, 5), _int(rng, 2, 6), _int(rng, 2, 7)
    x = rng.standard_normal((N, T, V)) * rng.uniform(0.5, 3.0)
    y = rng.integers(0, V, size=(N, T))
    lengths = rng.integers(1, T + 1, size=N)
    lengths[_int(rng, 0, N - 1)] = _int(rng, 1, T - 1)  # at least one masked step
    return x, y, np.arange(T) < lengths[:, None]


_HYPERPARAMETERS = {
    "sgd_momentum": {"learning_rate": (0.005, 0.1), "momentum": (0.5, 0.95)},
    "rmsprop": {"learning_rate": (0.005, 0.05), "decay_rate": (0.7, 0.99), "epsilon": (-4, -2)},
    "adam": {
        "learning_rate": (0.001, 0.05),
        "beta1": (0.6, 0.95),
        "beta2": (0.9, 0.999),
        "epsilon": (-4, -2),  # log10: large enough that inside or outside the sqrt matters
    },
}


def _draw_update(rule: str) -> Callable[[Rng, int], tuple]:
    """w of 1 to 3 dims, 3 to 5 gradients of varied scales, a config of drawn hyperparameters."""

    def draw(rng: Rng, case: int) -> tuple:
        shape = tuple(int(d) for d in rng.integers(2, 6, size=_int(rng, 1, 3)))
        w = rng.standard_normal(shape)
        gradients = [
            rng.standard_normal(shape) * rng.uniform(0.1, 3.0, size=shape[-1])
            for _ in range(_int(rng, 3, 5))
        ]
        config = {
            key: 10.0 ** rng.uniform(*bounds) if key == "epsilon" else rng.uniform(*bounds)
            for key, bounds in _HYPERPARAMETERS[rule].items()
        }
        return w, gradients, config

    return draw


# ---------------------------------------------------------------------------
# The table: one hidden case spec per graded function
# ---------------------------------------------------------------------------


def _draw_tiny_vgg(rng: Rng) -> TinyVGG:
    """A small float64 TinyVGG with drawn architecture and weights (batchnorm in test mode)."""
    size = int(rng.choice([8, 12, 16]))
    stages = tuple(
        tuple(int(f) for f in rng.integers(2, 6, size=int(rng.integers(1, 3))))
        for _ in range(int(rng.integers(1, 3)))
    )
    normalization = "batchnorm" if rng.random() < 0.5 else None
    model = TinyVGG(
        input_dim=(3, size, size),
        stages=stages,
        hidden_dims=() if rng.random() < 0.5 else (int(rng.integers(4, 9)),),
        num_classes=int(rng.integers(3, 7)),
        normalization=normalization,
        dtype=np.float64,
        seed=int(rng.integers(2**31)),
    )
    randomise_state(model, rng)  # biases, batchnorm's scales and averages, as the checks do
    model.mean_image = rng.uniform(0.3, 0.7, model.input_dim)
    return model


def _draw_saliency(rng: Rng, case: int) -> tuple:
    model = _draw_tiny_vgg(rng)
    N = int(rng.integers(2, 6))
    X = rng.standard_normal((N, *model.input_dim))
    return model, X, rng.integers(0, model.num_classes, size=N)


def _draw_class_step(rng: Rng, case: int) -> tuple:
    model = _draw_tiny_vgg(rng)
    img = 0.3 * rng.standard_normal((1, *model.input_dim))
    target = int(rng.integers(model.num_classes))
    return model, img, target, float(rng.uniform(1e-3, 0.1)), float(rng.uniform(0.1, 2.0))


def _draw_fooling(rng: Rng, case: int) -> tuple:
    """A model, an image and a target the reference reaches in a few steps (redrawn if not)."""
    while True:
        model = _draw_tiny_vgg(rng)
        X = rng.standard_normal((1, *model.input_dim))
        predicted = int(model.loss(X)[0].argmax())
        target = int((predicted + rng.integers(1, model.num_classes)) % model.num_classes)
        learning_rate, max_iterations = float(rng.uniform(0.05, 0.3)), 60
        try:
            viz.make_fooling_image(model, X, target, learning_rate, max_iterations)
        except viz.FoolingFailed:
            continue
        return model, X, target, learning_rate, max_iterations


def _pair(
    forward: str,
    draw: Callable[[Rng, int], tuple],
    grads: tuple[str, ...],
    outputs: tuple[str, ...] = ("out",),
    state: tuple[str, ...] = (),
) -> dict[str, HiddenCase]:
    """The specs of a layer pair ``X_forward`` / ``X_backward`` (both references in layers)."""
    backward = forward.replace("_forward", "_backward")
    reference, reference_backward = getattr(layers, forward), getattr(layers, backward)
    return {
        forward: HiddenCase("forward", (forward,), draw, reference, outputs=outputs, state=state),
        backward: HiddenCase(
            "backward",
            (forward, backward),
            draw,
            reference,
            reference_backward,
            outputs=outputs,
            grads=grads,
        ),
    }


_AFFINE_GRADS = ("dx", "dw", "db")
_RECURRENT_GRADS = ("dx", "dprev_h", "dWx", "dWh", "db")
_SEQUENCE_GRADS = ("dx", "dh0", "dWx", "dWh", "db")
_RUNNING = ("running_mean", "running_var")
_STATE = {"sgd_momentum": ("velocity",), "rmsprop": ("cache",), "adam": ("t", "m", "v")}

HIDDEN_CASES: Mapping[str, HiddenCase] = MappingProxyType(
    {
        **_pair("affine_forward", _draw_affine, _AFFINE_GRADS),
        **_pair("relu_forward", _draw_relu, ("dx",)),
        **_pair("affine_relu_forward", _draw_affine_relu, _AFFINE_GRADS),
        "softmax_loss": HiddenCase("loss", ("softmax_loss",), _draw_scores, layers.softmax_loss),
        "svm_loss": HiddenCase("loss", ("svm_loss",), _draw_scores, layers.svm_loss),
        **_pair("batchnorm_forward", _draw_batchnorm, ("dx", "dgamma", "dbeta"), state=_RUNNING),
        **_pair(
            "spatial_batchnorm_forward",
            _draw_spatial_batchnorm,
            ("dx", "dgamma", "dbeta"),
            state=_RUNNING,
        ),
        **_pair("conv_forward_naive", _draw_conv, _AFFINE_GRADS),
        **_pair("max_pool_forward_naive", _draw_pool, ("dx",)),
        **_pair("rnn_step_forward", _draw_recurrent(1, step=True), _RECURRENT_GRADS, ("next_h",)),
        **_pair("rnn_forward", _draw_recurrent(1, step=False), _SEQUENCE_GRADS, ("h",)),
        **_pair(
            "lstm_step_forward",
            _draw_recurrent(4, step=True),
            ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db"),
            ("next_h", "next_c"),
        ),
        **_pair("lstm_forward", _draw_recurrent(4, step=False), _SEQUENCE_GRADS, ("h",)),
        **_pair("word_embedding_forward", _draw_embedding, ("dW",)),
        **_pair("temporal_affine_forward", _draw_temporal_affine, _AFFINE_GRADS),
        "temporal_softmax_loss": HiddenCase(
            "loss", ("temporal_softmax_loss",), _draw_temporal_loss, layers.temporal_softmax_loss
        ),
        **{
            rule: HiddenCase(
                "update", (rule,), _draw_update(rule), getattr(optim, rule), state=_STATE[rule]
            )
            for rule in ("sgd_momentum", "rmsprop", "adam")
        },
        "saliency_maps": HiddenCase(
            "model", ("saliency_maps",), _draw_saliency, viz.saliency_maps, outputs=("saliency",)
        ),
        "class_visualisation_step": HiddenCase(
            "model",
            ("class_visualisation_step",),
            _draw_class_step,
            viz.class_visualisation_step,
            outputs=("new_img",),
        ),
        "make_fooling_image": HiddenCase(
            "model",
            ("make_fooling_image",),
            _draw_fooling,
            viz.make_fooling_image,
            outputs=("X_fooling", "steps"),
        ),
    }
)
