"""Turning sentences into tensors, in length-bucketed batches.

Sorting by length (with random tie-breaking, so batches differ between epochs) puts sentences of equal
length together: on CoNLL nearly every batch then needs no padding at all, and the encoders and the CRF
skip their masking work. The order of the batches is shuffled, so training still sees the lengths mixed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from zsner.data.conll import Sentence
from zsner.data.vocab import Vocabulary, WordNormaliser


@dataclass
class Batch:
    """Tensors for one batch; ``indices`` are the sentences' positions in the original list."""

    indices: list[int]
    words: torch.Tensor  # [B, T] word ids
    lengths: torch.Tensor  # [B]
    chars: torch.Tensor | None  # [W, L] char ids of the batch's distinct tokens (None: see TokenTable)
    char_lengths: torch.Tensor | None  # [W]
    token_slots: torch.Tensor  # [B, T] row of ``chars`` (or of a TokenTable) for each token
    tags: torch.Tensor | None  # [B, T] tag ids, None for unlabelled text

    def to(self, device: torch.device) -> "Batch":
        move = lambda t: None if t is None else t.to(device, non_blocking=True)  # noqa: E731
        return Batch(self.indices, move(self.words), move(self.lengths), move(self.chars),
                     move(self.char_lengths), move(self.token_slots), move(self.tags))


@dataclass
class TokenTable:
    """The distinct tokens of a whole corpus as character tensors, in buckets of similar length.

    For tagging, the character LSTM then runs once per distinct token of the corpus rather than once
    per token of each batch, and bucketing by length keeps padded steps few (one long URL no longer
    pads a thousand short words to its length).
    """

    index: dict[str, int]  # token → row of the table
    buckets: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]  # (rows, chars [n, L], lengths [n])

    def to(self, device: torch.device) -> "TokenTable":
        return TokenTable(self.index, [tuple(t.to(device) for t in bucket) for bucket in self.buckets])


class Batcher:
    """Builds :class:`Batch` objects from sentences with fixed vocabularies."""

    def __init__(self, words: Vocabulary, chars: Vocabulary, tags: Vocabulary | None,
                 normalise: WordNormaliser, max_word_length: int = 30):
        self.words, self.chars, self.tags = words, chars, tags
        self.normalise = normalise
        self.max_word_length = max_word_length
        # Token → id caches: a corpus repeats its tokens, so each is normalised and looked up once.
        self._word_cache: dict[str, int] = {}
        self._char_cache: dict[str, list[int]] = {}

    def word_id(self, token: str) -> int:
        cached = self._word_cache.get(token)
        if cached is None:
            cached = self._word_cache[token] = self.words.id(self.normalise(token))
        return cached

    def word_ids(self, tokens: Sequence[str]) -> list[int]:
        return [self.word_id(t) for t in tokens]

    def char_ids(self, token: str) -> list[int]:
        cached = self._char_cache.get(token)
        if cached is None:
            cached = self._char_cache[token] = self.chars.ids(token[: self.max_word_length])
        return cached

    def token_table(self, sentences: Sequence[Sentence], bucket_size: int = 2048) -> TokenTable:
        """A :class:`TokenTable` over every distinct token of ``sentences``."""
        index: dict[str, int] = {}
        for sentence in sentences:
            for token in sentence.tokens:
                index.setdefault(token, len(index))
        tokens = list(index)
        lengths = np.array([len(self.char_ids(t)) for t in tokens], dtype=np.int64)
        order = np.argsort(lengths, kind="stable")
        buckets = []
        for start in range(0, len(order), bucket_size):
            rows = order[start : start + bucket_size]
            chars = np.zeros((len(rows), int(lengths[rows].max())), dtype=np.int64)
            for i, row in enumerate(rows):
                ids = self.char_ids(tokens[row])
                chars[i, : len(ids)] = ids
            buckets.append((torch.from_numpy(rows.copy()), torch.from_numpy(chars), torch.from_numpy(lengths[rows].copy())))
        return TokenTable(index, buckets)

    def batch(self, sentences: Sequence[Sentence], indices: Sequence[int], tag_lists=None,
              unk_mask: np.ndarray | None = None, table: TokenTable | None = None) -> Batch:
        """Tensors for ``sentences[i] for i in indices``.

        ``tag_lists`` overrides the sentences' own tags (pseudo-labels, IOBES conversions);
        ``unk_mask`` (per token of the batch, flattened) replaces words by UNK, for singleton dropout;
        ``table`` makes token slots point into a corpus-wide :class:`TokenTable` instead of carrying
        the batch's own character tensors.
        """
        chosen = [sentences[i] for i in indices]
        steps = max(len(s) for s in chosen)
        words = np.zeros((len(chosen), steps), dtype=np.int64)
        slots = np.zeros((len(chosen), steps), dtype=np.int64)
        distinct: dict[str, int] = {} if table is None else table.index
        for row, sentence in enumerate(chosen):
            words[row, : len(sentence)] = self.word_ids(sentence.tokens)
            if table is None:
                slots[row, : len(sentence)] = [distinct.setdefault(t, len(distinct)) for t in sentence.tokens]
            else:
                slots[row, : len(sentence)] = [distinct[t] for t in sentence.tokens]
        if unk_mask is not None:
            words[unk_mask] = 1
        chars = char_lengths = None
        if table is None:
            char_rows = [self.char_ids(token) for token in distinct]
            char_lengths = np.array([len(r) for r in char_rows], dtype=np.int64)
            chars = np.zeros((len(char_rows), int(char_lengths.max())), dtype=np.int64)
            for row, ids in enumerate(char_rows):
                chars[row, : len(ids)] = ids
        tags = None
        sources = tag_lists if tag_lists is not None else ([s.tags for s in chosen] if self.tags and chosen[0].tags else None)
        if sources is not None:
            tags = np.zeros((len(chosen), steps), dtype=np.int64)
            for row, tag_seq in enumerate(sources):
                tags[row, : len(tag_seq)] = [self.tags.index[t] for t in tag_seq]
        return Batch(
            list(indices),
            torch.from_numpy(words),
            torch.tensor([len(s) for s in chosen], dtype=torch.long),
            None if chars is None else torch.from_numpy(chars),
            None if char_lengths is None else torch.from_numpy(char_lengths),
            torch.from_numpy(slots),
            None if tags is None else torch.from_numpy(tags),
        )


def bucketed_batches(lengths: Sequence[int], batch_size: int, rng: np.random.Generator | None) -> list[list[int]]:
    """Index batches of sentences of (nearly) equal length.

    With an ``rng``, ties in length are broken at random and the batch order is shuffled (training);
    without, the order is deterministic (evaluation). Sentences are never dropped.
    """
    lengths = np.asarray(lengths)
    tie_break = rng.random(len(lengths)) if rng is not None else np.arange(len(lengths))
    order = np.lexsort((tie_break, lengths))
    batches = [order[i : i + batch_size].tolist() for i in range(0, len(order), batch_size)]
    if rng is not None:
        rng.shuffle(batches)
    return batches
