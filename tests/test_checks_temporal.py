"""The temporal checks fail on realistic wrong implementations and pass the reference.

Each function below is a mistake students make while writing the word
embedding, the temporal affine layer or the temporal softmax loss; each
catalogue entry names the message the check must give for it: which output is
wrong and how (wrong values, wrong shape, wrong dtype, an input edited in
place, a stub). Backward mistakes are written against a correct forward of the
kind students write first, which is itself checked to pass.
"""

from __future__ import annotations

import numpy as np
import pytest
from check_catalogue import (
    WRONG,
    assert_check_fails,
    assert_check_passes_with_one_line,
    assert_distinct_mistakes,
    mistake,
    mistake_params,
    not_implemented,
)

from course import layers
from course.checks import (
    check_temporal_affine_backward,
    check_temporal_affine_forward,
    check_temporal_softmax_loss,
    check_word_embedding_backward,
    check_word_embedding_forward,
)
from course.checks.temporal import _embedding_inputs

# ---------------------------------------------------------------------------
# word_embedding_forward(x, W) -> (out, cache)
# ---------------------------------------------------------------------------


# Indexes with x.T: (T, N, D).
def word_embedding_forward_transposed(x, W):
    return W[x.T], (x, W)


# Word indices taken as starting at 1.
def word_embedding_forward_one_based(x, W):
    return W[x - 1], (x, W)


# Flattens the indices and forgets to reshape back: (N*T, D).
def word_embedding_forward_flat(x, W):
    return W[x.reshape(-1)], (x, W)


# One-hot rows times W: right values, but np.eye is float64.
def word_embedding_forward_one_hot(x, W):
    one_hot = np.eye(W.shape[0])[x]  # (N, T, V)
    return one_hot @ W, (x, W)


# Looks up the columns of W: W.T[x].
def word_embedding_forward_columns(x, W):
    return W.T[x], (x, W)


# Flattens x by assigning to its shape, which reshapes the caller's array.
def word_embedding_forward_flattens_x(x, W):
    N, T = x.shape
    x.shape = (-1,)
    return W[x].reshape(N, T, -1), (x, W)


# Forgets the cache.
def word_embedding_forward_no_cache(x, W):
    return W[x]


WORD_EMBEDDING_FORWARD_MISTAKES = [
    mistake(
        word_embedding_forward_transposed,
        match=r"out has the wrong shape: got \(4, 2, 3\), expected \(2, 4, 3\)",
        id="x-transposed",
    ),
    mistake(
        word_embedding_forward_one_based,
        match=f"out {WRONG}.* Hint: .*word indices start at 0",
        id="one-based",
    ),
    mistake(
        word_embedding_forward_flat,
        match=r"out has the wrong shape: got \(8, 3\), expected \(2, 4, 3\)",
        id="flat",
    ),
    mistake(
        word_embedding_forward_one_hot,
        match=r"out \(float32\) has dtype float64 for float32 inputs",
        id="one-hot-upcast",
    ),
    mistake(
        word_embedding_forward_columns,
        match=r"raised IndexError: index 3 is out of bounds",
        id="columns-of-W",
    ),
    mistake(
        word_embedding_forward_flattens_x,
        match=r"changed its input argument 1 in place",
        id="x-shape-assigned",
    ),
    mistake(
        word_embedding_forward_no_cache,
        match=r"must return a tuple \(out, cache\); it returned ndarray",
        id="no-cache",
    ),
    mistake(not_implemented, match=r"not_implemented is not implemented yet", id="stub"),
]


# ---------------------------------------------------------------------------
# word_embedding_backward(dout, cache) -> dW
# Written against word_embedding_forward_caching_w, whose cache is (x, W).
# ---------------------------------------------------------------------------


def word_embedding_forward_caching_w(x, W):
    """A correct forward that caches (x, W)."""
    return W[x], (x, W)


def word_embedding_backward_student(dout, cache):
    """The correct backward for the forward above."""
    x, W = cache
    dW = np.zeros_like(W)
    np.add.at(dW, x, dout)
    return dW


# dW[x] = dout: a repeated word keeps only the gradient of its last occurrence.
def word_embedding_backward_assigns(dout, cache):
    x, W = cache
    dW = np.zeros_like(W)
    dW[x] = dout
    return dW


# dW[x] += dout: buffered, so repeated words still count once.
def word_embedding_backward_buffered_add(dout, cache):
    x, W = cache
    dW = np.zeros_like(W)
    dW[x] += dout
    return dW


# Returns a gradient for the indices too: (dx, dW).
def word_embedding_backward_returns_dx(dout, cache):
    return None, word_embedding_backward_student(dout, cache)


# Averages over the batch.
def word_embedding_backward_divided_by_n(dout, cache):
    return word_embedding_backward_student(dout, cache) / dout.shape[0]


# One-hot matrix product: right values, but np.eye is float64.
def word_embedding_backward_one_hot(dout, cache):
    x, W = cache
    V, D = W.shape
    one_hot = np.eye(V)[x.reshape(-1)]  # (N*T, V)
    return one_hot.T @ dout.reshape(-1, D)  # (V, N*T) @ (N*T, D)


# dW = W; dW[:] = 0 zeroes the embedding matrix in the cache.
def word_embedding_backward_aliases_w(dout, cache):
    x, W = cache
    dW = W
    dW[:] = 0
    np.add.at(dW, x, dout)
    return dW


# Sums dout like a bias gradient.
def word_embedding_backward_like_bias(dout, cache):
    return dout.sum(axis=(0, 1))


# np.add.at with x.T: the indices do not line up with dout.
def word_embedding_backward_x_transposed(dout, cache):
    x, W = cache
    dW = np.zeros_like(W)
    np.add.at(dW, x.T, dout)
    return dW


_EMBED = word_embedding_forward_caching_w
WORD_EMBEDDING_BACKWARD_MISTAKES = [
    mistake(
        _EMBED,
        word_embedding_backward_assigns,
        match=f"dW {WRONG}.* Hint: .*keep only ONE occurrence of a repeated word",
        id="dW[x]=dout",
    ),
    mistake(
        _EMBED,
        word_embedding_backward_buffered_add,
        match=f"dW {WRONG}.* Hint: .*keep only ONE occurrence",
        id="dW[x]+=dout",
    ),
    mistake(
        _EMBED,
        word_embedding_backward_returns_dx,
        match=r"dW should be a numpy array of shape \(6, 3\), got tuple",
        id="returns-dx-too",
    ),
    mistake(
        _EMBED,
        word_embedding_backward_divided_by_n,
        match=f"dW {WRONG}.* Hint: .*nothing is averaged here",
        id="divided-by-N",
    ),
    mistake(
        _EMBED,
        word_embedding_backward_one_hot,
        match=r"dW \(float32\) has dtype float64 for float32 inputs",
        id="one-hot-upcast",
    ),
    mistake(
        _EMBED,
        word_embedding_backward_aliases_w,
        match=r"changed its input argument 2 in place",
        id="dW-aliases-W",
    ),
    mistake(
        _EMBED,
        word_embedding_backward_like_bias,
        match=r"dW has the wrong shape: got \(3,\), expected \(6, 3\)",
        id="summed-like-a-bias",
    ),
    mistake(
        _EMBED,
        word_embedding_backward_x_transposed,
        match=r"word_embedding_backward_x_transposed raised ValueError: ",
        id="x-transposed",
    ),
    mistake(_EMBED, not_implemented, match=r"is not implemented yet", id="stub"),
]


# ---------------------------------------------------------------------------
# temporal_affine_forward(x, w, b) -> (out, cache)
# ---------------------------------------------------------------------------


# Flattens a time-major view and reshapes back batch-major: mixes the sequences.
def temporal_affine_forward_mixed_reshape(x, w, b):
    N, T, D = x.shape
    out = (x.transpose(1, 0, 2).reshape(N * T, D) @ w).reshape(N, T, -1) + b
    return out, (x, w)


# Reshapes the output time-major: (T, N, M).
def temporal_affine_forward_time_major_out(x, w, b):
    N, T, D = x.shape
    out = (x.transpose(1, 0, 2).reshape(T * N, D) @ w).reshape(T, N, -1) + b
    return out, (x, w)


# Forgets the bias.
def temporal_affine_forward_no_bias(x, w, b):
    N, T, D = x.shape
    return (x.reshape(N * T, D) @ w).reshape(N, T, -1), (x, w)


# Forgets to reshape back: (N*T, M).
def temporal_affine_forward_flat(x, w, b):
    N, T, D = x.shape
    return x.reshape(N * T, D) @ w + b, (x, w)


# Fills a float64 np.zeros step by step.
def temporal_affine_forward_zeros_upcast(x, w, b):
    N, T, D = x.shape
    out = np.zeros((N, T, w.shape[1]))
    for t in range(T):
        out[:, t] = x[:, t] @ w + b
    return out, (x, w)


# Flattens x by assigning to its shape.
def temporal_affine_forward_flattens_x(x, w, b):
    N, T, D = x.shape
    x.shape = (N * T, D)
    return (x @ w + b).reshape(N, T, -1), (x, w)


# w.T: the weights read the wrong way round.
def temporal_affine_forward_w_transposed(x, w, b):
    N, T, D = x.shape
    return (x.reshape(N * T, D) @ w.T).reshape(N, T, -1) + b, (x, w)


TEMPORAL_AFFINE_FORWARD_MISTAKES = [
    mistake(temporal_affine_forward_mixed_reshape, match=f"out {WRONG}", id="mixed-reshape"),
    mistake(
        temporal_affine_forward_time_major_out,
        match=r"out has the wrong shape: got \(3, 2, 3\), expected \(2, 3, 3\)",
        id="time-major-out",
    ),
    mistake(
        temporal_affine_forward_no_bias,
        match=f"out {WRONG}.* Hint: .*the bias b is missing",
        id="no-bias",
    ),
    mistake(
        temporal_affine_forward_flat,
        match=r"out has the wrong shape: got \(6, 3\), expected \(2, 3, 3\)",
        id="not-reshaped-back",
    ),
    mistake(
        temporal_affine_forward_zeros_upcast,
        match=r"out \(float32\) has dtype float64 for float32 inputs",
        id="float64-zeros-upcast",
    ),
    mistake(
        temporal_affine_forward_flattens_x,
        match=r"changed its input argument 1 in place",
        id="x-shape-assigned",
    ),
    mistake(
        temporal_affine_forward_w_transposed,
        match=r"raised ValueError: matmul",
        id="w-transposed",
    ),
    mistake(not_implemented, match=r"not_implemented is not implemented yet", id="stub"),
]


# ---------------------------------------------------------------------------
# temporal_affine_backward(dout, cache) -> (dx, dw, db); cache = (x, w) from the reference
# ---------------------------------------------------------------------------


def _affine_grads(dout, cache):
    x, w = cache
    N, T, D = x.shape
    dout_flat = dout.reshape(N * T, -1)
    dx = (dout_flat @ w.T).reshape(N, T, D)
    return dx, x.reshape(N * T, D).T @ dout_flat, dout_flat.sum(axis=0)


# db summed over the batch only: (T, M).
def temporal_affine_backward_db_over_n(dout, cache):
    dx, dw, _ = _affine_grads(dout, cache)
    return dx, dw, dout.sum(axis=0)


# db averaged instead of summed.
def temporal_affine_backward_db_mean(dout, cache):
    dx, dw, _ = _affine_grads(dout, cache)
    return dx, dw, dout.mean(axis=(0, 1))


# dw averaged over the N*T rows.
def temporal_affine_backward_dw_mean(dout, cache):
    dx, dw, db = _affine_grads(dout, cache)
    return dx, dw / (dout.shape[0] * dout.shape[1]), db


# dx left flat: (N*T, D).
def temporal_affine_backward_dx_flat(dout, cache):
    dx, dw, db = _affine_grads(dout, cache)
    return dx.reshape(-1, dx.shape[2]), dw, db


# dw pairs time-major x rows with batch-major dout rows.
def temporal_affine_backward_dw_mixed(dout, cache):
    x, w = cache
    N, T, D = x.shape
    dx, _, db = _affine_grads(dout, cache)
    dw = x.transpose(1, 0, 2).reshape(N * T, D).T @ dout.reshape(N * T, -1)
    return dx, dw, db


# Flattens dout by assigning to its shape.
def temporal_affine_backward_flattens_dout(dout, cache):
    x, w = cache
    N, T, D = x.shape
    dout.shape = (N * T, -1)
    return (dout @ w.T).reshape(N, T, D), x.reshape(N * T, D).T @ dout, dout.sum(axis=0)


# Fills dx into a float64 np.zeros.
def temporal_affine_backward_zeros_upcast(dout, cache):
    dx, dw, db = _affine_grads(dout, cache)
    dx64 = np.zeros(dx.shape)
    dx64[:] = dx
    return dx64, dw, db


# Forgets the transpose of w in dx.
def temporal_affine_backward_dx_no_transpose(dout, cache):
    x, w = cache
    N, T, D = x.shape
    _, dw, db = _affine_grads(dout, cache)
    return (dout.reshape(N * T, -1) @ w).reshape(N, T, D), dw, db


_AFFINE = layers.temporal_affine_forward
TEMPORAL_AFFINE_BACKWARD_MISTAKES = [
    mistake(
        _AFFINE,
        temporal_affine_backward_db_over_n,
        match=r"db has the wrong shape: got \(4, 6\), expected \(6,\)",
        id="db-not-summed-over-t",
    ),
    mistake(
        _AFFINE,
        temporal_affine_backward_db_mean,
        match=f"db {WRONG}.* Hint: .*not a mean",
        id="db-mean",
    ),
    mistake(
        _AFFINE,
        temporal_affine_backward_dw_mean,
        match=f"dw {WRONG}.* Hint: .*not a mean",
        id="dw-mean",
    ),
    mistake(
        _AFFINE,
        temporal_affine_backward_dx_flat,
        match=r"dx has the wrong shape: got \(12, 5\), expected \(3, 4, 5\)",
        id="dx-flat",
    ),
    mistake(_AFFINE, temporal_affine_backward_dw_mixed, match=f"dw {WRONG}", id="dw-mixed-rows"),
    mistake(
        _AFFINE,
        temporal_affine_backward_flattens_dout,
        match=r"changed its input argument 1 in place",
        id="dout-shape-assigned",
    ),
    mistake(
        _AFFINE,
        temporal_affine_backward_zeros_upcast,
        match=r"dx \(float32\) has dtype float64 for float32 inputs",
        id="float64-zeros-upcast",
    ),
    mistake(
        _AFFINE,
        temporal_affine_backward_dx_no_transpose,
        match=r"raised ValueError: matmul",
        id="dx-no-transpose",
    ),
    mistake(_AFFINE, not_implemented, match=r"is not implemented yet", id="stub"),
]


# ---------------------------------------------------------------------------
# temporal_softmax_loss(x, y, mask) -> (loss, dx)
# ---------------------------------------------------------------------------


def _softmax_pieces(x, y):
    """Log-probabilities (N*T, V), probabilities, flat targets: what students get right."""
    N, T, V = x.shape
    flat = x.reshape(N * T, V)
    shifted = flat - flat.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return log_probs, np.exp(log_probs), y.reshape(N * T)


def _picked(log_probs, y_flat):
    return log_probs[np.arange(len(y_flat)), y_flat]


def _dx(probs, y_flat, mask, shape, divide_by):
    dx = probs.copy()
    dx[np.arange(len(y_flat)), y_flat] -= 1
    dx *= mask.reshape(-1, 1)
    return (dx / divide_by).reshape(shape)


# Ignores the mask: the padding counts in the loss and the gradient.
def temporal_softmax_loss_ignores_mask(x, y, mask):
    N = x.shape[0]
    log_probs, probs, y_flat = _softmax_pieces(x, y)
    loss = -_picked(log_probs, y_flat).sum() / N
    return loss, _dx(probs, y_flat, np.ones_like(mask), x.shape, N)


# Averages over the unmasked tokens instead of the batch.
def temporal_softmax_loss_mean_over_tokens(x, y, mask):
    log_probs, probs, y_flat = _softmax_pieces(x, y)
    tokens = mask.sum()
    loss = -(_picked(log_probs, y_flat) * mask.reshape(-1)).sum() / tokens
    return loss, _dx(probs, y_flat, mask, x.shape, tokens)


# Averages over all N*T positions.
def temporal_softmax_loss_mean_over_positions(x, y, mask):
    log_probs, probs, y_flat = _softmax_pieces(x, y)
    loss = -(_picked(log_probs, y_flat) * mask.reshape(-1)).mean()
    return loss, _dx(probs, y_flat, mask, x.shape, y_flat.size)


# Masks the loss but not the gradient.
def temporal_softmax_loss_dx_unmasked(x, y, mask):
    N = x.shape[0]
    log_probs, probs, y_flat = _softmax_pieces(x, y)
    loss = -(_picked(log_probs, y_flat) * mask.reshape(-1)).sum() / N
    return loss, _dx(probs, y_flat, np.ones_like(mask), x.shape, N)


# No max shift: exp overflows for large scores.
def temporal_softmax_loss_no_shift(x, y, mask):
    N, T, V = x.shape
    flat = x.reshape(N * T, V)
    probs = np.exp(flat) / np.exp(flat).sum(axis=1, keepdims=True)
    y_flat = y.reshape(-1)
    loss = -(np.log(_picked(probs, y_flat)) * mask.reshape(-1)).sum() / N
    return loss, _dx(probs, y_flat, mask, x.shape, N)


# Forgets to divide the gradient by N.
def temporal_softmax_loss_dx_not_divided(x, y, mask):
    N = x.shape[0]
    log_probs, probs, y_flat = _softmax_pieces(x, y)
    loss = -(_picked(log_probs, y_flat) * mask.reshape(-1)).sum() / N
    return loss, _dx(probs, y_flat, mask, x.shape, 1)


# Multiplies by mask.astype(float): a float64 array that upcasts float32 scores.
def temporal_softmax_loss_float_mask(x, y, mask):
    N = x.shape[0]
    log_probs, probs, y_flat = _softmax_pieces(x, y)
    weights = mask.astype(float).reshape(-1, 1)
    loss = -(_picked(log_probs, y_flat) * weights[:, 0]).sum() / N
    dx = probs.copy()
    dx[np.arange(len(y_flat)), y_flat] -= 1
    return loss, (dx * weights / N).reshape(x.shape)


# Shifts the caller's scores in place.
def temporal_softmax_loss_shifts_x_in_place(x, y, mask):
    N, T, V = x.shape
    x -= x.max(axis=2, keepdims=True)
    log_probs = (x - np.log(np.exp(x).sum(axis=2, keepdims=True))).reshape(N * T, V)
    y_flat = y.reshape(-1)
    loss = -(_picked(log_probs, y_flat) * mask.reshape(-1)).sum() / N
    return loss, _dx(np.exp(log_probs), y_flat, mask, x.shape, N)


# Returns the loss of each sequence: (N,).
def temporal_softmax_loss_per_sequence(x, y, mask):
    N, T, _ = x.shape
    log_probs, probs, y_flat = _softmax_pieces(x, y)
    losses = -(_picked(log_probs, y_flat) * mask.reshape(-1)).reshape(N, T).sum(axis=1)
    return losses, _dx(probs, y_flat, mask, x.shape, N)


TEMPORAL_SOFTMAX_LOSS_MISTAKES = [
    mistake(
        temporal_softmax_loss_ignores_mask,
        match=f"loss \\(example\\) {WRONG}.* Hint: the padded steps counted",
        id="mask-ignored",
    ),
    mistake(
        temporal_softmax_loss_mean_over_tokens,
        match=f"loss \\(example\\) {WRONG}.*not by the number of tokens",
        id="mean-over-tokens",
    ),
    mistake(
        temporal_softmax_loss_mean_over_positions,
        match=f"loss \\(example\\) {WRONG}.* Hint: .*not by N \\* T",
        id="mean-over-positions",
    ),
    mistake(
        temporal_softmax_loss_dx_unmasked,
        match=f"dx \\(example\\) {WRONG}.* Hint: .*their gradient is 0",
        id="dx-not-masked",
    ),
    mistake(
        temporal_softmax_loss_no_shift,
        match=r"loss \(large scores\) contains NaN or inf",
        id="no-max-shift",
    ),
    mistake(
        temporal_softmax_loss_dx_not_divided,
        match=f"dx \\(example\\) {WRONG}.* Hint: .*dx is N times too large",
        id="dx-not-divided-by-N",
    ),
    mistake(
        temporal_softmax_loss_float_mask,
        match=r"dx \(float32\) has dtype float64 for float32 inputs",
        id="float-mask-upcast",
    ),
    mistake(
        temporal_softmax_loss_shifts_x_in_place,
        match=r"changed its input argument 1 in place",
        id="x-shifted-in-place",
    ),
    mistake(
        temporal_softmax_loss_per_sequence,
        match=r"loss \(example\) has the wrong shape: got \(2,\), expected \(\)",
        id="loss-per-sequence",
    ),
    mistake(not_implemented, match=r"not_implemented is not implemented yet", id="stub"),
]


# ---------------------------------------------------------------------------
# The catalogue, run against every check
# ---------------------------------------------------------------------------

R = layers
CHECKS = {
    "word_embedding_forward": (
        check_word_embedding_forward,
        (R.word_embedding_forward,),
        WORD_EMBEDDING_FORWARD_MISTAKES,
    ),
    "word_embedding_backward": (
        check_word_embedding_backward,
        (R.word_embedding_forward, R.word_embedding_backward),
        WORD_EMBEDDING_BACKWARD_MISTAKES,
    ),
    "temporal_affine_forward": (
        check_temporal_affine_forward,
        (R.temporal_affine_forward,),
        TEMPORAL_AFFINE_FORWARD_MISTAKES,
    ),
    "temporal_affine_backward": (
        check_temporal_affine_backward,
        (R.temporal_affine_forward, R.temporal_affine_backward),
        TEMPORAL_AFFINE_BACKWARD_MISTAKES,
    ),
    "temporal_softmax_loss": (
        check_temporal_softmax_loss,
        (R.temporal_softmax_loss,),
        TEMPORAL_SOFTMAX_LOSS_MISTAKES,
    ),
}

ALL_MISTAKES = mistake_params(CHECKS)


@pytest.mark.parametrize("name, student, expected", ALL_MISTAKES)
def test_check_fails_on_the_mistake(name, student, expected, capsys):
    assert_check_fails(CHECKS[name][0], name, student, expected, capsys)


@pytest.mark.parametrize("name", CHECKS)
def test_check_passes_the_reference_with_one_line(name, capsys):
    check, reference, _ = CHECKS[name]
    assert_check_passes_with_one_line(check, name, reference, capsys)


@pytest.mark.parametrize(
    "check, student",
    [
        (check_word_embedding_forward, (word_embedding_forward_caching_w,)),
        (
            check_word_embedding_backward,
            (word_embedding_forward_caching_w, word_embedding_backward_student),
        ),
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_the_correct_student_versions_the_catalogue_builds_on_pass(check, student, capsys):
    """So each catalogue failure is the mistake's, not the forward's it is paired with."""
    check(*student)
    assert capsys.readouterr().out.startswith("OK ")


@pytest.mark.parametrize("name", CHECKS)
def test_catalogue_has_six_distinct_mistakes(name):
    assert_distinct_mistakes(CHECKS[name][2])


def test_the_embedding_check_repeats_words():
    """dW[x] = dout is right when no word repeats; the check's batch must repeat some."""
    x, _ = _embedding_inputs(seed=0)
    counts = np.bincount(x.reshape(-1))
    assert counts.max() >= 3 and (counts == 0).any()
