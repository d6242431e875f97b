"""Datasets for the course: made on the fly, or read from a local copy.

Images (every loader returns the same dict: ``X_train``, ``y_train``,
``X_val``, ``y_val``, ``X_test``, ``y_test`` with X as float (N, 3, 32, 32),
``class_names`` and ``mean_image``):

- ``shapes``: Shapes-10, a procedural CIFAR-10-like dataset of ten shape
  classes (``CLASS_NAMES``) that needs no download: ``load_shapes``,
  ``generate_shapes``, ``shape_masks``, ``shape_parameters``, ``to_nchw_float``; drawn by
  ``shape_renderer``.
- ``easy_shapes``: Easy Shapes, the same ten classes centred on a plain
  background, which fully connected nets learn well: ``load_easy_shapes``,
  ``generate_easy_shapes``.
- ``cifar10``: the real CIFAR-10, read by ``load_cifar10`` from the official
  python batches under ``data_root()`` (``paths``); when they are missing,
  ``DatasetNotFoundError`` says where the loader looked and how to get them.

Text, for the recurrent models:

- ``vocabulary``: ``Vocabulary`` and its special tokens (``NULL_INDEX`` ...).
- ``corpus``: ``TOY_SENTENCES``, ``tokenize_words``, ``split_sentences``,
  ``load_pydoc_corpus`` (English prose from Python's own documentation),
  ``load_text_file``, ``train_val_split``.
- ``batches``: ``pad_sequences``, ``make_lm_batch``, ``char_batches``,
  ``stream_windows``.
- ``ngram``: ``char_ngram_bits_per_char`` and ``fit_char_ngram`` (add-one, interpolated
  absolute discounting, Kneser-Ney), the baselines a character RNN must beat.

Captions, for the captioning models:

- ``caption_scenes``: 64x64 scenes of one to three shapes:
  ``generate_caption_scenes``, ``render_caption_scenes``, ``CaptionScene``.
- ``caption_grammar``: ``true_captions``, the grammar of their captions.
- ``caption_facts``: ``parse_caption``, ``judge_caption``,
  ``caption_accuracy``: a caption scored exactly against its scene.
- ``caption_dataset``: ``load_caption_scenes`` (the CS231n captioning
  layout), ``decode_captions``, ``redraw_captions`` (new true captions of
  the same scenes, e.g. every epoch).
- ``coco``: ``load_coco_data``, the CS231n COCO captioning release from a
  local copy.

Every name above can be imported from ``course.data`` itself.
"""

from course.data.batches import char_batches, make_lm_batch, pad_sequences, stream_windows
from course.data.caption_dataset import decode_captions, load_caption_scenes, redraw_captions
from course.data.caption_facts import caption_accuracy, judge_caption, parse_caption
from course.data.caption_grammar import true_captions
from course.data.caption_scenes import CaptionScene, generate_caption_scenes, render_caption_scenes
from course.data.cifar10 import load_cifar10
from course.data.coco import load_coco_data
from course.data.corpus import (
    TOY_SENTENCES,
    load_pydoc_corpus,
    load_text_file,
    split_sentences,
    tokenize_words,
    train_val_split,
)
from course.data.easy_shapes import generate_easy_shapes, load_easy_shapes
from course.data.ngram import char_ngram_bits_per_char, fit_char_ngram
from course.data.paths import DatasetNotFoundError, data_root
from course.data.shapes import (
    CLASS_NAMES,
    SHAPES_CLASSES,
    generate_shapes,
    load_shapes,
    shape_masks,
    shape_parameters,
    to_nchw_float,
)
from course.data.vocabulary import (
    END_INDEX,
    NULL_INDEX,
    SPECIAL_TOKENS,
    START_INDEX,
    UNK_INDEX,
    Vocabulary,
)

__all__ = [
    "CLASS_NAMES",
    "CaptionScene",
    "END_INDEX",
    "NULL_INDEX",
    "SHAPES_CLASSES",
    "SPECIAL_TOKENS",
    "START_INDEX",
    "TOY_SENTENCES",
    "UNK_INDEX",
    "DatasetNotFoundError",
    "Vocabulary",
    "caption_accuracy",
    "char_batches",
    "char_ngram_bits_per_char",
    "data_root",
    "decode_captions",
    "fit_char_ngram",
    "generate_caption_scenes",
    "generate_easy_shapes",
    "generate_shapes",
    "judge_caption",
    "load_caption_scenes",
    "load_cifar10",
    "load_coco_data",
    "load_easy_shapes",
    "load_pydoc_corpus",
    "load_shapes",
    "load_text_file",
    "make_lm_batch",
    "pad_sequences",
    "parse_caption",
    "redraw_captions",
    "render_caption_scenes",
    "shape_masks",
    "shape_parameters",
    "split_sentences",
    "stream_windows",
    "to_nchw_float",
    "tokenize_words",
    "train_val_split",
    "true_captions",
]
