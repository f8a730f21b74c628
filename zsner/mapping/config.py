"""Hyper-parameters of the mapping, read from the ``[mapping]`` table of a recipe.

Defaults are zsner's fast schedule (about 20 minutes for 200k x 300 vectors on 2 CPU cores); the
values of MUSE's own schedule are given in the comments and by :meth:`MappingConfig.muse_like`.
Every key of the table must be a field here: a typo must fail loudly, not be silently ignored.
"""
from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zsner.errors import ZsnerError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DICO_BUILDS = ("S2T", "T2S", "S2T&T2S", "S2T|T2S")
PRECISIONS = ("auto", "fp32", "bf16")


@dataclass
class MappingConfig:
    # --- what is mapped -------------------------------------------------------------------
    direction: str = ""            # "en->es": the en vectors are mapped into the es space
    max_vocab: int = 200_000       # rows read from each .vec file (MUSE: 200k)
    dictionary: str = ""           # bilingual dictionary for evaluation only ("" = no P@k)
    seed: int = 1
    normalize: str = ""            # zsner.embeddings.normalize spec, e.g. "unit,center,unit" (MUSE: "")
    lowercase_dictionary: bool = False  # MUSE lowercases dictionary entries
    # learn and score the map on lower-cased words, each form with its most frequent casing's vector, as
    # MUSE reads embeddings (zsner.mapping.vocabulary); the export keeps every cased row. Also lower-cases
    # the dictionaries, which could not match otherwise.
    lowercase_vocabulary: bool = True
    # --- initialisation: adversarial (Eq. 3-4) or a seed dictionary + Procrustes ----------
    # "" = adversarial; "identical" = Procrustes on identical strings; "identity" = W = I (vectors that
    # already share a space, e.g. distilled from one multilingual encoder); "similarity" = unsupervised,
    # words matched by their similarity distributions (VecMap's start; zsner.mapping.similarity_start);
    # or a dictionary file
    seed_dictionary: str = ""
    similarity_words: int = 4000   # "similarity": the most frequent words matched (VecMap: 4000)
    # --- models ----------------------------------------------------------------------------
    map_beta: float = 0.001        # orthogonalisation W <- (1+b)W - b W W^T W
    # Every N map steps also replace W by its nearest orthogonal matrix (0 = MUSE: the beta step
    # only). The discriminator's gradient shrinks some directions of W faster than the beta step
    # restores them (singular values 0.003-1.5 within one epoch on our vectors), so the map being
    # judged and refined is not the rotation the method assumes; snapping every 10 steps keeps it
    # one for ~3 % more time (both reach P@1 100 on bench_mapping.py --rotated-copy).
    orthogonal_every: int = 10
    dis_layers: int = 2
    dis_hid_dim: int = 2048
    dis_dropout: float = 0.0
    dis_input_dropout: float = 0.1
    # --- adversarial training --------------------------------------------------------------
    n_epochs: int = 5              # MUSE: 5
    # The number of map steps is what finds the rotation (bench/bench_mapping.py --rotated-copy:
    # 3,125 steps at batch 32 -> P@1 13 %, 6,250 -> 82 %; 1,560 steps at batch 128 -> 0.5 %), so
    # zsner keeps MUSE's batch and lr and cuts the schedule to 15,600 steps with bf16 matmuls
    # (38 vs 54 ms per step on 2 AMX cores) instead of MUSE's 156,000 fp32 ones.
    epoch_size: int = 100_000      # words per epoch (MUSE: 1,000,000); map steps = epoch_size/batch_size
    batch_size: int = 32           # words per side per step (as MUSE)
    dis_most_frequent: int = 75_000
    # distilled vectors (zsner embed distill, context): show the discriminator only the leading words
    # whose vectors are context vectors on both sides (zsner.mapping.distilled; no effect on others)
    dis_context_only: bool = True
    dis_steps: int = 5
    dis_smooth: float = 0.1
    dis_lambda: float = 1.0
    dis_clip_weights: float = 0.0
    dis_lr: float = 0.1            # SGD (as MUSE)
    map_lr: float = 0.1            # SGD (as MUSE)
    lr_decay: float = 0.98         # per epoch, map optimiser (as MUSE)
    min_lr: float = 1e-6
    lr_shrink: float = 0.5         # map lr /2 when the criterion drops (MUSE)
    # --- refinement (Procrustes on an induced dictionary, Eq. 5) ---------------------------
    n_refinement: int = 5
    dico_method: str = "csls_knn_10"   # or "nn"
    dico_build: str = "S2T"
    dico_max_rank: int = 15_000
    dico_max_size: int = 0
    # --- model selection / evaluation ------------------------------------------------------
    select_orthogonal: bool = True  # judge / keep the nearest orthogonal matrix of an adversarial W
    criterion_words: int = 10_000  # mean cosine of CSLS translations of the top-N source words
    csls_k: int = 10
    eval_every_epoch: bool = False  # MUSE: full word-translation evaluation after every epoch
    # --- speed -----------------------------------------------------------------------------
    precision: str = "auto"        # discriminator matmuls and k-NN candidate search: fp32 / bf16
    knn_chunk: int = 4096          # queries per k-NN block
    checkpoint_every_s: float = 120.0

    # recipe-level fields the CLI fills in (not in the [mapping] table)
    recipe: str = field(default="", repr=False)

    @property
    def languages(self) -> tuple[str, str]:
        """(source, target) of the map: the source vectors are mapped into the target space."""
        parts = [p.strip() for p in self.direction.split("->")]
        if len(parts) != 2 or not all(parts):
            raise ZsnerError(f"mapping.direction must look like 'en->es', got {self.direction!r}",
                             self.recipe or None)
        return parts[0], parts[1]

    @property
    def dictionaries_lowercased(self) -> bool:
        """Whether dictionary entries are lower-cased as read (a lower-cased vocabulary needs it)."""
        return self.lowercase_dictionary or self.lowercase_vocabulary

    @property
    def dis_epoch_steps(self) -> int:
        return max(1, self.epoch_size // self.batch_size)

    def validate(self) -> "MappingConfig":
        where = self.recipe or None
        if self.direction:
            self.languages  # noqa: B018  (raises on a malformed direction)
        if self.dico_build not in DICO_BUILDS:
            raise ZsnerError(f"mapping.dico_build must be one of {', '.join(DICO_BUILDS)}, "
                             f"got {self.dico_build!r}", where)
        if self.dico_method != "nn" and not (self.dico_method.startswith("csls_knn_")
                                             and self.dico_method[9:].isdigit()):
            raise ZsnerError(f"mapping.dico_method must be 'nn' or 'csls_knn_K', got {self.dico_method!r}", where)
        if self.precision not in PRECISIONS:
            raise ZsnerError(f"mapping.precision must be one of {', '.join(PRECISIONS)}", where)
        for name in ("max_vocab", "batch_size", "epoch_size", "dis_most_frequent", "dis_steps",
                     "dis_hid_dim", "criterion_words", "csls_k", "knn_chunk", "dico_max_rank", "similarity_words"):
            if getattr(self, name) <= 0:
                raise ZsnerError(f"mapping.{name} must be positive", where)
        for name in ("n_epochs", "n_refinement", "dis_layers", "dico_max_size"):
            if getattr(self, name) < 0:
                raise ZsnerError(f"mapping.{name} must be >= 0", where)
        if not 0 <= self.dis_smooth < 0.5:
            raise ZsnerError("mapping.dis_smooth must be in [0, 0.5)", where)
        return self

    @classmethod
    def from_dict(cls, table: dict[str, Any], recipe: str | Path | None = None) -> "MappingConfig":
        """Build from a ``[mapping]`` table; unknown keys and wrong types are :class:`ZsnerError`."""
        where = None if recipe is None else str(recipe)
        known = {f.name: f for f in dataclasses.fields(cls) if f.name != "recipe"}
        unknown = sorted(set(table) - set(known))
        if unknown:
            raise ZsnerError(f"unknown option(s) in [mapping]: {', '.join(unknown)} "
                             f"(known: {', '.join(sorted(known))})", where)
        values: dict[str, Any] = {}
        for key, value in table.items():
            default = known[key].default
            if isinstance(default, bool):
                ok = isinstance(value, bool)
            elif isinstance(default, int):
                ok = isinstance(value, int) and not isinstance(value, bool)
            elif isinstance(default, float):
                ok = isinstance(value, (int, float)) and not isinstance(value, bool)
                value = float(value)
            else:
                ok = isinstance(value, str)
            if not ok:
                raise ZsnerError(f"[mapping] {key} must be {type(default).__name__}, got {value!r}", where)
            values[key] = value
        return cls(**values, recipe=where or "").validate()

    @classmethod
    def muse_like(cls, **overrides: Any) -> "MappingConfig":
        """MUSE's default schedule (batch 32, 1M words per epoch, lr 0.1, fp32, eval every epoch)."""
        base = dict(n_epochs=5, epoch_size=1_000_000, batch_size=32, dis_lr=0.1, map_lr=0.1,
                    precision="fp32", eval_every_epoch=True, select_orthogonal=False,
                    orthogonal_every=0, dis_context_only=False)
        base.update(overrides)
        return cls(**base).validate()

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def read_recipe(path: str | Path) -> dict[str, Any]:
    """Read a recipe TOML; a missing file or a syntax error is a :class:`ZsnerError`."""
    path = Path(path)
    if not path.is_file():
        raise ZsnerError("no such recipe file", path)
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ZsnerError(f"not valid TOML: {e}", path) from None


def load_mapping_config(path: str | Path, overrides: dict[str, Any] | None = None
                        ) -> tuple[MappingConfig, dict[str, Any]]:
    """The validated ``[mapping]`` table of a recipe, with ``{"mapping.key": value}`` and
    ``{"vectors.LANG": path}`` overrides (``zsner map --set``) applied, and the whole recipe.

    ``vectors.LANG`` is what lets ``make map-X VECTORS=...`` map other vector files (distilled ones, public
    fastText files) with the same recipe."""
    recipe = read_recipe(path)
    table = recipe.get("mapping")
    if not isinstance(table, dict):
        raise ZsnerError("recipe has no [mapping] table", path)
    for key, value in (overrides or {}).items():
        section, _, name = key.partition(".")
        if section not in ("mapping", "vectors") or not name:
            raise ZsnerError(f"--set {key}: zsner map reads [mapping] and [vectors] keys "
                             "(mapping.NAME=VALUE, vectors.LANG=PATH)", path)
        if section == "vectors":
            recipe.setdefault("vectors", {})[name] = value
        else:
            table[name] = value
    return MappingConfig.from_dict(table, recipe=path), recipe
