"""conlleval-equivalent scoring: hand-checked cases (IOB1 edge cases included) and the CLI."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import REPO, corpus
from zsner.data import tags as tagging
from zsner.data.conll import read_conll
from zsner.metrics import chunks, read_conlleval_file, score


@pytest.mark.parametrize("tags, expected", [
    # IOB1: I- opens an entity; B- separates two adjacent entities of one type.
    (["I-PER", "I-PER", "B-PER", "O"], [("PER", 0, 1), ("PER", 2, 2)]),
    (["I-PER", "I-LOC"], [("PER", 0, 0), ("LOC", 1, 1)]),
    # IOB2 with errors conlleval tolerates: stray I- starts a chunk, type change splits.
    (["O", "I-ORG", "I-ORG"], [("ORG", 1, 2)]),
    (["B-PER", "I-LOC", "I-LOC"], [("PER", 0, 0), ("LOC", 1, 2)]),
    (["B-PER", "B-PER", "I-PER"], [("PER", 0, 0), ("PER", 1, 2)]),
    # IOBES.
    (["S-PER", "B-LOC", "E-LOC", "S-LOC", "O", "E-ORG"], [("PER", 0, 0), ("LOC", 1, 2), ("LOC", 3, 3), ("ORG", 5, 5)]),
    ([], []),
    (["O", "O"], []),
])
def test_chunks_by_hand(tags, expected):
    assert chunks(tags) == expected


def test_scores_by_hand():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    guess = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "B-MISC"]]
    s = score(gold, guess).as_dict()
    # gold 3 chunks; guessed 4; correct 2 (PER, ORG) → P 50, R 66.67, F1 57.14
    assert (s["phrases"], s["found"], s["correct"]) == (3, 4, 2)
    assert s["precision"] == pytest.approx(50.0)
    assert s["recall"] == pytest.approx(200 / 3)
    assert s["f1"] == pytest.approx(2 * 50 * (200 / 3) / (50 + 200 / 3))
    assert s["per_type"]["LOC"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "found": 0}
    assert s["per_type"]["MISC"]["found"] == 1
    assert s["accuracy"] == pytest.approx(100 * 4 / 6)


def test_iob1_and_iob2_score_identically_on_real_data():
    """conlleval reads IOB1 directly; converting to IOB2 first must not change a single chunk."""
    path = corpus("conll2003/eng.testb")
    raw = []
    for line in path.read_text(encoding="ascii").split("\n\n"):
        tags = [row.split()[-1] for row in line.splitlines() if row.strip() and not row.startswith("-DOCSTART-")]
        if tags:
            raw.append(tags)
    iob2 = [s.tags for s in read_conll(path, scheme="iob1")]
    assert len(raw) == len(iob2)
    assert all(chunks(r) == chunks(c) for r, c in zip(raw, iob2))
    assert sum(len(chunks(c)) for c in iob2) == 5648  # entities in eng.testb (CoNLL-2003 paper)


def test_report_format_matches_conlleval():
    report = score([["B-PER", "I-PER", "O"]], [["B-PER", "I-PER", "O"]]).report().splitlines()
    assert report[0] == "processed 3 tokens with 1 phrases; found: 1 phrases; correct: 1."
    assert report[1] == "accuracy: 100.00%; precision: 100.00%; recall: 100.00%; FB1: 100.00"
    assert report[2] == "              PER: precision: 100.00%; recall: 100.00%; FB1: 100.00  1"


def _prediction_file(tmp_path):
    """Real Spanish gold tags with a systematic error: every LOC predicted as ORG."""
    sentences = read_conll(corpus("conll2002/esp.testb"), encoding="latin-1")[:200]
    lines = []
    for s in sentences:
        for token, tag in zip(s.tokens, s.tags):
            lines.append(f"{token} {tag} {tag.replace('LOC', 'ORG')}")
        lines.append("")
    path = tmp_path / "pred.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path, sentences


def test_score_command_json(tmp_path):
    path, sentences = _prediction_file(tmp_path)
    result = subprocess.run([sys.executable, "-m", "zsner", "score", str(path), "--json"], capture_output=True,
                            text=True, cwd=REPO, check=True)
    data = json.loads(result.stdout)
    gold_chunks = [c for s in sentences for c in chunks(s.tags)]
    locs = sum(c[0] == "LOC" for c in gold_chunks)
    orgs = sum(c[0] == "ORG" for c in gold_chunks)
    assert data["per_type"]["LOC"]["found"] == 0 and data["per_type"]["LOC"]["recall"] == 0.0
    assert data["per_type"]["ORG"]["found"] == locs + orgs
    assert data["per_type"]["ORG"]["precision"] == pytest.approx(100 * orgs / (locs + orgs))
    assert data["recall"] == pytest.approx(100 * (len(gold_chunks) - locs) / len(gold_chunks))
    assert set(data) == {"precision", "recall", "f1", "per_type"}
    assert read_conlleval_file(path).f1 == pytest.approx(data["f1"])


def test_score_command_bad_input_is_one_line(tmp_path):
    path, _ = _prediction_file(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[5] = lines[5] + " extra"
    path.write_text("\n".join(lines), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "zsner", "score", str(path)], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 2
    assert result.stderr.strip() == f"zsner: error: {path}:6: expected 3 columns like the first line, found 4"
    assert tagging.check_scheme("IOB2") == "iob2"
