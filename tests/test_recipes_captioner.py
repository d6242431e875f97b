"""Tests of course/recipes/captioner.py and caption_pipeline.py: a tiny captioner trained,
saved, loaded and evaluated, and the commands `course train captioner` and `course caption`.

The features of the scenes are cached in a temporary $COURSE_DATA, so the module's trainings
share them.
"""

from __future__ import annotations

import json

import matplotlib.image
import numpy as np
import pytest

from course.artefacts import ArtefactError
from course.cli import main
from course.data import caption_accuracy, generate_caption_scenes
from course.recipes.caption_pipeline import load_captioner, open_captioner, read_scene_image
from course.recipes.captioner import CaptionerRecipe, train_captioner

TINY = CaptionerRecipe(
    num_train=300,
    num_val=30,
    num_test=30,
    wordvec_dim=16,
    hidden_dim=32,
    batch_size=50,
    learning_rate=1e-2,
    max_epochs=3,
    minutes=2.0,
    beam_width=3,
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    cache = tmp_path_factory.mktemp("course_data")
    out = tmp_path_factory.mktemp("captioner")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COURSE_DATA", str(cache))
        results = train_captioner(TINY, out=out, verbose=False)
    return results, out, cache


@pytest.fixture
def data_root(trained, monkeypatch):
    monkeypatch.setenv("COURSE_DATA", str(trained[2]))


def test_training_learns_and_reports_the_metrics(trained):
    results, out, _ = trained
    assert results["best_val_loss"] < results["untrained_val_loss"]
    assert [h["epoch"] for h in results["history"]] == [1, 2, 3]
    for decoding in ("greedy", "beam"):
        metrics = results["metrics"][decoding]
        assert 0 <= metrics["exact"] <= 1 and 0 < metrics["BLEU-1"] <= 1
        assert metrics["parsed"] > 0.5  # even a tiny model mostly speaks the grammar
    assert len(results["examples"]) == 3 and len(results["examples"][0]["true"]) == 5
    assert sorted(p.name for p in out.iterdir()) == ["captioner-lstm.json", "captioner-lstm.npz"]


def test_save_and_load_round_trip(trained, data_root):
    results, out, _ = trained
    loaded = load_captioner("captioner-lstm", out)
    images, _ = generate_caption_scenes(5, seed=9)
    expected = results["captioner"].caption(images, beam_width=3)
    got = loaded.caption(images, beam_width=3)
    assert got[0] == expected[0]
    np.testing.assert_allclose(got[1], expected[1], rtol=1e-6)
    assert loaded.record["metrics"] == results["metrics"]
    assert open_captioner(out).record == loaded.record
    assert open_captioner(out / "captioner-lstm.json").record == loaded.record


def test_a_saved_captioner_is_replaced_only_with_overwrite(trained, monkeypatch):
    _, out, _ = trained
    monkeypatch.setattr("course.recipes._scene_features.load_caption_scenes", pytest.fail)
    with pytest.raises(FileExistsError, match="--overwrite"):
        train_captioner(TINY, out=out, verbose=False)
    with pytest.raises(ValueError, match="learning_rate must be a positive number"):
        train_captioner(CaptionerRecipe(learning_rate=-1.0), out=None, verbose=False)


def _copy(out, tmp_path):
    for name in ("captioner-lstm.npz", "captioner-lstm.json"):
        (tmp_path / name).write_bytes((out / name).read_bytes())
    return tmp_path / "captioner-lstm.npz", tmp_path / "captioner-lstm.json"


def _edit_record(path, change):
    record = json.loads(path.read_text())
    change(record)
    path.write_text(json.dumps(record))


BROKEN = {
    "empty weights": ("npz", lambda p: p.write_bytes(b""), "is empty"),
    "truncated weights": ("npz", lambda p: p.write_bytes(p.read_bytes()[:500]), "damaged"),
    "bad json": ("json", lambda p: p.write_text("{"), "not valid JSON"),
    "no config": ("json", lambda p: _edit_record(p, lambda r: r.pop("config")), "no 'config'"),
    "bad config": (
        "json",
        lambda p: _edit_record(p, lambda r: r["config"].update(cell_type="gru")),
        "does not describe a captioner",
    ),
    "other format": (
        "json",
        lambda p: _edit_record(p, lambda r: r.update(format="x")),
        "not written by train_captioner",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_captioner_is_one_message(trained, tmp_path, case):
    which, breaks, expected = BROKEN[case]
    npz, meta = _copy(trained[1], tmp_path)
    breaks(npz if which == "npz" else meta)
    with pytest.raises(ArtefactError, match=expected) as err:
        load_captioner("captioner-lstm", tmp_path)
    assert "course train captioner" in str(err.value)


def test_caption_command_prints_captions_and_their_verdicts(trained, data_root, capsys):
    _, out, _ = trained
    assert main(["caption", "--model", str(out), "--num", "2", "--beam", "3"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("scene ") == 2 and "true captions:" in printed and "beam 3" in printed


def test_caption_command_reads_an_image_file(trained, data_root, tmp_path, capsys):
    _, out, _ = trained
    images, _ = generate_caption_scenes(1, seed=4)
    path = tmp_path / "scene.png"
    matplotlib.image.imsave(path, images[0])
    np.testing.assert_array_equal(read_scene_image(path), images[0])
    assert main(["caption", "--model", str(out), "--image", str(path)]) == 0
    assert "scene.png:" in capsys.readouterr().out
    big = tmp_path / "big.png"
    matplotlib.image.imsave(big, np.zeros((80, 64, 3), dtype=np.uint8))
    assert main(["caption", "--model", str(out), "--image", str(big)]) == 1
    assert "is 64x80 pixels" in capsys.readouterr().err


def test_caption_command_errors_are_one_line(tmp_path, capsys):
    assert main(["caption", "--model", str(tmp_path)]) == 1
    assert "holds no captioner" in capsys.readouterr().err
    assert main(["caption", "--model", "captioner-gru"]) == 1
    assert "course train captioner" in capsys.readouterr().err


def test_train_captioner_command_parses_its_options():
    from course.cli import build_parser

    args = build_parser().parse_args(["train", "captioner", "--cell", "rnn", "--minutes", "3"])
    assert args.cell == "rnn" and args.minutes == 3.0 and args.command == "train captioner"


def test_a_captioner_of_another_feature_net_is_refused(trained, tmp_path):
    _, meta = _copy(trained[1], tmp_path)
    _edit_record(meta, lambda r: r["features"].update(net_sha256="0" * 64))
    with pytest.raises(ArtefactError, match="trained on the features of another"):
        load_captioner("captioner-lstm", tmp_path)


def test_the_shipped_captioner_describes_held_out_scenes():
    captioner = load_captioner()  # the package's captioner-lstm
    metrics = captioner.record["metrics"]
    assert metrics["beam"]["exact"] >= 0.8 and metrics["beam"]["BLEU-4"] >= 0.5
    images, scenes = generate_caption_scenes(40, seed=2026, stream=5)  # scenes never seen
    texts, _ = captioner.caption(images, beam_width=5)
    assert caption_accuracy(texts, scenes)["exact"] >= 0.6
