"""Tag schemes: IOB1, IOB2 and IOBES, and lossless conversion between them.

The paper trains in IOBES (more expressive: the CRF learns where entities end) and scores in IOB2 (what
conlleval expects). Everything inside zsner holds tags in IOB2 as the canonical form; conversions happen
at the edges (reading IOB1 files, training in IOBES, writing predictions).
"""
from __future__ import annotations

import re
from typing import Iterable, Sequence

SCHEMES = ("iob1", "iob2", "iobes")
_TAG = re.compile(r"^(?:O|([BIES])-(\S+))$")


class TagError(ValueError):
    """A tag sequence that breaks its scheme; ``position`` is the 0-based token index."""

    def __init__(self, message: str, position: int):
        super().__init__(message)
        self.position = position


def split_tag(tag: str) -> tuple[str, str]:
    """``'B-PER'`` → ``('B', 'PER')``; ``'O'`` → ``('O', '')``. Raises :class:`ValueError` if malformed."""
    match = _TAG.match(tag)
    if match is None:
        raise ValueError(f"unknown tag {tag!r} (expected O or a prefix B-, I-, E-, S- and a type)")
    if tag == "O":
        return "O", ""
    return match.group(1), match.group(2)


# -- entity chunks, by conlleval's rules ---------------------------------------------------------------------

Chunk = tuple[str, int, int]  # (type, start, end inclusive)


def _conlleval_split(tag: str) -> tuple[str, str]:
    # conlleval splits on the first '-': 'B-PER' -> ('B', 'PER'); 'O' -> ('O', ''); anything else reads as O.
    if tag == "O" or "-" not in tag:
        return (tag if tag in ("O", "[", "]", ".") else "O"), ""
    prefix, kind = tag.split("-", 1)
    return prefix, kind


def _ends(prev_tag: str, tag: str, prev_type: str, kind: str) -> bool:
    if prev_tag in ("E", "S"):
        return True
    if prev_tag in ("B", "I") and tag in ("B", "S", "O"):
        return True
    return prev_tag not in ("O", ".") and prev_type != kind


def _starts(prev_tag: str, tag: str, prev_type: str, kind: str) -> bool:
    if tag in ("B", "S"):
        return True
    if prev_tag in ("E", "S", "O") and tag in ("I", "E"):
        return True
    return tag not in ("O", ".") and prev_type != kind


def chunks(tags: Sequence[str]) -> list[Chunk]:
    """Entity chunks of one tag sequence in any scheme here, with conlleval's boundary rules (what it scores).

    conlleval knows ``B-``/``I-`` (and IOE's ``E-``); ``S-`` and IOBES's ``E-`` close their entity, as in seqeval's
    conlleval mode. On IOB1/IOB2 this is conlleval exactly.
    """
    found: list[Chunk] = []
    prev_tag, prev_type, start = "O", "", -1
    for i, tag in enumerate(list(tags) + ["O"]):
        prefix, kind = _conlleval_split(tag)
        if start >= 0 and _ends(prev_tag, prefix, prev_type, kind):
            found.append((prev_type, start, i - 1))
            start = -1
        if _starts(prev_tag, prefix, prev_type, kind):
            start = i
        prev_tag, prev_type = prefix, kind
    return found


def check_scheme(scheme: str) -> str:
    """Normalise a scheme name, rejecting unknown ones with a message that lists the valid names."""
    name = scheme.lower()
    if name not in SCHEMES:
        raise ValueError(f"unknown tag scheme {scheme!r} (expected one of {', '.join(SCHEMES)})")
    return name


def iob1_to_iob2(tags: Sequence[str]) -> list[str]:
    """In IOB1 an entity may open with ``I-``; IOB2 always opens with ``B-``."""
    return _opened_by_b(tags)


def _opened_by_b(tags: Sequence[str]) -> list[str]:
    """IOB2 with exactly the entities :func:`chunks` reads in ``tags`` (IOB1, IOB2 or IOBES): ``B-`` where
    conlleval's rules start an entity, ``I-`` on the rest of it."""
    out = []
    prev_prefix, prev_type = "O", ""
    for tag in tags:
        prefix, kind = split_tag(tag)
        if prefix == "O":
            out.append("O")
        else:
            out.append(f"{'B' if _starts(prev_prefix, prefix, prev_type, kind) else 'I'}-{kind}")
        prev_prefix, prev_type = prefix, kind
    return out


def find_iob2_violations(tags: Sequence[str]) -> list[int]:
    """Positions of ``I-X`` tags that do not continue an ``X`` entity (illegal in IOB2)."""
    bad = []
    prev_prefix, prev_type = "O", ""
    for i, tag in enumerate(tags):
        prefix, kind = split_tag(tag)
        if prefix in "ES":
            raise TagError(f"tag {tag!r} is not an IOB tag", i)
        if prefix == "I" and (prev_prefix == "O" or prev_type != kind):
            bad.append(i)
        prev_prefix, prev_type = prefix, kind
    return bad


def iob2_to_iobes(tags: Sequence[str]) -> list[str]:
    """Mark single-token entities ``S-`` and entity ends ``E-``. Input must be valid IOB2."""
    out: list[str] = []
    for i, tag in enumerate(tags):
        prefix, kind = split_tag(tag)
        if prefix == "O":
            out.append("O")
            continue
        nxt = tags[i + 1] if i + 1 < len(tags) else "O"
        continues = nxt == f"I-{kind}"
        if prefix == "B":
            out.append(f"B-{kind}" if continues else f"S-{kind}")
        elif prefix == "I":
            out.append(f"I-{kind}" if continues else f"E-{kind}")
        else:
            raise TagError(f"tag {tag!r} is not an IOB2 tag", i)
    return out


def iobes_to_iob2(tags: Sequence[str]) -> list[str]:
    """Inverse of :func:`iob2_to_iobes`: the same entities, each opened by ``B-`` and continued by ``I-``.

    On well-formed IOBES this is ``S-`` → ``B-``, ``E-`` → ``I-``. Model output may be ill-formed, and then the
    IOB2 written here holds exactly the entities :func:`chunks` reads in the IOBES (an ``E-`` or ``S-`` closes
    its entity: ``S-PER E-PER`` is two, as seqeval's conlleval mode scores it), so scoring a prediction before or
    after the conversion gives one answer. Lample's plain ``S``→``B``, ``E``→``I`` would make it one ``B-PER I-PER``.
    """
    return _opened_by_b(tags)


def to_iob2(tags: Sequence[str], scheme: str) -> list[str]:
    """Convert ``tags`` written in ``scheme`` to IOB2."""
    scheme = check_scheme(scheme)
    if scheme == "iob1":
        return iob1_to_iob2(tags)
    if scheme == "iobes":
        return iobes_to_iob2(tags)
    return list(tags)


def from_iob2(tags: Sequence[str], scheme: str) -> list[str]:
    """Convert IOB2 ``tags`` to ``scheme`` (IOB1 writes ``B-`` only between adjacent same-type entities)."""
    scheme = check_scheme(scheme)
    if scheme == "iobes":
        return iob2_to_iobes(tags)
    if scheme == "iob1":
        out = []
        prev_type = ""
        for tag in tags:
            prefix, kind = split_tag(tag)
            if prefix == "B" and prev_type != kind:
                prefix = "I"
            out.append("O" if prefix == "O" else f"{prefix}-{kind}")
            prev_type = kind
        return out
    return list(tags)


def entity_types(tag_sets: Iterable[Sequence[str]]) -> list[str]:
    """Sorted entity types (``PER``, ``LOC``, …) occurring in some tag sequences."""
    types = {split_tag(t)[1] for tags in tag_sets for t in tags if t != "O"}
    return sorted(types)


def tag_inventory(types: Iterable[str], scheme: str) -> list[str]:
    """All tags of ``scheme`` over ``types``, ``O`` first: the label set a model is built with."""
    prefixes = "BIES" if check_scheme(scheme) == "iobes" else "BI"
    return ["O"] + [f"{p}-{t}" for t in sorted(types) for p in prefixes]
