"""Li et al.'s projection stage (``000_…`` §3.2 steps 2–3): the English model tags the English side of parallel
text, an entity alignment model (zsner.projection.entityalign) finds each English entity in the target
sentence, and the target sentences carry the projected entities to the student.

The alignment model needs (entity, sentence, span) examples. Li et al. built theirs from Wikipedia anchors
and a translation service; here they come from the parallel text itself: eflomal aligns the words, the
word-aligned projection of every pair that projects cleanly gives one positive per entity, and a quarter
of the examples are fake-entity negatives (§4.2). The model learns from projections of the easy pairs and
is then asked about every entity of every pair — including those of pairs word alignment dropped.

A pair is dropped when one of its entities fails to map (no target word reaches ``min_probability``:
``unmapped_entity``) or two projected entities overlap (``overlapping_entities``) — Li et al. filter "failed
examples" in the alignment step; a pair without English entities is kept with all-O tags. The alignment
model lives only in memory: the labels written to ``pseudo/`` are what a run (and its resume) keeps, and
eflomal cannot be seeded (see zsner.projection.wordalign), so labelling again from scratch may differ.
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from pathlib import Path

import torch

from zsner.data.conll import Sentence
from zsner.data.tags import chunks
from zsner.encoders.precision import autocast_for
from zsner.errors import ZsnerError
from zsner.projection.config import StageRecipe
from zsner.projection.entityalign import EntityAligner, Span, build_examples, no_scores
from zsner.projection.pseudo import PseudoLabels
from zsner.projection.teacher import tag as teacher_tag
from zsner.projection.wordalign import Link, align, project, read_parallel

log = logging.getLogger("zsner.projection")

UNMAPPED_ENTITY = "unmapped_entity"


def project_spans(english_tags: list[str], n_target: int, spans: list[Span | None]) -> tuple[list[str] | None, str]:
    """One pair's target tags from the alignment model's span of each English entity (in ``chunks`` order),
    or ``(None, reason)``. The spans reach :func:`zsner.projection.wordalign.project` as links from each
    entity's first word to its span's two ends, so the overlap rule and the tags are the word-aligned
    stage's own."""
    found = chunks(english_tags)
    if len(spans) != len(found):
        raise ValueError(f"{len(spans)} spans for {len(found)} entities")
    if any(span is None for span in spans):
        return None, UNMAPPED_ENTITY
    links: list[Link] = [(start, end) for (_, start, _), span in zip(found, spans) for end in span]
    return project(english_tags, n_target, links)


def label(recipe: StageRecipe, device: torch.device) -> PseudoLabels:
    """Tag, align, train the alignment model, and project every pair of ``[stages.entityalign] parallel``."""
    teacher, cfg, transfer = Path(recipe.stages.teacher), recipe.stages.entityalign, recipe.transfer
    started = time.perf_counter()
    pairs = read_parallel(cfg.parallel, cfg.max_pairs)
    if not pairs:
        raise ZsnerError("holds no sentence pair (expected `english<TAB>target` lines)", cfg.parallel)
    english_tags, _ = teacher_tag(recipe, [Sentence(list(en)) for en, _ in pairs], device,
                                  f"English side of {cfg.parallel}")
    n_entities = sum(len(chunks(tags)) for tags in english_tags)
    facts = {"teacher": str(teacher), "source": cfg.parallel, "english_entities": n_entities,
             "min_probability": cfg.min_probability}
    if n_entities == 0:
        log.warning("entityalign: the teacher found no entity on the English side of %s; every pair is kept "
                    "with all-O tags and no alignment model is trained", cfg.parallel)
        sentences = [Sentence(list(target), ["O"] * len(target)) for _, target in pairs]
        seconds = round(time.perf_counter() - started, 1)
        return PseudoLabels("entityalign", sentences, [True] * len(pairs), Counter(),
                            {**facts, "seconds": seconds, "align_examples": 0, "align_negatives": 0,
                             "align_heldout": no_scores(), "align_train_seconds": 0.0})

    log.info("entityalign: aligning %d pairs with eflomal for the alignment model's training examples", len(pairs))
    links = align(pairs)
    examples = build_examples(pairs, english_tags, links, cfg.train_examples, cfg.negatives, recipe.base.seed)
    negatives = sum(e.negative for e in examples)
    if negatives == len(examples):
        raise ZsnerError(f"none of the {n_entities} English entities the teacher found projects through word "
                         "alignment, so the alignment model has no example to learn from (more pairs: "
                         "[stages.entityalign] max_pairs)", cfg.parallel)
    log.info("entityalign: %d training examples (%d fake-entity negatives) from %d pairs", len(examples),
             negatives, len(pairs))
    if transfer.threads:
        torch.set_num_threads(transfer.threads)
    aligner = EntityAligner.from_encoder(transfer.encoder, transfer.max_subwords, cfg.min_probability, device,
                                         autocast_for(transfer.precision, device), transfer.eval_batch_size,
                                         transfer.dropout, recipe.base.seed)
    trained = aligner.train(examples, cfg.epochs, cfg.lr, cfg.batch_size, recipe.base.seed, transfer.embeddings,
                            transfer.clip)

    queries = [(english[start : end + 1], target) for (english, target), tags in zip(pairs, english_tags)
               for _, start, end in chunks(tags)]
    log.info("entityalign: the alignment model looks for %d English entities in their target sentences",
             len(queries))
    found = iter(aligner.find_all(queries))
    outcomes = [project_spans(tags, len(target), [next(found) for _ in chunks(tags)])
                for (_, target), tags in zip(pairs, english_tags)]
    seconds = time.perf_counter() - started
    labels = PseudoLabels.from_outcomes(
        "entityalign", [Sentence(list(target)) for _, target in pairs], outcomes,
        {**facts, "seconds": round(seconds, 1), "align_examples": len(examples), "align_negatives": negatives,
         "align_heldout": trained.heldout, "align_train_seconds": trained.seconds, "align_train_steps": trained.steps,
         "align_cut_words": aligner.stats.cut_words + trained.encoding.get("cut_words", 0)})
    log.info("entityalign: kept %d of %d pairs in %.0f s (dropped: %s)", labels.kept.count(True), len(pairs), seconds,
             dict(labels.dropped) or "none")
    return labels
