"""The fully connected checks fail on realistic wrong implementations and pass the reference.

Every function below is a mistake students really make while writing affine,
ReLU or their sandwich; each catalogue entry names the message the check must
give for it (the output that is wrong and the kind of failure). A check that
lets one through is a defect, kept visible here as a strict xfail.
"""

from __future__ import annotations

import numpy as np
import pytest

from course import layers
from course.checks import (
    CheckFailed,
    check_affine_backward,
    check_affine_forward,
    check_affine_relu_backward,
    check_affine_relu_forward,
    check_relu_backward,
    check_relu_forward,
)
from course.checks.core import references_allowed

# ---------------------------------------------------------------------------
# affine_forward(x, w, b) -> (out, cache)
# ---------------------------------------------------------------------------


# Forgets to flatten: x is (N, d1, d2, d3), so x @ w cannot multiply.
def affine_forward_no_flatten(x, w, b):
    out = x @ w + b
    return out, (x, w)


# Flattens in Fortran order, which interleaves the examples of the batch.
def affine_forward_fortran_flatten(x, w, b):
    x_flat = x.reshape(x.shape[0], -1, order="F")
    return x_flat @ w + b, (x, w)


# Transposed reshape: reshapes to (D, N) and transposes, mixing examples.
def affine_forward_transposed_reshape(x, w, b):
    x_flat = x.reshape(-1, x.shape[0]).T  # (N, D) in shape only
    return x_flat @ w + b, (x, w)


# Forgets the bias.
def affine_forward_no_bias(x, w, b):
    x_flat = x.reshape(x.shape[0], -1)
    return x_flat @ w, (x, w)


# Column-vector convention from the lecture maths: returns (M, N), not (N, M).
def affine_forward_column_convention(x, w, b):
    x_flat = x.reshape(x.shape[0], -1)
    out = w.T @ x_flat.T + b[:, None]
    return out, (x, w)


# Fills a float64 np.zeros row by row, so float32 inputs give a float64 output.
def affine_forward_zeros_upcast(x, w, b):
    N = x.shape[0]
    out = np.zeros((N, w.shape[1]))
    for i in range(N):
        out[i] = x[i].reshape(-1) @ w + b
    return out, (x, w)


# Casts everything to float32 "for speed": float64 inputs give a float32 output.
def affine_forward_casts_to_float32(x, w, b):
    x, w, b = x.astype(np.float32), w.astype(np.float32), b.astype(np.float32)
    return x.reshape(x.shape[0], -1) @ w + b, (x, w)


# Flattens x by assigning to its shape, which reshapes the caller's array.
def affine_forward_flattens_in_place(x, w, b):
    x.shape = (x.shape[0], -1)
    return x @ w + b, (x, w)


# Forgets the cache: returns out alone.
def affine_forward_no_cache(x, w, b):
    x_flat = x.reshape(x.shape[0], -1)
    return x_flat @ w + b


# Returns the pair in the wrong order.
def affine_forward_cache_first(x, w, b):
    x_flat = x.reshape(x.shape[0], -1)
    return (x, w), x_flat @ w + b


# The stub left as it was: a body of `pass`.
def affine_forward_pass_stub(x, w, b):
    pass


# The released stub, not yet replaced.
def affine_forward_not_implemented(x, w, b):
    raise NotImplementedError


AFFINE_FORWARD_MISTAKES = [
    pytest.param(affine_forward_no_flatten, r"raised ValueError: ", id="no-flatten"),
    pytest.param(
        affine_forward_fortran_flatten,
        r"out is wrong: relative error .* Hint: the numbers of one example are not where w",
        id="fortran-flatten",
    ),
    pytest.param(
        affine_forward_transposed_reshape,
        r"out is wrong: relative error",
        id="transposed-reshape",
    ),
    pytest.param(
        affine_forward_no_bias, r"out is wrong: .* Hint: the bias is missing", id="no-bias"
    ),
    pytest.param(
        affine_forward_column_convention,
        r"out has the wrong shape: got \(3, 2\), expected \(2, 3\)",
        id="column-convention",
    ),
    pytest.param(
        affine_forward_zeros_upcast,
        r"out \(float32\) has dtype float64 for float32 inputs",
        id="float64-zeros-upcast",
    ),
    pytest.param(
        affine_forward_casts_to_float32,
        r"out has dtype float32 for float64 inputs",
        id="casts-to-float32",
    ),
    pytest.param(
        affine_forward_flattens_in_place,
        r"changed its input argument 1 in place",
        id="x-shape-assigned",
    ),
    pytest.param(
        affine_forward_no_cache,
        r"must return a tuple \(out, cache\); it returned ndarray",
        id="no-cache",
    ),
    pytest.param(
        affine_forward_cache_first,
        r"out should be a numpy array of shape \(2, 3\), got tuple",
        id="cache-first",
    ),
    pytest.param(
        affine_forward_pass_stub,
        r"must return a tuple \(out, cache\); it returned NoneType",
        id="pass-stub",
    ),
    pytest.param(
        affine_forward_not_implemented,
        r"affine_forward_not_implemented is not implemented yet",
        id="not-implemented",
    ),
]


@pytest.mark.parametrize("student, expected", AFFINE_FORWARD_MISTAKES)
def test_check_affine_forward_fails(student, expected, capsys):
    with pytest.raises(CheckFailed, match=expected) as failure:
        check_affine_forward(student)
    assert str(failure.value).startswith("affine_forward: ")
    assert "OK" not in capsys.readouterr().out


@references_allowed()  # the course's own reference is the right answer
def test_check_affine_forward_passes_reference(capsys):
    check_affine_forward(layers.affine_forward)
    out = capsys.readouterr().out
    assert out.startswith("OK affine_forward:")
    assert out.count("\n") == 1


# ---------------------------------------------------------------------------
# affine_backward(dout, cache) -> (dx, dw, db); cache = (x, w) from the reference
# ---------------------------------------------------------------------------


# dx left flat: (N, D) instead of x's shape.
def affine_backward_dx_not_reshaped(dout, cache):
    x, w = cache
    x_flat = x.reshape(x.shape[0], -1)
    return dout @ w.T, x_flat.T @ dout, dout.sum(axis=0)


# Forgets the transpose in dx; the reshape then succeeds silently on scrambled numbers.
def affine_backward_dx_missing_transpose(dout, cache):
    x, w = cache
    x_flat = x.reshape(x.shape[0], -1)
    dx = (w @ dout.T).reshape(x.shape)  # (D, N) poured into (N, d1, d2, d3)
    return dx, x_flat.T @ dout, dout.sum(axis=0)


# dw from the unflattened x: x.T of a 4-D array is (d3, d2, d1, N).
def affine_backward_dw_unflattened(dout, cache):
    x, w = cache
    dx = (dout @ w.T).reshape(x.shape)
    return dx, x.T @ dout, dout.sum(axis=0)


# dw with the factors swapped: (M, D) instead of (D, M).
def affine_backward_dw_swapped(dout, cache):
    x, w = cache
    x_flat = x.reshape(x.shape[0], -1)
    return (dout @ w.T).reshape(x.shape), dout.T @ x_flat, dout.sum(axis=0)


# Averages dw over the batch: off by a factor N.
def affine_backward_dw_divided_by_n(dout, cache):
    x, w = cache
    N = x.shape[0]
    x_flat = x.reshape(N, -1)
    return (dout @ w.T).reshape(x.shape), x_flat.T @ dout / N, dout.sum(axis=0)


# Flattens x in Fortran order for dw, pairing the wrong inputs with each weight row.
def affine_backward_dw_fortran_flatten(dout, cache):
    x, w = cache
    x_flat = x.reshape(x.shape[0], -1, order="F")
    return (dout @ w.T).reshape(x.shape), x_flat.T @ dout, dout.sum(axis=0)


# db = dout: forgets to sum over the batch.
def affine_backward_db_not_summed(dout, cache):
    x, w = cache
    x_flat = x.reshape(x.shape[0], -1)
    return (dout @ w.T).reshape(x.shape), x_flat.T @ dout, dout


# Sums db over the units instead of the batch.
def affine_backward_db_wrong_axis(dout, cache):
    x, w = cache
    x_flat = x.reshape(x.shape[0], -1)
    return (dout @ w.T).reshape(x.shape), x_flat.T @ dout, dout.sum(axis=1)


# Averages db over the batch.
def affine_backward_db_mean(dout, cache):
    x, w = cache
    x_flat = x.reshape(x.shape[0], -1)
    return (dout @ w.T).reshape(x.shape), x_flat.T @ dout, dout.mean(axis=0)


# Returns the gradients in the order (dw, dx, db).
def affine_backward_wrong_order(dout, cache):
    x, w = cache
    x_flat = x.reshape(x.shape[0], -1)
    return x_flat.T @ dout, (dout @ w.T).reshape(x.shape), dout.sum(axis=0)


# Fills in dx and dw from the scaffold and leaves db = None.
def affine_backward_db_left_none(dout, cache):
    dx, dw, db = None, None, None
    x, w = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    return dx, dw, db


# The stub left as it was.
def affine_backward_pass_stub(dout, cache):
    pass


# The released stub.
def affine_backward_not_implemented(dout, cache):
    raise NotImplementedError


# Flattens the cached x by assigning its shape: the caller's x is reshaped, and dx
# is then returned flat because "x's shape" is now (N, D).
def affine_backward_flattens_cached_x(dout, cache):
    x, w = cache
    x.shape = (x.shape[0], -1)
    dx = (dout @ w.T).reshape(x.shape)
    return dx, x.T @ dout, dout.sum(axis=0)


AFFINE_BACKWARD_MISTAKES = [
    pytest.param(
        affine_backward_dx_not_reshaped,
        r"dx has the wrong shape: got \(5, 24\), expected \(5, 2, 3, 4\)",
        id="dx-not-reshaped",
    ),
    pytest.param(
        affine_backward_dx_missing_transpose,
        r"dx is wrong: relative error",
        id="dx-missing-transpose",
    ),
    pytest.param(
        affine_backward_dw_unflattened,
        r"dw has the wrong shape: got \(4, 3, 2, 7\), expected \(24, 7\)",
        id="dw-unflattened-x",
    ),
    pytest.param(
        affine_backward_dw_swapped,
        r"dw has the wrong shape: got \(7, 24\), expected \(24, 7\)",
        id="dw-factors-swapped",
    ),
    pytest.param(
        affine_backward_dw_divided_by_n,
        r"dw is wrong: .* Hint: a parameter that every example uses collects the SUM",
        id="dw-divided-by-N",
    ),
    pytest.param(
        affine_backward_dw_fortran_flatten,
        r"dw is wrong: relative error",
        id="dw-fortran-flatten",
    ),
    pytest.param(
        affine_backward_db_not_summed,
        r"db has the wrong shape: got \(5, 7\), expected \(7,\)",
        id="db-not-summed",
    ),
    pytest.param(
        affine_backward_db_wrong_axis,
        r"db has the wrong shape: got \(5,\), expected \(7,\)",
        id="db-wrong-axis",
    ),
    pytest.param(
        affine_backward_db_mean,
        r"db is wrong: .* Hint: a parameter that every example uses collects the SUM",
        id="db-mean",
    ),
    pytest.param(
        affine_backward_wrong_order,
        r"dx has the wrong shape: got \(24, 7\)",
        id="wrong-order",
    ),
    pytest.param(
        affine_backward_db_left_none,
        r"db should be a numpy array of shape \(7,\), got NoneType",
        id="db-left-none",
    ),
    pytest.param(
        affine_backward_pass_stub,
        r"must return a tuple \(dx, dw, db\); it returned NoneType",
        id="pass-stub",
    ),
    pytest.param(
        affine_backward_not_implemented,
        r"affine_backward_not_implemented is not implemented yet",
        id="not-implemented",
    ),
    pytest.param(
        affine_backward_flattens_cached_x,
        r"changed .* in place",
        id="flattens-cached-x-in-place",
    ),
]


@pytest.mark.parametrize("student, expected", AFFINE_BACKWARD_MISTAKES)
def test_check_affine_backward_fails(student, expected, capsys):
    with pytest.raises(CheckFailed, match=expected) as failure:
        check_affine_backward(layers.affine_forward, student)
    assert str(failure.value).startswith("affine_backward: ")
    assert "OK" not in capsys.readouterr().out


@references_allowed()  # the course's own reference is the right answer
def test_check_affine_backward_passes_reference(capsys):
    check_affine_backward(layers.affine_forward, layers.affine_backward)
    out = capsys.readouterr().out
    assert out.startswith("OK affine_backward:")
    assert out.count("\n") == 1


# ---------------------------------------------------------------------------
# relu_forward(x) -> (out, cache)
# ---------------------------------------------------------------------------


# Zeroes the negatives of x in place and returns x itself.
def relu_forward_in_place(x):
    x[x < 0] = 0
    return x, x


# np.max (a reduction over axis 0) where np.maximum (elementwise) was meant.
def relu_forward_max_reduction(x):
    out = np.max(x, 0)
    return out, x


# Returns the mask x > 0 instead of the values.
def relu_forward_returns_mask(x):
    out = x > 0
    return out, x


# Builds out in a float64 np.zeros, so float32 inputs come back as float64.
def relu_forward_zeros_upcast(x):
    out = np.zeros(x.shape)
    out[x > 0] = x[x > 0]
    return out, x


# Leaky ReLU instead of ReLU.
def relu_forward_leaky(x):
    return np.maximum(0.01 * x, x), x


# Keeps the negative part: the comparison the wrong way round.
def relu_forward_flipped_comparison(x):
    return x * (x < 0), x


# Forgets the cache.
def relu_forward_no_cache(x):
    return np.maximum(x, 0)


# The stub left as it was.
def relu_forward_pass_stub(x):
    pass


# The released stub.
def relu_forward_not_implemented(x):
    raise NotImplementedError


RELU_FORWARD_MISTAKES = [
    pytest.param(
        relu_forward_in_place, r"changed its input argument 1 in place", id="edits-x-in-place"
    ),
    pytest.param(
        relu_forward_max_reduction,
        r"out has the wrong shape: got \(4,\), expected \(3, 4\)",
        id="np-max-reduction",
    ),
    pytest.param(relu_forward_returns_mask, r"out has dtype bool for float64 inputs", id="mask"),
    pytest.param(
        relu_forward_zeros_upcast,
        r"out \(float32\) has dtype float64 for float32 inputs",
        id="float64-zeros-upcast",
    ),
    pytest.param(
        relu_forward_leaky,
        r"out is wrong: .* Hint: negative inputs must give exactly 0",
        id="leaky",
    ),
    pytest.param(
        relu_forward_flipped_comparison,
        r"out is wrong: .* Hint: you kept the negative inputs",
        id="flipped-comparison",
    ),
    pytest.param(
        relu_forward_no_cache,
        r"must return a tuple \(out, cache\); it returned ndarray",
        id="no-cache",
    ),
    pytest.param(
        relu_forward_pass_stub,
        r"must return a tuple \(out, cache\); it returned NoneType",
        id="pass-stub",
    ),
    pytest.param(
        relu_forward_not_implemented,
        r"relu_forward_not_implemented is not implemented yet",
        id="not-implemented",
    ),
]


@pytest.mark.parametrize("student, expected", RELU_FORWARD_MISTAKES)
def test_check_relu_forward_fails(student, expected, capsys):
    with pytest.raises(CheckFailed, match=expected) as failure:
        check_relu_forward(student)
    assert str(failure.value).startswith("relu_forward: ")
    assert "OK" not in capsys.readouterr().out


@references_allowed()  # the course's own reference is the right answer
def test_check_relu_forward_passes_reference(capsys):
    check_relu_forward(layers.relu_forward)
    out = capsys.readouterr().out
    assert out.startswith("OK relu_forward:")
    assert out.count("\n") == 1


# ---------------------------------------------------------------------------
# relu_backward(dout, cache) -> dx; cache = x from the reference
# ---------------------------------------------------------------------------


# Gates on the sign of dout instead of the sign of the input.
def relu_backward_gates_on_dout(dout, cache):
    return dout * (dout > 0)


# Passes the gradient through unchanged.
def relu_backward_pass_through(dout, cache):
    return dout.copy()


# Zeroes dout in place and returns it.
def relu_backward_edits_dout(dout, cache):
    x = cache
    dout[x <= 0] = 0
    return dout


# Returns the local derivative and forgets the chain rule's dout.
def relu_backward_forgets_dout(dout, cache):
    x = cache
    return (x > 0).astype(dout.dtype)


# Multiplies by the forward output max(0, x) instead of its derivative.
def relu_backward_times_output(dout, cache):
    x = cache
    return dout * np.maximum(0, x)


# Passes the gradient where x is negative.
def relu_backward_flipped_gate(dout, cache):
    x = cache
    return dout * (x < 0)


# `dx = x` aliases the cache, then turns the caller's x into a 0/1 mask.
def relu_backward_aliases_cache(dout, cache):
    dx = cache
    dx[cache > 0] = 1
    dx[cache <= 0] = 0
    return dx * dout


# A trailing comma makes the single gradient a 1-tuple.
def relu_backward_returns_tuple(dout, cache):
    x = cache
    dx = dout * (x > 0)
    return (dx,)


# The stub left as it was.
def relu_backward_pass_stub(dout, cache):
    pass


# The released stub.
def relu_backward_not_implemented(dout, cache):
    raise NotImplementedError


RELU_BACKWARD_MISTAKES = [
    pytest.param(
        relu_backward_gates_on_dout,
        r"dx is wrong: .* Hint: you\ gated\ on\ the\ sign\ of\ dout",
        id="gates-on-dout",
    ),
    pytest.param(
        relu_backward_pass_through,
        r"dx is wrong: .* Hint: the\ gradient\ passed\ everywhere",
        id="pass-through",
    ),
    pytest.param(
        relu_backward_edits_dout, r"changed its input argument 1 in place", id="edits-dout"
    ),
    pytest.param(
        relu_backward_forgets_dout,
        r"dx is wrong: .* Hint: you\ returned\ the\ gate\ alone",
        id="forgets-dout",
    ),
    pytest.param(
        relu_backward_times_output,
        r"dx is wrong: .* Hint: the\ ReLU's\ slope\ is\ 1\ where\ x\ >\ 0",
        id="times-output",
    ),
    pytest.param(
        relu_backward_flipped_gate,
        r"dx is wrong: .* Hint: the\ gradient\ passed\ where\ x\ was\ negative",
        id="flipped-gate",
    ),
    pytest.param(
        relu_backward_aliases_cache,
        r"changed its input argument 2 in place",
        id="dx-aliases-cache",
    ),
    pytest.param(
        relu_backward_returns_tuple,
        r"dx should be a numpy array of shape \(6, 3, 5\), got tuple",
        id="one-tuple",
    ),
    pytest.param(
        relu_backward_pass_stub,
        r"dx should be a numpy array of shape \(6, 3, 5\), got NoneType",
        id="pass-stub",
    ),
    pytest.param(
        relu_backward_not_implemented,
        r"relu_backward_not_implemented is not implemented yet",
        id="not-implemented",
    ),
]


@pytest.mark.parametrize("student, expected", RELU_BACKWARD_MISTAKES)
def test_check_relu_backward_fails(student, expected, capsys):
    with pytest.raises(CheckFailed, match=expected) as failure:
        check_relu_backward(layers.relu_forward, student)
    assert str(failure.value).startswith("relu_backward: ")
    assert "OK" not in capsys.readouterr().out


@references_allowed()  # the course's own reference is the right answer
def test_check_relu_backward_passes_reference(capsys):
    check_relu_backward(layers.relu_forward, layers.relu_backward)
    out = capsys.readouterr().out
    assert out.startswith("OK relu_backward:")
    assert out.count("\n") == 1


# ---------------------------------------------------------------------------
# affine_relu_forward(x, w, b) -> (out, cache)
# ---------------------------------------------------------------------------


# Forgets the ReLU: returns the affine output.
def affine_relu_forward_no_relu(x, w, b):
    a, fc_cache = layers.affine_forward(x, w, b)
    return a, (fc_cache, None)


# Applies the ReLU to the input, then the affine layer.
def affine_relu_forward_relu_first(x, w, b):
    r, relu_cache = layers.relu_forward(x)
    out, fc_cache = layers.affine_forward(r, w, b)
    return out, (fc_cache, relu_cache)


# Writes the sandwich out by hand and forgets the bias.
def affine_relu_forward_no_bias(x, w, b):
    a = x.reshape(x.shape[0], -1) @ w
    return np.maximum(a, 0), (x, w, a)


# np.minimum where np.maximum was meant.
def affine_relu_forward_minimum(x, w, b):
    a, fc_cache = layers.affine_forward(x, w, b)
    return np.minimum(a, 0), (fc_cache, a)


# Passes the (out, cache) tuple of the affine layer straight to the ReLU.
def affine_relu_forward_tuple_into_relu(x, w, b):
    out, relu_cache = layers.relu_forward(layers.affine_forward(x, w, b))
    return out, relu_cache


# Forgets to return the cache.
def affine_relu_forward_no_cache(x, w, b):
    a, _ = layers.affine_forward(x, w, b)
    out, _ = layers.relu_forward(a)
    return out


# Applies the ReLU in place to the flattened input before the matrix multiply.
def affine_relu_forward_relu_on_x_in_place(x, w, b):
    x_flat = x.reshape(x.shape[0], -1)  # a view of the caller's x
    x_flat[x_flat < 0] = 0
    a = x_flat @ w + b
    return a, (x, w, a)


# The stub left as it was.
def affine_relu_forward_pass_stub(x, w, b):
    pass


# The released stub.
def affine_relu_forward_not_implemented(x, w, b):
    raise NotImplementedError


AFFINE_RELU_FORWARD_MISTAKES = [
    pytest.param(
        affine_relu_forward_no_relu, r"out is wrong: .* Hint: the\ ReLU\ is\ missing", id="no-relu"
    ),
    pytest.param(
        affine_relu_forward_relu_first,
        r"out is wrong: .* Hint: the\ order\ is\ affine\ THEN\ ReLU",
        id="relu-first",
    ),
    pytest.param(
        affine_relu_forward_no_bias, r"out is wrong: .* Hint: the\ bias\ is\ missing", id="no-bias"
    ),
    pytest.param(
        affine_relu_forward_minimum,
        r"out is wrong: .* Hint: ReLU\ keeps\ the\ positive\ values",
        id="np-minimum",
    ),
    pytest.param(
        affine_relu_forward_tuple_into_relu,
        r"raised TypeError: relu_forward: x must be a numpy array, got tuple",
        id="tuple-into-relu",
    ),
    pytest.param(
        affine_relu_forward_no_cache,
        r"must return a tuple \(out, cache\); it returned ndarray",
        id="no-cache",
    ),
    pytest.param(
        affine_relu_forward_relu_on_x_in_place,
        r"changed its input argument 1 in place",
        id="relu-on-x-in-place",
    ),
    pytest.param(
        affine_relu_forward_pass_stub,
        r"must return a tuple \(out, cache\); it returned NoneType",
        id="pass-stub",
    ),
    pytest.param(
        affine_relu_forward_not_implemented,
        r"affine_relu_forward_not_implemented is not implemented yet",
        id="not-implemented",
    ),
]


@pytest.mark.parametrize("student, expected", AFFINE_RELU_FORWARD_MISTAKES)
def test_check_affine_relu_forward_fails(student, expected, capsys):
    with pytest.raises(CheckFailed, match=expected) as failure:
        check_affine_relu_forward(student)
    assert str(failure.value).startswith("affine_relu_forward: ")
    assert "OK" not in capsys.readouterr().out


@references_allowed()  # the course's own reference is the right answer
def test_check_affine_relu_forward_passes_reference(capsys):
    check_affine_relu_forward(layers.affine_relu_forward)
    out = capsys.readouterr().out
    assert out.startswith("OK affine_relu_forward:")
    assert out.count("\n") == 1


# ---------------------------------------------------------------------------
# affine_relu_backward(dout, cache) -> (dx, dw, db); cache from the reference
# ---------------------------------------------------------------------------


# Skips the ReLU gate and backprops dout straight through the affine layer.
def affine_relu_backward_no_gate(dout, cache):
    fc_cache, relu_cache = cache
    return layers.affine_backward(dout, fc_cache)


# Gates on the sign of dout instead of the affine output.
def affine_relu_backward_gates_on_dout(dout, cache):
    fc_cache, relu_cache = cache
    return layers.affine_backward(dout * (dout > 0), fc_cache)


# Backprops through the layers in forward order: affine first, then ReLU.
def affine_relu_backward_forward_order(dout, cache):
    fc_cache, relu_cache = cache
    dx, dw, db = layers.affine_backward(dout, fc_cache)
    dx = layers.relu_backward(dx, relu_cache)
    return dx, dw, db


# Passes the gradient where the affine output was negative.
def affine_relu_backward_flipped_gate(dout, cache):
    fc_cache, relu_cache = cache
    a = relu_cache
    return layers.affine_backward(dout * (a < 0), fc_cache)


# Zeroes dout in place where the affine output was negative.
def affine_relu_backward_edits_dout(dout, cache):
    fc_cache, relu_cache = cache
    dout[relu_cache <= 0] = 0
    return layers.affine_backward(dout, fc_cache)


# Writes the affine part by hand and averages db over the batch.
def affine_relu_backward_db_mean(dout, cache):
    (x, w), a = cache
    da = dout * (a > 0)
    dx = (da @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ da
    return dx, dw, da.mean(axis=0)


# Returns only the gradient of the input.
def affine_relu_backward_only_dx(dout, cache):
    fc_cache, relu_cache = cache
    dx, dw, db = layers.affine_backward(layers.relu_backward(dout, relu_cache), fc_cache)
    return dx


# Returns the gradients in the order (dw, db, dx).
def affine_relu_backward_wrong_order(dout, cache):
    fc_cache, relu_cache = cache
    dx, dw, db = layers.affine_backward(layers.relu_backward(dout, relu_cache), fc_cache)
    return dw, db, dx


# The released stub.
def affine_relu_backward_not_implemented(dout, cache):
    raise NotImplementedError


AFFINE_RELU_BACKWARD_MISTAKES = [
    pytest.param(
        affine_relu_backward_no_gate,
        r"dx is wrong: .* Hint: the\ gradient\ skipped\ the\ ReLU",
        id="no-gate",
    ),
    pytest.param(
        affine_relu_backward_gates_on_dout,
        r"dx is wrong: .* Hint: you\ gated\ on\ the\ sign\ of\ dout",
        id="gates-on-dout",
    ),
    pytest.param(
        affine_relu_backward_forward_order,
        r"raised ValueError: relu_backward: dout has shape",
        id="forward-order",
    ),
    pytest.param(
        affine_relu_backward_flipped_gate,
        r"dx is wrong: .* Hint: the\ gradient\ passed\ where\ x\ was\ negative",
        id="flipped-gate",
    ),
    pytest.param(
        affine_relu_backward_edits_dout,
        r"changed its input argument 1 in place",
        id="edits-dout",
    ),
    pytest.param(affine_relu_backward_db_mean, r"db is wrong: relative error", id="db-mean"),
    pytest.param(
        affine_relu_backward_only_dx,
        r"must return a tuple \(dx, dw, db\); it returned ndarray",
        id="only-dx",
    ),
    pytest.param(
        affine_relu_backward_wrong_order,
        r"dx has the wrong shape: got \(24, 7\)",
        id="wrong-order",
    ),
    pytest.param(
        affine_relu_backward_not_implemented,
        r"affine_relu_backward_not_implemented is not implemented yet",
        id="not-implemented",
    ),
]


@pytest.mark.parametrize("student, expected", AFFINE_RELU_BACKWARD_MISTAKES)
def test_check_affine_relu_backward_fails(student, expected, capsys):
    with pytest.raises(CheckFailed, match=expected) as failure:
        check_affine_relu_backward(layers.affine_relu_forward, student)
    assert str(failure.value).startswith("affine_relu_backward: ")
    assert "OK" not in capsys.readouterr().out


@references_allowed()  # the course's own reference is the right answer
def test_check_affine_relu_backward_passes_reference(capsys):
    check_affine_relu_backward(layers.affine_relu_forward, layers.affine_relu_backward)
    out = capsys.readouterr().out
    assert out.startswith("OK affine_relu_backward:")
    assert out.count("\n") == 1


@pytest.mark.parametrize(
    "catalogue",
    [
        AFFINE_FORWARD_MISTAKES,
        AFFINE_BACKWARD_MISTAKES,
        RELU_FORWARD_MISTAKES,
        RELU_BACKWARD_MISTAKES,
        AFFINE_RELU_FORWARD_MISTAKES,
        AFFINE_RELU_BACKWARD_MISTAKES,
    ],
    ids=[
        "affine_forward",
        "affine_backward",
        "relu_forward",
        "relu_backward",
        "affine_relu_forward",
        "affine_relu_backward",
    ],
)
def test_catalogue_has_six_distinct_mistakes(catalogue):
    functions = [param.values[0] for param in catalogue]
    assert len(functions) >= 6
    assert len(set(functions)) == len(functions)
    assert len({param.id for param in catalogue}) == len(catalogue)
