"""Raw text for `zsner predict`: sentences split and tokens cut as in the CoNLL files, each token kept
with its character offsets in the input line, so that entities can be reported as spans of the text.

Why: the taggers read words as the CoNLL files write them (``Francia ,`` — punctuation split off), so
text a user pastes must be cut the same way (the corpus builder's tokeniser, per language) or words
such as ``Francia,`` reach the model as unknown tokens. Offsets are into the line as read, after
Unicode NFC composition (the form nearly every text is already in), so ``line[start:end]`` is the
entity's text.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from zsner.data.conll import Sentence
from zsner.embeddings.tokenize import normalize_text, split_sentences, tokenize

# what normalize_text changes without moving other characters: the apostrophe, dropped soft hyphens
_SAME = {"’": "'"}


@dataclass
class TextSentence:
    """One sentence of a raw input line: its tokens (as a :class:`Sentence`) and their (start, end)
    character offsets in ``text``, the input line it came from (NFC)."""

    sentence: Sentence
    spans: list[tuple[int, int]]
    text: str
    line: int


def _normalised_with_positions(line: str) -> tuple[str, list[int]]:
    """``normalize_text(line)`` and, for each of its characters, the index of that character in ``line``."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(line):
        if ch == "\u00ad":
            continue
        ch = _SAME.get(ch, ch)
        if ch.isspace() or not (ch.isprintable() or ch in "\t\n"):
            if out and out[-1] != " ":
                out.append(" ")
                where.append(i)
            continue
        out.append(ch)
        where.append(i)
    while out and out[-1] == " ":
        out.pop()
        where.pop()
    text = "".join(out)
    if text != normalize_text(line):  # cannot happen for NFC input; guard the offsets all the same
        raise ValueError("normalisation moved characters")
    return text, where


def _align(tokens: list[str], text: str, start: int) -> list[tuple[int, int]]:
    """(start, end) in ``text`` of each token, read left to right from ``start``; spaces inside a token
    are allowed (the tokeniser writes ``Dr .`` as ``Dr.``)."""
    spans = []
    pos = start
    for token in tokens:
        while pos < len(text) and text[pos] == " ":
            pos += 1
        first = pos
        for ch in token:
            while pos < len(text) and text[pos] == " " and ch != " ":
                pos += 1
            if pos >= len(text) or text[pos] != ch:
                raise ValueError(f"token {token!r} not found at offset {first}")
            pos += 1
        spans.append((first, pos))
    return spans


def read_raw_lines(lines: Iterable[str], lang: str) -> Iterator[TextSentence]:
    """Every sentence of every non-blank line, tokenised for ``lang`` (ISO code; unknown codes get the
    language-neutral rules), with offsets into the line."""
    for number, raw in enumerate(lines, start=1):
        line = unicodedata.normalize("NFC", raw.rstrip("\r\n"))
        text, where = _normalised_with_positions(line)
        if not text:
            continue
        cursor = 0
        for sentence in split_sentences(text, lang):
            begin = text.find(sentence, cursor)
            tokens = tokenize(sentence, lang)
            if not tokens:
                continue
            try:
                spans = _align(tokens, text, begin if begin >= 0 else cursor)
                spans = [(where[s], where[e - 1] + 1) for s, e in spans]
            except ValueError:  # never seen; the tags stay right, only the offsets would be unknown
                spans = [(-1, -1)] * len(tokens)
            cursor = max(cursor, begin + len(sentence)) if begin >= 0 else cursor
            yield TextSentence(Sentence(tokens, [], number), spans, line, number)


def entity_spans(item: TextSentence, tags: list[str]) -> list[dict]:
    """The entities of IOB2 ``tags`` as ``{"type", "start", "end", "text", "tokens"}`` in ``item.text``."""
    from zsner.data.tags import chunks

    out = []
    for kind, first, last in chunks(tags):
        start, end = item.spans[first][0], item.spans[last][1]
        out.append({"type": kind, "start": start, "end": end,
                    "text": item.text[start:end] if start >= 0 else " ".join(item.sentence.tokens[first:last + 1]),
                    "tokens": [first, last + 1]})
    return out
