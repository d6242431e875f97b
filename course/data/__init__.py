"""Datasets for the course: made on the fly, or read from a local copy.

- ``load_shapes`` / ``generate_shapes``: Shapes-10, a procedural CIFAR-10-like
  dataset of ten shape classes (``CLASS_NAMES``) that needs no download.
- ``load_pydoc_corpus`` / ``load_text_file`` and ``Vocabulary`` (in
  ``course.data.text``, with padded batches and an n-gram baseline): English
  text for the language models, from Python's own documentation or any file.
- ``load_cifar10``: the real CIFAR-10, read from the official python batches
  under ``data_root()``; when they are missing, ``DatasetNotFoundError`` says
  where the loader looked and how to get them.

Both loaders return the same dict: ``X_train``, ``y_train``, ``X_val``,
``y_val``, ``X_test``, ``y_test`` (X as float (N, 3, 32, 32)), ``class_names``
and ``mean_image``.
"""

from course.data.cifar10 import load_cifar10
from course.data.paths import DatasetNotFoundError, data_root
from course.data.shapes import (
    CLASS_NAMES,
    SHAPES_CLASSES,
    generate_shapes,
    load_shapes,
    shape_parameters,
)
from course.data.text import Vocabulary, load_pydoc_corpus, load_text_file

__all__ = [
    "CLASS_NAMES",
    "SHAPES_CLASSES",
    "DatasetNotFoundError",
    "data_root",
    "generate_shapes",
    "load_cifar10",
    "load_shapes",
    "shape_parameters",
    "Vocabulary",
    "load_pydoc_corpus",
    "load_text_file",
]
