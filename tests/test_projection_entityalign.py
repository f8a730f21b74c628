"""Li et al.'s entity alignment model and its projection stage (zsner.projection.entityalign, entityalign_stage),
on real en-es parallel text (the head of data/parallel/en-es.libreoffice.tsv, else the same pairs built from
the LibreOffice help; skipped only when neither is here), real eflomal links and real tokenizers:
the training examples and their negatives, the segment-B labels of the encoding, the longest run above the
threshold (a head set by hand), the stage end to end on a tiny random encoder, and one-line input errors."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch

from conftest import REPO
from transfer_fixtures import stage_recipe
from zsner.data.conll import read_conll
from zsner.data.tags import chunks
from zsner.errors import ZsnerError
from zsner.projection.config import load_stage_recipe
from zsner.projection.entityalign import (IGNORE, INSIDE, AlignmentModel, EntityAligner, build_examples,
                                         encode_pairs, longest_run, negative_examples, positive_examples,
                                         split_heldout, word_scores)
from zsner.projection.entityalign_stage import UNMAPPED_ENTITY, project_spans
from zsner.projection.run import run_stage
from zsner.projection.wordalign import OVERLAPPING_ENTITIES, project, read_parallel

pytest.importorskip("transformers")

EN_ES = REPO / "data" / "parallel" / "en-es.libreoffice.tsv"
E5 = REPO / "data" / "encoders" / "e5-small"


@pytest.fixture(scope="module")
def parallel_file(tmp_path_factory) -> Path:
    """Real en-es pairs: the built LibreOffice parallel text, else its first 2000 pairs built here from the help."""
    if EN_ES.is_file():
        return EN_ES
    from zsner.embeddings import sources
    from zsner.embeddings.parallel import build_parallel

    why = sources._missing_libreoffice("es")
    if why:
        pytest.skip(f"no real parallel text: {EN_ES} not built and {why}")
    out = tmp_path_factory.mktemp("parallel") / "en-es.tsv"
    build_parallel("es", "libreoffice", out, limit=2000)  # under a second
    return out


def capitalised_names(english: list[str]) -> list[str]:
    """Stand-in English tags for the example tests: runs of capitalised words after the first word
    ("Microsoft Access", "LibreOffice Base") as MISC entities — real names of this text, found by a rule."""
    tags = ["O"] * len(english)
    for i, word in enumerate(english):
        if i > 0 and word[:1].isupper():
            tags[i] = "I-MISC" if tags[i - 1] != "O" else "B-MISC"
    return tags


@pytest.fixture(scope="module")
def aligned(parallel_file):
    """300 real pairs, their rule-made English tags and their eflomal links, aligned once."""
    pytest.importorskip("eflomal")
    from zsner.projection.wordalign import align

    pairs = read_parallel(parallel_file, limit=300)
    tags = [capitalised_names(english) for english, _ in pairs]
    return pairs, tags, align(pairs)


# --- (a) training examples -----------------------------------------------------------------------


def test_examples_hold_the_negative_share_and_the_word_aligned_spans(aligned):
    pairs, tags, links = aligned
    examples = build_examples(pairs, tags, links, 400, 0.25, seed=5)
    negatives = [e for e in examples if e.negative]
    assert len(examples) == 400 and abs(len(negatives) / len(examples) - 0.25) <= 0.02
    assert examples == build_examples(pairs, tags, links, 400, 0.25, seed=5)  # seeded
    assert examples != build_examples(pairs, tags, links, 400, 0.25, seed=6)
    entities_of = [{tuple(english[s : e + 1]) for _, s, e in chunks(t)} for (english, _), t in zip(pairs, tags)]
    for example in negatives:
        target = pairs[example.pair][1]
        assert example.target == tuple(target) and set(example.labels) == {0} and len(example.labels) == len(target)
        # a fake entity: some other pair's English entity, absent from this sentence word for word and as a string
        assert any(example.entity in entities for i, entities in enumerate(entities_of) if i != example.pair)
        assert example.entity not in entities_of[example.pair]
        assert f" {' '.join(example.entity)} ".casefold() not in f" {' '.join(target)} ".casefold()
        assert not {w.casefold() for w in example.entity} & {w.casefold() for w in target}
    positives = [e for e in examples if not e.negative]
    assert len({e.pair for e in positives}) > 50
    for example in positives:
        english, target = pairs[example.pair]
        projected, reason = project(tags[example.pair], len(target), links[example.pair])
        assert reason == "" and projected is not None  # only pairs whose projection succeeded
        inside = [j for j, label in enumerate(example.labels) if label == INSIDE]
        span = (inside[0], inside[-1])
        assert inside == list(range(span[0], span[1] + 1))
        # the span is exactly the one word alignment gave this entity in the pair's projection
        english_spans = [(s, e) for _, s, e in chunks(tags[example.pair])]
        target_spans = [(s, e) for _, s, e in chunks(projected)]
        assert span in target_spans
        assert example.entity in {tuple(english[s : e + 1]) for s, e in english_spans}


def test_few_positives_keep_the_share_and_every_projected_entity_is_one_example(aligned):
    pairs, tags, links = aligned
    every = positive_examples(pairs, tags, links)
    examples = build_examples(pairs, tags, links, 100_000, 0.25, seed=1)
    positives = [e for e in examples if not e.negative]
    assert sorted(positives, key=repr) == sorted(every, key=repr)
    assert abs(sum(e.negative for e in examples) / len(examples) - 0.25) <= 0.02
    # every entity of every cleanly projected pair, once
    clean = [i for i, (pair_tags, pair_links) in enumerate(zip(tags, links))
             if project(pair_tags, len(pairs[i][1]), pair_links)[0] is not None]
    assert len(every) == sum(len(chunks(tags[i])) for i in clean)
    assert negative_examples(pairs[:1], tags[:1], 10, random.Random(0)) == []  # no other pair to borrow from


def test_the_heldout_part_shares_no_sentence_with_training(aligned):
    pairs, tags, links = aligned
    examples = build_examples(pairs, tags, links, 400, 0.25, seed=2)
    train, heldout = split_heldout(examples, 0.05, seed=2)
    assert len(train) + len(heldout) == len(examples) and 0.05 <= len(heldout) / len(examples) < 0.1
    assert not {e.target for e in train} & {e.target for e in heldout}
    assert split_heldout(examples[:1], 0.05, seed=2) == (examples[:1], [])


# --- (b) encoding ------------------------------------------------------------------------------------


def _tokenizers(tiny: Path) -> list:
    from zsner.encoders.loading import load_tokenizer

    found = [load_tokenizer(tiny)]  # WordPiece, [CLS] A [SEP] B [SEP], token types
    if (E5 / "tokenizer.json").is_file():
        found.append(load_tokenizer(E5))  # XLM-R's sentencepiece, <s> A </s></s> B </s>, no token types
    return found


def test_labels_sit_on_the_first_sub_token_of_segment_b_words_only(aligned, tiny):
    pairs, tags, links = aligned
    examples = build_examples(pairs, tags, links, 120, 0.25, seed=3)
    for tokenizer in _tokenizers(tiny):
        # entities too long for half the window are clipped first (tested below); the rest match the tokenizer
        fits = [e for e in examples if len(tokenizer(list(e.entity), is_split_into_words=True,
                                                     add_special_tokens=False)["input_ids"]) <= (64 - 4) // 2]
        assert len(fits) > 0.8 * len(examples)
        examples_here, queries = fits, [(e.entity, e.target) for e in fits]
        encoded, stats = encode_pairs(tokenizer, queries, 64, [e.labels for e in examples_here])
        assert stats.pairs == len(examples_here) and stats.cut_words > 0  # some LibreOffice sentences are long
        assert stats.clipped_entities == 0
        reference = tokenizer([list(e.entity) for e in examples_here], [list(e.target) for e in examples_here],
                              is_split_into_words=True, truncation="only_second", max_length=64)
        labelled_words = 0
        for i, (example, item) in enumerate(zip(examples_here, encoded)):
            assert item.input_ids == reference["input_ids"][i] and len(item.input_ids) <= 64
            segments, words = reference.sequence_ids(i), reference.word_ids(i)
            previous = None
            for position, (segment, word, label) in enumerate(zip(segments, words, item.labels)):
                starts_b_word = segment == 1 and word is not None and (previous != (1, word))
                if starts_b_word:
                    assert label == example.labels[word] and item.first[word] == position
                    labelled_words += 1
                else:
                    assert label == IGNORE  # segment A, specials, later sub-tokens
                previous = (segment, word)
            kept = {w for s, w in zip(segments, words) if s == 1}
            assert [p >= 0 for p in item.first] == [w in kept for w in range(len(example.target))]
        assert labelled_words == sum(sum(p >= 0 for p in item.first) for item in encoded)
        assert any(INSIDE in item.labels for item in encoded)


def test_long_sentences_and_long_entities_are_cut_not_fatal(aligned, tiny):
    from zsner.encoders.loading import load_tokenizer

    tokenizer = load_tokenizer(tiny)
    pairs = aligned[0]
    longest = max((target for _, target in pairs), key=len)
    long_entity = tuple(pairs[0][0]) * 6
    encoded, stats = encode_pairs(tokenizer, [(("LibreOffice",), longest), (long_entity, longest),
                                              (("x" * 400,), ("uno", "dos"))], 16)
    assert all(len(item.input_ids) <= 16 for item in encoded)
    assert stats.clipped_entities == 2 and stats.cut_sentences >= 2
    first = encoded[0].first
    kept = sum(p >= 0 for p in first)
    assert 0 < kept < len(longest) and all(p < 0 for p in first[kept:])  # the tail is cut, the head read
    with pytest.raises(ValueError, match="cannot hold"):
        encode_pairs(tokenizer, [(("a",), ("b",))], 4)


# --- (c) find: the longest run above the threshold -------------------------------------------------


def test_longest_run():
    assert longest_run([0.9, 0.2, 0.8, 0.7, 0.1], 0.5) == (2, 3)
    assert longest_run([0.1, 0.2], 0.5) is None and longest_run([], 0.5) is None
    assert longest_run([0.5, 0.49], 0.5) == (0, 0)  # reaching the threshold is enough
    assert longest_run([0.6, 0.1, 0.9], 0.5) == (2, 2)  # equally long: the more probable
    assert longest_run([0.6, 0.1, 0.6], 0.5) == (0, 0)  # then the first
    assert longest_run([0.1, 0.7, 0.8, 0.9], 0.5) == (1, 3)  # a run to the end


def _aligner(tiny: Path, inside_logit: float, max_subwords: int = 64, min_probability: float = 0.5) -> EntityAligner:
    """An alignment model whose head ignores the encoder: every word's P(inside) is sigmoid(inside_logit)."""
    aligner = EntityAligner.from_encoder(tiny, max_subwords, min_probability, seed=0)
    head: AlignmentModel = aligner.model
    with torch.no_grad():
        head.classifier.weight.zero_()
        head.classifier.bias.copy_(torch.tensor([0.0, inside_logit]))
    return aligner


def test_find_takes_the_run_above_threshold_and_none_when_nothing_passes(aligned, tiny, one_torch_thread):
    pairs = aligned[0]
    queries = [(english[:2], target) for english, target in pairs[:30]]
    p = float(torch.sigmoid(torch.tensor(2.0)))  # 0.881
    inside = _aligner(tiny, 2.0, min_probability=0.88)
    spans = inside.find_all(queries)
    # every word read passes: the run is the words the window holds (the whole sentence when it fits)
    encoded, _ = encode_pairs(inside.tokenizer, queries, 64)
    assert spans == [(0, sum(q >= 0 for q in item.first) - 1) for item in encoded]
    assert any(s == (0, len(t) - 1) for s, (_, t) in zip(spans, queries))
    assert any(s[1] < len(t) - 1 for s, (_, t) in zip(spans, queries))  # cut-off words count as outside
    probabilities = inside.word_probabilities(queries[:3])
    assert probabilities[0][0] == pytest.approx(p, abs=1e-5)
    assert inside.find(*queries[0]) == spans[0]
    above = _aligner(tiny, 2.0, min_probability=0.89)  # the same head, a threshold just above it
    assert above.find_all(queries) == [None] * len(queries)
    assert _aligner(tiny, -3.0).find(*queries[0]) is None


def test_find_in_batches_equals_one_by_one(aligned, tiny, one_torch_thread):
    pairs = aligned[0]
    aligner = EntityAligner.from_encoder(tiny, 64, 0.5, seed=4, eval_batch_size=7)
    queries = [(english[-3:], target) for english, target in pairs[:20]]
    together = aligner.word_probabilities(queries)
    for query, probabilities in zip(queries, together):
        alone = aligner.word_probabilities([query])[0]
        assert alone == pytest.approx(probabilities, abs=1e-5)
    threshold = sorted(p for row in together for p in row)[len(together) * 4]  # some words pass, some not
    aligner.min_probability = threshold
    assert aligner.find_all(queries) == [longest_run(p, threshold) for p in together]


def test_training_fits_the_examples(aligned, tiny, one_torch_thread):
    """The labels reach the loss the right way round: after training, the examples' inside words are found
    far better than by the random head (a tiny encoder memorises; it cannot translate)."""
    pairs, tags, _ = aligned
    # links between identical words (names cross unchanged), not eflomal's: eflomal cannot be seeded, and
    # the same examples every time keep this test's threshold meaningful
    links = [[(i, j) for i, e in enumerate(english) for j, t in enumerate(target) if e == t] for english, target in pairs]
    examples = build_examples(pairs, tags, links, 64, 0.25, seed=1)
    queries, gold = [(e.entity, e.target) for e in examples], [e.labels for e in examples]
    aligner = EntityAligner.from_encoder(tiny, 64, 0.5, seed=1)
    before = word_scores(aligner.word_probabilities(queries), gold, 0.5)
    report = aligner.train(examples, 20.0, 5e-3, 8, seed=1, embeddings="full")
    after = word_scores(aligner.word_probabilities(queries), gold, 0.5)
    assert report.steps == 20 * -(-report.examples // 8)  # 20 epochs of batches of 8
    assert report.examples + report.heldout["examples"] <= len(examples) and report.heldout["examples"] > 0
    assert after["f1"] > before["f1"] + 35 and after["precision"] > 80, (before, after)


def test_spans_become_tags_or_a_drop_reason():
    tags = ["O", "B-ORG", "I-ORG", "O", "B-PER"]
    assert project_spans(tags, 6, [(3, 5), (0, 0)]) == (["B-PER", "O", "O", "B-ORG", "I-ORG", "I-ORG"], "")
    assert project_spans(tags, 6, [(3, 5), None]) == (None, UNMAPPED_ENTITY)
    assert project_spans(tags, 6, [(1, 3), (3, 3)]) == (None, OVERLAPPING_ENTITIES)
    assert project_spans(["O", "O"], 3, []) == (["O"] * 3, "")


# --- (d) the stage end to end -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def forty_pairs(parallel_file, teacher, tmp_path_factory) -> Path:
    """40 real pairs as a parallel file: 30 whose English side the tiny teacher tags with an entity (a random
    tiny teacher tags few, and which ones varies with its tokenizer's training), 10 it tags nothing in."""
    from zsner.data.conll import Sentence
    from zsner.transfer.bundle import model_from_payload
    from zsner.transfer.predict import encode_corpus, predict_encoded

    pairs = [pair for pair in read_parallel(parallel_file, limit=2000) if len(pair[1]) <= 30]
    payload = torch.load(teacher / "best-src-dev.pt", map_location="cpu", weights_only=False)
    model, tokenizer = model_from_payload(payload, teacher / "best-src-dev.pt")
    corpus = encode_corpus(tokenizer, [Sentence(en) for en, _ in pairs], payload["max_subwords"], 64)
    tagged = predict_encoded(model, corpus, payload["tags"], payload["scheme"])
    with_entities = [pair for pair, tags in zip(pairs, tagged) if chunks(tags)][:30]
    without = [pair for pair, tags in zip(pairs, tagged) if not chunks(tags)][:10]
    assert len(with_entities) == 30, "the tiny teacher tags too few of these sentences"
    chosen = [pair for i, pair in enumerate(with_entities) for pair in ([pair, without[i // 3]] if i % 3 == 0 else [pair])]
    out = tmp_path_factory.mktemp("forty") / "en-es.tsv"
    out.write_text("".join(f"{' '.join(en)}\t{' '.join(es)}\n" for en, es in chosen), "utf-8")
    return out


def test_the_stage_projects_with_the_alignment_model_and_trains_a_student(tmp_path, slices, tiny, teacher,
                                                                        forty_pairs, one_torch_thread):
    pytest.importorskip("eflomal")
    from collections import Counter

    from zsner.data.conll import Sentence
    from zsner.projection import entityalign_stage
    from zsner.projection.teacher import tag as teacher_tag

    # a threshold a barely trained model passes, so that entities map and both keeping and dropping happen
    table = {"parallel": str(forty_pairs), "train_examples": 80, "epochs": 2.0, "batch_size": 8, "lr": 1e-3,
             "min_probability": 0.01}
    path = stage_recipe(tmp_path, slices, tiny, teacher, epochs=0.5, entityalign=table)
    loaded = load_stage_recipe(path, "entityalign")
    labels = entityalign_stage.label(loaded, torch.device("cpu"))
    pairs = read_parallel(forty_pairs)
    assert len(labels.sentences) == len(pairs) == 40
    facts = labels.facts
    assert facts["english_entities"] > 0 and 0 < facts["align_negatives"] < facts["align_examples"] <= 80
    assert set(facts["align_heldout"]) >= {"precision", "recall", "f1"} and facts["align_train_seconds"] >= 0
    assert facts["align_train_steps"] > 0 and facts["align_cut_words"] > 0  # 32-sub-word windows cut
    english, _ = teacher_tag(loaded, [Sentence(en) for en, _ in pairs], torch.device("cpu"), "test")
    assert facts["english_entities"] == sum(len(chunks(t)) for t in english)
    for (_, target), en_tags, sentence, keep in zip(pairs, english, labels.sentences, labels.kept):
        assert sentence.tokens == target
        if keep:  # one target span per English entity, same types (pairs without entities: all O)
            assert Counter(k for k, _, _ in chunks(sentence.tags)) == Counter(k for k, _, _ in chunks(en_tags))
        else:
            assert set(sentence.tags) == {"O"}
    assert set(labels.dropped) <= {UNMAPPED_ENTITY, OVERLAPPING_ENTITIES}
    assert any(keep and set(s.tags) != {"O"} for s, keep in zip(labels.sentences, labels.kept))
    # run_stage: the same stage, written to pseudo/, then the student
    run = tmp_path / "entityalign"
    metrics = run_stage(loaded, run)
    report = json.loads((run / "pseudo/report.json").read_text())
    assert report["sentences_in"] == 40 and report["kept"] + sum(report["dropped"].values()) == 40
    assert report["kept"] == len(read_conll(run / "pseudo/labels.conll"))
    assert sum(report["entities"].values()) == sum(
        len(chunks(s.tags)) for s in read_conll(run / "pseudo/labels.conll"))
    assert (run / "metrics.json").is_file() and metrics["pseudo"] == report
    assert metrics["model"] == "entityalign-linear-reweighted" and "quality" not in report
    # a text in which the teacher finds no entity: every pair kept, all O, no alignment model trained
    plain = tmp_path / "plain.tsv"
    plain.write_text("".join(f"{' '.join(en)}\t{' '.join(es)}\n" for (en, es), t in zip(pairs, english)
                             if not chunks(t)), "utf-8")
    quiet = entityalign_stage.label(load_stage_recipe(path, "entityalign", {"stages.entityalign.parallel": str(plain)}),
                                    torch.device("cpu"))
    assert all(quiet.kept) and len(quiet.kept) == 10 and all(set(s.tags) == {"O"} for s in quiet.sentences)
    assert quiet.facts["align_examples"] == 0 and quiet.facts["align_heldout"]["f1"] is None
    # the report carries the stage's facts (eflomal is not seeded: the second labelling's examples may differ)
    assert report["stage"] == "entityalign" and report["english_entities"] == facts["english_entities"]
    assert report["align_examples"] > report["align_negatives"] > 0 and "f1" in report["align_heldout"]


# --- (e) bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("content, where, what", [
    ("", "", "holds no sentence pair"),
    ("one two\tuno dos\nthree\ttres\nfour five six\n", ":3", "one tab"),
])
def test_bad_parallel_text_is_one_line_naming_file_and_line(tmp_path, slices, tiny, teacher, content, where, what):
    bad = tmp_path / "bad.tsv"
    bad.write_text(content, "utf-8")
    path = stage_recipe(tmp_path, slices, tiny, teacher, entityalign={"parallel": str(bad)})
    with pytest.raises(ZsnerError) as caught:
        run_stage(load_stage_recipe(path, "entityalign"), tmp_path / "run")
    message = str(caught.value)
    assert message.startswith(f"{bad}{where}: ") and what in message and "\n" not in message
    assert not (tmp_path / "run" / "pseudo").exists()
