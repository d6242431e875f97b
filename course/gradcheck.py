"""Numerical gradients by centred differences, and tools to compare them.

The centred difference ``(f(x + h) - f(x - h)) / 2h`` has error O(h^2), so in
float64 with h = 1e-5 it agrees with a correct analytic gradient to about
1e-10 relative: a disagreement above 1e-7 is a bug, not rounding.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """Relative error ``max|a - b| / max(max|a|, max|b|)`` between two arrays.

    The error is measured against the scale of the arrays rather than element
    by element, so that tiny entries (where any float rounding looks huge
    relatively) do not dominate. Two all-zero arrays have error 0.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error: shapes differ, {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    scale = max(np.abs(a).max(), np.abs(b).max())
    if not np.isfinite(scale):
        return float("inf")
    if scale == 0:
        return 0.0
    return float(np.abs(a - b).max() / scale)


def numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Centred-difference gradient of a scalar function ``f`` at ``x``.

    ``f`` is called with perturbed copies of ``x``; ``x`` itself is not changed.

    Inputs:
    - f: function of one array returning a scalar
    - x: the point, any shape

    Returns:
    - grad: same shape as x
    """
    x = np.array(x, dtype=np.float64)  # a private copy we perturb
    grad = np.zeros_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)  # views
    for i in range(flat_x.size):
        old = flat_x[i]
        flat_x[i] = old + h
        plus = float(f(x.copy()))
        flat_x[i] = old - h
        minus = float(f(x.copy()))
        flat_x[i] = old
        flat_grad[i] = (plus - minus) / (2 * h)
    return grad


def numerical_gradient_array(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dout: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Centred-difference gradient of ``sum(f(x) * dout)``: backprop through an array function.

    Inputs:
    - f: function of one array returning an array shaped like dout
    - x: the point, any shape
    - dout: the upstream gradient dL/df(x)

    Returns:
    - grad: same shape as x, dL/dx
    """
    dout = np.asarray(dout, dtype=np.float64)
    return numerical_gradient(lambda z: np.sum(np.asarray(f(z), dtype=np.float64) * dout), x, h)


def sparse_gradient_error(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    analytic_grad: np.ndarray,
    num_checks: int = 10,
    h: float = 1e-5,
    seed: int = 0,
) -> float:
    """Compare an analytic gradient with centred differences at a few random entries.

    For large parameters (a 3072 x 100 weight matrix) a full numerical
    gradient takes 600,000 evaluations; checking a random sample catches the
    same bugs in a fraction of the time.

    Inputs:
    - f: scalar function of one array
    - x: the point
    - analytic_grad: same shape as x, the gradient to test
    - num_checks: how many entries to test

    Returns:
    - the largest relative error ``|num - ana| / max(|num|, |ana|)`` over the
      sampled entries (0 where both are 0)
    """
    if analytic_grad.shape != x.shape:
        raise ValueError(
            f"sparse_gradient_error: analytic_grad has shape {analytic_grad.shape}, "
            f"x has shape {x.shape}; they must agree"
        )
    rng = np.random.default_rng(seed)
    x = np.array(x, dtype=np.float64)
    worst = 0.0
    for flat_index in rng.choice(x.size, size=min(num_checks, x.size), replace=False):
        index = np.unravel_index(flat_index, x.shape)
        old = x[index]
        x[index] = old + h
        plus = float(f(x.copy()))
        x[index] = old - h
        minus = float(f(x.copy()))
        x[index] = old
        numeric = (plus - minus) / (2 * h)
        analytic = float(analytic_grad[index])
        scale = max(abs(numeric), abs(analytic))
        if scale > 0:
            worst = max(worst, abs(numeric - analytic) / scale)
    return worst


def param_gradient_errors(
    loss: Callable[[], float],
    params: dict[str, np.ndarray],
    grads: Mapping[str, np.ndarray],
    h: float = 1e-5,
) -> dict[str, float]:
    """Check a model's gradients: each ``grads[name]`` against centred differences of ``loss``.

    ``loss()`` computes the model's loss from ``params`` as they are when it
    is called (e.g. ``lambda: model.loss(X, y)[0]``); every entry of
    ``params[name]`` is perturbed in turn (through a replaced array: the
    arrays themselves are never written) and put back afterwards.

    Returns:
    - dict name -> relative error of that gradient
    """
    errors = {}
    for name, value in params.items():

        def f(w: np.ndarray, name: str = name, value: np.ndarray = value) -> float:
            params[name] = w
            try:
                return loss()
            finally:
                params[name] = value

        errors[name] = rel_error(numerical_gradient(f, value, h), grads[name])
    return errors


def differentiable_positions(inputs: Sequence) -> list[int]:
    """Positions of the floating-point arrays among a forward's arguments."""
    return [
        i
        for i, v in enumerate(inputs)
        if isinstance(v, np.ndarray) and np.issubdtype(v.dtype, np.floating)
    ]


def numerical_backward(
    forward: Callable, inputs: Sequence, dout: np.ndarray, h: float = 1e-5
) -> list[np.ndarray]:
    """Numerical gradients of ``sum(forward(*inputs)[0] * dout)`` for every differentiable input.

    Inputs:
    - forward: ``forward(*inputs) -> (out, cache)``
    - inputs: its arguments; the floating-point arrays among them are the
      differentiable inputs (dicts such as ``bn_param`` are passed through,
      copied afresh for every call)
    - dout: upstream gradient, shaped like ``out``

    Returns:
    - one gradient per differentiable input, in order, each shaped like it
    """
    inputs = list(inputs)
    grads = []
    for position in differentiable_positions(inputs):

        def f(value, position=position):
            args = _fresh(inputs)
            args[position] = value
            return forward(*args)[0]

        grads.append(numerical_gradient_array(f, inputs[position], dout, h))
    return grads


def gradient_errors(
    forward: Callable,
    backward: Callable,
    inputs: Sequence,
    dout: np.ndarray | None = None,
    seed: int = 0,
    h: float = 1e-5,
) -> dict[str, float]:
    """Check every gradient a backward function returns against its forward.

    ``backward(dout, cache)`` must return one gradient per differentiable
    input of the forward (see :func:`numerical_backward`), in order; a single
    array when there is one.

    Inputs:
    - forward: ``forward(*inputs) -> (out, cache)``
    - backward: ``backward(dout, cache) -> grads``
    - inputs: the forward's arguments; arrays are not modified
    - dout: upstream gradient (standard normal from ``seed`` when None)

    Returns:
    - dict mapping ``'d<position>'`` (e.g. 'd0', 'd1') to the relative error
      of that gradient against the centred-difference gradient
    """
    inputs = list(inputs)
    positions = differentiable_positions(inputs)
    out, cache = forward(*_fresh(inputs))
    if dout is None:
        dout = np.random.default_rng(seed).standard_normal(np.shape(out))
    grads = backward(dout, cache)
    if isinstance(grads, np.ndarray):
        grads = (grads,)
    if len(grads) != len(positions):
        raise ValueError(
            f"gradient_errors: backward returned {len(grads)} gradients for "
            f"{len(positions)} differentiable inputs"
        )
    numeric = numerical_backward(forward, inputs, dout, h)
    return {
        f"d{position}": rel_error(expected, grad)
        for position, expected, grad in zip(positions, numeric, grads, strict=True)
    }


def _fresh(inputs: list) -> list:
    """Copies of the array and dict inputs, so a forward cannot leak state between calls."""
    fresh = []
    for value in inputs:
        if isinstance(value, np.ndarray):
            value = value.copy()
        elif isinstance(value, dict):
            value = dict(value)
        fresh.append(value)
    return fresh
