"""The ``[target]`` and ``[cross]`` tables of a recipe (the other tables are read by
:func:`zsner.training.recipe.load_recipe` and by the mapping stage, which ignore these two).

One recipe file per language pair (``recipes/es.toml``) holds the mapping, the source data, the target
data and the cross-lingual model; ``[cross] model`` picks one of the four models of Table 4, so every
variant is the same recipe with one switch (``--set cross.model=cross-word``).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zsner.errors import ZsnerError
from zsner.training.recipe import PairRecipe, _typed, read_pair

MODELS = ("source-mono", "cross-word", "cross-shared", "cross-augmented")
SELECTIONS = ("src-dev", "tgt-dev")


@dataclass
class CrossConfig:
    """Which model of Table 4 and how it is trained.

    Word vectors: ``source-mono`` reads the monolingual ``[vectors]`` of both languages (or random
    target vectors with ``mono_target = "random"``); the ``cross-*`` models read the mapped vectors
    ``<mapped_dir>/<lang>.vec`` written by ``zsner map`` (both languages in one space).
    """

    model: str = "cross-shared"
    mapped_dir: str = ""  # run directory of `zsner map` (holds <src>.vec, <tgt>.vec, report.json)
    mono_target: str = "vectors"  # source-mono only: "vectors" (monolingual) or "random"
    # --- cross-augmented (Algorithm 1) ------------------------------------------------------------
    source_model: str = ""  # run directory of a trained source variant (e.g. runs/train-es/cross-shared)
    source_selection: str = "src-dev"  # which of its checkpoints starts θs: src-dev (unsupervised) | tgt-dev
    rounds: int = 10  # at most this many rounds of (re-label, train)
    patience: int = 3  # stop after this many rounds without a better src-dev or tgt-dev score
    min_length: int = 0  # length threshold l ~ U(min_length, max_length); 0: shortest / longest sentence
    max_length: int = 0
    max_steps_per_round: int = 0  # 0: one pass over the round's pseudo-labelled sentences
    evals_per_round: int = 2  # dev evaluations per round (the last one at the round's end)
    detach_source: bool = True  # the target loss updates θt only (Algorithm 1, step iii)
    lr: float = 0.0  # 0: the [training] schedule (lr0 / (1 + decay·round))


@dataclass
class CrossRecipe(PairRecipe):
    """A whole cross-lingual recipe: the supervised tables plus ``[target]`` and ``[cross]``."""

    cross: CrossConfig = field(default_factory=CrossConfig)
    mapping_direction: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {**self.base.to_dict(), "target": dataclasses.asdict(self.target),
                "cross": dataclasses.asdict(self.cross), "mapping_direction": self.mapping_direction}


def load_cross_recipe(path: str | Path, overrides: dict[str, Any] | None = None) -> CrossRecipe:
    """Read a recipe with its ``[target]`` and ``[cross]`` tables; errors name the file and key."""
    path = Path(path)
    base, table, target = read_pair(path, overrides)
    cross = _typed(CrossConfig, table.get("cross", {}), path, "cross")
    if cross.model not in MODELS:
        raise ZsnerError(f"[cross] model = {cross.model!r} should be one of {', '.join(MODELS)}", path)
    if cross.source_selection not in SELECTIONS:
        raise ZsnerError(f"[cross] source_selection should be one of {', '.join(SELECTIONS)}", path)
    if cross.mono_target not in ("vectors", "random"):
        raise ZsnerError("[cross] mono_target should be 'vectors' or 'random'", path)
    if cross.model == "cross-augmented" and not cross.source_model:
        raise ZsnerError("[cross] model = 'cross-augmented' needs source_model (a trained source run directory)", path)
    if cross.model != "source-mono" and not cross.mapped_dir:
        raise ZsnerError(f"[cross] model = {cross.model!r} needs mapped_dir (the `zsner map` run directory)", path)
    if cross.min_length < 0 or cross.max_length < 0 or (cross.max_length and cross.min_length > cross.max_length):
        raise ZsnerError("[cross] needs 0 <= min_length <= max_length (0 = corpus extremes)", path)
    for key in ("unlabelled", "dev", "test"):
        if not getattr(target, key):
            raise ZsnerError(f"[target] {key} is not set", path)
    mapping = table.get("mapping", {})
    direction = mapping.get("direction", "") if isinstance(mapping, dict) else ""
    return CrossRecipe(base, target, cross, str(direction))
