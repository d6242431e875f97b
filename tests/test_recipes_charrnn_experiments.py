"""Tests of course/recipes/charrnn_experiments.py: the short runs behind notebook 4's tips."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest

from course.recipes.charrnn_experiments import (
    char_lm_data,
    moving_average,
    plot_loss_curves,
    plot_norms_and_losses,
    train_char_run,
)

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def lm():
    return char_lm_data(max_chars=12_000, batch_size=8, seq_length=32)


def test_char_lm_data_cuts_the_streams(lm):
    data, vocab = lm["data"], lm["vocab"]
    assert len(lm["train_text"]) + len(lm["val_text"]) == 12_000
    assert data["X_train"].shape[1] == 32 and data["X_train"].shape[0] % 8 == 0
    # y is x shifted by one character within each stream
    np.testing.assert_array_equal(data["X_train"][:, 1:], data["y_train"][:, :-1])
    assert data["X_val"].max() < len(vocab)


def test_a_run_records_every_update_and_is_deterministic(lm):
    run = train_char_run(lm, 12, hidden_dim=8, verbose=False)
    again = train_char_run(lm, 12, hidden_dim=8, verbose=False)
    assert run.loss_history.shape == run.grad_norms.shape == (12,)
    np.testing.assert_array_equal(run.loss_history, again.loss_history)
    assert run.diverged_at is None and math.isfinite(run.val_bits)
    assert run.val_bits_history.size >= 1 and run.val_bits == run.val_bits_history.min()
    assert run.num_params == sum(p.size for p in run.model.params.values())
    assert "bits/char" in run.summary()


def test_log_frequency_biases_start_at_the_unigram_loss(lm):
    V = len(lm["vocab"])
    plain = train_char_run(lm, 1, hidden_dim=8, log_frequency_bias=False, verbose=False)
    biased = train_char_run(lm, 1, hidden_dim=8, verbose=False)
    assert abs(plain.loss_history[0] - math.log(V)) < 0.3  # about uniform
    assert biased.loss_history[0] < plain.loss_history[0] - 0.5


def test_clipping_keeps_an_exploding_relu_rnn_training():
    # Notebook 4's configuration (on 5 seeds it diverged within 5 updates without clipping).
    lm = char_lm_data()
    settings = {
        "cell": "rnn",
        "activation": "relu",
        "hidden_dim": 64,
        "recurrent_scale": 1.6,
        "update_rule": "sgd",
        "learning_rate": 1.0,
        "verbose": False,
    }
    unclipped = train_char_run(lm, 30, grad_clip=None, **settings)
    clipped = train_char_run(lm, 30, grad_clip=5.0, **settings)
    assert unclipped.diverged_at is not None and unclipped.diverged_at < 30
    assert "diverged at update" in unclipped.summary()
    assert clipped.diverged_at is None and clipped.loss_history.size == 30
    assert clipped.grad_norms.max() > 5  # the norms are recorded before clipping
    assert clipped.model.activation == "relu"
    ax_norm, ax_loss = plot_norms_and_losses({"off": unclipped, "on": clipped}, max_norm=5.0)
    assert len(ax_norm.lines) == 3  # two runs and the threshold
    labels = [line.get_label() for line in ax_loss.lines]
    assert f"off: loss not finite at update {unclipped.diverged_at}" in labels


def test_recurrent_scale_multiplies_every_recurrent_matrix(lm):
    settings = {"hidden_dim": 8, "num_layers": 2, "learning_rate": 0.0, "verbose": False}
    with pytest.warns(UserWarning):  # learning rate 0: the Solver warns that nothing changes
        one = train_char_run(lm, 1, **settings)
        two = train_char_run(lm, 1, recurrent_scale=2.0, **settings)
    for layer in (1, 2):
        np.testing.assert_allclose(
            two.model.params[f"Wh{layer}"], 2 * one.model.params[f"Wh{layer}"], rtol=1e-6
        )


def test_moving_average_and_plot(lm):
    np.testing.assert_allclose(moving_average(np.arange(6.0), 3), [1, 2, 3, 4])
    np.testing.assert_array_equal(moving_average(np.ones(2), 5), np.ones(2))
    with pytest.raises(ValueError, match="window"):
        moving_average(np.ones(3), 0)
    run = train_char_run(lm, 6, hidden_dim=8, verbose=False)
    ax = plot_loss_curves({"a": run, "b": run}, window=2)
    assert len(ax.lines) == 2 and ax.lines[0].get_xdata()[0] == 2
    assert len(plot_loss_curves({"a": run}, window=1, updates=4).lines[0].get_xdata()) == 4
