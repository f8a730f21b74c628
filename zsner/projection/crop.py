"""CROP's entity projection without the models (Yang et al. 2022, ``001_…`` §3.3–3.4): markers and matching.

The English model tags the English translation of a target sentence; :func:`mark` wraps its i-th entity in
the boundary symbols ``<bi>…</bi>`` and the marked sentence is translated back; :func:`marked_spans` reads
each entity's translation between its markers; :func:`project` matches every entity onto the *original*
target sentence word by word ("lexical matching") and gives the original sentence its tags.

Matching is where a rule-based translator's limits are absorbed: its markers are positional, so after
reordering a marker may hold the wrong word ("el <b1>gobierno</b1> español" for "the <b1>Spanish</b1>
government"). Each entity therefore has candidates, tried in order until one occurs in the original
sentence: the marked translation (CROP's), the entity translated on its own, and the English words as they
are (names mostly cross unchanged). Each matching step is exact first, then ignoring case and accents.
A sentence whose entity matches nowhere, or whose matches overlap, is dropped (CROP drops unmatched ones).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from zsner.data.tags import chunks

#: reasons :func:`project` gives for dropping a sentence
UNMATCHED_ENTITY = "unmatched_entity"
OVERLAPPING_ENTITIES = "overlapping_entities"

#: the candidate kinds, in the order they are tried
MARKED, ALONE, ENGLISH = "marked", "alone", "english"

_MARKER = re.compile(r"<b(\d+)>(.*?)</b\1>", re.S)
_ANY_MARKER = re.compile(r"</?b\d+>")


@dataclass(frozen=True)
class Entity:
    """One English entity of a translated sentence: its type, its words and its candidate translations."""

    kind: str
    english: tuple[str, ...]
    candidates: tuple[tuple[str, tuple[str, ...]], ...]  # (candidate kind, words), in the order to try


def entities_of(tokens: Sequence[str], tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """``(type, start, end)`` of each entity of IOB2 tags, end exclusive."""
    return [(kind, start, end + 1) for kind, start, end in chunks(list(tags))]


def mark(tokens: Sequence[str], tags: Sequence[str], escape: Callable[[str], str] = str) -> str:
    """The sentence with its i-th entity (from 1, in order) wrapped as ``<bi> … </bi>``; words escaped for
    the translator (Apertium reads the markers as HTML, so its ``escape`` turns ``&`` into ``&amp;``)."""
    words = [escape(t) for t in tokens]
    for number, (_, start, end) in enumerate(entities_of(tokens, tags), 1):
        words[start] = f"<b{number}>" + words[start]
        words[end - 1] = words[end - 1] + f"</b{number}>"
    return " ".join(words)


def marked_spans(text: str, count: int, unescape: Callable[[str], str] = str) -> dict[int, str]:
    """The text between each pair of markers ``1..count`` that survived translation (number → text).

    A marker pair that was lost, doubled or left empty gives no entry; stray markers are removed from the
    texts that are returned."""
    found: dict[int, list[str]] = {}
    for match in _MARKER.finditer(text):
        found.setdefault(int(match.group(1)), []).append(match.group(2))
    spans = {}
    for number in range(1, count + 1):
        texts = found.get(number, [])
        inner = " ".join(unescape(_ANY_MARKER.sub(" ", texts[0])).split()) if len(texts) == 1 else ""
        if inner:
            spans[number] = inner
    return spans


def fold(word: str) -> str:
    """A word without case and accents ("Perú" and "peru" match at the second step)."""
    decomposed = unicodedata.normalize("NFD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def occurrences(words: Sequence[str], sentence: Sequence[str]) -> list[int]:
    """Start positions of ``words`` in ``sentence``: exact matches, or if there is none, folded ones."""
    n = len(words)
    if n == 0 or n > len(sentence):
        return []
    exact = [i for i in range(len(sentence) - n + 1) if list(sentence[i : i + n]) == list(words)]
    if exact:
        return exact
    folded, target = [fold(w) for w in words], [fold(w) for w in sentence]
    return [i for i in range(len(target) - n + 1) if target[i : i + n] == folded]


def candidates_of(marked: tuple[str, ...], alone: tuple[str, ...], english: tuple[str, ...]
                  ) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """An entity's candidate translations in the order to try them: the marked translation first (CROP's),
    unless it shares no word (ignoring case and accents) with the entity translated alone or with the English
    words — then the markers were most likely left on reordered neighbours ("el <b1>sistema judicial</b1>
    australiano") and it is tried last."""
    related = {fold(w) for w in alone + english}
    ordered: list[tuple[str, tuple[str, ...]]] = [(MARKED, marked), (ALONE, alone), (ENGLISH, english)]
    if marked and not related & {fold(w) for w in marked}:
        ordered = ordered[1:] + ordered[:1]
    return tuple((kind, words) for kind, words in ordered if words)


@dataclass
class Projection:
    """The outcome for one sentence: tags (None when dropped), the drop reason, and how each entity matched."""

    tags: list[str] | None
    reason: str | None
    matched_by: list[str]


def project(sentence: Sequence[str], entities: Sequence[Entity]) -> Projection:
    """Match every entity onto ``sentence``; IOB2 tags, or a drop reason.

    Entities are placed in order; an entity takes the first free occurrence of its first candidate that has
    one (a candidate whose occurrences are all held by earlier entities gives way to the next candidate).
    The same words named twice by the English side (a repeated name whose translation occurs once) take
    the occurrence already held with the same type and count once. An entity that no candidate places is
    an overlap when some candidate occurred (in held words), else unmatched."""
    tags = ["O"] * len(sentence)
    held: dict[tuple[int, int], str] = {}
    matched_by: list[str] = []
    for entity in entities:
        placed, collided = False, False
        for candidate_kind, words in entity.candidates:
            spans = [(s, s + len(words)) for s in occurrences(words, sentence)]
            free = [span for span in spans if not any(a < span[1] and span[0] < b for a, b in held)]
            if free:
                start, end = free[0]
                held[(start, end)] = entity.kind
                tags[start:end] = [f"B-{entity.kind}"] + [f"I-{entity.kind}"] * (end - start - 1)
            elif not any(held.get(span) == entity.kind for span in spans):
                collided = collided or bool(spans)
                continue  # the same entity named again keeps its occurrence; anything else tries the next candidate
            matched_by.append(candidate_kind)
            placed = True
            break
        if not placed:
            return Projection(None, OVERLAPPING_ENTITIES if collided else UNMATCHED_ENTITY, matched_by)
    return Projection(tags, None, matched_by)
