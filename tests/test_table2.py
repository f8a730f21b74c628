"""Table 2 (supervised monolingual NER): a pair recipe turned round onto its target language, and the table
built from real short runs on real Spanish slices."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import REPO, corpus
from cross_fixtures import slice_corpus, write_vec
from zsner.cross.cli import table2
from zsner.errors import ZsnerError
from zsner.training.recipe import load_recipe, target_recipe
from zsner.training.trainer import Trainer


def test_a_pair_recipe_turned_onto_its_target_language(tmp_path, monkeypatch):
    # The recipe's paths are relative to the working directory; a clean clone has no data/ner yet, so the
    # test works in a folder whose data/ner is the shared gold data.
    (tmp_path / "data").mkdir()
    (tmp_path / "data/ner").symlink_to(corpus("conll2002/esp.train").parents[1])
    monkeypatch.chdir(tmp_path)
    pair = REPO / "recipes/es.toml"
    base, mono = load_recipe(pair), target_recipe(pair)
    assert mono.name == "es"
    assert (mono.data.language, mono.data.train, mono.data.dev, mono.data.test, mono.data.scheme) == (
        "es", "data/ner/conll2002/esp.train", "data/ner/conll2002/esp.testa", "data/ner/conll2002/esp.testb", "iob2")
    assert mono.vectors == {"es": "data/vectors/es.vec"}  # the English vectors are not this language's
    assert (mono.model, mono.training, mono.data.train_scheme) == (base.model, base.training, base.data.train_scheme)


def test_a_target_without_labelled_training_text_is_one_line_error(tmp_path):
    tokens = tmp_path / "de.tokens.txt"
    tokens.write_text("Das ist ein Satz .\nNoch einer .\n", encoding="utf-8")
    recipe = tmp_path / "de.toml"
    recipe.write_text((REPO / "recipes/de.toml").read_text(encoding="utf-8"))
    with pytest.raises(ZsnerError, match="holds no tags: de has no labelled training file here"):
        target_recipe(recipe, {"target.unlabelled": str(tokens)})


@pytest.fixture(scope="module")
def table2_runs(tmp_path_factory) -> Path:
    """Three 1-epoch runs on 150 real esp.train sentences: random ± chars, and vectors of a kind named 'mine'."""
    tmp = tmp_path_factory.mktemp("table2")
    train = slice_corpus("conll2002/esp.train", tmp / "esp.train", 150, "latin-1")
    dev = slice_corpus("conll2002/esp.testa", tmp / "esp.testa", 40, "latin-1")
    test = slice_corpus("conll2002/esp.testb", tmp / "esp.testb", 40, "latin-1")
    (tmp / "mine").mkdir()
    vectors = write_vec(tmp / "mine/es.vec", [train, dev, test], 300, seed=1)
    common = {"target.unlabelled": str(train), "target.dev": str(dev), "target.test": str(test),
              "training.epochs": 1, "training.eval_every": 5, "training.threads": 1}
    for name, extra in (("random-char", {"vectors.es": ""}), ("random-nochar", {"vectors.es": "", "model.use_chars": False}),
                        ("mine-char", {"vectors.es": str(vectors)})):
        Trainer(target_recipe(REPO / "recipes/es.toml", {**common, **extra}), tmp / "runs/es" / name).run()
    return tmp / "runs"


def test_table2_rows_come_from_the_runs(table2_runs, tmp_path):
    result = CliRunner().invoke(table2, ["--runs", str(table2_runs), "--out", str(tmp_path / "t2")])
    assert result.exit_code == 0, result.output
    with (tmp_path / "t2.csv").open(encoding="utf-8") as handle:
        rows = {(r["embeddings"], r["chars"]): r for r in csv.DictReader(handle)}
    assert set(rows) == {("random", "True"), ("random", "False"), ("mine", "True")}
    for (kind, chars), row in rows.items():
        run = table2_runs / "es" / f"{kind}-{'char' if chars == 'True' else 'nochar'}"
        metrics = json.loads((run / "metrics.json").read_text())
        assert float(row["test_mean"]) == pytest.approx(metrics["test"]["f1"])
        assert json.loads((run / "config.json").read_text())["data"]["train"].endswith("esp.train")
        assert row["language"] == "es" and row["epochs"] == "1" and row["paper"] == ""
    assert int(rows[("random", "True")]["parameters"]) > int(rows[("random", "False")]["parameters"])
    markdown = (tmp_path / "t2.md").read_text()
    assert "de (no labelled train file here" in markdown and "en (not run)" in markdown


def test_table2_without_runs_is_one_line_error(tmp_path):
    result = CliRunner().invoke(table2, ["--runs", str(tmp_path), "--out", str(tmp_path / "t2")])
    assert result.exit_code != 0 and "no supervised run with metrics.json found" in str(result.exception or result.output)
