"""A plain Lample et al. (2016) style BiLSTM-CRF, written the usual way, as the speed reference.

This is what a straightforward PyTorch implementation looks like: batches of randomly shuffled
sentences padded to the longest, ``pack_padded_sequence`` for both LSTMs, the character LSTM run over
every token position of the batch, dense embedding gradients, and pytorch-crf's ``CRF``. Same sizes as
zsner's tagger, so the benchmark compares implementations, not models.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from torchcrf import CRF


class LampleTagger(nn.Module):
    def __init__(self, num_words: int, num_chars: int, num_tags: int, word_dim=300, char_dim=25,
                 char_hidden=25, word_hidden=100, dense_dim=100, dropout=0.5):
        super().__init__()
        self.words = nn.Embedding(num_words, word_dim, padding_idx=0)
        self.chars = nn.Embedding(num_chars, char_dim, padding_idx=0)
        self.char_lstm = nn.LSTM(char_dim, char_hidden, batch_first=True, bidirectional=True)
        self.word_lstm = nn.LSTM(word_dim + 2 * char_hidden, word_hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.dense = nn.Sequential(nn.Linear(2 * word_hidden, dense_dim), nn.Tanh(), nn.Linear(dense_dim, num_tags))
        self.crf = CRF(num_tags, batch_first=True)

    def emissions(self, words, chars, char_lengths, lengths):
        batch, steps = words.shape
        flat_chars = chars.view(batch * steps, -1)
        flat_lengths = char_lengths.view(-1).clamp(min=1)  # padding positions get a dummy length
        packed = pack_padded_sequence(self.chars(flat_chars), flat_lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, (h, _) = self.char_lstm(packed)
        char_repr = torch.cat([h[0], h[1]], dim=1).view(batch, steps, -1)
        x = self.dropout(torch.cat([self.words(words), char_repr], dim=2))
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.word_lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=steps)
        return self.dense(out)

    def loss(self, words, chars, char_lengths, lengths, tags, mask):
        return -self.crf(self.emissions(words, chars, char_lengths, lengths), tags, mask, reduction="mean")

    @torch.no_grad()
    def decode(self, words, chars, char_lengths, lengths, mask):
        return self.crf.decode(self.emissions(words, chars, char_lengths, lengths), mask)


def tensorise(sentences, tag_lists, word_vocab, char_vocab, tag_vocab, normalise):
    """Padded tensors for one batch: words [B,T], chars [B,T,L], char lengths [B,T], lengths, tags, mask."""
    steps = max(len(s.tokens) for s in sentences)
    longest = max(min(len(t), 30) for s in sentences for t in s.tokens)
    words = torch.zeros(len(sentences), steps, dtype=torch.long)
    chars = torch.zeros(len(sentences), steps, longest, dtype=torch.long)
    char_lengths = torch.zeros(len(sentences), steps, dtype=torch.long)
    tags = torch.zeros(len(sentences), steps, dtype=torch.long)
    for i, (sentence, tag_seq) in enumerate(zip(sentences, tag_lists)):
        for j, token in enumerate(sentence.tokens):
            words[i, j] = word_vocab.id(normalise(token))
            ids = char_vocab.ids(token[:30])
            chars[i, j, : len(ids)] = torch.tensor(ids)
            char_lengths[i, j] = len(ids)
            tags[i, j] = tag_vocab.index[tag_seq[j]]
    lengths = torch.tensor([len(s.tokens) for s in sentences])
    mask = torch.arange(steps)[None, :] < lengths[:, None]
    return words, chars, char_lengths, lengths, tags, mask
