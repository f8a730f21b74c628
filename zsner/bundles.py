"""Any saved zsner model, ready to tag sentences: the one door ``zsner evaluate`` and ``zsner predict`` use.

Each family saves its own kind of bundle on its own floor — the BiLSTM-CRF (``zsner.training``), the
Cross-Augmented target model (``zsner.cross``), a fine-tuned encoder (``zsner.transfer``). Choosing among
them needs to know all three, so it lives here, above every floor, instead of in a lower floor that would
have to import the higher ones.
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol, Sequence

import torch

from zsner.data.conll import Sentence
from zsner.errors import ZsnerError
from zsner.training.checkpoint import read_bundle


class SentenceTagger(Protocol):
    language: str | None

    def tag(self, sentences: Sequence[Sentence], batch_size: int = 128) -> list[list[str]]:
        """IOB2 tags for each sentence."""


class _BiLSTMTagger:
    def __init__(self, model, vocabs, device):
        self.model, self.vocabs, self.device = model.to(device).eval(), vocabs, device

    def tag(self, sentences: Sequence[Sentence], batch_size: int = 128) -> list[list[str]]:
        from zsner.training.predict import predict

        return predict(self.model, self.vocabs.batcher(), sentences, self.vocabs.scheme, batch_size, self.device)


class _TransferTagger:
    def __init__(self, payload: dict, path: Path, device):
        from zsner.transfer.bundle import model_from_payload

        self.model, self.tokenizer = model_from_payload(payload, path, device)
        self.payload, self.device = payload, device

    def tag(self, sentences: Sequence[Sentence], batch_size: int = 128) -> list[list[str]]:
        from zsner.transfer.predict import encode_corpus, predict_encoded
        from zsner.encoders.precision import autocast_for

        payload = self.payload
        corpus = encode_corpus(self.tokenizer, sentences, payload["max_subwords"], min(batch_size, 64))
        autocast = autocast_for(payload.get("precision", "fp32"), torch.device(self.device))  # as the run scored
        return predict_encoded(self.model, corpus, payload["tags"], payload["scheme"], self.device, autocast)


def load_tagger(path: str | Path, device: str | torch.device = "cpu") -> SentenceTagger:
    """The model saved at ``path`` (a .pt file, a run directory, or runs/train-X) as a :class:`SentenceTagger`;
    its ``language`` is the language the bundle was exported for (None when it does not say)."""
    payload, path = read_bundle(path, device)
    kind = payload["format"]
    tagger: SentenceTagger
    if kind == "zsner-tagger-1":
        from zsner.training.checkpoint import tagger_from_payload

        tagger = _BiLSTMTagger(*tagger_from_payload(payload), device)
    elif kind == "zsner-cross-target-1":
        from zsner.cross.bundle import target_tagger_from_payload

        tagger = _BiLSTMTagger(*target_tagger_from_payload(payload), device)
    elif kind == "zsner-transfer-1":
        tagger = _TransferTagger(payload, path, device)
    else:
        raise ZsnerError(f"unknown model format {kind!r}", path)
    tagger.language = payload.get("language")
    return tagger
