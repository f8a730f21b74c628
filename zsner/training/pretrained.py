"""Initialising the tagger's word embeddings from pretrained (possibly cross-lingually mapped) vectors."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Sequence

import torch

from zsner.embeddings.vectors import Embeddings, load_vectors
from zsner.errors import ZsnerError

_DIGITS = re.compile(r"\d")


def load_word_vectors(path: str | Path, dim: int) -> Embeddings:
    """Load vectors and check they fit the model's ``word_dim`` (a mismatch is an error, not a crop)."""
    vectors = load_vectors(path)
    if vectors.dim != dim:
        raise ZsnerError(f"vectors have dimension {vectors.dim} but the recipe's [model] word_dim is {dim}", path)
    return vectors


def _candidates(word: str) -> Iterable[str]:
    # Lample et al.'s look-up order: the word itself, lower-cased, then with digits as zeros.
    yield word
    yield word.lower()
    yield _DIGITS.sub("0", word.lower())


def lookup(vectors: Embeddings, word: str) -> int | None:
    """Row of the first look-up candidate of ``word`` present in ``vectors``."""
    for candidate in _candidates(word):
        row = vectors.index.get(candidate)
        if row is not None:
            return row
    return None


def covered_words(vectors: Embeddings, words: Iterable[str]) -> list[str]:
    """Those of ``words`` (in first-seen order) that have a vector: added to the vocabulary so that
    dev/test/target words absent from training still get their pretrained vector (Lample et al.)."""
    seen: dict[str, None] = {}
    for word in words:
        if word not in seen and lookup(vectors, word) is not None:
            seen[word] = None
    return list(seen)


def embedding_matrix(vectors: Embeddings, vocabulary: Sequence[str]) -> tuple[torch.Tensor, float]:
    """``[len(vocabulary), dim]`` initial embeddings (zero rows where no vector exists) and coverage."""
    table = torch.zeros(len(vocabulary), vectors.dim)
    found = 0
    for i, word in enumerate(vocabulary):
        row = lookup(vectors, word) if i >= 2 else None  # rows 0/1 are PAD/UNK
        if row is not None:
            table[i] = torch.from_numpy(vectors.matrix[row])
            found += 1
    return table, found / max(1, len(vocabulary) - 2)
