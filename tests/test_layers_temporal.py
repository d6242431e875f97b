"""Tests for course/layers/temporal.py: word embedding, temporal affine, temporal softmax loss.

Gradients against centred differences (relative error below 1e-7 in
float64), what the maths says on hand-computed examples, dtypes, purity,
and clear errors.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from layer_testing import assert_keeps_dtype_and_inputs

from course.gradcheck import gradient_errors, numerical_gradient, rel_error
from course.layers.temporal import (
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
    word_embedding_backward,
    word_embedding_forward,
)

QUALITY_BAR = 1e-7

# ---------------------------------------------------------------------------
# Gradients against centred differences (float64)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("N, T, V, D", [(3, 4, 5, 2), (1, 1, 3, 4), (2, 7, 2, 3)])
def test_word_embedding_gradient(N, T, V, D):
    rng = np.random.default_rng(8)
    x = rng.integers(0, V, size=(N, T))
    W = rng.standard_normal((V, D))
    errors = gradient_errors(word_embedding_forward, word_embedding_backward, [x, W])
    assert list(errors) == ["d1"] and errors["d1"] < QUALITY_BAR, errors


@pytest.mark.parametrize("N, T, D, M", [(3, 4, 5, 6), (1, 1, 3, 2), (2, 5, 4, 4)])
def test_temporal_affine_gradients(N, T, D, M):
    rng = np.random.default_rng(9)
    inputs = [rng.standard_normal((N, T, D)), rng.standard_normal((D, M)), rng.standard_normal(M)]
    errors = gradient_errors(temporal_affine_forward, temporal_affine_backward, inputs)
    assert len(errors) == 3 and max(errors.values()) < QUALITY_BAR, errors


@pytest.mark.parametrize("N, T, V", [(3, 4, 5), (1, 1, 3), (2, 6, 4)])
def test_temporal_softmax_loss_gradient(N, T, V):
    rng = np.random.default_rng(10)
    x = rng.standard_normal((N, T, V))
    y = rng.integers(0, V, size=(N, T))
    mask = rng.random((N, T)) < 0.7
    mask[0, 0] = True
    _, dx = temporal_softmax_loss(x, y, mask)
    numeric = numerical_gradient(lambda s: temporal_softmax_loss(s, y, mask)[0], x)
    assert rel_error(dx, numeric) < QUALITY_BAR


# ---------------------------------------------------------------------------
# float32 in, float32 out; nothing is mutated
# ---------------------------------------------------------------------------


def all_layers(dtype, seed=14):
    """(name, forward, backward, inputs) for every layer pair of course/layers/temporal.py."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, 4, 5)).astype(dtype)
    return [
        (
            "word_embedding",
            word_embedding_forward,
            word_embedding_backward,
            (rng.integers(0, 7, size=(3, 4)), rng.standard_normal((7, 5)).astype(dtype)),
        ),
        (
            "temporal_affine",
            temporal_affine_forward,
            temporal_affine_backward,
            (x, rng.standard_normal((5, 2)).astype(dtype), np.zeros(2, dtype)),
        ),
    ]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("index", range(2), ids=lambda i: all_layers(np.float64)[i][0])
def test_layers_keep_dtype_and_do_not_mutate(index, dtype):
    assert_keeps_dtype_and_inputs(*all_layers(dtype)[index], dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_temporal_softmax_loss_keeps_dtype_and_does_not_mutate(dtype):
    rng = np.random.default_rng(16)
    x = rng.standard_normal((2, 3, 4)).astype(dtype)
    y = rng.integers(0, 4, size=(2, 3))
    mask = np.array([[True, False, True], [True, True, False]])
    copies = (x.copy(), y.copy(), mask.copy())
    loss, dx = temporal_softmax_loss(x, y, mask)
    assert isinstance(loss, float) and dx.dtype == dtype
    for original, copy in zip((x, y, mask), copies, strict=True):
        np.testing.assert_array_equal(original, copy)


# ---------------------------------------------------------------------------
# Word embedding and temporal softmax loss: what the maths says
# ---------------------------------------------------------------------------


def test_word_embedding_picks_rows_and_accumulates_repeated_words():
    W = np.arange(12.0).reshape(4, 3)  # (V, D)
    x = np.array([[2, 0, 2], [2, 3, 0]])  # word 2 three times, word 1 never
    out, cache = word_embedding_forward(x, W)
    np.testing.assert_array_equal(out, W[x])
    assert not np.shares_memory(out, W)
    dout = np.ones((2, 3, 3))
    dout[1, 0] = 10.0
    dW = word_embedding_backward(dout, cache)
    np.testing.assert_array_equal(dW, [[2, 2, 2], [0, 0, 0], [12, 12, 12], [1, 1, 1]])


def test_temporal_softmax_loss_of_a_hand_computed_example():
    """Uniform scores: each unmasked step costs log(V); the sum is divided by N."""
    x = np.zeros((2, 3, 4))
    y = np.array([[0, 1, 2], [3, 0, 1]])
    mask = np.array([[True, True, True], [True, False, False]])
    loss, dx = temporal_softmax_loss(x, y, mask)
    assert loss == pytest.approx(4 * np.log(4) / 2, rel=1e-15)
    expected = np.full((2, 3, 4), 0.25 / 2)
    expected[np.arange(2)[:, None], np.arange(3), y] -= 1 / 2
    expected[~mask] = 0
    np.testing.assert_allclose(dx, expected, rtol=0, atol=1e-16)


def test_temporal_softmax_loss_honours_the_mask():
    rng = np.random.default_rng(17)
    x = rng.standard_normal((3, 5, 6))
    y = rng.integers(0, 6, size=(3, 5))
    mask = np.arange(5) < np.array([5, 2, 3])[:, None]
    loss, dx = temporal_softmax_loss(x, y, mask)
    np.testing.assert_array_equal(dx[~mask], 0.0)
    changed = x.copy()
    changed[~mask] = rng.standard_normal((int((~mask).sum()), 6)) * 50
    other_y = np.where(mask, y, (y + 1) % 6)
    loss_changed, dx_changed = temporal_softmax_loss(changed, other_y, mask)
    assert loss_changed == pytest.approx(loss, rel=1e-14)
    np.testing.assert_allclose(dx_changed, dx, rtol=0, atol=1e-16)
    full_loss, _ = temporal_softmax_loss(x, y, np.ones_like(mask))
    assert full_loss > loss
    no_loss, no_dx = temporal_softmax_loss(x, y, np.zeros_like(mask))
    assert no_loss == 0.0 and not no_dx.any()


def test_temporal_softmax_loss_is_averaged_over_the_batch_not_the_tokens():
    """Repeating the batch leaves the loss as it is; doubling the tokens doubles it."""
    rng = np.random.default_rng(18)
    x = rng.standard_normal((2, 3, 4))
    y = rng.integers(0, 4, size=(2, 3))
    mask = np.array([[True, True, False], [True, False, False]])
    loss, _ = temporal_softmax_loss(x, y, mask)
    loss_twice, _ = temporal_softmax_loss(
        np.concatenate([x, x]), np.concatenate([y, y]), np.concatenate([mask, mask])
    )
    assert loss_twice == pytest.approx(loss, rel=1e-14)
    longer, _ = temporal_softmax_loss(
        np.concatenate([x, x], axis=1),
        np.concatenate([y, y], axis=1),
        np.concatenate([mask, mask], axis=1),
    )
    assert longer == pytest.approx(2 * loss, rel=1e-14)


@pytest.mark.parametrize("V", [10, 1000])
def test_initial_loss_is_log_v_per_unmasked_token(V):
    """Small random scores: every unmasked token costs about log(V); divided by N."""
    rng = np.random.default_rng(19)
    N, T = 50, 8
    x = 0.001 * rng.standard_normal((N, T, V))
    y = rng.integers(0, V, size=(N, T))
    mask = np.arange(T) < rng.integers(1, T + 1, size=N)[:, None]
    loss, _ = temporal_softmax_loss(x, y, mask)
    assert loss == pytest.approx(np.log(V) * mask.sum() / N, rel=1e-3)


def test_temporal_softmax_loss_survives_large_scores():
    x = np.array([[[1000.0, 0.0, -1000.0], [0.0, 2000.0, 1.0]]])  # (1, 2, 3)
    y = np.array([[0, 2]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, dx = temporal_softmax_loss(x, y, np.array([[True, True]]))
    assert loss == pytest.approx(1999.0)
    assert np.all(np.isfinite(dx))


def test_temporal_affine_applies_the_same_layer_at_every_step():
    rng = np.random.default_rng(20)
    x, w, b = rng.standard_normal((3, 4, 5)), rng.standard_normal((5, 2)), rng.standard_normal(2)
    out, _ = temporal_affine_forward(x, w, b)
    np.testing.assert_allclose(out, np.einsum("ntd,dm->ntm", x, w) + b, rtol=1e-13, atol=1e-14)


# ---------------------------------------------------------------------------
# Clear errors
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "backward, forward, inputs, upstream, match",
    [
        (
            temporal_affine_backward,
            temporal_affine_forward,
            [np.zeros((2, 3, 4)), np.zeros((4, 6)), np.zeros(6)],
            np.zeros((2, 3)),
            r"temporal_affine_backward: dout has shape \(2, 3\); expected \(2, 3, 6\)",
        ),
        (
            word_embedding_backward,
            word_embedding_forward,
            [np.zeros((2, 3), dtype=int), np.zeros((4, 5))],
            np.zeros((2, 3, 4)),
            r"word_embedding_backward: dout has shape \(2, 3, 4\); expected \(2, 3, 5\)",
        ),
    ],
)
def test_backward_refuses_upstream_gradient_of_the_wrong_shape(
    backward, forward, inputs, upstream, match
):
    _, cache = forward(*inputs)
    with pytest.raises(ValueError, match=match):
        backward(upstream, cache)


@pytest.mark.parametrize(
    "x, W, error, match",
    [
        (
            np.array([[0, 5]]),
            np.zeros((5, 3)),
            ValueError,
            r"word_embedding_forward: x must hold indices in \[0, 5\) for a vocabulary of V = 5; "
            r"got values from 0 to 5",
        ),
        (np.array([[-1, 2]]), np.zeros((5, 3)), ValueError, r"got values from -1 to 2"),
        (
            np.array([[0.0, 1.0]]),
            np.zeros((5, 3)),
            TypeError,
            r"x has dtype float64; expected integer word indices in \[0, 5\)",
        ),
        (
            np.array([0, 1]),
            np.zeros((5, 3)),
            ValueError,
            r"x has 1 dims \(2,\); expected 2 \(N, T\)",
        ),
        (np.array([[0, 1]]), np.zeros((5, 3), dtype=int), TypeError, r"W has dtype int64"),
        (np.array([[0, 1]]), np.zeros(5), ValueError, r"W has 1 dims \(5,\); expected 2 \(V, D\)"),
    ],
)
def test_word_embedding_forward_bad_inputs(x, W, error, match):
    with pytest.raises(error, match=match):
        word_embedding_forward(x, W)


@pytest.mark.parametrize(
    "x, w, b, match",
    [
        (
            np.zeros((2, 12)),
            np.zeros((12, 3)),
            np.zeros(3),
            r"x has 2 dims \(2, 12\); expected 3 \(N, T, D\)",
        ),
        (
            np.zeros((2, 3, 4)),
            np.zeros((5, 3)),
            np.zeros(3),
            r"w has shape \(5, 3\); expected \(D, M\) with D = 4 to match x of shape \(2, 3, 4\)",
        ),
        (
            np.zeros((2, 3, 4)),
            np.zeros((4, 3)),
            np.zeros(4),
            r"b has shape \(4,\); expected \(M,\) = \(3,\)",
        ),
    ],
)
def test_temporal_affine_forward_bad_inputs(x, w, b, match):
    with pytest.raises(ValueError, match=match):
        temporal_affine_forward(x, w, b)


@pytest.mark.parametrize(
    "x, y, mask, error, match",
    [
        (
            np.zeros((2, 3, 4)),
            np.zeros((2, 3), dtype=int),
            np.ones((2, 3)),
            TypeError,
            r"mask must be a boolean numpy array, got float64; build it with a comparison",
        ),
        (
            np.zeros((2, 3, 4)),
            np.zeros((2, 3), dtype=int),
            np.ones((3, 2), dtype=bool),
            ValueError,
            r"mask has shape \(3, 2\); expected \(N, T\) = \(2, 3\)",
        ),
        (
            np.zeros((2, 3, 4)),
            np.full((2, 3), 4),
            np.ones((2, 3), dtype=bool),
            ValueError,
            r"y must hold indices in \[0, 4\)",
        ),
        (
            np.zeros((2, 3, 4)),
            np.zeros((2, 2), dtype=int),
            np.ones((2, 3), dtype=bool),
            ValueError,
            r"y has shape \(2, 2\); expected \(N, T\) = \(2, 3\)",
        ),
        (
            np.zeros((6, 4)),
            np.zeros((2, 3), dtype=int),
            np.ones((2, 3), dtype=bool),
            ValueError,
            r"x has 2 dims \(6, 4\); expected 3 \(N, T, V\) scores",
        ),
        (
            np.zeros((0, 3, 4)),
            np.zeros((0, 3), dtype=int),
            np.ones((0, 3), dtype=bool),
            ValueError,
            r"N = 0",
        ),
    ],
)
def test_temporal_softmax_loss_bad_inputs(x, y, mask, error, match):
    with pytest.raises(error, match=match):
        temporal_softmax_loss(x, y, mask)
