"""Browse caption scenes with a captioner: the image, its true captions, what the model says.

Two plain functions do the work, and the widget only shows their results:

- :func:`describe_scene` captions one scene greedily and by beam search and
  returns a :class:`CaptionReport`: each caption with the log-probability of
  every word and, when the scene is known, the judge's verdict
  (:func:`~course.data.judge_caption`): exactly true, or which facts are false.
- :func:`plot_word_probabilities` draws a report's per-word probabilities
  P(word | words before, image) as bars, one row per decoder.

:class:`CaptionBrowser` is the ipywidgets view over them: a slider over the
scenes of a split, a button that draws a fresh scene (a new seed of the
scene generator, on a stream no split uses, so the captioner has never seen
it and its facts are known), and the beam width. It caches the features and
the report of every (scene, beam width) it has shown, so going back is
instant. Typical use in a notebook::

    from course.widgets import CaptionBrowser
    browser = CaptionBrowser(count=100)
    browser  # shows the widget
    browser.report  # the CaptionReport of the scene on show
"""

from __future__ import annotations

import html
import io
import time
from dataclasses import dataclass
from typing import Any

import matplotlib.image
import numpy as np
from matplotlib.figure import Figure
from threadpoolctl import ThreadpoolController

from course.data import decode_captions, generate_caption_scenes, load_caption_scenes
from course.data.caption_facts import CaptionJudgement, judge_caption
from course.data.caption_grammar import true_captions
from course.data.caption_scenes import CaptionScene
from course.recipes.caption_pipeline import Captioner, load_captioner
from course.widgets._validation import (
    MAX_BEAM_WIDTH,
    validate_browser,
    validate_description,
)

__all__ = [
    "CaptionBrowser",
    "CaptionReport",
    "DecodedCaption",
    "describe_scene",
    "plot_word_probabilities",
]

MAX_WORDS = 12  # the longest caption decoded, <END> included (Captioner.caption's default)
REFERENCES = 5  # true captions shown per scene (the dataset's captions_per_scene)
FRESH_STREAM = 3  # the generator stream of fresh scenes: no split uses it (train 0, val 1, test 2)
SCALE = 4  # the scene is shown SCALE times enlarged, each pixel a SCALE x SCALE block
_SPLIT_NAMES = {"train": "training", "val": "validation", "test": "test"}
# JupyterLab's theme colours (light and dark themes differ), with fallbacks elsewhere.
_GREEN, _RED = "var(--jp-success-color1, #1a7f37)", "var(--jp-error-color1, #cf222e)"


@dataclass(frozen=True)
class DecodedCaption:
    """One caption a decoder produced, word by word.

    Attributes
    ----------
    method : str, ``'greedy'`` or ``'beam'``
    text : str, the caption's words (``<END>`` left out)
    words : tuple of str, the generated words, ``'<END>'`` last when it was generated
    word_logprobs : tuple of float, log P(word | words before, image), one per word
    logprob : float, log P(caption | image), the sum of ``word_logprobs``
    judgement : CaptionJudgement or None, the judge's verdict; None when the scene is unknown
    """

    method: str
    text: str
    words: tuple[str, ...]
    word_logprobs: tuple[float, ...]
    logprob: float
    judgement: CaptionJudgement | None

    @property
    def exactly_true(self) -> bool | None:
        """Whether every fact of the caption holds in the scene; None when the scene is unknown."""
        return None if self.judgement is None else self.judgement.true

    @property
    def false_facts(self) -> tuple[str, ...]:
        """The caption's facts that are false of the scene, as text ('colour: a red circle')."""
        if self.judgement is None:
            return ()
        return tuple(str(fact) for fact, ok in self.judgement.facts if not ok)


@dataclass(frozen=True)
class CaptionReport:
    """What the captioner says about one scene, and how true it is.

    Attributes
    ----------
    references : tuple of str, true captions of the scene; empty when the scene is unknown
    greedy : DecodedCaption, the greedy caption (the likeliest word at every step)
    beam : DecodedCaption, the beam search's caption
    beam_width : int, k of the beam search
    scene : CaptionScene or None, the scene, when known
    """

    references: tuple[str, ...]
    greedy: DecodedCaption
    beam: DecodedCaption
    beam_width: int
    scene: CaptionScene | None


def _decoded(
    captioner: Captioner,
    method: str,
    row: np.ndarray,
    word_lp: np.ndarray,
    scene: CaptionScene | None,
) -> DecodedCaption:
    """A DecodedCaption from one generated row (L,) and its word log-probabilities (L,)."""
    model = captioner.model
    n = int((row != model._null).sum())  # the generated words, <END> included: NULL pads after
    words = tuple(model.idx_to_word[i] for i in row[:n].tolist())
    word_logprobs = tuple(float(v) for v in word_lp[:n])
    text = model.captions_to_text(row[None])[0]
    judgement = None if scene is None else judge_caption(text, scene)
    return DecodedCaption(method, text, words, word_logprobs, float(sum(word_logprobs)), judgement)


def describe_scene(
    captioner: Captioner,
    image: np.ndarray,
    scene: CaptionScene | None = None,
    beam_width: int = 5,
    *,
    references: list[str] | tuple[str, ...] | None = None,
    features: np.ndarray | None = None,
) -> CaptionReport:
    """Caption one scene greedily and by beam search, and judge both captions.

    Inputs
    ------
    captioner : Captioner, e.g. ``load_captioner()``
    image : (64, 64, 3) uint8 RGB, the scene
    scene : CaptionScene or None, what ``image`` shows; None skips the judging
    beam_width : int, k >= 1 of the beam search
    references : list of str or None, the true captions to report; None draws
        5 with ``true_captions(scene, np.random.default_rng(0))`` (none without a scene)
    features : (D,) or None, ``captioner.features(image[None])[0]`` if already
        computed; None computes them

    Returns
    -------
    report : CaptionReport
    """
    image, k, references, features = validate_description(
        "describe_scene", captioner, image, scene, beam_width, references, features
    )
    if features is None:
        features = captioner.features(image[None])[0]  # (D,)
    x = features[None]  # (1, D)
    model = captioner.model
    greedy, greedy_lp = model.sample(x, max_length=MAX_WORDS, return_logprobs=True)  # (1, L) x2
    beam, _, beam_lp = model.beam_search(
        x, beam_width=k, max_length=MAX_WORDS, return_logprobs=True
    )  # (1, L), (1,), (1, L)
    if references is None:
        rng = np.random.default_rng(0)
        references = () if scene is None else tuple(true_captions(scene, rng, REFERENCES))
    return CaptionReport(
        references=references,
        greedy=_decoded(captioner, "greedy", greedy[0], greedy_lp[0], scene),
        beam=_decoded(captioner, "beam", beam[0], beam_lp[0], scene),
        beam_width=k,
        scene=scene,
    )


def _verdict(decoded: DecodedCaption) -> str:
    """' ✓ exactly true', ' ✗ not true' or '' (scene unknown), for titles."""
    return {True: "  ✓ exactly true", False: "  ✗ not true", None: ""}[decoded.exactly_true]


def _method_name(decoded: DecodedCaption, beam_width: int) -> str:
    return "greedy" if decoded.method == "greedy" else f"beam search (width {beam_width})"


def plot_word_probabilities(report: CaptionReport) -> Figure:
    """Bars of P(word | words before, image) for the greedy and the beam caption.

    One row per decoder, the words (``<END>`` included) as tick labels, the
    probability above each bar; bars are green when the caption is exactly
    true, red when it is not, blue when the scene is unknown.

    Inputs
    ------
    report : CaptionReport, from :func:`describe_scene`

    Returns
    -------
    fig : a matplotlib Figure with 2 axes
    """
    if not isinstance(report, CaptionReport):
        raise TypeError(
            "plot_word_probabilities: report must be a CaptionReport, as describe_scene returns "
            f"it; got {type(report).__name__}"
        )
    decoded = (report.greedy, report.beam)
    width = max(6, *(len(d.words) for d in decoded))  # one x scale, so both rows' bars align
    fig = Figure(figsize=(7.2, 4.0), dpi=90)
    axes = fig.subplots(2, 1)
    for ax, caption in zip(axes, decoded, strict=True):
        p = np.exp(np.array(caption.word_logprobs))  # (n,)
        x = np.arange(len(p))
        colour = {True: "#2da44e", False: "#cf222e", None: "#4c72b0"}[caption.exactly_true]
        ax.bar(x, p, width=0.6, color=colour)
        for xi, pi in zip(x, p, strict=True):
            ax.text(xi, pi + 0.03, f"{pi:.2f}", ha="center", va="bottom", fontsize=8)
        ax.set_xticks(x, caption.words, fontsize=9)
        ax.set_xlim(-0.6, width - 0.4)
        ax.set_ylim(0, 1.25)
        ax.set_yticks([0, 0.5, 1])
        ax.set_ylabel("P(word)")
        ax.spines[["top", "right"]].set_visible(False)
        name = _method_name(caption, report.beam_width)
        ax.set_title(
            f"{name}: log p = {caption.logprob:.2f}{_verdict(caption)}", loc="left", fontsize=10
        )
    fig.subplots_adjust(left=0.09, right=0.98, top=0.93, bottom=0.08, hspace=0.55)
    return fig


# ---------------------------------------------------------------------------
# The widget
# ---------------------------------------------------------------------------


def _png(pixels: np.ndarray) -> bytes:
    """PNG bytes of an RGB image (H, W, 3) uint8."""
    buffer = io.BytesIO()
    matplotlib.image.imsave(buffer, pixels, format="png")
    return buffer.getvalue()


def _figure_png(fig: Figure) -> bytes:
    """PNG bytes of a figure, drawn by Agg (no pyplot, nothing shown)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _caption_rows(caption: DecodedCaption, beam_width: int) -> str:
    """Two table rows of the report: the caption, its log p and verdict; then its false facts."""
    colour = {True: _GREEN, False: _RED, None: "inherit"}[caption.exactly_true]
    mark = _verdict(caption).strip() or "(scene unknown)"
    cells = (
        f"<td style='padding-right:12px'>{_method_name(caption, beam_width)}</td>"
        f"<td style='padding-right:12px'><b>&ldquo;{html.escape(caption.text)}&rdquo;</b></td>"
        f"<td style='padding-right:12px'>log p = {caption.logprob:.2f}</td>"
        f"<td style='color:{colour}; font-weight:bold'>{mark}</td>"
    )
    judgement = caption.judgement
    why = ""
    if judgement is not None and not judgement.parsed:
        why = f"does not parse: {html.escape(judgement.error or '')}"
    elif caption.false_facts:
        why = "false: " + "; ".join(html.escape(fact) for fact in caption.false_facts)
    note = f"<tr><td></td><td colspan='3' style='color:{_RED}'>{why}</td></tr>" if why else ""
    return f"<tr>{cells}</tr>{note}"


def _report_html(report: CaptionReport, heading: str) -> str:
    """The report as HTML: a heading, the true captions, and both captions with their verdicts."""
    truths = "".join(f"<li>{html.escape(text)}</li>" for text in report.references)
    rows = _caption_rows(report.greedy, report.beam_width)
    rows += _caption_rows(report.beam, report.beam_width)
    return (
        "<div style='font-size:14px; line-height:1.45'>"
        f"<div style='font-size:16px; margin-bottom:4px'>{heading}</div>"
        f"<div><b>True captions</b> ({len(report.references)} of those the grammar allows):</div>"
        f"<ul style='margin:2px 0 10px 0'>{truths}</ul>"
        "<div><b>The captioner says</b>:</div>"
        f"<table style='border-collapse:collapse'>{rows}</table>"
        "</div>"
    )


class CaptionBrowser:
    """An ipywidgets view of :func:`describe_scene` over the scenes of a split or fresh ones.

    Controls (attributes, each an ipywidget): ``source`` (the split's scenes
    or fresh ones), ``index_slider`` (which scene of the split),
    ``new_scene_button`` (draw a fresh scene: the next seed), ``seed_box``
    (the seed of the fresh scene), ``beam_slider`` (the beam width). The view:
    ``scene_view`` (the image, enlarged with crisp pixels), ``report_view``
    (true captions, both captions, their log-probabilities and ✓/✗ verdicts),
    ``bars_view`` (:func:`plot_word_probabilities`) and ``status``. What is on
    show: ``report``, ``image``, ``scene``, ``last_update_seconds`` (from a
    control's change to the new view). ``widget`` is the whole view;
    a notebook shows the browser itself.

    Inputs
    ------
    captioner : Captioner or None (the shipped ``load_captioner()``)
    split : 'train', 'val' or 'test', whose scenes the slider browses
    count : int, how many scenes of the split (their features are computed
        up front, about 25 ms each on two cores, with a progress bar)
    seed : int, the dataset's seed (0 made the shipped captioner's data, so
        its test scenes are ones it never saw)
    beam_width : int, from 1 to 10, the beam width at the start
    verbose : bool, show a progress bar while the features are computed
    """

    def __init__(
        self,
        captioner: Captioner | None = None,
        split: str = "test",
        count: int = 100,
        seed: int = 0,
        *,
        beam_width: int = 5,
        verbose: bool = True,
    ) -> None:
        split, count, seed, beam_width = validate_browser(
            "CaptionBrowser", captioner, split, count, seed, beam_width
        )
        self.captioner = load_captioner() if captioner is None else captioner
        self.split, self.count, self.seed = split, count, seed
        self._load_split(verbose)
        # The caches: seed -> (image, scene, features) of a fresh scene; (key, beam width)
        # -> (report, bars PNG); key -> the enlarged image as PNG (key: see ``key``).
        self._fresh: dict[int, tuple[np.ndarray, CaptionScene, np.ndarray]] = {}
        self._reports: dict[tuple[Any, int], tuple[CaptionReport, bytes]] = {}
        self._scene_pngs: dict[Any, bytes] = {}
        self._quiet = False
        self._blas = ThreadpoolController()
        self.last_update_seconds = float("nan")
        self._build_controls(beam_width)
        self._show()

    def _load_split(self, verbose: bool) -> None:
        """The split's images, scenes, true captions, and features (with a progress bar)."""
        split, count = self.split, self.count
        sizes = {name: count if name == split else 0 for name in ("train", "val", "test")}
        sizes["train"] = max(sizes["train"], 1)  # the loader needs a training scene
        data = load_caption_scenes(
            sizes["train"], sizes["val"], sizes["test"], self.seed, REFERENCES
        )
        self._images: np.ndarray = data[f"{split}_images"]  # (count, 64, 64, 3)
        self._scenes: list[CaptionScene] = data[f"{split}_scenes"]
        texts = decode_captions(data[f"{split}_captions"], data["idx_to_word"])  # scene-major
        self._references = [
            tuple(texts[i * REFERENCES : (i + 1) * REFERENCES]) for i in range(count)
        ]
        self._split_features = self.captioner.features(self._images, verbose=verbose)  # (count, D)

    def _build_controls(self, beam_width: int) -> None:
        """The controls, the views, their layout, and the controls' observers."""
        import ipywidgets as widgets  # here, not at import: importing the module shows nothing

        split = _SPLIT_NAMES[self.split]
        wide, label = {"width": "420px"}, {"description_width": "90px"}
        self.source = widgets.ToggleButtons(
            options=[(f"{split} scenes", "split"), ("fresh scenes", "fresh")],
            tooltips=[f"the {self.count} {split} scenes", "scenes drawn just now"],
            style={"button_width": "130px"},
        )
        self.index_slider = widgets.IntSlider(
            value=0,
            min=0,
            max=self.count - 1,
            description=f"{self.split} scene",
            continuous_update=False,
            style=label,
            layout=wide,
        )
        self.new_scene_button = widgets.Button(
            description="new random scene",
            tooltip="draw a fresh scene with the next seed",
            layout={"width": "170px"},
        )
        self.seed_box = widgets.BoundedIntText(
            value=0,
            min=0,
            max=2**31 - 1,
            description="seed",
            style={"description_width": "40px"},
            layout={"width": "150px"},
        )
        self.beam_slider = widgets.IntSlider(
            value=beam_width,
            min=1,
            max=MAX_BEAM_WIDTH,
            description="beam width",
            continuous_update=False,
            style=label,
            layout=wide,
        )
        side = f"{64 * SCALE}px"
        self.scene_view = widgets.Image(format="png", layout={"width": side, "height": side})
        self.report_view = widgets.HTML(layout={"margin": "0 0 0 20px"})
        self.bars_view = widgets.Image(format="png", layout={"width": "648px"})  # the figure's px
        self.status = widgets.HTML()
        self.widget = widgets.VBox(
            [
                self.source,
                self.index_slider,
                widgets.HBox([self.new_scene_button, self.seed_box]),
                self.beam_slider,
                widgets.HBox([self.scene_view, self.report_view], layout={"margin": "8px 0"}),
                self.bars_view,
                self.status,
            ]
        )
        self.source.observe(self._on_change, names="value")
        self.index_slider.observe(self._on_index, names="value")
        self.seed_box.observe(self._on_seed, names="value")
        self.beam_slider.observe(self._on_change, names="value")
        self.new_scene_button.on_click(self._on_new_scene)

    # ---------------------------------------------------------------- what is shown

    @property
    def key(self) -> tuple[str, int]:
        """('split', index) or ('fresh', seed): the scene on show."""
        if self.source.value == "split":
            return ("split", self.index_slider.value)
        return ("fresh", self.seed_box.value)

    @property
    def image(self) -> np.ndarray:
        """The scene on show, (64, 64, 3) uint8."""
        return self._scene_of(self.key)[0]

    @property
    def scene(self) -> CaptionScene:
        """The CaptionScene on show."""
        return self._scene_of(self.key)[1]

    @property
    def report(self) -> CaptionReport:
        """The CaptionReport on show (``describe_scene`` of the scene, at the beam width)."""
        return self._report_of(self.key, self.beam_slider.value)[0]

    def _scene_of(self, key: tuple[str, int]) -> tuple[np.ndarray, CaptionScene, np.ndarray]:
        """(image, scene, features) of a split scene, or of a fresh one (drawn once, cached)."""
        kind, value = key
        if kind == "split":
            return self._images[value], self._scenes[value], self._split_features[value]
        if value not in self._fresh:
            images, scenes = generate_caption_scenes(1, seed=value, stream=FRESH_STREAM)
            self._fresh[value] = (images[0], scenes[0], self.captioner.features(images)[0])
        return self._fresh[value]

    def _report_of(self, key: tuple[str, int], beam_width: int) -> tuple[CaptionReport, bytes]:
        """The report of a scene at a beam width and its bars as PNG, computed once."""
        if (key, beam_width) not in self._reports:
            image, scene, features = self._scene_of(key)
            refs = self._references[key[1]] if key[0] == "split" else None
            report = describe_scene(
                self.captioner, image, scene, beam_width, references=refs, features=features
            )
            self._reports[key, beam_width] = (report, _figure_png(plot_word_probabilities(report)))
        return self._reports[key, beam_width]

    def _heading(self, key: tuple[str, int]) -> str:
        kind, value = key
        if kind == "split":
            unseen = " (held out: the captioner never trained on it)"
            unseen = "" if self.split == "train" else unseen
            name = _SPLIT_NAMES[self.split].capitalize()
            return f"<b>{name} scene {value}</b> of {self.count}{unseen}"
        return f"<b>Fresh scene</b>, seed {value} (drawn just now: the captioner never saw it)"

    def _show(self) -> None:
        """Put the scene, the report and the bars of the current controls on show."""
        start = time.perf_counter()
        key, beam_width = self.key, self.beam_slider.value
        try:
            # One scene is a few small matrix products: one BLAS thread is faster, and far
            # steadier on a busy machine, than two threads waiting for each other.
            with self._blas.limit(limits=1, user_api="blas"):
                report, bars = self._report_of(key, beam_width)
            if key not in self._scene_pngs:
                enlarged = np.repeat(np.repeat(self._scene_of(key)[0], SCALE, 0), SCALE, 1)
                self._scene_pngs[key] = _png(enlarged)  # (256, 256, 3): nearest neighbour
        except Exception as error:
            self.status.value = f"<span style='color:{_RED}'>{html.escape(repr(error))}</span>"
            raise
        self.scene_view.value = self._scene_pngs[key]
        self.report_view.value = _report_html(report, self._heading(key))
        self.bars_view.value = bars
        self.last_update_seconds = time.perf_counter() - start
        self.status.value = (
            f"<span style='color:gray; font-size:12px'>updated in "
            f"{1000 * self.last_update_seconds:.0f} ms; {len(self._reports)} "
            f"view{'s' if len(self._reports) > 1 else ''} cached</span>"
        )

    # ---------------------------------------------------------------- controls

    def _set_quietly(self, control: Any, value: Any) -> None:
        """Set a control without its observer redrawing (the caller redraws once)."""
        self._quiet = True
        try:
            control.value = value
        finally:
            self._quiet = False

    def _on_change(self, change: dict) -> None:
        if not self._quiet:
            self._show()

    def _on_index(self, change: dict) -> None:
        if not self._quiet:
            self._set_quietly(self.source, "split")
            self._show()

    def _on_seed(self, change: dict) -> None:
        if not self._quiet:
            self._set_quietly(self.source, "fresh")
            self._show()

    def _on_new_scene(self, button: Any) -> None:
        self._set_quietly(self.source, "fresh")
        self.seed_box.value += 1  # its observer shows the scene

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        kind, value = self.key
        shown = f"{self.split} scene {value}" if kind == "split" else f"fresh scene seed {value}"
        return f"CaptionBrowser({shown}, beam width {self.beam_slider.value})"
