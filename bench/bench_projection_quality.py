"""Where do the stages lose? Their pseudo-labels scored against gold on the same target sentences.

The parallel text of the alignment stage has no gold tags, so its run reports no label quality. Here every
stage labels the *same* sentences — the first N of the pair's CoNLL train file, whose gold tags no stage
reads — and each labelling is scored against gold (entity P/R/F1 over the kept sentences, kept share):

- self-training: the teacher tags the target sentences directly;
- alignment projection: the sentences are translated into English (Apertium), the teacher tags the English,
  eflomal aligns English and target (grow-diag-final-and) and the entities are projected (wordalign.py);
- CROP: the same English translations and tags, translated back with markers and matched (crop_stage.py).

The parallel pairs made by translation are cleaner than human-translated text (one sentence for one), so the
alignment row is an upper bound for what eflomal's projection can do with this teacher, not the LibreOffice
run's quality. Needs Apertium for the pair (en-es only here).

usage: python bench/bench_projection_quality.py [--recipe recipes/es.toml] [--sentences 2000] [--threads 2]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from zsner.data.conll import Sentence  # noqa: E402
from zsner.metrics import score  # noqa: E402
from zsner.projection.config import load_stage_recipe  # noqa: E402
from zsner.projection.crop_stage import english_side, match_back  # noqa: E402
from zsner.projection.run import gold_of  # noqa: E402
from zsner.projection.selftrain import unlabelled_sentences  # noqa: E402
from zsner.projection.teacher import tag as teacher_tag  # noqa: E402
from zsner.projection.translate import translators  # noqa: E402
from zsner.projection.wordalign import align, project  # noqa: E402


def scored(name: str, gold: list[Sentence], tags: list[list[str] | None], seconds: float) -> dict:
    kept = [(g.tags, t) for g, t in zip(gold, tags) if t is not None]
    precision, recall, f1 = score([g for g, _ in kept], [t for _, t in kept]).overall()
    return {"labelling": name, "kept": f"{len(kept)} / {len(gold)}", "P": precision, "R": recall, "F1": f1,
            "seconds": seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--recipe", default="recipes/es.toml")
    ap.add_argument("--sentences", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device("cpu")
    recipe = load_stage_recipe(args.recipe, "crop", {"stages.crop.max_sentences": args.sentences})
    lang, cfg = recipe.target.language, recipe.stages.crop
    sentences = unlabelled_sentences(recipe, args.sentences)
    gold = gold_of(recipe, sentences)
    if gold is None:
        sys.exit(f"{recipe.target.unlabelled}: no gold tags to score against")
    rows = []

    start = time.perf_counter()
    direct, _ = teacher_tag(recipe, sentences, device, "target sentences")
    rows.append(scored("self-training (teacher on the target text)", gold, direct, time.perf_counter() - start))

    start = time.perf_counter()
    to_english, from_english = translators(cfg.translator, lang, cfg.to_english, cfg.from_english)
    english, english_tags = english_side(recipe, sentences, to_english, device)
    present = [i for i, e in enumerate(english) if e]
    shared = time.perf_counter() - start

    start = time.perf_counter()
    links = align([(english[i], sentences[i].tokens) for i in present])
    projected: list[list[str] | None] = [None] * len(sentences)
    for i, pair_links in zip(present, links):
        projected[i] = project(english_tags[i], len(sentences[i]), pair_links)[0]
    rows.append(scored(f"alignment projection ({to_english.name} + eflomal)", gold, projected,
                       shared + time.perf_counter() - start))

    start = time.perf_counter()
    labels = match_back(sentences, english, english_tags, from_english, lang)
    rows.append(scored(f"CROP ({to_english.name}, {from_english.name})", gold,
                       [s.tags if k else None for s, k in zip(labels.sentences, labels.kept)],
                       shared + time.perf_counter() - start))

    print(f"\n{recipe.pair}: pseudo-labels of the first {len(sentences)} sentences of {recipe.target.unlabelled} "
          f"against their gold tags (teacher {recipe.stages.teacher})\n")
    print("| labelling | kept | P | R | F1 | seconds |\n|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['labelling']} | {r['kept']} | {r['P']:.2f} | {r['R']:.2f} | {r['F1']:.2f} | {r['seconds']:.0f} |")


if __name__ == "__main__":
    main()
