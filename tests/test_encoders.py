"""Encoders: exact results on padded batches, tied weights, the shared character table."""
from __future__ import annotations

import torch
from torch import nn

from zsner.model.encoders import BiLSTM, reverse_padded
from zsner.model.tagger import CrfTagger, ModelConfig, count_parameters


def test_reverse_padded():
    x = torch.arange(12).view(2, 6, 1).float()
    out = reverse_padded(x, torch.tensor([6, 3]))
    assert out[0, :, 0].tolist() == [5, 4, 3, 2, 1, 0]
    assert out[1, :, 0].tolist() == [8, 7, 6, 9, 10, 11]


def _reference(lstm: BiLSTM, x: torch.Tensor) -> torch.Tensor:
    """Each sentence alone, no padding, through torch's own bidirectional LSTM with the same weights."""
    ref = nn.LSTM(x.shape[-1], lstm.hidden_size, batch_first=True, bidirectional=True)
    backward = lstm.backward_lstm or lstm.forward_lstm
    with torch.no_grad():
        for name, p in lstm.forward_lstm.named_parameters():
            getattr(ref, name).copy_(p)
            getattr(ref, name + "_reverse").copy_(getattr(backward, name))
    return ref(x)[0]


def test_padded_bilstm_equals_unpadded_runs():
    torch.manual_seed(0)
    for tied in (False, True):
        lstm = BiLSTM(7, 5, tied=tied)
        x = torch.randn(3, 8, 7)
        lengths = torch.tensor([8, 5, 2])
        out = lstm(x, lengths)
        for b, n in enumerate(lengths.tolist()):
            assert torch.allclose(out[b, :n], _reference(lstm, x[b : b + 1, :n])[0], atol=1e-5)
        final = lstm.final_states(x, lengths)
        assert torch.allclose(final[1, :5], out[1, 4, :5]) and torch.allclose(final[1, 5:], out[1, 0, 5:])


def test_tied_lstm_shares_parameters_and_counts_fewer():
    config = ModelConfig(word_dim=50)
    untied = CrfTagger(config, 100, 30, 9)
    tied = CrfTagger(ModelConfig(word_dim=50, tied_lstm=True), 100, 30, 9)
    lstm = lambda m: count_parameters(m.encoder.lstm) + count_parameters(m.encoder.chars.lstm)  # noqa: E731
    assert lstm(tied) * 2 == lstm(untied)
    assert count_parameters(untied) - count_parameters(tied) == lstm(untied) // 2
    assert tied.encoder.lstm.backward_lstm is None
    x = torch.randn(2, 4, 50 + 50)
    lengths = torch.tensor([4, 4])
    out = tied.encoder.lstm(x, lengths)
    # the same weights read the sentence in both directions: backward states of x are the forward
    # states of x reversed
    flipped = tied.encoder.lstm(x.flip(1), lengths)
    assert torch.allclose(out[:, :, 100:], flipped[:, :, :100].flip(1), atol=1e-6)


def test_char_table_can_be_shared_between_encoders():
    from zsner.model.tagger import SentenceEncoder

    config = ModelConfig(word_dim=20)
    table = nn.Embedding(40, config.char_dim)
    source = SentenceEncoder(config, 50, table)
    target = SentenceEncoder(config, 60, table)
    assert source.chars.embedding is target.chars.embedding is table
    both = nn.ModuleList([source, target])
    assert sum(p is table.weight for p in both.parameters()) == 1


def test_no_char_mode():
    model = CrfTagger(ModelConfig(word_dim=20, use_chars=False), 50, 10, 5)
    assert model.encoder.chars is None
    assert model.encoder.lstm.forward_lstm.input_size == 20
