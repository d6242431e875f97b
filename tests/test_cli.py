"""Tests for course/cli.py and course/demo.py: the commands run, help and errors are clear."""

import argparse
import os
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from course import cli
from course.cli import build_parser, main
from course.demo import DemoSettings, run_demo

COMMANDS = ("demo", "data", "release", "progress", "grade", "train", "sample", "caption")

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
        ["train", "--help"],
        ["train", "charrnn", "--help"],
        ["train", "tinyvgg", "--help"],
        ["sample", "--help"],
        ["sample", "charrnn", "--help"],
    ],
)
def test_help_for_every_command(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0
    assert "usage: course" in capsys.readouterr().out


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Return the commands registered on a parser (name -> its parser); {} for a leaf."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_help_lists_every_command(capsys):
    parser = build_parser()
    assert tuple(subcommands(parser)) == COMMANDS
    with pytest.raises(SystemExit):
        main(["--help"])
    lines = capsys.readouterr().out.splitlines()
    listed = [line.split()[0] for line in lines if line[:4] == " " * 4 and line[4:5] != " "]
    assert tuple(listed) == COMMANDS


def test_every_command_group_lists_its_commands_with_a_help_line(capsys):
    groups = [((), build_parser())]
    while groups:
        path, parser = groups.pop()
        for name, sub in subcommands(parser).items():
            groups.append(((*path, name), sub))
        if not subcommands(parser) or not path:
            continue
        with pytest.raises(SystemExit):
            main([*path, "--help"])
        out = capsys.readouterr().out
        for name in subcommands(parser):
            row = next((line for line in out.splitlines() if line.split()[:1] == [name]), "")
            assert len(row.split()) > 1, f"course {' '.join(path)} --help: no help line for {name}"
    assert set(subcommands(subcommands(build_parser())["train"])) == {
        "captioner",
        "charrnn",
        "ranker",
        "tinyvgg",
    }
    assert set(subcommands(subcommands(build_parser())["sample"])) == {"charrnn"}


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


def test_the_parser_loads_no_notebook_or_plotting_machinery():
    # Runners import what they use: `course --help` and a parse stay quick.
    code = (
        "import sys, course.cli\n"
        "course.cli.build_parser().parse_args(['release', 'a', '--out', 'b'])\n"
        "heavy = {'nbformat', 'nbclient', 'IPython', 'matplotlib', 'course.demo',\n"
        "         'course.classroom.release', 'course.classroom.progress'} & set(sys.modules)\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_only_training_commands_tune_the_allocator(tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(cli, "keep_freed_memory_once", lambda: calls.append(True))
    assert main(["progress", str(tmp_path / "nowhere.ipynb")]) == 1
    assert main(["sample"]) == 2
    assert calls == []
    assert main(["train"]) == 2
    assert calls == [True]


# ----- course release ----------------------------------------------------------------

KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
SOLUTION = "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n"


def run_command(argv: list[str]) -> int:
    """Run one command as the console script does, but let its errors raise."""
    args = build_parser().parse_args(argv)
    assert args.command == argv[0]
    return args.run(args)


@pytest.fixture
def course_dir(tmp_path):
    """A course folder with two valid masters in solutions/."""
    (tmp_path / "solutions").mkdir()
    for name in ("01_fc.ipynb", "02_relu.ipynb"):
        nb = new_notebook(cells=[new_code_cell(SOLUTION)], metadata={"kernelspec": KERNELSPEC})
        nbformat.write(nb, str(tmp_path / "solutions" / name))
    return tmp_path


def test_release_prints_what_it_wrote_then_up_to_date(course_dir, capsys, monkeypatch):
    monkeypatch.chdir(course_dir)
    assert run_command(["release", "solutions", "--out", "assignments"]) == 0
    out = capsys.readouterr().out
    wrote = os.path.join("assignments", "01_fc.ipynb")
    assert f"wrote {wrote}\n" in out and "02_relu.ipynb" in out
    assert run_command(["release", "solutions", "--out", "assignments"]) == 0
    assert capsys.readouterr().out == "up to date\n"
    assert run_command(["release", "solutions", "--out", "assignments", "--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_release_check_lists_stale_files_and_the_fix(course_dir, capsys, monkeypatch):
    monkeypatch.chdir(course_dir)
    assert run_command(["release", "solutions", "--out", "assignments", "--check"]) == 1
    out = capsys.readouterr().out
    assert os.path.join("assignments", "01_fc.ipynb") + " (missing)" in out
    assert "fix with: course release solutions --out assignments" in out
    assert not (course_dir / "assignments").exists()


def test_release_help_describes_each_option(capsys):
    with pytest.raises(SystemExit):
        run_command(["release", "--help"])
    help_text = capsys.readouterr().out
    assert "SRC" in help_text and "--out OUT" in help_text and "--check" in help_text
    assert "master notebooks" in help_text


def test_release_error_is_one_line_and_status_1(tmp_path, capsys):
    assert main(["release", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert (
        err
        == f"course release: error: {tmp_path / 'nowhere'}: no such folder of master notebooks\n"
    )


# ----- course progress ---------------------------------------------------------------


def test_progress_on_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.ipynb: no such notebook"):
        run_command(["progress", str(tmp_path / "nowhere.ipynb")])


@pytest.mark.parametrize(
    ("name", "text"), [("notes.txt", "hello"), ("broken.ipynb", "{not json")], ids=str
)
def test_progress_on_a_file_that_is_not_a_notebook_is_a_clear_error(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    with pytest.raises(ValueError, match=f"{name}: is not a"):
        run_command(["progress", str(tmp_path / name)])


def test_progress_help_names_the_timeout(capsys):
    with pytest.raises(SystemExit):
        run_command(["progress", "--help"])
    help_text = capsys.readouterr().out
    assert "NOTEBOOK" in help_text and "--timeout S" in help_text


# ----- errors a person can fix: one line, exit status 1 ------------------------------


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (PermissionError(13, "Permission denied", "/out/a.png"), "/out/a.png: permission denied"),
        (IsADirectoryError(21, "Is a directory", "/data/book"), "/data/book: is a directory"),
        (NotADirectoryError(20, "Not a directory", "/f/sub"), "/f/sub: not a directory"),
        (
            OSError(28, "No space left on device", "/out/b.png"),
            "/out/b.png: no space left on device",
        ),
        (
            OSError(18, "Invalid cross-device link", "a", None, "b"),
            "a -> b: invalid cross-device link",
        ),
        (OSError("the disk said no"), "the disk said no"),
        (MemoryError("conv_forward_fast: im2col needs 28.1 GiB"), "conv_forward_fast: im2col"),
    ],
    ids=["permission", "is-a-dir", "not-a-dir", "no-space", "two-files", "message", "memory"],
)
def test_os_and_memory_errors_are_one_line_naming_the_file(monkeypatch, capsys, error, line):
    def fail(args):
        raise error

    monkeypatch.setattr(cli, "_run_demo", fail)
    assert main(["demo"]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith(f"course demo: error: {line}")
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err


def test_train_charrnn_on_a_folder_is_one_line(tmp_path, capsys):
    assert main(["train", "charrnn", "--text", str(tmp_path), "--iterations", "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"course train charrnn: error: load_text_file: {tmp_path} is a folder")
    assert err.count("\n") == 1


@pytest.mark.parametrize("below", ["", "sub"])
def test_demo_out_that_is_a_file_fails_before_any_work(tmp_path, monkeypatch, capsys, below):
    import course.demo

    monkeypatch.setattr(course.demo, "load_shapes", lambda *a, **k: pytest.fail("made data"))
    file = tmp_path / "figures.png"
    file.write_bytes(b"a user's file")
    out = file / below if below else file
    assert main(["demo", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    if below:
        assert err == f"course demo: error: {out}: not a directory\n"
    else:
        assert err.startswith(f"course demo: error: run_demo: {file} is a file; the demo writes")
    assert file.read_bytes() == b"a user's file"


def test_demo_out_that_cannot_be_written_fails_before_any_work(tmp_path, monkeypatch, capsys):
    import course.demo

    monkeypatch.setattr(course.demo, "load_shapes", lambda *a, **k: pytest.fail("made data"))
    monkeypatch.setattr(course.demo.os, "access", lambda path, mode: False)
    assert main(["demo", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err == f"course demo: error: {tmp_path}: the demo cannot write its figures here\n"


@pytest.mark.parametrize("threads", ["0", "-2", "two"])
def test_train_tinyvgg_threads_must_be_positive_at_parse_time(monkeypatch, capsys, threads):
    monkeypatch.setattr(cli, "_run_train_tinyvgg", lambda args: pytest.fail("started training"))
    with pytest.raises(SystemExit) as info:
        main(["train", "tinyvgg", "--threads", threads])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --threads: must be a positive integer (1, 2, ...), got '{threads}'" in err


def test_data_info_with_course_data_naming_a_file(tmp_path, monkeypatch, capsys):
    file = tmp_path / "data.tar"
    file.write_bytes(b"")
    monkeypatch.setenv("COURSE_DATA", str(file))
    assert main(["data", "info"]) == 0
    out = capsys.readouterr().out
    assert f"{file} is a file, not a folder" in out and "Set COURSE_DATA to a folder" in out
    assert "mkdir" not in out


def test_data_info_with_an_unexpandable_course_data_is_one_line(monkeypatch, capsys):
    monkeypatch.setenv("COURSE_DATA", "~no_such_user_xyz/data")
    assert main(["data", "info"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("course data info: error: COURSE_DATA='~no_such_user_xyz/data': ")
    assert err.count("\n") == 1
