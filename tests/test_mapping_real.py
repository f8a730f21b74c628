"""zsner.mapping on small real vectors: fastText trained here on CoNLL English and Spanish text."""
from __future__ import annotations

import json
import signal
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from zsner.embeddings.vectors import Embeddings, load_vectors, write_vec
from zsner.errors import ZsnerError
from zsner.mapping.cli import map_command
from zsner.mapping.config import MappingConfig
from zsner.mapping.pipeline import Interrupted, run_mapping
from zsner.mapping.trainer import Trainer

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CONLL = {"en": (SHARED / "ner" / "conll2003" / "eng.train", "utf-8"),
         "es": (SHARED / "ner" / "conll2002" / "esp.train", "latin-1")}  # CoNLL-2002 is Latin-1

pytestmark = pytest.mark.usefixtures("one_torch_thread")


TINY = dict(max_vocab=1500, dis_hid_dim=256, batch_size=64, n_epochs=2, epoch_size=64 * 20,
            dis_most_frequent=1000, n_refinement=2, dico_max_rank=800, criterion_words=500,
            normalize="unit,center,unit")


def sentences(path: Path, encoding: str, n: int) -> list[str]:
    out, cur = [], []
    for line in path.read_text(encoding=encoding).splitlines():
        tok = line.split(" ")[0] if line.strip() else ""
        if tok and tok != "-DOCSTART-":
            cur.append(tok)
        elif cur:
            out.append(" ".join(cur))
            cur = []
            if len(out) == n:
                break
    return out


@pytest.fixture(scope="session")
def real_vectors(tmp_path_factory) -> dict[str, Path]:
    """fastText skip-gram vectors (dim 32) of 4,000 sentences of each language, as .vec files."""
    fasttext = pytest.importorskip("fasttext")
    if not all(p.is_file() for p, _ in CONLL.values()):
        pytest.skip(f"shared CoNLL data not found under {SHARED}")
    d = tmp_path_factory.mktemp("vectors")
    out = {}
    for lang, (path, enc) in CONLL.items():
        corpus = d / f"{lang}.txt"
        corpus.write_text("\n".join(sentences(path, enc, 4000)) + "\n", encoding="utf-8")
        model = fasttext.train_unsupervised(str(corpus), model="skipgram", dim=32, epoch=5, minCount=2,
                                            thread=1, verbose=0)
        words = model.get_words()
        write_vec(Embeddings(list(words), np.stack([model.get_word_vector(w) for w in words])), d / f"{lang}.vec")
        out[lang] = d / f"{lang}.vec"
    return out


def orthogonality_error(w: np.ndarray) -> float:
    w = w.astype(np.float64)
    return float(np.abs(w @ w.T - np.eye(w.shape[0])).max())


def singular_value_range(w: np.ndarray) -> tuple[float, float]:
    sv = np.linalg.svd(w.astype(np.float64), compute_uv=False)
    return float(sv.min()), float(sv.max())


def adversarial_run(en, es, beta: float, steps: int = 150):
    # orthogonal_every = 0: MUSE's beta step alone, the thing this test measures
    cfg = MappingConfig(**{**TINY, "dis_hid_dim": 512, "map_beta": beta, "orthogonal_every": 0}).validate()
    tr = Trainer(torch.from_numpy(en.matrix), torch.from_numpy(es.matrix), cfg, "cpu")
    # 1. with the map fixed, the discriminator learns to tell English from Spanish
    d_losses = [float(tr.dis_step()) for _ in range(60)]
    # 2. adversarial steps (5 discriminator steps per map step)
    losses = []
    for _ in range(steps):
        losses.append(float(np.mean([float(tr.dis_step()) for _ in range(cfg.dis_steps)])))
        tr.mapping_step()
    return tr, d_losses, losses


def test_short_adversarial_run_keeps_w_orthogonal_and_discriminator_learns(real_vectors):
    en = load_vectors(real_vectors["en"], 2000)
    es = load_vectors(real_vectors["es"], 2000)
    assert len(en) == 2000 and len(es) == 2000
    tr, d_losses, losses = adversarial_run(en, es, beta=0.001)
    assert d_losses[0] > 0.6  # about chance level (0.693) before the first update
    d_end = float(np.mean(d_losses[-10:]))
    assert d_end < float(np.mean(d_losses[:5])) - 0.1, d_losses  # the discriminator learns
    # the map moves and makes the discriminator's job harder ...
    assert not np.allclose(tr.weight, np.eye(32), atol=1e-2)
    assert float(np.mean(losses[-30:])) > d_end + 0.05, (d_end, losses[-30:])
    # ... the orthogonalisation (beta = 0.001) keeps it closer to orthogonal than the same run
    # without it. (On these tiny 32-d spaces the first map steps move W far from orthogonal, and
    # beta = 0.001 pulls it back only slowly; the refined map below is exactly orthogonal.)
    lo, hi = singular_value_range(tr.weight)
    free_lo, free_hi = singular_value_range(adversarial_run(en, es, beta=0.0)[0].weight)
    assert hi - lo < free_hi - free_lo, ((lo, hi), (free_lo, free_hi))
    n = tr.refine_step()
    assert n > 0 and orthogonality_error(tr.weight) < 1e-5


def write_recipe(tmp: Path, vectors: dict[str, Path], **mapping) -> Path:
    cfg = {**TINY, "direction": "en->es", "seed": 3, **mapping}
    lines = ["[languages]", 'source = "en"', 'target = "es"', "[vectors]"]
    lines += [f'{k} = "{v}"' for k, v in vectors.items()]
    lines.append("[mapping]")
    for k, v in cfg.items():
        lines.append(f"{k} = " + (f'"{v}"' if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v)))
    p = tmp / "recipe.toml"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def test_cli_map_end_to_end_is_deterministic(real_vectors, tmp_path):
    en = load_vectors(real_vectors["en"], 1500)
    es = load_vectors(real_vectors["es"], 1500)
    # an evaluation dictionary of identical strings (names, numbers, punctuation) in both vocabularies,
    # lower-case as MUSE's dictionaries are
    shared = [w for w in en.words if w in es.index and w == w.lower()][:300]
    assert len(shared) > 50
    dico = tmp_path / "en-es.txt"
    dico.write_text("".join(f"{w} {w}\n" for w in shared), encoding="utf-8")
    recipe = write_recipe(tmp_path, real_vectors, dictionary=str(dico))
    runner = CliRunner()
    results = []
    for run in ("a", "b"):
        res = runner.invoke(map_command, [str(recipe), "--out", str(tmp_path / run), "--quiet", "--threads", "1"])
        assert res.exit_code == 0, res.output + repr(res.exception)
        results.append(np.load(tmp_path / run / "W.npy"))
    assert np.array_equal(results[0], results[1])  # same seed, same map
    out = tmp_path / "a"
    w = results[0]
    assert orthogonality_error(w) < 1e-3
    report = json.loads((out / "report.json").read_text())
    assert report["seed"] == 3 and report["config"]["seed"] == 3
    assert len(report["epochs"]) == 2 and len(report["refinement"]) == 2
    for tag in ("before_refinement", "after_refinement"):
        assert report["eval"][tag]["n_sources"] == len(shared)
        assert 0 <= report["eval"][tag]["csls_knn_10/P@1"] <= report["eval"][tag]["csls_knn_10/P@10"] <= 100
    assert {"adversarial", "refinement", "load", "export"} <= set(report["seconds"])
    assert {"torch", "numpy", "faiss"} <= set(report["versions"])
    assert (out / "log.txt").read_text().count("epoch") >= 2
    # the map was learned on the lower-cased forms (MUSE), and every cased row is exported:
    # mapped source vectors = normalised source @ W^T; target vectors unchanged apart from normalising
    assert report["mapped_forms"] == {"en": len({w.lower() for w in en.words}),
                                      "es": len({w.lower() for w in es.words})}
    assert report["mapped_forms"]["en"] < report["vocab"]["en"] == len(en)
    mapped, tgt = load_vectors(out / "en.vec"), load_vectors(out / "es.vec")
    assert mapped.words == en.words and tgt.words == es.words
    from zsner.embeddings.normalize import normalize
    ref = normalize(en.matrix.copy(), "unit,center,unit") @ w.T
    assert np.allclose(mapped.matrix, ref, atol=1e-4)
    # another seed gives another map
    res = runner.invoke(map_command, [str(recipe), "--out", str(tmp_path / "c"), "--quiet", "--seed", "4", "--threads", "1"])
    assert res.exit_code == 0
    assert not np.array_equal(np.load(tmp_path / "c" / "W.npy"), w)


def test_cli_user_errors(real_vectors, tmp_path):
    runner = CliRunner()
    other = tmp_path / "other.vec"
    write_vec(Embeddings(["a", "b"], np.ones((2, 5), np.float32)), other)
    recipe = write_recipe(tmp_path, {"en": real_vectors["en"], "es": other})
    res = runner.invoke(map_command, [str(recipe), "--out", str(tmp_path / "x"), "--quiet", "--threads", "1"])
    assert isinstance(res.exception, ZsnerError) and "dimension" in str(res.exception)
    recipe = write_recipe(tmp_path, real_vectors, dis_stepz=3)
    res = runner.invoke(map_command, [str(recipe), "--out", str(tmp_path / "x"), "--quiet", "--threads", "1"])
    assert isinstance(res.exception, ZsnerError) and "dis_stepz" in str(res.exception)
    assert str(recipe) in str(res.exception)
    recipe = write_recipe(tmp_path, {"en": real_vectors["en"]})
    res = runner.invoke(map_command, [str(recipe), "--out", str(tmp_path / "x"), "--quiet", "--threads", "1"])
    assert isinstance(res.exception, ZsnerError) and "'es'" in str(res.exception)


def test_resume_after_interrupt_equals_an_uninterrupted_run(real_vectors, tmp_path, monkeypatch):
    en = load_vectors(real_vectors["en"], 1500)
    es = load_vectors(real_vectors["es"], 1500)
    cfg = MappingConfig(**{**TINY, "direction": "en->es"}).validate()
    args = (cfg, en.words, en.matrix, es.words, es.matrix)
    full, _ = run_mapping(*args, out_dir=tmp_path / "full", log=lambda m: None)

    calls = {"n": 0}
    original = Trainer.mapping_step

    def interrupting(self):
        calls["n"] += 1
        if calls["n"] == 27:  # in the second epoch
            signal.raise_signal(signal.SIGINT)
        return original(self)

    monkeypatch.setattr(Trainer, "mapping_step", interrupting)
    with pytest.raises(Interrupted):
        run_mapping(*args, out_dir=tmp_path / "cut", log=lambda m: None)
    monkeypatch.setattr(Trainer, "mapping_step", original)
    state = torch.load(tmp_path / "cut" / "checkpoint.pt", weights_only=False)
    assert state["position"]["phase"] == "adversarial" and state["position"]["epoch"] == 1
    resumed, report = run_mapping(*args, out_dir=tmp_path / "cut", resume=True, log=lambda m: None)
    assert np.array_equal(resumed.weight, full.weight)
    assert len(report["epochs"]) == 2


def test_the_recipes_seed_dictionary_path_exports_its_best_map_and_feeds_cross_training(real_vectors, tmp_path):
    """What `make map-X` then `make train-X` do, on real vectors: Procrustes on identical strings (every
    shipped recipe's start), refinement, the best-criterion W exported, and `zsner cross train` reading
    that output directory (not hand-written vectors or report)."""
    from cross_fixtures import make_recipe
    from zsner.cross.config import load_cross_recipe
    from zsner.cross.train_source import SourceTrainer

    en = load_vectors(real_vectors["en"], 1500)
    es = load_vectors(real_vectors["es"], 1500)
    shared = [w for w in en.words if w in es.index and w == w.lower()][:300]
    dico = tmp_path / "en-es.txt"
    dico.write_text("".join(f"{w} {w}\n" for w in shared), encoding="utf-8")
    recipe = write_recipe(tmp_path, real_vectors, dictionary=str(dico), seed_dictionary="identical", n_refinement=3)
    res = CliRunner().invoke(map_command, [str(recipe), "--out", str(tmp_path / "map"), "--quiet", "--threads", "1"])
    assert res.exit_code == 0, res.output + repr(res.exception)
    report = json.loads((tmp_path / "map" / "report.json").read_text())
    assert report["seed_dictionary"]["source"] == "identical strings" and report["seed_dictionary"]["pairs"] > 50
    assert report["epochs"] == []  # no adversarial training on this path
    criteria = [report["seed_dictionary"]["criterion"]] + [r["criterion"] for r in report["refinement"]]
    assert len(criteria) == 4
    # the exported map is the best-criterion one, and the mapped vectors are made with it
    w, best = np.load(tmp_path / "map" / "W.npy"), np.load(tmp_path / "map" / "best_W.npy")
    assert np.array_equal(w, best)
    from zsner.mapping.trainer import Trainer as MapTrainer
    from zsner.embeddings.normalize import normalize

    from zsner.mapping.vocabulary import mapping_vocabulary

    cfg = MappingConfig(**{**TINY, "direction": "en->es"}).validate()
    # judged on what the map was learned on: the lower-cased forms (mapping.lowercase_vocabulary)
    en_view, es_view = mapping_vocabulary(en, True), mapping_vocabulary(es, True)
    judge = MapTrainer(torch.from_numpy(normalize(en_view.matrix.copy(), cfg.normalize)),
                       torch.from_numpy(normalize(es_view.matrix.copy(), cfg.normalize)), cfg)
    judge.set_weight(w)
    assert judge.criterion() == pytest.approx(max(criteria), abs=1e-5)

    # zsner cross train over that directory (make_recipe keeps an existing tmp/map)
    cross_recipe = load_cross_recipe(make_recipe(tmp_path, "cross-shared", epochs=2))
    assert cross_recipe.cross.mapped_dir == str(tmp_path / "map")
    metrics = SourceTrainer(cross_recipe, tmp_path / "cross").run_training()
    p_at_1 = {k: v for k, v in metrics["mapping_p_at_1"].items() if k != "stage"}
    assert metrics["mapping_p_at_1"]["stage"] == "after_refinement"
    assert p_at_1 and p_at_1 == {k: report["eval"]["after_refinement"][k] for k in p_at_1}
    log_text = (tmp_path / "cross" / "log.txt").read_text()
    assert f"en word vectors: {tmp_path / 'map' / 'en.vec'}" in log_text


def _rotation(dim: int, seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((dim, dim)))
    return q * np.sign(np.diag(r))


def test_similarity_start_ignores_rotations_and_finds_a_rotated_copy(real_vectors):
    """The similarity-distribution seed is the same whatever rotation the target space has, and on a
    rotated copy of the source it pairs every word with itself; the pipeline then maps it exactly."""
    from zsner.mapping.similarity_start import similarity_seed_pairs

    en = load_vectors(real_vectors["en"], 1500)
    es = load_vectors(real_vectors["es"], 1500)
    q = _rotation(en.dim, 7)
    src = torch.from_numpy(en.matrix)
    plain = similarity_seed_pairs(src, torch.from_numpy(es.matrix), 1000)
    rotated = similarity_seed_pairs(src, torch.from_numpy((es.matrix.astype(np.float64) @ q.T).astype(np.float32)), 1000)
    assert len(plain) >= 1000 and np.array_equal(plain, rotated)

    copy = (en.matrix.astype(np.float64) @ q.T).astype(np.float32)
    pairs = similarity_seed_pairs(src, torch.from_numpy(copy), 1000)
    assert np.mean(pairs[:, 0] == pairs[:, 1]) > 0.99
    cfg = MappingConfig(**{**TINY, "seed_dictionary": "similarity", "similarity_words": 1000}).validate()
    eval_pairs = np.stack([np.arange(500, 1500)] * 2, axis=1)
    trainer, report = run_mapping(cfg, en.words, en.matrix, en.words, copy, eval_pairs=eval_pairs, log=lambda m: None)
    assert report["seed_dictionary"]["source"].startswith("similarity distributions")
    assert report["eval"]["after_refinement"]["csls_knn_10/P@1"] == 100.0
