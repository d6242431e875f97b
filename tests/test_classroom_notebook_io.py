"""Tests for course/classroom/notebook_io.py: reading, serialising, writing, the digest."""

from __future__ import annotations

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course.classroom.notebook_io import (
    read_notebook,
    read_text_or_none,
    serialize_notebook,
    source_text,
    sources_digest,
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
