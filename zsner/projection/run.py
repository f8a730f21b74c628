"""Running a stage: pseudo-labels first (once; resumable), then the student, in one run directory::

    pseudo/labels.conll  pseudo/report.json   the stage's kept sentences and what it did (zsner.projection.pseudo)
    config.json … metrics.json                 the student's fine-tuning, as every transfer run (zsner.transfer.trainer)

``metrics.json`` carries the pseudo-label report too, so the comparison table and a reader find in one
file how many sentences the stage kept, how good their labels were, and what the student reached.
"""
from __future__ import annotations

import importlib
import logging
import shutil
from pathlib import Path
from typing import Any

from zsner.data.conll import Sentence, read_conll
from zsner.errors import ZsnerError
from zsner.projection import pseudo
from zsner.projection.config import StageRecipe
from zsner.training.rundir import RunDirectory
from zsner.training.trainer import resolve_device
from zsner.transfer.trainer import TransferTrainer
from zsner.utils import atomic_write_json

log = logging.getLogger("zsner.projection")

#: stages whose labelled sentences are [target] unlabelled, whose gold tags (if the file has them) score the labels
GOLD = {"selftrain", "crop"}


#: the module of each stage's ``label(recipe, device) -> PseudoLabels``, imported on use so that one stage's
#: dependencies (eflomal, a translator) never load for another
LABELLERS = {"selftrain": "selftrain", "wordalign": "wordalign_stage", "crop": "crop_stage",
             "entityalign": "entityalign_stage"}


def labeller(stage: str):
    """The stage's labelling function."""
    return importlib.import_module(f"zsner.projection.{LABELLERS[stage]}").label


def gold_of(recipe: StageRecipe, labelled: list[Sentence]) -> list[Sentence] | None:
    """Gold tags of the labelled sentences when their file has them (read only to score the pseudo-labels)."""
    target = recipe.target
    try:
        gold = read_conll(target.unlabelled, scheme=target.scheme, encoding=target.unlabelled_encoding)
    except ZsnerError:
        return None  # plain text, or no tag column: nothing to score against
    gold = gold[: len(labelled)]
    if [g.tokens for g in gold] != [s.tokens for s in labelled]:
        log.warning("%s: its tagged sentences do not line up with the unlabelled reading; pseudo-label quality "
                    "not scored", target.unlabelled)
        return None
    return gold


def reuse_labels(source_run: Path, folder: Path, stage: str) -> None:
    """Copy the finished pseudo-labels of another run of the same stage into ``folder``: an ablation that
    changes only the student (loss, start, English mixed in) then trains on the very same labels, which a
    stage that cannot be seeded (eflomal) would not give twice."""
    report = pseudo.read_report(source_run / "pseudo")
    if report is None:
        raise ZsnerError("has no finished pseudo-labels (pseudo/labels.conll and pseudo/report.json)", source_run)
    if report.get("stage") != stage:
        raise ZsnerError(f"holds pseudo-labels of the {report.get('stage')} stage, not of {stage}", source_run)
    shutil.copytree(source_run / "pseudo", folder, dirs_exist_ok=True)
    atomic_write_json(folder / "report.json", {**report, "labels_from": str(source_run)})
    log.info("%s: pseudo-labels copied from %s", stage, source_run)


def run_stage(recipe: StageRecipe, run_dir: Path, restart: bool = False,
              labels_from: Path | None = None) -> dict[str, Any]:
    """Pseudo-label (unless done, or copied ``labels_from`` another run of the stage), fine-tune the student
    (or resume it), return its metrics with the report."""
    folder = run_dir / "pseudo"
    student = recipe.student(folder / "labels.conll")
    directory = RunDirectory(run_dir, student.to_dict(), restart)
    directory.prepare()  # refuses another recipe's run before anything is computed
    if restart:
        shutil.rmtree(folder, ignore_errors=True)
    if labels_from is not None and pseudo.read_report(folder) is None:
        reuse_labels(labels_from, folder, recipe.stage)
    report = pseudo.read_report(folder)
    if report is None:
        device = resolve_device(recipe.transfer.device)
        directory.attach_log(device)
        try:
            labels = labeller(recipe.stage)(recipe, device)
            gold = gold_of(recipe, labels.sentences) if recipe.stage in GOLD else None
            report = pseudo.write(labels, folder, gold)
        finally:
            directory.detach_log()
        quality = report.get("quality", {})
        log.info("%s: %d of %d sentences kept, %s entities%s", recipe.stage, report["kept"], report["sentences_in"],
                 sum(report["entities"].values()),
                 "; pseudo-labels against gold: " + ", ".join(f"{k} F1 {v['f1']:.2f}" for k, v in quality.items())
                 if quality else "")
    metrics = TransferTrainer(student, run_dir).run()
    if metrics and "pseudo" not in metrics:
        metrics = {**metrics, "stage": recipe.stage, "pseudo": report}
        atomic_write_json(run_dir / "metrics.json", metrics)
    return metrics
