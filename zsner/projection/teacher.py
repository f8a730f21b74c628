"""The teacher's one job in every stage: tag sentences (target text, or the English side of parallel or
translated text) with the English model-transfer run, and say how sure it is of each word."""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import torch

from zsner.data.conll import Sentence
from zsner.encoders.precision import autocast_for
from zsner.projection.config import StageRecipe
from zsner.transfer.bundle import model_from_payload, read_checked
from zsner.transfer.predict import encode_corpus, predict_with_confidence

log = logging.getLogger("zsner.projection")


def tag(recipe: StageRecipe, sentences: Sequence[Sentence], device: torch.device, what: str
        ) -> tuple[list[list[str]], list[list[float]]]:
    """IOB2 tags and per-word tag probabilities of ``sentences`` from ``[stages] teacher`` (checked to fit
    the recipe), in order; ``what`` names the sentences in log lines and errors."""
    teacher = Path(recipe.stages.teacher)
    payload = read_checked(teacher, recipe.transfer)
    model, tokenizer = model_from_payload(payload, teacher, device)
    log.info("%s: the teacher %s tags %d sentences (%s)", recipe.stage, teacher, len(sentences), what)
    corpus = encode_corpus(tokenizer, sentences, payload["max_subwords"], recipe.transfer.eval_batch_size, what)
    return predict_with_confidence(model, corpus, payload["tags"], payload["scheme"], device,
                                   autocast_for(recipe.transfer.precision, device))
