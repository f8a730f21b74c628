"""Scoring the two selections of a transfer run on the target test set (shared by training and retargeting)."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from zsner.data.conll import Sentence, write_conll
from zsner.metrics import score
from zsner.model.tagger import count_parameters
from zsner.transfer.config import TransferConfig, TransferRecipe
from zsner.transfer.model import TransferTagger
from zsner.transfer.predict import encode_corpus, predict_encoded
from zsner.utils import atomic_write_json, atomic_write_text

log = logging.getLogger("zsner.transfer")


@dataclass
class Selection:
    """One model choice: which dev set chose it (``tgt-dev`` = F1•, ``src-dev`` = F1°), its bundle, step, dev F1."""

    name: str
    bundle: Path
    step: int
    dev_f1: float


def run_facts(recipe: TransferRecipe, model: TransferTagger) -> dict[str, Any]:
    cfg = recipe.transfer
    return {"model": recipe.model_name, "pair": recipe.pair, "seed": recipe.base.seed, "encoder": cfg.encoder,
            "head": cfg.head, "embeddings": cfg.embeddings, "parameters": count_parameters(model),
            "trained_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad)}


def score_selections(run_dir: Path, cfg: TransferConfig, model: TransferTagger, tokenizer, tags: list[str],
                     sets: dict[str, list[Sentence]], selections: list[Selection], metrics: dict[str, Any],
                     device: torch.device | str = "cpu", autocast=None) -> dict[str, Any]:
    """Tag the target test set with each selection; write predictions, conlleval reports and ``metrics.json``.

    The src-dev choice is also scored on English test when the recipe names one (``source_test``): how
    good the encoder is on the language it was fine-tuned on, beside how well that transfers.
    """
    test = encode_corpus(tokenizer, sets["target_test"], cfg.max_subwords, cfg.eval_batch_size, "target test")
    for selection in selections:
        saved = torch.load(selection.bundle, map_location="cpu", weights_only=False)
        model.load_state_dict(saved["state_dict"], strict=False)
        predicted = predict_encoded(model, test, tags, cfg.scheme, device, autocast)
        scores = score([s.tags for s in sets["target_test"]], predicted)
        key = "f1_tgt_dev_selected" if selection.name == "tgt-dev" else "f1_src_dev_selected"
        metrics[key] = round(scores.f1, 2)
        metrics[f"{selection.name}-selected"] = {"step": selection.step, "dev_f1": round(selection.dev_f1, 2),
                                                 "test": scores.as_dict()}
        write_conll(run_dir / f"test.{selection.name}-selected.predictions.conll", sets["target_test"], predicted)
        atomic_write_text(run_dir / f"test.{selection.name}-selected.conlleval.txt", scores.report() + "\n")
        log.info("target test, %s selection (step %d): %s", selection.name, selection.step,
                 scores.report().splitlines()[1])
        if selection.name == "src-dev" and "source_test" in sets:
            source = encode_corpus(tokenizer, sets["source_test"], cfg.max_subwords, cfg.eval_batch_size, "source test")
            source_scores = score([s.tags for s in sets["source_test"]],
                                  predict_encoded(model, source, tags, cfg.scheme, device, autocast))
            metrics["source_test_f1"] = round(source_scores.f1, 2)
            log.info("source test (src-dev selection): F1 %.2f", source_scores.f1)
    atomic_write_json(run_dir / "metrics.json", metrics)
    return metrics
