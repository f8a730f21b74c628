"""Encoder + token-classification head: a linear layer, or zsner's CRF, over each word's first sub-token.

The head reads the encoder state of each word's first sub-token (Hugging Face token classification);
the CRF head adds zsner's linear-chain CRF (``zsner.model.crf``, tested against pytorch-crf and brute
force) over those word states, so a transition from ``O`` to ``I-PER`` can be learned as impossible.
"""
from __future__ import annotations

import torch
from torch import nn

from zsner.model.crf import CRF
from zsner.transfer.features import EncodedBatch
from zsner.transfer.losses import token_loss


class TransferTagger(nn.Module):
    """A pre-trained encoder with a tagging head over words."""

    def __init__(self, encoder: nn.Module, num_tags: int, head: str = "linear", dropout: float = 0.1,
                 loss: str = "ce", gamma: float = 4.0):
        super().__init__()
        if head == "crf" and loss != "ce":
            raise ValueError(f"the {loss} loss weights single words: it needs the linear head, not the CRF")
        self.loss_kind, self.gamma = loss, gamma
        self.initialised_names: set[str] = set()  # weights loaded from a starting bundle (transfer.bundle.load_init)
        if getattr(encoder, "pooler", None) is not None:
            encoder.pooler = None  # the sentence pooler of a saved model: never used for tagging, never trained
        self.encoder = encoder
        self.head = head
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(encoder.config.hidden_size, num_tags)
        self.crf = CRF(num_tags) if head == "crf" else None

    def emissions(self, batch: EncodedBatch) -> torch.Tensor:
        """Tag scores ``[B, W, K]`` for every word of the batch's windows."""
        states = self.encoder(input_ids=batch.input_ids, attention_mask=batch.attention_mask).last_hidden_state
        index = batch.first.unsqueeze(-1).expand(-1, -1, states.shape[-1])
        words = states.gather(1, index)
        return self.classifier(self.dropout(words)).float()

    def forward(self, batch: EncodedBatch) -> torch.Tensor:
        """The training loss: what DistributedDataParallel calls, so its gradient hooks run."""
        return self.loss(batch)

    def loss(self, batch: EncodedBatch) -> torch.Tensor:
        scores = self.emissions(batch)
        if self.crf is not None:
            return -self.crf.log_likelihood(scores, batch.tags, batch.lengths).mean()
        keep = batch.has_piece
        return token_loss(scores[keep], batch.tags[keep], self.loss_kind, self.gamma)

    @torch.no_grad()
    def decode(self, batch: EncodedBatch) -> list[list[int]]:
        return self.decode_with_probabilities(batch)[0]

    @torch.no_grad()
    def decode_with_probabilities(self, batch: EncodedBatch) -> tuple[list[list[int]], list[list[float]]]:
        """Tag ids of every window's words and the probability the head gives each chosen tag (its softmax;
        for the CRF head the softmax of the emissions at the Viterbi tags — a confidence, not a marginal)."""
        scores = self.emissions(batch)
        if self.crf is not None:
            paths = self.crf.decode(scores, batch.lengths)
        else:
            paths = scores.argmax(-1)
        chosen = scores.softmax(-1).gather(-1, paths.unsqueeze(-1)).squeeze(-1)
        return ([paths[row, : window.words].tolist() for row, window in enumerate(batch.windows)],
                [chosen[row, : window.words].tolist() for row, window in enumerate(batch.windows)])

    def head_parameters(self) -> list[nn.Parameter]:
        return list(self.classifier.parameters()) + ([] if self.crf is None else list(self.crf.parameters()))
