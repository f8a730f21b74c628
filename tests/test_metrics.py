"""conlleval-equivalent scoring: hand-checked cases (IOB1 edge cases included) and the CLI."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import REPO, corpus
from zsner.data import tags as tagging
from zsner.data.conll import read_conll
from zsner.data.tags import chunks
from zsner.metrics import read_conlleval_file, score


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


# -- imperfect output, checked against seqeval (conlleval's rules in its default mode) ------------------

def _corrupt(tags: list[str], rng) -> list[str]:
    """A plausible tagger's mistakes on IOB2 gold: wrong type, boundary off by one, an entity missed or made
    up, a stray I- opening an entity, a type change inside one; about half the sentences keep their gold."""
    from zsner.data.tags import chunks as found

    out = list(tags)
    types = ["PER", "LOC", "ORG", "MISC"]
    entities = found(out)
    kind = rng.randrange(8)
    if kind == 0 and entities:  # wrong type
        t, s, e = rng.choice(entities)
        other = rng.choice([x for x in types if x != t])
        out[s : e + 1] = [f"B-{other}"] + [f"I-{other}"] * (e - s)
    elif kind == 1 and entities:  # one word too many at the end, when there is one
        t, s, e = rng.choice(entities)
        if e + 1 < len(out) and out[e + 1] == "O":
            out[e + 1] = f"I-{t}"
    elif kind == 2 and entities:  # missed
        t, s, e = rng.choice(entities)
        out[s : e + 1] = ["O"] * (e - s + 1)
    elif kind == 3 and "O" in out:  # made up, opened with a stray I-
        i = rng.choice([i for i, x in enumerate(out) if x == "O"])
        out[i] = f"I-{rng.choice(types)}"
    elif kind == 4 and any(e > s for _, s, e in entities):  # type change inside an entity
        t, s, e = rng.choice([c for c in entities if c[2] > c[1]])
        out[e] = f"I-{rng.choice([x for x in types if x != t])}"
    return out


def _ill_formed_iobes(tags: list[str], rng) -> list[str]:
    """IOBES output a model without transition constraints produces: S-X E-X, E-X I-X, O E-X, B-X S-X, B-X O."""
    out = list(tags)
    for i, tag in enumerate(out):
        if tag == "O" or rng.random() > 0.3:
            continue
        prefix, kind = tag.split("-", 1)
        out[i] = f"{rng.choice('BIES')}-{kind}"
    return out


def _seqeval_scores(gold, guessed) -> dict:
    from seqeval.metrics import accuracy_score, classification_report, f1_score, precision_score, recall_score

    report = classification_report(gold, guessed, output_dict=True, zero_division=0)
    return {"precision": 100 * precision_score(gold, guessed), "recall": 100 * recall_score(gold, guessed),
            "f1": 100 * f1_score(gold, guessed), "accuracy": 100 * accuracy_score(gold, guessed),
            "per_type": {k: (100 * v["precision"], 100 * v["recall"], 100 * v["f1-score"], v["support"])
                         for k, v in report.items() if k.isupper()}}


def _zsner_scores(path) -> dict:
    result = subprocess.run([sys.executable, "-m", "zsner", "score", str(path), "--json"], capture_output=True,
                            text=True, cwd=REPO, check=True)
    data = json.loads(result.stdout)
    return data


@pytest.mark.parametrize("scheme", ["iob2", "iobes"])
def test_score_on_imperfect_output_equals_seqeval(tmp_path, scheme):
    """A real slice (esp.testb) with a tagger's mistakes, scored by `zsner score` and by seqeval (whose default
    mode follows conlleval): every overall and per-type figure agrees. In IOBES the predictions are also
    ill-formed (S-PER E-PER, E-X I-X, ...) and scored as they stand, each E-/S- closing its entity."""
    import random

    pytest.importorskip("seqeval")
    rng = random.Random(7)
    sentences = read_conll(corpus("conll2002/esp.testb"), encoding="latin-1")[:600]
    gold = [tagging.from_iob2(s.tags, scheme) for s in sentences]
    guessed = [_corrupt(s.tags, rng) for s in sentences]
    if scheme == "iobes":
        guessed = [_ill_formed_iobes(tagging.iob2_to_iobes(tags), rng) for tags in guessed]
    lines = []
    for s, g, p in zip(sentences, gold, guessed):
        lines += [f"{token} {a} {b}" for token, a, b in zip(s.tokens, g, p)] + [""]
    path = tmp_path / "pred.txt"
    path.write_text("\n".join(lines), encoding="utf-8")

    ours, reference = _zsner_scores(path), _seqeval_scores(gold, guessed)
    wrong = sum(g != p for gs, ps in zip(gold, guessed) for g, p in zip(gs, ps))
    assert wrong > 300  # the file really is imperfect
    for key in ("precision", "recall", "f1"):
        assert ours[key] == pytest.approx(reference[key], abs=1e-9)
    assert read_conlleval_file(path).as_dict()["accuracy"] == pytest.approx(reference["accuracy"], abs=1e-9)
    assert set(ours["per_type"]) == set(reference["per_type"])
    for kind, (p, r, f, _) in reference["per_type"].items():
        assert (ours["per_type"][kind]["precision"], ours["per_type"][kind]["recall"],
                ours["per_type"][kind]["f1"]) == pytest.approx((p, r, f), abs=1e-9)
    if scheme == "iobes":  # the conversion every evaluation applies changes no score
        converted = score(gold, [tagging.iobes_to_iob2(p) for p in guessed]).as_dict()
        assert (converted["precision"], converted["recall"]) == pytest.approx((ours["precision"], ours["recall"]), abs=1e-9)


@pytest.mark.parametrize("tags, entities", [
    (["S-PER", "E-PER"], [("PER", 0, 0), ("PER", 1, 1)]),  # Lample's S→B, E→I would make this one entity
    (["S-PER", "S-PER"], [("PER", 0, 0), ("PER", 1, 1)]),  # raw conlleval.pl (no S rule) would too
    (["B-LOC", "E-LOC", "I-LOC", "E-LOC"], [("LOC", 0, 1), ("LOC", 2, 3)]),
    (["O", "E-ORG", "B-ORG"], [("ORG", 1, 1), ("ORG", 2, 2)]),
    (["B-PER", "I-PER", "E-PER", "O"], [("PER", 0, 2)]),
])
def test_ill_formed_iobes_keeps_its_entities_through_the_conversion(tags, entities):
    assert chunks(tags) == entities
    assert chunks(tagging.iobes_to_iob2(tags)) == entities


def test_iobes_conversion_never_changes_the_entities_of_any_sequence():
    """Every sequence of length <= 4 over O and B/I/E/S of two types: IOBES → IOB2 keeps the chunks."""
    import itertools

    alphabet = ["O"] + [f"{p}-{t}" for p in "BIES" for t in ("PER", "LOC")]
    for n in range(1, 5):
        for tags in itertools.product(alphabet, repeat=n):
            assert chunks(tagging.iobes_to_iob2(tags)) == chunks(tags), tags
