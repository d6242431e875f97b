"""Saved artefacts (weights, checkpoints, their JSON records): written safely, read carefully.

Every file the course saves goes through :func:`write_file`: the bytes go to
a temporary file in the target's folder, which is flushed to disk and then
renamed over the target, so a crash, a full disk or Ctrl-C never leaves half
a file, and a file that exists is never replaced unless the caller asked for
it (``overwrite=True``, the CLI's ``--overwrite``). A model is two files,
arrays (``.npz``) and a record (``.json``); the record holds the SHA-256 of
the arrays it was written with (``arrays_sha256``), so that a loader can tell
a pair that does not belong together.

Every loader reads through :func:`read_arrays` and :func:`read_record`, which
turn each way a file can be broken (empty, truncated, not a zip, a bad CRC,
pickled objects, bad JSON, missing entries, wrong shapes, NaN or inf) into one
:class:`ArtefactError` that names the file, what is wrong with it and how to
get a good one back (the ``restore`` sentence the caller gives, e.g. "retrain
it with `course train charrnn --out DIR --overwrite`").
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np

from course.validation import format_shape

__all__ = [
    "ArtefactError",
    "NotSavedError",
    "arrays_digest",
    "building_from",
    "read_arrays",
    "read_record",
    "require_absent",
    "require_entries",
    "require_new_model_folder",
    "save_arrays_and_record",
    "write_arrays",
    "write_file",
]


class ArtefactError(ValueError):
    """A saved file is unreadable, incomplete or damaged; the message says how to restore it."""


class NotSavedError(ValueError):
    """Training produced nothing worth saving (it diverged or never beat the untrained model)."""


def write_file(
    path: str | os.PathLike, write: Callable[[IO[bytes]], None], overwrite: bool = False
) -> Path:
    """Write a file atomically: ``write(handle)`` fills a temporary file that becomes ``path``.

    Inputs:
    - path: the file to write; its folder must exist
    - write: called once with a binary file handle to write the contents into
    - overwrite: replace ``path`` if it exists; when False an existing file
      is never touched (even one created while ``write`` ran) and
      FileExistsError is raised

    The temporary file (a hidden name in the same folder) is removed whatever
    happens, so a failed or interrupted write leaves the folder as it was.
    """
    path = Path(path)
    handle = tempfile.NamedTemporaryFile(
        mode="wb", dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False
    )
    temporary = Path(handle.name)
    try:
        with handle:
            # A temporary file is private (0600); the file it becomes gets the mode a
            # plain open() would give it (or keeps the mode of the file it replaces).
            os.chmod(handle.fileno(), _mode_for(path))
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(temporary, path)
        else:
            _create_exclusively(temporary, path)
    except FileExistsError:
        raise FileExistsError(
            f"{path} already exists; it was not replaced (pass overwrite=True, or --overwrite "
            "on the command line, to replace it)"
        ) from None
    finally:
        temporary.unlink(missing_ok=True)
    return path


def _mode_for(path: Path) -> int:
    """The permission bits ``path`` should get: its own when it exists, else 0666 minus umask."""
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def _create_exclusively(temporary: Path, path: Path) -> None:
    """Give ``temporary``'s contents the name ``path`` unless ``path`` exists (FileExistsError).

    A hard link does it atomically; a file system without hard links gets an
    existence check and a rename instead.
    """
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise
    except OSError:  # no hard links here (some network or FAT file systems)
        if path.exists():
            raise FileExistsError(path) from None
        os.replace(temporary, path)


def require_absent(paths: Iterable[Path], func: str, how: str) -> None:
    """Raise FileExistsError naming the first of ``paths`` that exists; ``how`` says what to do."""
    taken = [str(p) for p in paths if Path(p).exists()]
    if taken:
        verb = "exists" if len(taken) == 1 else "exist"
        raise FileExistsError(f"{func}: {' and '.join(taken)} already {verb}; {how}")


def arrays_digest(arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 of named arrays (names, dtypes, shapes and bytes), independent of the zip."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        value = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}|{value.dtype.str}|{value.shape}|".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def save_arrays_and_record(
    arrays_path: Path,
    arrays: Mapping[str, np.ndarray],
    record_path: Path,
    record: Mapping[str, Any],
    overwrite: bool = False,
    compressed: bool = False,
) -> tuple[Path, Path]:
    """Write a model's arrays (``.npz``) and its JSON record, each atomically.

    The record gets ``arrays_sha256`` (see :func:`arrays_digest`) so that
    :func:`read_arrays` can tell arrays that are not the ones it describes.
    Non-finite arrays are refused (a NaN model is never saved); a NaN or inf
    number in the record (a diverged measurement) is written as null. Without
    ``overwrite`` nothing is written when either file exists.
    """
    arrays = {name: np.asarray(value) for name, value in arrays.items()}
    bad = _non_finite(arrays)
    if bad:
        raise NotSavedError(
            f"refusing to save {arrays_path}: the array(s) {', '.join(bad)} hold NaN or inf "
            "(training diverged); nothing was written"
        )
    if not overwrite:
        require_absent(
            (arrays_path, record_path), "save", "pass overwrite=True (--overwrite) to replace"
        )
    record = {**_json_ready(record), "arrays_sha256": arrays_digest(arrays)}
    text = json.dumps(record, indent=2, allow_nan=False) + "\n"
    write_arrays(arrays_path, arrays, overwrite, compressed)
    write_file(record_path, lambda handle: handle.write(text.encode("utf-8")), overwrite)
    return arrays_path, record_path


def write_arrays(
    path: Path, arrays: Mapping[str, np.ndarray], overwrite: bool = False, compressed: bool = False
) -> Path:
    """Write named arrays as an ``.npz`` file through :func:`write_file` (atomically)."""
    save = np.savez_compressed if compressed else np.savez
    buffer = io.BytesIO()
    save(buffer, **arrays)
    return write_file(path, lambda handle: handle.write(buffer.getvalue()), overwrite)


def _json_ready(value: Any) -> Any:
    """``value`` with every NaN or inf float replaced by None (JSON has neither: null)."""
    if isinstance(value, Mapping):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(item) for item in value]
    if isinstance(value, (float, np.floating)) and not math.isfinite(value):
        return None
    return value


def read_record(path: Path, restore: str, required: Iterable[str] = ()) -> dict[str, Any]:
    """Read a JSON record; every way it can be broken becomes one :class:`ArtefactError`.

    ``required`` are top-level keys it must have; ``restore`` is the sentence
    that says how to get a good file back.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as error:
        raise ArtefactError(f"{path}: cannot be read ({_reason(error)}); {restore}") from None
    if not text.strip():
        raise ArtefactError(f"{path}: is empty; {restore}")
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        raise ArtefactError(
            f"{path}: is not valid JSON ({error.msg} at line {error.lineno}, column "
            f"{error.colno}); it may be truncated or hand-edited; {restore}"
        ) from None
    if not isinstance(record, dict):
        raise ArtefactError(
            f"{path}: holds a JSON {type(record).__name__}, not the expected object; {restore}"
        )
    require_entries(record, required, path, restore)
    return record


@contextmanager
def building_from(path: Path, what: str, restore: str) -> Iterator[None]:
    """Build a model from a record inside this block: a bad setting becomes one ArtefactError.

    A TypeError, ValueError or KeyError raised while the record's settings are
    read and the model is built means the record does not describe ``what``
    (e.g. "a TinyVGG"); the message names ``path`` and how to ``restore`` it.
    """
    try:
        yield
    except (TypeError, ValueError, KeyError) as error:
        raise ArtefactError(
            f"{path}: does not describe {what} ({type(error).__name__}: {error}); {restore}"
        ) from None


def require_entries(
    record: Mapping[str, Any], keys: Iterable[str], path: Path, restore: str
) -> None:
    """Raise ArtefactError naming the keys of ``keys`` missing from ``record``."""
    missing = [key for key in keys if key not in record]
    if missing:
        raise ArtefactError(
            f"{path}: is incomplete: it has no {', '.join(repr(k) for k in missing)}; {restore}"
        )


def read_arrays(
    path: Path,
    restore: str,
    expected: Mapping[str, tuple[int, ...] | None] | None = None,
    digest: str | None = None,
    record_path: Path | None = None,
    optional: Mapping[str, tuple[int, ...]] | None = None,
) -> dict[str, np.ndarray]:
    """Read every array of an ``.npz`` file into memory, refusing a damaged file with one message.

    Inputs:
    - path: the ``.npz`` file
    - restore: the sentence that says how to get a good file back
    - expected: name -> shape (None: any shape) of the arrays that must be
      there; other arrays are kept too
    - optional: name -> shape of arrays that may be missing but, when
      there, must have that shape
    - digest: the ``arrays_sha256`` its record holds (None: not checked)
    - record_path: the record the arrays go with, named when they do not fit it

    Pickled objects are never loaded. Float arrays holding NaN or inf are
    refused: such weights come from a diverged run, not from training.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        size = path.stat().st_size if path.is_file() else 0
        what = "is empty" if size == 0 else f"is damaged or not an .npz file ({_reason(error)})"
        raise ArtefactError(f"{path}: {what}; {restore}") from None
    shapes = {**(optional or {}), **(expected or {})}
    for name, shape in shapes.items():
        if name not in arrays:
            if name in (expected or {}):
                raise ArtefactError(f"{path}: has no array {name!r}; {restore}")
            continue
        if shape is not None and arrays[name].shape != tuple(shape):
            model = "the model" if record_path is None else f"the model {record_path} describes"
            raise ArtefactError(
                f"{path}: array {name!r} has shape {format_shape(arrays[name].shape)}, "
                f"but {model} needs {format_shape(tuple(shape))}; {restore}"
            )
    bad = _non_finite(arrays)
    if bad:
        raise ArtefactError(f"{path}: the array(s) {', '.join(bad)} hold NaN or inf; {restore}")
    if digest is not None and arrays_digest(arrays) != digest:
        record = f" described by {record_path}" if record_path is not None else ""
        raise ArtefactError(
            f"{path}: its arrays are not the ones{record} (the SHA-256 differs: the two files "
            f"do not belong together); {restore}"
        )
    return arrays


def _non_finite(arrays: Mapping[str, np.ndarray]) -> list[str]:
    return [
        repr(name)
        for name, value in arrays.items()
        if np.issubdtype(value.dtype, np.inexact) and not np.isfinite(value).all()
    ]


def _reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0]}" if text else type(error).__name__


def require_new_model_folder(
    func: str, folder: Path, names: Iterable[str], overwrite: bool
) -> None:
    """Before training: ``folder`` can hold a new model (it is not a file; its files are
    absent, or ``overwrite`` allows replacing them). Raises NotADirectoryError or
    FileExistsError naming the path and what to do."""
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"{func}: {folder} exists and is not a folder; give --out DIR")
    if not overwrite:
        require_absent(
            (folder / name for name in names),
            func,
            "pass --overwrite (overwrite=True) to replace the saved model, or --out DIR to "
            "save elsewhere",
        )
