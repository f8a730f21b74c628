"""Which Table 4 rows `zsner table` makes of Cross-Augmented runs (one per source variant they started
from, and the runs pooled when each seed started from the source its own selection picked), and each
step's gain read from the rows."""
from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from zsner.cross.table import collect
from zsner.cross.table_gains import step_gains, write_gains

VECTORS = {"en": "data/vectors/e5-small/en.vec", "es": "data/vectors/e5-small/es.vec"}


def augmented_run(runs: Path, seed: int, source: str, f1: float, rounds: int = 3) -> None:
    """A finished Cross-Augmented run as `zsner cross train` leaves it: metrics.json and config.json."""
    run = runs / f"cross-augmented-{source}-s{seed}-r{rounds}"
    run.mkdir(parents=True)
    parameters = {"cross-word": 945130, "cross-shared": 725530}[source]
    (run / "metrics.json").write_text(json.dumps({
        "pair": "en-es", "model": "cross-augmented", "seed": seed, "source_variant": source,
        "parameters": parameters, "f1_tgt_dev_selected": f1, "f1_src_dev_selected": f1 - 1}))
    (run / "config.json").write_text(json.dumps({
        "seed": seed, "vectors": VECTORS,
        "cross": {"model": "cross-augmented", "rounds": rounds, "source_model": f"runs/{source}-s{seed}"}}))


def augmented_rows(runs: Path) -> dict[str, dict]:
    return {r["variant"]: r for r in collect([runs]) if r["variant"].startswith("cross-augmented")}


def test_seeds_that_picked_different_sources_are_also_pooled(tmp_path):
    f1 = {1: 65.26, 2: 63.77, 3: 64.10}
    for seed, source in ((1, "cross-word"), (2, "cross-shared"), (3, "cross-word")):
        augmented_run(tmp_path, seed, source, f1[seed])
    rows = augmented_rows(tmp_path)
    assert set(rows) == {"cross-augmented (from cross-word)", "cross-augmented (from cross-shared)",
                         "cross-augmented (best source of each seed)"}
    pooled = rows["cross-augmented (best source of each seed)"]
    assert pooled["runs"] == 3 and sorted(pooled["seeds"].split()) == ["1", "2", "3"]
    assert pooled["tgt_mean"] == pytest.approx(statistics.fmean(f1.values()))
    assert pooled["tgt_std"] == pytest.approx(statistics.stdev(f1.values()))
    assert pooled["parameters"] == "725530 / 945130"  # the two sources' models differ in size
    assert pooled["vectors"] == "e5-small" and pooled["paper_f1"] == "75.93 / 72.36"
    assert rows["cross-augmented (from cross-word)"]["runs"] == 2


def test_one_source_for_every_seed_gives_no_second_row(tmp_path):
    for seed in (1, 2):
        augmented_run(tmp_path, seed, "cross-shared", 66.0 + seed)
    assert set(augmented_rows(tmp_path)) == {"cross-augmented (from cross-shared)"}


def test_a_seed_run_from_two_sources_is_not_pooled(tmp_path):
    """Both sources of one seed run by hand: not a pick, and pooling would count the seed twice."""
    augmented_run(tmp_path, 1, "cross-word", 65.0)
    augmented_run(tmp_path, 1, "cross-shared", 64.0)
    assert set(augmented_rows(tmp_path)) == {"cross-augmented (from cross-word)", "cross-augmented (from cross-shared)"}


def test_runs_with_other_settings_are_pooled_apart(tmp_path):
    for seed, source in ((1, "cross-word"), (2, "cross-shared")):
        augmented_run(tmp_path, seed, source, 60.0 + seed, rounds=3)
        augmented_run(tmp_path, seed, source, 50.0 + seed, rounds=2)
    pooled = {name: row for name, row in augmented_rows(tmp_path).items() if "best source" in name}
    assert set(pooled) == {"cross-augmented (best source of each seed) [cross.rounds=3]",
                           "cross-augmented (best source of each seed) [cross.rounds=2]"}
    assert pooled["cross-augmented (best source of each seed) [cross.rounds=2]"]["tgt_mean"] == pytest.approx(51.5)


def model_run(runs: Path, model: str, seed: int, f1: float) -> None:
    run = runs / f"{model}-s{seed}"
    run.mkdir(parents=True)
    (run / "metrics.json").write_text(json.dumps({
        "pair": "en-es", "model": model, "seed": seed, "parameters": 1000,
        "f1_tgt_dev_selected": f1, "f1_src_dev_selected": f1}))
    (run / "config.json").write_text(json.dumps({"seed": seed, "vectors": VECTORS, "cross": {"model": model}}))


def test_each_steps_gain_beside_the_papers(tmp_path):
    f1 = {"cross-word-nochar": (56.0, 58.0), "cross-word": (66.0, 62.0), "cross-shared": (65.0, 64.0)}
    for model, (first, second) in f1.items():
        model_run(tmp_path, model, 1, first)
        model_run(tmp_path, model, 2, second)
    augmented_run(tmp_path, 1, "cross-word", 67.0)     # +1.0 over seed 1's Cross-Word
    augmented_run(tmp_path, 2, "cross-shared", 63.0)   # -1.0 under seed 2's Cross-Shared
    [gain] = step_gains(collect([tmp_path]))
    assert (gain["pair"], gain["vectors"]) == ("en-es", "e5-small")
    assert gain["char LSTM"] == pytest.approx(64.0 - 57.0)
    assert gain["tying the LSTMs"] == pytest.approx(64.5 - 64.0)
    # seed by seed against the run each started from, not against the mean of one variant
    assert gain["Algorithm 1"] == pytest.approx(0.0) and gain["Algorithm 1 seeds"] == 2
    # the paper's en-es Table 4: 72.66 - 68.63, 74.39 - 72.66, 75.93 - 74.39
    assert gain["char LSTM (paper)"] == pytest.approx(4.03)
    assert gain["Algorithm 1 (paper)"] == pytest.approx(1.54)
    markdown = write_gains([gain], tmp_path / "table4")
    assert "| en-es | e5-small | – | +7.0 (+4.0) | +0.5 (+1.7) | +0.0 (+1.5) | 2 |" in markdown
    assert (tmp_path / "table4-gains.csv").read_text().startswith("pair,vectors,settings,char LSTM,")


def test_no_gain_row_without_the_rows_a_step_compares(tmp_path):
    model_run(tmp_path, "cross-shared", 1, 60.0)
    assert step_gains(collect([tmp_path])) == []
