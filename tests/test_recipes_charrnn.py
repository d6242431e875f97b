"""Tests of course/recipes/charrnn.py: training with the Solver, saving, loading, the CLI."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from course.artefacts import ArtefactError, NotSavedError
from course.cli import build_parser as _parser
from course.cli import main
from course.data import DatasetNotFoundError
from course.models import CharRNN
from course.recipes.charrnn import (
    evaluate_bits_per_char,
    load_charrnn,
    sample_charrnn,
    train_charrnn,
)
from course.solver import TrainingInterrupted

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


# ----- nothing a user saved is lost; nothing broken is saved or loaded silently ----------


def _copy_model(source, target):
    target.mkdir()
    for name in ("weights.npz", "model.json"):
        (target / name).write_bytes((source / name).read_bytes())
    return target


def test_a_saved_model_is_replaced_only_with_overwrite(trained, tmp_path, capsys):
    _, out = trained
    kept = _copy_model(out, tmp_path / "kept")
    before = (kept / "weights.npz").read_bytes()
    with pytest.raises(FileExistsError, match="--overwrite"):
        train_charrnn(TEXT, max_iterations=40, out=kept, **TINY)
    assert (kept / "weights.npz").read_bytes() == before
    argv = ["train", "charrnn", "--iterations", "1", "--out", str(kept)]
    assert main(argv) == 1
    assert "--overwrite" in capsys.readouterr().err
    train_charrnn(TEXT, max_iterations=40, out=kept, overwrite=True, seed=1, **TINY)
    assert (kept / "weights.npz").read_bytes() != before
    assert not [p for p in kept.iterdir() if p.name.startswith(".")]  # no temporary left


def test_out_that_is_a_file_is_refused_before_training(tmp_path):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    with pytest.raises(NotADirectoryError, match="is not a folder"):
        train_charrnn(TEXT, max_iterations=40, out=a_file, **TINY)
    assert a_file.read_text() == "mine"


def test_a_diverged_run_saves_nothing(tmp_path):
    out = tmp_path / "model"
    with pytest.raises((NotSavedError, FloatingPointError), match="nothing was saved"):
        train_charrnn(TEXT, max_iterations=30, out=out, **{**TINY, "learning_rate": 1e6})
    assert not out.exists() or not any(out.iterdir())


def test_learning_rate_zero_warns_once_and_negative_is_refused(recwarn):
    with pytest.raises(ValueError, match="learning_rate must be a positive number"):
        train_charrnn(TEXT, max_iterations=1, **{**TINY, "learning_rate": -1e-3})
    train_charrnn(TEXT, max_iterations=1, **{**TINY, "learning_rate": 0.0})
    warned = [w for w in recwarn if "learning_rate=0" in str(w.message)]
    assert len(warned) == 1 and "train_charrnn" in str(warned[0].message)


def test_ctrl_c_saves_the_best_model_so_far_and_says_where(tmp_path, monkeypatch):
    calls = {"n": 0}
    real_loss = CharRNN.loss

    def loss(self, X, y=None):
        if y is not None:
            calls["n"] += 1
            if calls["n"] == 20:  # in the first epoch (26 windows): Ctrl-C
                raise KeyboardInterrupt
        return real_loss(self, X, y)

    monkeypatch.setattr(CharRNN, "loss", loss)
    out = tmp_path / "model"
    with pytest.raises(TrainingInterrupted, match=f"saved to {out}") as err:
        train_charrnn(TEXT, max_iterations=300, out=out, **TINY)
    iterations = err.value.summary["iterations"]
    assert 10 < iterations < 20  # the loss's first calls measured the untrained model
    model, _, info = load_charrnn(out)
    assert info["best_val_bpc"] < info["untrained_bpc"]
    assert info["iterations"] == iterations


def _break(path, how):
    if how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    elif how == "nan":
        with np.load(path) as data:
            arrays = {k: data[k] for k in data.files}
        arrays["W_vocab"] = np.full_like(arrays["W_vocab"], np.nan)
        np.savez(path, **arrays)
    elif how == "other weights":
        with np.load(path) as data:
            arrays = {k: data[k] + 1 for k in data.files}
        np.savez(path, **arrays)
    else:  # a change to the JSON record
        record = json.loads(path.read_text())
        how(record)
        path.write_text(json.dumps(record))


BROKEN_MODELS = {
    "empty weights": ("weights.npz", "empty", "is empty"),
    "truncated weights": ("weights.npz", "truncated", "damaged"),
    "nan weights": ("weights.npz", "nan", "'W_vocab' hold NaN or inf"),
    "weights of another model": ("weights.npz", "other weights", "do not belong together"),
    "empty record": ("model.json", "empty", "is empty"),
    "truncated record": ("model.json", "truncated", "not valid JSON"),
    "record without vocab": ("model.json", lambda r: r.pop("vocab"), "has no 'vocab'"),
    "record without cell": ("model.json", lambda r: r["model"].pop("cell"), "has no 'cell'"),
    "bad cell": ("model.json", lambda r: r["model"].update(cell="gru"), "does not describe"),
    "bigger model": (
        "model.json",
        lambda r: r["model"].update(hidden_dim=32),
        r"has shape .* but the model .*model.json describes needs",
    ),
    "vocabulary of another size": (
        "model.json",
        lambda r: r["model"].update(vocab_size=99),
        "vocabulary has",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN_MODELS))
def test_a_broken_saved_model_is_one_message(trained, tmp_path, case, capsys):
    name, how, expected = BROKEN_MODELS[case]
    folder = _copy_model(trained[1], tmp_path / "model")
    _break(folder / name, how)
    with pytest.raises(ArtefactError, match=expected) as err:
        load_charrnn(folder)
    assert str(folder / name) in str(err.value)
    assert f"course train charrnn --out {folder} --overwrite" in str(err.value)
    assert main(["sample", "charrnn", "--model", str(folder)]) == 1
    assert capsys.readouterr().err.count("\n") == 1  # one line, no traceback


def test_ctrl_c_on_the_command_line_saves_and_says_where(tmp_path):
    text_file = tmp_path / "text.txt"
    text_file.write_text(TEXT, encoding="utf-8")
    out = tmp_path / "model"
    argv = [sys.executable, "-m", "course", "train", "charrnn", "--text", str(text_file)]
    argv += ["--out", str(out), "--iterations", "100000", "--minutes", "2"]
    argv += ["--hidden-dim", "16", "--seq-length", "12", "--batch-size", "4"]
    process = subprocess.Popen(
        argv,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        # As in a terminal: a test run started in the background (`make test &`, some CI
        # runners) ignores SIGINT, and a child would inherit that and never see Ctrl-C.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    seen = ""
    while "it/s" not in seen and process.poll() is None:  # the progress bar is moving
        seen += process.stderr.read(1)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    assert "the best model so far" in err and f"saved to {out}" in err
    model, _, info = load_charrnn(out)
    assert info["iterations"] > 0 and info["best_val_bpc"] < info["untrained_bpc"]


def test_a_relu_rnn_is_saved_and_loaded_as_one(tmp_path):
    from course.data import Vocabulary
    from course.recipes.charrnn import save_charrnn

    vocab = Vocabulary.from_sequences([TEXT], specials=False)
    model = CharRNN(len(vocab), hidden_dim=8, num_layers=1, cell="rnn", activation="relu")
    save_charrnn(tmp_path / "relu", model, vocab)
    loaded, _, _ = load_charrnn(tmp_path / "relu")
    assert loaded.activation == "relu"
    x = vocab.encode(TEXT[:40]).reshape(2, 20)
    np.testing.assert_array_equal(loaded.loss(x), model.loss(x))
