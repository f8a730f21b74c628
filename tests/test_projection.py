"""Pseudo-labelling stages (zsner.projection) end to end on a tiny random encoder over real CoNLL slices:
the self-training stage's pseudo-labels, their report and quality, the student's start, loss and frozen
layers, resume, and one-line errors. The loss formulas are checked in tests/test_transfer_losses.py."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import REPO
from transfer_fixtures import stage_recipe
from zsner.data.conll import Sentence, read_conll
from zsner.data.tags import iob1_to_iob2
from zsner.errors import ZsnerError
from zsner.metrics import score
from zsner.projection.config import load_stage_recipe
from zsner.projection.run import run_stage

pytest.importorskip("transformers")


def _teacher_labels(teacher: Path, sentences):
    from zsner.transfer.bundle import model_from_payload
    from zsner.transfer.predict import encode_corpus, predict_with_confidence

    payload = torch.load(teacher / "best-src-dev.pt", map_location="cpu", weights_only=False)
    model, tokenizer = model_from_payload(payload, teacher / "best-src-dev.pt")
    corpus = encode_corpus(tokenizer, sentences, payload["max_subwords"], 16)
    return predict_with_confidence(model, corpus, payload["tags"], payload["scheme"])


def test_selftrain_labels_the_unlabelled_text_reports_and_trains_a_student(tmp_path, slices, tiny, teacher,
                                                                           one_torch_thread):
    loaded = load_stage_recipe(stage_recipe(tmp_path, slices, tiny, teacher, selftrain={"min_confidence": 0.5}),
                               "selftrain")
    run = tmp_path / "selftrain"
    metrics = run_stage(loaded, run)
    gold = read_conll(slices["es_dev"])
    tags, confidence = _teacher_labels(teacher, gold)
    kept = [min(c) >= 0.5 for c in confidence]
    assert 0 < kept.count(True) < len(gold)  # the threshold keeps some and drops some
    report = json.loads((run / "pseudo/report.json").read_text())
    assert report["sentences_in"] == len(gold) and report["kept"] == kept.count(True)
    assert report["dropped"] == {"low_confidence": kept.count(False)}
    written = read_conll(run / "pseudo/labels.conll")
    valid = [iob1_to_iob2(t) for t in tags]  # an entity the head opened with I- is read as conlleval reads it
    assert [s.tags for s in written] == [t for t, keep in zip(valid, kept) if keep]  # the teacher's tags, kept ones
    assert report["repaired_tags"] == sum(a != b for v, t in zip(valid, tags) for a, b in zip(v, t))
    # quality: the pseudo-labels scored against the gold tags the stage never trained on
    expected = score([g.tags for g in gold], tags)
    assert report["quality"]["all"]["f1"] == pytest.approx(expected.f1, abs=0.01)
    assert metrics["pseudo"] == report and metrics["model"] == "selftrain-linear-reweighted"
    assert json.loads((run / "config.json").read_text())["transfer"]["train"] == str(run / "pseudo/labels.conll")
    # the student's bundle tags by itself: `zsner evaluate --model RUN` reproduces its F1•
    result = subprocess.run([sys.executable, "-m", "zsner", "evaluate", "--model", str(run), str(slices["es_test"]),
                             "--json"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["f1"] == pytest.approx(metrics["f1_tgt_dev_selected"], abs=0.01)
    # run again: finished, nothing relabelled; another setting without --restart is refused
    stamp = (run / "pseudo/report.json").stat().st_mtime_ns
    assert run_stage(loaded, run)["f1_tgt_dev_selected"] == metrics["f1_tgt_dev_selected"]
    assert (run / "pseudo/report.json").stat().st_mtime_ns == stamp
    other = load_stage_recipe(stage_recipe(tmp_path, slices, tiny, teacher, loss="ce"), "selftrain")
    with pytest.raises(ZsnerError, match="different recipe"):
        run_stage(other, run)
    # the CE ablation on the same labels: copied, not relabelled, and said so in the report
    ce = run_stage(other, tmp_path / "ce", labels_from=run)
    assert (tmp_path / "ce/pseudo/labels.conll").read_text() == (run / "pseudo/labels.conll").read_text()
    assert ce["pseudo"] == {**report, "labels_from": str(run)} and ce["model"] == "selftrain-linear-ce"
    with pytest.raises(ZsnerError, match="no finished pseudo-labels"):
        run_stage(other, tmp_path / "ce2", labels_from=tmp_path / "nowhere")


def test_a_student_that_does_not_move_is_its_teacher(tmp_path, slices, tiny, teacher, one_torch_thread):
    """The student starts from the teacher's weights (encoder and head): with a step size of 1e-12 it tags the
    target test set exactly as the teacher does, and its bundles hold the teacher's weights it never trained."""
    path = stage_recipe(tmp_path, slices, tiny, teacher, lr=1e-12, head_lr=1e-12, freeze_layers=1, epochs=0.5)
    metrics = run_stage(load_stage_recipe(path, "selftrain"), tmp_path / "still")
    teacher_metrics = json.loads((teacher / "metrics.json").read_text())
    assert metrics["f1_src_dev_selected"] == teacher_metrics["f1_src_dev_selected"]
    predictions = "test.src-dev-selected.predictions.conll"
    assert (tmp_path / "still" / predictions).read_text() == (teacher / predictions).read_text()
    student = torch.load(tmp_path / "still/best-src-dev.pt", weights_only=False)["state_dict"]
    taught = torch.load(teacher / "best-src-dev.pt", weights_only=False)["state_dict"]
    torch.testing.assert_close(student["classifier.weight"], taught["classifier.weight"], rtol=0, atol=1e-6)
    frozen = [name for name in taught if ".layer.0." in name]
    assert frozen and all(name in student for name in frozen)  # frozen here, trained by the teacher: kept
    for name in frozen:
        torch.testing.assert_close(student[name], taught[name], rtol=0, atol=0)


def test_freezing_layers_keeps_them_and_trains_the_rest(tmp_path, slices, tiny, teacher, one_torch_thread):
    path = stage_recipe(tmp_path, slices, tiny, teacher, freeze_layers=1, lr=1e-2, epochs=0.5)
    run_stage(load_stage_recipe(path, "selftrain"), tmp_path / "frozen")
    student = torch.load(tmp_path / "frozen/last.pt", weights_only=False)["model"]
    taught = torch.load(teacher / "best-src-dev.pt", weights_only=False)["state_dict"]
    moved = {name: not torch.equal(student[name], taught[name]) for name in taught if ".layer." in name}
    assert not any(v for k, v in moved.items() if ".layer.0." in k)
    assert any(v for k, v in moved.items() if ".layer.1." in k)


def test_the_report_counts_what_was_kept_and_scores_it_against_gold(slices):
    """Gold Spanish sentences as pseudo-labels, every other one's entities erased and dropped: the kept half
    scores 100, all of them score precision 100 and the recall of the entities left."""
    from collections import Counter

    from zsner.data.conll import Sentence
    from zsner.data.tags import chunks
    from zsner.projection.pseudo import PseudoLabels, quality

    gold = read_conll(slices["es_dev"])
    labelled = [Sentence(g.tokens, g.tags if i % 2 == 0 else ["O"] * len(g), g.line) for i, g in enumerate(gold)]
    kept = [i % 2 == 0 for i in range(len(gold))]
    labels = PseudoLabels("test", labelled, kept, Counter(erased=kept.count(False)))
    report = labels.report()
    entities = Counter(kind for g in gold[::2] for kind, _, _ in chunks(g.tags))
    assert report["entities"] == dict(sorted(entities.items())) and sum(entities.values()) > 20
    assert report["kept"] == len(gold[::2]) and report["dropped"] == {"erased": len(gold[1::2])}
    scores = quality(labels, gold)
    left = sum(entities.values()) / sum(len(chunks(g.tags)) for g in gold)
    assert scores["kept"] == {"precision": 100.0, "recall": 100.0, "f1": 100.0}
    assert scores["all"]["precision"] == 100.0 and scores["all"]["recall"] == pytest.approx(100 * left, abs=0.01)
    with pytest.raises(ValueError, match="reason"):
        PseudoLabels("test", labelled, kept, Counter())
    opened_with_i = PseudoLabels("test", [Sentence(["a", "b", "c"], ["I-PER", "I-LOC", "O"])], [True])
    assert opened_with_i.sentences[0].tags == ["B-PER", "B-LOC", "O"] and opened_with_i.report()["repaired_tags"] == 2


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "zsner", *args], cwd=REPO, capture_output=True, text=True)


def test_bad_stage_input_is_one_line(tmp_path, slices, tiny, teacher):
    cases = [({"teacher": str(tmp_path / "nowhere.pt")}, "the model to start from is not there"),
             ({"teacher": str(teacher)}, "is a folder; name one of its bundles"),
             ({"loss": "hinge"}, "[stages] loss = 'hinge' should be one of ce, focal, reweighted"),
             ({"selftrain": {"min_confidence": 1.5}}, "min_confidence is a probability"),
             ({"selftrain": {"min_confidence": 1.0}}, "kept no sentence of 40")]
    for index, (settings, message) in enumerate(cases):
        path = stage_recipe(tmp_path, slices, tiny, teacher, **settings)
        result = _cli("stage", "selftrain", str(path), "--run-dir", str(tmp_path / f"run{index}"))
        assert result.returncode == 2, (settings, result.stderr[-800:])
        errors = [line for line in result.stderr.splitlines() if "error" in line.lower() or "Traceback" in line]
        assert len(errors) == 1 and message in errors[0] and errors[0].startswith("zsner: error:"), result.stderr
    crf = stage_recipe(tmp_path, slices, tiny, teacher)
    with pytest.raises(ZsnerError, match="needs \\[transfer\\] head"):
        load_stage_recipe(crf, "selftrain", {"transfer.head": "crf"})


@pytest.fixture(scope="module")
def parallel_es(tmp_path_factory) -> Path:
    """Real en-es pairs: three LibreOffice help pages paired by element id (skipped without the help)."""
    from zsner.embeddings import sources
    from zsner.embeddings.parallel import build_parallel

    why = sources._missing_libreoffice("es")
    if why:
        pytest.skip(why)
    pytest.importorskip("eflomal")
    out = tmp_path_factory.mktemp("parallel") / "en-es.tsv"
    build_parallel("es", "libreoffice", out, only=["text/swriter/guide/anchor_object.html",
                                                   "text/shared/guide/insert_bitmap.html",
                                                   "text/scalc/guide/cellstyle_by_formula.html"])
    return out


def test_wordalign_projects_each_english_entity_once_or_drops_the_pair(tmp_path, slices, tiny, teacher, parallel_es,
                                                                       one_torch_thread):
    """Every kept pair carries exactly the English side's entities (one target span each, same types); every
    dropped pair is counted with its reason; the student trains on the kept target sides."""
    from collections import Counter

    from zsner.data.tags import chunks
    from zsner.projection import wordalign_stage
    from zsner.projection.wordalign import read_parallel

    path = stage_recipe(tmp_path, slices, tiny, teacher, epochs=0.5)
    loaded = load_stage_recipe(path, "wordalign", {"stages.wordalign.parallel": str(parallel_es)})
    labels = wordalign_stage.label(loaded, torch.device("cpu"))
    pairs = read_parallel(parallel_es)
    english, _ = _teacher_labels(teacher, [Sentence(en) for en, _ in pairs])
    assert len(labels.sentences) == len(pairs) > 20 and labels.facts["english_entities"] > 0
    for (en, target), en_tags, sentence, keep in zip(pairs, english, labels.sentences, labels.kept):
        assert sentence.tokens == target
        if keep:
            assert Counter(kind for kind, _, _ in chunks(sentence.tags)) == Counter(kind for kind, _, _ in chunks(en_tags))
        else:
            assert set(sentence.tags) == {"O"}
    assert sum(labels.dropped.values()) == labels.kept.count(False)
    assert set(labels.dropped) <= {"unaligned_entity", "overlapping_entities"}
    metrics = run_stage(loaded, tmp_path / "wordalign")
    assert metrics["model"] == "wordalign-linear-reweighted" and "quality" not in metrics["pseudo"]
    assert metrics["pseudo"]["kept"] == len(read_conll(tmp_path / "wordalign/pseudo/labels.conll"))


def test_the_student_trains_on_the_pseudo_labels_with_or_without_english(tmp_path, slices, tiny, teacher):
    from zsner.transfer.trainer import read_sets

    for with_source in (False, True):
        loaded = load_stage_recipe(stage_recipe(tmp_path, slices, tiny, teacher, with_source=with_source), "selftrain")
        pseudo = tmp_path / "labels.conll"
        pseudo.write_text("El B-PER\nrey I-PER\nllegó O\n\nHola O\n", "utf-8")
        student = loaded.student(pseudo)
        assert student.transfer.init == loaded.stages.teacher and student.transfer.loss == "reweighted"
        train = read_sets(student)["train"]
        english = read_conll(slices["en_train"], scheme="iob1")
        assert [s.tokens for s in train[-2:]] == [["El", "rey", "llegó"], ["Hola"]]
        assert len(train) == 2 + (len(english) if with_source else 0)
    bare = load_stage_recipe(stage_recipe(tmp_path, slices, tiny, teacher, init="encoder"), "selftrain").student(pseudo)
    assert bare.transfer.init == "" and bare.transfer.head_lr == loaded.transfer.head_lr > bare.transfer.lr
