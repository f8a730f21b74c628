"""Self-training: the English model labels the target language's unlabelled sentences.

The transformer counterpart of the embedding baseline's Algorithm 1 and the one stage every pair can run:
it needs no parallel text and no translator, only ``[target] unlabelled`` (the same D_T). A sentence is
kept when the teacher is sure of every word (``min_confidence``: the smallest word probability of its
tags); at 0 every sentence is kept, sentences without entities too — they teach the student what is not
an entity in this language.
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from pathlib import Path

import torch

from zsner.data.conll import Sentence, read_unlabelled
from zsner.projection.config import StageRecipe
from zsner.projection.pseudo import PseudoLabels
from zsner.projection.teacher import tag as teacher_tag

log = logging.getLogger("zsner.projection")


def unlabelled_sentences(recipe: StageRecipe, max_sentences: int) -> list[Sentence]:
    """[target] unlabelled, tags dropped, cut to max_unlabelled and the stage's ``max_sentences``."""
    target = recipe.target
    sentences = read_unlabelled(target.unlabelled, target.unlabelled_encoding)
    for limit in (target.max_unlabelled, max_sentences):
        if limit:
            sentences = sentences[:limit]
    return sentences


def label(recipe: StageRecipe, device: torch.device) -> PseudoLabels:
    """Tag every unlabelled target sentence with the teacher; keep the confident ones."""
    teacher, cfg = Path(recipe.stages.teacher), recipe.stages.selftrain
    started = time.perf_counter()
    sentences = unlabelled_sentences(recipe, cfg.max_sentences)
    tags, confidence = teacher_tag(recipe, sentences, device, f"unlabelled target, {recipe.target.unlabelled}")
    kept, dropped = [], Counter()
    for words in confidence:
        keep = min(words, default=1.0) >= cfg.min_confidence
        kept.append(keep)
        if not keep:
            dropped["low_confidence"] += 1
    labelled = [Sentence(s.tokens, t, s.line) for s, t in zip(sentences, tags)]
    seconds = time.perf_counter() - started
    log.info("selftrain: kept %d of %d sentences (min_confidence %.2f) in %.0f s", kept.count(True), len(kept),
             cfg.min_confidence, seconds)
    return PseudoLabels("selftrain", labelled, kept, dropped,
                        {"teacher": str(teacher), "source": recipe.target.unlabelled,
                         "min_confidence": cfg.min_confidence, "seconds": round(seconds, 1)})
