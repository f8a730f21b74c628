"""The cross-lingual taggers: the source model θs is an ordinary :class:`CrfTagger` over the shared
word table; Cross-Augmented adds a target model θt (Figure 1, right box).

θt = a target :class:`SentenceEncoder` (own char BiLSTM and word BiLSTM, but *the same* character
``nn.Embedding`` object as θs: the paper's shared character embeddings) whose states are concatenated
with the source encoder's states ("feature augmentation", Eq. 7) and fed to a target-specific dense
layer, projection and CRF. :class:`TargetTagger` is a :class:`CrfTagger` whose encoder is that
augmented encoder, so the usual ``emissions``/``loss``/``decode`` and the fast tagging path
(:func:`zsner.training.predict.predict_batches`) work on it unchanged.
"""
from __future__ import annotations

from dataclasses import replace

import torch
from torch import nn

from zsner.data.batching import Batch, TokenTable
from zsner.model.crf import CRF
from zsner.model.tagger import CrfTagger, ModelConfig, SentenceEncoder


def network_parameters(module: nn.Module) -> int:
    """Distinct parameters without the word-embedding tables: Table 4's count (a tied LSTM counts
    once; the char table shared by both encoders counts once)."""
    seen: set[int] = set()
    total = 0
    for name, p in module.named_parameters(remove_duplicate=False):
        if id(p) in seen or name.endswith("words.weight"):
            continue
        seen.add(id(p))
        total += p.numel()
    return total


class AugmentedEncoder(nn.Module):
    """[target encoder states ; source encoder states] for one target batch."""

    def __init__(self, target: SentenceEncoder, source: SentenceEncoder, detach_source: bool = True):
        super().__init__()
        self.target = target
        self.source = source
        self.detach_source = detach_source

    @property
    def output_size(self) -> int:
        return self.target.output_size + self.source.output_size

    def token_features(self, table: TokenTable) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        return self.target.token_features(table), self.source.token_features(table)

    def combine(self, target_states: torch.Tensor, source_states: torch.Tensor) -> torch.Tensor:
        if self.detach_source:
            source_states = source_states.detach()
        return torch.cat([target_states, source_states], dim=2)

    def forward(self, batch: Batch, token_features=None) -> torch.Tensor:
        target_features, source_features = token_features if token_features is not None else (None, None)
        return self.combine(self.target(batch, target_features), self.source(batch, source_features))


class TargetTagger(CrfTagger):
    """θt: augmented encoder → target dense (tanh) → target projection → target CRF."""

    def __init__(self, config: ModelConfig, source: CrfTagger, num_tags: int, detach_source: bool = True):
        nn.Module.__init__(self)  # CrfTagger's constructor would build a second source-like stack
        self.config = config
        char_embedding = source.encoder.chars.embedding if source.encoder.chars is not None else None
        if config.use_chars and char_embedding is None:
            raise ValueError("the target encoder shares the source's character embeddings, but the source has none")
        num_words = source.encoder.words.num_embeddings
        target = SentenceEncoder(replace(config, word_dim=source.encoder.words.embedding_dim), num_words, char_embedding)
        target.words = source.encoder.words  # one frozen word table, not a copy of 10^5 rows
        self.encoder = AugmentedEncoder(target, source.encoder, detach_source)
        self.dense = nn.Sequential(nn.Linear(self.encoder.output_size, config.dense_dim), nn.Tanh())
        self.projection = nn.Linear(config.dense_dim, num_tags)
        self.crf = CRF(num_tags)
        if source.projection.in_features == config.dense_dim:
            # Start the target output layers where the source's are: the tag geometry (which dense
            # features mean PER, which transitions are legal) is language-independent.
            self.projection.load_state_dict(source.projection.state_dict())
            self.crf.load_state_dict(source.crf.state_dict())


class CrossAugmented(nn.Module):
    """θs and θt in one module: one optimiser, one state dict, one checkpoint."""

    def __init__(self, source: CrfTagger, target_config: ModelConfig, num_tags: int, detach_source: bool = True):
        super().__init__()
        self.source = source
        self.target = TargetTagger(target_config, source, num_tags, detach_source)

    def target_batch_losses(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """(L_t(θs), L_t(θt)) of a pseudo-labelled target batch; the source encoder runs once."""
        src = self.source
        source_states = src.encoder(batch)
        source_loss = -src.crf.log_likelihood(src.projection(src.dense(source_states)), batch.tags, batch.lengths).mean()
        tgt = self.target
        states = tgt.encoder.combine(tgt.encoder.target(batch), source_states)
        target_loss = -tgt.crf.log_likelihood(tgt.projection(tgt.dense(states)), batch.tags, batch.lengths).mean()
        return source_loss, target_loss


def source_config(base: ModelConfig, model: str, freeze: bool = True) -> ModelConfig:
    """The architecture of a source variant: Cross-Shared ties forward/backward LSTM weights."""
    return replace(base, tied_lstm=(model == "cross-shared"), freeze_word_embeddings=freeze or base.freeze_word_embeddings)
