"""What the dataset loaders share: the dict of splits they return, with its mean image.

Their shared argument checks (split sizes, the float dtype) are in
:mod:`course.data._validation`.
"""

from __future__ import annotations

import numpy as np


def assemble_splits(
    splits: dict[str, tuple[np.ndarray, np.ndarray]],
    class_names: tuple[str, ...],
    subtract_mean: bool,
) -> dict[str, object]:
    """Assemble the loaders' dict from float NCHW splits; the mean comes from train only.

    ``splits`` maps 'train', 'val', 'test' to (X, y) with X (N, C, H, W) in
    [0, 1]. Subtracting the mean works in place on those arrays (which the
    loader has just made and owns).
    """
    X_train = splits["train"][0]
    mean_image = X_train.mean(axis=0, dtype=np.float64).astype(X_train.dtype)  # (C, H, W)
    data: dict[str, object] = {}
    for name, (X, y) in splits.items():
        if subtract_mean:
            X -= mean_image
        data[f"X_{name}"] = X
        data[f"y_{name}"] = y
    data["class_names"] = class_names
    data["mean_image"] = mean_image
    return data
