"""Alignment-based projection: the English model tags the English side of parallel text, eflomal aligns the
words, and every English entity is copied onto the target words it is aligned to (zsner.projection.wordalign).

The classic annotation-projection baseline, and the first half of Li et al.'s pipeline (their entity
alignment model learns from such projections). A pair is dropped when an English entity has no aligned
target word or two projected entities overlap (Li et al. drop the same two cases); pairs without an English
entity are kept with all-O tags. Parallel text here has no gold tags, so the report counts entities, not
their quality. eflomal cannot be seeded: labelling again from scratch gives slightly different links, and
the labels written to ``pseudo/`` are what a run (and its resume) trains on.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

import torch

from zsner.data.conll import Sentence
from zsner.data.tags import chunks
from zsner.projection.config import StageRecipe
from zsner.projection.pseudo import PseudoLabels
from zsner.projection.teacher import tag as teacher_tag
from zsner.projection.wordalign import align, project, read_parallel

log = logging.getLogger("zsner.projection")


def label(recipe: StageRecipe, device: torch.device) -> PseudoLabels:
    """Tag, align and project every pair of ``[stages.wordalign] parallel``."""
    teacher, cfg = Path(recipe.stages.teacher), recipe.stages.wordalign
    started = time.perf_counter()
    pairs = read_parallel(cfg.parallel, cfg.max_pairs)
    english = [Sentence(list(en)) for en, _ in pairs]
    english_tags, _ = teacher_tag(recipe, english, device, f"English side of {cfg.parallel}")
    log.info("wordalign: aligning %d pairs with eflomal", len(pairs))
    links = align(pairs)
    outcomes = [project(tags, len(target), pair_links) for (_, target), tags, pair_links in zip(pairs, english_tags, links)]
    seconds = time.perf_counter() - started
    labels = PseudoLabels.from_outcomes("wordalign", [Sentence(list(target)) for _, target in pairs], outcomes,
                                        {"teacher": str(teacher), "source": cfg.parallel, "seconds": round(seconds, 1),
                                         "english_entities": sum(len(chunks(t)) for t in english_tags)})
    log.info("wordalign: kept %d of %d pairs in %.0f s (dropped: %s)", labels.kept.count(True), len(pairs), seconds,
             dict(labels.dropped) or "none")
    return labels
