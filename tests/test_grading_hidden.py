"""Tests for course/grading/hidden.py: hidden, seeded cases beside the visible checks."""

from __future__ import annotations

import time

import numpy as np
import pytest

from course import checks, layers, optim, viz
from course.checks.core import references_allowed
from course.grading.hidden import (
    HIDDEN_CASES,
    NO_HIDDEN_CASES,
    HiddenResult,
    run_hidden_cases,
    seed_for,
    stable_hash,
)
from course.grading.worker import Worker, WorkerDied, student_error

SEED = 20260512
STABLE_HASH_OF_AFFINE_FORWARD = 0x3100FD76FA44CFF8  # sha256, first 8 bytes


def reference(name: str):
    return getattr(layers, name, None) or getattr(optim, name, None) or getattr(viz, name)


def references(name: str) -> dict:
    """The reference of every function ``name``'s hidden cases need."""
    return {need: reference(need) for need in HIDDEN_CASES[name].needs}


def with_student(name: str, student) -> dict:
    """The references, with the student's ``name``."""
    return references(name) | {name: student}


# ---------------------------------------------------------------------------
# Realistic wrong implementations, one or more per graded function
# ---------------------------------------------------------------------------


def affine_forward_no_bias(x, w, b):
    return layers.affine_forward(x, w, np.zeros_like(b))


def affine_backward_dx_not_reshaped(dout, cache):
    dx, dw, db = layers.affine_backward(dout, cache)
    return dx.reshape(len(dx), -1), dw, db


def affine_backward_dw_transposed(dout, cache):
    x, w = cache
    dx, dw, db = layers.affine_backward(dout, cache)
    return dx, (dout.T @ x.reshape(len(x), -1)).reshape(dw.shape), db  # (M, D) read as (D, M)


def relu_forward_leaky(x):
    return np.where(x > 0, x, 0.01 * x), x


def relu_backward_by_value(dout, cache):
    return dout * np.maximum(cache, 0)  # multiplies by relu(x), not by its derivative


def affine_relu_backward_ungated_db(dout, cache):
    dx, dw, _ = layers.affine_relu_backward(dout, cache)
    return dx, dw, dout.sum(axis=0)  # db from dout, not from the gated gradient


def softmax_loss_not_averaged(x, y):
    loss, dx = layers.softmax_loss(x, y)
    return loss, dx * len(x)


def svm_loss_counts_correct_class(x, y):
    loss, dx = layers.svm_loss(x, y)
    return loss + 1.0, dx  # the j == y[i] term adds max(0, 1) = 1 per example


def batchnorm_forward_unbiased(x, gamma, beta, bn_param):
    if bn_param.get("mode") == "test":
        return layers.batchnorm_forward(x, gamma, beta, bn_param)
    out, cache = layers.batchnorm_forward(x, gamma, beta, bn_param)
    eps = bn_param.get("eps", 1e-5)
    x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0, ddof=1) + eps)
    return gamma * x_hat + beta, cache


def batchnorm_backward_constant_statistics(dout, cache):
    """dx as in test mode, also in train mode: no terms through the batch statistics."""
    mode, x_hat, gamma, inv_std = cache
    _, dgamma, dbeta = layers.batchnorm_backward(dout, cache)
    return dout * gamma * inv_std, dgamma, dbeta


def spatial_batchnorm_forward_three_channels(x, gamma, beta, bn_param):
    """Right for the visible inputs, which always have C = 3: the reshape hard-codes it."""
    N, C, H, W = x.shape
    rows = x.transpose(0, 2, 3, 1).reshape(-1, 3)  # should be reshape(-1, C)
    out, cache = layers.batchnorm_forward(rows, gamma, beta, bn_param)
    return out.reshape(N, H, W, C).transpose(0, 3, 1, 2), cache


def spatial_batchnorm_backward_per_position(dout, cache):
    dx, dgamma, dbeta = layers.spatial_batchnorm_backward(dout, cache)
    return dx, dgamma / dout.shape[0], dbeta / dout.shape[0]  # averaged instead of summed


def conv_forward_no_bias(x, w, b, conv_param):
    return layers.conv_forward_naive(x, w, np.zeros_like(b), conv_param)


def conv_backward_first_example(dout, cache):
    dx, dw, db = layers.conv_backward_naive(dout, cache)
    first = np.zeros_like(dout)
    first[0] = dout[0]
    return dx, layers.conv_backward_naive(first, cache)[1], db  # dw of example 0 only


def max_pool_forward_average(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    H_out, W_out = 1 + (H - ph) // s, 1 + (W - pw) // s
    out = np.zeros((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            out[:, :, i, j] = x[:, :, i * s : i * s + ph, j * s : j * s + pw].mean(axis=(2, 3))
    return out, (x, pool_param)


def max_pool_backward_whole_window(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            dx[:, :, i * s : i * s + ph, j * s : j * s + pw] += dout[:, :, i : i + 1, j : j + 1]
    return dx


def rnn_step_backward_dWh_transposed(dnext_h, cache):
    dx, dprev_h, dWx, dWh, db = layers.rnn_step_backward(dnext_h, cache)
    return dx, dprev_h, dWx, dWh.T, db


def rnn_forward_ignores_h0(x, h0, Wx, Wh, b):
    return layers.rnn_forward(x, np.zeros_like(h0), Wx, Wh, b)


def rnn_backward_no_carry(dh, cache):
    """Each step backpropagates only its own dh[:, t], not the gradient from step t+1."""
    steps = [layers.rnn_step_backward(dh[:, t], cache[t]) for t in range(dh.shape[1])]
    dx = np.stack([step[0] for step in steps], axis=1)
    return dx, steps[0][1], *(sum(step[k] for step in steps) for k in (2, 3, 4))


def _swap_input_and_forget(a: np.ndarray) -> np.ndarray:
    """Columns of a (.., 4Hd) gate array with the i and f blocks swapped."""
    Hd = a.shape[-1] // 4
    return np.concatenate([a[..., Hd : 2 * Hd], a[..., :Hd], a[..., 2 * Hd :]], axis=-1)


def lstm_step_forward_gates_swapped(x, prev_h, prev_c, Wx, Wh, b):
    """Slices the gates in the order f, i, o, g."""
    swapped = [_swap_input_and_forget(p) for p in (Wx, Wh, b)]
    return layers.lstm_step_forward(x, prev_h, prev_c, *swapped)


def lstm_step_backward_no_dprev_c_gate(dnext_h, dnext_c, cache):
    grads = list(layers.lstm_step_backward(dnext_h, dnext_c, cache))
    grads[2] = dnext_c * cache[6]  # dprev_c from dnext_c alone, not the total dc
    return tuple(grads)


def lstm_forward_gates_swapped(x, h0, Wx, Wh, b):
    swapped = [_swap_input_and_forget(p) for p in (Wx, Wh, b)]
    return layers.lstm_forward(x, h0, *swapped)


def lstm_backward_dh0_from_dh(dh, cache):
    dx, _, dWx, dWh, db = layers.lstm_backward(dh, cache)
    return dx, dh[:, 0], dWx, dWh, db


def word_embedding_forward_off_by_one(x, W):
    return layers.word_embedding_forward((x + 1) % len(W), W)


def word_embedding_backward_no_accumulation(dout, cache):
    x, (V, D), dtype = cache
    dW = np.zeros((V, D), dtype=dtype)
    dW[x] += dout  # a repeated word keeps only one of its gradients
    return dW


def temporal_affine_forward_no_bias(x, w, b):
    return layers.temporal_affine_forward(x, w, np.zeros_like(b))


def temporal_affine_backward_db_per_batch(dout, cache):
    dx, dw, _ = layers.temporal_affine_backward(dout, cache)
    return dx, dw, dout.sum(axis=0).mean(axis=0)  # mean over time, not sum


def temporal_softmax_loss_per_token(x, y, mask):
    loss, dx = layers.temporal_softmax_loss(x, y, mask)
    tokens = mask.sum()
    return loss * len(x) / tokens, dx * len(x) / tokens  # divides by tokens, not N


def sgd_momentum_lr_twice(w, dw, config):
    _, next_config = optim.sgd_momentum(w, dw, config)
    return w + next_config["learning_rate"] * next_config["velocity"], next_config


def rmsprop_epsilon_inside(w, dw, config):
    _, next_config = optim.rmsprop(w, dw, config)
    lr, eps = next_config["learning_rate"], next_config["epsilon"]
    return w - lr * dw / np.sqrt(next_config["cache"] + eps), next_config


def adam_no_bias_correction(w, dw, config):
    _, next_config = optim.adam(w, dw, config)
    c = next_config
    return w - c["learning_rate"] * c["m"] / (np.sqrt(c["v"]) + c["epsilon"]), c


WRONG = [
    ("affine_forward", affine_forward_no_bias, "out differs"),
    ("affine_backward", affine_backward_dx_not_reshaped, "dx has the wrong shape"),
    ("affine_backward", affine_backward_dw_transposed, "dw differs"),
    ("relu_forward", relu_forward_leaky, "out differs"),
    ("relu_backward", relu_backward_by_value, "dx differs"),
    ("affine_relu_backward", affine_relu_backward_ungated_db, "db differs"),
    ("softmax_loss", softmax_loss_not_averaged, "dx differs"),
    ("svm_loss", svm_loss_counts_correct_class, "loss differs"),
    ("batchnorm_forward", batchnorm_forward_unbiased, "out differs"),
    ("batchnorm_backward", batchnorm_backward_constant_statistics, "dx differs"),
    ("spatial_batchnorm_forward", spatial_batchnorm_forward_three_channels, "raised"),
    ("spatial_batchnorm_backward", spatial_batchnorm_backward_per_position, "dgamma differs"),
    ("conv_forward_naive", conv_forward_no_bias, "out differs"),
    ("conv_backward_naive", conv_backward_first_example, "dw differs"),
    ("max_pool_forward_naive", max_pool_forward_average, "out differs"),
    ("max_pool_backward_naive", max_pool_backward_whole_window, "dx differs"),
    ("rnn_step_backward", rnn_step_backward_dWh_transposed, "dWh differs"),
    ("rnn_forward", rnn_forward_ignores_h0, "h differs"),
    ("rnn_backward", rnn_backward_no_carry, "dx differs"),
    ("lstm_step_forward", lstm_step_forward_gates_swapped, "next_h differs"),
    ("lstm_step_backward", lstm_step_backward_no_dprev_c_gate, "dprev_c differs"),
    ("lstm_forward", lstm_forward_gates_swapped, "h differs"),
    ("lstm_backward", lstm_backward_dh0_from_dh, "dh0 differs"),
    ("word_embedding_forward", word_embedding_forward_off_by_one, "out differs"),
    ("word_embedding_backward", word_embedding_backward_no_accumulation, "dW differs"),
    ("temporal_affine_forward", temporal_affine_forward_no_bias, "out differs"),
    ("temporal_affine_backward", temporal_affine_backward_db_per_batch, "db differs"),
    ("temporal_softmax_loss", temporal_softmax_loss_per_token, "loss differs"),
    ("sgd_momentum", sgd_momentum_lr_twice, "next_w (step 1) differs"),
    ("rmsprop", rmsprop_epsilon_inside, "next_w (step 1) differs"),
    ("adam", adam_no_bias_correction, "next_w (step 1) differs"),
]


# ---------------------------------------------------------------------------
# The references pass; realistic mistakes fail
# ---------------------------------------------------------------------------


def test_every_graded_function_but_dropout_and_captioning_has_hidden_cases():
    assert {"saliency_maps", "class_visualisation_step", "make_fooling_image"} <= set(HIDDEN_CASES)
    graded = {name.removeprefix("check_") for name in checks.__all__ if name.startswith("check_")}
    assert set(HIDDEN_CASES) == graded - NO_HIDDEN_CASES
    assert NO_HIDDEN_CASES <= graded


@pytest.mark.parametrize("name", sorted(HIDDEN_CASES))
def test_the_reference_passes(name):
    result = run_hidden_cases(name, references(name), SEED)
    assert result == HiddenResult(True, result.message)
    assert result.message.startswith(f"{name}: 3 hidden cases passed")


@pytest.mark.parametrize(
    ("name", "student", "expected"), WRONG, ids=[student.__name__ for _, student, _ in WRONG]
)
def test_a_realistic_mistake_fails(name, student, expected):
    result = run_hidden_cases(name, with_student(name, student), SEED)
    assert not result.passed
    assert result.message.startswith(f"{name}: hidden case ")
    assert expected in result.message


def test_the_wrong_implementations_cover_at_least_15_functions():
    assert len({name for name, _, _ in WRONG}) >= 15


def test_a_failure_names_the_case_the_output_and_the_error_against_the_tolerance():
    result = run_hidden_cases(
        "affine_backward", with_student("affine_backward", affine_backward_dw_transposed), SEED
    )
    prefix, error = result.message.split(" dw differs (relative error ")
    assert prefix in {f"affine_backward: hidden case {k} of 3:" for k in (1, 2, 3)}
    assert error.endswith(" > 1e-07)")


def test_a_backward_is_fed_its_own_forwards_cache():
    def affine_forward(x, w, b):
        out, _ = layers.affine_forward(x, w, b)
        return out, {"x": x, "w": w}  # its own cache format

    def affine_backward(dout, cache):
        return layers.affine_backward(dout, (cache["x"], cache["w"]))

    functions = {"affine_forward": affine_forward, "affine_backward": affine_backward}
    assert run_hidden_cases("affine_backward", functions, SEED).passed


# ---------------------------------------------------------------------------
# Right only where the student can see: passes the visible check, fails hidden
# ---------------------------------------------------------------------------


def memorised(name: str, check):
    """A function that replays the reference's outputs for the inputs the visible check uses."""
    seen: dict[bytes, object] = {}

    def key(args) -> bytes:
        return b"|".join(
            np.asarray(a).tobytes() + str(np.asarray(a).dtype).encode()
            for a in args
            if isinstance(a, np.ndarray)
        )

    def recorder(*args):
        seen[key(args)] = result = reference(name)(*args)
        return result

    check(recorder)  # the student ran the check cell and copied what it expected

    def replay(*args):
        if key(args) in seen:
            return seen[key(args)]
        out, cache = reference(name)(*args)
        return np.zeros_like(out), cache

    return replay


def test_memorised_visible_outputs_pass_the_check_but_not_the_hidden_cases(capsys):
    with references_allowed():  # it replays the reference: only the grader's watch sees that
        student = memorised("affine_forward", checks.check_affine_forward)
        checks.check_affine_forward(student)
    assert "OK affine_forward" in capsys.readouterr().out
    result = run_hidden_cases("affine_forward", {"affine_forward": student}, SEED)
    assert not result.passed
    assert "out differs" in result.message


def test_a_layer_that_handles_only_the_visible_shapes_passes_the_check_but_not_hidden(capsys):
    student = spatial_batchnorm_forward_three_channels  # the visible x always has C = 3
    checks.check_spatial_batchnorm_forward(student)
    assert "OK spatial_batchnorm_forward" in capsys.readouterr().out
    result = run_hidden_cases(
        "spatial_batchnorm_forward", {"spatial_batchnorm_forward": student}, SEED
    )
    assert not result.passed


def test_an_update_rule_that_works_only_for_the_visible_shape_fails_hidden(capsys):
    def adam(w, dw, config):  # keeps its moments in (4, 5) arrays, the visible w's shape
        config = dict(config or {})
        m, v = config.get("m", np.zeros((4, 5))), config.get("v", np.zeros((4, 5)))
        config["m"], config["v"] = m, v
        return optim.adam(w, dw, config)

    with references_allowed():  # it hands its step to the reference
        checks.check_adam(adam)
    assert "OK adam" in capsys.readouterr().out
    result = run_hidden_cases("adam", {"adam": adam}, SEED)
    assert not result.passed
    assert "adam raised ValueError" in result.message


# ---------------------------------------------------------------------------
# Malformed results and exceptions: clear messages that never show the inputs
# ---------------------------------------------------------------------------


def recording_affine_forward(record: list):
    def affine_forward(x, w, b):
        record.append((x.copy(), w.copy(), b.copy()))
        return layers.affine_forward(x, w, b)

    return affine_forward


@pytest.mark.parametrize(
    ("student", "message"),
    [
        (lambda x, w, b: (np.zeros((1, 1)), None), "out has the wrong shape"),
        (lambda x, w, b: (np.full((len(x), len(b)), np.nan), None), "out contains NaN or inf"),
        (
            lambda x, w, b: (layers.affine_forward(x, w, b)[0].astype(np.float32), None),
            "out has dtype float32; expected float64, the dtype of the inputs",
        ),
        (lambda x, w, b: (x.reshape(len(x), -1) @ w + b).tolist(), "affine_forward must return"),
        (lambda x, w, b: layers.affine_forward(x, w, b)[0], "affine_forward must return"),
        (lambda x, w, b: (x, w, b), "affine_forward must return a tuple (out, cache); it"),
        (lambda x, w, b: ("out", None), "out should be a numpy array, got str"),
    ],
)
def test_a_malformed_result_fails_with_a_message_that_shows_no_input(student, message):
    record: list = []
    functions = {"affine_forward": recording_affine_forward(record)}
    run_hidden_cases("affine_forward", functions, SEED, cases=1)  # what case 1 draws
    (x, w, _), expected = record[0], layers.affine_forward(*record[0])[0]
    result = run_hidden_cases("affine_forward", {"affine_forward": student}, SEED)
    assert not result.passed
    assert result.message.startswith("affine_forward: hidden case 1 of 3: " + message)
    for secret in (x.shape, w.shape, expected.shape, f"{x.flat[0]:.3}", f"{expected.flat[0]:.3}"):
        assert str(secret) not in result.message


def test_an_exception_fails_with_its_type_and_message_only():
    def affine_forward(x, w, b):
        raise ValueError("shapes do not align")

    result = run_hidden_cases("affine_forward", {"affine_forward": affine_forward}, SEED)
    assert result == HiddenResult(
        False,
        "affine_forward: hidden case 1 of 3: affine_forward raised ValueError: "
        "shapes do not align",
    )


def test_an_exception_in_the_forward_fails_its_backward_case():
    def affine_forward(x, w, b):
        raise NotImplementedError

    functions = references("affine_backward") | {"affine_forward": affine_forward}
    result = run_hidden_cases("affine_backward", functions, SEED)
    assert result.message == (
        "affine_backward: hidden case 1 of 3: affine_forward raised NotImplementedError"
    )


def test_a_student_error_from_the_worker_shows_no_location_and_a_long_message_is_cut():
    def relu_forward(x):
        raise student_error("IndexError", "x" * 1000, "line 3 of relu_forward")

    result = run_hidden_cases("relu_forward", {"relu_forward": relu_forward}, SEED)
    assert result.message.startswith("relu_forward: hidden case 1 of 3: relu_forward raised ")
    assert "IndexError: xxx" in result.message
    assert "line 3" not in result.message
    assert len(result.message) < 250


def test_an_exception_that_names_shapes_or_values_shows_no_number():
    def affine_forward(x, w, b):
        return x @ w + b, None  # numpy names the hidden shapes in its error

    result = run_hidden_cases("affine_forward", {"affine_forward": affine_forward}, SEED)
    assert "affine_forward raised ValueError: matmul: Input operand #" in result.message
    assert not any(char.isdigit() for char in result.message.split("raised")[1])

    def affine_forward(x, w, b):
        raise ValueError(repr(x.tolist()))  # an attempt to read the hidden inputs

    result = run_hidden_cases("affine_forward", {"affine_forward": affine_forward}, SEED)
    assert result.message.startswith("affine_forward: hidden case 1 of 3: affine_forward raised")
    assert not any(char.isdigit() for char in result.message.split("raised")[1])
    assert len(result.message) < 250


def test_worker_died_propagates():
    def affine_backward(dout, cache):
        raise WorkerDied("the worker was killed (memory limit)")

    with pytest.raises(WorkerDied, match="memory limit"):
        run_hidden_cases("affine_backward", with_student("affine_backward", affine_backward), 1)


def test_the_update_rule_is_given_the_config_it_returned():
    def sgd_momentum(w, dw, config):  # forgets the velocity of the step before
        return optim.sgd_momentum(w, dw, {k: v for k, v in config.items() if k != "velocity"})

    result = run_hidden_cases("sgd_momentum", {"sgd_momentum": sgd_momentum}, SEED)
    assert "config['velocity'] (step 2) differs" in result.message


def test_an_update_rule_that_drops_a_hyperparameter_fails():
    def rmsprop(w, dw, config):
        next_w, next_config = optim.rmsprop(w, dw, config)
        return next_w, {"cache": next_config["cache"]}

    result = run_hidden_cases("rmsprop", {"rmsprop": rmsprop}, SEED)
    assert "the returned config has no 'learning_rate' (step 1)" in result.message


def test_a_batchnorm_forward_that_stores_no_running_averages_fails():
    def batchnorm_forward(x, gamma, beta, bn_param):
        return layers.batchnorm_forward(x, gamma, beta, dict(bn_param))  # updates a copy

    result = run_hidden_cases("batchnorm_forward", {"batchnorm_forward": batchnorm_forward}, SEED)
    assert "bn_param['running_mean']" in result.message


def test_bad_arguments_are_the_graders_errors():
    with pytest.raises(ValueError, match="no hidden cases for 'dropout_forward'"):
        run_hidden_cases("dropout_forward", {}, SEED)
    with pytest.raises(ValueError, match="needs the function"):
        run_hidden_cases("affine_backward", {"affine_backward": layers.affine_backward}, SEED)
    with pytest.raises(ValueError, match="seed"):
        run_hidden_cases("affine_forward", references("affine_forward"), -1)


# ---------------------------------------------------------------------------
# Seeds
# ---------------------------------------------------------------------------


def test_the_cases_are_deterministic_for_a_seed_and_differ_across_seeds():
    def drawn(seed: int) -> list:
        record: list = []
        run_hidden_cases(
            "affine_forward", {"affine_forward": recording_affine_forward(record)}, seed
        )
        return record

    first, again, other = drawn(SEED), drawn(SEED), drawn(SEED + 1)
    assert len(first) == 3
    for a, b in zip(first, again, strict=True):
        assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    assert any(
        a[0].shape != b[0].shape or not np.array_equal(a[0], b[0])
        for a, b in zip(first, other, strict=True)
    )
    shapes = {x.shape for x, _, _ in first}
    assert len(shapes) > 1  # the cases of one seed differ from each other too


def test_results_are_deterministic_for_a_seed():
    functions = with_student("affine_backward", affine_backward_dw_transposed)
    assert run_hidden_cases("affine_backward", functions, 7) == run_hidden_cases(
        "affine_backward", functions, 7
    )


def test_seed_for_depends_on_the_master_and_the_salt():
    sha = "ab" * 32
    assert seed_for(sha) == seed_for(sha)
    assert len({seed_for(sha), seed_for("cd" * 32), seed_for(sha, salt="2027")}) == 3
    assert 0 <= seed_for(sha) < 2**64
    assert stable_hash("affine_forward") == STABLE_HASH_OF_AFFINE_FORWARD  # as in any process
    with pytest.raises(TypeError):
        seed_for(None)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Through a real worker
# ---------------------------------------------------------------------------

AFFINE_CELL = """
import numpy as np

def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b  # (N, M)
    return out, (x, w, b)

def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    return dx, dw, dout.sum(axis=0)

def affine_backward_two_examples(dout, cache):  # written for the worked example's batch of 2
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x[0].reshape(-1, 1) @ dout[:1] + x[1].reshape(-1, 1) @ dout[1:2]
    return dx, dw, dout.sum(axis=0)
"""


def test_hidden_cases_run_through_a_worker():
    with Worker([AFFINE_CELL], cell_timeout=5, total_timeout=60, memory_mb=1024) as worker:
        assert [r.status for r in worker.run_cells()] == ["ok"]
        forward = worker.function("affine_forward")
        functions = {
            "affine_forward": forward,
            "affine_backward": worker.function("affine_backward"),
        }
        started = time.perf_counter()
        result = run_hidden_cases("affine_backward", functions, SEED)
        assert result.passed, result.message
        assert time.perf_counter() - started < 2.0
        only_n2 = {**functions, "affine_backward": worker.function("affine_backward_two_examples")}
        result = run_hidden_cases("affine_backward", only_n2, SEED)
        assert not result.passed
        assert "dw differs" in result.message


# ---------------------------------------------------------------------------
# Notebook 03: functions of a model, on small TinyVGGs the hidden cases draw
# ---------------------------------------------------------------------------


def _one_hot(model, y):
    dscores = np.zeros((len(y), model.num_classes))
    dscores[np.arange(len(y)), y] = 1
    return dscores


def saliency_summed_over_channels(model, X, y):
    return np.abs(model.input_gradient(X, _one_hot(model, y))).sum(axis=1)


def saliency_for_five_classes(model, X, y):
    """Right for the visible check's models (5 classes), wrong for any other."""
    dscores = np.zeros((len(y), 5))
    dscores[np.arange(len(y)), y] = 1
    return np.abs(model.input_gradient(X, dscores)).max(axis=1)


def class_step_unnormalised(model, img, target, l2_reg, learning_rate):
    g = model.input_gradient(img, _one_hot(model, [target])) - 2 * l2_reg * img
    return img + learning_rate * g


def fooling_one_step_late(model, X, target, learning_rate, max_iterations):
    X_fooling, steps = viz.make_fooling_image(model, X, target, learning_rate, max_iterations)
    p = np.exp(model.loss(X_fooling) - model.loss(X_fooling).max())
    p /= p.sum()
    g = model.input_gradient(X_fooling, _one_hot(model, [target]) - p)
    return X_fooling + learning_rate * g / np.linalg.norm(g), steps + 1


@pytest.mark.parametrize(
    ("name", "student", "expected"),
    [
        ("saliency_maps", saliency_summed_over_channels, "saliency differs"),
        ("saliency_maps", saliency_for_five_classes, "saliency_maps raised"),
        ("class_visualisation_step", class_step_unnormalised, "new_img differs"),
        ("make_fooling_image", fooling_one_step_late, "differs"),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_a_model_exercise_mistake_fails_its_hidden_cases(name, student, expected):
    result = run_hidden_cases(name, {name: student}, SEED)
    assert not result.passed and expected in result.message, result.message


def test_a_saliency_map_for_five_classes_passes_the_visible_check_but_not_hidden(capsys):
    checks.check_saliency_maps(saliency_for_five_classes)  # the visible models have 5 classes
    assert "OK saliency_maps" in capsys.readouterr().out
    assert not run_hidden_cases(
        "saliency_maps", {"saliency_maps": saliency_for_five_classes}, SEED
    ).passed


def test_the_model_cases_draw_different_architectures():
    shapes = set()
    for seed in range(6):
        model, *_ = HIDDEN_CASES["saliency_maps"].draw(np.random.default_rng(seed), 0)
        shapes.add((model.input_dim, model.stages, model.num_classes, model.normalization))
    assert len(shapes) == 6


def test_a_model_exercise_is_graded_through_a_worker():
    cell = (
        "import numpy as np\n\ndef saliency_maps(model, X, y):\n"
        "    d = np.zeros((len(y), model.num_classes))\n    d[np.arange(len(y)), y] = 1\n"
        "    return np.abs(model.input_gradient(X, d)).max(axis=1)\n"
    )
    with Worker([cell], cell_timeout=10, total_timeout=60) as worker:
        assert worker.run_cells()[0].ok
        result = run_hidden_cases(
            "saliency_maps", {"saliency_maps": worker.function("saliency_maps")}, SEED
        )
    assert result.passed, result.message
