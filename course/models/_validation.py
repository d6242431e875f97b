"""Input validators of the models package: each returns the checked value or raises a clear error.

A model's constructor and ``loss`` make one call here before their work, so
that the wiring of layers reads on its own. The general validators come
first (sizes, normalisation, dropout, images, weight scales); then one per
model constructor, which checks its arguments in the order the messages
have always come in. Messages say what was expected, what was given and,
where there is one, what to do (convention 6 of STYLE.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course.validation import (
    as_float_array,
    format_shape,
    is_positive_finite,
    is_real_number,
    require_examples,
    require_ndim,
    require_positive_int,
)

NORMALIZATIONS = (None, "batchnorm")
CELLS = ("rnn", "lstm")


# ---------------------------------------------------------------------------
# General validators
# ---------------------------------------------------------------------------


def require_positive_ints(func: str, values: dict[str, object]) -> None:
    """Check that every value of ``values`` (name -> value, in order) is a positive integer."""
    for name, value in values.items():
        require_positive_int(func, name, value)


def validate_normalization(func: str, normalization: object) -> None:
    """Check that ``normalization`` is None or 'batchnorm'."""
    if normalization not in NORMALIZATIONS:
        raise ValueError(
            f"{func}: normalization must be None or 'batchnorm', got {normalization!r}"
        )


def validate_keep_ratio(func: str, dropout_keep_ratio: float) -> None:
    """Check that dropout's keep probability p satisfies 0 < p <= 1."""
    if not 0 < dropout_keep_ratio <= 1:
        raise ValueError(
            f"{func}: dropout_keep_ratio is the probability of keeping a unit, "
            f"0 < p <= 1; got {dropout_keep_ratio}"
        )


def validate_input_dim(func: str, input_dim: Sequence[int]) -> tuple[int, int, int]:
    """Return ``input_dim`` as a tuple (C, H, W) of three positive integers."""
    input_dim = tuple(input_dim)
    if len(input_dim) != 3:
        raise ValueError(f"{func}: input_dim must be (C, H, W), got {input_dim!r}")
    for name, value in zip(("C", "H", "W"), input_dim, strict=True):
        require_positive_int(func, f"input_dim {name}", value)
    return input_dim


def validate_images(func: str, X: object, input_dim: tuple, dtype: np.dtype) -> np.ndarray:
    """Return images X (N, C, H, W) with (C, H, W) == ``input_dim``, cast to ``dtype``."""
    as_float_array(func, "X", X)
    if X.ndim != 4 or X.shape[1:] != input_dim:
        raise ValueError(
            f"{func}: X has shape {format_shape(X.shape)}; expected (N, C, H, W) with "
            f"(C, H, W) = {input_dim}"
        )
    require_examples(func, "X", X)
    return X.astype(dtype, copy=False)


def validate_features(
    func: str, features: object, D: int, dtype: np.dtype, size: str = "input_dim"
) -> np.ndarray:
    """Image features (N, D) with N >= 1, finite, cast to the model's ``dtype``.

    ``size`` names the model's argument that set D, for the message.
    """
    as_float_array(func, "features", features)
    require_ndim(func, "features", features, 2, f"(N, D) with D = {size} = {D}")
    if features.shape[1] != D:
        raise ValueError(
            f"{func}: features has shape {format_shape(features.shape)}; expected (N, D) with "
            f"D = {size} = {D}"
        )
    require_examples(func, "features", features)
    if not np.isfinite(features).all():
        raise ValueError(f"{func}: features holds NaN or inf; every feature must be finite")
    return features.astype(dtype, copy=False)


def validate_batch(func: str, X: object, dtype: np.dtype) -> np.ndarray:
    """Return a float batch X (N, ...) with N >= 1, cast to ``dtype``."""
    as_float_array(func, "X", X)
    require_examples(func, "X", X)
    return X.astype(dtype, copy=False)


def validate_weight_scale(weight_scale: object) -> None:
    """Check that ``weight_scale`` is a positive number (a std) or 'he'."""
    if weight_scale == "he":
        return
    if not (isinstance(weight_scale, (int, float)) and weight_scale > 0):
        raise ValueError(f"weight_scale must be a positive number or 'he', got {weight_scale!r}")


# ---------------------------------------------------------------------------
# One validator per model constructor
# ---------------------------------------------------------------------------


def validate_two_layer_net(input_dim: int, hidden_dim: int, num_classes: int) -> None:
    """Check the sizes of a ``TwoLayerNet``."""
    require_positive_ints(
        "TwoLayerNet",
        {"input_dim": input_dim, "hidden_dim": hidden_dim, "num_classes": num_classes},
    )


def validate_fully_connected_net(
    hidden_dims: Sequence[int],
    input_dim: int,
    num_classes: int,
    normalization: str | None,
    dropout_keep_ratio: float,
) -> list[int]:
    """Check the arguments of a ``FullyConnectedNet``; return ``hidden_dims`` as a list."""
    func = "FullyConnectedNet"
    hidden_dims = list(hidden_dims)
    require_positive_ints(func, {f"hidden_dims[{i}]": d for i, d in enumerate(hidden_dims)})
    require_positive_ints(func, {"input_dim": input_dim, "num_classes": num_classes})
    validate_normalization(func, normalization)
    validate_keep_ratio(func, dropout_keep_ratio)
    return hidden_dims


def validate_fully_connected_loss(
    func: str,
    params: object,
    X: object,
    normalization: str | None,
    bn_params: object,
    dropout_keep_ratio: float,
) -> tuple[np.ndarray, int]:
    """Check the arguments of a fully connected net's loss; return X (in W1's dtype) and L.

    params must hold W1, b1, ..., WL, bL (and gamma_i, beta_i for i < L with
    batchnorm); bn_params, when given, one dict per hidden layer.
    """
    if not isinstance(params, dict) or "W1" not in params:
        raise ValueError(f"{func}: params must be a dict holding W1, b1, ..., WL, bL")
    validate_normalization(func, normalization)
    validate_keep_ratio(func, dropout_keep_ratio)
    L = 1
    while f"W{L + 1}" in params:
        L += 1
    wanted = [f"b{i}" for i in range(1, L + 1)]
    if normalization:
        wanted += [f"{name}{i}" for i in range(1, L) for name in ("gamma", "beta")]
    missing = [key for key in wanted if key not in params]
    if missing:
        raise ValueError(
            f"{func}: params has W1 ... W{L} but no {', '.join(missing)}; expected b1 ... b{L}"
            + (" and gamma_i, beta_i of every hidden layer" if normalization else "")
        )
    if normalization and bn_params is not None:
        if not isinstance(bn_params, (list, tuple)) or len(bn_params) != L - 1:
            raise ValueError(
                f"{func}: bn_params must be a list of {L - 1} dicts, one per hidden layer"
            )
    return validate_batch(func, X, np.asarray(params["W1"]).dtype), L


def validate_three_layer_conv_net(
    input_dim: Sequence[int],
    num_filters: int,
    filter_size: int,
    hidden_dim: int,
    num_classes: int,
) -> tuple[int, int, int]:
    """Check the arguments of a ``ThreeLayerConvNet``; return ``input_dim`` as (C, H, W).

    The filter size must be odd (so that padding (filter_size - 1) // 2 keeps
    H and W) and H, W even (for the 2x2 pool).
    """
    func = "ThreeLayerConvNet"
    C, H, W = checked = validate_input_dim(func, input_dim)
    require_positive_ints(
        func,
        {
            "num_filters": num_filters,
            "filter_size": filter_size,
            "hidden_dim": hidden_dim,
            "num_classes": num_classes,
        },
    )
    if filter_size % 2 == 0:
        raise ValueError(
            f"{func}: filter_size must be odd so that padding (filter_size - 1) // 2 keeps "
            f"the image size; got {filter_size}"
        )
    if H % 2 or W % 2:
        raise ValueError(f"{func}: the 2x2 pool needs even H and W; input_dim is {input_dim}")
    return checked


def validate_conv_net_inputs(
    func: str, params: dict, X: object, reg: object
) -> tuple[np.ndarray, float]:
    """Check the inputs of ``three_layer_conv_net_loss``; return X in W1's dtype and reg.

    params must hold W1 (F, C, HH, HH) with HH odd, b1, W2, b2, W3, b3; X must
    be images (N, C, H, W) with H and W even whose pooled volume has W2's
    F*H/2*W/2 rows; reg a number >= 0.
    """
    missing = [k for k in ("W1", "b1", "W2", "b2", "W3", "b3") if k not in params]
    if missing:
        raise ValueError(f"{func}: params has no {', '.join(missing)}")
    if np.ndim(params["W1"]) != 4:
        raise ValueError(f"{func}: W1 has shape {np.shape(params['W1'])}; expected (F, C, HH, HH)")
    F, C, HH, WW = np.shape(params["W1"])
    if HH != WW or HH % 2 == 0:
        raise ValueError(
            f"{func}: W1 has filters of {HH}x{WW}; expected square filters of odd size, so "
            "that padding (HH - 1) // 2 keeps the image size"
        )
    as_float_array(func, "X", X)
    require_ndim(func, "X", X, 4, f"(N, C, H, W) with C = {C}")
    N, X_C, H, W = X.shape
    pooled = F * (H // 2) * (W // 2)
    if X_C != C or H % 2 or W % 2 or np.shape(params["W2"])[0] != pooled:
        raise ValueError(
            f"{func}: X has shape {format_shape(X.shape)}; expected (N, {C}, H, W) with H "
            f"and W even and F*H/2*W/2 = W2's {np.shape(params['W2'])[0]} rows"
        )
    require_examples(func, "X", X)
    if not (is_real_number(reg) and reg >= 0):
        raise ValueError(f"{func}: reg must be a number >= 0, got {reg!r}")
    return X.astype(np.asarray(params["W1"]).dtype, copy=False), float(reg)


def validate_tiny_vgg(
    input_dim: Sequence[int],
    stages: Sequence[Sequence[int]],
    hidden_dims: Sequence[int],
    num_classes: int,
    normalization: str | None,
) -> tuple[tuple[int, int, int], tuple[tuple[int, ...], ...], tuple[int, ...]]:
    """Check the arguments of a ``TinyVGG``; return input_dim, stages and hidden_dims as tuples.

    Each of the S stages halves the image, so H and W must be multiples of 2**S.
    """
    func = "TinyVGG"
    C, H, W = input_dim = validate_input_dim(func, input_dim)
    stages = tuple(tuple(int(f) for f in stage) for stage in stages)
    if not stages or not all(stages):
        raise ValueError(f"{func}: stages must be a non-empty list of non-empty filter lists")
    for s, stage in enumerate(stages):
        for f in stage:
            require_positive_int(func, f"stages[{s}] filters", f)
    hidden_dims = tuple(int(d) for d in hidden_dims)
    require_positive_ints(func, {f"hidden_dims[{i}]": d for i, d in enumerate(hidden_dims)})
    require_positive_int(func, "num_classes", num_classes)
    validate_normalization(func, normalization)
    factor = 2 ** len(stages)
    if H % factor or W % factor:
        raise ValueError(
            f"{func}: {len(stages)} stages halve the image {len(stages)} times, so "
            f"H and W must be multiples of {factor}; input_dim is {input_dim}"
        )
    return input_dim, stages, hidden_dims


# ---------------------------------------------------------------------------
# Recurrent models
# ---------------------------------------------------------------------------


def validate_recurrent_model(
    func: str, sizes: dict[str, object], cell: object, dtype: object
) -> tuple[str, np.ndarray]:
    """Positive integer ``sizes``, a cell 'rnn' or 'lstm' and a float dtype: ``(cell, dtype)``."""
    require_positive_ints(func, sizes)
    if cell not in CELLS:
        raise ValueError(f"{func}: cell must be 'rnn' or 'lstm', got {cell!r}")
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise ValueError(f"{func}: dtype must be float32 or float64, got {dt}")
    return str(cell), dt


def validate_cell_activation(func: str, cell: str, activation: object) -> str:
    """A vanilla RNN's activation, 'tanh' or 'relu'; an LSTM takes only 'tanh'. Returns it."""
    if activation not in ("tanh", "relu"):
        raise ValueError(f"{func}: activation must be 'tanh' or 'relu', got {activation!r}")
    if cell == "lstm" and activation != "tanh":
        raise ValueError(
            f"{func}: activation={activation!r} is for cell='rnn' (h = max(0, x Wx + h Wh + b)); "
            "an LSTM's gates keep their sigmoid and tanh"
        )
    return str(activation)


def require_temperature(func: str, temperature: object) -> float:
    """Return ``temperature`` as a float after checking it is a finite number > 0."""
    if not is_positive_finite(temperature):
        raise ValueError(
            f"{func}: temperature must be a number > 0 (e.g. 0.8; lower is more "
            f"conservative), got {temperature!r}; for the most likely token use argmax=True"
        )
    return float(temperature)
