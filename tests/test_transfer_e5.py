"""Model transfer with the real converted multilingual-e5-small, on real sentences of all six languages.

A full fine-tuning run takes an hour on two cores (`make transfer-es`); these tests check what must hold
of every such run, in seconds: sub-word windows on real text in every script, the same tags whatever the
batch a sentence is tagged in (padding and bucketing change nothing), learning on real English, and text
longer than the encoder's window tagged word by word with a warning.
"""
from __future__ import annotations

import logging

import pytest
import torch

from conftest import corpus
from zsner.data import tags as tagging
from zsner.data.conll import Sentence, read_conll
from zsner.transfer.features import collate, encode_sentences
from zsner.transfer.model import TransferTagger
from zsner.transfer.optim import Optimisers, clip_dense, prepare_embeddings
from zsner.transfer.predict import encode_corpus, predict_encoded

FILES = {"en": ("conll2003/eng.testa", "ascii", "iob1"), "es": ("conll2002/esp.testa", "latin-1", "iob2"),
         "nl": ("conll2002/ned.testa", "latin-1", "iob2"), "de": ("conll2003/deu.testa", "latin-1", "iob1"),
         "fi": ("fi/fi.testa.iob2", "utf-8", "iob2"), "ar": ("ar/ar.testa.iob2", "utf-8", "iob2")}


def real(language: str, count: int) -> list[Sentence]:
    name, encoding, scheme = FILES[language]
    return read_conll(corpus(name), scheme=scheme, encoding=encoding)[:count]


@pytest.fixture(scope="module")
def e5(e5_encoder_dir):
    from zsner.encoders.loading import load_encoder, load_tokenizer

    torch.manual_seed(0)
    tags = tagging.tag_inventory(["LOC", "MISC", "ORG", "PER"], "iob2")
    return TransferTagger(load_encoder(e5_encoder_dir), len(tags), "linear"), load_tokenizer(e5_encoder_dir), tags


@pytest.mark.parametrize("language", list(FILES))
def test_every_word_of_real_text_has_a_first_sub_token(e5, language):
    _, tokenizer, _ = e5
    sentences = real(language, 60)
    windows = encode_sentences(tokenizer, sentences, 256, language)
    assert len(windows) == len(sentences)  # CoNLL sentences fit e5's window
    without = sum(p == 0 for w in windows for p in w.first)
    assert without == 0, f"{without} {language} words have no sub-token"
    for window, sentence in zip(windows, sentences):
        assert window.words == len(sentence) and window.first == sorted(set(window.first))


def test_tags_do_not_depend_on_the_batch_a_sentence_is_in(e5, one_torch_thread):
    model, tokenizer, tags = e5
    sentences = real("es", 12) + real("ar", 12) + real("fi", 12)
    together = predict_encoded(model, encode_corpus(tokenizer, sentences, 256, 36), tags, "iob2")
    alone = [predict_encoded(model, encode_corpus(tokenizer, [s], 256, 1), tags, "iob2")[0] for s in sentences]
    assert together == alone


def test_fine_tuning_on_real_english_learns(e5, one_torch_thread):
    model, tokenizer, tags = e5
    prepare_embeddings(model, "frozen")
    english = real("en", 16)
    index = {t: i for i, t in enumerate(tags)}
    windows = encode_sentences(tokenizer, english, 256)
    batch = collate(windows, tokenizer.pad_token_id, [[index[t] for t in s.tags] for s in english])
    optimisers = Optimisers(model, 5e-5, 1e-3, 0.01, total_steps=8, warmup=0.0, sparse_embeddings=False)
    losses = []
    model.train()
    for _ in range(8):
        optimisers.zero_grad()
        loss = model.loss(batch)
        loss.backward()
        clip_dense(model, 1.0)
        optimisers.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses
    assert model.encoder.get_input_embeddings().weight.grad is None  # frozen: not even a gradient


def test_text_longer_than_the_window_is_tagged_word_by_word(e5, caplog, one_torch_thread):
    model, tokenizer, tags = e5
    long = Sentence([t for s in real("de", 40) for t in s.tokens])  # ~700 words, ~1000 sub-words
    with caplog.at_level(logging.WARNING):
        windows = encode_sentences(tokenizer, [long], 256, "long text")
        predicted = predict_encoded(model, encode_corpus(tokenizer, [long], 256, 8), tags, "iob2")
    assert len(windows) >= 3 and all(len(w.input_ids) <= 256 for w in windows)
    assert len(predicted[0]) == len(long)
    assert "long text: 1 of 1 sentences are longer than the window and were split" in caplog.text
