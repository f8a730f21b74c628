"""Every shipped recipe loads and validates through each loader that reads it, and names the data the
rest of the project builds (a typo in a recipe must fail here, not an hour into `make train-X`)."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from conftest import REPO
from zsner.data.fetch import load_sources

RECIPES = sorted((REPO / "recipes").glob("*.toml"))
PAIRS = [p for p in RECIPES if "target" in tomllib.loads(p.read_text())]


def test_the_shipped_pairs_are_the_papers_five():
    assert sorted(p.stem for p in PAIRS) == ["ar", "de", "es", "fi", "nl"]


@pytest.mark.parametrize("path", RECIPES, ids=lambda p: p.stem)
def test_every_recipe_loads_through_its_loaders(path: Path):
    from zsner.cross.config import load_cross_recipe
    from zsner.mapping.config import load_mapping_config
    from zsner.training.recipe import load_recipe
    from zsner.transfer.config import load_transfer_recipe

    table = tomllib.loads(path.read_text())
    if "data" in table:
        load_recipe(path)
    if "mapping" in table:
        config, _ = load_mapping_config(path)
        assert config.languages == (table["languages"]["source"], table["languages"]["target"]) or \
            config.languages == (table["languages"]["target"], table["languages"]["source"])
    if "target" in table:
        cross = load_cross_recipe(path)
        assert (cross.source_language, cross.target.language) == ("en", path.stem)
    if "transfer" in table:
        load_transfer_recipe(path)


@pytest.mark.parametrize("path", PAIRS, ids=lambda p: p.stem)
def test_pair_recipes_name_the_fetched_gold_files_and_their_own_runs(path: Path):
    table = tomllib.loads(path.read_text())
    fetched = {f"data/ner/{s.path}" for s in load_sources()}
    for section, keys in (("data", ("train", "dev")), ("target", ("dev", "test"))):
        for key in keys:
            assert table[section][key] in fetched, f"[{section}] {key} = {table[section][key]}"
    unlabelled = table["target"]["unlabelled"]  # German has no train file: its own text (data README)
    assert unlabelled in fetched or (REPO / unlabelled).is_file() or not (REPO.parent / "shared").is_dir(), unlabelled
    lang = path.stem
    assert table["cross"]["mapped_dir"] == f"runs/map-{lang}"
    assert table["cross"]["source_model"] == f"runs/train-{lang}/cross-shared"
    assert set(table["vectors"]) == {"en", lang}
    assert table["mapping"]["dictionary"] in (f"data/dictionaries/en-{lang}.txt", f"data/dictionaries/{lang}-en.txt")
