"""Unit tests of zsner.mapping on small synthetic matrices with answers computed independently."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from zsner.errors import ZsnerError
from zsner.mapping.config import MappingConfig, load_mapping_config
from zsner.mapping.dictionary import build_dictionary, load_dictionary, read_dictionary
from zsner.mapping.evaluation import precision_at_k, word_translation
from zsner.mapping.models import Discriminator, Mapping
from zsner.mapping.neighbours import Radii, csls_topk, knn
from zsner.mapping.trainer import Trainer, procrustes_solution

pytestmark = pytest.mark.usefixtures("one_torch_thread")


RECIPE = __import__("pathlib").Path(__file__).resolve().parents[1] / "recipes" / "mapping-example.toml"


def random_orthogonal(d: int, seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return (q * np.sign(np.diag(r))).astype(np.float32)


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# ------------------------------------------------------------------------ models
def test_mapping_starts_as_identity_and_orthogonalisation_keeps_orthogonality():
    m = Mapping(40)
    assert torch.equal(m.weight, torch.eye(40))
    q = random_orthogonal(40, 0)
    m.set_weight(q)
    for _ in range(2000):
        m.orthogonalize(0.001)
    w = m.weight.detach().numpy().astype(np.float64)
    assert np.abs(w @ w.T - np.eye(40)).max() < 1e-4
    assert np.abs(w - q).max() < 1e-4  # an orthogonal matrix is a fixed point


def test_orthogonalisation_pulls_a_perturbed_matrix_back():
    m = Mapping(30)
    rng = np.random.default_rng(1)
    m.set_weight(random_orthogonal(30, 1) + 0.02 * rng.standard_normal((30, 30)).astype(np.float32))

    def err() -> float:
        w = m.weight.detach().numpy().astype(np.float64)
        return float(np.linalg.norm(w @ w.T - np.eye(30)))

    before = err()
    for _ in range(3000):
        m.orthogonalize(0.001)
    assert err() < before / 10


def test_exact_projection_gives_the_nearest_orthogonal_matrix():
    w = (random_orthogonal(20, 5) @ np.diag(np.linspace(0.01, 1.7, 20))).astype(np.float32)  # collapsed
    m = Mapping(20)
    m.set_weight(w)
    m.project_orthogonal()
    p = m.weight.detach().numpy().astype(np.float64)
    assert np.abs(p @ p.T - np.eye(20)).max() < 1e-5
    # the polar factor is the closest orthogonal matrix: no random orthogonal matrix is closer
    best = np.linalg.norm(p - w)
    assert all(np.linalg.norm(random_orthogonal(20, s) - w) > best for s in range(100, 150))
    assert np.abs(p - random_orthogonal(20, 5)).max() < 1e-4  # W = Q D with D > 0: the answer is Q


def test_trainer_snaps_w_to_orthogonal_every_n_map_steps():
    rng = np.random.default_rng(6)
    src = torch.from_numpy(rng.standard_normal((300, 16)).astype(np.float32))
    tgt = torch.from_numpy((rng.standard_normal((300, 16)) + 2.0).astype(np.float32))  # easy to tell apart
    errors = {}
    for every in (0, 3):
        cfg = MappingConfig(dis_hid_dim=32, batch_size=64, map_lr=2.0, dis_lr=0.5, orthogonal_every=every)
        tr = Trainer(src, tgt, cfg, "cpu")
        for _ in range(6):
            tr.dis_step()
            tr.mapping_step()
        w = tr.weight.astype(np.float64)
        errors[every] = np.abs(w @ w.T - np.eye(16)).max()
    assert errors[3] < 1e-5 < errors[0]  # six steps, snapped after the 3rd and the 6th


def test_discriminator_architecture():
    d = Discriminator(300, layers=2, hid_dim=2048, input_dropout=0.1)
    linears = [m for m in d.layers if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(300, 2048), (2048, 2048), (2048, 1)]
    assert isinstance(d.layers[0], torch.nn.Dropout) and d.layers[0].p == 0.1
    relus = [m for m in d.layers if isinstance(m, torch.nn.LeakyReLU)]
    assert len(relus) == 2 and all(r.negative_slope == 0.2 for r in relus)
    d.eval()
    p = d(torch.randn(7, 300))
    assert p.shape == (7,) and bool(((p > 0) & (p < 1)).all())


# ------------------------------------------------------------------------ Procrustes
def test_procrustes_recovers_a_known_rotation():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((500, 32)).astype(np.float32)
    q = random_orthogonal(32, 3)
    y = x @ q
    w = procrustes_solution(x, y)  # W x_i = y_i  <=>  X W^T = X Q
    assert np.abs(w.T - q).max() < 1e-4
    tr = Trainer(torch.from_numpy(x), torch.from_numpy(y), MappingConfig(dis_hid_dim=8), "cpu")
    tr.procrustes(np.stack([np.arange(500), np.arange(500)], 1))
    assert np.abs(tr.weight.T - q).max() < 1e-4
    assert np.abs(tr.mapped_unit().numpy() - unit(y)).max() < 1e-4


# ------------------------------------------------------------------------ kNN and CSLS
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_knn_equals_numpy_argsort(precision):
    rng = np.random.default_rng(4)
    q = unit(rng.standard_normal((300, 24)).astype(np.float32))
    k = unit(rng.standard_normal((1000, 24)).astype(np.float32))
    sims, idx = knn(torch.from_numpy(q), torch.from_numpy(k), 7, precision, chunk=64)
    full = q.astype(np.float64) @ k.T.astype(np.float64)
    ref = np.argsort(-full, axis=1, kind="stable")[:, :7]
    assert np.array_equal(idx.numpy(), ref)
    assert np.allclose(sims.numpy(), np.take_along_axis(full, ref, 1), atol=1e-5)


def test_csls_equals_brute_force_numpy():
    rng = np.random.default_rng(5)
    s = unit(rng.standard_normal((400, 16)).astype(np.float32))
    t = unit(rng.standard_normal((500, 16)).astype(np.float32))
    cos = s.astype(np.float64) @ t.T.astype(np.float64)
    r_s = np.sort(cos, axis=1)[:, -10:].mean(1)      # r_T(x): source words' neighbourhoods in T
    r_t = np.sort(cos, axis=0)[-10:, :].mean(0)      # r_S(y)
    csls = 2 * cos - r_s[:, None] - r_t[None, :]
    radii = Radii(torch.from_numpy(s), torch.from_numpy(t), k=10, precision="fp32", chunk=50)
    assert np.allclose(radii.src(100).numpy(), r_s[:100], atol=1e-5)   # computed in two pieces
    assert np.allclose(radii.src().numpy(), r_s, atol=1e-5)
    assert np.allclose(radii.tgt().numpy(), r_t, atol=1e-5)
    scores, idx = csls_topk(torch.from_numpy(s), torch.from_numpy(t), radii.tgt(), 5, radii.src(), chunk=64)
    ref = np.argsort(-csls, axis=1, kind="stable")[:, :5]
    assert np.array_equal(idx.numpy(), ref)
    assert np.allclose(scores.numpy(), np.take_along_axis(csls, ref, 1), atol=1e-5)


def test_build_dictionary_modes_recover_a_permutation():
    rng = np.random.default_rng(6)
    n, d = 300, 20
    s = unit(rng.standard_normal((n, d)).astype(np.float32))
    perm = rng.permutation(n)
    t = s[perm] + 0.01 * rng.standard_normal((n, d)).astype(np.float32)  # t[j] ~ s[perm[j]]
    t = unit(t)
    gold = {(int(perm[j]), j) for j in range(n)}
    S, T = torch.from_numpy(s), torch.from_numpy(t)
    radii = Radii(S, T, k=10)
    for build in ("S2T", "T2S", "S2T&T2S", "S2T|T2S"):
        for method in ("nn", "csls_knn_10"):
            pairs = build_dictionary(S, T, radii, method, build, max_rank=n)
            assert {tuple(p) for p in pairs.tolist()} == gold, (build, method)
    # max_rank: only the 50 most frequent words of each side take part
    pairs = build_dictionary(S, T, radii, "csls_knn_10", "S2T", max_rank=50)
    assert len(pairs) == 50 and pairs[:, 0].max() < 50 and pairs[:, 1].max() < 50
    assert {tuple(p) for p in pairs.tolist() if tuple(p) in gold} == {p for p in gold if p[0] < 50 and p[1] < 50}


# ------------------------------------------------------------------------ dictionaries
def test_dictionary_reader_and_its_errors(tmp_path):
    p = tmp_path / "d.txt"
    p.write_text("casa house\ncasa home\n\nperro dog\n", encoding="utf-8")
    assert read_dictionary(p) == [("casa", "house"), ("casa", "home"), ("perro", "dog")]
    pairs, stats = load_dictionary(p, {"perro": 0, "casa": 1}, {"dog": 0, "house": 1})
    assert pairs.tolist() == [[0, 0], [1, 1]]
    assert (stats.pairs, stats.in_vocab, stats.sources) == (3, 2, 2)

    bad = tmp_path / "bad.txt"
    bad.write_text("a b\nc\nd e\n", encoding="utf-8")
    with pytest.raises(ZsnerError) as e:
        read_dictionary(bad)
    assert e.value.line == 2 and e.value.path == str(bad) and str(e.value).startswith(f"{bad}:2: ")
    bad.write_text("a b\nd e\nf g h\n", encoding="utf-8")
    with pytest.raises(ZsnerError) as e:
        read_dictionary(bad)
    assert e.value.line == 3
    bad.write_bytes(b"a b\n\xff\xfe x\n")
    with pytest.raises(ZsnerError) as e:
        read_dictionary(bad)
    assert e.value.line == 2
    with pytest.raises(ZsnerError, match="no such dictionary"):
        read_dictionary(tmp_path / "missing.txt")


# ------------------------------------------------------------------------ evaluation
def test_precision_at_k_hand_checked():
    # 4 sources with these ranked targets; gold: 0->{5}, 1->{7, 3}, 2->{9}, 3->{1}
    sources = np.array([0, 1, 2, 3])
    top = np.array([[5, 1, 2], [2, 3, 4], [1, 2, 4], [2, 4, 1]])
    pairs = np.array([[0, 5], [1, 7], [1, 3], [2, 9], [3, 1]])
    p = precision_at_k(sources, top, pairs, (1, 2, 3))
    # P@1: only source 0; P@2: 0 and 1 (its second gold translation 3); P@3: 0, 1, 3
    assert p == {1: 25.0, 2: 50.0, 3: 75.0}


def test_word_translation_on_a_tiny_space():
    def at(deg):
        a = np.deg2rad(np.array(deg, dtype=np.float64))
        return np.stack([np.cos(a), np.sin(a)], 1).astype(np.float32)

    # sources at 0, 93, 180 deg; targets t0..t3 at 10, 80, 100, 200 deg. Nearest targets:
    # 0 -> t0, t1;  93 -> t2 (7 deg), t1 (13 deg);  180 -> t3, t2
    s, t = torch.from_numpy(at([0, 93, 180])), torch.from_numpy(at([10, 80, 100, 200]))
    pairs = np.array([[0, 0], [1, 1], [2, 3], [2, 0]])  # source 1's gold is t1 (80 deg), NN is t2 (100)
    res = word_translation(s, t, pairs, Radii(s, t, k=1), ("nn",), (1, 2))
    assert res["nn/P@1"] == pytest.approx(100 * 2 / 3, abs=0.01)  # sources 0 and 2 right at 1
    assert res["nn/P@2"] == 100.0
    assert res["n_sources"] == 3 and res["n_pairs"] == 4


# ------------------------------------------------------------------------ config
def test_config_from_recipe_and_errors(tmp_path):
    cfg, recipe = load_mapping_config(RECIPE)
    assert cfg.languages == ("en", "es") and cfg.dis_steps == 5 and cfg.map_beta == 0.001
    assert recipe["vectors"]["en"].endswith("en.vec")
    bad = tmp_path / "r.toml"
    bad.write_text('[mapping]\ndirection = "en->es"\nbatchsize = 3\n', encoding="utf-8")
    with pytest.raises(ZsnerError, match="batchsize") as e:
        load_mapping_config(bad)
    assert e.value.path == str(bad)
    bad.write_text('[mapping]\nn_epochs = "five"\n', encoding="utf-8")
    with pytest.raises(ZsnerError, match="n_epochs"):
        load_mapping_config(bad)
    bad.write_text('[mapping]\ndico_build = "S2T+T2S"\n', encoding="utf-8")
    with pytest.raises(ZsnerError, match="dico_build"):
        load_mapping_config(bad)
    bad.write_text('[mapping]\ndirection = "en-es"\n', encoding="utf-8")
    with pytest.raises(ZsnerError, match="direction"):
        load_mapping_config(bad)
    with pytest.raises(ZsnerError, match="no such recipe"):
        load_mapping_config(tmp_path / "none.toml")
    muse = MappingConfig.muse_like()
    assert (muse.batch_size, muse.epoch_size, muse.dis_epoch_steps) == (32, 1_000_000, 31250)


def test_identity_start_scores_a_shared_space_as_it_is_and_refines_from_there():
    """seed_dictionary = "identity": W = I is the starting map (vectors distilled into one space)."""
    from zsner.mapping.pipeline import run_mapping

    rng = np.random.default_rng(3)
    src = rng.standard_normal((400, 16)).astype(np.float32)
    tgt = src + 0.25 * rng.standard_normal(src.shape).astype(np.float32)  # the same space, noisy
    words = [f"w{i}" for i in range(400)]
    pairs = np.stack([np.arange(100, 300), np.arange(100, 300)], 1)
    cfg = MappingConfig(seed_dictionary="identity", n_refinement=2, dico_max_rank=400, criterion_words=400).validate()
    trainer, report = run_mapping(cfg, words, src, [w.upper() for w in words], tgt, eval_pairs=pairs,
                                  log=lambda m: None)
    assert report["seed_dictionary"] == {"source": "identity map", "pairs": 0,
                                         "criterion": report["seed_dictionary"]["criterion"]}
    unmapped = word_translation(torch.from_numpy(unit(src)), torch.from_numpy(unit(tgt)), pairs,
                                Radii(torch.from_numpy(unit(src)), torch.from_numpy(unit(tgt))), ("nn",), (1,))
    assert report["eval"]["before_refinement"]["nn/P@1"] == unmapped["nn/P@1"] > 90
    assert report["eval"]["after_refinement"]["nn/P@1"] >= unmapped["nn/P@1"]
    rotated = tgt @ random_orthogonal(16, 4).T  # a rotated target: W = I no longer works at all
    _, report = run_mapping(cfg.__class__(**{**cfg.to_dict(), "n_refinement": 0}), words, src, words, rotated,
                            eval_pairs=pairs, log=lambda m: None)
    assert report["eval"]["before_refinement"]["nn/P@1"] < 20
