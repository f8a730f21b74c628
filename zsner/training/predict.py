"""Tagging sentences with a trained model, fast: large length-sorted batches, no autograd, and the
character LSTM run once per distinct token of the whole input (a :class:`TokenTable`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from zsner.data import tags as tagging
from zsner.data.batching import Batch, Batcher, TokenTable, bucketed_batches
from zsner.data.conll import Sentence
from zsner.model.tagger import CrfTagger


@dataclass
class EvalSet:
    """Tensors for tagging one corpus, built once and reused by every evaluation during training."""

    batches: list[Batch]
    table: TokenTable
    count: int


def make_batches(batcher: Batcher, sentences: Sequence[Sentence], batch_size: int) -> EvalSet:
    """Deterministic length-sorted batches whose tokens point into one corpus-wide token table."""
    table = batcher.token_table(sentences)
    plain = [Sentence(s.tokens, [], s.line) for s in sentences]
    lengths = [len(s) for s in sentences]
    batches = [batcher.batch(plain, idx, table=table) for idx in bucketed_batches(lengths, batch_size, rng=None)]
    return EvalSet(batches, table, len(sentences))


def predict_batches(model: CrfTagger, data: EvalSet, tag_items: Sequence[str], scheme: str,
                    device: torch.device | str = "cpu") -> list[list[str]]:
    """IOB2 tags for every sentence of ``data``, in the original sentence order."""
    was_training = model.training
    model.eval()
    out: list[list[str]] = [[] for _ in range(data.count)]
    with torch.inference_mode():
        features = model.encoder.token_features(data.table.to(device))
        for batch in data.batches:
            for index, path in zip(batch.indices, model.decode(batch.to(device), features)):
                out[index] = tagging.to_iob2([tag_items[t] for t in path], scheme)
    model.train(was_training)
    return out


def predict(model: CrfTagger, batcher: Batcher, sentences: Sequence[Sentence], scheme: str,
            batch_size: int = 128, device: torch.device | str = "cpu") -> list[list[str]]:
    """IOB2 predictions for ``sentences``."""
    return predict_batches(model, make_batches(batcher, sentences, batch_size), batcher.tags.items, scheme, device)
