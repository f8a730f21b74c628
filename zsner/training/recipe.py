"""Recipes: one TOML file per experiment holds every setting (configuration as data, not flags).

A recipe is parsed into typed dataclasses; an unknown key or a value of the wrong type is an error
naming the recipe file and the key, so a typo never silently falls back to a default.
"""
from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

from zsner.data.tags import split_tag
from zsner.errors import ZsnerError
from zsner.model.tagger import ModelConfig


@dataclass
class DataConfig:
    """Where the labelled data is and how it is read; paths are relative to the working directory."""

    language: str = "en"
    train: str = ""
    dev: str = ""
    test: str = ""
    scheme: str = "iob2"  # tag scheme of the files
    encoding: str = "utf-8"
    train_scheme: str = "iobes"  # scheme the CRF is trained in (the paper: IOBES, except Arabic)
    max_train_length: int = 250  # longer training sentences are dropped, as in the paper
    lowercase: bool = False
    zeros: bool = True


@dataclass
class TrainingConfig:
    """Optimisation: SGD with lr = max(lr0 / (1 + decay·epoch), min_lr), the paper's schedule."""

    lr: float = 0.1
    lr_decay: float = 0.01
    min_lr: float = 1e-4
    momentum: float = 0.0
    clip: float = 5.0
    batch_size: int = 16
    epochs: int = 30
    eval_every: int = 150  # batches between dev evaluations
    eval_batch_size: int = 128
    singleton_unk: float = 0.5  # probability of replacing a training singleton by UNK (Lample et al.)
    threads: int = 0  # 0: every core
    device: str = "auto"  # auto | cpu | cuda


@dataclass
class TargetConfig:
    """The target language's data (``[target]``), read by the cross-lingual and the transfer stages. Only ``unlabelled`` is used for training (its tags, if any, are
    dropped); ``dev`` is used for the F1• selection only and ``test`` for the final scores."""

    language: str = ""
    unlabelled: str = ""  # CoNLL (token column) or one tokenised sentence per line
    unlabelled_encoding: str = "utf-8"
    max_unlabelled: int = 0  # 0: every sentence; else the first N (quick runs)
    dev: str = ""
    test: str = ""
    scheme: str = "iob2"  # tag scheme of dev/test files
    encoding: str = "utf-8"


@dataclass
class Recipe:
    name: str
    seed: int = 1
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    vectors: dict[str, str] = field(default_factory=dict)  # language → .vec path
    path: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def word_vectors(self) -> str | None:
        return self.vectors.get(self.data.language) or None


@dataclass
class PairRecipe:
    """A language pair's recipe: the supervised tables (``base``: the labelled source language) and the
    ``[target]`` table. The cross-lingual stages extend it with the table they own."""

    base: Recipe
    target: TargetConfig = field(default_factory=TargetConfig)

    @property
    def source_language(self) -> str:
        return self.base.data.language

    @property
    def pair(self) -> str:
        return f"{self.source_language}-{self.target.language}"


def _typed(cls, table: dict, path: Path, section: str):
    """Build dataclass ``cls`` from a TOML table, rejecting unknown keys and wrong types."""
    if not isinstance(table, dict):
        raise ZsnerError(f"[{section}] must be a table", path)
    hints = get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    values = {}
    for key, value in table.items():
        if key not in names:
            raise ZsnerError(f"unknown key {key!r} in [{section}] (known: {', '.join(sorted(names))})", path)
        expected = hints[key]
        ok = (
            (expected is bool and isinstance(value, bool))
            or (expected is int and isinstance(value, int) and not isinstance(value, bool))
            or (expected is float and isinstance(value, (int, float)) and not isinstance(value, bool))
            or (expected is str and isinstance(value, str))
        )
        if not ok:
            raise ZsnerError(f"[{section}] {key} = {value!r} should be of type {expected.__name__}", path)
        values[key] = float(value) if expected is float else value
    return cls(**values)


def read_table(path: str | Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The recipe file as a TOML table with ``overrides`` (``section.key`` → value, from ``--set``) applied.

    Each stage types the tables it owns from this (``[cross]``, ``[transfer]``, ...), so the file is read
    and overridden the same way everywhere.
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            table = tomllib.load(handle)
    except FileNotFoundError:
        raise ZsnerError("recipe not found", path) from None
    except tomllib.TOMLDecodeError as err:
        raise ZsnerError(f"not valid TOML: {err}", path) from None
    for dotted, value in (overrides or {}).items():
        *sections, key = dotted.split(".")
        node = table
        for section in sections:
            node = node.setdefault(section, {})
            if not isinstance(node, dict):
                raise ZsnerError(f"--set {dotted}: {section!r} is not a table", path)
        node[key] = value
    return table


def read_pair(path: str | Path, overrides: dict[str, Any] | None = None) -> tuple[Recipe, dict[str, Any], TargetConfig]:
    """A pair's recipe as its supervised tables, the whole overridden TOML table (for the stage's own
    table) and the checked ``[target]`` table: what every cross-lingual stage reads first."""
    table = read_table(path, overrides)
    base = recipe_from_table(table, Path(path))
    return base, table, read_target(table, base, Path(path))


def read_target(table: dict[str, Any], base: Recipe, path: Path) -> TargetConfig:
    """The ``[target]`` table, its language taken from ``[languages]`` when not given; checked to differ
    from the source language. Both cross-lingual stages read it here, so the two read it alike."""
    target = _typed(TargetConfig, table.get("target", {}), path, "target")
    languages = table.get("languages", {})
    if not target.language and isinstance(languages, dict):
        target.language = str(languages.get("target", ""))
    if not target.language:
        raise ZsnerError("[target] language is not set (nor [languages] target)", path)
    if target.language == base.data.language:
        raise ZsnerError(f"[target] language equals the source language {target.language!r}", path)
    return target


def load_recipe(path: str | Path, overrides: dict[str, Any] | None = None) -> Recipe:
    """Read a recipe file; ``overrides`` maps ``section.key`` to a value (e.g. from ``--set``)."""
    return recipe_from_table(read_table(path, overrides), Path(path))


def recipe_from_table(table: dict[str, Any], path: Path) -> Recipe:
    """The supervised tables of an (overridden) recipe table; the stages' own tables are left to them."""
    known = {"name", "seed", "data", "model", "training", "vectors"}
    # Tables owned by other stages (mapping, cross-lingual training) are read by those stages.
    foreign = {"languages", "mapping", "cross", "target", "transfer", "stages"}
    for key in table:
        if key not in known | foreign:
            raise ZsnerError(f"unknown top-level key {key!r} (known: {', '.join(sorted(known | foreign))})", path)
    vectors = table.get("vectors", {})
    if not all(isinstance(v, str) for v in vectors.values()):
        raise ZsnerError("[vectors] maps a language code to a .vec path (strings)", path)
    seed = table.get("seed", 1)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ZsnerError(f"seed = {seed!r} should be an integer", path)
    return Recipe(
        name=str(table.get("name", path.stem)),
        seed=seed,
        data=_typed(DataConfig, table.get("data", {}), path, "data"),
        model=_typed(ModelConfig, table.get("model", {}), path, "model"),
        training=_typed(TrainingConfig, table.get("training", {}), path, "training"),
        vectors=dict(vectors),
        path=str(path),
    )


def target_recipe(path: str | Path, overrides: dict[str, Any] | None = None) -> Recipe:
    """A pair recipe turned round: a supervised tagger of its *target* language (the paper's Table 2).

    Trains on ``[target] unlabelled`` with its gold tags (here they are read on purpose: Table 2 is the
    supervised upper reference, not a zero-resource run), selects on ``[target] dev``, scores ``[target] test``;
    model, training and the target's ``[vectors]`` entry come from the pair's own tables, so Table 2 and
    Table 4 of one pair share every setting but the data.
    """
    path = Path(path)
    base, _, target = read_pair(path, overrides)
    train = Path(target.unlabelled)
    if not train.is_file():
        raise ZsnerError(f"[target] unlabelled = {target.unlabelled!r} not found (the {target.language} training file)", path)
    with open(train, encoding=target.unlabelled_encoding, errors="replace") as handle:
        first = next((line for line in handle if line.strip() and not line.startswith("-DOCSTART-")), "")
    columns = first.split()
    if len(columns) < 2 or not _is_tag(columns[-1]):
        raise ZsnerError(f"[target] unlabelled = {target.unlabelled!r} holds no tags: {target.language} has no "
                         "labelled training file here, so no supervised tagger", path)
    data = dataclasses.replace(base.data, language=target.language, train=target.unlabelled, dev=target.dev,
                               test=target.test, scheme=target.scheme, encoding=target.encoding)
    vectors = {target.language: base.vectors[target.language]} if target.language in base.vectors else {}
    return dataclasses.replace(base, name=target.language, data=data, vectors=vectors)


def _is_tag(text: str) -> bool:
    try:
        split_tag(text)
    except ValueError:
        return False
    return True
