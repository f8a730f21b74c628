"""The encoders of Lample et al. (2016) as used by Bari et al.: a character BiLSTM and a word BiLSTM.

Both run on right-padded batches *without* packing. A forward LSTM's output at position t depends only
on positions ≤ t, so padding after a sentence cannot change it; the backward direction is made exact
the same way by reversing each sequence within its own length before the LSTM and un-reversing after.
This avoids the overhead of ``PackedSequence`` on the CPU and lets the two directions share one LSTM
("tied" weights, the paper's *shared LSTM cell*) in a single call over a doubled batch.
"""
from __future__ import annotations

import torch
from torch import nn


def reverse_padded(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each sequence of ``x [B, T, ...]`` within its length; padding stays where it is."""
    steps = x.shape[1]
    if bool((lengths == steps).all()):
        return x.flip(1)
    positions = torch.arange(steps, device=x.device).unsqueeze(0)
    index = torch.where(positions < lengths.unsqueeze(1), lengths.unsqueeze(1) - 1 - positions, positions)
    index = index.view(*index.shape, *([1] * (x.dim() - 2))).expand_as(x)
    return x.gather(1, index)


class BiLSTM(nn.Module):
    """A one-layer bidirectional LSTM over padded batches, with optionally tied directions.

    ``tied=True`` uses one LSTM for both directions (half the parameters): the paper binds forward and
    backward weights to make the source encoder less sensitive to word order, which differs between
    languages.
    """

    def __init__(self, input_size: int, hidden_size: int, tied: bool = False):
        super().__init__()
        self.tied = tied
        self.hidden_size = hidden_size
        self.forward_lstm = nn.LSTM(input_size, hidden_size, batch_first=True)
        self.backward_lstm = None if tied else nn.LSTM(input_size, hidden_size, batch_first=True)

    @property
    def output_size(self) -> int:
        return 2 * self.hidden_size

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """``x [B, T, D]`` → states ``[B, T, 2H]``: forward states then backward states."""
        reversed_x = reverse_padded(x, lengths)
        if self.backward_lstm is None:
            both, _ = self.forward_lstm(torch.cat([x, reversed_x], dim=0))
            forward, backward = both.split(x.shape[0], dim=0)
        else:
            forward, _ = self.forward_lstm(x)
            backward, _ = self.backward_lstm(reversed_x)
        return torch.cat([forward, reverse_padded(backward, lengths)], dim=2)

    def final_states(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """The last forward state and the last backward state (first token), ``[B, 2H]``.

        That is the character-level word representation of Lample et al.: the forward LSTM has read
        the whole word at its last character, the backward one at its first.
        """
        states = self.forward(x, lengths)
        last = (lengths - 1).view(-1, 1, 1).expand(-1, 1, self.hidden_size)
        forward_last = states[:, :, : self.hidden_size].gather(1, last).squeeze(1)
        backward_first = states[:, 0, self.hidden_size :]
        return torch.cat([forward_last, backward_first], dim=1)


class CharEncoder(nn.Module):
    """Character BiLSTM word representations.

    The embedding table is passed in rather than created, so that the source and target encoders of the
    cross-lingual model can hold *the same* table (the paper's shared character embeddings).
    """

    def __init__(self, embedding: nn.Embedding, hidden_size: int, tied: bool = False):
        super().__init__()
        self.embedding = embedding
        self.lstm = BiLSTM(embedding.embedding_dim, hidden_size, tied=tied)

    @property
    def output_size(self) -> int:
        return self.lstm.output_size

    def forward(self, chars: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """``chars [W, L]`` (one row per distinct word of the batch) → ``[W, 2H]``."""
        return self.lstm.final_states(self.embedding(chars), lengths)
