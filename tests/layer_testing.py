"""What the layer test modules share: the fast-layer paths, recurrent inputs, purity checks."""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import numpy as np
import pytest

from course.layers import _kernels

PATHS = ["compiled", "numpy"]

# (N, T, D, Hd) of recurrent tests: T = 1 and N = 1 edge cases, D < Hd, D > Hd, D == Hd.
SHAPES = [(3, 4, 5, 6), (1, 5, 4, 3), (4, 1, 3, 5), (1, 1, 2, 2), (2, 6, 7, 4)]
SHAPE_IDS = ["N3-T4-D5-Hd6", "N1-T5", "T1", "N1-T1", "T6-D7-Hd4"]


@contextmanager
def fast_path(path):
    """Run the fast layers on the compiled extension or on the numpy fallback."""
    with pytest.MonkeyPatch.context() as mp, warnings.catch_warnings():
        if path == "numpy":
            mp.setattr(_kernels, "_im2col", None)
            mp.setattr(_kernels, "_warned", False)
            warnings.filterwarnings("ignore", "course.layers._im2col", RuntimeWarning)
        elif not _kernels.using_compiled():
            pytest.fail("course.layers._im2col is not built: run pip install -e .")
        yield


def output_size_bounds(kernel, stride, pad, largest=9, most_out=5):
    """Output sizes whose input size (out - 1)*stride + kernel - 2*pad lies in [1, largest]."""
    lowest = max(1, 1 - (-(1 + 2 * pad - kernel) // stride))  # input size >= 1
    highest = 1 + (largest + 2 * pad - kernel) // stride  # input size <= largest
    return lowest, max(lowest + 1, min(highest, most_out))


def input_size(out, kernel, stride, pad):
    """The input size that gives ``out`` outputs."""
    return (out - 1) * stride + kernel - 2 * pad


def recurrent_inputs(shape, gates, seed=0, dtype=np.float64):
    """(x, h0, Wx, Wh, b) for an RNN (gates=1) or LSTM (gates=4), scaled to avoid saturation."""
    N, T, D, Hd = shape
    rng = np.random.default_rng(seed)
    arrays = (
        rng.standard_normal((N, T, D)),
        rng.standard_normal((N, Hd)),
        rng.standard_normal((D, gates * Hd)) / np.sqrt(D),
        rng.standard_normal((Hd, gates * Hd)) / np.sqrt(Hd),
        rng.standard_normal(gates * Hd) * 0.5,
    )
    return tuple(a.astype(dtype) for a in arrays)


def assert_keeps_dtype_and_inputs(name, forward, backward, inputs, dtype):
    """Outputs and gradients keep ``dtype``; no input, dout or cache is changed."""
    copies = [a.copy() for a in inputs]
    out, cache = forward(*inputs)
    assert out.dtype == dtype, name
    dout = np.random.default_rng(15).standard_normal(out.shape).astype(dtype)
    dout_copy = dout.copy()
    grads = backward(dout, cache)
    grads = (grads,) if isinstance(grads, np.ndarray) else grads
    assert all(g.dtype == dtype for g in grads), (name, [g.dtype for g in grads])
    for original, copy in zip((*inputs, dout), (*copies, dout_copy), strict=True):
        np.testing.assert_array_equal(original, copy)
        assert original.dtype == copy.dtype and original.shape == copy.shape
    # The cache is left as the forward made it: a second backward gives the same gradients.
    again = backward(dout, cache)
    again = (again,) if isinstance(again, np.ndarray) else again
    for first, second in zip(grads, again, strict=True):
        np.testing.assert_array_equal(first, second)
