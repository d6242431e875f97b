"""Tests for course/cli.py and course/demo.py: the commands run, help and errors are clear."""

import subprocess
import sys

import pytest

from course.cli import main
from course.demo import DemoSettings, run_demo

FIGURES = (
    "samples",
    "training_curves",
    "first_layer_weights",
    "convnet_training_curves",
    "convnet_filters",
)


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["demo", "--help"],
        ["data", "info", "--help"],
        ["release", "--help"],
        ["progress", "--help"],
    ],
)
def test_help_for_every_command(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0
    assert "usage: course" in capsys.readouterr().out


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "commands" in capsys.readouterr().out


def test_data_info_names_the_cifar_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    assert main(["data", "info"]) == 0
    out = capsys.readouterr().out
    assert "circle, square, triangle" in out
    assert str(tmp_path / "cifar-10-batches-py") in out
    assert "not found" in out and "tar -xzf" in out


def test_demo_command_writes_figures(tmp_path, capsys):
    assert main(["demo", "--num-train", "300", "--epochs", "1", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "validation accuracy" in out and str(tmp_path) in out
    assert "TinyVGG ConvNet" in out and "Pretrained TinyVGG" in out
    for name in FIGURES:
        assert (tmp_path / f"{name}.png").stat().st_size > 1000


def test_demo_bad_setting_is_an_error_message_not_a_traceback(tmp_path, capsys):
    assert main(["demo", "--num-train", "-5", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("course demo: error:") and "num_train" in err


def test_run_demo_learns_something(tmp_path):
    settings = DemoSettings(
        num_train=1000,
        num_val=200,
        num_test=200,
        hidden_dims=(64,),
        num_epochs=3,
        batch_size=100,
        conv_num_train=300,
        conv_epochs=1,
    )
    results = run_demo(tmp_path, settings, verbose=False)
    assert results["train_acc"] > 0.3  # chance is 0.10
    assert set(results["figures"]) == set(FIGURES)
    assert results["conv_train_seconds"] > 0 and 0 <= results["conv_test_acc"] <= 1
    assert results["pretrained_test_acc"] > 0.9  # the shipped model, on the demo's test images


def test_python_dash_m_course():
    result = subprocess.run(
        [sys.executable, "-m", "course", "--help"], capture_output=True, text=True, check=True
    )
    assert "demo" in result.stdout and "data" in result.stdout
