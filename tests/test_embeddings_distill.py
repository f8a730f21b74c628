"""Static vectors distilled from the real multilingual-e5-small (``zsner embed distill``), on real sentences.

Each vector is recomputed here the direct way (one sentence or one word through the encoder, the word's
sub-token states averaged at the layer) and compared with what the batched, bucketed pass wrote; the
resume test interrupts a pass with a real SIGINT and compares with an uninterrupted one.
"""
from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import corpus

from zsner.data.conll import read_unlabelled
from zsner.embeddings import distill as distill_module
from zsner.embeddings.distill import DistillSettings, Interrupted, distill, parse_layers
from zsner.embeddings.vectors import read_vec
from zsner.errors import ZsnerError


@pytest.fixture(scope="module")
def spanish_corpus(tmp_path_factory) -> Path:
    """120 real sentences of CoNLL-2002 Spanish, one per line, as `zsner corpus build` writes them."""
    sentences = read_unlabelled(corpus("conll2002/esp.train"), "latin-1")[:120]
    path = tmp_path_factory.mktemp("distill") / "es.txt"
    path.write_text("".join(" ".join(s.tokens) + "\n" for s in sentences), encoding="utf-8")
    return path


def _direct_states(encoder_dir: Path, text: str | list[str], layer: int):
    """The encoder's layer states of one input, and the word id of each sub-token (no batching)."""
    from zsner.encoders.loading import load_encoder, load_tokenizer

    model, tokenizer = load_encoder(encoder_dir), load_tokenizer(encoder_dir)
    encoded = tokenizer(text, is_split_into_words=isinstance(text, list), return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**encoded, output_hidden_states=True).hidden_states[layer][0]
    return hidden, encoded.word_ids(0)


def test_context_vectors_are_the_mean_of_each_occurrence(e5_encoder_dir, spanish_corpus, tmp_path, one_torch_thread):
    out = tmp_path / "es.vec"
    settings = DistillSettings(method="context", layers=(6,), max_words=300, occurrences=3, sentences=0,
                               batch_tokens=2048)
    summary = distill(spanish_corpus, e5_encoder_dir, out, settings, device="cpu", precision="fp32", echo=lambda m: None)
    vectors = read_vec(out)
    lines = [line.split() for line in spanish_corpus.read_text(encoding="utf-8").splitlines()]
    counts: dict[str, int] = {}
    for tokens in lines:
        for token in tokens:
            counts[token] = counts.get(token, 0) + 1
    assert len(vectors) == 300 == summary["words"]
    assert [counts[w] for w in vectors.words] == sorted((counts[w] for w in vectors.words), reverse=True)
    seen = dict.fromkeys(vectors.words, 0)
    useful = 0  # sentences holding a vocabulary word still short of 3 occurrences: the only ones encoded
    for tokens in lines:
        short = [t for t in tokens if t in seen and seen[t] < 3]
        useful += bool(short)
        for t in tokens:
            if t in seen:
                seen[t] += 1
    assert summary["words_alone_fallback"] == 0 and summary["sentences_encoded"] == useful < len(lines)
    assert summary["leading_context_words"] == 300  # every word has contexts: the whole vocabulary is one kind

    # a word seen once: its vector is that occurrence's sub-token mean at layer 6
    once = next(w for w in vectors.words if counts[w] == 1 and len(w) > 6)
    tokens = next(t for t in lines if once in t)
    hidden, word_ids = _direct_states(e5_encoder_dir, tokens, 6)
    position = tokens.index(once)
    expected = hidden[[i for i, w in enumerate(word_ids) if w == position]].mean(0).numpy()
    np.testing.assert_allclose(vectors.vector(once), expected, atol=2e-4)

    # a frequent word: the mean over its first `occurrences` occurrences in corpus order
    word = vectors.words[0]
    picked = []
    for tokens in lines:
        hidden, word_ids = None, None
        for position, token in enumerate(tokens):
            if token == word and len(picked) < 3:
                if hidden is None:
                    hidden, word_ids = _direct_states(e5_encoder_dir, tokens, 6)
                picked.append(hidden[[i for i, w in enumerate(word_ids) if w == position]].mean(0).numpy())
    np.testing.assert_allclose(vectors.vector(word), np.mean(picked, 0), atol=2e-4)


def test_a_sampled_pass_records_how_many_leading_words_have_contexts(e5_encoder_dir, spanish_corpus, tmp_path,
                                                                    one_torch_thread):
    """With 10 of 120 sentences (every 12th line) most words fall back to `alone`; the summary's
    ``leading_context_words`` is the longest frequency prefix with 95 % context vectors (mapping reads it)."""
    settings = DistillSettings(method="context", max_words=300, occurrences=3, sentences=10, max_subwords=512)
    out = tmp_path / "sampled.vec"
    summary = distill(spanish_corpus, e5_encoder_dir, out, settings, device="cpu", precision="fp32", echo=lambda m: None)
    lines = spanish_corpus.read_text(encoding="utf-8").splitlines()
    sampled = {token for number, line in enumerate(lines) if number % 12 == 0 for token in line.split()}
    has_context = np.array([w in sampled for w in read_vec(out).words])
    assert summary["words_alone_fallback"] == int((~has_context).sum()) > 100
    expected = max(n for n in range(1, 301) if has_context[:n].mean() >= 0.95)
    assert summary["leading_context_words"] == expected < 300


def test_rounds_read_the_sample_first_then_the_lines_between(e5_encoder_dir, spanish_corpus, tmp_path,
                                                             one_torch_thread):
    """``rounds = 0`` reads every line, the sampled pass's lines first: a word with K occurrences among them
    keeps the sampled pass's vector (the same contexts, spread over the corpus), and the words the sample
    missed get contexts of their own instead of being encoded alone."""
    lines = spanish_corpus.read_text(encoding="utf-8").splitlines()
    order = [(r, n) for r, n, _ in distill_module.interleaved_lines(spanish_corpus, 12, 0)]
    assert order[:10] == [(0, n) for n in range(0, 120, 12)] and order[10] == (1, 1)
    assert sorted(n for _, n in order) == list(range(len(lines)))
    assert [n for _, n, _ in distill_module.interleaved_lines(spanish_corpus, 12, 2, 1, 50)] == [61, 73, 85, 97, 109]

    quiet = lambda m: None  # noqa: E731
    sampled, every = tmp_path / "sampled.vec", tmp_path / "every.vec"
    base = dict(method="context", max_words=300, occurrences=3, sentences=10, max_subwords=512)
    first = distill(spanish_corpus, e5_encoder_dir, sampled, DistillSettings(**base), device="cpu",
                    precision="fp32", echo=quiet)
    summary = distill(spanish_corpus, e5_encoder_dir, every, DistillSettings(**base, rounds=0), device="cpu",
                      precision="fp32", echo=quiet)
    assert first["rounds_read"] == 1 and summary["rounds_read"] == 12
    assert summary["words_alone_fallback"] == 0 < first["words_alone_fallback"]
    a, b = read_vec(sampled), read_vec(every)
    in_sample = [line.split() for number, line in enumerate(lines) if number % 12 == 0]
    full_in_sample = [w for w in a.words if sum(t.count(w) for t in in_sample) >= 3]
    assert len(full_in_sample) >= 5
    for word in full_in_sample:  # the same contexts, batched with other sentences: equal up to padding's rounding
        np.testing.assert_allclose(a.vector(word), b.vector(word), atol=1e-4)
    missed = [w for w in a.words if w.isalpha() and not any(w in t for t in in_sample)]
    assert len(missed) > 100
    assert not any(np.allclose(a.vector(w), b.vector(w), atol=1e-2) for w in missed)


def test_alone_vectors_encode_the_word_by_itself(e5_encoder_dir, spanish_corpus, tmp_path, one_torch_thread):
    out = tmp_path / "alone.vec"
    distill(spanish_corpus, e5_encoder_dir, out, DistillSettings(method="alone", layers=(4, 8), max_words=200),
            device="cpu", precision="fp32", echo=lambda m: None)
    vectors = read_vec(out)
    word = next(w for w in vectors.words if len(w) > 7)
    states = [_direct_states(e5_encoder_dir, word, layer) for layer in (4, 8)]
    inner = [i for i, w in enumerate(states[0][1]) if w is not None]  # the specials <s> </s> are left out
    expected = np.mean([hidden[inner].mean(0).numpy() for hidden, _ in states], 0)
    np.testing.assert_allclose(vectors.vector(word), expected, atol=2e-4)


def test_translations_are_neighbours_in_the_shared_space(e5_encoder_dir, tmp_path, one_torch_thread):
    """The point of distilling: English and Spanish words share one space before any mapping."""
    pairs = [("house", "casa"), ("water", "agua"), ("government", "gobierno"), ("city", "ciudad"),
             ("president", "presidente"), ("year", "año"), ("black", "negro"), ("book", "libro"),
             ("police", "policía"), ("money", "dinero"), ("mother", "madre"), ("war", "guerra"),
             ("church", "iglesia"), ("king", "rey"), ("tree", "árbol"), ("night", "noche"),
             ("company", "empresa"), ("school", "escuela"), ("week", "semana"), ("dog", "perro")]
    vectors = {}
    for lang, words in (("en", [a for a, _ in pairs]), ("es", [b for _, b in pairs])):
        text = tmp_path / f"{lang}.txt"
        text.write_text("\n".join(words) + "\n", encoding="utf-8")
        distill(text, e5_encoder_dir, tmp_path / f"{lang}.vec", DistillSettings(method="alone", layers=(6,)),
                device="cpu", precision="fp32", echo=lambda m: None)
        vectors[lang] = read_vec(tmp_path / f"{lang}.vec")
    en = np.stack([vectors["en"].vector(a) for a, _ in pairs])
    es = np.stack([vectors["es"].vector(b) for _, b in pairs])
    en, es = (m - m.mean(0) for m in (en, es))
    similarity = (en / np.linalg.norm(en, axis=1, keepdims=True)) @ (es / np.linalg.norm(es, axis=1, keepdims=True)).T
    correct = int((similarity.argmax(1) == np.arange(len(pairs))).sum())
    assert correct >= 16, f"only {correct}/20 English words have their translation as nearest Spanish word"


@pytest.mark.parametrize("sentences, rounds", [(0, 1), (20, 0)])  # in corpus order; in six rounds of 20 lines
def test_an_interrupted_pass_resumes_to_the_same_vectors(e5_encoder_dir, spanish_corpus, tmp_path, monkeypatch,
                                                         one_torch_thread, sentences, rounds):
    settings = DistillSettings(method="context", max_words=400, occurrences=2, sentences=sentences, rounds=rounds,
                               batch_tokens=2048)
    full = tmp_path / "full.vec"
    monkeypatch.setattr(distill_module, "BUFFER_SENTENCES", 30)  # four buffers: a checkpoint between them
    distill(spanish_corpus, e5_encoder_dir, full, settings, device="cpu", precision="fp32", echo=lambda m: None)

    encode = distill_module._encode_buffer
    calls = []

    def encode_then_interrupt(*args, **kwargs):
        missed = encode(*args, **kwargs)
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGINT)  # a real ^C, between two buffers
        return missed

    cut = tmp_path / "cut.vec"
    monkeypatch.setattr(distill_module, "_encode_buffer", encode_then_interrupt)
    with pytest.raises(Interrupted):
        distill(spanish_corpus, e5_encoder_dir, cut, settings, device="cpu", precision="fp32", echo=lambda m: None)
    assert not cut.exists() and cut.with_name("cut.vec.partial.npz").is_file()
    monkeypatch.setattr(distill_module, "_encode_buffer", encode)
    messages: list[str] = []
    distill(spanish_corpus, e5_encoder_dir, cut, settings, device="cpu", precision="fp32", echo=messages.append)
    resumed = [m for m in messages if "resuming" in m]
    assert resumed and (rounds == 1 or not resumed[0].endswith("of round 1"))  # cut after the first round
    assert not cut.with_name("cut.vec.partial.npz").exists()
    a, b = read_vec(full), read_vec(cut)
    assert a.words == b.words
    np.testing.assert_array_equal(a.matrix, b.matrix)

    other = DistillSettings(method="context", max_words=400, occurrences=3, sentences=0)
    np.savez(tmp_path / "x.vec.partial.npz", sums=np.zeros((400, 384), np.float32), counts=np.zeros(400),
             next_line=5, sentences=5, key="not this run")
    with pytest.raises(ZsnerError, match="partial pass with other settings"):
        distill(spanish_corpus, e5_encoder_dir, tmp_path / "x.vec", other, device="cpu", echo=lambda m: None)


def test_bad_settings_are_one_line_errors(e5_encoder_dir, tmp_path):
    assert parse_layers("4-6,9") == (4, 5, 6, 9)
    for spec in ("", "a", "-1", "3-x"):
        with pytest.raises(ZsnerError, match="bad layer list"):
            parse_layers(spec)
    with pytest.raises(ZsnerError, match="unknown distillation method"):
        DistillSettings(method="mean").validate()
    with pytest.raises(ZsnerError, match="no such corpus file"):
        distill(tmp_path / "none.txt", e5_encoder_dir, tmp_path / "o.vec", DistillSettings(), echo=lambda m: None)
    text = tmp_path / "t.txt"
    text.write_text("uno dos tres\n", encoding="utf-8")
    with pytest.raises(ZsnerError, match="the encoder has layers 0-12"):
        distill(text, e5_encoder_dir, tmp_path / "o.vec", DistillSettings(layers=(13,)), echo=lambda m: None)
