"""Widgets: interactive views for exploring the course's models in a notebook.

Every widget is a thin view over plain functions that return data or
matplotlib Figures, so what a widget shows can also be computed, tested and
saved without a browser. Importing this package draws, loads and displays
nothing, and does not import ipywidgets: a widget builds its controls when
it is constructed.

- ``caption_browser``: :class:`CaptionBrowser`, caption scenes with the
  shipped LSTM captioner's greedy and beam-search captions, their
  log-probabilities and the judge's verdict; its plain functions are
  :func:`describe_scene` (a :class:`CaptionReport`) and
  :func:`plot_word_probabilities`.
"""

from course.widgets.caption_browser import (
    CaptionBrowser,
    CaptionReport,
    DecodedCaption,
    describe_scene,
    plot_word_probabilities,
)

__all__ = [
    "CaptionBrowser",
    "CaptionReport",
    "DecodedCaption",
    "describe_scene",
    "plot_word_probabilities",
]
