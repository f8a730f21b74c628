"""Tiny real-data runs of every Table 4 model: the loss falls, selection both ways writes both scores,
the run directory is complete, Cross-Augmented starts from a trained source run, `zsner predict` tags
Spanish with the exported bundle, and `zsner table` collects the runs."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cross_fixtures import make_recipe, scramble_tags
from zsner.cross.cli import cross, table
from zsner.cross.config import load_cross_recipe
from zsner.cross.train_source import SourceTrainer
from zsner.errors import ZsnerError


def _history(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "history.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def shared_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cross")
    recipe = make_recipe(tmp, "cross-shared", epochs=8)
    run = tmp / "runs" / "train-es-tiny" / "cross-shared"
    metrics = SourceTrainer(load_cross_recipe(recipe), run).run_training()
    return tmp, run, metrics


def _check_run(run: Path, metrics: dict) -> None:
    for name in ("config.json", "versions.json", "log.txt", "history.jsonl", "last.pt", "metrics.json",
                 "select-src-dev.pt", "select-tgt-dev.pt", "best.pt", "best-src-dev.pt",
                 "test.src-dev-selected.predictions.conll", "test.tgt-dev-selected.predictions.conll"):
        assert (run / name).is_file(), name
    on_disk = json.loads((run / "metrics.json").read_text())
    assert on_disk == metrics
    # the exported bundles, scored again on the target test set by `zsner evaluate`, give metrics.json's F1
    from zsner.cli import cli

    target = json.loads((run / "config.json").read_text())["target"]
    for bundle, key in (("best.pt", "tgt_dev"), ("best-src-dev.pt", "src_dev")):
        result = CliRunner().invoke(cli, ["evaluate", "--model", str(run / bundle), target["test"], "--json",
                                          "--scheme", target["scheme"]], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["f1"] == metrics[f"f1_{key}_selected"] == metrics[f"{key}_selected"]["target_test"]["f1"]
    assert set(metrics["dev_f1"]) == {"src-dev", "tgt-dev"}
    # each selection is the best evaluation on its dev set, and the first of equals (no later tie wins)
    candidates = [h for h in _history(run) if h.get("step", 1) > 0]  # step 0: augmented start, not selectable
    for name, column in (("src_dev", "src_dev_f1"), ("tgt_dev", "tgt_dev_f1")):
        best = max(h[column] for h in candidates)
        first = next(h for h in candidates if h[column] == best)
        assert round(metrics[f"{name}_selected"]["f1"], 2) == best
        assert metrics[f"{name}_selected"]["step"] == first["step"]
    assert metrics["seed"] == 3
    assert metrics["mapping_p_at_1"]["csls_knn_10/P@1"] == 12.5


def test_cross_shared_learns_and_selects_both_ways(shared_run):
    _, run, metrics = shared_run
    history = _history(run)
    assert history[-1]["loss"] < 0.8 * history[0]["loss"]
    assert max(h["src_dev_f1"] for h in history) > 0.0  # learns English at all
    _check_run(run, metrics)
    assert metrics["model"] == "cross-shared" and metrics["variant"] == "cross-shared"


def test_finished_run_only_reports(shared_run):
    tmp, run, metrics = shared_run
    again = SourceTrainer(load_cross_recipe(make_recipe(tmp, "cross-shared", epochs=8)), run).run_training()
    assert again == metrics
    with pytest.raises(ZsnerError, match="different recipe"):
        SourceTrainer(load_cross_recipe(make_recipe(tmp, "cross-shared", epochs=9)), run).run_training()


@pytest.mark.parametrize("model,sets", [("cross-word", ["model.use_chars=false"]),
                                        ("source-mono", ["cross.mono_target=random"])])
def test_other_source_variants_train_via_cli(shared_run, model, sets):
    tmp, _, _ = shared_run
    recipe = make_recipe(tmp, model, epochs=3)
    run = tmp / "runs" / "train-es-tiny" / model
    args = ["train", str(recipe), "--run-dir", str(run)] + [x for s in sets for x in ("--set", s)]
    result = CliRunner().invoke(cross, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "target test F1" in result.output
    history = _history(run)
    assert history[-1]["loss"] < history[0]["loss"]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["variant"] == ("cross-word-nochar" if model == "cross-word" else "source-mono-random")
    if model == "cross-word":
        assert metrics["parameters"] > json.loads((tmp / "runs/train-es-tiny/cross-shared/metrics.json").read_text())["parameters"] * 0.5


def test_cross_augmented_from_the_shared_run(shared_run):
    tmp, source_run, _ = shared_run
    recipe = make_recipe(tmp, "cross-augmented", extra=f'source_model = "{source_run}"\nrounds = 3\npatience = 5\n')
    run = tmp / "runs" / "train-es-tiny" / "cross-augmented"
    result = CliRunner().invoke(cross, ["train", str(recipe), "--run-dir", str(run)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    metrics = json.loads((run / "metrics.json").read_text())
    _check_run(run, metrics)
    assert metrics["rounds"] == 3 and len(metrics["thresholds"]) == 3
    history = [h for h in _history(run) if h["round"] > 0]
    assert history[-1]["loss_tgt_t"] < history[0]["loss_tgt_t"]  # θt fits the pseudo-labels
    assert (run / "pseudo-labels.round0.conll").is_file()  # gold vs. θs labels, for Figure 2
    # zsner predict tags raw Spanish with the exported target bundle (θt reading θs's states)
    from zsner.cli import cli

    text = tmp / "raw.txt"
    text.write_text("El presidente de Brasil , Fernando Henrique Cardoso , llegó a Madrid .\n", encoding="utf-8")
    result_predict = CliRunner().invoke(cli, ["predict", "--model", str(run), str(text)], catch_exceptions=False)
    assert result_predict.exit_code == 0, result_predict.output
    assert result_predict.output.splitlines()[0].startswith("El ")
    # and `zsner table` collects every run under runs/
    out = tmp / "table4"
    result = CliRunner().invoke(table, ["--runs", str(tmp / "runs"), "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    markdown = (tmp / "table4.md").read_text()
    # the vectors column: the folder of the recipe's vectors; Cross-Augmented names the source it started from
    for variant in ("cross-shared", "cross-augmented (from cross-shared)"):
        assert f"| en-es | {variant} | map | 1 |" in markdown
    shared_row = next(line for line in markdown.splitlines() if "| cross-shared |" in line)
    # the P@1 of the map the run used, then the paper's Cross-Shared en-es row (Table 4) beside ours
    assert shared_row.endswith("| 12.50 | 74.39 / 71.97 |")
    one_run = (tmp / "table4-fig2.csv").read_text().splitlines()
    assert one_run[0].startswith("pair,runs,min_length") and len(one_run) > 1
    # runs/train-X/metrics.json names the final stage and keeps both scores (make train-X's last step)
    result = CliRunner().invoke(cross, ["summary", str(tmp / "runs" / "train-es-tiny")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp / "runs" / "train-es-tiny" / "metrics.json").read_text())
    assert summary["final_model"] == "cross-augmented"
    assert summary["f1_tgt_dev_selected"] == metrics["f1_tgt_dev_selected"]
    assert summary["f1_src_dev_selected"] == metrics["f1_src_dev_selected"]
    assert {"cross-shared", "cross-augmented"} <= set(summary["stages"])
    # ... and `zsner predict --model runs/train-X` tags with that final stage
    by_pair = CliRunner().invoke(cli, ["predict", "--model", str(tmp / "runs" / "train-es-tiny"), str(text)],
                                 catch_exceptions=False)
    assert by_pair.exit_code == 0 and by_pair.output == result_predict.output
    # a copy of the augmented run with another seed is pooled with it; one with other settings is not;
    # the summary file itself is never a row
    import shutil
    for name, seed, rounds in (("cross-augmented-s2", 2, 3), ("cross-augmented-r2", 1, 2)):
        shutil.copytree(run, run.parent / name)
        for file, key, value in (("metrics.json", "seed", seed), ("config.json", "seed", seed)):
            data = json.loads((run.parent / name / file).read_text())
            data[key] = value
            if file == "config.json":
                data["cross"]["rounds"] = rounds
                data["cross"]["source_model"] = f"runs/{name}/cross-shared"  # each seed has its own source run
            (run.parent / name / file).write_text(json.dumps(data))
    result = CliRunner().invoke(table, ["--runs", str(tmp / "runs"), "--out", str(out)], catch_exceptions=False)
    rows = [line for line in (tmp / "table4.md").read_text().splitlines() if "| cross-augmented" in line]
    assert len(rows) == 2, rows
    assert any("[cross.rounds=3] | map | 2 |" in r for r in rows) and any("[cross.rounds=2] | map | 1 |" in r for r in rows)
    # Figure 2 pools the source-model pseudo-labels of all three runs: three times the words per bucket
    three_runs = (tmp / "table4-fig2.csv").read_text().splitlines()
    assert len(three_runs) == len(one_run)
    for before, after in zip(one_run[1:], three_runs[1:]):
        before, after = before.split(","), after.split(",")
        assert (before[1], after[1]) == ("1", "3") and int(after[5]) == 3 * int(before[5])
    png = (tmp / "table4-fig2.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000  # Figure 2, drawn by matplotlib


def test_augmented_needs_a_trained_source(tmp_path):
    recipe = make_recipe(tmp_path, "cross-augmented", extra=f'source_model = "{tmp_path / "nothing"}"\n')
    from zsner.cross.augment import AugmentedTrainer

    with pytest.raises(ZsnerError, match="no trained source model"):
        AugmentedTrainer(load_cross_recipe(recipe), tmp_path / "run").run_training()


def _signal_on(monkeypatch, module, name: str, call: int):
    """Send this process a real SIGINT (as ^C does) just before the ``call``-th call of ``module.name``."""
    import signal

    real = getattr(module, name)
    calls = {"n": 0}

    def interrupting(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == call:
            signal.raise_signal(signal.SIGINT)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, interrupting)


def _same_run(a: Path, b: Path) -> None:
    """Two run directories hold the same run: metrics, history and every kept weight, timings aside."""
    import torch

    def untimed(entries):
        return [{k: v for k, v in e.items() if k not in ("seconds", "train_seconds")} for e in entries]

    assert untimed([json.loads((a / "metrics.json").read_text())]) == untimed([json.loads((b / "metrics.json").read_text())])
    assert untimed(_history(a)) == untimed(_history(b))
    for name in ("last.pt", "select-src-dev.pt", "select-tgt-dev.pt"):
        pa, pb = (torch.load(d / name, weights_only=False) for d in (a, b))
        wa, wb = (p.get("model", p.get("state_dict")) for p in (pa, pb))
        assert wa.keys() == wb.keys()
        for key in wa:
            assert torch.equal(wa[key], wb[key]), f"{name}: {key}"


def test_a_source_run_interrupted_mid_epoch_resumes_into_the_uninterrupted_run(shared_run, monkeypatch, tmp_path, python_sigint):
    """A real ^C between two evaluations: the run saves there and stops; run again, it ends bit-identical
    to a run never interrupted (the epoch's shuffle and singleton-UNK stream continue where they stood)."""
    import zsner.cross.train_source as train_source

    tmp, _, _ = shared_run
    recipe = load_cross_recipe(make_recipe(tmp, "cross-word", epochs=2))
    SourceTrainer(recipe, tmp_path / "whole").run_training()
    cut = tmp_path / "cut"
    with monkeypatch.context() as patch:
        _signal_on(patch, train_source, "sgd_step", 27)  # epoch 1 has 19 batches, evaluations every 20 steps
        with pytest.raises(KeyboardInterrupt):
            SourceTrainer(recipe, cut).run_training()
    import torch

    saved = torch.load(cut / "last.pt", weights_only=False)
    assert (saved["state"]["epoch"], saved["state"]["batch"], saved["state"]["step"]) == (1, 8, 27)
    SourceTrainer(recipe, cut).run_training()
    assert "resuming" in (cut / "log.txt").read_text()
    _same_run(tmp_path / "whole", cut)


def test_an_augmented_run_interrupted_mid_round_resumes_into_the_uninterrupted_run(shared_run, monkeypatch, tmp_path, python_sigint):
    """^C in the middle of a round of Algorithm 1: the round is trained again from its start, and the
    run ends as one never interrupted would (selections, stale-round count, history, weights)."""
    import zsner.cross.augment as augment

    tmp, source_run, _ = shared_run
    recipe = load_cross_recipe(make_recipe(tmp, "cross-augmented", extra=f'source_model = "{source_run}"\nrounds = 2\npatience = 5\nevals_per_round = 3\n'))
    augment.AugmentedTrainer(recipe, tmp_path / "whole").run_training()
    whole = _history(tmp_path / "whole")
    round_two_steps = [h["step"] for h in whole if h["round"] == 2]
    cut = tmp_path / "cut"
    with monkeypatch.context() as patch:  # two clips per step: stop inside round 2, after its first evaluation
        _signal_on(patch, augment, "clip_gradients", 2 * (round_two_steps[0] + 1) + 1)
        with pytest.raises(KeyboardInterrupt):
            augment.AugmentedTrainer(recipe, cut).run_training()
    assert [h["round"] for h in _history(cut)][-1] == 2  # round 2 had recorded an evaluation
    augment.AugmentedTrainer(recipe, cut).run_training()
    _same_run(tmp_path / "whole", cut)


@pytest.mark.parametrize("vectors, kind", [
    ({"en": "data/vectors/en.vec", "es": "data/vectors/es.vec"}, "fasttext"),
    ({"en": "data/vectors/e5-small/en.vec", "es": "data/vectors/e5-small/es.vec"}, "e5-small"),
    ({"en": "/data/fasttext/cc.en.300.vec", "es": "/data/fasttext/cc.es.300.vec"}, "fasttext"),
    ({"en": "data/vectors/en.vec", "es": "data/vectors/e5-small/es.vec"}, "fasttext + e5-small"),
    ({}, ""),
])
def test_table_rows_name_the_vectors_a_run_used(tmp_path, vectors, kind):
    from zsner.cross.table import vector_kind

    (tmp_path / "config.json").write_text(json.dumps({"vectors": vectors, "seed": 1}))
    assert vector_kind(tmp_path) == kind


def _weights(path: Path) -> dict:
    import torch

    return torch.load(path, weights_only=False)["state_dict"]


def _f1_deg(metrics: dict) -> dict:
    """The source-dev choice without the target dev score recorded beside it (that one reads target dev tags)."""
    return {k: v for k, v in metrics["src_dev_selected"].items() if k != "scores"} | {"f1_src_dev_selected": metrics["f1_src_dev_selected"]}


def test_zero_resource_runs_never_read_target_gold_tags(shared_run, tmp_path):
    """The 'unlabelled' target file and the target dev file carry gold tags. With those tags scrambled,
    everything a zero-resource user gets must stay the same: the source-dev (F1°) choice of
    Cross-Shared and of Cross-Augmented, their target test scores, and the pseudo-labels of Algorithm 1.
    (Only the target-dev choice, F1•, may read target dev tags.)"""
    import torch

    tmp, source_run, source_metrics = shared_run
    data = tmp / "data"
    blind = tmp_path / "blind"
    blind.mkdir()
    unlabelled = scramble_tags(data / "esp.train", blind / "esp.train", 1)
    dev = scramble_tags(data / "esp.testa", blind / "esp.testa", 2)
    assert unlabelled.read_text() != (data / "esp.train").read_text()

    def blinded(model: str, extra: str = "", epochs: int = 3) -> Path:
        text = make_recipe(tmp, model, extra, epochs).read_text()
        text = text.replace(f'unlabelled = "{data / "esp.train"}"', f'unlabelled = "{unlabelled}"')
        text = text.replace(f'dev = "{data / "esp.testa"}"', f'dev = "{dev}"')
        assert str(unlabelled) in text and str(dev) in text
        path = tmp_path / f"{model}-blind.toml"
        path.write_text(text)
        return path

    run = tmp_path / "shared-blind"
    metrics = SourceTrainer(load_cross_recipe(blinded("cross-shared", epochs=8)), run).run_training()
    assert _f1_deg(metrics) == _f1_deg(source_metrics)
    assert [h["src_dev_f1"] for h in _history(run)] == [h["src_dev_f1"] for h in _history(source_run)]
    for name, pair in ((n, (_weights(run / n), _weights(source_run / n))) for n in ("best-src-dev.pt",)):
        assert all(torch.equal(pair[0][k], pair[1][k]) for k in pair[0]), name

    extra = f'source_model = "{source_run}"\nrounds = 2\npatience = 5\n'
    runs = {}
    for label, recipe in (("seen", make_recipe(tmp, "cross-augmented", extra)), ("blind", blinded("cross-augmented", extra))):
        runs[label] = tmp_path / f"augmented-{label}"
        from zsner.cross.augment import AugmentedTrainer

        AugmentedTrainer(load_cross_recipe(recipe), runs[label]).run_training()
    seen, blind_run = (json.loads((runs[k] / "metrics.json").read_text()) for k in ("seen", "blind"))
    assert _f1_deg(seen) == _f1_deg(blind_run)
    a, b = (_weights(runs[k] / "best-src-dev.pt") for k in ("seen", "blind"))
    assert all(torch.equal(a[k], b[k]) for k in a)

    def pseudo_labels(run_dir: Path) -> list[str]:  # the θs label column; the gold column differs by design
        return [line.split(" ")[-1] for line in (run_dir / "pseudo-labels.round0.conll").read_text().splitlines()]

    assert pseudo_labels(runs["seen"]) == pseudo_labels(runs["blind"])


def test_figure3_three_panels_of_both_languages(shared_run, tmp_path):
    """`zsner cross fig3`: a PNG and the points of three panels, both languages and every tag type; the
    common-encoder panel reads each word's state in its own sentence (as tagging it alone does)."""
    import csv

    import torch

    from zsner.cli import cli
    from zsner.cross.bundle import load_cross
    from zsner.cross.figure3 import TYPES, encoder_states, shared_model, tagged_samples
    from zsner.data.conll import Sentence, read_conll

    _, run, _ = shared_run
    out = tmp_path / "fig3.png"
    result = CliRunner().invoke(cli, ["cross", "fig3", str(run), "--out", str(out), "--samples", "100"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = list(csv.DictReader(open(out.with_suffix(".csv"), encoding="utf-8")))
    panels = {r["panel"] for r in rows}
    counts = {p: sum(r["panel"] == p for r in rows) for p in panels}
    assert len(panels) == 3 and len(set(counts.values())) == 1  # the same words in every panel
    assert {r["language"] for r in rows} == {"en", "es"} and {r["tag"] for r in rows} == set(TYPES)
    per_panel = len(rows) // 3
    assert 30 <= per_panel <= 100  # up to 10 words a tag type and language (the tiny slices lack some)

    config = json.loads((run / "config.json").read_text())
    dev = read_conll(config["target"]["dev"], scheme=config["target"]["scheme"])
    samples = tagged_samples(dev, "es", 3, seed=1)
    assert len({(s.kind, s.word) for s in samples}) == len(samples)
    assert all(dev[s.sentence].tokens[s.position] == s.word for s in samples)
    states = encoder_states(*shared_model(run), "es", dev, samples)
    model, vocabs, _ = load_cross(run / "select-tgt-dev.pt")
    alone = vocabs.batcher("es").batch([Sentence(dev[samples[0].sentence].tokens, [], 0)], [0])
    with torch.inference_mode():
        expected = model.encoder(alone)[0, samples[0].position].numpy()
    assert torch.allclose(torch.from_numpy(states[0]), torch.from_numpy(expected), atol=1e-5)

    augmented = tmp_path / "not-shared"
    augmented.mkdir()
    (augmented / "config.json").write_text(json.dumps({**config, "cross": {**config["cross"], "model": "cross-word"}}))
    bad = CliRunner().invoke(cli, ["cross", "fig3", str(augmented)])
    assert isinstance(bad.exception, ZsnerError) and "needs a Cross-Shared run" in str(bad.exception)


def test_algorithm_1_starts_from_the_best_source_variant(shared_run, tmp_path):
    """`zsner cross pick-source` (what make train-X and the seed runs pass to Cross-Augmented): the source
    run with the best source-dev F1, or target-dev F1 when asked; unfinished or augmented runs are refused."""
    from zsner.cli import cli

    tmp, shared, _ = shared_run
    word = tmp_path / "cross-word"
    SourceTrainer(load_cross_recipe(make_recipe(tmp, "cross-word", epochs=2)), word).run_training()
    runs = [word, shared]
    for by in ("src-dev", "tgt-dev"):
        scores = {run: json.loads((run / "metrics.json").read_text())["dev_f1"][by] for run in runs}
        result = CliRunner().invoke(cli, ["cross", "pick-source", *map(str, runs), "--by", by], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert Path(result.output.strip()) == max(runs, key=lambda r: (scores[r], -runs.index(r)))
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    bad = CliRunner().invoke(cli, ["cross", "pick-source", str(shared), str(unfinished)])
    assert isinstance(bad.exception, ZsnerError) and "has not finished" in str(bad.exception)
