"""Optimiser and schedule of fine-tuning: AdamW with a linear warm-up and linear decay (BERT's recipe).

The encoder and the freshly initialised head get their own learning rates; with ``embeddings = "sparse"``
the word-embedding matrix is updated by SparseAdam on the rows a batch touched, so a step costs the
batch's few hundred rows instead of all 250k.
"""
from __future__ import annotations

import torch

from zsner.transfer.model import TransferTagger


def word_embeddings(model: TransferTagger) -> torch.nn.Embedding:
    return model.encoder.get_input_embeddings()


def prepare_embeddings(model: TransferTagger, mode: str) -> None:
    """Freeze, sparsify or leave the encoder's word-embedding matrix (``[transfer] embeddings``)."""
    table = word_embeddings(model)
    table.weight.requires_grad_(mode != "frozen")
    table.sparse = mode == "sparse"


def freeze_lower_layers(model: TransferTagger, layers: int) -> None:
    """Keep the embeddings and the lowest ``layers`` layers as they start (Li et al. froze 0, 3 or 6 when
    fine-tuning the English model on pseudo-labels: the lower layers hold what is shared across languages)."""
    if layers <= 0:
        return
    blocks = getattr(getattr(model.encoder, "encoder", None), "layer", None)
    if blocks is None or layers > len(blocks):
        raise ValueError(f"cannot freeze {layers} layers of an encoder with {len(blocks or [])}")
    for module in [model.encoder.embeddings, *blocks[:layers]]:
        for parameter in module.parameters():
            parameter.requires_grad_(False)


class Optimisers:
    """AdamW (dense parameters) and, for sparse embeddings, SparseAdam — stepped, scheduled and saved as one."""

    def __init__(self, model: TransferTagger, lr: float, head_lr: float, weight_decay: float, total_steps: int,
                 warmup: float, sparse_embeddings: bool):
        table = word_embeddings(model).weight
        head = {id(p) for p in model.head_parameters()}
        encoder = [p for p in model.parameters() if p.requires_grad and id(p) not in head
                   and not (sparse_embeddings and p is table)]
        no_decay = [p for p in encoder if p.dim() < 2]
        decay = [p for p in encoder if p.dim() >= 2]
        groups = [{"params": decay, "lr": lr, "weight_decay": weight_decay},
                  {"params": no_decay, "lr": lr, "weight_decay": 0.0},
                  {"params": model.head_parameters(), "lr": head_lr, "weight_decay": 0.0}]
        self.optimisers: list[torch.optim.Optimizer] = [torch.optim.AdamW([g for g in groups if g["params"]])]
        if sparse_embeddings:
            self.optimisers.append(torch.optim.SparseAdam([table], lr=lr))
        warm = max(1, int(warmup * total_steps))

        def factor(step: int) -> float:
            if step < warm:
                return (step + 1) / warm
            return max(0.0, (total_steps - step) / max(1, total_steps - warm))

        self.schedulers = [torch.optim.lr_scheduler.LambdaLR(o, factor) for o in self.optimisers]

    def zero_grad(self) -> None:
        for optimiser in self.optimisers:
            optimiser.zero_grad(set_to_none=True)

    def step(self) -> None:
        for optimiser, scheduler in zip(self.optimisers, self.schedulers):
            optimiser.step()
            scheduler.step()

    @property
    def lr(self) -> float:
        return self.optimisers[0].param_groups[0]["lr"]

    def state_dict(self) -> dict:
        return {"optimisers": [o.state_dict() for o in self.optimisers],
                "schedulers": [s.state_dict() for s in self.schedulers]}

    def load_state_dict(self, state: dict) -> None:
        for optimiser, saved in zip(self.optimisers, state["optimisers"]):
            optimiser.load_state_dict(saved)
        for scheduler, saved in zip(self.schedulers, state["schedulers"]):
            scheduler.load_state_dict(saved)


def clip_dense(model: TransferTagger, max_norm: float) -> float:
    """Clip the dense gradients' global norm (sparse embedding rows are left to SparseAdam)."""
    dense = [p for p in model.parameters() if p.grad is not None and not p.grad.is_sparse]
    if not dense or max_norm <= 0:
        return 0.0
    return float(torch.nn.utils.clip_grad_norm_(dense, max_norm))
