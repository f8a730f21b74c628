"""The ``[stages]`` table of a pair's recipe: what every pseudo-labelling stage shares (the teacher that
labels, and how the student is fine-tuned on its labels), with one sub-table per stage
(``[stages.selftrain]``). Every key can be overridden for one run: ``--set stages.loss=ce``."""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zsner.errors import ZsnerError
from zsner.training.recipe import _typed
from zsner.transfer.config import TransferRecipe, load_transfer_recipe
from zsner.transfer.losses import LOSSES

log = logging.getLogger("zsner.projection")

INITS = ("teacher", "encoder")
TRANSLATORS = ("apertium", "hf")


@dataclass
class SelfTrainConfig:
    """``[stages.selftrain]``: the teacher labels the target language's unlabelled sentences ([target]
    unlabelled, the embedding baseline's D_T); the student learns from the sentences it is sure of."""

    min_confidence: float = 0.0  # keep a sentence when every word's tag has at least this probability (0: keep all)
    max_sentences: int = 0  # 0: every unlabelled sentence ([target] max_unlabelled applies first)


@dataclass
class WordAlignConfig:
    """``[stages.wordalign]``: the English side of parallel text tagged by the teacher, projected through
    eflomal's word alignments onto the target side."""

    parallel: str = ""  # `english tokens<TAB>target tokens` lines (make parallel-X: data/parallel/en-X.libreoffice.tsv)
    max_pairs: int = 0  # 0: every pair; else the first N


@dataclass
class CropConfig:
    """``[stages.crop]``: CROP's labelled-sequence translation (Yang et al. 2022, ``001_…`` §3.4): each
    target sentence is translated into English, tagged by the teacher, translated back with every entity
    wrapped in markers, and the back-translated entities are matched word by word onto the original sentence."""

    translator: str = "apertium"  # apertium (Debian's apertium-eng-spa: en<->es) | hf (two local seq2seq folders)
    to_english: str = ""  # apertium mode (default <tgt3>-eng, e.g. spa-eng) or a Hugging Face seq2seq folder
    from_english: str = ""  # apertium mode (default eng-<tgt3>) or a Hugging Face seq2seq folder
    max_sentences: int = 0  # 0: every unlabelled sentence ([target] max_unlabelled applies first)
    batch_size: int = 16  # sentences per translation call (hf: per generate batch)
    num_beams: int = 1  # hf only


@dataclass
class EntityAlignConfig:
    """``[stages.entityalign]``: Li et al.'s entity alignment model (``000_…`` §3, §4.2): an encoder reads an
    English entity (segment A) and a target sentence (segment B) and marks the words that translate it;
    it learns from word-aligned projections of parallel text (with fake-entity negatives), then projects
    the teacher's English entities of every pair."""

    parallel: str = ""  # `english tokens<TAB>target tokens` lines, as [stages.wordalign] parallel
    max_pairs: int = 0  # 0: every pair; else the first N are tagged and projected
    train_examples: int = 30000  # alignment model training examples (Li et al.: 30k per language)
    negatives: float = 0.25  # share of examples with a fake English entity absent from the sentence (Li et al.: 25 %)
    epochs: float = 1.0  # Li et al.: 3 epochs of XLM-R-large on 2 V100s
    lr: float = 5e-5
    batch_size: int = 32
    min_probability: float = 0.5  # a target word is inside the entity when its probability reaches this


@dataclass
class StagesConfig:
    """Teacher and student of every stage (Li et al. §4: fine-tune the English model on the pseudo-labels,
    1 epoch, re-weighted loss)."""

    teacher: str = ""  # a transfer bundle: the English model that labels (best-src-dev.pt: chosen without target labels)
    init: str = "teacher"  # the student starts from: teacher (Li et al.) | encoder (the bare encoder: Table 3's "skip")
    loss: str = "reweighted"  # ce | focal | reweighted
    gamma: float = 4.0
    with_source: bool = False  # train on English + pseudo-labels mixed (Table 3, rows 5-6)
    epochs: float = 1.0
    lr: float = 2e-5
    head_lr: float = 0.0  # 0: the same as lr from the teacher (its head is trained), [transfer] head_lr from the encoder
    freeze_layers: int = 0
    selftrain: SelfTrainConfig = field(default_factory=SelfTrainConfig)
    wordalign: WordAlignConfig = field(default_factory=WordAlignConfig)
    crop: CropConfig = field(default_factory=CropConfig)
    entityalign: EntityAlignConfig = field(default_factory=EntityAlignConfig)


@dataclass
class StageRecipe(TransferRecipe):
    """A pair's recipe seen by a stage: the transfer recipe its student trains with, and ``[stages]``."""

    stages: StagesConfig = field(default_factory=StagesConfig)
    stage: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "stages": dataclasses.asdict(self.stages), "stage": self.stage}

    def student(self, train_file: Path) -> "StageRecipe":
        """The recipe the student's ``TransferTrainer`` runs: [transfer] with the stage's training data,
        starting point, loss and schedule."""
        s, t = self.stages, self.transfer
        head_lr = s.head_lr or (s.lr if s.init == "teacher" else t.head_lr)
        transfer = dataclasses.replace(t, train=str(train_file), with_source=s.with_source,
                                       init=s.teacher if s.init == "teacher" else "", loss=s.loss, gamma=s.gamma,
                                       epochs=s.epochs, lr=s.lr, head_lr=head_lr, freeze_layers=s.freeze_layers,
                                       stage=self.stage)
        return dataclasses.replace(self, transfer=transfer)


#: stage name -> the type of its sub-table (its labeller: ``zsner.projection.run.LABELLERS``)
STAGE_TABLES = {"selftrain": SelfTrainConfig, "wordalign": WordAlignConfig, "crop": CropConfig,
                "entityalign": EntityAlignConfig}
STAGES = tuple(STAGE_TABLES)


def load_stage_recipe(path: str | Path, stage: str, overrides: dict[str, Any] | None = None) -> StageRecipe:
    """Read a pair's recipe for one stage; errors name the file and the key."""
    if stage not in STAGES:
        raise ZsnerError(f"unknown stage {stage!r} (known: {', '.join(STAGES)})")
    path = Path(path)
    recipe = load_transfer_recipe(path, overrides)
    from zsner.training.recipe import read_table

    table = dict(read_table(path, overrides).get("stages", {}))
    tables = {name: _typed(kind, table.pop(name, {}), path, f"stages.{name}") for name, kind in STAGE_TABLES.items()}
    stages = dataclasses.replace(_typed(StagesConfig, table, path, "stages"), **tables)
    selftrain, entityalign = stages.selftrain, stages.entityalign
    checks = [
        (not stages.teacher, "[stages] teacher is not set (a finished transfer run's best-src-dev.pt)"),
        (stages.init not in INITS, f"[stages] init = {stages.init!r} should be one of {', '.join(INITS)}"),
        (stages.loss not in LOSSES, f"[stages] loss = {stages.loss!r} should be one of {', '.join(LOSSES)}"),
        (stages.loss != "ce" and recipe.transfer.head == "crf",
         f"[stages] loss = {stages.loss!r} weights single words: it needs [transfer] head = \"linear\""),
        (stages.epochs <= 0 or stages.lr <= 0, "[stages] epochs and lr must be positive"),
        (not 0 <= selftrain.min_confidence <= 1, "[stages.selftrain] min_confidence is a probability, in [0, 1]"),
        (not getattr(getattr(stages, stage), "parallel", True),
         f"[stages.{stage}] parallel is not set (a parallel text file: make parallel-X builds one)"),
        (not 0 <= entityalign.negatives < 1, "[stages.entityalign] negatives is a share, in [0, 1)"),
        (stages.crop.translator not in TRANSLATORS,
         f"[stages.crop] translator = {stages.crop.translator!r} should be one of {', '.join(TRANSLATORS)}"),
    ]
    for failed, message in checks:
        if failed:
            raise ZsnerError(message, path)
    if stages.init == "encoder" and stages.loss == "reweighted":
        log.warning("%s: [stages] init = \"encoder\" with loss = \"reweighted\": from an untrained head this loss "
                    "has a local minimum near p = 0.16 and the student may never learn (see zsner/transfer/losses.py); "
                    "--set stages.loss=ce", path)
    return StageRecipe(recipe.base, recipe.target, recipe.transfer, stages, stage)
