"""Tests for course/layers/_kernels.py: the compiled kernels, their fallback, threads, malloc.

The compiled extension ``course.layers._im2col`` is used after ``pip install -e .``;
without it (``course.layers._kernels._im2col`` set to None) the fast layers
warn once, naming the build command, at the caller's line. The first fast
layer that runs tunes the allocator, once; importing does not.
"""

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from course import allocator
from course.layers import _kernels
from course.layers._kernels import num_threads, using_compiled
from course.layers.fast_conv import col2im, conv_backward_fast, conv_forward_fast, im2col
from course.layers.fast_pool import max_pool_backward_fast, max_pool_forward_fast

# ----------------------------------------------------------------------------- the two paths


def test_the_compiled_extension_is_used_after_pip_install():
    assert using_compiled(), "course.layers._im2col is not built: run pip install -e ."


def test_the_fallback_warns_exactly_once_naming_the_rebuild_command(monkeypatch):
    monkeypatch.setattr(_kernels, "_im2col", None)
    monkeypatch.setattr(_kernels, "_warned", False)
    assert not using_compiled()
    rng = np.random.default_rng(8)
    x, w, b = rng.standard_normal((2, 2, 4, 4)), rng.standard_normal((2, 2, 3, 3)), np.zeros(2)
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            out, cache = conv_forward_fast(x, w, b, {"stride": 1, "pad": 1})
            conv_backward_fast(np.ones_like(out), cache)
            pooled, pool_cache = max_pool_forward_fast(out, pool_param)
            max_pool_backward_fast(np.ones_like(pooled), pool_cache)
    assert len(caught) == 1, [str(w.message) for w in caught]
    assert caught[0].category is RuntimeWarning
    message = str(caught[0].message)
    assert "pip install -e ." in message and "course.layers._im2col" in message


def test_the_fallback_warning_comes_from_the_first_fast_layer_called(monkeypatch):
    monkeypatch.setattr(_kernels, "_im2col", None)
    monkeypatch.setattr(_kernels, "_warned", False)
    with pytest.warns(RuntimeWarning, match=r"pip install -e \."):
        max_pool_forward_fast(
            np.zeros((1, 1, 2, 2)), {"pool_height": 2, "pool_width": 2, "stride": 2}
        )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        max_pool_forward_fast(
            np.zeros((1, 1, 2, 2)), {"pool_height": 2, "pool_width": 2, "stride": 2}
        )


def test_the_fallback_warning_points_at_the_callers_line(monkeypatch):
    monkeypatch.setattr(_kernels, "_im2col", None)
    monkeypatch.setattr(_kernels, "_warned", False)
    with pytest.warns(RuntimeWarning) as caught:
        conv_forward_fast(
            np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 2, 2)), np.zeros(1), {"stride": 1, "pad": 0}
        )
    assert caught[0].filename == __file__


# ----------------------------------------------------------------------------- threads


@pytest.mark.parametrize("setting, expected", [("1", 1), ("2", 2), ("7", 7)])
def test_num_threads_honours_course_num_threads(monkeypatch, setting, expected):
    monkeypatch.setenv("COURSE_NUM_THREADS", setting)
    assert num_threads() == expected


@pytest.mark.parametrize("setting", [None, "", "0", "abc", "-2"])
def test_num_threads_without_a_usable_setting_is_one(monkeypatch, setting):
    if setting is None:
        monkeypatch.delenv("COURSE_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("COURSE_NUM_THREADS", setting)
    assert num_threads() == 1


def test_compiled_results_do_not_depend_on_the_thread_count(monkeypatch):
    assert using_compiled()
    rng = np.random.default_rng(9)
    x, w, b = (
        rng.standard_normal((6, 3, 9, 8)),
        rng.standard_normal((4, 3, 3, 2)),
        rng.standard_normal(4),
    )
    conv_param, pool_param = (
        {"stride": 1, "pad": 1},
        {"pool_height": 3, "pool_width": 2, "stride": 1},
    )
    results = []
    for threads in ("1", "2"):
        monkeypatch.setenv("COURSE_NUM_THREADS", threads)
        assert num_threads() == int(threads)
        out, cache = conv_forward_fast(x, w, b, conv_param)
        dout = np.random.default_rng(10).standard_normal(out.shape)
        grads = conv_backward_fast(dout, cache)
        pooled, pool_cache = max_pool_forward_fast(out, pool_param)
        dpool = max_pool_backward_fast(np.ones_like(pooled), pool_cache)
        cols = im2col(x.transpose(0, 2, 3, 1), 3, 2, 1, 1)
        back = col2im(cols, (6, 9, 8, 3), 3, 2, 1, 1)
        results.append((out, *grads, pooled, dpool, cols, back))
    for one, two in zip(*results, strict=True):
        np.testing.assert_array_equal(one, two)


# ----------------------------------------------------------------------------- the allocator


FIRST_USE = textwrap.dedent(
    """
    import numpy as np

    from course import allocator

    calls = []
    allocator.keep_freed_memory = lambda *args: calls.append(args) or True
    import course.fast_layers, course.layers, course.rnn_layers  # noqa: E401, F401

    assert calls == [], "importing the layers tuned malloc"
    from course.layers import conv_forward_fast

    x, w, b = np.zeros((1, 1, 3, 3)), np.zeros((1, 1, 2, 2)), np.zeros(1)
    conv_forward_fast(x, w, b, {"stride": 1, "pad": 0})
    assert calls == [()], calls
    conv_forward_fast(x, w, b, {"stride": 1, "pad": 0})
    assert calls == [()], "tuned twice"
    print("OK")
    """
)


def test_importing_the_layers_does_not_tune_malloc_and_the_first_fast_conv_does():
    """In a fresh interpreter, where nothing has run a fast layer yet."""
    result = subprocess.run(
        [sys.executable, "-c", FIRST_USE], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "OK"


@pytest.mark.parametrize("first", ["conv", "pool", "im2col"])
def test_the_first_fast_layer_tunes_malloc_once(monkeypatch, first):
    calls = []
    monkeypatch.setattr(allocator, "keep_freed_memory", lambda *args: calls.append(args))
    monkeypatch.setattr(allocator, "_kept", False)
    x = np.zeros((1, 1, 4, 4))
    pool_param = {"pool_height": 2, "pool_width": 2, "stride": 2}
    if first == "conv":
        conv_forward_fast(x, np.zeros((1, 1, 3, 3)), np.zeros(1), {"stride": 1, "pad": 1})
    elif first == "pool":
        max_pool_forward_fast(x, pool_param)
    else:
        im2col(x.transpose(0, 2, 3, 1), 3, 3, 1, 1)
    assert calls == [()]
    out, cache = conv_forward_fast(x, np.zeros((1, 1, 3, 3)), np.zeros(1), {"stride": 1, "pad": 1})
    conv_backward_fast(np.ones_like(out), cache)
    pooled, pool_cache = max_pool_forward_fast(x, pool_param)
    max_pool_backward_fast(np.ones_like(pooled), pool_cache)
    assert calls == [()]


def test_the_fallback_tunes_malloc_too(monkeypatch):
    calls = []
    monkeypatch.setattr(allocator, "keep_freed_memory", lambda *args: calls.append(args))
    monkeypatch.setattr(allocator, "_kept", False)
    monkeypatch.setattr(_kernels, "_im2col", None)
    monkeypatch.setattr(_kernels, "_warned", False)
    with pytest.warns(RuntimeWarning, match=r"course\.layers\._im2col"):
        max_pool_forward_fast(
            np.zeros((1, 1, 2, 2)), {"pool_height": 2, "pool_width": 2, "stride": 2}
        )
    assert calls == [()]


def test_available_memory_reads_meminfo_then_sysconf_then_assumes_8_gib(tmp_path, monkeypatch):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       32000000 kB\nMemAvailable:   2097152 kB\n")
    assert _kernels.available_memory(str(meminfo)) == 2 * 2**30
    missing = str(tmp_path / "absent")
    monkeypatch.setattr(
        _kernels.os, "sysconf", lambda name: {"SC_AVPHYS_PAGES": 3, "SC_PAGE_SIZE": 4096}[name]
    )
    assert _kernels.available_memory(missing) == 3 * 4096

    def no_sysconf(name):
        raise ValueError(name)

    monkeypatch.setattr(_kernels.os, "sysconf", no_sysconf)
    assert _kernels.available_memory(missing) == 8 * 2**30
