"""The ``[transfer]`` table of a pair's recipe: model transfer with a multilingual encoder.

The same recipe file that describes the embedding baseline of a pair (``recipes/es.toml``) holds it, so
both families read the same English data (``[data]``) and are scored on the same target files
(``[target]``): one place per pair. Every key can be overridden for one run with ``--set transfer.KEY=V``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zsner.data import tags as tagging
from zsner.errors import ZsnerError
from zsner.training.recipe import PairRecipe, _typed, read_pair
from zsner.transfer.losses import LOSSES

HEADS = ("linear", "crf")
EMBEDDINGS = ("frozen", "sparse", "full")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


@dataclass
class TransferConfig:
    """Encoder, head and optimisation of model transfer.

    ``embeddings``: what happens to the encoder's word-embedding matrix (250k rows for XLM-R, about 80 %
    of e5-small's parameters): ``frozen`` (default: no gradient, no optimiser state, checkpoints hold
    only the trained weights — the fast choice on a CPU, and the rows of target words that English never
    shows stay where pre-training put them), ``sparse`` (only the rows of each batch's sub-words are
    updated, SparseAdam) or ``full`` (the plain Hugging Face way).
    """

    encoder: str = "data/encoders/e5-small"  # a local Hugging Face encoder folder (`make encoder` builds this one)
    head: str = "linear"  # linear | crf (zsner's CRF over the words' first-sub-token states)
    scheme: str = "iob2"  # tag scheme the head predicts (iob2 | iobes); scores are always IOB2
    embeddings: str = "frozen"  # frozen | sparse | full
    lr: float = 5e-5  # AdamW for the encoder
    head_lr: float = 1e-3  # the head (and the CRF transitions) start from scratch: a larger step
    weight_decay: float = 0.01
    warmup: float = 0.1  # fraction of the steps with a linear warm-up, then linear decay to 0
    epochs: float = 2.0  # passes over the English training sentences (fractions allowed)
    batch_size: int = 32  # sentences per step
    max_subwords: int = 256  # window size: longer sentences are split at word boundaries, never cut
    dropout: float = 0.1  # on the word states before the head
    clip: float = 1.0
    eval_every: int = 0  # steps between evaluations on source and target dev; 0: two per epoch (each scores ~5k dev sentences)
    eval_batch_size: int = 64
    max_train_sentences: int = 0  # 0: all (quick runs: the first N)
    keep_checkpoints: bool = True  # every evaluation's weights in checkpoints/: `zsner transfer retarget` selects from them
    source_test: str = ""  # English test file: scores the src-dev choice on its own language (how good is the encoder?)
    threads: int = 0  # 0: every core
    device: str = "auto"  # auto | cpu | cuda
    precision: str = "auto"  # auto (bf16 where the CPU/GPU computes it natively, else fp32) | fp32 | bf16 | fp16 (CUDA)
    loss: str = "ce"  # ce | focal | reweighted (Li et al.: (1 + p_t)^gamma CE, for pseudo-labels; linear head only)
    gamma: float = 4.0  # the exponent of focal and re-weighted
    # Fine-tuning on something else than [data] train (the stages of zsner.projection set these):
    train: str = ""  # a CoNLL file (token … tag, IOB2, UTF-8) to train on instead of [data] train: pseudo-labelled target text
    with_source: bool = False  # with `train`: mix [data] train (English) in, one shuffled set (Li et al. Table 3, rows 5-6)
    init: str = ""  # a transfer bundle (.pt) whose weights start the run (the English model); "": the bare encoder
    freeze_layers: int = 0  # the encoder's lowest N layers (and its embeddings) stay as they start (Li et al.: 0, 3, 6)
    stage: str = ""  # the stage that wrote `train` (names the run's rows: selftrain-linear-reweighted)


@dataclass
class TransferRecipe(PairRecipe):
    """A pair's recipe seen by the transfer stage: source data, target data, and ``[transfer]``."""

    transfer: TransferConfig = field(default_factory=TransferConfig)

    @property
    def model_name(self) -> str:
        if self.transfer.stage:
            return f"{self.transfer.stage}-{self.transfer.head}-{self.transfer.loss}"
        return f"transfer-{self.transfer.head}"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.base.name, "seed": self.base.seed, "data": dataclasses.asdict(self.base.data),
                "target": dataclasses.asdict(self.target), "transfer": dataclasses.asdict(self.transfer)}


def load_transfer_recipe(path: str | Path, overrides: dict[str, Any] | None = None) -> TransferRecipe:
    """Read a pair's recipe for model transfer; errors name the file and the key."""
    path = Path(path)
    base, table, target = read_pair(path, overrides)
    transfer = _typed(TransferConfig, table.get("transfer", {}), path, "transfer")
    checks = [
        (not base.data.train or not base.data.dev, "[data] train and dev (the labelled source language) must be set"),
        (not target.dev or not target.test, "[target] dev and test must be set"),
        (not transfer.encoder, "[transfer] encoder is not set (a local Hugging Face encoder folder)"),
        (transfer.head not in HEADS, f"[transfer] head = {transfer.head!r} should be one of {', '.join(HEADS)}"),
        (transfer.embeddings not in EMBEDDINGS, f"[transfer] embeddings = {transfer.embeddings!r} should be one of {', '.join(EMBEDDINGS)}"),
        (transfer.precision not in PRECISIONS, f"[transfer] precision = {transfer.precision!r} should be one of {', '.join(PRECISIONS)}"),
        (transfer.scheme not in ("iob2", "iobes"), f"[transfer] scheme = {transfer.scheme!r} should be iob2 or iobes"),
        (transfer.epochs <= 0 or transfer.batch_size <= 0, "[transfer] epochs and batch_size must be positive"),
        (transfer.max_subwords < 8, "[transfer] max_subwords must be at least 8"),
        (not 0 <= transfer.warmup < 1, "[transfer] warmup is a fraction of the steps, in [0, 1)"),
        (transfer.loss not in LOSSES, f"[transfer] loss = {transfer.loss!r} should be one of {', '.join(LOSSES)}"),
        (transfer.loss != "ce" and transfer.head == "crf",
         f"[transfer] loss = {transfer.loss!r} weights single words: it needs head = \"linear\""),
        (transfer.with_source and not transfer.train, "[transfer] with_source mixes English into `train`, which is not set"),
        (transfer.freeze_layers < 0, "[transfer] freeze_layers must be 0 or more"),
    ]
    for failed, message in checks:
        if failed:
            raise ZsnerError(message, path)
    tagging.check_scheme(transfer.scheme)
    return TransferRecipe(base, target, transfer)
