"""Tests for course/allocator.py."""

import sys

import pytest

from course.allocator import keep_freed_memory


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt is Linux-only")
def test_keep_freed_memory_sets_the_glibc_thresholds():
    assert keep_freed_memory() is True


def test_other_platforms_are_a_no_op(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert keep_freed_memory() is False


def test_keep_freed_memory_once_sets_the_thresholds_in_the_first_call_only(monkeypatch):
    from course import allocator

    calls = []
    monkeypatch.setattr(allocator, "keep_freed_memory", lambda: calls.append(True))
    monkeypatch.setattr(allocator, "_kept", False)
    allocator.keep_freed_memory_once()
    allocator.keep_freed_memory_once()
    assert calls == [True]
