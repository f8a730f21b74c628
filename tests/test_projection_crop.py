"""CROP (zsner.projection.crop, translate, crop_stage): markers, lexical matching, the two translators, and
the stage end to end on real CoNLL Spanish — with Debian's Apertium where it is installed, and with a tiny
randomly initialised Marian model built from a config for the Hugging Face path (which cannot load a real
MT model offline)."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from transfer_fixtures import stage_recipe
from zsner.data.conll import read_conll
from zsner.errors import ZsnerError
from zsner.projection import crop
from zsner.projection.config import load_stage_recipe
from zsner.projection.crop import ALONE, ENGLISH, MARKED, OVERLAPPING_ENTITIES, UNMATCHED_ENTITY, Entity
from zsner.projection.crop_stage import EMPTY_TRANSLATION, match_back
from zsner.projection.run import run_stage
from zsner.projection.translate import ApertiumTranslator, Seq2SeqTranslator, translators

pytest.importorskip("transformers")
apertium = pytest.mark.skipif(shutil.which("apertium") is None,
                              reason="apertium not installed (embeddings/install_sources.sh translators)")


# --- markers -------------------------------------------------------------------------------------


def test_mark_wraps_each_entity_and_the_spans_come_back():
    tokens = "Peter Blackburn met the European Commission in Brussels & Co".split()
    tags = ["B-PER", "I-PER", "O", "O", "B-ORG", "I-ORG", "O", "B-LOC", "O", "O"]
    marked = crop.mark(tokens, tags, lambda w: w.replace("&", "&amp;"))
    assert marked == ("<b1>Peter Blackburn</b1> met the <b2>European Commission</b2> in <b3>Brussels</b3> "
                      "&amp; Co")
    assert crop.marked_spans(marked, 3) == {1: "Peter Blackburn", 2: "European Commission", 3: "Brussels"}


def test_lost_doubled_empty_and_stray_markers_give_no_span():
    text = "<b1>Juan</b1> y <b2>Ana</b2> <b2>Ana</b2> en <b3> </b3> <b4>la <b9>ONU</b4> &amp;"
    spans = crop.marked_spans(text, 5, lambda t: t.replace("&amp;", "&"))
    assert spans == {1: "Juan", 4: "la ONU"}  # 2 doubled, 3 empty, 5 lost; the stray <b9> is removed


# --- matching ------------------------------------------------------------------------------------


def entity(kind, english, *candidates):
    return Entity(kind, tuple(english.split()), tuple((k, tuple(w.split())) for k, w in candidates))


def test_project_matches_exact_then_without_case_and_accents():
    sentence = "El presidente de PERU visitó la Unión Europea".split()
    result = crop.project(sentence, [entity("LOC", "Peru", (MARKED, "Perú")),
                                     entity("ORG", "European Union", (MARKED, "Unión Europea"))])
    assert result.tags == ["O", "O", "O", "B-LOC", "O", "O", "B-ORG", "I-ORG"]
    assert result.matched_by == [MARKED, MARKED] and result.reason is None


def test_project_tries_the_next_candidate_and_drops_an_unmatched_entity():
    sentence = "el sistema judicial australiano".split()
    placed = crop.project(sentence, [entity("MISC", "Australian", (MARKED, "judicial tribunal"),
                                            (ALONE, "australiano"), (ENGLISH, "Australian"))])
    assert placed.tags == ["O", "O", "O", "B-MISC"] and placed.matched_by == [ALONE]
    missing = crop.project(sentence, [entity("LOC", "Perth", (MARKED, "Pert"), (ENGLISH, "Perth"))])
    assert missing.tags is None and missing.reason == UNMATCHED_ENTITY


def test_project_overlaps_repeats_and_second_occurrences():
    sentence = "Madrid y Madrid Norte".split()
    twice = crop.project(sentence, [entity("LOC", "Madrid", (MARKED, "Madrid")),
                                    entity("LOC", "Madrid", (MARKED, "Madrid"))])
    assert twice.tags == ["B-LOC", "O", "B-LOC", "O"]  # the second takes the next free occurrence
    once = crop.project("Madrid gana".split(), [entity("ORG", "Madrid", (MARKED, "Madrid")),
                                                entity("ORG", "Madrid", (MARKED, "Madrid"))])
    assert once.tags == ["B-ORG", "O"]  # a repeated name translated once counts once
    clash = crop.project("Real Madrid gana".split(), [entity("ORG", "Real Madrid", (MARKED, "Real Madrid")),
                                                      entity("LOC", "Madrid", (MARKED, "Madrid"))])
    assert clash.tags is None and clash.reason == OVERLAPPING_ENTITIES


def test_a_marked_translation_unrelated_to_the_entity_is_tried_last():
    order = crop.candidates_of(("sistema", "judicial"), ("australiano",), ("Australian",))
    assert [k for k, _ in order] == [ALONE, ENGLISH, MARKED]
    kept = crop.candidates_of(("Comisión", "Europea"), ("comisión", "europea"), ("European", "Commission"))
    assert [k for k, _ in kept] == [MARKED, ALONE, ENGLISH]
    assert [k for k, _ in crop.candidates_of((), ("x",), ("y",))] == [ALONE, ENGLISH]


# --- translators ---------------------------------------------------------------------------------


@apertium
def test_apertium_keeps_one_line_per_sentence_and_carries_markers(slices):
    spanish = [" ".join(s.tokens) for s in read_conll(slices["es_test"])][:30]
    spanish[3] = spanish[3] + " & <3 AT&T"  # HTML-special characters in the text itself
    to_english, from_english = translators("apertium", "es", "", "")
    english = [to_english.unescape(t) for t in to_english.translate([to_english.escape(t) for t in spanish])]
    assert len(english) == len(spanish) and all(english)
    assert english[3].endswith("& <3 AT&T")
    back = from_english.translate(["The president met <b1>Peter Blackburn</b1> in <b2>Brussels</b2> ."])
    assert crop.marked_spans(back[0], 2) == {1: "Peter Blackburn", 2: "Bruselas"}


def test_translator_errors_are_one_line(tmp_path):
    with pytest.raises(ZsnerError, match="to_english and from_english"):
        translators("hf", "es", "", "")
    with pytest.raises(ZsnerError, match="no config.json"):
        Seq2SeqTranslator(tmp_path)
    if shutil.which("apertium"):
        with pytest.raises(ZsnerError, match="no mode 'nld-eng'"):
            ApertiumTranslator("nld-eng")


@pytest.fixture(scope="module")
def tiny_marian(tmp_path_factory) -> Path:
    """A randomly initialised two-layer Marian model with a tiny XLM-R-style tokenizer: the seq2seq code
    path only (no MT model can be loaded offline)."""
    from transformers import AutoTokenizer, MarianConfig, MarianMTModel

    from zsner.encoders.tiny import build_tiny_encoder

    folder = build_tiny_encoder(tmp_path_factory.mktemp("marian") / "tok", "xlm-roberta", vocab_size=200)
    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    config = MarianConfig(vocab_size=len(tokenizer), d_model=16, encoder_layers=1, decoder_layers=1,
                          encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
                          decoder_ffn_dim=32, max_position_embeddings=64, pad_token_id=tokenizer.pad_token_id,
                          eos_token_id=tokenizer.eos_token_id, decoder_start_token_id=tokenizer.pad_token_id,
                          forced_eos_token_id=tokenizer.eos_token_id)
    torch.manual_seed(0)
    out = folder.parent / "marian"
    MarianMTModel(config).save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    return out


def test_seq2seq_translator_gives_one_output_per_input(tiny_marian):
    translator = Seq2SeqTranslator(tiny_marian, batch_size=3)
    texts = ["El presidente de Perú viajó a Madrid .", "Hola", "<b1>Peter</b1> lives in Brussels ."] * 2
    out = translator.translate(texts)
    assert len(out) == len(texts) and out[:3] == out[3:]  # greedy decoding: the same input, the same output


# --- the stage ------------------------------------------------------------------------------------


def _check_report(run: Path, sentences_in: int) -> dict:
    report = json.loads((run / "pseudo/report.json").read_text())
    assert report["sentences_in"] == sentences_in
    assert report["kept"] + sum(report["dropped"].values()) == sentences_in
    assert set(report["dropped"]) <= {UNMATCHED_ENTITY, OVERLAPPING_ENTITIES, EMPTY_TRANSLATION}
    return report


@apertium
def test_crop_stage_with_apertium_end_to_end(tmp_path, slices, tiny, teacher, one_torch_thread):
    path = stage_recipe(tmp_path, slices, tiny, teacher, epochs=0.5, crop={"translator": "apertium"})
    run = tmp_path / "crop"
    metrics = run_stage(load_stage_recipe(path, "crop"), run)
    gold = read_conll(slices["es_dev"])
    report = _check_report(run, len(gold))
    assert report["to_english"] == "apertium spa-eng" and report["from_english"] == "apertium eng-spa"
    written = read_conll(run / "pseudo/labels.conll")
    assert len(written) == report["kept"]
    kept_tokens = [s.tokens for s in written]
    assert all(tokens in [g.tokens for g in gold] for tokens in kept_tokens)  # the original sentences, not translations
    assert "quality" in report and metrics["stage"] == "crop" and (run / "metrics.json").is_file()


def test_a_translator_that_drops_markers_falls_back_to_matching_and_counts_drops(tiny_marian):
    """The tiny random Marian model loses every marker: each entity is then matched by its other candidates
    (here the English words: "Peru" finds "Perú" without accents), and one that matches nowhere drops its
    sentence with a reason — no crash, no silently wrong tag."""
    from zsner.data.conll import Sentence

    sentences = [Sentence("El presidente de Perú viajó a Madrid .".split()),
                 Sentence("Bob no vino .".split()), Sentence("Nada que ver .".split()), Sentence(["Hola"])]
    english = ["The president of Peru travelled to Madrid .".split(), "Roberto did not come .".split(),
               "Nothing to see .".split(), []]
    tags = [["O", "O", "O", "B-LOC", "O", "O", "B-LOC", "O"], ["B-PER", "O", "O", "O", "O"], ["O"] * 4, []]
    translator = Seq2SeqTranslator(tiny_marian)
    back = translator.translate([crop.mark(english[0], tags[0])])
    labels = match_back(sentences, english, tags, translator, "es")
    assert labels.facts["markers_lost"] == 3 - sum(len(crop.marked_spans(b, 2)) for b in back)  # what came back, counted
    assert labels.sentences[0].tags == ["O", "O", "O", "B-LOC", "O", "O", "B-LOC", "O"]
    assert labels.kept == [True, False, True, False]
    assert labels.dropped == {UNMATCHED_ENTITY: 1, EMPTY_TRANSLATION: 1}
    assert labels.sentences[2].tags == ["O"] * 4  # no English entity: kept, all O


def test_crop_stage_with_a_seq2seq_folder_runs_end_to_end(tmp_path, slices, tiny, teacher, tiny_marian,
                                                         one_torch_thread):
    settings = {"translator": "hf", "to_english": str(tiny_marian), "from_english": str(tiny_marian),
                "batch_size": 8}
    path = stage_recipe(tmp_path, slices, tiny, teacher, epochs=0.5, crop=settings)
    metrics = run_stage(load_stage_recipe(path, "crop"), tmp_path / "crop-hf")
    report = _check_report(tmp_path / "crop-hf", len(read_conll(slices["es_dev"])))
    assert report["to_english"] == f"seq2seq {tiny_marian}" and metrics["stage"] == "crop"
    # a row of the pair's comparison, beside CROP's published figure
    result = subprocess.run([sys.executable, "-m", "zsner", "compare", "es", "--runs", str(tmp_path),
                             "--out", str(tmp_path / "compare-es")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    [row] = [line for line in (tmp_path / "compare-es.md").read_text().splitlines() if line.startswith("| crop-")]
    assert f"| {metrics['f1_tgt_dev_selected']:.2f} | {metrics['f1_src_dev_selected']:.2f} |" in row
    assert row.endswith("| crop 78.1 |")


def test_published_figures_beside_each_stage():
    from zsner.compare import reference

    assert reference("en-es", "crop-linear-reweighted") == "crop 78.1"
    assert reference("en-de", "entityalign-linear-ce") == "mbert 74.6, xlmr-large 76.9"
    assert reference("en-es", "transfer-linear") == "mbert 75.2, xlmr-large 80.8"
    assert reference("en-es", "selftrain-linear-reweighted") == ""  # no published row


@pytest.mark.parametrize("stage", ["selftrain", "crop"])
def test_stages_that_label_target_text_never_read_its_gold_tags(stage, tmp_path, slices, tiny, teacher, tiny_marian,
                                                                one_torch_thread):
    """Zero-resource: [target] unlabelled is the CoNLL train file, gold tags included. With those tags
    scrambled, a stage's pseudo-labels and keep flags must not change (only the report's quality score may)."""
    from cross_fixtures import scramble_tags
    from zsner.projection.run import labeller

    crop_settings = {"translator": "hf", "to_english": str(tiny_marian), "from_english": str(tiny_marian)}
    path = stage_recipe(tmp_path, slices, tiny, teacher, crop=crop_settings)
    blind = scramble_tags(slices["es_dev"], tmp_path / "esp.testa.scrambled", 7)
    assert blind.read_text() != slices["es_dev"].read_text()
    text = path.read_text()
    blind_path = tmp_path / "blind.toml"
    blind_path.write_text(text.replace(f'unlabelled = "{slices["es_dev"]}"', f'unlabelled = "{blind}"'))
    assert str(blind) in blind_path.read_text()
    seen, unseen = (labeller(stage)(load_stage_recipe(p, stage), torch.device("cpu")) for p in (path, blind_path))
    assert [s.tokens for s in seen.sentences] == [s.tokens for s in unseen.sentences]
    assert [s.tags for s in seen.sentences] == [s.tags for s in unseen.sentences] and seen.kept == unseen.kept


def test_stage_rows_are_told_apart_by_stage_settings_only(tmp_path):
    """Two self-training runs differing in their start: the comparison labels them by stages.init, not by the
    paths and [transfer] values the stage derives, nor by another stage's table."""
    from zsner.cross.table import _split_by_settings

    def run(name: str, init: str, extra_tables: dict) -> dict:
        folder = tmp_path / name
        folder.mkdir()
        config = {"seed": 1, "stage": "selftrain",
                  "transfer": {"encoder": "e5", "train": f"{folder}/pseudo/labels.conll", "init": init and "t.pt",
                               "head_lr": 2e-5 if init else 1e-3},
                  "stages": {"init": init or "encoder", "loss": "ce", "selftrain": {"min_confidence": 0.0},
                             **extra_tables}}
        (folder / "config.json").write_text(json.dumps(config))
        return {"_dir": str(folder)}

    groups = _split_by_settings([run("a", "teacher", {}), run("b", "", {"crop": {"translator": "apertium"}})])
    assert sorted(groups) == ["stages.init=encoder", "stages.init=teacher"]


@pytest.mark.parametrize("stage", ["wordalign", "entityalign"])
def test_a_parallel_text_stage_without_its_file_is_one_line(stage, tmp_path, slices, tiny, teacher):
    path = stage_recipe(tmp_path, slices, tiny, teacher, **{stage: {"parallel": ""}})
    with pytest.raises(ZsnerError, match=rf"\[stages\.{stage}\] parallel is not set"):
        load_stage_recipe(path, stage)
    load_stage_recipe(path, "selftrain")  # a stage that reads no parallel text does not care
