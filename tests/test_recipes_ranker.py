"""Tests of course/recipes/ranker.py: the Solver's pairs, and training that learns to match.

The training test uses synthetic "images": random feature vectors made from
a few latent attributes, each image with three captions that name some of
its attributes, so that matching captions to images is learnable.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from course.data import redraw_captions
from course.models.ranking import ImageSentenceRanker, ranking_metrics, retrieve
from course.recipes.ranker import caption_pairs, train_ranker

NULL, START, END = 0, 1, 2


A, K = 4, 4  # latent attributes of an image, and values of each
FIRST_WORD = 5  # 3, 4 are fillers ("a", "with"); then one word per (attribute, value)
VOCAB = FIRST_WORD + A * K


def _synthetic_split(codes, num_images, rng, per_image=3, T=9):
    """Images as sums of attribute codes plus noise; captions naming 3 of the 4 attributes."""
    attributes = rng.integers(0, K, size=(num_images, A))  # (N, A)
    features = codes[np.arange(A), attributes].sum(axis=1)  # (N, F)
    features += 0.3 * rng.standard_normal(features.shape)
    captions = np.full((num_images * per_image, T), NULL)
    for i in range(num_images):
        for c in range(per_image):
            words = [START]
            for a in rng.permutation(A)[:3]:
                if rng.random() < 0.3:
                    words.append(int(rng.choice([3, 4])))
                words.append(FIRST_WORD + a * K + attributes[i, a])
            words.append(END)
            captions[i * per_image + c, : len(words)] = words
    return features, captions, np.repeat(np.arange(num_images), per_image)


def test_caption_pairs_repeat_each_image_for_its_captions():
    features = np.arange(6.0).reshape(3, 2)
    captions = np.arange(8).reshape(4, 2)
    X, y = caption_pairs(features, captions, np.array([2, 0, 0, 1]))
    np.testing.assert_array_equal(X, features[[2, 0, 0, 1]])
    assert y is captions


def test_training_with_the_solver_learns_to_match():
    # 300 training images with 3 captions each; 100 held-out images (300
    # captions). A random ranking puts one of an image's 3 captions among the
    # top 5 of 300 with probability 1 - C(297, 5) / C(300, 5) = 4.9%; the
    # trained LSTM reaches about 95% (R@1 about 50%: images that share the
    # captioned attributes cannot be told apart) in about a second.
    rng = np.random.default_rng(0)
    codes = rng.standard_normal((A, K, 24))  # (attribute, value, F)
    train = _synthetic_split(codes, 300, rng)
    val = _synthetic_split(codes, 100, rng)
    model = ImageSentenceRanker(VOCAB, 24, embed_dim=32, wordvec_dim=16, hidden_dim=32, seed=0)
    solver, history = train_ranker(
        model, train, val, learning_rate=3e-3, num_epochs=10, batch_size=100, verbose=False
    )
    assert solver.metric == "loss" and len(history) == 10
    assert solver.val_metric_history[-1] < 0.5 * solver.val_metric_history[0]
    metrics = ranking_metrics(model.embed_images(val[0]), model.embed_captions(val[1]), val[2])
    chance = 1 - math.comb(300 - 3, 5) / math.comb(300, 5)
    assert metrics["i2t_R@5"] > chance + 0.6, metrics
    assert metrics["t2i_R@5"] > 5 / 100 + 0.6, metrics
    assert metrics["i2t_median_rank"] <= 3
    best = history[solver.best_epoch - 1]  # the model holds the best epoch's parameters
    assert metrics["i2t_R@5"] == pytest.approx(best["i2t_R@5"])
    target = val[2][0]
    assert target in retrieve(model, val[1][0], val[0], k=10)


def test_contrastive_training_learns_to_match_and_is_deterministic():
    # The softmax objective with a caption bias and a hidden image layer, on the same
    # synthetic images; train_ranker hands the model the training sentences' counts.
    rng = np.random.default_rng(0)
    codes = rng.standard_normal((A, K, 24))
    train = _synthetic_split(codes, 300, rng)
    val = _synthetic_split(codes, 100, rng)
    options = {"objective": "contrastive", "temperature": 0.1, "caption_bias": True,
               "bias_weight": 0.5, "image_hidden_dim": 32, "reg": 1e-4}  # fmt: skip
    runs = []
    for _ in range(2):
        model = ImageSentenceRanker(
            VOCAB, 24, embed_dim=32, wordvec_dim=16, hidden_dim=32, seed=0, **options
        )
        _, history = train_ranker(
            model, train, val, learning_rate=3e-3, num_epochs=6, batch_size=100, verbose=False,
            select_by="i2t_R@5", seed=0,
        )  # fmt: skip
        runs.append((model, history))
    (model, history), (again, history_again) = runs
    assert history == history_again  # the same seeds, the same numbers
    assert all(np.array_equal(model.params[k], again.params[k]) for k in model.params)
    words = train[1][0]
    count = sum(np.array_equal(row, words) for row in train[1])
    log_q = model.sentence_frequencies.log_q(words[None])
    np.testing.assert_allclose(log_q, [np.log(count / len(train[1]))])
    U, V = model.embed_images(val[0]), model.embed_captions(val[1])
    metrics = ranking_metrics(U, V, val[2])
    chance = 1 - math.comb(300 - 3, 5) / math.comb(300, 5)
    assert metrics["i2t_R@5"] > chance + 0.6, metrics
    assert metrics["t2i_R@5"] > 5 / 100 + 0.6, metrics


# ----- the recipe on caption scenes ----------------------------------------------------


def test_the_scene_recipe_trains_reports_and_saves(tmp_path, monkeypatch, capsys):
    from course.cli import main
    from course.recipes.ranker import RankerRecipe, train_scene_ranker

    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "data"))
    recipe = RankerRecipe(
        num_train=200, num_val=20, num_test=20, embed_dim=16, wordvec_dim=8, hidden_dim=16,
        batch_size=50, learning_rate=3e-3, max_epochs=2, minutes=1.0,
    )  # fmt: skip
    draws = []

    def recorded(data, draw, **kwargs):  # the recipe's redraws, each epoch's new captions
        draws.append(draw)
        return redraw_captions(data, draw, **kwargs)

    monkeypatch.setattr("course.recipes.ranker.redraw_captions", recorded)
    results = train_scene_ranker(recipe, out=tmp_path / "out", verbose=False)
    assert draws == [1, 2]
    assert {"i2t_R@5", "t2i_R@5", "i2t_median_rank"} <= set(results["metrics"])
    assert len(results["history"]) == 2 and len(results["examples"]) == 3
    assert set(results["metrics_by_truth"]) == {"i2t_P@1", "i2t_P@5", "t2i_P@1", "t2i_P@5"}
    assert 0.0 < results["i2t_R@5_ceiling"] <= 1.0
    assert all(len(example["top5"]) == 5 for example in results["examples"])
    assert (tmp_path / "out" / "ranker-lstm.npz").is_file()
    with pytest.raises(FileExistsError, match="--overwrite"):
        train_scene_ranker(recipe, out=tmp_path / "out", verbose=False)
    # learning_rate=0 is said once, by the recipe, not again by its Solver.
    with pytest.warns(UserWarning) as warned:
        train_scene_ranker(dataclasses.replace(recipe, learning_rate=0.0, max_epochs=1), None)
    zero = [w for w in warned if "learning_rate=0" in str(w.message)]
    assert [str(w.message).split(":")[0] for w in zero] == ["train_scene_ranker"]
    train_scene_ranker(dataclasses.replace(recipe, fresh_captions=False), None, verbose=False)
    assert draws == [1, 2, 1]  # the learning_rate=0 run redrew once; this one never
    with pytest.raises(ValueError, match="threads"):
        train_scene_ranker(recipe, None, threads=0)
    # The command, on the same small scenes (its features are cached by now).
    monkeypatch.setattr("course.recipes.ranker.RankerRecipe", lambda: recipe)
    assert main(["train", "ranker", "--epochs", "1", "--minutes", "1"]) == 0
    printed = capsys.readouterr().out
    assert "distinct captions" in printed and printed.count(" -> images ") == 3
    assert "judged by the scenes" in printed and "ceiling of i2t_R@5" in printed


def test_select_by_keeps_the_epoch_with_the_best_recall():
    rng = np.random.default_rng(1)
    codes = rng.standard_normal((A, K, 24))
    train = _synthetic_split(codes, 200, rng)
    val = _synthetic_split(codes, 60, rng)
    model = ImageSentenceRanker(VOCAB, 24, embed_dim=16, wordvec_dim=8, hidden_dim=16, seed=0)
    _, history = train_ranker(
        model, train, val, learning_rate=3e-3, num_epochs=4, batch_size=50, verbose=False,
        select_by="t2i_R@1",
    )  # fmt: skip
    final = ranking_metrics(model.embed_images(val[0]), model.embed_captions(val[1]), val[2])
    assert final["t2i_R@1"] == pytest.approx(max(h["t2i_R@1"] for h in history))
    with pytest.raises(ValueError, match="select_by"):
        train_ranker(model, train, val, num_epochs=1, verbose=False, select_by="accuracy")
