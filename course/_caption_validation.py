"""Input validation for :mod:`course.caption_metrics`: evaluation sets as aligned lists.

An evaluation set is checked whole before any n-gram is counted, so that a
missing id, a bare string where a list belongs or an empty reference is
reported by image id rather than as a wrong score.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence


def validate_captions(
    func: str, references: object, candidates: object
) -> tuple[list[list[str]], list[str]]:
    """Check an evaluation set and return it as aligned lists (references, candidates).

    Both arguments must be dicts with the same ids (the order is that of
    ``references``) or sequences of the same length. Each image needs at least
    one reference, and every reference at least one word (an empty one is a
    data error: pycocoevalcap would silently count it as a caption that
    matches nothing). A candidate is a str or a list holding one str; an empty
    candidate is allowed (a model may produce one) and scores 0, as in
    pycocoevalcap.
    """
    if isinstance(references, Mapping) and isinstance(candidates, Mapping):
        ids = list(references)
        _require_same_ids(func, ids, candidates)
        refs, cands = [references[i] for i in ids], [candidates[i] for i in ids]
    elif _is_sequence(references) and _is_sequence(candidates):
        if len(references) != len(candidates):
            raise ValueError(
                f"{func}: {len(references)} lists of references but {len(candidates)} "
                f"candidates; give one candidate per image"
            )
        ids = list(range(len(references)))
        refs, cands = list(references), list(candidates)
    else:
        raise TypeError(
            f"{func}: references and candidates must both be dicts (image id -> captions) "
            f"or both be lists; got {type(references).__name__} and "
            f"{type(candidates).__name__}"
        )
    if not refs:
        raise ValueError(f"{func}: no images to score (references and candidates are empty)")
    return (
        [_require_references(func, i, r) for i, r in zip(ids, refs, strict=True)],
        [_require_candidate(func, i, c) for i, c in zip(ids, cands, strict=True)],
    )


def _is_sequence(value: object) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _require_same_ids(func: str, ids: list, candidates: Mapping) -> None:
    missing = [i for i in ids if i not in candidates]
    known = set(ids)
    extra = [i for i in candidates if i not in known]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"{len(missing)} id(s) with references but no candidate: {_few(missing)}")
        if extra:
            parts.append(f"{len(extra)} candidate id(s) with no references: {_few(extra)}")
        raise ValueError(
            f"{func}: references and candidates must have the same image ids; " + "; ".join(parts)
        )


def _few(values: list, limit: int = 3) -> str:
    shown = ", ".join(repr(v) for v in values[:limit])
    return shown + (", ..." if len(values) > limit else "")


def _require_references(func: str, image: Hashable, refs: object) -> list[str]:
    if isinstance(refs, str) or not _is_sequence(refs):
        raise TypeError(
            f"{func}: references[{image!r}] must be a list of reference captions (str), got "
            f"{type(refs).__name__}"
            + (f"; wrap a single reference in a list: [{refs!r}]" if isinstance(refs, str) else "")
        )
    if not refs:
        raise ValueError(f"{func}: references[{image!r}] is empty; every image needs a reference")
    for j, ref in enumerate(refs):
        if not isinstance(ref, str):
            raise TypeError(
                f"{func}: references[{image!r}][{j}] must be a str caption, "
                f"got {type(ref).__name__}"
            )
        if not ref.split():
            raise ValueError(
                f"{func}: references[{image!r}][{j}] is {ref!r}, a caption with no words; "
                f"remove it (or fix the data that made it)"
            )
    return list(refs)


def _require_candidate(func: str, image: Hashable, cand: object) -> str:
    if _is_sequence(cand):  # pycocoevalcap's form: a list holding one caption
        if len(cand) != 1:
            raise ValueError(
                f"{func}: candidates[{image!r}] holds {len(cand)} captions; give exactly one "
                f"candidate per image"
            )
        cand = cand[0]
    if not isinstance(cand, str):
        raise TypeError(
            f"{func}: candidates[{image!r}] must be a str caption, got {type(cand).__name__}"
        )
    return cand


def tokenized(
    func: str, refs: list[list[str]], cands: list[str], tokenizer: Callable[[str], str]
) -> tuple[list[list[str]], list[str]]:
    """The captions passed through ``tokenizer``, checked again (a reference may become empty)."""
    if not callable(tokenizer):
        raise TypeError(f"{func}: tokenizer must be a function str -> str or None")
    new_refs = [[tokenizer(r) for r in rs] for rs in refs]
    new_cands = [tokenizer(c) for c in cands]
    return validate_captions(f"{func} (after tokenizer)", new_refs, new_cands)
