"""Vocabularies: words, characters and tags ↔ integer ids, saved inside every model checkpoint."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Sequence

PAD, UNK = "<pad>", "<unk>"
_DIGITS = re.compile(r"\d")


@dataclass
class Vocabulary:
    """An ordered list of items with ``PAD`` at 0 and ``UNK`` at 1 (when ``specials``)."""

    items: list[str]
    specials: bool = True
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.index = {item: i for i, item in enumerate(self.items)}

    @classmethod
    def build(cls, counts: Counter, min_count: int = 1, extra: Iterable[str] = ()) -> "Vocabulary":
        """Items seen ``min_count`` times, most frequent first, then ``extra`` items (e.g. vector words)."""
        items = [PAD, UNK]
        seen = set(items)
        for item, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            if count >= min_count and item not in seen:
                items.append(item)
                seen.add(item)
        for item in extra:
            if item not in seen:
                items.append(item)
                seen.add(item)
        return cls(items)

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, item: str) -> bool:
        return item in self.index

    def id(self, item: str) -> int:
        return self.index.get(item, 1) if self.specials else self.index[item]

    def ids(self, items: Sequence[str]) -> list[int]:
        return [self.id(item) for item in items]


@dataclass(frozen=True)
class WordNormaliser:
    """How a token is turned into a word-embedding key: optional lower-casing and digits → 0.

    Lample et al. map digits to zero so that numbers share embeddings; case is kept by default because
    the character LSTM and capitalisation are the strongest NER cues.
    """

    lowercase: bool = False
    zeros: bool = False

    def __call__(self, token: str) -> str:
        if self.lowercase:
            token = token.lower()
        if self.zeros:
            token = _DIGITS.sub("0", token)
        return token
