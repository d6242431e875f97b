"""What the ConvNet widgets share: pictures as PNG bytes, and a timed, cached update.

A widget's controls call :meth:`WidgetView._update`, which runs the widget's
``_render`` with BLAS limited to one thread (one image is a few small matrix
products: one thread is faster, and far steadier on a busy machine, than two
waiting for each other), records ``last_update_seconds`` (from the control's
change to the new view) and writes it, or the error, in the status line.
"""

from __future__ import annotations

import html
import io
import time
from typing import Any

import matplotlib.image
import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from threadpoolctl import ThreadpoolController

_RED = "var(--jp-error-color1, #cf222e)"  # JupyterLab's theme colour, with a fallback


def with_article(noun: str) -> str:
    """'a heart', 'an arrow': the noun with its indefinite article."""
    return f"{'an' if noun[:1] in 'aeiou' else 'a'} {noun}"


def figure_png(fig: Figure) -> bytes:
    """PNG bytes of a figure, drawn by Agg (no pyplot, nothing shown)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def picture_png(pixels: np.ndarray, scale: int = 1) -> bytes:
    """PNG bytes of a picture (H, W, 3) in [0, 1] or uint8, each pixel a crisp s x s block."""
    enlarged = np.repeat(np.repeat(pixels, scale, axis=0), scale, axis=1)  # (H*s, W*s, 3)
    buffer = io.BytesIO()
    matplotlib.image.imsave(buffer, enlarged, format="png")
    return buffer.getvalue()


def heat_picture(values: np.ndarray, high: float | None = None, cmap: str = "viridis"):
    """Values (H, W) coloured by ``cmap`` (H, W, 3) in [0, 1]: 0 dark, ``high`` (or max) bright."""
    values = np.asarray(values, dtype=np.float64)
    top = float(values.max()) if high is None else float(high)
    return colormaps[cmap](values / max(top, 1e-12))[..., :3]


def fit_scale(pixels: int, size: int) -> int:
    """The integer enlargement that shows ``pixels`` pixels in about ``size`` screen pixels."""
    return max(1, size // max(pixels, 1))


def bar_rows(
    names: list[str], fractions: np.ndarray, texts: list[str] | None = None, highlight: int = -1
) -> str:
    """An HTML table of horizontal bars, one row per name, each ``fractions[i]`` of full width.

    ``texts`` are written after the bars (default: the fractions to 3 places);
    the ``highlight`` row is bold.
    """
    texts = [f"{float(f):.3f}" for f in fractions] if texts is None else texts
    rows = []
    for c, (name, f, text) in enumerate(zip(names, fractions, texts, strict=True)):
        weight = "bold" if c == highlight else "normal"
        rows.append(
            f"<tr style='font-weight:{weight}'><td style='padding-right:8px'>"
            f"{html.escape(name)}</td><td style='width:160px'><div style='background:#4c72b0;"
            f"height:12px; width:{100 * float(f):.1f}%'></div></td>"
            f"<td style='padding-left:6px'>{html.escape(text)}</td></tr>"
        )
    return f"<table style='border-collapse:collapse'>{''.join(rows)}</table>"


class WidgetView:
    """The plumbing of a ConvNet widget: quiet control changes, timed updates, the status line.

    A subclass builds ``self.widget`` (the whole view) and ``self.status`` (an
    HTML widget) and defines ``_render()``, which puts the current controls'
    view on show; its observers call ``self._update()``.
    """

    widget: Any
    status: Any

    def __init__(self) -> None:
        self._quiet = False
        self._blas = ThreadpoolController()
        self.last_update_seconds = float("nan")
        self.updates = 0  # views put on show so far

    def _render(self) -> None:
        raise NotImplementedError

    def _update(self, *_: Any, started: float | None = None) -> None:
        """Render the current view (unless a control is being set quietly), timed.

        ``started`` is the ``time.perf_counter()`` of the control's change when
        the caller did work before rendering (default: now).
        """
        if self._quiet:
            return
        start = time.perf_counter() if started is None else started
        try:
            with self._blas.limit(limits=1, user_api="blas"):
                self._render()
        except Exception as error:
            self.status.value = f"<span style='color:{_RED}'>{html.escape(repr(error))}</span>"
            raise
        self.last_update_seconds = time.perf_counter() - start
        self.updates += 1
        self.status.value = (
            f"<span style='color:gray; font-size:12px'>updated in "
            f"{1000 * self.last_update_seconds:.0f} ms</span>"
        )

    def _set_quietly(self, control: Any, **values: Any) -> None:
        """Set a control's traits (value, max, ...) without its observer redrawing."""
        self._quiet = True
        try:
            with control.hold_trait_notifications():
                for name, value in values.items():
                    setattr(control, name, value)
        finally:
            self._quiet = False

    def _fit_slider(self, slider: Any, count: int) -> None:
        """Quietly make ``slider`` range over 0..count-1, keeping its value where it still fits."""
        self._set_quietly(slider, max=count - 1, value=min(slider.value, count - 1))

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)
