"""Saving and loading models and training state, always atomically.

A *model bundle* (``best.pt``) holds everything needed to tag new text: the architecture, weights,
vocabularies and tag scheme. The *training state* (``last.pt``) adds the optimiser, the position in the
epoch and the random-number state, so an interrupted run resumes where it stopped.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from zsner.data.batching import Batcher
from zsner.data.vocab import Vocabulary, WordNormaliser
from zsner.errors import ZsnerError
from zsner.model.tagger import CrfTagger, ModelConfig
from zsner.utils import atomic_write


@dataclass
class Vocabularies:
    words: Vocabulary
    chars: Vocabulary
    tags: Vocabulary
    normaliser: WordNormaliser
    scheme: str  # scheme of the tag vocabulary (what the CRF predicts)

    def to_dict(self) -> dict[str, Any]:
        return {"words": self.words.items, "chars": self.chars.items, "tags": self.tags.items,
                "normaliser": asdict(self.normaliser), "scheme": self.scheme}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Vocabularies":
        return cls(Vocabulary(d["words"]), Vocabulary(d["chars"]), Vocabulary(d["tags"], specials=False),
                   WordNormaliser(**d["normaliser"]), d["scheme"])

    def batcher(self) -> Batcher:
        return Batcher(self.words, self.chars, self.tags, self.normaliser)


def save(path: str | Path, payload: dict[str, Any]) -> None:
    atomic_write(path, lambda tmp: torch.save(payload, tmp))


def model_payload(model: CrfTagger, vocabs: Vocabularies) -> dict[str, Any]:
    return {"format": "zsner-tagger-1", "model_config": asdict(model.config),
            "state_dict": model.state_dict(), "vocabularies": vocabs.to_dict()}


def _final_stage(path: Path) -> Path:
    """runs/train-es → runs/train-es/cross-augmented, as named by its summary (``zsner cross summary``)."""
    summary = path / "metrics.json"
    if path.is_dir() and not (path / "best.pt").exists() and summary.is_file():
        try:
            final = json.loads(summary.read_text(encoding="utf-8")).get("final_model")
        except (OSError, json.JSONDecodeError, AttributeError):
            return path
        if isinstance(final, str) and (path / final).is_dir():
            return path / final
    return path


def read_bundle(path: str | Path, device: str | torch.device = "cpu") -> tuple[dict[str, Any], Path]:
    """The payload of a saved model and the file it came from.

    ``path`` may be the file, a run directory (its ``best.pt``: for a cross-lingual or transfer run the
    target-dev choice, ``best-src-dev.pt`` being the source-dev one) or a ``make train-X`` folder
    (runs/train-es: the final stage its metrics.json names). Which kind of model the payload holds is for
    the caller to decide (``zsner.bundles`` knows every format).
    """
    path = _final_stage(Path(path))
    if path.is_dir():
        path = path / "best.pt"
    if not path.is_file():
        raise ZsnerError("no model here (expected a run directory with best.pt, or a .pt file)", path)
    try:
        payload = torch.load(path, map_location=device, weights_only=False)
    except Exception as err:  # torch raises many types for a damaged file
        raise ZsnerError(f"cannot read model file: {err}", path) from None
    if not isinstance(payload, dict) or "format" not in payload:
        raise ZsnerError("not a zsner model bundle", path)
    return payload, path


def tagger_from_payload(payload: dict[str, Any]) -> tuple[CrfTagger, Vocabularies]:
    vocabs = Vocabularies.from_dict(payload["vocabularies"])
    config = ModelConfig(**payload["model_config"])
    model = CrfTagger(config, len(vocabs.words), len(vocabs.chars), len(vocabs.tags))
    model.load_state_dict(payload["state_dict"])
    return model, vocabs


def load_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[CrfTagger, Vocabularies]:
    """Load a BiLSTM-CRF bundle (``zsner-tagger-1``); ``path`` as for :func:`read_bundle`."""
    payload, path = read_bundle(path, device)
    if payload.get("format") != "zsner-tagger-1":
        raise ZsnerError(f"holds a {payload.get('format')} model, not a BiLSTM-CRF bundle "
                         "(zsner.bundles.load_tagger reads every kind)", path)
    model, vocabs = tagger_from_payload(payload)
    return model.to(device).eval(), vocabs
