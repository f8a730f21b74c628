"""The contract every stage keeps: pseudo-labelled target sentences in a CoNLL file, with a report.

A stage hands over ``PseudoLabels``: the sentences it kept (tokens, IOB2 tags) and what it did (sentences
in, kept, dropped by reason, entities per type). ``write`` puts them in the stage's run directory as
``pseudo/labels.conll`` (``token tag``, UTF-8 — what ``[transfer] train`` reads) and
``pseudo/report.json``; the report is written last, so its presence says the labels are complete and a
resumed stage skips straight to training.

``quality`` answers "did the stage fail at projection or at training?": where the labelled sentences have
gold tags that the stage never read (the CoNLL target train file, used as unlabelled text), it scores the
pseudo-labels against them — over every labelled sentence and over the kept ones.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from zsner.data.conll import Sentence, write_conll
from zsner.data.tags import chunks, iob1_to_iob2
from zsner.errors import ZsnerError
from zsner.metrics import score
from zsner.utils import atomic_write_json


@dataclass
class PseudoLabels:
    """What a stage produced: every sentence it labelled, which of them it keeps, and why it dropped the others."""

    stage: str
    sentences: list[Sentence]  # tokens + the stage's IOB2 tags, every sentence labelled (kept or not)
    kept: list[bool]
    dropped: Counter = field(default_factory=Counter)  # reason → sentences
    facts: dict[str, Any] = field(default_factory=dict)  # stage-specific (teacher, threshold, seconds, ...)

    def __post_init__(self) -> None:
        if len(self.kept) != len(self.sentences):
            raise ValueError("one keep flag per sentence")
        if sum(self.dropped.values()) != self.kept.count(False):
            raise ValueError("every dropped sentence needs a reason")
        # A linear head may open an entity with I- (illegal in IOB2). Written as it is, the file would be
        # repaired by every reader with a warning per line; here it is read the way conlleval reads it
        # (an I- that continues nothing opens an entity) once, and the count goes in the report.
        repaired = 0
        for sentence in self.sentences:
            valid = iob1_to_iob2(sentence.tags)
            repaired += sum(a != b for a, b in zip(valid, sentence.tags))
            sentence.tags = valid
        self.facts = {**self.facts, "repaired_tags": repaired}

    @classmethod
    def from_outcomes(cls, stage: str, sentences: Sequence[Sentence], outcomes: Iterable[tuple[list[str] | None, str | None]],
                      facts: dict[str, Any]) -> "PseudoLabels":
        """A stage's labels from one ``(tags, None)`` or ``(None, drop reason)`` per sentence, in order: what
        every projection stage hands over (a dropped sentence is kept in the list, all O, flagged not kept)."""
        labelled, kept, dropped = [], [], Counter()
        for sentence, (tags, reason) in zip(sentences, outcomes, strict=True):
            kept.append(tags is not None)
            if tags is None:
                dropped[reason] += 1
            labelled.append(Sentence(sentence.tokens, tags or ["O"] * len(sentence), sentence.line))
        return cls(stage, labelled, kept, dropped, facts)

    def kept_sentences(self) -> list[Sentence]:
        return [s for s, keep in zip(self.sentences, self.kept) if keep]

    def report(self) -> dict[str, Any]:
        kept = self.kept_sentences()
        entities = Counter(kind for s in kept for kind, _, _ in chunks(s.tags))
        return {"stage": self.stage, "sentences_in": len(self.sentences), "kept": len(kept),
                "kept_share": round(100 * len(kept) / max(1, len(self.sentences)), 2),
                "dropped": dict(self.dropped), "kept_tokens": sum(len(s) for s in kept),
                "kept_with_entities": sum(any(t != "O" for t in s.tags) for s in kept),
                "entities": dict(sorted(entities.items())), **self.facts}


def quality(labels: PseudoLabels, gold: Sequence[Sentence]) -> dict[str, Any]:
    """Entity P/R/F1 of the pseudo-labels against gold tags of the same sentences (all and kept ones)."""
    if len(gold) != len(labels.sentences):
        raise ValueError(f"{len(gold)} gold sentences for {len(labels.sentences)} labelled ones")
    out = {}
    for name, chosen in (("all", [True] * len(gold)), ("kept", labels.kept)):
        pairs = [(g.tags, s.tags) for g, s, keep in zip(gold, labels.sentences, chosen) if keep]
        if pairs:
            result = score([g for g, _ in pairs], [p for _, p in pairs]).as_dict()
            out[name] = {k: round(result[k], 2) for k in ("precision", "recall", "f1")}
    return out


def write(labels: PseudoLabels, folder: Path, gold: Sequence[Sentence] | None = None) -> dict[str, Any]:
    """``folder/labels.conll`` (kept sentences) and ``folder/report.json`` (last); the report."""
    kept = labels.kept_sentences()
    if not kept:
        raise ZsnerError(f"the {labels.stage} stage kept no sentence of {len(labels.sentences)} "
                         f"(dropped: {dict(labels.dropped)}); loosen its filter", folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_conll(folder / "labels.conll", [Sentence(s.tokens) for s in kept], [s.tags for s in kept])
    report = labels.report()
    if gold is not None:
        report["quality"] = quality(labels, gold)
    atomic_write_json(folder / "report.json", report)
    return report


def read_report(folder: Path) -> dict[str, Any] | None:
    """The report of finished pseudo-labels in ``folder``, or None when the stage has not finished them."""
    path = folder / "report.json"
    if not path.is_file() or not (folder / "labels.conll").is_file():
        return None
    return json.loads(path.read_text("utf-8"))
