"""The caption grammar of the caption scenes, and true captions drawn from it.

A caption is lowercase words separated by single spaces, no punctuation::

    caption  := clause | simple "and" simple
    clause   := simple | object relation object
    simple   := object | counted
    object   := article [size] [colour] noun        "a small red circle", "an arrow"
    counted  := number [size] [colour] plural       "two green stars", "three shapes"
    relation := "left of" | "right of" | "above" | "below"
    article  := "a" | "an"                          ("an" exactly when the next word
                                                     starts with a vowel: "an arrow")
    number   := "two" | "three"
    size     := "small" | "large"
    colour   := "red" | "green" | "blue" | "yellow" | "white" | "purple"
    noun     := a Shapes-10 class name | "shape"    (a bare "a shape" is not a caption:
                                                     "shape" needs a size or a colour)
    plural   := the plural of a class name | "shapes"   ("crosses", "circles", ...)

What each phrase means (the judge, :mod:`course.data.caption_facts`, keeps
exactly these rules):

- ``object`` is a *description* (``Description``): it is true of a scene when
  some object has every attribute it names ("a red circle": some object is a
  red circle, whatever else the scene holds).
- ``counted`` says how many: "two green stars" is true when *exactly* two
  objects are green stars; "three shapes" when the scene has exactly three objects.
- ``object relation object`` is true when some object matching the first
  description and some other object matching the second stand in the
  relation: "A left of B" when B's centre is at least ``RELATION_MARGIN``
  pixels to the right of A's (``relation_holds``); "above" likewise
  downwards (y grows down). The other axis does not matter to the judge.
- "X and Y" is true when X is true and Y is true.

``true_captions`` draws captions that are true of a scene, and more: it
states a relation only along the axis on which the two centres differ more
(so a caption never calls an object "left of" one that is mostly below it),
and joins two phrases with "and" only when no object matches both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course.data._caption_validation import validate_caption_request
from course.data.caption_scenes import COLOUR_NAMES, SIZE_NAMES, CaptionScene, SceneObject
from course.data.shape_renderer import CLASS_NAMES

__all__ = [
    "CAPTION_WORDS",
    "MAX_CAPTION_WORDS",
    "NUMBER_WORDS",
    "PLURALS",
    "RELATIONS",
    "RELATION_MARGIN",
    "Description",
    "relation_holds",
    "true_captions",
]

RELATION_MARGIN = 8.0  # pixels between centres for "left of", "right of", "above", "below"
RELATIONS: tuple[str, ...] = ("left of", "right of", "above", "below")
NUMBER_WORDS: dict[str, int] = {"two": 2, "three": 3}
GENERIC_NOUN, GENERIC_PLURAL = "shape", "shapes"
PLURALS: dict[str, str] = {
    name: name + ("es" if name.endswith(("s", "x", "ch", "sh")) else "s")
    for name in (*CLASS_NAMES, GENERIC_NOUN)
}
ARTICLES: tuple[str, ...] = ("a", "an")
CAPTION_WORDS: tuple[str, ...] = (
    *ARTICLES,
    *NUMBER_WORDS,
    *SIZE_NAMES,
    *COLOUR_NAMES,
    *PLURALS,
    *PLURALS.values(),
    "left",
    "right",
    "of",
    "above",
    "below",
    "and",
)
# The longest caption: "a small red circle left of a large blue square".
MAX_CAPTION_WORDS = 10

# How often true_captions picks each kind of caption (for scenes of 2+ objects),
# and how often a description names each attribute.
_TEMPLATES = ("object", "relation", "count", "and")
_TEMPLATE_P = np.cumsum((0.30, 0.35, 0.15, 0.20))
_OBJECT_P = {"shape": 0.75, "colour": 0.6, "size": 0.45}
_COUNTED_P = {"shape": 0.5, "colour": 0.5, "size": 0.3}
_ATTEMPTS = 40  # tries per caption asked for before falling back to listing every caption


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


@dataclass(frozen=True)
class Description:
    """What a noun phrase says about an object: a shape, a colour and a size, each optional.

    ``Description(shape='circle', colour='red')`` is "a red circle"; a field
    left None is not constrained ("a red shape" has ``shape=None``).
    """

    shape: str | None = None
    colour: str | None = None
    size: str | None = None

    def __post_init__(self) -> None:
        for field, allowed in (
            ("shape", CLASS_NAMES),
            ("colour", COLOUR_NAMES),
            ("size", SIZE_NAMES),
        ):
            value = getattr(self, field)
            if value is not None and value not in allowed:
                raise ValueError(f"Description: {field} {value!r} is not one of {allowed}")

    def matches(self, obj: SceneObject) -> bool:
        """Whether ``obj`` has every attribute this description names."""
        return (
            (self.shape is None or obj.shape == self.shape)
            and (self.colour is None or obj.colour == self.colour)
            and (self.size is None or obj.size == self.size)
        )

    def count(self, scene: CaptionScene) -> int:
        """How many objects of ``scene`` match."""
        return sum(self.matches(obj) for obj in scene.objects)

    def words(self, number: int = 1) -> list[str]:
        """The phrase as words: "a small red circle" (number 1), "two small red circles" (2)."""
        noun = self.shape or GENERIC_NOUN
        adjectives = [w for w in (self.size, self.colour) if w is not None]
        if number == 1:
            return [_article((adjectives or [noun])[0]), *adjectives, noun]
        return [_NUMBER_NAMES[number], *adjectives, PLURALS[noun]]

    def __str__(self) -> str:
        return " ".join(self.words())


_NUMBER_NAMES = {value: word for word, value in NUMBER_WORDS.items()}


def relation_holds(a: SceneObject, relation: str, b: SceneObject) -> bool:
    """Whether "a <relation> b" is true: the centres differ by ``RELATION_MARGIN`` px that way.

    "a left of b": ``b.x - a.x >= RELATION_MARGIN``; "a right of b":
    ``a.x - b.x >= RELATION_MARGIN``; "a above b": ``b.y - a.y >= RELATION_MARGIN``
    (y grows downwards); "a below b": ``a.y - b.y >= RELATION_MARGIN``.
    """
    dx, dy = b.x - a.x, b.y - a.y
    along = {"left of": dx, "right of": -dx, "above": dy, "below": -dy}
    if relation not in along:
        raise ValueError(f"relation_holds: relation {relation!r} is not one of {RELATIONS}")
    return along[relation] >= RELATION_MARGIN


def _stated_relations(a: SceneObject, b: SceneObject) -> list[str]:
    """What true_captions states of (a, b): the true relation along the axis of larger change."""
    dx, dy = b.x - a.x, b.y - a.y
    if abs(dx) > abs(dy):
        relation = "left of" if dx > 0 else "right of"
    else:
        relation = "above" if dy > 0 else "below"
    return [relation] if relation_holds(a, relation, b) else []


# ---------------------------------------------------------------------------
# Drawing true captions
# ---------------------------------------------------------------------------


class _Draws:
    """Uniform numbers from ``rng``, drawn 64 at a time (one numpy call per block)."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng, self.block, self.next = rng, np.empty(0), 0

    def uniform(self) -> float:
        if self.next == self.block.size:
            self.block, self.next = self.rng.random(64), 0
        self.next += 1
        return float(self.block[self.next - 1])

    def pick(self, items):
        return items[int(self.uniform() * len(items))]


def _describe(obj: SceneObject, draws: _Draws, p: dict[str, float], allow_empty: bool):
    """A random Description of ``obj``, naming each attribute with probability ``p[attribute]``."""
    while True:
        named = {key: getattr(obj, key) if draws.uniform() < p[key] else None for key in p}
        if allow_empty or any(named.values()):
            return Description(**named)


def _simple(scene: CaptionScene, draws: _Draws, counted: bool):
    """A random true ``simple`` phrase of ``scene``: (description, number), or None."""
    if counted:
        description = _describe(draws.pick(scene.objects), draws, _COUNTED_P, allow_empty=True)
        number = description.count(scene)
        return (description, number) if number >= 2 else None
    return _describe(draws.pick(scene.objects), draws, _OBJECT_P, allow_empty=False), 1


def _sample_caption(scene: CaptionScene, draws: _Draws) -> list[str] | None:
    """One random true caption of ``scene`` as words, or None when this try failed."""
    objects = scene.objects
    u = draws.uniform()
    template = "object" if len(objects) == 1 else _TEMPLATES[int(np.searchsorted(_TEMPLATE_P, u))]
    if template in ("object", "count"):
        phrase = _simple(scene, draws, counted=template == "count")
        return None if phrase is None else phrase[0].words(phrase[1])
    if template == "relation":
        i = int(draws.uniform() * len(objects))
        j = (i + 1 + int(draws.uniform() * (len(objects) - 1))) % len(objects)  # j != i
        relations = _stated_relations(objects[i], objects[j])
        if not relations:
            return None
        first = _describe(objects[i], draws, _OBJECT_P, allow_empty=False)
        second = _describe(objects[j], draws, _OBJECT_P, allow_empty=False)
        return [*first.words(), *draws.pick(relations).split(), *second.words()]
    # "and": two simple phrases about disjoint sets of objects
    phrases = [_simple(scene, draws, counted=draws.uniform() < 0.3) for _ in range(2)]
    if None in phrases:
        return None
    (d1, n1), (d2, n2) = phrases
    if any(d1.matches(obj) and d2.matches(obj) for obj in objects):
        return None
    return [*d1.words(n1), "and", *d2.words(n2)]


def _every_caption(scene: CaptionScene) -> list[str]:
    """Every object, counted and relation caption of ``scene`` (no "and"), without repeats."""
    captions: dict[str, None] = {}
    descriptions = [
        Description(shape, colour, size)
        for shape in (None, *CLASS_NAMES)
        for colour in (None, *COLOUR_NAMES)
        for size in (None, *SIZE_NAMES)
    ]
    true = [d for d in descriptions if d.count(scene) >= 1 and d != Description()]
    for d in descriptions:
        if d.count(scene) >= 2:
            captions[" ".join(d.words(d.count(scene)))] = None
    for d in true:
        captions[" ".join(d.words())] = None
    pairs = [(a, b) for i, a in enumerate(scene.objects) for b in scene.objects[i + 1 :]]
    for a, b in pairs + [(b, a) for a, b in pairs]:
        for relation in _stated_relations(a, b):
            for da in (d for d in true if d.matches(a)):
                for db in (d for d in true if d.matches(b)):
                    captions[f"{da} {relation} {db}"] = None
    return list(captions)


def true_captions(scene: CaptionScene, rng: np.random.Generator, count: int = 5) -> list[str]:
    """Draw ``count`` different captions that are true of ``scene``.

    Inputs
    ------
    scene : CaptionScene
    rng : numpy Generator, the source of every random choice (the result is
        deterministic given its state)
    count : int, how many different captions

    Returns
    -------
    captions : list of ``count`` different str, each lowercase words of the
        grammar separated by single spaces, each judged true of ``scene``.
        Objects, relations, counts and "and" phrases are mixed at random.

    Raises
    ------
    ValueError
        The grammar has fewer than ``count`` different true captions of the
        scene (a one-object scene has exactly seven).
    """
    count = validate_caption_request("true_captions", scene, rng, count)
    draws = _Draws(rng)
    chosen: dict[str, None] = {}  # an ordered set
    for _ in range(_ATTEMPTS * count):
        if len(chosen) == count:
            return list(chosen)
        words = _sample_caption(scene, draws)
        if words is not None:
            chosen[" ".join(words)] = None
    rest = [c for c in _every_caption(scene) if c not in chosen]
    available = len(chosen) + len(rest)
    if available < count:
        raise ValueError(
            f"true_captions: the grammar has only {available} different true captions of "
            f"this scene; ask for count <= {available}"
        )
    order = rng.permutation(len(rest))
    return [*chosen, *(rest[k] for k in order[: count - len(chosen)])]
