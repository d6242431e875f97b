"""Tests of course/recipes/charrnn.py: training with the Solver, saving, loading, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from course.cli import build_parser as _parser
from course.data import DatasetNotFoundError
from course.recipes.charrnn import (
    evaluate_bits_per_char,
    load_charrnn,
    sample_charrnn,
    train_charrnn,
)

TEXT = "the cat sat on the mat. " * 60  # 1,440 characters of a repeated sentence
TINY = {
    "hidden_dim": 16,
    "num_layers": 2,
    "seq_length": 12,
    "batch_size": 4,
    "learning_rate": 1e-2,
    "verbose": False,
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("charrnn")
    summary = train_charrnn(TEXT, max_iterations=40, out=out, **TINY)
    return summary, out


def test_training_lowers_the_loss(trained):
    summary, _ = trained
    history = summary["history"]
    # 26 windows of 4 streams x 12 steps per epoch: measured before training, after
    # the first epoch, and where the iteration limit cut the second short.
    assert [h["iteration"] for h in history] == [0, 26, 40]
    assert [h["epoch"] for h in history] == [0, 1, 2]
    assert history[-1]["val_bpc"] < history[0]["val_bpc"] - 1.0  # from the unigram start
    assert summary["best_val_bpc"] == min(h["val_bpc"] for h in history)
    assert 0 < summary["baseline_bpc"] < 1  # a 3-gram model knows this repeated sentence
    assert summary["iterations"] == 40
    assert all(p.dtype == np.float32 for p in summary["model"].params.values())


def test_training_is_deterministic_with_a_seed():
    a = train_charrnn(TEXT, max_iterations=3, seed=7, **TINY)
    b = train_charrnn(TEXT, max_iterations=3, seed=7, **TINY)
    for k in a["model"].params:
        np.testing.assert_array_equal(a["model"].params[k], b["model"].params[k])
    assert a["history"][-1]["val_bpc"] == b["history"][-1]["val_bpc"]


def test_rmsprop_and_time_budget():
    summary = train_charrnn(
        TEXT, update_rule="rmsprop", max_minutes=1e-4, max_iterations=None, **TINY
    )
    assert summary["iterations"] >= 1 and summary["seconds"] < 5


def test_training_argument_errors():
    with pytest.raises(ValueError, match="max_minutes or max_iterations"):
        train_charrnn(TEXT, max_minutes=None, max_iterations=None, **TINY)
    with pytest.raises(ValueError, match="update_rule"):
        train_charrnn(TEXT, update_rule="sgd", max_iterations=1, **TINY)
    with pytest.raises(ValueError, match="fewer than one batch"):
        train_charrnn(TEXT[:40], max_iterations=1, **TINY)


def test_save_load_round_trip(trained):
    summary, out = trained
    model, vocab, info = load_charrnn(out)
    assert vocab == summary["vocab"]
    for k, value in summary["model"].params.items():
        np.testing.assert_array_equal(model.params[k], value)
    saved = json.loads((out / "model.json").read_text())
    assert saved["baseline_bpc"] == pytest.approx(summary["baseline_bpc"])
    assert [h["val_bpc"] for h in info["history"]] == [h["val_bpc"] for h in summary["history"]]
    encoded = vocab.encode(TEXT[-200:])
    assert evaluate_bits_per_char(model, encoded) == pytest.approx(
        evaluate_bits_per_char(summary["model"], encoded)
    )
    text = model.sample(vocab, length=40, temperature=0.5, prime="the ", seed=0)
    assert text == summary["model"].sample(vocab, length=40, temperature=0.5, prime="the ")
    assert sample_charrnn(out, length=40, temperature=0.5, prime="the ") == text


def test_load_missing_model_says_to_train(tmp_path):
    with pytest.raises(FileNotFoundError, match="run `course train charrnn"):
        load_charrnn(tmp_path / "nothing")


def test_cli_parsers():
    args = _parser().parse_args(["train", "charrnn", "--minutes", "2", "--out", "m"])
    assert args.command == "train charrnn" and args.minutes == 2.0 and args.out == "m"
    assert args.cell == "lstm" and args.hidden_dim == 128 and args.text is None
    args = _parser().parse_args(["sample", "charrnn", "--argmax", "--prime", "In "])
    assert args.command == "sample charrnn" and args.argmax and args.prime == "In "
    assert args.temperature == 0.8 and args.length == 500


def test_cli_sample_prints_text(trained, capsys):
    _, out = trained
    parser = _parser()
    args = parser.parse_args(["sample", "charrnn", "--model", str(out), "--length", "30"])
    assert args.run(args) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("The ") and len(printed.rstrip("\n")) == 34


def test_cli_train_small(tmp_path, capsys):
    text_file = tmp_path / "text.txt"
    text_file.write_text(TEXT, encoding="utf-8")
    out = tmp_path / "model"
    argv = ["train", "charrnn", "--text", str(text_file), "--iterations", "2", "--out", str(out)]
    argv += ["--hidden-dim", "8", "--seq-length", "10", "--batch-size", "2"]
    args = _parser().parse_args(argv)
    assert args.run(args) == 0
    assert "3-gram baseline" in capsys.readouterr().out
    assert (out / "weights.npz").is_file() and (out / "model.json").is_file()


def test_cli_errors(tmp_path):
    parser = _parser()
    args = parser.parse_args(["train", "charrnn", "--text", str(tmp_path / "missing.txt")])
    with pytest.raises(DatasetNotFoundError, match="missing.txt"):
        args.run(args)
    args = parser.parse_args(["sample", "charrnn", "--model", str(tmp_path / "none")])
    with pytest.raises(FileNotFoundError, match="course train charrnn"):
        args.run(args)
    args = parser.parse_args(["sample", "charrnn", "--temperature", "0"])
    with pytest.raises(ValueError, match="temperature must be a number > 0"):
        args.run(args)
