"""Tagging sentences with a transfer model: length-sorted windows, no autograd, words re-assembled."""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Sequence

import torch

from zsner.data import tags as tagging
from zsner.data.batching import bucketed_batches
from zsner.data.conll import Sentence
from zsner.transfer.features import EncodedBatch, Window, collate, encode_sentences
from zsner.transfer.model import TransferTagger


@dataclass
class EncodedCorpus:
    """A corpus as padded batches of windows, built once and reused by every evaluation."""

    batches: list[EncodedBatch]
    sentence_lengths: list[int]


def encode_corpus(tokenizer, sentences: Sequence[Sentence], max_subwords: int, batch_size: int,
                  what: str = "data") -> EncodedCorpus:
    windows = encode_sentences(tokenizer, sentences, max_subwords, what)
    order = bucketed_batches([len(w.input_ids) for w in windows], batch_size, rng=None)
    batches = [collate([windows[i] for i in chosen], tokenizer.pad_token_id) for chosen in order]
    return EncodedCorpus(batches, [len(s) for s in sentences])


def predict_encoded(model: TransferTagger, corpus: EncodedCorpus, tag_items: Sequence[str], scheme: str,
                    device: torch.device | str = "cpu", autocast: torch.autocast | None = None) -> list[list[str]]:
    """IOB2 tags of every sentence, in corpus order; words without a sub-token get O."""
    return predict_with_confidence(model, corpus, tag_items, scheme, device, autocast)[0]


def predict_with_confidence(model: TransferTagger, corpus: EncodedCorpus, tag_items: Sequence[str], scheme: str,
                            device: torch.device | str = "cpu", autocast: torch.autocast | None = None
                            ) -> tuple[list[list[str]], list[list[float]]]:
    """IOB2 tags of every sentence and the probability of each word's tag (1.0 for words without a
    sub-token, tagged O by construction): what a pseudo-labelling stage filters on."""
    was_training = model.training
    model.eval()
    out: list[list[str]] = [["O"] * n for n in corpus.sentence_lengths]
    confidence: list[list[float]] = [[1.0] * n for n in corpus.sentence_lengths]
    with torch.inference_mode():
        for batch in corpus.batches:
            with autocast or nullcontext():
                paths, probabilities = model.decode_with_probabilities(batch.to(device))
            for window, path, chosen in zip(batch.windows, paths, probabilities):
                _place(out[window.sentence], window, [tag_items[t] for t in path])
                _place(confidence[window.sentence], window, chosen, 1.0)
    model.train(was_training)
    return [tagging.to_iob2(tags, scheme) for tags in out], confidence


def _place(sentence_values: list, window: Window, values: Sequence, no_piece="O") -> None:
    """A window's values into its sentence's list; a word without a sub-token gets ``no_piece``."""
    for offset, (value, position) in enumerate(zip(values, window.first)):
        sentence_values[window.start + offset] = value if position > 0 else no_piece
