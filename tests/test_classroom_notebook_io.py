"""Tests for course/classroom/notebook_io.py: reading, serialising, writing, the digest."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course.classroom import notebook_io
from course.classroom.notebook_io import (
    back_up,
    read_notebook,
    read_text_or_none,
    serialize_notebook,
    source_text,
    sources_digest,
    validate_notebook_json,
    write_atomically,
)


def notebook():
    return new_notebook(cells=[new_markdown_cell("# Title"), new_code_cell("x = 1")])


def test_read_notebook_reads_what_nbformat_wrote(tmp_path):
    nbformat.write(notebook(), str(tmp_path / "a.ipynb"))
    nb = read_notebook(tmp_path / "a.ipynb")
    assert [cell.source for cell in nb.cells] == ["# Title", "x = 1"]


def test_read_notebook_on_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_notebook(tmp_path / "nowhere.ipynb")


def test_read_notebook_on_a_folder(tmp_path):
    with pytest.raises(ValueError, match="is a folder, not a notebook file"):
        read_notebook(tmp_path)


def test_read_notebook_on_bytes_that_are_not_utf8(tmp_path):
    (tmp_path / "latin.ipynb").write_bytes(b'{"cells": "\xe9"}')
    with pytest.raises(ValueError, match=r"latin\.ipynb: is not a notebook \(not UTF-8"):
        read_notebook(tmp_path / "latin.ipynb")


@pytest.mark.parametrize("text", ["", "{not json", "[1, 2]"], ids=repr)
def test_read_notebook_on_text_that_is_not_a_notebook(tmp_path, text):
    (tmp_path / "bad.ipynb").write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.ipynb: is not a valid Jupyter notebook"):
        read_notebook(tmp_path / "bad.ipynb")


def test_serialize_notebook_gives_the_bytes_nbformat_writes(tmp_path):
    nb = notebook()
    nbformat.write(nb, str(tmp_path / "a.ipynb"))
    text = serialize_notebook(nb, tmp_path / "master.ipynb")
    assert text == (tmp_path / "a.ipynb").read_text(encoding="utf-8")
    assert text.endswith("}\n")


def test_serialize_notebook_names_the_source_of_an_invalid_notebook(monkeypatch):
    # nbformat only logs most schema errors when it writes; where it raises, say which file.
    def invalid(nb):
        raise nbformat.ValidationError("'spreadsheet' is not a cell type\nmore detail")

    monkeypatch.setattr(nbformat, "writes", invalid)
    with pytest.raises(ValueError) as info:
        serialize_notebook(notebook(), "master.ipynb")
    assert str(info.value) == (
        "master.ipynb: its released notebook is not valid nbformat "
        "('spreadsheet' is not a cell type)"
    )


def test_source_text_joins_a_list_of_lines():
    assert source_text({"source": ["a = 1\n", "b = 2"]}) == "a = 1\nb = 2"
    assert source_text({"source": "a = 1"}) == "a = 1"
    assert source_text({}) == ""


def test_source_text_of_unvalidated_json_keeps_only_strings():
    # A submission read as plain JSON may hold anything where the source should be.
    assert source_text({"source": ["a = 1\n", 7, None, "b = 2"]}) == "a = 1\nb = 2"
    assert source_text({"source": None}) == ""
    assert source_text({"source": {"code": "x"}}) == ""


def test_sources_digest_ignores_outputs_and_metadata_but_not_sources():
    nb = notebook()
    digest = sources_digest(nb)
    ran = notebook()
    ran.cells[1].outputs = [new_output("stream", name="stdout", text="1\n")]
    ran.cells[1].execution_count = 3
    ran.cells[1].metadata["tags"] = ["exercise"]
    ran.metadata["course"] = {"released_from": "a.ipynb"}
    assert sources_digest(ran) == digest
    edited = notebook()
    edited.cells[1].source = "x = 2"
    assert sources_digest(edited) != digest
    retyped = notebook()
    retyped.cells[0].cell_type = "raw"
    assert sources_digest(retyped) != digest


def test_read_text_or_none(tmp_path):
    (tmp_path / "a.txt").write_text("hello", encoding="utf-8")
    (tmp_path / "b.txt").write_bytes(b"\xff\xfe")
    assert read_text_or_none(tmp_path / "a.txt") == "hello"
    assert read_text_or_none(tmp_path / "b.txt") is None
    assert read_text_or_none(tmp_path / "missing.txt") is None
    assert read_text_or_none(tmp_path) is None


def test_write_atomically_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "a.ipynb"
    target.write_text("old", encoding="utf-8")
    write_atomically(target, "new\ntext\n")
    assert target.read_bytes() == b"new\ntext\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.ipynb"]


# ----- the plain JSON is validated before nbformat reads it (issue 10) ---------------


def notebook_json() -> dict:
    return json.loads(nbformat.writes(notebook()))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.update(cells={}), 'its "cells" is an object, not a list of cells'),
        (lambda d: d.pop("cells"), 'it has no "cells" list'),
        (lambda d: d.update(metadata=[]), "its metadata is a list, not an object"),
        (lambda d: d["cells"].append(3), "cell 3 is a number (3), not a cell object"),
        (lambda d: d["cells"][1].pop("cell_type"), "cell 2 has cell_type missing"),
        (lambda d: d["cells"][1].update(cell_type="sheet"), "cell 2 has cell_type 'sheet'"),
        (lambda d: d["cells"][1].pop("source"), "cell 2 has no source"),
        (lambda d: d["cells"][1].update(source=3), "cell 2 has a source that is a number (3)"),
        (lambda d: d["cells"][0].update(source=["a", 1.5]), "a source that is a list holding"),
        (lambda d: d["cells"][1].update(metadata="x"), "cell 2 has metadata that is text"),
        (lambda d: d["cells"][1].update(outputs={}), "cell 2 has outputs that are an object"),
    ],
    ids=[
        "cells-object",
        "no-cells",
        "metadata-list",
        "cell-number",
        "no-cell-type",
        "unknown-cell-type",
        "no-source",
        "source-number",
        "source-list-number",
        "metadata-text",
        "outputs-object",
    ],
)
def test_read_notebook_names_the_malformed_cell(tmp_path, change, expected):
    data = notebook_json()
    change(data)
    (tmp_path / "bad.ipynb").write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValueError) as info:
        read_notebook(tmp_path / "bad.ipynb")
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'bad.ipynb'}: is not a valid Jupyter notebook (")
    assert expected in message


def test_validate_notebook_json_accepts_sources_as_text_or_lines():
    data = notebook_json()
    data["cells"][0]["source"] = ["# Title\n", "more"]
    validate_notebook_json(data, "a.ipynb")
    validate_notebook_json({"nbformat": 3, "worksheets": []}, "old.ipynb")  # nbformat's to judge


def test_read_notebook_shows_the_plain_cells_to_check_raw_cells(tmp_path):
    nbformat.write(notebook(), str(tmp_path / "a.ipynb"))
    seen = []
    nb = read_notebook(tmp_path / "a.ipynb", check_raw_cells=seen.append)
    assert [cell["source"] for cell in seen[0]] == [["# Title"], ["x = 1"]]  # as in the file
    assert [cell["id"] for cell in seen[0]] == [cell.id for cell in nb.cells]


def test_read_text_or_none_below_a_file(tmp_path):
    (tmp_path / "a.txt").write_text("hello", encoding="utf-8")
    assert read_text_or_none(tmp_path / "a.txt" / "b.ipynb") is None


# ----- back_up (issue 10) ------------------------------------------------------------


def test_back_up_copies_beside_the_file_and_keeps_it(tmp_path):
    target = tmp_path / "01_fc.ipynb"
    target.write_bytes(b"student work")
    os.utime(target, (1_000_000_000, 1_000_000_000))
    backup = back_up(target)
    assert backup.parent == tmp_path and re.fullmatch(
        r"01_fc\.backup-\d{8}-\d{6}\.ipynb", backup.name
    )
    assert backup.read_bytes() == target.read_bytes() == b"student work"
    assert backup.stat().st_mtime == 1_000_000_000


def test_back_up_never_overwrites_a_backup(tmp_path, monkeypatch):
    class FixedClock(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2024, 5, 6, 7, 8, 9)

    monkeypatch.setattr(notebook_io, "datetime", FixedClock)
    target = tmp_path / "a.ipynb"
    (tmp_path / "a.backup-20240506-080809.ipynb").write_bytes(b"older, unrelated")
    names = []
    for text in (b"one", b"two", b"three"):
        target.write_bytes(text)
        names.append(back_up(target).name)
    assert names == [
        "a.backup-20240506-070809.ipynb",
        "a.backup-20240506-070809-2.ipynb",
        "a.backup-20240506-070809-3.ipynb",
    ]
    assert [(tmp_path / name).read_bytes() for name in names] == [b"one", b"two", b"three"]
    assert (tmp_path / "a.backup-20240506-080809.ipynb").read_bytes() == b"older, unrelated"
