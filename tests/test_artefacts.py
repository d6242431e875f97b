"""Tests for course/artefacts.py: atomic writes that never replace by accident, careful reads."""

import json

import numpy as np
import pytest

from course.artefacts import (
    ArtefactError,
    NotSavedError,
    arrays_digest,
    read_arrays,
    read_record,
    save_arrays_and_record,
    write_file,
)

RESTORE = "retrain it with `course train toy`"


def test_write_file_never_replaces_without_overwrite(tmp_path):
    target = tmp_path / "model.npz"
    target.write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="was not replaced"):
        write_file(target, lambda handle: handle.write(b"new"))
    assert target.read_bytes() == b"precious"
    write_file(target, lambda handle: handle.write(b"new"), overwrite=True)
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]  # no temporary left


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt])
def test_a_write_that_fails_half_way_leaves_the_old_file_and_no_temporary(tmp_path, error):
    target = tmp_path / "model.npz"
    target.write_bytes(b"precious")

    def half_then_fail(handle):
        handle.write(b"half a fi")
        raise error

    with pytest.raises(type(error) if isinstance(error, OSError) else error):
        write_file(target, half_then_fail, overwrite=True)
    assert target.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_save_and_read_round_trip_with_the_digest(tmp_path):
    arrays = {"W": np.arange(6.0).reshape(2, 3), "b": np.zeros(3, dtype=np.float32)}
    npz, record = save_arrays_and_record(
        tmp_path / "m.npz", arrays, tmp_path / "m.json", {"note": "hi"}
    )
    info = read_record(record, RESTORE, required=("note", "arrays_sha256"))
    assert info["arrays_sha256"] == arrays_digest(arrays)
    back = read_arrays(npz, RESTORE, {"W": (2, 3), "b": None}, digest=info["arrays_sha256"])
    for name, value in arrays.items():
        np.testing.assert_array_equal(back[name], value)
        assert back[name].dtype == value.dtype
    with pytest.raises(FileExistsError):
        save_arrays_and_record(npz, arrays, record, {})


def test_the_digest_sees_values_dtypes_shapes_and_names():
    base = {"W": np.zeros((2, 3))}
    digests = {
        arrays_digest(arrays)
        for arrays in (
            base,
            {"W": np.zeros((3, 2))},
            {"W": np.zeros((2, 3), dtype=np.float32)},
            {"V": np.zeros((2, 3))},
            {"W": np.eye(2, 3)},
        )
    }
    assert len(digests) == 5
    assert arrays_digest({"W": np.zeros((2, 3))}) == arrays_digest(base)


def test_non_finite_arrays_are_never_saved(tmp_path):
    with pytest.raises(NotSavedError, match="'W' hold NaN or inf"):
        save_arrays_and_record(
            tmp_path / "m.npz", {"W": np.array([1.0, np.nan])}, tmp_path / "m.json", {}
        )
    assert list(tmp_path.iterdir()) == []


def test_pickled_objects_are_never_loaded(tmp_path):
    path = tmp_path / "m.npz"
    np.savez(path, W=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(ArtefactError, match="damaged or not an .npz file") as err:
        read_arrays(path, RESTORE)
    assert RESTORE in str(err.value)


def test_a_record_that_is_not_an_object_or_misses_keys(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(json.dumps({"a": 1}))
    with pytest.raises(ArtefactError, match="incomplete: it has no 'b', 'c'"):
        read_record(path, RESTORE, required=("a", "b", "c"))
    path.write_bytes(b"\xff\xfe not text")
    with pytest.raises(ArtefactError, match="cannot be read"):
        read_record(path, RESTORE)
    with pytest.raises(FileNotFoundError):
        read_record(tmp_path / "missing.json", RESTORE)


def test_a_file_system_without_hard_links_still_never_replaces(tmp_path, monkeypatch):
    def no_links(source, target):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr("os.link", no_links)
    target = tmp_path / "model.npz"
    write_file(target, lambda handle: handle.write(b"first"))
    assert target.read_bytes() == b"first"
    with pytest.raises(FileExistsError):
        write_file(target, lambda handle: handle.write(b"second"))
    assert target.read_bytes() == b"first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_written_files_get_the_mode_open_would_give_them(tmp_path):
    import os

    umask = os.umask(0o022)
    try:
        new = write_file(tmp_path / "new.npz", lambda handle: handle.write(b"x"))
        assert new.stat().st_mode & 0o777 == 0o644
        kept = tmp_path / "kept.npz"
        kept.write_bytes(b"old")
        kept.chmod(0o600)
        write_file(kept, lambda handle: handle.write(b"new"), overwrite=True)
        assert kept.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(umask)
