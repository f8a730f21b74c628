"""Checkpoints of cross-lingual models, and the *language bundles* that ``zsner predict`` loads.

Inside a run the model is saved with the shared, namespaced word table (``select-*.pt``: what
Cross-Augmented starts from). For tagging, a bundle for one language is exported: only that language's
rows of the table, keyed by plain words, so the ordinary :class:`~zsner.training.checkpoint.Vocabularies`
batcher reads raw Spanish text. A source-variant model becomes a plain ``zsner-tagger-1`` bundle; a
Cross-Augmented target model a ``zsner-cross-target-1`` bundle, which
:func:`zsner.bundles.load_tagger` hands to :func:`target_tagger_from_payload`.
"""
from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import torch

from zsner.cross.model import CrossAugmented, TargetTagger
from zsner.cross.vocab import SharedVocabularies
from zsner.data.vocab import PAD, UNK, Vocabulary
from zsner.errors import ZsnerError
from zsner.model.tagger import CrfTagger, ModelConfig
from zsner.training import checkpoint
from zsner.training.checkpoint import Vocabularies

CROSS_FORMAT = "zsner-cross-1"
TARGET_FORMAT = "zsner-cross-target-1"


def cross_payload(model: CrfTagger | CrossAugmented, vocabs: SharedVocabularies, language: str) -> dict[str, Any]:
    """A full (shared-table) checkpoint of a source model or of θs+θt."""
    if isinstance(model, CrossAugmented):
        return {"format": CROSS_FORMAT, "kind": "augmented", "source_config": asdict(model.source.config),
                "target_config": asdict(model.target.config), "detach_source": model.target.encoder.detach_source,
                "state_dict": model.state_dict(), "vocabularies": vocabs.to_dict(), "target_language": language}
    return {"format": CROSS_FORMAT, "kind": "source", "source_config": asdict(model.config),
            "state_dict": model.state_dict(), "vocabularies": vocabs.to_dict(), "target_language": language}


def load_cross(path: str | Path, device: str | torch.device = "cpu") -> tuple[CrfTagger | CrossAugmented, SharedVocabularies, dict]:
    """Load a :func:`cross_payload` file; returns the model (eval mode), vocabularies and payload."""
    path = Path(path)
    if not path.is_file():
        raise ZsnerError("no cross-lingual checkpoint here", path)
    payload = torch.load(path, map_location=device, weights_only=False)
    if not isinstance(payload, dict) or payload.get("format") != CROSS_FORMAT:
        raise ZsnerError("not a zsner cross-lingual checkpoint", path)
    vocabs = SharedVocabularies.from_dict(payload["vocabularies"])
    v = vocabs.vocabs
    source = CrfTagger(ModelConfig(**payload["source_config"]), len(v.words), len(v.chars), len(v.tags))
    model: CrfTagger | CrossAugmented = source
    if payload["kind"] == "augmented":
        model = CrossAugmented(source, ModelConfig(**payload["target_config"]), len(v.tags), payload["detach_source"])
    model.load_state_dict(payload["state_dict"])
    return model.to(device).eval(), vocabs, payload


def _language_vocabularies(vocabs: SharedVocabularies, language: str) -> tuple[Vocabularies, torch.Tensor]:
    rows = vocabs.language_words(language)
    v = vocabs.vocabs
    plain = Vocabularies(Vocabulary([PAD, UNK] + [w for _, w in rows]), v.chars, v.tags, v.normaliser, v.scheme)
    return plain, torch.tensor([0, 1] + [r for r, _ in rows], dtype=torch.long)


def _select_rows(state: dict[str, torch.Tensor], keep: torch.Tensor) -> dict[str, torch.Tensor]:
    return {k: (t.index_select(0, keep.to(t.device)) if k.endswith("words.weight") else t) for k, t in state.items()}


def language_bundle(model: CrfTagger | TargetTagger, vocabs: SharedVocabularies, language: str) -> dict[str, Any]:
    """A bundle that tags plain ``language`` text with ``model`` (see the module docstring)."""
    plain, keep = _language_vocabularies(vocabs, language)
    state = _select_rows(model.state_dict(), keep)
    if isinstance(model, TargetTagger):
        source = model.encoder.source
        return {"format": TARGET_FORMAT, "model_config": asdict(model.config),
                "source_config": asdict(replace(source.config)), "detach_source": model.encoder.detach_source,
                "state_dict": state, "vocabularies": plain.to_dict(), "language": language}
    payload = checkpoint.model_payload(model, plain)
    payload["state_dict"] = state
    payload["language"] = language
    return payload


def target_tagger_from_payload(payload: dict[str, Any]) -> tuple[TargetTagger, Vocabularies]:
    """Rebuild θt (with the θs encoder it reads) from a ``zsner-cross-target-1`` bundle."""
    vocabs = Vocabularies.from_dict(payload["vocabularies"])
    source = CrfTagger(ModelConfig(**payload["source_config"]), len(vocabs.words), len(vocabs.chars), len(vocabs.tags))
    model = TargetTagger(ModelConfig(**payload["model_config"]), source, len(vocabs.tags), payload["detach_source"])
    model.load_state_dict(payload["state_dict"])
    return model, vocabs
