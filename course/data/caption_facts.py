"""Read a caption back into facts and judge each fact against its scene: exact caption scores.

A generated caption of a caption scene is scored exactly, not by n-gram
overlap: ``parse_caption`` reads it with the grammar of
:mod:`course.data.caption_grammar` into ``Fact`` objects, ``judge_caption``
says which facts are true of the scene, and ``caption_accuracy`` sums that
over a test set.

The facts of a caption, in order, are:

- for each noun phrase, one fact per attribute it names, shape first, then
  colour, then size, each refining the one before: "a small red circle" gives
  ``shape`` "a circle", ``colour`` "a red circle", ``size`` "a small red
  circle", each true when *some* object matches it. So a colour fact is
  true when an object of the named shape (if any) has that colour;
- for a counted phrase, also a ``count`` fact: "two green stars" is true when
  *exactly* two objects are green stars ("three shapes": exactly three objects);
- for "A <relation> B", also a ``relation`` fact, true when some object
  matching A and some other object matching B satisfy ``relation_holds``
  (B's centre at least ``RELATION_MARGIN`` = 8 px right of A's for "A left of B",
  below it for "A above B", and so on).

A caption is true when all of its facts are. Every caption the grammar makes
has at least one fact ("a shape" is not a caption).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from course.data._caption_validation import require_scene, validate_scored_captions
from course.data.caption_grammar import (
    ARTICLES,
    CAPTION_WORDS,
    GENERIC_NOUN,
    NUMBER_WORDS,
    PLURALS,
    RELATIONS,
    Description,
    _article,
    relation_holds,
)
from course.data.caption_scenes import COLOUR_NAMES, SIZE_NAMES, CaptionScene

__all__ = [
    "FACT_KINDS",
    "CaptionJudgement",
    "CaptionParseError",
    "Fact",
    "caption_accuracy",
    "judge_caption",
    "parse_caption",
]

FACT_KINDS: tuple[str, ...] = ("shape", "colour", "size", "count", "relation")
_SINGULAR = {plural: noun for noun, plural in PLURALS.items()}
_RELATION_STARTS = {relation.split()[0]: relation for relation in RELATIONS}
_STARTS = "'a', 'an', 'two' or 'three'"


class CaptionParseError(ValueError):
    """A caption that the grammar cannot read; ``word`` and ``position`` (1-based) say where."""

    def __init__(self, message: str, word: str | None = None, position: int | None = None):
        super().__init__(message)
        self.word, self.position = word, position


@dataclass(frozen=True)
class Fact:
    """One checkable statement of a caption.

    Attributes
    ----------
    kind : str, one of ``FACT_KINDS``
    subject : Description, the objects the fact is about
    number : int or None, for ``count`` facts: exactly how many objects match ``subject``
    relation : str or None, for ``relation`` facts: one of ``RELATIONS``
    other : Description or None, for ``relation`` facts: the object ``subject`` is related to
    """

    kind: str
    subject: Description
    number: int | None = None
    relation: str | None = None
    other: Description | None = None

    def true_of(self, scene: CaptionScene) -> bool:
        """Whether the fact holds in ``scene`` (the rules of the module docstring)."""
        objects = scene.objects
        if self.kind == "count":
            return self.subject.count(scene) == self.number
        if self.kind == "relation":
            return any(
                self.subject.matches(a)
                and self.other.matches(b)
                and relation_holds(a, self.relation, b)
                for i, a in enumerate(objects)
                for j, b in enumerate(objects)
                if i != j
            )
        return any(self.subject.matches(obj) for obj in objects)

    def __str__(self) -> str:
        if self.kind == "count":
            return f"count: {' '.join(self.subject.words(self.number))}"
        if self.kind == "relation":
            return f"relation: {self.subject} {self.relation} {self.other}"
        return f"{self.kind}: {self.subject}"


@dataclass(frozen=True)
class CaptionJudgement:
    """The verdict on one caption.

    Attributes
    ----------
    parsed : bool, whether the grammar reads the caption
    true : bool, whether every fact is true of the scene (False when not parsed)
    facts : tuple of (Fact, bool), each fact and whether it is true; empty when not parsed
    error : str or None, the parse error's message when not parsed
    """

    parsed: bool
    true: bool
    facts: tuple[tuple[Fact, bool], ...]
    error: str | None = None


# ---------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------


class _Reader:
    """The words of a caption, read left to right, with errors that say where reading stopped."""

    def __init__(self, words: list[str]) -> None:
        self.words, self.at = words, 0

    def peek(self) -> str | None:
        return self.words[self.at] if self.at < len(self.words) else None

    def take(self, expected: str) -> str:
        """The next word; an error saying what was ``expected`` if the caption has ended."""
        if self.at == len(self.words):
            raise CaptionParseError(
                f"parse_caption: the caption ends after word {self.at} {self.words[-1]!r}; "
                f"expected {expected}",
                None,
                self.at + 1,
            )
        self.at += 1
        return self.words[self.at - 1]

    def error(self, index: int, problem: str) -> CaptionParseError:
        """The error for the word at ``index`` (0-based): which word, and what went wrong."""
        word = self.words[index]
        unknown = "" if word in CAPTION_WORDS else " (not a word of the caption grammar)"
        return CaptionParseError(
            f"parse_caption: word {index + 1} {word!r}{unknown}: {problem}", word, index + 1
        )


def _phrase(reader: _Reader) -> tuple[Description, int]:
    """Read an ``object`` (number 1) or a ``counted`` phrase: (description, number)."""
    first = reader.at
    start = reader.take(f"a phrase starting with {_STARTS}")
    if start not in ARTICLES and start not in NUMBER_WORDS:
        raise reader.error(first, f"expected {_STARTS} here, to start a phrase")
    number = NUMBER_WORDS.get(start, 1)
    adjectives = {}
    for field, allowed in (("size", SIZE_NAMES), ("colour", COLOUR_NAMES)):
        if reader.peek() in allowed:
            adjectives[field] = reader.take("")
    expected = ("a shape name", "a colour or a shape name", "a size, a colour or a shape name")[
        0 if "colour" in adjectives else 1 if adjectives else 2
    ]
    at = reader.at
    noun = reader.take(expected)
    if number == 1 and noun in _SINGULAR:
        raise reader.error(at, f"after {start!r} the noun must be singular: {_SINGULAR[noun]!r}")
    if number > 1 and noun in PLURALS:
        raise reader.error(at, f"after {start!r} the noun must be plural: {PLURALS[noun]!r}")
    if noun not in (PLURALS if number == 1 else _SINGULAR):
        raise reader.error(at, f"expected {expected} here")
    noun = _SINGULAR.get(noun, noun)
    if number == 1 and noun == GENERIC_NOUN and not adjectives:
        raise reader.error(
            at, "'shape' needs a size or a colour before it ('a red shape'), or name the shape"
        )
    if number == 1 and start != _article(reader.words[first + 1]):
        right = _article(reader.words[first + 1])
        raise reader.error(first, f"the article before {reader.words[first + 1]!r} is {right!r}")
    shape = None if noun == GENERIC_NOUN else noun
    return Description(shape, adjectives.get("colour"), adjectives.get("size")), number


def _relation(reader: _Reader) -> str:
    """Read a relation: 'left of', 'right of', 'above' or 'below'."""
    word = reader.take("a relation")
    if word in ("left", "right"):
        if reader.take(f"'of' after {word!r}") != "of":
            raise reader.error(reader.at - 1, f"expected 'of' after {word!r}")
        return f"{word} of"
    return word


def _phrase_facts(description: Description, number: int) -> list[Fact]:
    """The facts of one phrase: shape, colour, size (each refining the last), then its count."""
    facts, named = [], {}
    for field in ("shape", "colour", "size"):
        if getattr(description, field) is not None:
            named[field] = getattr(description, field)
            facts.append(Fact(field, Description(**named)))
    if number > 1:
        facts.append(Fact("count", description, number=number))
    return facts


def parse_caption(text: str) -> list[Fact]:
    """Read a caption into its facts.

    Inputs
    ------
    text : str, words of the grammar separated by whitespace (as
        ``decode_captions`` writes them; no ``<START>``/``<END>`` tokens)

    Returns
    -------
    facts : list of Fact, in the order of the module docstring; never empty

    Raises
    ------
    CaptionParseError (a ValueError)
        The grammar cannot read ``text``; the message names the word where
        reading failed and what was expected there.
    """
    if not isinstance(text, str):
        raise TypeError(
            f"parse_caption: text must be a str, got {type(text).__name__}; join a list of "
            "words with ' '.join(words), or decode index arrays with decode_captions"
        )
    reader = _Reader(text.split())
    if not reader.words:
        raise CaptionParseError(
            f"parse_caption: the caption is empty; a caption starts with {_STARTS}"
        )
    subject, number = _phrase(reader)
    facts = _phrase_facts(subject, number)
    at, word = reader.at, reader.peek()
    if word in _RELATION_STARTS:
        if number > 1:
            raise reader.error(at, "a relation needs one object before it, not a count")
        relation = _relation(reader)
        other_at = reader.at
        other, other_number = _phrase(reader)
        if other_number > 1:
            raise reader.error(other_at, "a relation needs one object after it, not a count")
        facts += _phrase_facts(other, 1)
        facts.append(Fact("relation", subject, relation=relation, other=other))
        ending = "expected the end of the caption ('and' cannot join a relation)"
    elif word == "and":
        reader.take("")
        facts += _phrase_facts(*_phrase(reader))
        ending = "expected the end of the caption ('and' joins two phrases at most)"
    else:
        relations = ", ".join(repr(r) for r in RELATIONS)
        ending = f"expected 'and', a relation ({relations}) or the end of the caption"
        if number > 1:
            ending = "expected 'and' or the end of the caption"
    if reader.peek() is not None:
        raise reader.error(reader.at, ending)
    return facts


# ---------------------------------------------------------------------------
# Judging
# ---------------------------------------------------------------------------


def judge_caption(text: str, scene: CaptionScene) -> CaptionJudgement:
    """Parse ``text`` and say which of its facts are true of ``scene``.

    Inputs
    ------
    text : str, a caption (a generated one need not parse)
    scene : CaptionScene, the scene the caption is about

    Returns
    -------
    judgement : CaptionJudgement; ``judgement.true`` when the caption parses
        and every fact holds, and ``judgement.error`` says why it did not parse.
    """
    require_scene("judge_caption", scene)
    try:
        facts = parse_caption(text)
    except CaptionParseError as error:
        return CaptionJudgement(parsed=False, true=False, facts=(), error=str(error))
    verdicts = tuple((fact, fact.true_of(scene)) for fact in facts)
    return CaptionJudgement(parsed=True, true=all(ok for _, ok in verdicts), facts=verdicts)


def caption_accuracy(
    captions: Sequence[str], scenes: Sequence[CaptionScene]
) -> dict[str, float | None]:
    """Score captions against their scenes, exactly.

    Inputs
    ------
    captions : sequence of N str, caption i describing scene i
    scenes : sequence of N CaptionScene

    Returns
    -------
    scores : dict
        ``'exact'``: the fraction of captions that parse and whose facts are
        all true; ``'parsed'``: the fraction that parse; and for each kind of
        ``FACT_KINDS`` (``'shape'``, ``'colour'``, ``'size'``, ``'count'``,
        ``'relation'``): the fraction of the facts of that kind, over all
        parsed captions, that are true, or None when no caption states one.
    """
    validate_scored_captions("caption_accuracy", captions, scenes)
    exact = parsed = 0
    stated = dict.fromkeys(FACT_KINDS, 0)
    right = dict.fromkeys(FACT_KINDS, 0)
    for text, scene in zip(captions, scenes, strict=True):
        judgement = judge_caption(text, scene)
        parsed += judgement.parsed
        exact += judgement.true
        for fact, ok in judgement.facts:
            stated[fact.kind] += 1
            right[fact.kind] += ok
    scores: dict[str, float | None] = {
        "exact": exact / len(captions),
        "parsed": parsed / len(captions),
    }
    for kind in FACT_KINDS:
        scores[kind] = right[kind] / stated[kind] if stated[kind] else None
    return scores
