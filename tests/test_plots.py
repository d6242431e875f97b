"""Tests of course/plots.py figures that no other test draws."""

from __future__ import annotations

import io

import numpy as np
import pytest

from course.plots import show_retrieval


def test_show_retrieval_draws_the_query_and_k_images():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(6, 8, 8, 3), dtype=np.uint8)
    fig = show_retrieval("a red circle", images, [4, 1, 2], scores=[0.9, 0.5, 0.1], target=1)
    axes = fig.get_axes()
    assert len(axes) == 3
    assert "a red circle" in fig.get_suptitle()
    assert axes[1].get_title().endswith("(its image)") and "0.50" in axes[1].get_title()
    assert axes[1].spines["top"].get_visible() and not axes[0].spines["top"].get_visible()
    fig.savefig(io.BytesIO(), format="png")  # renders headless
    chw = show_retrieval("q", rng.random((6, 3, 8, 8)), np.array([0]))
    assert len(chw.get_axes()) == 1
    with pytest.raises(ValueError, match=r"\[0, 6\)"):
        show_retrieval("q", images, [6])
