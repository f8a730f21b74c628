"""Transfer model bundles: what ``zsner predict --model RUN`` needs to tag text with a fine-tuned encoder.

A bundle names its encoder folder and stores only the tensors training changed (every encoder weight that
had a gradient, and the head). With the default frozen word embeddings that is a fifth of e5-small —
about 90 MB instead of 470 MB per checkpoint — and the 250k-row matrix is read from the encoder folder.
A bundle whose encoder folder is gone or different says so in one line instead of tagging with the
wrong weights.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import torch

from zsner.errors import ZsnerError
from zsner.transfer.model import TransferTagger

FORMAT = "zsner-transfer-1"


def encoder_fingerprint(folder: str | Path) -> str:
    """SHA-256 of the encoder's config.json: enough to notice a bundle pointed at a different model."""
    path = Path(folder) / "config.json"
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        raise ZsnerError("encoder folder has no readable config.json", folder) from None


def trained_state(model: TransferTagger) -> dict[str, torch.Tensor]:
    """The tensors that differ from the encoder folder: all with a gradient, the head, buffers of the head,
    and what a starting model (``[transfer] init``) brought in, trained now or frozen."""
    names = {name for name, p in model.named_parameters() if p.requires_grad} | model.initialised_names
    return {name: tensor.detach().cpu().clone() for name, tensor in model.state_dict().items()
            if name in names or not name.startswith("encoder.")}


def payload(model: TransferTagger, encoder: str, tags: list[str], scheme: str, max_subwords: int,
            dropout: float, precision: str = "fp32") -> dict[str, Any]:
    """``precision``: what the run evaluated in (fp32 | bf16 | fp16), so that tagging later gives its scores."""
    return {"format": FORMAT, "encoder": encoder, "encoder_absolute": str(Path(encoder).resolve()),
            "encoder_sha256": encoder_fingerprint(encoder), "head": model.head, "tags": tags, "scheme": scheme,
            "max_subwords": max_subwords, "dropout": dropout, "precision": precision,
            "state_dict": trained_state(model)}


def find_encoder(payload: dict[str, Any], bundle: Path) -> str:
    """The bundle's encoder folder: as recorded (relative to the working directory), else its absolute path."""
    for candidate in (payload["encoder"], payload.get("encoder_absolute", "")):
        if candidate and (Path(candidate) / "config.json").is_file():
            if encoder_fingerprint(candidate) != payload.get("encoder_sha256"):
                raise ZsnerError(f"the encoder folder {candidate} is not the one this model was trained on "
                                 "(its config.json changed)", bundle)
            return candidate
    raise ZsnerError(f"this model needs its encoder folder {payload['encoder']} (not found; `make encoder` "
                     "builds the default one)", bundle)


def model_from_payload(payload: dict[str, Any], bundle: Path, device: torch.device | str = "cpu"):
    """(model, tokenizer) of a transfer bundle, ready to tag."""
    from zsner.encoders.loading import load_encoder, load_tokenizer

    folder = find_encoder(payload, bundle)
    encoder = load_encoder(folder)
    model = TransferTagger(encoder, len(payload["tags"]), payload["head"], payload["dropout"])
    missing, unexpected = model.load_state_dict(payload["state_dict"], strict=False)
    stray = [name for name in missing if not name.startswith("encoder.")]
    if stray or unexpected:
        raise ZsnerError(f"bundle does not fit its encoder (missing {stray[:3]}, unexpected {unexpected[:3]})", bundle)
    return model.to(device).eval(), load_tokenizer(folder)


def read_init(cfg) -> dict[str, Any]:
    """The bundle ``[transfer] init`` names (a finished transfer run's best-src-dev.pt, say), checked against
    the run's encoder and head before any training starts."""
    return read_checked(Path(cfg.init), cfg)


def read_checked(path: Path, cfg) -> dict[str, Any]:
    """A transfer bundle that must fit ``cfg`` (a ``TransferConfig``): same encoder, head and scheme."""
    if path.is_dir():
        raise ZsnerError("is a folder; name one of its bundles (best-src-dev.pt: chosen without target labels)", path)
    if not path.is_file():
        raise ZsnerError("the model to start from is not there (train it first: make transfer-X)", path)
    payload = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ZsnerError("is not a transfer model bundle (zsner transfer train writes them)", path)
    if payload["encoder_sha256"] != encoder_fingerprint(cfg.encoder):
        raise ZsnerError(f"was trained on another encoder than {cfg.encoder}", path)
    if payload["head"] != cfg.head or payload["scheme"] != cfg.scheme:
        raise ZsnerError(f"has a {payload['head']} head in {payload['scheme']}; this run asks for a {cfg.head} head "
                         f"in {cfg.scheme}", path)
    return payload


def check_tags_cover(tags: list[str], sentences, source: str) -> None:
    """Every entity type of the training data must be one the starting model's head knows."""
    from zsner.data import tags as tagging

    known = set(tagging.entity_types([tags]))
    unknown = sorted(set(tagging.entity_types(s.tags for s in sentences)) - known)
    if unknown:
        raise ZsnerError(f"has entity types the starting model does not know: {', '.join(unknown)}", source)


def load_init(model: TransferTagger, payload: dict[str, Any], path: Path) -> None:
    """Load a starting model's weights; remember their names so that every bundle of this run keeps them."""
    missing, unexpected = model.load_state_dict(payload["state_dict"], strict=False)
    stray = [name for name in missing if not name.startswith("encoder.")]
    if stray or unexpected:
        raise ZsnerError(f"does not fit this run's model (missing {stray[:3]}, unexpected {unexpected[:3]})", path)
    model.initialised_names = set(payload["state_dict"])
