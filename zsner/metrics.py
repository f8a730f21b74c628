"""Entity-level precision, recall and F1, exactly as the CoNLL shared tasks' ``conlleval`` script.

Chunks are found with conlleval's own start/end rules (``zsner.data.tags.chunks``: IOB1 input, stray ``I-``
tags and type changes inside an entity are scored as conlleval scores them), extended to ``E-``/``S-`` tags as
seqeval's conlleval mode extends them. A predicted chunk is correct when a gold chunk has the same type, start
and end.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from zsner.data.tags import chunks


@dataclass
class Scores:
    """Counts accumulated over a corpus; every figure derives from them (values in percent)."""

    correct: Counter = field(default_factory=Counter)
    found_gold: Counter = field(default_factory=Counter)
    found_guessed: Counter = field(default_factory=Counter)
    tokens: int = 0
    correct_tags: int = 0

    def add(self, gold: Sequence[str], guessed: Sequence[str]) -> None:
        if len(gold) != len(guessed):
            raise ValueError(f"gold has {len(gold)} tags but prediction has {len(guessed)}")
        gold_chunks, guessed_chunks = set(chunks(gold)), set(chunks(guessed))
        self.found_gold.update(c[0] for c in gold_chunks)
        self.found_guessed.update(c[0] for c in guessed_chunks)
        self.correct.update(c[0] for c in gold_chunks & guessed_chunks)
        self.tokens += len(gold)
        self.correct_tags += sum(g == p for g, p in zip(gold, guessed))

    @staticmethod
    def _prf(correct: int, gold: int, guessed: int) -> tuple[float, float, float]:
        precision = 100.0 * correct / guessed if guessed else 0.0
        recall = 100.0 * correct / gold if gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return precision, recall, f1

    @property
    def types(self) -> list[str]:
        return sorted(set(self.found_gold) | set(self.found_guessed))

    @property
    def f1(self) -> float:
        return self.overall()[2]

    def overall(self) -> tuple[float, float, float]:
        return self._prf(sum(self.correct.values()), sum(self.found_gold.values()), sum(self.found_guessed.values()))

    def as_dict(self) -> dict:
        """The ``zsner score --json`` shape: overall and per-type P/R/F1 in percent, plus counts."""
        precision, recall, f1 = self.overall()
        per_type = {}
        for kind in self.types:
            p, r, f = self._prf(self.correct[kind], self.found_gold[kind], self.found_guessed[kind])
            per_type[kind] = {"precision": p, "recall": r, "f1": f, "found": self.found_guessed[kind]}
        return {
            "precision": precision,
            "recall": recall,
            "f1": f1,
            "accuracy": 100.0 * self.correct_tags / self.tokens if self.tokens else 0.0,
            "tokens": self.tokens,
            "phrases": sum(self.found_gold.values()),
            "found": sum(self.found_guessed.values()),
            "correct": sum(self.correct.values()),
            "per_type": per_type,
        }

    def report(self) -> str:
        """conlleval's summary, line for line."""
        d = self.as_dict()
        lines = [
            f"processed {d['tokens']} tokens with {d['phrases']} phrases; found: {d['found']} phrases; correct: {d['correct']}.",
            f"accuracy: {d['accuracy']:6.2f}%; precision: {d['precision']:6.2f}%; recall: {d['recall']:6.2f}%; FB1: {d['f1']:6.2f}",
        ]
        for kind, s in d["per_type"].items():
            lines.append(
                f"{kind:>17}: precision: {s['precision']:6.2f}%; recall: {s['recall']:6.2f}%; FB1: {s['f1']:6.2f}  {s['found']}"
            )
        return "\n".join(lines)


def score(gold: Iterable[Sequence[str]], guessed: Iterable[Sequence[str]]) -> Scores:
    """Score sentence-aligned gold and predicted tag sequences."""
    scores = Scores()
    for g, p in zip(gold, guessed, strict=True):
        scores.add(g, p)
    return scores


def read_conlleval_file(path, encoding: str = "utf-8") -> Scores:
    """Score a file in conlleval's input format: the last two columns are gold and predicted tags.

    Like conlleval, the whole file is one stream where a blank line closes any open chunk; a line with
    fewer than two columns, or a different column count from the first line, is an error naming the line.
    """
    from zsner.data.conll import read_text
    from zsner.data.tags import split_tag
    from zsner.errors import ZsnerError

    scores = Scores()
    gold: list[str] = []
    guessed: list[str] = []
    width = None
    for number, text in enumerate(read_text(path, encoding), start=1):
        columns = text.split()
        if not columns:
            if gold:
                scores.add(gold, guessed)
                gold, guessed = [], []
            continue
        width = width or len(columns)
        if len(columns) != width:
            raise ZsnerError(f"expected {width} columns like the first line, found {len(columns)}", path, number)
        if width < 2:
            raise ZsnerError("need at least 2 columns: ... gold predicted", path, number)
        for tag in columns[-2:]:
            try:
                split_tag(tag)
            except ValueError as err:
                raise ZsnerError(str(err), path, number) from None
        gold.append(columns[-2])
        guessed.append(columns[-1])
    if gold:
        scores.add(gold, guessed)
    return scores
