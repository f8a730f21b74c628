"""Words to sub-word windows, the way Hugging Face token classification does it.

Each word is labelled on its *first* sub-token (the fast tokenizer's ``word_ids``); the other sub-tokens
carry no label. A sentence longer than the encoder's window is split at word boundaries into windows
that each fit, never cut: every word of every sentence gets a prediction. A single word longer than a
whole window (a 300-character URL) keeps its first sub-tokens only — its label lives on the first.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

import torch

from zsner.data.conll import Sentence

log = logging.getLogger("zsner.transfer")


@dataclass
class Window:
    """One window of one sentence: sub-word ids with the special tokens, and where each word starts."""

    sentence: int  # index of the sentence in its corpus
    start: int  # index of the window's first word in the sentence
    input_ids: list[int]
    first: list[int]  # position in input_ids of each word's first sub-token (0: the word has none)

    @property
    def words(self) -> int:
        return len(self.first)


@dataclass
class WindowStats:
    sentences: int = 0
    split: int = 0  # sentences spread over more than one window
    empty_words: int = 0  # words the tokenizer turned into no sub-token (tagged O)
    clipped_words: int = 0  # words longer than a whole window (only their first sub-tokens kept)

    def report(self, what: str) -> None:
        if self.split:
            log.warning("%s: %d of %d sentences are longer than the window and were split into windows at word "
                        "boundaries (every word is still tagged)", what, self.split, self.sentences)
        if self.empty_words:
            log.warning("%s: %d words have no sub-token in this tokenizer; they are tagged O", what, self.empty_words)
        if self.clipped_words:
            log.warning("%s: %d words are longer than a whole window; only their first sub-tokens are used", what,
                        self.clipped_words)


def special_tokens(tokenizer) -> tuple[list[int], list[int]]:
    """The ids the tokenizer puts before and after a sequence ([CLS] … [SEP], <s> … </s>).

    Read off the tokenizer's own post-processor (a one-word encoding and its ``word_ids``), so any fast
    tokenizer works, whatever its template.
    """
    encoded = tokenizer([["a"]], is_split_into_words=True, add_special_tokens=True)
    ids, words = encoded["input_ids"][0], encoded.word_ids(0)
    inside = [i for i, word in enumerate(words) if word is not None]
    return ids[: inside[0]], ids[inside[-1] + 1 :]


def encode_sentences(tokenizer, sentences: Sequence[Sentence], max_subwords: int,
                     what: str = "data") -> list[Window]:
    """Every sentence as one or more windows of at most ``max_subwords`` sub-words (specials included)."""
    prefix, suffix = special_tokens(tokenizer)
    room = max_subwords - len(prefix) - len(suffix)
    stats = WindowStats(sentences=len(sentences))
    windows: list[Window] = []
    chunk = 2048
    for offset in range(0, len(sentences), chunk):
        part = sentences[offset : offset + chunk]
        # verbose=False: the whole sentence is tokenised before it is windowed, so its length may pass the
        # model's maximum here without harm (transformers would warn of indexing errors that cannot happen)
        encoded = tokenizer([s.tokens for s in part], is_split_into_words=True, add_special_tokens=False, verbose=False)
        for index, sentence in enumerate(part):
            pieces: list[list[int]] = [[] for _ in sentence.tokens]
            for token_id, word in zip(encoded["input_ids"][index], encoded.word_ids(index)):
                if word is not None:
                    pieces[word].append(token_id)
            made = _windows(offset + index, pieces, room, prefix, suffix, stats)
            stats.split += len(made) > 1
            windows.extend(made)
    stats.report(what)
    return windows


def _windows(sentence: int, pieces: list[list[int]], room: int, prefix: list[int], suffix: list[int],
             stats: WindowStats) -> list[Window]:
    out: list[Window] = []
    ids: list[int] = []
    first: list[int] = []
    start = 0
    for word, word_pieces in enumerate(pieces):
        if not word_pieces:
            stats.empty_words += 1
        if len(word_pieces) > room:
            stats.clipped_words += 1
            word_pieces = word_pieces[:room]
        if ids and len(ids) + len(word_pieces) > room:
            out.append(Window(sentence, start, prefix + ids + suffix, first))
            ids, first, start = [], [], word
        first.append(len(prefix) + len(ids) if word_pieces else 0)
        ids.extend(word_pieces)
    out.append(Window(sentence, start, prefix + ids + suffix, first))
    return out


@dataclass
class EncodedBatch:
    """Padded tensors of a batch of windows."""

    windows: list[Window]
    input_ids: torch.Tensor  # [B, T]
    attention_mask: torch.Tensor  # [B, T]
    first: torch.Tensor  # [B, W] position of each word's first sub-token
    lengths: torch.Tensor  # [B] words per window
    has_piece: torch.Tensor  # [B, W] the word has a sub-token (else it is tagged O and not trained on)
    tags: torch.Tensor | None  # [B, W] tag ids

    def to(self, device: torch.device | str) -> "EncodedBatch":
        move = lambda t: None if t is None else t.to(device, non_blocking=True)  # noqa: E731
        return EncodedBatch(self.windows, move(self.input_ids), move(self.attention_mask), move(self.first),
                            move(self.lengths), move(self.has_piece), move(self.tags))


def collate(windows: Sequence[Window], pad_id: int, tags: Sequence[Sequence[int]] | None = None) -> EncodedBatch:
    """Right-padded tensors; ``tags[i]`` are the tag ids of window i's words."""
    steps = max(len(w.input_ids) for w in windows)
    words = max(max(w.words for w in windows), 1)
    input_ids = torch.full((len(windows), steps), pad_id, dtype=torch.long)
    attention = torch.zeros((len(windows), steps), dtype=torch.long)
    first = torch.zeros((len(windows), words), dtype=torch.long)
    has_piece = torch.zeros((len(windows), words), dtype=torch.bool)
    tag_ids = None if tags is None else torch.zeros((len(windows), words), dtype=torch.long)
    for row, window in enumerate(windows):
        input_ids[row, : len(window.input_ids)] = torch.tensor(window.input_ids)
        attention[row, : len(window.input_ids)] = 1
        if window.words:
            first[row, : window.words] = torch.tensor(window.first)
            has_piece[row, : window.words] = first[row, : window.words] > 0
            if tag_ids is not None:
                tag_ids[row, : window.words] = torch.tensor(tags[row])
    lengths = torch.tensor([max(w.words, 1) for w in windows])
    return EncodedBatch(list(windows), input_ids, attention, first, lengths, has_piece, tag_ids)
