"""Cross-lingual building blocks: shared word table, tied LSTMs, one char table, length sampling,
pseudo-labels in eval mode, and language bundles equal to the shared model."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from cross_fixtures import slice_corpus
from zsner.bundles import load_tagger
from zsner.cross.augment import pseudo_label
from zsner.cross.bundle import language_bundle
from zsner.cross.model import CrossAugmented, network_parameters, source_config
from zsner.cross.sampling import LengthSampler
from zsner.cross.vocab import build_shared, namespaced
from zsner.data.conll import read_conll, read_unlabelled
from zsner.data.vocab import WordNormaliser
from zsner.embeddings.vectors import Embeddings
from zsner.errors import ZsnerError
from zsner.model.tagger import CrfTagger, ModelConfig
from zsner.training import checkpoint
from zsner.training.predict import make_batches, predict


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("corpora")
    en = read_conll(slice_corpus("conll2003/eng.train", tmp / "en", 60, "ascii"), scheme="iob1")
    es_path = slice_corpus("conll2002/esp.train", tmp / "es", 40, "latin-1")
    return en, read_unlabelled(es_path), read_conll(es_path, scheme="iob2")


def _vectors(words, dim, seed):
    rng = np.random.default_rng(seed)
    return Embeddings(list(words), rng.normal(size=(len(words), dim)).astype(np.float32))


@pytest.fixture(scope="module")
def shared(corpora):
    en, es, _ = corpora
    en_words = sorted({t.lower() for s in en for t in s.tokens})
    es_words = sorted({t.lower() for s in es for t in s.tokens})
    vectors = {"en": _vectors(en_words, 12, 1), "es": _vectors(es_words, 12, 2)}
    vocabs, matrix = build_shared("en", en, [], "es", es, vectors, WordNormaliser(zeros=True), "iobes")
    return vocabs, matrix, vectors


def _tagger(vocabs, matrix, model="cross-word", **kw):
    v = vocabs.vocabs
    config = source_config(ModelConfig(word_dim=12, char_dim=6, char_hidden=5, word_hidden=7, dense_dim=9, **kw), model)
    return CrfTagger(config, len(v.words), len(v.chars), len(v.tags), matrix)


def test_shared_table_namespaces_languages_and_is_frozen(shared):
    vocabs, matrix, vectors = shared
    words = vocabs.words
    both = {w for w in vectors["en"].words} & {w for w in vectors["es"].words}
    assert both, "the slices share some word strings (numbers, names, punctuation)"
    word = sorted(both)[0]
    en_row, es_row = words.index[namespaced("en", word)], words.index[namespaced("es", word)]
    assert en_row != es_row
    assert torch.allclose(matrix[en_row], torch.from_numpy(vectors["en"].matrix[vectors["en"].index[word]]))
    assert torch.allclose(matrix[es_row], torch.from_numpy(vectors["es"].matrix[vectors["es"].index[word]]))
    assert vocabs.batcher("en").word_id(word) == en_row and vocabs.batcher("es").word_id(word) == es_row
    assert "ñ" in vocabs.vocabs.chars or "á" in vocabs.vocabs.chars or "é" in vocabs.vocabs.chars  # one char vocabulary over both
    tagger = _tagger(vocabs, matrix)
    assert not tagger.encoder.words.weight.requires_grad
    assert torch.equal(tagger.encoder.words.weight[es_row], matrix[es_row])


def test_tied_lstm_shares_parameters_as_in_table_4():
    # Paper sizes, a small vocabulary (embeddings are excluded from the count anyway).
    untied = CrfTagger(source_config(ModelConfig(), "cross-word"), 50, 80, 17)
    tied = CrfTagger(source_config(ModelConfig(), "cross-shared"), 50, 80, 17)
    assert tied.encoder.lstm.backward_lstm is None and tied.encoder.chars.lstm.backward_lstm is None
    assert untied.encoder.lstm.backward_lstm is not None
    # counted by hand from the paper's sizes (word 300, char 25 → char LSTM 25 each way, word LSTM 100
    # each way, dense 100, 17 IOBES tags); an LSTM direction has 4H(I + H) + 8H weights (PyTorch's two biases)
    def lstm(inputs: int, hidden: int) -> int:
        return 4 * hidden * (inputs + hidden) + 8 * hidden

    chars, dense, tags, crf = 80 * 25, 200 * 100 + 100, 100 * 17 + 17, 17 * 17 + 2 * 17
    words_in = 300 + 2 * 25
    assert network_parameters(untied) == chars + 2 * lstm(25, 25) + 2 * lstm(words_in, 100) + dense + tags + crf
    assert network_parameters(tied) == chars + lstm(25, 25) + lstm(words_in, 100) + dense + tags + crf
    # (the paper: 47 % fewer parameters for en-es / en-nl; here 1 - 210,590 / 396,590 with the es char table)


def test_target_encoder_shares_the_char_table_object(shared, corpora):
    vocabs, matrix, _ = shared
    source = _tagger(vocabs, matrix, "cross-shared")
    model = CrossAugmented(source, ModelConfig(word_dim=12, char_dim=6, char_hidden=5, word_hidden=7, dense_dim=9),
                           len(vocabs.vocabs.tags))
    target_encoder = model.target.encoder.target
    assert target_encoder.chars.embedding is source.encoder.chars.embedding
    assert target_encoder.chars.lstm is not source.encoder.chars.lstm  # own char BiLSTM
    assert target_encoder.lstm is not source.encoder.lstm  # own word BiLSTM
    assert model.target.dense is not source.dense  # target-specific dense layer
    assert model.target.dense[0].in_features == target_encoder.output_size + source.encoder.output_size  # [θt ; θs]
    names = [n for n, _ in model.named_parameters()]
    assert sum(n.endswith("chars.embedding.weight") for n in names) == 1  # counted once
    # the target loss reaches the shared char table through the target encoder
    _, es, es_gold = corpora
    batch = vocabs.batcher("es").batch(es_gold, [0, 1], [["O"] * len(es_gold[i]) for i in (0, 1)])
    _, target_loss = model.target_batch_losses(batch)
    target_loss.backward()
    assert source.encoder.chars.embedding.weight.grad.abs().sum() > 0
    assert source.encoder.lstm.forward_lstm.weight_ih_l0.grad is None  # detached: L_t(θt) leaves θs alone


def test_length_sampler_only_yields_sentences_up_to_l():
    lengths = [3, 17, 5, 40, 8, 1, 25]
    sampler = LengthSampler(lengths)
    assert (sampler.low, sampler.high) == (1, 40)
    rng = np.random.default_rng(0)
    drawn = set()
    for _ in range(300):
        threshold, chosen = sampler.sample(rng)
        drawn.add(threshold)
        assert sampler.low <= threshold <= sampler.high
        assert chosen == [i for i, n in enumerate(lengths) if n <= threshold] and chosen
    assert min(drawn) < 5 and max(drawn) > 35  # uniform over the whole range
    narrow = LengthSampler(lengths, low=10, high=20)
    assert all(10 <= narrow.draw(rng) <= 20 for _ in range(50))
    with pytest.raises(ValueError):
        LengthSampler([], 0, 0)


def test_pseudo_labels_come_from_eval_mode(shared, corpora):
    vocabs, matrix, _ = shared
    _, es, _ = corpora
    torch.manual_seed(0)
    model = _tagger(vocabs, matrix, "cross-shared", dropout=0.5)
    model.train()
    data = make_batches(vocabs.batcher("es"), es, 16)
    first = pseudo_label(model, data, vocabs.vocabs.tags.items, "iobes", "cpu")
    second = pseudo_label(model, data, vocabs.vocabs.tags.items, "iobes", "cpu")
    assert first == second and len(first) == len(es)
    assert model.training  # restored afterwards
    batch = vocabs.batcher("es").batch(es, list(range(8)))
    with torch.no_grad():  # while in train mode, dropout really changes the scores
        assert not torch.equal(model.emissions(batch), model.emissions(batch))


def test_language_bundles_tag_like_the_shared_models(shared, corpora, tmp_path):
    vocabs, matrix, _ = shared
    _, es, _ = corpora
    v = vocabs.vocabs
    source = _tagger(vocabs, matrix, "cross-shared").eval()
    expected = predict(source, vocabs.batcher("es"), es, v.scheme)
    checkpoint.save(tmp_path / "source.pt", language_bundle(source, vocabs, "es"))
    loaded, plain = checkpoint.load_model(tmp_path / "source.pt")
    assert len(plain.words) < len(v.words) and "es\t" not in plain.words.items[5]
    assert predict(loaded, plain.batcher(), es, plain.scheme) == expected
    model = CrossAugmented(source, ModelConfig(word_dim=12, char_dim=6, char_hidden=5, word_hidden=7, dense_dim=9), len(v.tags)).eval()
    with torch.no_grad():
        model.target.dense[0].weight.normal_()  # make θt's output differ from θs's
    expected = predict(model.target, vocabs.batcher("es"), es, v.scheme)
    checkpoint.save(tmp_path / "target.pt", language_bundle(model.target, vocabs, "es"))
    assert load_tagger(tmp_path / "target.pt").tag(es) == expected  # what `zsner predict` uses
    with pytest.raises(ZsnerError, match="not a BiLSTM-CRF bundle"):
        checkpoint.load_model(tmp_path / "target.pt")
