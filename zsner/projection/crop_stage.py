"""CROP as a stage (Yang et al. 2022, ``001_…`` §3.4): translate, tag, translate back with markers, match.

Every sentence of ``[target] unlabelled`` (the same D_T the other stages read) is translated into English;
the teacher tags the English; each sentence with entities is translated back with its entities wrapped in
markers, each entity is also translated on its own, and :func:`zsner.projection.crop.project` matches the
entities onto the original sentence. The labelled sentences are the original target sentences — never the
translations — so the student learns from native text, and where [target] unlabelled is the CoNLL train
file, ``pseudo/report.json`` scores the projected labels against its gold tags (never read otherwise).

CROP trains its translator to carry the markers (labelled sequence translation); Apertium carries them as
positional blanks, which is why matching has candidates (see ``crop.py``). The report counts how each
entity was matched, so a reader sees how much rests on the markers.
"""
from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence

import torch

from zsner.data.conll import Sentence
from zsner.data.tags import chunks
from zsner.embeddings.tokenize import tokenize
from zsner.projection.config import StageRecipe
from zsner.projection.crop import Entity, candidates_of, entities_of, mark, marked_spans, project
from zsner.projection.pseudo import PseudoLabels
from zsner.projection.selftrain import unlabelled_sentences
from zsner.projection.teacher import tag as teacher_tag
from zsner.projection.translate import Translator, translators

log = logging.getLogger("zsner.projection")

EMPTY_TRANSLATION = "empty_translation"


def translate_plain(translator: Translator, texts: list[str], lang: str) -> list[list[str]]:
    """Tokens (cut as ``lang``'s CoNLL files) of each text's translation."""
    out = translator.translate([translator.escape(t) for t in texts])
    return [tokenize(translator.unescape(t), lang) for t in out]


def english_side(recipe: StageRecipe, sentences: Sequence[Sentence], to_english: Translator, device: torch.device
                 ) -> tuple[list[list[str]], list[list[str]]]:
    """CROP's first half: each target sentence's English translation (tokens) and the teacher's tags of it;
    a sentence the translator left empty gets no tokens and no tags."""
    english = translate_plain(to_english, [" ".join(s.tokens) for s in sentences], "en")
    tagged, _ = teacher_tag(recipe, [Sentence(t) for t in english if t], device, "English translations")
    tags_of = iter(tagged)
    return english, [next(tags_of) if tokens else [] for tokens in english]


def label(recipe: StageRecipe, device: torch.device) -> PseudoLabels:
    """Translate, tag, back-translate with markers, and match every unlabelled target sentence."""
    cfg, lang = recipe.stages.crop, recipe.target.language
    started = time.perf_counter()
    sentences = unlabelled_sentences(recipe, cfg.max_sentences)
    to_english, from_english = translators(cfg.translator, lang, cfg.to_english, cfg.from_english, str(device),
                                           cfg.batch_size, cfg.num_beams)
    log.info("crop: %s translates %d sentences of %s into English", to_english.name, len(sentences),
             recipe.target.unlabelled)
    english, english_tags = english_side(recipe, sentences, to_english, device)
    forward_seconds = time.perf_counter() - started
    labels = match_back(sentences, english, english_tags, from_english, lang)
    seconds = time.perf_counter() - started
    labels.facts.update({"teacher": recipe.stages.teacher, "source": recipe.target.unlabelled,
                         "to_english": to_english.name, "from_english": from_english.name,
                         "forward_translation_seconds": round(forward_seconds, 1), "seconds": round(seconds, 1)})
    log.info("crop: kept %d of %d sentences in %.0f s (dropped: %s; entities matched by %s; %d marker pairs lost)",
             labels.kept.count(True), len(labels.kept), seconds, dict(labels.dropped) or "none",
             labels.facts["matched_by"], labels.facts["markers_lost"])
    return labels


def match_back(sentences: Sequence[Sentence], english: Sequence[list[str]], english_tags: Sequence[list[str]],
               from_english: Translator, lang: str) -> PseudoLabels:
    """CROP's second half: each sentence's English translation (tokens; empty when the translator gave
    nothing) and its teacher tags → back-translation with markers and each entity alone → matching onto
    the original sentences. A sentence without English entities is kept with all-O tags."""
    tagged = [i for i, tags in enumerate(english_tags) if any(t != "O" for t in tags)]
    log.info("crop: %s translates %d tagged sentences back with their entities marked", from_english.name, len(tagged))
    back = dict(zip(tagged, from_english.translate([mark(english[i], english_tags[i], from_english.escape)
                                                    for i in tagged])))
    alone_words = sorted({tuple(english[i][s:e]) for i in tagged for _, s, e in entities_of(english[i], english_tags[i])})
    alone = dict(zip(alone_words, translate_plain(from_english, [" ".join(w) for w in alone_words], lang)))

    matched_by, markers_lost = Counter(), 0
    outcomes: list[tuple[list[str] | None, str | None]] = []
    for i, sentence in enumerate(sentences):
        if not english[i]:
            outcomes.append((None, EMPTY_TRANSLATION))
            continue
        if i not in back:
            outcomes.append((["O"] * len(sentence), None))
            continue
        spans = entities_of(english[i], english_tags[i])
        marked = marked_spans(back[i], len(spans), from_english.unescape)
        markers_lost += len(spans) - len(marked)
        entities = []
        for number, (kind, s, e) in enumerate(spans, 1):
            words = tuple(english[i][s:e])
            entities.append(Entity(kind, words, candidates_of(
                tuple(tokenize(marked[number], lang)) if number in marked else (), tuple(alone[words]), words)))
        projection = project(sentence.tokens, entities)
        matched_by.update(projection.matched_by)
        outcomes.append((projection.tags, projection.reason))
    return PseudoLabels.from_outcomes("crop", sentences, outcomes,
                                      {"english_entities": sum(len(chunks(t)) for t in english_tags),
                                       "matched_by": dict(matched_by), "markers_lost": markers_lost})
