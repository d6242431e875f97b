"""Tests of course/models/ranking.py: gradients, the loss, caption encoding, metrics, retrieval.

Training is tested in tests/test_recipes_ranker.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from course.gradcheck import numerical_gradient, param_gradient_errors, rel_error
from course.models.ranking import (
    ImageSentenceRanker,
    SentenceFrequencies,
    bidirectional_contrastive_loss,
    bidirectional_ranking_loss,
    ranking_metrics,
    retrieve,
)
from course.solver import Solver

NULL, START, END = 0, 1, 2


def _small_batch(seed: int = 0, N: int = 5, F: int = 6, T: int = 6, V: int = 9):
    """N pairs whose images 1 and 3 are the same, captions padded in odd places."""
    rng = np.random.default_rng(seed)
    features = rng.standard_normal((N, F))
    features[3] = features[1]  # one image captioned twice: (1, 3) is no negative
    captions = rng.integers(3, V, size=(N, T))
    captions[:, 0] = START
    captions[0, 4:] = NULL  # trailing padding
    captions[2, :2] = NULL  # leading padding
    captions[4, 2] = NULL  # a hole
    return features, captions


def _small_model(cell: str, hardest: bool, seed: int = 0, V: int = 9, F: int = 6, **options):
    """A float64 model with biases and word vectors of order 1.

    At the plain initialisation a tiny model's embeddings are short vectors
    before normalisation, where x / |x| bends sharply; the O(h^2) error of
    centred differences then reaches 1e-6. Moving away from 0 keeps it at 1e-9.
    ``options`` go to the constructor; a caption-bias head gets weights of order 1.
    """
    model = ImageSentenceRanker(
        V, F, embed_dim=4, wordvec_dim=3, hidden_dim=4, cell=cell, margin=0.5,
        hardest_negative=hardest, dtype=np.float64, seed=seed, **options,
    )  # fmt: skip
    rng = np.random.default_rng(100 + seed)
    model.params["b_img"] = 0.5 * rng.standard_normal(4)
    model.params["b_sent"] = 0.5 * rng.standard_normal(4)
    model.params["W_embed"] = rng.standard_normal((V, 3))
    if "w_bias" in model.params:
        model.params["w_bias"] = rng.standard_normal(4)
    return model


def _hinge_arguments(model, features, captions):
    """margin - S_ii + S_ij and margin - S_ii + S_ji: (N, N) each, NaN where j is no negative."""
    S = model.embed_images(features) @ model.embed_captions(captions).T
    N = len(S)
    different = np.array([[not np.array_equal(a, b) for b in features] for a in features])
    positive = np.diag(S)[:, None]
    by_image = np.where(different, model.margin - positive + S, np.nan)
    by_caption = np.where(different, model.margin - positive + S.T, np.nan)
    assert not different[np.arange(N), np.arange(N)].any()
    return by_image, by_caption


def _loop_loss(S, features, margin, hardest):
    """The loss written as loops over the pairs, skipping pairs with identical images."""
    N = len(S)
    total = 0.0
    for i in range(N):
        image_costs, caption_costs = [0.0], [0.0]
        for j in range(N):
            if np.array_equal(features[i], features[j]):
                continue
            image_costs.append(max(0.0, margin - S[i, i] + S[i, j]))
            caption_costs.append(max(0.0, margin - S[i, i] + S[j, i]))
        pick = max if hardest else sum
        total += pick(image_costs) + pick(caption_costs)
    return total / N


# ----- gradients ---------------------------------------------------------------------------


@pytest.mark.parametrize("hardest", [False, True], ids=["sum", "hardest"])
@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_gradients_of_every_parameter(cell, hardest):
    features, captions = _small_batch(seed=14)
    model = _small_model(cell, hardest, seed=14)
    # The hinge has a kink at 0 (and the hardest negative one where two
    # negatives tie): seed 14 and margin 0.5 keep every hinge argument, and
    # the gap between a query's two hardest negatives, more than 1e-3 from a
    # kink for both cells, so the centred differences (h = 1e-5) never cross
    # one; some hinges are active and some are not. Asserted here first.
    for arguments in _hinge_arguments(model, features, captions):
        values = arguments[~np.isnan(arguments)]
        assert np.abs(values).min() > 1e-3
        assert (values > 0).any() and (values < 0).any()  # both sides of the hinge are checked
        if hardest:
            top2 = -np.sort(-np.nan_to_num(arguments, nan=-np.inf), axis=1)[:, :2]
            assert (top2[:, 0] - top2[:, 1]).min() > 1e-3
    loss, grads = model.loss(features, captions)
    assert loss > 0 and set(grads) == set(model.params)
    errors = param_gradient_errors(lambda: model.loss(features, captions)[0], model.params, grads)
    assert max(errors.values()) < 1e-7, errors
    assert not np.any(grads["W_embed"][NULL])  # padding is never read


@pytest.mark.parametrize("hardest", [False, True], ids=["sum", "hardest"])
def test_ranking_loss_gradient_and_loop_reference(hardest):
    rng = np.random.default_rng(3)
    S = rng.uniform(-1, 1, size=(6, 6))
    negatives = ~np.eye(6, dtype=bool)
    negatives[2, 4] = negatives[4, 2] = False
    features = np.arange(6.0)[:, None].repeat(2, axis=1)
    features[4] = features[2]  # what the mask above stands for
    loss, dS = bidirectional_ranking_loss(S, 0.3, negatives, hardest)
    assert loss == pytest.approx(_loop_loss(S, features, 0.3, hardest), rel=1e-12)
    numeric = numerical_gradient(
        lambda s: bidirectional_ranking_loss(s, 0.3, negatives, hardest)[0], S
    )
    assert rel_error(numeric, dS) < 1e-8


def test_ranking_loss_by_hand():
    S = np.array([[0.9, 0.8], [0.1, 0.5]])
    # image 0: caption 1 costs 0.2 - 0.9 + 0.8 = 0.1; caption 0 vs image 1: 0.2 - 0.9 + 0.1 < 0
    # image 1: caption 0 costs 0.2 - 0.5 + 0.1 < 0; caption 1 vs image 0: 0.2 - 0.5 + 0.8 = 0.5
    loss, dS = bidirectional_ranking_loss(S, 0.2)
    assert loss == pytest.approx((0.1 + 0.5) / 2)
    np.testing.assert_allclose(dS, np.array([[-1, 2], [0, -1]]) / 2)
    assert bidirectional_ranking_loss(np.eye(2), 0.2)[0] == 0.0  # well separated


# ----- the model's loss --------------------------------------------------------------------


@pytest.mark.parametrize("hardest", [False, True], ids=["sum", "hardest"])
def test_model_loss_equals_the_loop_over_pairs(hardest):
    features, captions = _small_batch(seed=1)
    model = _small_model("lstm", hardest, seed=1)
    S = model.embed_images(features) @ model.embed_captions(captions).T
    loss, _ = model.loss(features, captions)
    assert loss == pytest.approx(_loop_loss(S, features, model.margin, hardest), rel=1e-12)
    unmasked, _ = bidirectional_ranking_loss(S, model.margin, None, hardest)
    assert unmasked > loss  # the duplicated image would otherwise be a (hard) negative


def test_one_pair_has_no_negatives():
    features, captions = _small_batch()
    model = _small_model("rnn", False)
    loss, grads = model.loss(features[:1], captions[:1])
    assert loss == 0.0 and not any(np.any(g) for g in grads.values())


def test_loss_keeps_the_dtype_and_does_not_touch_inputs():
    features, captions = _small_batch()
    model = ImageSentenceRanker(9, 6, embed_dim=8, hidden_dim=8, wordvec_dim=4)
    f_copy, c_copy = features.copy(), captions.copy()
    params = {k: v.copy() for k, v in model.params.items()}
    loss, grads = model.loss(features, captions)
    assert isinstance(loss, float) and np.isfinite(loss)
    assert all(grads[k].dtype == np.float32 for k in grads)
    np.testing.assert_array_equal(features, f_copy)
    np.testing.assert_array_equal(captions, c_copy)
    assert all(np.array_equal(model.params[k], params[k]) for k in params)


# ----- encoding captions -------------------------------------------------------------------


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_caption_embedding_reads_the_words_only(cell):
    model = ImageSentenceRanker(12, 5, embed_dim=6, wordvec_dim=4, hidden_dim=7, cell=cell)
    words = [START, 5, 7, 9, END]
    padded = np.array(
        [
            words + [NULL] * 3,  # trailing padding
            [NULL] * 3 + words,  # leading padding
            [START, 5, NULL, 7, NULL, 9, END, NULL],  # holes
            words[:1] + words[1:] + [NULL] * 3,
        ]
    )
    v = model.embed_captions(padded)
    np.testing.assert_allclose(v, v[[0, 0, 0, 0]], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(v[0], model.embed_captions(np.array([words]))[0], rtol=1e-6)
    without_end = model.embed_captions(np.array([words[:-1]]))[0]
    assert not np.allclose(v[0], without_end)  # <START> and <END> are words like any other
    assert v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1, rtol=1e-5)


def test_embeddings_in_batches_equal_one_batch():
    rng = np.random.default_rng(0)
    model = ImageSentenceRanker(20, 8, embed_dim=6, wordvec_dim=4, hidden_dim=5)
    captions = rng.integers(1, 20, size=(53, 7))
    captions[::4, 5:] = NULL
    features = rng.standard_normal((41, 8)).astype(np.float32)
    np.testing.assert_allclose(
        model.embed_captions(captions, batch_size=10), model.embed_captions(captions), atol=1e-6
    )
    U = model.embed_images(features, batch_size=7)
    np.testing.assert_allclose(U, model.embed_images(features), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(U, axis=1), 1, rtol=1e-5)


# ----- the contract and validation ---------------------------------------------------------


def test_without_captions_there_are_no_scores():
    features, captions = _small_batch()
    model = ImageSentenceRanker(9, 6, embed_dim=4, hidden_dim=4, wordvec_dim=3)
    with pytest.raises(TypeError, match="metric='loss'"):
        model.loss(features)
    data = {"X_train": features, "y_train": captions, "X_val": features, "y_val": captions}
    solver = Solver(model, data, metric="accuracy", verbose=False)
    with pytest.raises(TypeError, match="captions are required"):
        solver.train()  # accuracy has no meaning for a ranking model


def _row(i: int) -> np.ndarray:
    return np.arange(5)[:, None] == i  # (5, 1): True on row i of a (5, T) batch


@pytest.mark.parametrize(
    "change, error, match",
    [
        (lambda f, c: (f[:, :5], c), ValueError, "feature_dim = 6"),
        (lambda f, c: (f.astype(int), c), TypeError, "floating-point"),
        (lambda f, c: (f, c.astype(float)), TypeError, "integer word indices"),
        (lambda f, c: (f, c + 9), ValueError, r"\[0, 9\)"),
        (lambda f, c: (f, np.where(_row(2), NULL, c)), ValueError, r"rows \[2\]"),
        (lambda f, c: (f, c[:4]), ValueError, "matched pairs"),
        (lambda f, c: (np.where(f > 1, np.nan, f), c), ValueError, "NaN"),
    ],
)  # fmt: skip
def test_loss_explains_bad_inputs(change, error, match):
    features, captions = _small_batch()
    model = ImageSentenceRanker(9, 6, embed_dim=4, hidden_dim=4, wordvec_dim=3)
    with pytest.raises(error, match=match):
        model.loss(*change(features, captions))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"cell": "gru"}, "cell must be"),
        ({"margin": 0}, "margin"),
        ({"null_index": 9}, "null_index"),
        ({"embed_dim": 0}, "embed_dim"),
        ({"dtype": np.int32}, "dtype"),
        ({"hardest_negative": "yes"}, "hardest_negative"),
    ],
)
def test_constructor_explains_bad_arguments(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        ImageSentenceRanker(9, 6, **kwargs)


# ----- metrics -----------------------------------------------------------------------------


def test_ranking_metrics_by_hand():
    # 3 images, 5 captions; scores S = image_emb @ caption_emb.T chosen directly.
    S = np.array(
        [
            [0.9, 0.1, 0.5, 0.2, 0.0],  # image 0 owns captions 0, 1: best rank 1
            [0.3, 0.8, 0.4, 0.7, 0.6],  # image 1 owns caption 2 (0.4): 3 others above -> 4
            [0.2, 0.0, 0.1, 0.3, 0.9],  # image 2 owns captions 3, 4: best rank 1
        ]
    )
    idxs = np.array([0, 0, 1, 2, 2])
    metrics = ranking_metrics(np.eye(3), S.T.copy(), idxs, ks=(1, 5))
    assert metrics["i2t_R@1"] == pytest.approx(2 / 3)
    assert metrics["i2t_R@5"] == 1.0 and metrics["i2t_median_rank"] == 1.0
    # each caption's rank of its image (a column of S): 1, 2, 2, 2, 1
    assert metrics["t2i_R@1"] == pytest.approx(2 / 5)
    assert metrics["t2i_R@5"] == 1.0 and metrics["t2i_median_rank"] == 2.0
    assert set(metrics) == {
        "i2t_R@1", "i2t_R@5", "i2t_median_rank", "t2i_R@1", "t2i_R@5", "t2i_median_rank",
    }  # fmt: skip


def test_ranking_metrics_agree_with_argsort():
    rng = np.random.default_rng(0)
    images, captions = rng.standard_normal((40, 8)), rng.standard_normal((200, 8))
    idxs = rng.permutation(np.repeat(np.arange(40), 5))
    S = images @ captions.T
    order = np.argsort(-S, axis=1)  # (N, M): captions by score, per image
    i2t = [1 + np.flatnonzero(idxs[order[i]] == i).min() for i in range(40)]
    t2i = [1 + np.flatnonzero(np.argsort(-S[:, j]) == idxs[j])[0] for j in range(200)]
    metrics = ranking_metrics(images, captions, idxs)
    for k in (1, 5, 10):
        assert metrics[f"i2t_R@{k}"] == pytest.approx(np.mean(np.array(i2t) <= k))
        assert metrics[f"t2i_R@{k}"] == pytest.approx(np.mean(np.array(t2i) <= k))
    assert metrics["i2t_median_rank"] == np.median(i2t)
    assert metrics["t2i_median_rank"] == np.median(t2i)


def test_ties_count_against_the_query():
    same = np.ones((4, 3)) / np.sqrt(3)  # a collapsed model: every score equal
    metrics = ranking_metrics(same, np.ones((8, 3)), np.repeat(np.arange(4), 2))
    assert metrics["i2t_R@1"] == 0.0 and metrics["i2t_median_rank"] == 7.0  # 6 others + 1
    assert metrics["t2i_R@1"] == 0.0 and metrics["t2i_median_rank"] == 4.0


@pytest.mark.parametrize(
    "idxs, match",
    [
        (np.array([0, 0, 1]), "no caption"),
        (np.array([0, 1, 3]), r"\[0, 3\)"),
        (np.array([0.0, 1.0, 2.0]), "integer"),
        (np.array([0, 1]), r"\(3,\)"),
    ],
)
def test_ranking_metrics_explain_bad_inputs(idxs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        ranking_metrics(np.eye(3), np.eye(3), idxs)


# ----- retrieval and its view --------------------------------------------------------------


def test_retrieve_returns_the_best_images_first():
    model = ImageSentenceRanker(9, 6, embed_dim=4, hidden_dim=4, wordvec_dim=3)
    features, captions = _small_batch()
    scores = model.embed_images(features) @ model.embed_captions(captions[2:3])[0]
    top = retrieve(model, captions[2], features, k=3)
    np.testing.assert_array_equal(top, np.argsort(-scores, kind="stable")[:3])
    np.testing.assert_array_equal(retrieve(model, captions[2:3], features, k=3), top)
    with pytest.raises(ValueError, match="only 5 images"):
        retrieve(model, captions[2], features, k=6)
    with pytest.raises(ValueError, match=r"\(T,\) or \(1, T\)"):
        retrieve(model, captions[:2], features)


def test_identical_sentences_are_one_caption_in_the_distinct_protocol():
    # Images 0 and 1 were both captioned "a square"; image 2 "a ring".
    image_emb = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    caption_emb = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    idxs = np.array([0, 1, 2])
    plain = ranking_metrics(image_emb, caption_emb, idxs, ks=(1,))
    assert plain["i2t_R@1"] == pytest.approx(1 / 3)  # the copy ties with, and beats, its twin
    texts = ["a square", "a square", "a ring"]
    distinct = ranking_metrics(image_emb, caption_emb, idxs, ks=(1,), caption_texts=texts)
    assert distinct["i2t_R@1"] == 1.0 and distinct["t2i_R@1"] == 1.0
    with pytest.raises(ValueError, match="one sentence"):
        ranking_metrics(image_emb, caption_emb, idxs, caption_texts=texts[:2])


def test_the_same_sentence_for_two_images_is_not_a_negative():
    model = ImageSentenceRanker(9, 6, embed_dim=4, hidden_dim=4, wordvec_dim=3, margin=0.5)
    features, captions = _small_batch()
    captions[2] = captions[0]  # one sentence drawn for images 0 and 2
    S = model.embed_images(features) @ model.embed_captions(captions).T
    negatives = ~np.eye(5, dtype=bool)
    negatives[1, 3] = negatives[3, 1] = False  # the same image (see _small_batch)
    negatives[0, 2] = negatives[2, 0] = False  # the same sentence
    expected, _ = bidirectional_ranking_loss(S, 0.5, negatives)
    assert model.loss(features, captions)[0] == pytest.approx(expected, rel=1e-6)


# ----- the contrastive objective, the caption bias and the other options -------------------


def _loop_contrastive(S, negatives, temperature, log_q):
    """The contrastive loss as loops: a softmax over each row, then over each column."""
    N = len(S)
    total = 0.0
    for i in range(N):
        rivals = [j for j in range(N) if j == i or negatives[i, j]]
        by_image = [S[i, j] / temperature - log_q[j] for j in rivals]  # image i's captions
        total += np.log(np.sum(np.exp(by_image))) - (S[i, i] / temperature - log_q[i])
        by_caption = [S[j, i] / temperature for j in rivals]  # caption i's images
        total += np.log(np.sum(np.exp(by_caption))) - S[i, i] / temperature
    return total / N


@pytest.mark.parametrize("corrected", [False, True], ids=["plain", "log_q"])
def test_contrastive_loss_gradient_and_loop_reference(corrected):
    rng = np.random.default_rng(5)
    S = rng.uniform(-1, 1, size=(6, 6))
    negatives = ~np.eye(6, dtype=bool)
    negatives[2, 4] = negatives[4, 2] = False  # the same image, or the same sentence
    log_q = np.log(rng.uniform(0.01, 1, size=6)) if corrected else None
    loss, dS = bidirectional_contrastive_loss(S, 0.3, negatives, log_q)
    reference = _loop_contrastive(S, negatives, 0.3, np.zeros(6) if log_q is None else log_q)
    assert loss == pytest.approx(reference, rel=1e-12)
    numeric = numerical_gradient(
        lambda s: bidirectional_contrastive_loss(s, 0.3, negatives, log_q)[0], S
    )
    assert rel_error(numeric, dS) < 1e-8
    assert dS[2, 4] == 0 and dS[4, 2] == 0  # a pair that is no negative has no say
    assert dS.dtype == S.dtype
    f32_loss, f32_dS = bidirectional_contrastive_loss(S.astype(np.float32), 0.3, negatives, log_q)
    assert f32_dS.dtype == np.float32 and f32_loss == pytest.approx(loss, rel=1e-5)


def test_contrastive_loss_by_hand():
    S = np.array([[1.0, 0.0], [0.0, 1.0]])
    # Each of the 4 softmaxes (2 rows, 2 columns) picks its 1 over a 0: -log sigmoid(1).
    sigmoid = 1 / (1 + np.exp(-1))
    loss, dS = bidirectional_contrastive_loss(S, 1.0)
    assert loss == pytest.approx(-4 * np.log(sigmoid) / 2)
    np.testing.assert_allclose(dS, [[sigmoid - 1, 1 - sigmoid], [1 - sigmoid, sigmoid - 1]])
    # A temperature of 0.5 doubles the logits; their gradient is scaled by 1 / 0.5.
    sharp = 1 / (1 + np.exp(-2))
    assert bidirectional_contrastive_loss(S, 0.5)[0] == pytest.approx(-2 * np.log(sharp))
    # Caption 1 is drawn half as often as caption 0: as image 0's rival it gains log 2,
    # and as image 1's answer too; the columns (caption -> image) do not see log_q.
    log_q = np.log([0.5, 0.25])
    corrected, _ = bidirectional_contrastive_loss(S, 1.0, None, log_q)
    rows = -np.log(1 / (1 + np.exp(-1 + np.log(2)))) - np.log(1 / (1 + np.exp(-1 - np.log(2))))
    assert corrected == pytest.approx((rows - 2 * np.log(sigmoid)) / 2)
    same = bidirectional_contrastive_loss(S, 1.0, None, log_q - 1.0)[0]
    assert same == pytest.approx(corrected)  # only the ratios of q matter


@pytest.mark.parametrize(
    "options",
    [
        {"objective": "contrastive"},
        {"objective": "contrastive", "caption_bias": True, "image_hidden_dim": 5, "reg": 0.1},
        {"caption_bias": True, "image_hidden_dim": 5, "reg": 0.1},
    ],
    ids=["contrastive", "contrastive-bias-hidden-reg", "hinge-bias-hidden-reg"],
)
@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_gradients_of_the_options(cell, options):
    features, captions = _small_batch(seed=3)
    model = _small_model(cell, False, seed=3, temperature=0.5, **options)
    model.sentence_frequencies = SentenceFrequencies(np.vstack([captions, captions[:2]]))
    if options.get("image_hidden_dim"):  # no ReLU input within 1e-3 of its kink
        p = model.params
        assert np.abs(features @ p["W_img_hidden"] + p["b_img_hidden"]).min() > 1e-3
    if options.get("objective", "hinge") == "hinge":  # no hinge within 1e-3 of its kink
        for arguments in _hinge_arguments(model, features, captions):
            values = arguments[~np.isnan(arguments)]
            assert np.abs(values).min() > 1e-3 and (values < 0).any()
    loss, grads = model.loss(features, captions)
    assert set(grads) == set(model.params) and all(np.any(g) for g in grads.values())
    errors = param_gradient_errors(lambda: model.loss(features, captions)[0], model.params, grads)
    assert max(errors.values()) < 1e-7, errors


def test_the_model_loss_is_the_contrastive_loss_of_its_scores():
    features, captions = _small_batch(seed=1)
    model = _small_model("lstm", False, seed=1, objective="contrastive", caption_bias=True,
                         temperature=0.2, reg=0.01)  # fmt: skip
    frequencies = SentenceFrequencies(np.vstack([captions, captions[:3], captions[:1]]))
    S = model.embed_images(features) @ model.embed_captions(captions).T  # the bias included
    negatives = ~np.eye(5, dtype=bool)
    negatives[1, 3] = negatives[3, 1] = False  # the same image (see _small_batch)
    weights = sum(np.sum(model.params[k] ** 2) for k in ("W_img", "W_embed", "Wx", "Wh", "W_sent"))
    plain, _ = bidirectional_contrastive_loss(S, 0.2, negatives)
    assert model.loss(features, captions)[0] == pytest.approx(plain + 0.005 * weights)
    model.sentence_frequencies = frequencies  # what train_ranker does
    corrected, _ = bidirectional_contrastive_loss(S, 0.2, negatives, frequencies.log_q(captions))
    assert model.loss(features, captions)[0] == pytest.approx(corrected + 0.005 * weights)


def test_sentence_frequencies_count_sentences_not_rows():
    captions = np.array([[1, 5, 2, 0], [0, 1, 5, 2], [1, 6, 2, 0], [1, 5, 0, 2]])
    frequencies = SentenceFrequencies(captions)
    np.testing.assert_allclose(np.exp(frequencies.log_q(captions)), [0.75, 0.75, 0.25, 0.75])
    unseen = np.array([[1, 7, 2, 0, 0, 0]])  # counted once, whatever its padding
    np.testing.assert_allclose(np.exp(frequencies.log_q(unseen)), [0.25])


def test_the_caption_bias_rides_along_in_the_embeddings():
    features, captions = _small_batch()
    model = ImageSentenceRanker(9, 6, embed_dim=4, hidden_dim=4, wordvec_dim=3, caption_bias=True)
    model.params["w_bias"] = np.array([3.0, -2.0, 1.0, 4.0], dtype=np.float32)
    U, V = model.embed_images(features), model.embed_captions(captions)  # [u, 1], [v, beta]
    assert U.shape == V.shape == (5, 5) and np.all(U[:, -1] == 1)
    np.testing.assert_allclose(np.linalg.norm(U[:, :-1], axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(V[:, :-1], axis=1), 1, rtol=1e-5)
    assert np.ptp(V[:, -1]) > 0.1  # the bias differs from caption to caption
    # The training loss scores pairs by exactly these dot products.
    negatives = ~np.eye(5, dtype=bool)
    negatives[1, 3] = negatives[3, 1] = False
    expected, _ = bidirectional_ranking_loss(U @ V.T, model.margin, negatives)
    assert model.loss(features, captions)[0] == pytest.approx(expected, rel=1e-5)
    # Image -> caption ranks see the bias; caption -> image ranks cannot (one constant per
    # caption), so retrieve's answer is the one of the unbiased cosines.
    top = retrieve(model, captions[2], features, k=5)
    cosines = U[:, :-1] @ V[2, :-1]
    np.testing.assert_array_equal(top, np.argsort(-cosines, kind="stable"))
    idxs = np.arange(5)
    biased = ranking_metrics(U, V, idxs, ks=(1,))
    unbiased = ranking_metrics(U[:, :-1], V[:, :-1], idxs, ks=(1,))
    assert biased["t2i_R@1"] == unbiased["t2i_R@1"]
    best = np.argmax(V[:, -1])  # with a bias that large, every image's first answer
    model.params["w_bias"] = 100 * model.params["w_bias"]
    ranked = np.argmax(model.embed_images(features) @ model.embed_captions(captions).T, axis=1)
    assert np.all(ranked == best)


def test_bias_weight_scales_the_bias_that_ranking_adds_not_the_training_loss():
    features, captions = _small_batch()
    models = [
        _small_model("lstm", False, objective="contrastive", caption_bias=True, bias_weight=w)
        for w in (1.0, 0.5, 0.0)
    ]
    V = [model.embed_captions(captions) for model in models]
    np.testing.assert_allclose(V[1][:, :-1], V[0][:, :-1])
    np.testing.assert_allclose(V[1][:, -1], 0.5 * V[0][:, -1])
    assert not np.any(V[2][:, -1]) and np.any(V[0][:, -1])
    losses = [model.loss(features, captions)[0] for model in models]
    assert losses[0] == losses[1] == losses[2]  # training always adds the whole bias


def test_the_same_seed_builds_the_same_model():
    options = {"objective": "contrastive", "caption_bias": True, "image_hidden_dim": 7}
    a, b = (ImageSentenceRanker(9, 6, embed_dim=4, hidden_dim=4, **options) for _ in range(2))
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    c = ImageSentenceRanker(9, 6, embed_dim=4, hidden_dim=4, seed=1, **options)
    assert not np.array_equal(a.params["W_img_hidden"], c.params["W_img_hidden"])
    assert a.params["W_img_hidden"].shape == (6, 7) and a.params["W_img"].shape == (7, 4)
    assert a.params["w_bias"].shape == (4,) and not np.any(a.params["w_bias"])
    # The options are off by default; a bias head draws no numbers, so the other
    # weights of a seed stay those of the plain model.
    plain = ImageSentenceRanker(9, 6, embed_dim=4, hidden_dim=4)
    assert set(plain.params) == {"W_img", "b_img", "W_embed", "Wx", "Wh", "b", "W_sent", "b_sent"}
    biased = ImageSentenceRanker(9, 6, embed_dim=4, hidden_dim=4, caption_bias=True)
    assert all(np.array_equal(plain.params[k], biased.params[k]) for k in plain.params)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"objective": "softmax"}, "objective must be 'hinge'"),
        ({"temperature": 0}, "temperature"),
        ({"temperature": float("inf")}, "temperature"),
        ({"bias_weight": -0.5}, "bias_weight is how much of the caption bias"),
        ({"caption_bias": 1}, "caption_bias must be True or False"),
        ({"reg": -0.1}, "reg is the L2 weight decay"),
        ({"image_hidden_dim": -1}, "image_hidden_dim"),
    ],
)
def test_constructor_explains_bad_options(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match):
        ImageSentenceRanker(9, 6, **kwargs)


@pytest.mark.parametrize(
    "args, match",
    [
        ((np.eye(3), 0.0), "temperature must be a number > 0"),
        ((np.eye(3)[:2], 0.1), r"expected \(N, N\)"),
        ((np.eye(3), 0.1, np.eye(3, dtype=bool)), "False diagonal"),
        ((np.eye(3), 0.1, None, np.zeros(2)), r"log_q must be \(3,\)"),
        ((np.eye(3), 0.1, None, np.ones(3)), "log-probabilities"),
        ((np.eye(3), 0.1, None, np.array([0, -np.inf, 0])), "finite"),
    ],
)
def test_contrastive_loss_explains_bad_inputs(args, match):
    with pytest.raises((TypeError, ValueError), match=match):
        bidirectional_contrastive_loss(*args)
