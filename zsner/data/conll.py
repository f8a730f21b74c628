"""Reading and writing CoNLL files: every column layout of the shared task corpora.

A file is a sequence of token lines (whitespace-separated columns; the token first, the NER tag last)
and blank lines between sentences. The real corpora are not clean, and the reader is tolerant where the
meaning is clear and strict where it is not:

* 2, 3, 4 and 5 columns are all accepted; columns are separated by spaces or tabs only (the
  Latin-1 corpora contain bytes such as 0x85 that Python's ``str.split`` would take for whitespace);
* one file uses one width: a line with more or fewer columns than the first token line is an error
  naming the line (a lost separator shifts the tag into another column, so guessing is unsafe);
* ``-DOCSTART-`` lines are dropped, also when glued to the first line of a sentence (Dutch); such a
  sentence is kept and marked ``after_docstart`` (the paper's Dutch counts leave these sentences out);
* leading, trailing and doubled blank lines are ignored (Finnish);
* a file declared IOB2 with an ``I-X`` that opens an entity is repaired to ``B-X`` with a warning
  naming file and line (conlleval reads such a tag as an entity start), unless ``strict`` is set;
* anything that cannot be read (wrong column count, unknown tag, undecodable bytes) raises a
  :class:`~zsner.errors.ZsnerError` naming file, line and problem.

Sentences come back with IOB2 tags whatever the file's scheme, so the rest of zsner sees one scheme.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from zsner.data import tags as tagging
from zsner.errors import ZsnerError

log = logging.getLogger(__name__)
DOCSTART = "-DOCSTART-"
_SEPARATOR = re.compile(r"[ \t]+")


def split_columns(text: str) -> list[str]:
    """Columns of a CoNLL line, split on spaces and tabs only."""
    text = text.strip(" \t\r\n")
    return _SEPARATOR.split(text) if text else []


class _Repairs:
    """Collects tolerated defects of one file, to report them in one warning per kind."""

    def __init__(self, path) -> None:
        self.path = path
        self.lines: dict[str, list[int]] = {}

    def add(self, kind: str, line: int) -> None:
        self.lines.setdefault(kind, []).append(line)

    def report(self) -> None:
        for kind, lines in self.lines.items():
            shown = ", ".join(map(str, lines[:5])) + (", …" if len(lines) > 5 else "")
            log.warning("%s: %d line(s) %s (line %s)", self.path, len(lines), kind, shown)


@dataclass
class Sentence:
    """One sentence: its tokens, IOB2 tags (empty for unlabelled text) and first line in the file.

    ``after_docstart`` is true when a ``-DOCSTART-`` line came right before it with no blank line
    between (the Dutch files): Bari et al.'s sentence counts (15519 / 2821 / 5076) leave these out.
    """

    tokens: list[str]
    tags: list[str] = field(default_factory=list)
    line: int = 0
    after_docstart: bool = False

    def __len__(self) -> int:
        return len(self.tokens)


def read_text(path: str | Path, encoding: str = "utf-8") -> list[str]:
    """Decode a whole file into lines; a decoding failure names the line and the offending byte."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ZsnerError("file not found", path) from None
    except IsADirectoryError:
        raise ZsnerError("is a directory, expected a file", path) from None
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        byte = raw[err.start : err.start + 1].hex()
        raise ZsnerError(
            f"byte 0x{byte} is not valid {encoding} (is the file Latin-1? pass its encoding)", path, line
        ) from None
    except LookupError:
        raise ZsnerError(f"unknown encoding {encoding!r}", path) from None
    return text.splitlines()


def read_conll(
    path: str | Path,
    scheme: str = "iob2",
    encoding: str = "utf-8",
    strict: bool = False,
    allowed_types: Iterable[str] | None = None,
) -> list[Sentence]:
    """Read a labelled CoNLL file into sentences with IOB2 tags.

    ``scheme`` is the file's tag scheme (``iob1`` for CoNLL-2003 English/German, ``iob2`` for CoNLL-2002,
    AQMAR and FiNER, ``iobes`` for files zsner wrote). ``allowed_types``, when given, turns an entity
    type outside the set (``B-PERSON`` in a PER/LOC/ORG/MISC corpus) into an error.
    """
    try:
        scheme = tagging.check_scheme(scheme)
    except ValueError as err:
        raise ZsnerError(str(err), path) from None
    allowed = None if allowed_types is None else set(allowed_types)
    sentences: list[Sentence] = []
    width: int | None = None
    tokens: list[str] = []
    raw_tags: list[str] = []
    lines: list[int] = []

    glued = False  # the sentence being read follows a -DOCSTART- line directly

    def close() -> None:
        if tokens:
            sentence = _finish(path, tokens, raw_tags, lines, scheme, strict, repairs)
            sentence.after_docstart = glued
            sentences.append(sentence)
            tokens.clear(), raw_tags.clear(), lines.clear()

    repairs = _Repairs(path)
    for number, text in enumerate(read_text(path, encoding), start=1):
        columns = split_columns(text)
        if not columns:
            close()
            glued = False
            continue
        if columns[0] == DOCSTART:
            close()
            glued = True
            continue
        if len(columns) < 2:
            raise ZsnerError("a token line needs at least 2 columns (token ... tag), found 1", path, number)
        if width is None:
            width = len(columns)
        elif len(columns) != width:
            raise ZsnerError(f"expected {width} columns like the first token line, found {len(columns)}", path, number)
        tag = columns[-1]
        try:
            prefix, kind = tagging.split_tag(tag)
        except ValueError as err:
            raise ZsnerError(str(err), path, number) from None
        if prefix in "ES" and scheme != "iobes":
            raise ZsnerError(f"tag {tag!r} is not allowed in a file declared {scheme.upper()}", path, number)
        if allowed is not None and prefix != "O" and kind not in allowed:
            raise ZsnerError(f"unknown entity type {kind!r} in tag {tag!r} (expected one of {sorted(allowed)})", path, number)
        tokens.append(columns[0])
        raw_tags.append(tag)
        lines.append(number)
    close()
    repairs.report()
    return sentences


def _finish(path, tokens, raw_tags, lines, scheme: str, strict: bool, repairs: _Repairs) -> Sentence:
    """Convert one sentence's tags to IOB2, repairing or rejecting IOB2 violations."""
    tags = list(raw_tags)
    if scheme == "iob2":
        for position in tagging.find_iob2_violations(tags):
            if strict:
                previous = "O" if position == 0 else tags[position - 1]
                raise ZsnerError(f"tag {tags[position]!r} follows {previous!r}, illegal in IOB2", path, lines[position])
            repairs.add("with an I- tag opening an entity (illegal in IOB2) read as B-", lines[position])
            tags[position] = "B-" + tagging.split_tag(tags[position])[1]
    elif scheme == "iobes":
        try:
            _check_iobes(tags)
        except tagging.TagError as err:
            raise ZsnerError(str(err), path, lines[err.position]) from None
    tags = tagging.to_iob2(tags, scheme)
    return Sentence(list(tokens), tags, lines[0])


def _check_iobes(tags: Sequence[str]) -> None:
    """IOBES is only useful when well-formed: every B- is closed by an E- of its type, and so on."""
    open_type = ""
    for i, tag in enumerate(tags):
        prefix, kind = tagging.split_tag(tag)
        inside = prefix in "IE"
        if inside != bool(open_type) or (inside and kind != open_type):
            raise tagging.TagError(f"tag {tag!r} breaks IOBES after {('O' if i == 0 else tags[i - 1])!r}", i)
        open_type = kind if prefix in "BI" else ""
    if open_type:
        raise tagging.TagError(f"entity {open_type!r} is not closed by an E- tag", len(tags) - 1)


def read_tokens(path: str | Path, encoding: str = "utf-8") -> list[Sentence]:
    """Read raw text: one sentence per line, tokens separated by whitespace, no tags."""
    sentences = []
    for number, text in enumerate(read_text(path, encoding), start=1):
        tokens = text.split()
        if tokens:
            sentences.append(Sentence(tokens, [], number))
    return sentences


def looks_like_conll(lines: list[str]) -> bool:
    """Whether every non-blank line of ``lines`` (a file's first lines) reads as ``token ... TAG``."""
    sample = [split_columns(line) for line in lines if line.strip()]
    return bool(sample) and all(len(c) >= 2 and _is_tag(c[-1]) for c in sample)


def read_unlabelled(path: str | Path, encoding: str = "utf-8") -> list[Sentence]:
    """Token column of a CoNLL file, or whitespace-tokenised text (one sentence per line), tags dropped.

    The format is recognised from the file: a line with exactly two columns whose last looks like a tag
    means CoNLL. Unlabelled target sentences for pseudo-labelling come through here.
    """
    lines = read_text(path, encoding)
    if not looks_like_conll(lines[:200]):
        return read_tokens(path, encoding)
    sentences: list[Sentence] = []
    tokens: list[str] = []
    for number, text in enumerate(lines, start=1):
        columns = split_columns(text)
        if columns and columns[0] != DOCSTART:
            if not tokens:
                start = number
            tokens.append(columns[0])
        elif tokens:
            sentences.append(Sentence(tokens, [], start))
            tokens = []
    if tokens:
        sentences.append(Sentence(tokens, [], start))
    return sentences


def _is_tag(text: str) -> bool:
    try:
        tagging.split_tag(text)
    except ValueError:
        return False
    return True


def write_conll(
    path: str | Path,
    sentences: Sequence[Sentence],
    predictions: Sequence[Sequence[str]],
    scheme: str = "iob2",
) -> None:
    """Write ``token [gold] predicted`` lines, blank line between sentences (conlleval's input format).

    The gold column is written only when the sentences carry tags. The file is written to a temporary
    name first and then renamed, so an interrupted run never leaves half a file.
    """
    from zsner.utils import atomic_write_text

    out = []
    for sentence, predicted in zip(sentences, predictions, strict=True):
        predicted = tagging.from_iob2(predicted, scheme)
        gold = tagging.from_iob2(sentence.tags, scheme) if sentence.tags else None
        for i, token in enumerate(sentence.tokens):
            columns = [token] + ([gold[i]] if gold else []) + [predicted[i]]
            out.append(" ".join(columns))
        out.append("")
    atomic_write_text(path, "\n".join(out) + ("\n" if out else ""))
