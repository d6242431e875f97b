"""Input validation of the sequence layers (``rnn``, ``fused_rnn``, ``temporal``).

The companion of :mod:`course.layers._validation` for (N, T, ...) batches:
every public sequence layer makes one call into this module, which raises
an error that says what was expected, what was given and what to do.
"""

from __future__ import annotations

import numpy as np

from course.validation import as_float_array, format_shape, require_dout, require_ndim


def validate_recurrent_inputs(
    func: str,
    x: object,
    hidden: tuple[str, object],
    Wx: object,
    Wh: object,
    b: object,
    gates: int,
    sequence: bool,
    cell: tuple[str, object] | None = None,
) -> tuple[int, ...]:
    """Validate the inputs of an RNN (gates=1) or LSTM (gates=4) step or sequence.

    x is (N, T, D) for a sequence function and (N, D) for a step function;
    ``hidden`` is the name and value of the (N, Hd) hidden state (prev_h or
    h0) and ``cell`` those of the LSTM's (N, Hd) cell state (prev_c or c0),
    when there is one. Returns x's dims followed by Hd.
    """
    h_name, h = hidden
    arrays = [("x", x), (h_name, h), ("Wx", Wx), ("Wh", Wh), ("b", b)]
    if cell is not None:
        arrays.insert(2, cell)
    for name, value in arrays:
        as_float_array(func, name, value)
    G = "" if gates == 1 else f"{gates}"  # how the gate factor is written: Hd or 4Hd
    require_ndim(func, "Wh", Wh, 2, f"(Hd, {G}Hd)")
    require_ndim(func, "Wx", Wx, 2, f"(D, {G}Hd)")
    Hd = Wh.shape[0]
    if Wh.shape[1] != gates * Hd:
        raise ValueError(
            f"{func}: Wh has shape {format_shape(Wh.shape)}; expected (Hd, {G}Hd) = "
            f"{(Hd, gates * Hd)}"
            + ("; the four gates i, f, o, g sit side by side" if gates > 1 else "")
        )
    if Wx.shape[1] != gates * Hd:
        raise ValueError(
            f"{func}: Wx has shape {format_shape(Wx.shape)}; expected (D, {G}Hd) = "
            f"{(Wx.shape[0], gates * Hd)} to match Wh of shape {format_shape(Wh.shape)}"
        )
    if b.shape != (gates * Hd,):
        raise ValueError(
            f"{func}: b has shape {format_shape(b.shape)}; expected ({G}Hd,) = "
            f"({gates * Hd},) to match Wh of shape {format_shape(Wh.shape)}"
        )
    D = Wx.shape[0]
    if not sequence:
        require_ndim(func, "x", x, 2, "(N, D)")
        dims, expected_x = "(N, D)", (x.shape[0], D)
    else:
        require_ndim(func, "x", x, 3, "(N, T, D)")
        dims, expected_x = "(N, T, D)", (*x.shape[:2], D)
        if x.shape[1] == 0:
            raise ValueError(
                f"{func}: x has shape {format_shape(x.shape)}, T = 0 time steps; "
                "a sequence needs at least one"
            )
    if x.shape != expected_x:
        raise ValueError(
            f"{func}: x has shape {format_shape(x.shape)}; expected {dims} = {expected_x} "
            f"to match Wx of shape {format_shape(Wx.shape)}"
        )
    N = x.shape[0]
    for name, value in arrays[1 : 3 if cell is not None else 2]:
        if value.shape != (N, Hd):
            raise ValueError(
                f"{func}: {name} has shape {format_shape(value.shape)}; expected (N, Hd) = "
                f"{(N, Hd)}"
            )
    return (*x.shape, Hd)


def validate_rnn_step_inputs(x, prev_h, Wx, Wh, b) -> tuple[int, int, int]:
    """x (N, D), prev_h (N, Hd), Wx (D, Hd), Wh (Hd, Hd), b (Hd,); return ``(N, D, Hd)``."""
    hidden = ("prev_h", prev_h)
    return validate_recurrent_inputs("rnn_step_forward", x, hidden, Wx, Wh, b, 1, False)


def validate_lstm_step_inputs(x, prev_h, prev_c, Wx, Wh, b) -> tuple[int, int, int]:
    """x (N, D), prev_h and prev_c (N, Hd), Wx (D, 4Hd), Wh (Hd, 4Hd), b (4Hd,); ``(N, D, Hd)``."""
    hidden, cell = ("prev_h", prev_h), ("prev_c", prev_c)
    return validate_recurrent_inputs("lstm_step_forward", x, hidden, Wx, Wh, b, 4, False, cell)


def validate_rnn_inputs(func: str, x, h0, Wx, Wh, b) -> tuple[int, int, int, int]:
    """x (N, T, D), h0 (N, Hd), Wx (D, Hd), Wh (Hd, Hd), b (Hd,); return ``(N, T, D, Hd)``."""
    return validate_recurrent_inputs(func, x, ("h0", h0), Wx, Wh, b, gates=1, sequence=True)


RNN_ACTIVATIONS = ("tanh", "relu")


def require_activation(func: str, activation: object) -> str:
    """A vanilla RNN's activation: 'tanh' (the default) or 'relu'; return it."""
    if activation not in RNN_ACTIVATIONS:
        raise ValueError(
            f"{func}: activation must be 'tanh' or 'relu' (h = max(0, x Wx + h Wh + b)), "
            f"got {activation!r}"
        )
    return activation


def validate_lstm_inputs(func: str, x, h0, Wx, Wh, b, c0) -> tuple[int, int, int, int]:
    """x (N, T, D), h0 and c0 (N, Hd; c0 may be None), Wx (D, 4Hd), Wh (Hd, 4Hd), b (4Hd,).

    Returns ``(N, T, D, Hd)``.
    """
    cell = None if c0 is None else ("c0", c0)
    return validate_recurrent_inputs(func, x, ("h0", h0), Wx, Wh, b, 4, True, cell)


def validate_lstm_step_douts(dnext_h: object, dnext_c: object, shape: tuple) -> None:
    """Both upstream gradients of an LSTM step are float arrays of the state shape (N, Hd)."""
    func = "lstm_step_backward"
    require_dout(func, dnext_h, shape, name="dnext_h", of="next_h")
    require_dout(func, dnext_c, shape, name="dnext_c", of="next_c")


def require_indices(
    func: str, name: str, value: object, shape: tuple[int, int] | None, V: int
) -> np.ndarray:
    """Check an (N, T) integer array of word indices in [0, V); ``shape=None`` takes any (N, T)."""
    if not isinstance(value, np.ndarray):
        raise TypeError(
            f"{func}: {name} must be a numpy array of word indices, got {type(value).__name__}"
        )
    if not np.issubdtype(value.dtype, np.integer):
        raise TypeError(
            f"{func}: {name} has dtype {value.dtype}; expected integer word indices in [0, {V})"
        )
    if shape is None:
        require_ndim(func, name, value, 2, "(N, T)")
    elif value.shape != shape:
        raise ValueError(
            f"{func}: {name} has shape {format_shape(value.shape)}; expected (N, T) = {shape}"
        )
    if value.size and (value.min() < 0 or value.max() >= V):
        raise ValueError(
            f"{func}: {name} must hold indices in [0, {V}) for a vocabulary of V = {V}; "
            f"got values from {value.min()} to {value.max()}"
        )
    return value


def validate_word_embedding_inputs(x: object, W: object) -> None:
    """W (V, D) float embeddings; x (N, T) integer word indices in [0, V)."""
    func = "word_embedding_forward"
    as_float_array(func, "W", W)
    require_ndim(func, "W", W, 2, "(V, D)")
    require_indices(func, "x", x, None, W.shape[0])


def validate_temporal_affine_inputs(x: object, w: object, b: object) -> tuple[int, int, int, int]:
    """x (N, T, D), w (D, M), b (M,), all float; return ``(N, T, D, M)``."""
    func = "temporal_affine_forward"
    for name, value in (("x", x), ("w", w), ("b", b)):
        as_float_array(func, name, value)
    require_ndim(func, "x", x, 3, "(N, T, D)")
    require_ndim(func, "w", w, 2, "(D, M)")
    N, T, D = x.shape
    if w.shape[0] != D:
        raise ValueError(
            f"{func}: w has shape {format_shape(w.shape)}; expected (D, M) with D = {D} "
            f"to match x of shape {format_shape(x.shape)}"
        )
    M = w.shape[1]
    if b.shape != (M,):
        raise ValueError(
            f"{func}: b has shape {format_shape(b.shape)}; expected (M,) = ({M},) to match "
            f"w of shape {format_shape(w.shape)}"
        )
    return N, T, D, M


def validate_temporal_softmax_inputs(x: object, y: object, mask: object) -> tuple[int, int, int]:
    """x (N, T, V) float scores with N > 0, y (N, T) indices in [0, V), mask (N, T) booleans.

    Returns ``(N, T, V)``.
    """
    func = "temporal_softmax_loss"
    as_float_array(func, "x", x)
    require_ndim(func, "x", x, 3, "(N, T, V) scores")
    N, T, V = x.shape
    if N == 0:
        raise ValueError(f"{func}: x has no sequences (N = 0); the loss is undefined")
    require_indices(func, "y", y, (N, T), V)
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
        got = mask.dtype if isinstance(mask, np.ndarray) else type(mask).__name__
        raise TypeError(
            f"{func}: mask must be a boolean numpy array, got {got}; build it with a "
            "comparison, e.g. mask = y != null_index"
        )
    if mask.shape != (N, T):
        raise ValueError(
            f"{func}: mask has shape {format_shape(mask.shape)}; expected (N, T) = {(N, T)}"
        )
    return N, T, V
