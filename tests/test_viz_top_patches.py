"""Tests for course/viz/top_patches.py: the image regions that excite a channel most."""

import numpy as np
import pytest
from matplotlib.figure import Figure
from viz_models import pretrained_and_shapes

from course.viz import (
    layer_peaks,
    plot_top_patches,
    receptive_field_box,
    receptive_fields,
    top_patches,
)
from course.viz.pixels import input_offset


@pytest.mark.parametrize(("layer", "channel"), [("conv1_2", 3), ("pool2", 7), ("conv3_1", 5)])
def test_top_patches_match_a_brute_force_search(layer, channel):
    model, X, labels = pretrained_and_shapes()
    X, labels = X[:120], labels[:120]
    result = top_patches(model, X, layer, channel, k=6, labels=labels, batch_size=50)

    maps = model.conv_activations(X)[layer][:, channel]  # (N, H', W')
    expected = []  # (-maximum, image, first position of the maximum), sorted
    for n in range(120):
        flat = maps[n].ravel()
        where = int(np.flatnonzero(flat == flat.max())[0])
        expected.append((-float(flat.max()), n, divmod(where, maps.shape[2])))
    expected.sort()
    top = expected[:6]
    np.testing.assert_array_equal(result.indices, [n for _, n, _ in top])
    np.testing.assert_array_equal(result.activations, [-a for a, _, _ in top])
    np.testing.assert_array_equal(result.positions, [p for _, _, p in top])
    assert np.all(np.diff(result.activations) <= 0)
    np.testing.assert_array_equal(
        result.histogram, np.bincount(labels[result.indices], minlength=10)
    )

    size = receptive_fields(model)[layer].size
    assert result.patches.shape == (6, 3, size, size)
    pixels = X + input_offset(model)  # (N, 3, 32, 32) in [0, 1]
    for p, n in enumerate(result.indices):
        top_, bottom, left, right = receptive_field_box(model, layer, *result.positions[p])
        assert tuple(result.boxes[p]) == (top_, bottom, left, right)
        unclipped = receptive_field_box(model, layer, *result.positions[p], clip=False)
        r0, c0 = top_ - unclipped[0], left - unclipped[2]
        crop = result.patches[p, :, r0 : r0 + bottom - top_, c0 : c0 + right - left]
        np.testing.assert_allclose(crop, pixels[n, :, top_:bottom, left:right], atol=1e-6)
        assert result.patches[p].sum() == pytest.approx(crop.sum())  # the rest is padding: 0


def test_ties_are_broken_by_image_index_and_first_position():
    model, X, _ = pretrained_and_shapes()
    maps = np.zeros((5, 16, 32, 32), dtype=np.float32)
    maps[3, 2, 4, 4] = maps[3, 2, 9, 1] = 1.0  # image 3 twice at its maximum
    result = top_patches(model, X[:5], "conv1_1", 2, k=3, maps=maps)
    np.testing.assert_array_equal(result.indices, [3, 0, 1])
    np.testing.assert_array_equal(result.positions, [[4, 4], [0, 0], [0, 0]])
    assert result.histogram is None


def test_precomputed_maps_give_the_same_result():
    model, X, labels = pretrained_and_shapes()
    maps = model.conv_activations(X[:60])["conv2_1"]
    a = top_patches(model, X[:60], "conv2_1", 4, k=5, labels=labels[:60], maps=maps)
    b = top_patches(model, X[:60], "conv2_1", 4, k=5, labels=labels[:60])
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.patches, b.patches)


def test_plot_has_one_axes_per_patch_and_the_histogram():
    model, X, labels = pretrained_and_shapes()
    result = top_patches(model, X[:40], "pool1", 0, k=4, labels=labels[:40])
    fig = plot_top_patches(result, class_names=[str(c) for c in range(10)], labels=labels)
    assert isinstance(fig, Figure) and len(fig.axes) == 5
    assert len(plot_top_patches(top_patches(model, X[:40], "pool1", 0, k=3)).axes) == 3


def test_bad_inputs_name_the_function():
    model, X, labels = pretrained_and_shapes()
    with pytest.raises(ValueError, match="top_patches: channel=16 is out of range"):
        top_patches(model, X[:4], "conv1_1", 16)
    with pytest.raises(ValueError, match="top_patches: layer must be one of the conv and pool"):
        top_patches(model, X[:4], "fc1", 0)
    with pytest.raises(ValueError, match=r"top_patches: labels has shape \(5,\)"):
        top_patches(model, X[:4], "conv1_1", 0, labels=labels[:5])
    with pytest.raises(ValueError, match="top_patches: maps are 16x16; conv1_1's maps are 32x32"):
        top_patches(model, X[:4], "conv1_1", 0, maps=np.zeros((4, 16, 16, 16)))
    with pytest.raises(TypeError, match="plot_top_patches: result must be a TopPatches"):
        plot_top_patches({"patches": []})


def test_layer_peaks_of_one_pass_give_the_same_result_as_the_maps():
    model, X, labels = pretrained_and_shapes()
    X, labels = X[:90], labels[:90]
    peaks = layer_peaks(model, X, batch_size=40)  # three batches
    activations = model.conv_activations(X)
    assert set(peaks) == set(activations)
    for layer, channel in [("conv1_1", 2), ("pool1", 9), ("conv3_2", 40)]:
        maxima, positions = peaks[layer]
        assert maxima.shape == activations[layer].shape[:2]
        assert positions.shape == (*maxima.shape, 2)
        from_maps = top_patches(model, X, layer, channel, 5, labels, activations[layer])
        from_peaks = top_patches(model, X, layer, channel, 5, labels, peaks=peaks[layer])
        for field in ("indices", "positions", "activations", "boxes", "patches", "histogram"):
            np.testing.assert_array_equal(getattr(from_peaks, field), getattr(from_maps, field))
    with pytest.raises(ValueError, match="top_patches: peaks must be layer_peaks"):
        top_patches(model, X, "conv1_1", 0, peaks=peaks["conv1_1"][0])
    with pytest.raises(ValueError, match="with N = 90"):
        top_patches(model, X, "conv1_1", 0, peaks=(peaks["conv1_1"][0][:5], peaks["conv1_1"][1]))
