"""The char+word BiLSTM-CRF tagger of Lample et al. (2016), in the shape of AllenNLP's ``CrfTagger``.

    token → [char BiLSTM ; word embedding] → dropout → word BiLSTM → dense (tanh) → tag scores → CRF

The dense layer is the paper's point-wise "common encoder"; the encoder is a separate module so that
the cross-lingual model can put a second (target) encoder in front of the same dense layer and CRF.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from zsner.data.batching import Batch, TokenTable
from zsner.model.crf import CRF
from zsner.model.encoders import BiLSTM, CharEncoder


@dataclass
class ModelConfig:
    """Architecture hyper-parameters; defaults are the paper's (Lample et al. sizes, 300-d words)."""

    word_dim: int = 300
    char_dim: int = 25
    char_hidden: int = 25
    word_hidden: int = 100
    dense_dim: int = 100
    dropout: float = 0.5
    use_chars: bool = True
    tied_lstm: bool = False
    freeze_word_embeddings: bool = False
    sparse_embeddings: bool = True


class FastDropout(nn.Module):
    """Inverted dropout drawing its mask with ``uniform_`` rather than ``bernoulli_``.

    Same distribution as ``nn.Dropout``; on the CPU ``bernoulli_`` costs about three times as much as
    a uniform draw and a comparison, a measurable share of a small tagger's training step.
    """

    def __init__(self, p: float):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.empty_like(x).uniform_() >= self.p
        return x * keep * (1.0 / (1.0 - self.p))


class SentenceEncoder(nn.Module):
    """Tokens → contextual states ``[B, T, 2·word_hidden]``."""

    def __init__(self, config: ModelConfig, num_words: int, char_embedding: nn.Embedding | None,
                 word_vectors: torch.Tensor | None = None):
        super().__init__()
        self.config = config
        self.words = nn.Embedding(num_words, config.word_dim, padding_idx=0, sparse=config.sparse_embeddings)
        bound = math.sqrt(3.0 / config.word_dim)
        nn.init.uniform_(self.words.weight, -bound, bound)
        if word_vectors is not None:
            if word_vectors.shape != self.words.weight.shape:
                raise ValueError(f"word vectors {tuple(word_vectors.shape)} do not fit the vocabulary {tuple(self.words.weight.shape)}")
            with torch.no_grad():
                known = word_vectors.abs().sum(1) > 0
                self.words.weight[known] = word_vectors[known]
        with torch.no_grad():
            self.words.weight[0].zero_()
        self.words.weight.requires_grad_(not config.freeze_word_embeddings)
        self.chars = CharEncoder(char_embedding, config.char_hidden, tied=config.tied_lstm) if config.use_chars else None
        char_size = self.chars.output_size if self.chars is not None else 0
        self.dropout = FastDropout(config.dropout)
        self.lstm = BiLSTM(config.word_dim + char_size, config.word_hidden, tied=config.tied_lstm)

    @property
    def output_size(self) -> int:
        return self.lstm.output_size

    def token_features(self, table: TokenTable) -> torch.Tensor | None:
        """Character representations of every token of a :class:`TokenTable`, ``[U, 2·char_hidden]``."""
        if self.chars is None:
            return None
        size = len(table.index)
        out = None
        for rows, chars, lengths in table.buckets:
            encoded = self.chars(chars, lengths)
            if out is None:
                out = encoded.new_zeros(size, encoded.shape[1])
            out[rows] = encoded
        return out

    def forward(self, batch: Batch, token_features: torch.Tensor | None = None) -> torch.Tensor:
        """Contextual states; ``token_features`` are a TokenTable's character features, when the
        batch's token slots point into one (tagging), instead of the batch's own characters."""
        features = self.words(batch.words)
        if self.chars is not None:
            per_word = token_features if token_features is not None else self.chars(batch.chars, batch.char_lengths)
            features = torch.cat([features, per_word[batch.token_slots]], dim=2)
        return self.lstm(self.dropout(features), batch.lengths)


class CrfTagger(nn.Module):
    """Encoder → dense → CRF. ``loss`` is the mean negative log-likelihood over the batch."""

    def __init__(self, config: ModelConfig, num_words: int, num_chars: int, num_tags: int,
                 word_vectors: torch.Tensor | None = None):
        super().__init__()
        self.config = config
        char_embedding = nn.Embedding(num_chars, config.char_dim, padding_idx=0) if config.use_chars else None
        self.encoder = SentenceEncoder(config, num_words, char_embedding, word_vectors)
        self.dense = nn.Sequential(nn.Linear(self.encoder.output_size, config.dense_dim), nn.Tanh())
        self.projection = nn.Linear(config.dense_dim, num_tags)
        self.crf = CRF(num_tags)

    def emissions(self, batch: Batch, token_features: torch.Tensor | None = None) -> torch.Tensor:
        return self.projection(self.dense(self.encoder(batch, token_features)))

    def loss(self, batch: Batch) -> torch.Tensor:
        if batch.tags is None:
            raise ValueError("loss needs a labelled batch")
        return -self.crf.log_likelihood(self.emissions(batch), batch.tags, batch.lengths).mean()

    @torch.no_grad()
    def decode(self, batch: Batch, token_features: torch.Tensor | None = None) -> list[list[int]]:
        """Best tag ids per sentence, each cut to its length."""
        paths = self.crf.decode(self.emissions(batch, token_features), batch.lengths).tolist()
        return [path[:n] for path, n in zip(paths, batch.lengths.tolist())]

    def describe(self) -> dict:
        return {"config": asdict(self.config), "parameters": count_parameters(self)}


def count_parameters(module: nn.Module) -> int:
    """Distinct parameters (a tied LSTM counts once), as in the paper's Table 4 last column."""
    return sum(p.numel() for p in module.parameters())
