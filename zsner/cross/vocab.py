"""One word table for two languages, and per-language batchers that index it.

The tagger reads source and target sentences in a single word space: each row of the table is a word
*of one language* (keys ``"en\\tthe"``, ``"es\\tel"``), initialised from that language's vectors. With
mapped vectors (``zsner map``) both languages' rows live in one space, which is what lets an English
model read Spanish (Eq. 6); the table is frozen, so training can only move the network, never pull the
two languages apart again. Namespacing keeps homographs apart (``en\\tdie`` ≠ ``de\\tdie``): each keeps
its own vector. The character vocabulary is shared as is: common characters are the paper's prior for
languages with one alphabet.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Sequence

import torch

from zsner.data import tags as tagging
from zsner.data.batching import Batcher
from zsner.data.conll import Sentence
from zsner.data.vocab import PAD, UNK, Vocabulary, WordNormaliser
from zsner.embeddings.vectors import Embeddings
from zsner.training.checkpoint import Vocabularies
from zsner.training.pretrained import covered_words, embedding_matrix

SEPARATOR = "\t"


def namespaced(language: str, word: str) -> str:
    return f"{language}{SEPARATOR}{word}"


class LanguageBatcher(Batcher):
    """A :class:`Batcher` whose word look-ups go to one language's rows of the shared table."""

    def __init__(self, language: str, words: Vocabulary, chars: Vocabulary, tags: Vocabulary | None,
                 normalise: WordNormaliser, max_word_length: int = 30):
        super().__init__(words, chars, tags, normalise, max_word_length)
        self.language = language
        self._prefix = language + SEPARATOR

    def word_id(self, token: str) -> int:
        cached = self._word_cache.get(token)
        if cached is None:
            cached = self._word_cache[token] = self.words.id(self._prefix + self.normalise(token))
        return cached


@dataclass
class SharedVocabularies:
    """Vocabularies of a cross-lingual model; ``words`` holds namespaced keys of every language."""

    vocabs: Vocabularies

    @property
    def words(self) -> Vocabulary:
        return self.vocabs.words

    def batcher(self, language: str) -> LanguageBatcher:
        v = self.vocabs
        return LanguageBatcher(language, v.words, v.chars, v.tags, v.normaliser)

    def language_words(self, language: str) -> list[tuple[int, str]]:
        """(row, plain word) of every word of ``language`` in the table."""
        prefix = language + SEPARATOR
        return [(i, w[len(prefix):]) for i, w in enumerate(self.words.items) if w.startswith(prefix)]

    def to_dict(self) -> dict:
        return self.vocabs.to_dict()

    @classmethod
    def from_dict(cls, d: dict) -> "SharedVocabularies":
        return cls(Vocabularies.from_dict(d))


def build_shared(source_language: str, source_train: Sequence[Sentence], source_other: Sequence[Sentence],
                 target_language: str, target_sentences: Sequence[Sentence],
                 vectors: dict[str, Embeddings | None], normaliser: WordNormaliser, scheme: str,
                 ) -> tuple[SharedVocabularies, torch.Tensor]:
    """Shared vocabularies and the initial word table ``[V, dim]`` (zero rows: no vector).

    Source training words are always in the table (so a model without pretrained source vectors still
    has its own random rows); other words are added only when their language has a vector for them,
    or, for a language whose vectors are ``None`` (random), all of them (random, untrained rows: the
    paper's Source-Mono "random" target embeddings).
    """
    items: list[str] = []
    per_language: dict[str, list[str]] = {source_language: [], target_language: []}
    counts = Counter(normaliser(t) for s in source_train for t in s.tokens)

    def add_words(language: str, words: Sequence[str]) -> None:
        seen = set(per_language[language])
        for word in words:
            if word not in seen:
                seen.add(word)
                per_language[language].append(word)

    add_words(source_language, [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))])
    for language, sentences in ((source_language, source_other), (target_language, target_sentences)):
        words = [normaliser(t) for s in sentences for t in s.tokens]
        table = vectors.get(language)
        add_words(language, covered_words(table, words) if table is not None else list(dict.fromkeys(words)))
    for language, words in per_language.items():
        items.extend(namespaced(language, w) for w in words)
    word_vocab = Vocabulary([PAD, UNK] + items)
    char_counts = Counter(c for group in (source_train, source_other, target_sentences) for s in group for t in s.tokens for c in t)
    tags = tagging.tag_inventory(tagging.entity_types(s.tags for s in source_train), scheme)
    vocabs = Vocabularies(word_vocab, Vocabulary.build(char_counts), Vocabulary(tags, specials=False), normaliser, scheme)
    shared = SharedVocabularies(vocabs)
    dim = next((v.dim for v in vectors.values() if v is not None), 0)
    matrix = torch.zeros(len(word_vocab), dim) if dim else None
    for language, table in vectors.items():
        if table is None or matrix is None:
            continue
        rows = shared.language_words(language)
        part, _ = embedding_matrix(table, ["", ""] + [w for _, w in rows])
        matrix[torch.tensor([r for r, _ in rows], dtype=torch.long)] = part[2:]
    return shared, matrix
