"""Checks for the model exercises of notebook 01: a whole fully connected net's loss.

The two functions students write, whose references are
``course.models.fc_net.two_layer_net_loss`` and ``fully_connected_net_loss``
(what ``TwoLayerNet.loss`` and ``FullyConnectedNet.loss`` call)::

    two_layer_net_loss(params, X, y=None, reg=0.0) -> scores | (loss, grads)
    fully_connected_net_loss(params, X, y=None, reg=0.0, normalization=None,
                             bn_params=None, dropout_keep_ratio=1.0,
                             dropout_seed=0) -> scores | (loss, grads)

- ``two_layer_net_loss``: affine - relu - affine - softmax with params W1
  (D, Hd), b1 (Hd,), W2 (Hd, C), b2 (C,); the loss is the mean softmax loss
  plus ``0.5 * reg * (|W1|^2 + |W2|^2)``.
- ``fully_connected_net_loss``: {affine - [batchnorm] - relu - [dropout]} x
  (L - 1) - affine - softmax, of any depth L (the number of W_i in params),
  L2 on the weights only. With y None it runs in test mode (batchnorm with
  the running averages in ``bn_params``, no dropout) and returns the scores.
  ``bn_params`` is documented state, one dict per hidden layer: in train mode
  batchnorm_forward stores new running averages in it (new arrays; the old
  ones are not written into); in test mode it is left as it was. Hidden layer
  i's dropout mask is dropout_forward's with ``'seed': (dropout_seed, i)``.

Both return scores (N, C) in the params' dtype when y is None, else
``(loss, grads)``: loss a number, grads keyed like params, each of its
parameter's dtype. Every case is first run in test mode (the scores), then
in train mode (the loss, then every gradient in the order backprop reaches
them, so the first wrong one names the layer where the mistake is). Values
are compared with the reference on the same numbers in float64 (VALUE_TOL,
FLOAT32_TOL for float32 params; the reference's gradients are tested against
centred differences in ``tests/test_models_fc_net.py``). A wrong value that
matches a classic mistake (the L2 term missing, not halved or on the biases,
a ReLU after the last layer, batchnorm after the ReLU, dropout at test time,
an unscaled mask...) gets a hint that names that mistake.

Dimension letters: N examples, D input size, Hd hidden size, C classes.

This module passes the ~400 lines a module aims for: it is two checks of one
model, and most of it is the cases, the hints and the forward with switches
that tells which mistake a wrong value comes from.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course import layers
from course.checks.core import (
    CheckFailed,
    by_output_kind,
    call_student,
    compare,
    compare_diagnosed,
    expect_tuple,
    report,
    require,
    require_grads,
    value_tol,
)
from course.models import fc_net

# ---------------------------------------------------------------------------
# Hints: the general one of each output, then one per diagnosed mistake
# ---------------------------------------------------------------------------

_HINTS = {
    "scores": "scores are the last affine layer's output; every hidden layer is affine, then "
    "(with normalization='batchnorm') batchnorm, then ReLU, then (with dropout_keep_ratio < 1) "
    "dropout; y None means test mode",
    "loss": "the loss is the mean softmax loss of the scores plus the L2 term of the weights",
    "W": "affine_backward of this layer gives its dW; the L2 term adds its own derivative",
    "b": "affine_backward of this layer gives its db; the biases are not regularised",
    "gamma": "batchnorm_backward of this layer gives its dgamma and dbeta, from the gradient "
    "that relu_backward (and dropout_backward) of the same layer passed down",
    "beta": "batchnorm_backward of this layer gives its dgamma and dbeta, from the gradient "
    "that relu_backward (and dropout_backward) of the same layer passed down",
}
_MISTAKES = {
    "relu on scores": "your scores match a ReLU applied after the LAST affine layer: only the "
    "hidden layers have a ReLU (scores may be negative)",
    "no relu": "your scores match a net without ReLUs: every hidden layer needs its ReLU",
    "bn after relu": "your scores match batchnorm placed after the ReLU: in each hidden layer "
    "batchnorm comes between the affine layer and the ReLU",
    "bn batch statistics": "your test-mode scores normalise with the statistics of the batch: "
    "with y None, batchnorm must run in test mode (bn_param['mode'] = 'test'), which uses the "
    "running averages",
    "dropout at test": "your test-mode scores have dropout applied: with y None dropout must "
    "run in test mode (the identity)",
    "dropout unscaled": "your dropout keeps the right units but does not scale them: inverted "
    "dropout divides the kept units by the keep probability",
    "dropout drop probability": "your dropout treats dropout_keep_ratio as the probability of "
    "DROPPING a unit: it is the probability of keeping one",
    "reg missing": "your loss matches the data loss alone: the L2 term of the weights is missing",
    "reg not halved": "your L2 term is twice too large: it is 0.5 * reg * the squared weights",
    "reg on all": "your L2 term includes the biases (or gamma, beta): regularise the weights "
    "W_i only",
    "summed over N": "your data loss is the sum over the examples: the loss is their mean",
    "dW reg missing": "this gradient lacks the derivative of the L2 term",
    "dW reg twice": "this gradient has twice the derivative of the L2 term: the derivative of "
    "0.5 * reg * |W|^2 is reg * W",
    "reg on bias": "this gradient includes an L2 term, but only the weights W_i are regularised",
}
_MASK_HINT = (
    "; this case has dropout: hidden layer i's mask (i counted from 1) must be dropout_forward's "
    "with the seed the docstring gives, in train mode only"
)
_BN_NOT_STORED = (
    "batchnorm_forward stores the new running averages in the bn_param dict it is given: hand "
    "it bn_params[i - 1] itself (with its 'mode' set), not a copy, so the averages reach the "
    "next call"
)
_BN_WRITTEN_INTO = (
    "the running_mean or running_var array of bn_params was written into; batchnorm_forward "
    "replaces them with new arrays, and the old arrays must stay as they were (another model "
    "or a saved checkpoint may hold them)"
)
_BN_TEST_CHANGED = (
    "test mode (y None) changed bn_params[{i}]['{key}']: the running averages are used in test "
    "mode, not updated, otherwise evaluating the model would change it"
)
_TEST_CALL_HINT = (
    "this call had y None (test mode), which returns the scores before any loss is computed"
)
_BIAS_BEFORE_BN = (
    "this bias is followed by batchnorm, which subtracts the batch mean, so a shift of the "
    "affine output changes nothing: its true gradient is zero, and affine_backward of the "
    "gradient batchnorm_backward returns gives (almost) zero"
)
_SCORES_FORM = "with y None return the scores (N, C) alone, the test-mode output; got {got}"


# ---------------------------------------------------------------------------
# The cases: seeded nets whose sizes all differ, so a transposed weight shows
# ---------------------------------------------------------------------------


def _params(
    rng: np.random.Generator, dims: list[int], normalization: str | None
) -> dict[str, np.ndarray]:
    """W_i (dims[i-1], dims[i]) by 1/sqrt(fan_in), nonzero biases (and gammas, betas)."""
    params = {}
    L = len(dims) - 1
    for i in range(1, L + 1):
        params[f"W{i}"] = rng.standard_normal((dims[i - 1], dims[i])) / np.sqrt(dims[i - 1])
        params[f"b{i}"] = 0.3 * rng.standard_normal(dims[i])
        if normalization and i < L:
            params[f"gamma{i}"] = 1 + 0.3 * rng.standard_normal(dims[i])
            params[f"beta{i}"] = 0.3 * rng.standard_normal(dims[i])
    return params


def _bn_params(rng: np.random.Generator, widths: list[int], momentum: float) -> list[dict]:
    """One state dict per hidden layer, with running averages that differ from any batch's."""
    return [
        {
            "running_mean": rng.standard_normal(d),
            "running_var": rng.uniform(0.5, 2.0, size=d),
            "momentum": momentum,
        }
        for d in widths
    ]


def _fc_case(
    label: str,
    seed: int,
    X_shape: tuple[int, ...],
    hidden: list[int],
    C: int,
    reg: float,
    normalization: str | None = None,
    keep: float = 1.0,
    dtype: type = np.float64,
) -> dict:
    """One case of the fully connected check, all of its inputs drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    D = int(np.prod(X_shape[1:]))
    params = _params(rng, [D, *hidden, C], normalization)
    X = rng.standard_normal(X_shape)
    y = rng.integers(0, C, size=X_shape[0])
    bn_params = _bn_params(rng, hidden, 0.8) if normalization else None
    for bn_param in bn_params or []:
        for key in ("running_mean", "running_var"):
            bn_param[key] = bn_param[key].astype(dtype)
    return {
        "label": label,
        "params": {k: v.astype(dtype) for k, v in params.items()},
        "X": X.astype(dtype),
        "y": y,
        "reg": reg,
        "normalization": normalization,
        "bn_params": bn_params,
        "keep": keep,
        "dropout_seed": seed + 100,
        "dtype": np.dtype(dtype),
    }


def _fully_connected_cases() -> list[dict]:
    return [
        _fc_case("3 layers", 40, (6, 3, 4), [7, 5], 4, reg=0.3),
        _fc_case(
            "batchnorm, 4 layers", 41, (8, 6), [7, 5, 6], 3, reg=0.2, normalization="batchnorm"
        ),
        _fc_case("dropout, 2 layers", 42, (7, 5), [9], 4, reg=0.1, keep=0.6),
        _fc_case(
            "batchnorm and dropout, float32",
            43,
            (9, 2, 3),
            [8, 7],
            5,
            reg=0.25,
            normalization="batchnorm",
            keep=0.7,
            dtype=np.float32,
        ),
    ]


def _two_layer_cases() -> list[dict]:
    example = _fc_case("example", 0, (3, 2, 2), [5], 3, reg=0.1)
    example["params"] = {
        "W1": np.linspace(-0.7, 0.6, 4 * 5).reshape(4, 5),
        "b1": np.linspace(-0.1, 0.2, 5),
        "W2": np.linspace(-0.4, 0.5, 5 * 3).reshape(5, 3),
        "b2": np.linspace(0.1, -0.2, 3),
    }
    example["X"] = np.linspace(-1.0, 1.0, 3 * 2 * 2).reshape(3, 2, 2)
    example["y"] = np.array([0, 2, 1])
    return [
        example,
        _fc_case("random", 31, (6, 3, 4), [7], 5, reg=0.5),
        _fc_case("float32", 32, (5, 2, 3), [8], 4, reg=0.3, dtype=np.float32),
    ]


# The loss of the worked example of two_layer_net_loss (reg 0.1), written out so that a
# change of the reference shows.
_TWO_LAYER_EXAMPLE_LOSS = 1.3325761995837264


# ---------------------------------------------------------------------------
# A forward with switches: what each classic mistake computes (for the hints)
# ---------------------------------------------------------------------------


def _forward(case: dict, mode: str, slip: str | None = None) -> np.ndarray:
    """The scores of ``case`` in float64, as the mistake ``slip`` computes them (None: right)."""
    p = {k: v.astype(np.float64) for k, v in case["params"].items()}
    L = sum(1 for key in p if key.startswith("W"))
    bn_params = [dict(b) for b in case["bn_params"] or []]
    keep = case["keep"]
    h = case["X"].astype(np.float64).reshape(len(case["X"]), -1)
    for i in range(1, L):
        h = h @ p[f"W{i}"] + p[f"b{i}"]  # (N, Hd_i)
        if slip == "bn after relu":
            h = np.maximum(h, 0)
        if case["normalization"]:
            bn_mode = "train" if slip == "bn batch statistics" else mode
            bn_param = dict(bn_params[i - 1], mode=bn_mode)
            h, _ = layers.batchnorm_forward(h, p[f"gamma{i}"], p[f"beta{i}"], bn_param)
        if slip not in ("bn after relu", "no relu"):
            h = np.maximum(h, 0)
        if keep < 1 and (mode == "train" or slip == "dropout at test"):
            rng = np.random.default_rng((case["dropout_seed"], i))
            draws = rng.random(h.shape)
            if slip == "dropout unscaled":
                h = h * (draws < keep)
            elif slip == "dropout drop probability":
                h = h * (draws < 1 - keep) / (1 - keep)
            else:
                h = h * (draws < keep) / keep
    scores = h @ p[f"W{L}"] + p[f"b{L}"]  # (N, C)
    return np.maximum(scores, 0) if slip == "relu on scores" else scores


def _loss_of(scores: np.ndarray, case: dict, slip: str | None = None) -> float:
    """The loss of ``scores`` and the case's L2 term, as the mistake ``slip`` computes it."""
    data_loss, _ = layers.softmax_loss(scores, case["y"])
    params = {k: v.astype(np.float64) for k, v in case["params"].items()}
    weights = sum(float(np.sum(v**2)) for k, v in params.items() if k.startswith("W"))
    every = sum(float(np.sum(v**2)) for v in params.values())
    reg = case["reg"]
    return {
        "reg missing": data_loss,
        "reg not halved": data_loss + reg * weights,
        "reg on all": data_loss + 0.5 * reg * every,
        "summed over N": data_loss * len(scores) + 0.5 * reg * weights,
    }.get(slip, data_loss + 0.5 * reg * weights)


def _score_suspects(case: dict, mode: str) -> list[tuple[np.ndarray, str]]:
    """The scores of every classic mistake that applies to ``case`` in ``mode``."""
    slips = ["relu on scores", "no relu"]
    if case["normalization"]:
        slips += ["bn after relu"] + (["bn batch statistics"] if mode == "test" else [])
    if case["keep"] < 1:
        slips += ["dropout at test"] if mode == "test" else ["dropout unscaled"]
        slips += [] if mode == "test" else ["dropout drop probability"]
    return [(_forward(case, mode, slip), _MISTAKES[slip]) for slip in slips]


def _loss_suspects(case: dict) -> list[tuple[np.ndarray, str]]:
    """The loss of every classic mistake of the scores or of the loss itself."""
    suspects = [
        (np.asarray(_loss_of(scores, case)), hint)
        for scores, hint in _score_suspects(case, "train")
    ]
    right = _forward(case, "train")
    for slip in ("reg missing", "reg not halved", "reg on all", "summed over N"):
        if case["reg"] > 0 or slip == "summed over N":
            suspects.append((np.asarray(_loss_of(right, case, slip)), _MISTAKES[slip]))
    return suspects


def _grad_suspects(key: str, expected: np.ndarray, case: dict) -> list[tuple[np.ndarray, str]]:
    """The gradients of the L2 slips for parameter ``key``."""
    value = case["params"][key].astype(np.float64)
    reg = case["reg"]
    if reg == 0:
        return []
    if key.startswith("W"):
        return [
            (expected - reg * value, _MISTAKES["dW reg missing"]),
            (expected + reg * value, _MISTAKES["dW reg twice"]),
        ]
    return [(expected + reg * value, _MISTAKES["reg on bias"])]


# ---------------------------------------------------------------------------
# Running one case
# ---------------------------------------------------------------------------


def _backward_order(params: dict) -> list[str]:
    """Parameter names in the order backprop reaches them: WL, bL, gamma_{L-1}, ..., W1, b1."""
    L = sum(1 for key in params if key.startswith("W"))
    order = [f"W{L}", f"b{L}"]
    for i in range(L - 1, 0, -1):
        order += [k for k in (f"gamma{i}", f"beta{i}") if k in params] + [f"W{i}", f"b{i}"]
    return order


def _reference(case: dict, y, bn_params: list[dict] | None):
    """The reference's answer for ``case`` on the same numbers in float64."""
    params64 = {k: v.astype(np.float64) for k, v in case["params"].items()}
    return fc_net.fully_connected_net_loss(
        params64,
        case["X"].astype(np.float64),
        y,
        case["reg"],
        case["normalization"],
        bn_params,
        case["keep"],
        case["dropout_seed"],
    )


def _copied_bn_params(case: dict) -> list[dict] | None:
    """A private copy of the case's bn_params, arrays included."""
    if case["bn_params"] is None:
        return None
    return [
        {k: np.copy(v) if isinstance(v, np.ndarray) else v for k, v in b.items()}
        for b in case["bn_params"]
    ]


def _run_case(name: str, student: Callable, case: dict, args_of: Callable) -> dict[str, float]:
    """Test mode (the scores), then train mode (the loss, grads and running averages)."""
    return _run_test_mode(name, student, case, args_of) | _run_train_mode(
        name, student, case, args_of
    )


def _run_test_mode(
    name: str, student: Callable, case: dict, args_of: Callable
) -> dict[str, float]:
    """y None: the scores, and bn_params left as they were."""
    label = case["label"]
    bn_student = _copied_bn_params(case)
    try:
        scores = call_student(name, student, *args_of(case, None, bn_student), state_args=(5,))
    except CheckFailed as failure:
        if failure.__cause__ is None:  # not implemented, out of time: nothing to add
            raise
        raise CheckFailed(f"{failure}. Hint: {_TEST_CALL_HINT}") from failure.__cause__
    if not isinstance(scores, np.ndarray):
        got = type(scores).__name__
        raise CheckFailed(f"{name}: scores ({label}): " + _SCORES_FORM.format(got=got))
    output = f"scores ({label})"
    error = compare_diagnosed(
        name,
        output,
        scores,
        _reference(case, None, _copied_bn_params(case)),
        value_tol(case["dtype"]),
        _HINTS["scores"],
        _score_suspects(case, "test"),
        dtype=case["dtype"],
    )
    for i, (given, after) in enumerate(
        zip(case["bn_params"] or [], bn_student or [], strict=True)
    ):
        for key in ("running_mean", "running_var"):
            kept = isinstance(after.get(key), np.ndarray) and np.array_equal(
                after[key], given[key]
            )
            require(name, kept, _BN_TEST_CHANGED.format(i=i, key=key))
    return {output: error}


def _run_train_mode(
    name: str, student: Callable, case: dict, args_of: Callable
) -> dict[str, float]:
    """y given: the loss, every gradient in backward order, the running averages."""
    label, tol = case["label"], value_tol(case["dtype"])
    bn_student = _copied_bn_params(case)
    passed = [{k: b[k] for k in ("running_mean", "running_var")} for b in bn_student or []]
    result = call_student(name, student, *args_of(case, case["y"], bn_student), state_args=(5,))
    loss, grads = expect_tuple(name, result, ("loss", "grads"), name)
    bn_reference = _copied_bn_params(case)
    expected_loss, expected_grads = _reference(case, case["y"], bn_reference)
    if label == "example":
        expected_loss = _TWO_LAYER_EXAMPLE_LOSS
    hint = _HINTS["loss"] + (_MASK_HINT if case["keep"] < 1 else "")
    errors = {
        f"loss ({label})": compare_diagnosed(
            name, f"loss ({label})", loss, expected_loss, tol, hint, _loss_suspects(case)
        ),
        f"grads ({label})": _compare_grads(name, grads, expected_grads, case),
    }
    for i, (after, reference, arrays) in enumerate(
        zip(bn_student or [], bn_reference or [], passed, strict=True)
    ):
        for key in ("running_mean", "running_var"):
            output = f"bn_params[{i}][{key!r}] ({label})"
            unchanged = np.array_equal(arrays[key], case["bn_params"][i][key])
            require(name, unchanged, f"{output}: {_BN_WRITTEN_INTO}")
            if key not in after:
                raise CheckFailed(f"{name}: {output} is missing after the call. {_BN_NOT_STORED}")
            errors[output] = compare(name, output, after[key], reference[key], tol, _BN_NOT_STORED)
    return errors


def _compare_grads(name: str, grads: object, expected: dict, case: dict) -> float:
    """Every gradient against the reference's, in backward order; the largest error."""
    label, params = case["label"], case["params"]
    require_grads(name, grads, params, label)
    extra = [key for key in grads if key not in params]
    require(
        name,
        not extra,
        f"grads ({label}) has keys that params does not: {', '.join(map(repr, extra))}; "
        "grads is keyed exactly like params",
    )
    worst = 0.0
    for key in _backward_order(params):
        output = f"grads[{key!r}] ({label})"
        if key in _zero_gradients(case):
            error = _compare_zero(name, output, grads[key], key, case, expected)
        else:
            error = compare_diagnosed(
                name,
                output,
                grads[key],
                expected[key],
                value_tol(case["dtype"]),
                _HINTS[key.rstrip("0123456789")],
                _grad_suspects(key, expected[key], case),
                dtype=np.dtype(params[key].dtype),
            )
        worst = max(worst, error)
    return worst


def _zero_gradients(case: dict) -> set[str]:
    """The biases followed by batchnorm (b_i of a layer with gamma_i): their true gradient is 0."""
    layers_with_bn = [
        key.removeprefix("gamma") for key in case["params"] if key.startswith("gamma")
    ]
    return {f"b{i}" for i in layers_with_bn}


def _compare_zero(
    name: str, output: str, actual: object, key: str, case: dict, expected_grads: dict
) -> float:
    """A gradient whose true value is zero: its largest entry against the scale of dW_i.

    Rounding leaves tiny nonzero entries, which a relative error against the
    reference's own rounding would call wrong.
    """
    dtype = np.dtype(case["params"][key].dtype)
    zeros = np.zeros(case["params"][key].shape)
    compare(name, output, actual, zeros, np.inf, _BIAS_BEFORE_BN, dtype=dtype)
    layer = key.removeprefix("b")
    scale = float(np.abs(expected_grads[f"W{layer}"]).max())
    error = float(np.abs(np.asarray(actual, dtype=np.float64)).max()) / max(scale, 1e-12)
    tol = value_tol(dtype)
    require(
        name,
        error <= tol,
        f"{output} is wrong: its largest entry is {error:.1e} of dW{layer}'s largest > threshold "
        f"{tol:.0e}. Hint: {_BIAS_BEFORE_BN}",
    )
    return error


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------


def check_two_layer_net_loss(two_layer_net_loss: Callable) -> None:
    """Check ``two_layer_net_loss(params, X, y=None, reg=0.0)`` against ``TwoLayerNet.loss``.

    Cases: a worked example (its loss written out), a random net with L2, and
    a float32 net whose scores and gradients must stay float32. Each is run
    for the scores (y None), then for (loss, grads).
    """
    name = "two_layer_net_loss"
    errors: dict[str, float] = {}

    def args_of(case: dict, y, bn_params) -> tuple:
        return (case["params"], case["X"], y, case["reg"])

    for case in _two_layer_cases():
        errors |= _run_case(name, two_layer_net_loss, case, args_of)
    report(name, *by_output_kind(errors))


def check_fully_connected_net_loss(fully_connected_net_loss: Callable) -> None:
    """Check ``fully_connected_net_loss`` against ``FullyConnectedNet.loss``'s reference.

    ``fully_connected_net_loss(params, X, y=None, reg=0.0, normalization=None,
    bn_params=None, dropout_keep_ratio=1.0, dropout_seed=0)``. Cases: 3 layers
    with L2; 4 layers with batchnorm; 2 layers with dropout; batchnorm and
    dropout in float32. Each is run in test mode (the scores; bn_params left
    as they are), then in train mode (the loss, every gradient, and the
    running averages left in bn_params, as new arrays).
    """
    name = "fully_connected_net_loss"
    errors: dict[str, float] = {}

    def args_of(case: dict, y, bn_params) -> tuple:
        return (
            case["params"],
            case["X"],
            y,
            case["reg"],
            case["normalization"],
            bn_params,
            case["keep"],
            case["dropout_seed"],
        )

    for case in _fully_connected_cases():
        errors |= _run_case(name, fully_connected_net_loss, case, args_of)
    report(name, *by_output_kind(errors))
