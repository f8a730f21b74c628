"""Tagging sentences with a trained model, fast: large length-sorted batches, no autograd."""
from __future__ import annotations

from typing import Sequence

import torch

from zsner.data import tags as tagging
from zsner.data.batching import Batch, Batcher, bucketed_batches
from zsner.data.conll import Sentence
from zsner.model.tagger import CrfTagger


def make_batches(batcher: Batcher, sentences: Sequence[Sentence], batch_size: int, with_tags: bool = False) -> list[Batch]:
    """Evaluation batches (deterministic, length-sorted); reusable across evaluations of one set."""
    lengths = [len(s) for s in sentences]
    plain = [Sentence(s.tokens, [], s.line) for s in sentences] if not with_tags else sentences
    return [batcher.batch(plain, idx) for idx in bucketed_batches(lengths, batch_size, rng=None)]


def predict_batches(model: CrfTagger, batches: Sequence[Batch], tag_items: Sequence[str], scheme: str,
                    count: int, device: torch.device | str = "cpu") -> list[list[str]]:
    """IOB2 tags for every sentence covered by ``batches``, in the original sentence order."""
    was_training = model.training
    model.eval()
    out: list[list[str]] = [[] for _ in range(count)]
    with torch.inference_mode():
        for batch in batches:
            for index, path in zip(batch.indices, model.decode(batch.to(device))):
                out[index] = tagging.to_iob2([tag_items[t] for t in path], scheme)
    model.train(was_training)
    return out


def predict(model: CrfTagger, batcher: Batcher, sentences: Sequence[Sentence], scheme: str,
            batch_size: int = 128, device: torch.device | str = "cpu") -> list[list[str]]:
    """IOB2 predictions for ``sentences``."""
    batches = make_batches(batcher, sentences, batch_size)
    return predict_batches(model, batches, batcher.tags.items, scheme, len(sentences), device)
