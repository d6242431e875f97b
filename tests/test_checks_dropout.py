"""The dropout checks fail on realistic wrong implementations and pass the reference.

``p`` is the keep probability (inverted dropout, as in the CS231n assignments).
Each function below is a mistake students make while writing
``dropout_forward(x, dropout_param) -> (out, cache)`` or
``dropout_backward(dout, cache) -> dx``; each catalogue entry names the message
the check must give for it.
"""

from __future__ import annotations

import numpy as np
import pytest

from course import layers
from course.checks import CheckFailed, check_dropout_backward, check_dropout_forward
from course.checks.core import references_allowed

# ---------------------------------------------------------------------------
# dropout_forward(x, dropout_param) -> (out, cache)
# ---------------------------------------------------------------------------


# Reads p as the drop probability (PyTorch's convention): keeps 70% of the units.
def dropout_forward_p_as_drop(x, dropout_param):
    p = dropout_param["p"]
    if dropout_param["mode"] == "test":
        return x.copy(), (dropout_param, None)
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = (rng.random(x.shape) >= p) / (1 - p)
    return x * mask, (dropout_param, mask)


# Half a mix-up: mask = rand > p (drops with probability p) but scales by 1 / p.
def dropout_forward_mask_comparison_flipped(x, dropout_param):
    p = dropout_param["p"]
    if dropout_param["mode"] == "test":
        return x.copy(), (dropout_param, None)
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = (rng.random(x.shape) > p) / p
    return x * mask, (dropout_param, mask)


# Scales the kept units by p instead of 1 / p.
def dropout_forward_scales_by_p(x, dropout_param):
    p = dropout_param["p"]
    if dropout_param["mode"] == "test":
        return x.copy(), (dropout_param, None)
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = (rng.random(x.shape) < p) * p
    return x * mask, (dropout_param, mask)


# Keeps with probability p but scales by 1 / (1 - p), the drop-probability formula.
def dropout_forward_scales_by_one_minus_p(x, dropout_param):
    p = dropout_param["p"]
    if dropout_param["mode"] == "test":
        return x.copy(), (dropout_param, None)
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = (rng.random(x.shape) < p) / (1 - p)
    return x * mask, (dropout_param, mask)


# "Vanilla" dropout: no scaling in training, multiplies by p at test time instead.
def dropout_forward_vanilla(x, dropout_param):
    p = dropout_param["p"]
    if dropout_param["mode"] == "test":
        return x * p, (dropout_param, None)
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = rng.random(x.shape) < p
    return x * mask, (dropout_param, mask)


# Ignores dropout_param['seed']: draws from the global generator, so masks differ per call.
def dropout_forward_ignores_seed(x, dropout_param):
    p = dropout_param["p"]
    if dropout_param["mode"] == "test":
        return x.copy(), (dropout_param, None)
    mask = (np.random.rand(*x.shape) < p) / p  # noqa: NPY002 (the mistake itself)
    return x * mask, (dropout_param, mask)


# Ignores the mode: applies a mask at test time too.
def dropout_forward_mask_at_test_time(x, dropout_param):
    p = dropout_param["p"]
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = (rng.random(x.shape) < p) / p
    return x * mask, (dropout_param, mask)


# Inverted dropout in training, and still scales by p at test time.
def dropout_forward_scales_at_test_time(x, dropout_param):
    p = dropout_param["p"]
    if dropout_param["mode"] == "test":
        return x * p, (dropout_param, None)
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = (rng.random(x.shape) < p) / p
    return x * mask, (dropout_param, mask)


# Fills in only the train branch of the scaffold, leaving out = None at test time.
def dropout_forward_test_branch_missing(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    out, mask = None, None
    if mode == "train":
        rng = np.random.default_rng(dropout_param.get("seed"))
        mask = (rng.random(x.shape) < p) / p
        out = x * mask
    return out, (dropout_param, mask)


# Applies the mask in place: x *= mask.
def dropout_forward_in_place(x, dropout_param):
    p = dropout_param["p"]
    if dropout_param["mode"] == "test":
        return x, (dropout_param, None)
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = (rng.random(x.shape) < p) / p
    x *= mask
    return x, (dropout_param, mask)


# Draws one mask per feature, shared by every example of the batch.
def dropout_forward_mask_shared_across_batch(x, dropout_param):
    p = dropout_param["p"]
    if dropout_param["mode"] == "test":
        return x.copy(), (dropout_param, None)
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = (rng.random(x.shape[1:]) < p) / p  # (D,), broadcast over the batch
    return x * mask, (dropout_param, mask)


# Forgets the cache.
def dropout_forward_no_cache(x, dropout_param):
    p = dropout_param["p"]
    if dropout_param["mode"] == "test":
        return x.copy()
    rng = np.random.default_rng(dropout_param.get("seed"))
    return x * (rng.random(x.shape) < p) / p


# The released stub.
def dropout_forward_not_implemented(x, dropout_param):
    raise NotImplementedError


# Builds the mask as float64 (bool / float), so float32 activations come back float64.
def dropout_forward_float64_mask(x, dropout_param):
    p = dropout_param["p"]
    if dropout_param["mode"] == "test":
        return x.copy(), (dropout_param, None)
    rng = np.random.default_rng(dropout_param.get("seed"))
    mask = (rng.random(x.shape) < p) / p  # float64 whatever x's dtype
    return x * mask, (dropout_param, mask)


DROPOUT_FORWARD_MISTAKES = [
    pytest.param(
        dropout_forward_p_as_drop,
        r"in train mode with p=0\.3 you kept 70\.0% of the units; expected 30%"
        r".* Hint: .*p is the probability of KEEPING a unit",
        id="p-as-drop-probability",
    ),
    pytest.param(
        dropout_forward_mask_comparison_flipped,
        r"you kept 70\.0% of the units",
        id="rand-greater-than-p",
    ),
    pytest.param(
        dropout_forward_scales_by_p,
        r"kept units are scaled by 0\.3; expected 1/p = 3\.33"
        r".* Hint: .*inverted dropout scales the kept units",
        id="scales-by-p",
    ),
    pytest.param(
        dropout_forward_scales_by_one_minus_p,
        r"kept units are scaled by 1\.43; expected 1/p = 3\.33",
        id="scales-by-1-over-1-minus-p",
    ),
    pytest.param(
        dropout_forward_vanilla,
        r"kept units are scaled by 1; expected 1/p = 3\.33",
        id="vanilla-no-scaling",
    ),
    pytest.param(
        dropout_forward_ignores_seed,
        r"two calls with the same dropout_param\['seed'\] gave different masks",
        id="ignores-seed",
    ),
    pytest.param(
        dropout_forward_mask_at_test_time,
        r"out \(test\) is wrong: relative error",
        id="mask-at-test-time",
    ),
    pytest.param(
        dropout_forward_scales_at_test_time,
        r"out \(test\) is wrong: relative error",
        id="scales-at-test-time",
    ),
    pytest.param(
        dropout_forward_test_branch_missing,
        r"out \(test\) should be a numpy array of shape \(400, 250\), got NoneType",
        id="test-branch-missing",
    ),
    pytest.param(
        dropout_forward_in_place,
        r"changed its input argument 1 in place",
        id="x-times-equals-mask",
    ),
    pytest.param(
        dropout_forward_mask_shared_across_batch,
        r"every example got the same mask .* Hint: draw one random number per activation",
        id="mask-shared-across-batch",
    ),
    pytest.param(
        dropout_forward_no_cache,
        r"must return a tuple \(out, cache\); it returned ndarray",
        id="no-cache",
    ),
    pytest.param(
        dropout_forward_not_implemented,
        r"dropout_forward_not_implemented is not implemented yet",
        id="not-implemented",
    ),
    pytest.param(
        dropout_forward_float64_mask,
        r"has dtype float64 for float32 inputs",
        id="float64-mask-upcast",
    ),
]


@pytest.mark.parametrize("student, expected", DROPOUT_FORWARD_MISTAKES)
def test_check_dropout_forward_fails(student, expected, capsys):
    with pytest.raises(CheckFailed, match=expected) as failure:
        check_dropout_forward(student)
    assert str(failure.value).startswith("dropout_forward: ")
    assert "OK" not in capsys.readouterr().out


@references_allowed()  # the course's own reference is the right answer
def test_check_dropout_forward_passes_reference(capsys):
    check_dropout_forward(layers.dropout_forward)
    out = capsys.readouterr().out
    assert out.startswith("OK dropout_forward:")
    assert out.count("\n") == 1


def test_check_dropout_forward_accepts_a_seeded_legacy_generator(capsys):
    """Seeding np.random.RandomState with the seed is a correct way to honour it."""

    def dropout_forward_random_state(x, dropout_param):
        p = dropout_param["p"]
        if dropout_param["mode"] == "test":
            return x.copy(), (dropout_param, None)
        rs = np.random.RandomState(dropout_param.get("seed"))
        mask = ((rs.rand(*x.shape) < p) / p).astype(x.dtype)
        return x * mask, (dropout_param, mask)

    check_dropout_forward(dropout_forward_random_state)
    assert capsys.readouterr().out.startswith("OK dropout_forward:")


# ---------------------------------------------------------------------------
# dropout_backward(dout, cache) -> dx; checked with its forward
# ---------------------------------------------------------------------------


# Returns dout unmasked in train mode.
def dropout_backward_unmasked(dout, cache):
    return dout.copy()


# A correct forward that caches the boolean keep-mask rather than the scaled one...
def dropout_forward_caches_keep_mask(x, dropout_param):
    p = dropout_param["p"]
    if dropout_param["mode"] == "test":
        return x.copy(), (dropout_param, None)
    keep = np.random.default_rng(dropout_param.get("seed")).random(x.shape) < p
    return x * keep / p, (dropout_param, keep)


# ...and a backward that multiplies by that mask but forgets the 1 / p.
def dropout_backward_forgets_scale(dout, cache):
    dropout_param, keep = cache
    if dropout_param["mode"] == "test":
        return dout.copy()
    return dout * keep


# Divides by p again although the cached mask is already scaled.
def dropout_backward_scales_twice(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] == "test":
        return dout.copy()
    return dout * mask / dropout_param["p"]


# No mode branch: multiplies by the cached mask, which is None at test time.
def dropout_backward_no_mode_branch(dout, cache):
    dropout_param, mask = cache
    return dout * mask


# Masks dout in place.
def dropout_backward_in_place(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] == "test":
        return dout
    dout *= mask
    return dout


# Draws a fresh mask in the backward pass instead of reusing the forward's.
def dropout_backward_fresh_mask(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] == "test":
        return dout.copy()
    p = dropout_param["p"]
    return dout * (np.random.rand(*dout.shape) < p) / p  # noqa: NPY002 (the mistake)


# Returns the mask itself and forgets the upstream gradient.
def dropout_backward_forgets_dout(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] == "test":
        return np.ones_like(dout)
    return mask


# A trailing comma makes the gradient a 1-tuple.
def dropout_backward_returns_tuple(dout, cache):
    dropout_param, mask = cache
    dx = dout.copy() if mask is None else dout * mask
    return (dx,)


# Scales by p at test time, as vanilla dropout's forward would.
def dropout_backward_scales_at_test_time(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] == "test":
        return dout * dropout_param["p"]
    return dout * mask


# Fills in only the train branch of the scaffold, leaving dx = None at test time.
def dropout_backward_test_branch_missing(dout, cache):
    dropout_param, mask = cache
    dx = None
    if dropout_param["mode"] == "train":
        dx = dout * mask
    return dx


# The released stub.
def dropout_backward_not_implemented(dout, cache):
    raise NotImplementedError


DROPOUT_BACKWARD_MISTAKES = [
    pytest.param(
        layers.dropout_forward,
        dropout_backward_unmasked,
        r"dx \(train\) is wrong: relative error.* Hint: .*the gradient passed every unit",
        id="unmasked",
    ),
    pytest.param(
        dropout_forward_caches_keep_mask,
        dropout_backward_forgets_scale,
        r"dx \(train\) is wrong: relative error"
        r".* Hint: .*their gradient is scaled by the same factor",
        id="forgets-1-over-p",
    ),
    pytest.param(
        layers.dropout_forward,
        dropout_backward_scales_twice,
        r"dx \(train\) is wrong: relative error.* Hint: .*the gradient was scaled twice",
        id="scales-twice",
    ),
    pytest.param(
        layers.dropout_forward,
        dropout_backward_no_mode_branch,
        r"dropout_backward_no_mode_branch raised TypeError: ",
        id="no-mode-branch",
    ),
    pytest.param(
        layers.dropout_forward,
        dropout_backward_in_place,
        r"changed its input argument 1 in place",
        id="dout-times-equals-mask",
    ),
    pytest.param(
        layers.dropout_forward,
        dropout_backward_fresh_mask,
        r"dx \(train\) is wrong: relative error",
        id="fresh-mask",
    ),
    pytest.param(
        layers.dropout_forward,
        dropout_backward_forgets_dout,
        r"dx \(train\) is wrong: relative error.* Hint: .*you returned the mask alone",
        id="forgets-dout",
    ),
    pytest.param(
        layers.dropout_forward,
        dropout_backward_returns_tuple,
        r"dx \(train\) should be a numpy array of shape \(10, 12\), got tuple",
        id="one-tuple",
    ),
    pytest.param(
        layers.dropout_forward,
        dropout_backward_scales_at_test_time,
        r"dx \(test\) is wrong: relative error"
        r".* Hint: .*in test mode the forward pass changed nothing",
        id="scales-at-test-time",
    ),
    pytest.param(
        layers.dropout_forward,
        dropout_backward_test_branch_missing,
        r"dx \(test\) should be a numpy array of shape \(10, 12\), got NoneType",
        id="test-branch-missing",
    ),
    pytest.param(
        layers.dropout_forward,
        dropout_backward_not_implemented,
        r"dropout_backward_not_implemented is not implemented yet",
        id="not-implemented",
    ),
]


@pytest.mark.parametrize("forward, student, expected", DROPOUT_BACKWARD_MISTAKES)
def test_check_dropout_backward_fails(forward, student, expected, capsys):
    with pytest.raises(CheckFailed, match=expected) as failure:
        check_dropout_backward(forward, student)
    assert str(failure.value).startswith("dropout_backward: ")
    assert "OK" not in capsys.readouterr().out


@references_allowed()  # the course's own reference is the right answer
def test_check_dropout_backward_passes_reference(capsys):
    check_dropout_backward(layers.dropout_forward, layers.dropout_backward)
    out = capsys.readouterr().out
    assert out.startswith("OK dropout_backward:")
    assert out.count("\n") == 1


@pytest.mark.parametrize(
    "catalogue",
    [DROPOUT_FORWARD_MISTAKES, DROPOUT_BACKWARD_MISTAKES],
    ids=["dropout_forward", "dropout_backward"],
)
def test_catalogue_has_six_distinct_mistakes(catalogue):
    functions = [param.values[-2] for param in catalogue]  # the student's function
    assert len(functions) >= 6
    assert len(set(functions)) == len(functions)
    assert len({param.id for param in catalogue}) == len(catalogue)
