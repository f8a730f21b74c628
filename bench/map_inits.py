"""Word-translation P@1 of every pair's vectors under the three ways to start a map (README table, issue 11).

For each pair (its recipe's direction, and with --both-directions the reverse too) and each start:

* ``identity``: W = I, then Procrustes/CSLS refinement. Vectors distilled from one multilingual encoder
  already share a space; "before" is what that space gives without any mapping.
* ``identical``: Procrustes on the words spelled alike in both vocabularies, then refinement (the recipes'
  default on the fastText vectors trained here).
* ``similarity``: unsupervised, words matched by their similarity distributions (VecMap's start,
  rotation-invariant), then refinement.
* ``adversarial``: MUSE's unsupervised start (zsner's schedule: 5 x 100k words), then refinement.

P@1 (NN and CSLS) on the recipe's FreeDict dictionary, before and after refinement, is printed as one
Markdown table; ``--json`` keeps every report. Each cell is the same computation as
``zsner map recipes/X.toml --set vectors.en=... --set mapping.seed_dictionary=...``.

usage: python bench/map_inits.py --vectors e5-small [--pairs es nl de ar fi] [--inits identity identical similarity adversarial]
       [--both-directions] [--max-vocab 200000] [--threads N] [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from zsner.embeddings.vectors import load_vectors  # noqa: E402
from zsner.mapping.config import load_mapping_config  # noqa: E402
from zsner.mapping.dictionary import load_dictionary  # noqa: E402
from zsner.mapping.distilled import discriminator_words  # noqa: E402
from zsner.mapping.pipeline import run_mapping  # noqa: E402
from zsner.mapping.vocabulary import mapping_vocabulary  # noqa: E402

SEEDS = {"identity": "identity", "identical": "identical", "similarity": "similarity", "adversarial": ""}


def vector_file(kind: str, lang: str) -> str:
    """The path `make VECTORS=kind` uses (Makefile: vector_file)."""
    return f"data/vectors/{lang}.vec" if kind == "fasttext" else f"data/vectors/{kind}/{lang}.vec"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vectors", default="e5-small", help="fasttext or a distilled kind (data/vectors/KIND/)")
    ap.add_argument("--pairs", nargs="+", default=["es", "nl", "de", "ar", "fi"])
    ap.add_argument("--inits", nargs="+", choices=list(SEEDS), default=list(SEEDS))
    ap.add_argument("--both-directions", action="store_true", help="also map the other way (dictionary reversed)")
    ap.add_argument("--max-vocab", type=int, default=200_000)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    rows, reports = [], {}
    for pair in a.pairs:
        cfg0, _ = load_mapping_config(Path("recipes") / f"{pair}.toml")
        src_lang, tgt_lang = cfg0.languages
        directions = [(src_lang, tgt_lang)] + ([(tgt_lang, src_lang)] if a.both_directions else [])
        for src_lang, tgt_lang in directions:
            files = [(vector_file(a.vectors, lang), load_vectors(vector_file(a.vectors, lang), a.max_vocab))
                     for lang in (src_lang, tgt_lang)]
            src, tgt = (mapping_vocabulary(vectors, cfg0.lowercase_vocabulary) for _, vectors in files)
            dictionary = Path(f"data/dictionaries/{src_lang}-{tgt_lang}.txt")
            pairs, stats = load_dictionary(dictionary, src.index, tgt.index, cfg0.dictionaries_lowercased)
            for init in a.inits:
                cfg, _ = load_mapping_config(Path("recipes") / f"{pair}.toml", {
                    "mapping.seed_dictionary": SEEDS[init], "mapping.direction": f"{src_lang}->{tgt_lang}",
                    "mapping.dictionary": str(dictionary), "mapping.max_vocab": a.max_vocab})
                discriminator_words(cfg, [(path, vectors.words) for path, vectors in files],
                                    lambda m: print("   ", m, flush=True))
                t0 = time.perf_counter()
                _, report = run_mapping(cfg, src.words, src.matrix, tgt.words, tgt.matrix, None, "cpu",
                                        eval_pairs=pairs, log=lambda m: print("   ", m, flush=True))
                seconds = time.perf_counter() - t0
                before, after = report["eval"]["before_refinement"], report["eval"]["after_refinement"]
                reports[f"{src_lang}->{tgt_lang} {init}"] = report
                rows.append(f"| {src_lang}→{tgt_lang} | {init} | {stats.sources} | {before['nn/P@1']:.1f} | "
                            f"{before['csls_knn_10/P@1']:.1f} | {after['nn/P@1']:.1f} | {after['csls_knn_10/P@1']:.1f} "
                            f"| {seconds:.0f} |")
                print(rows[-1], flush=True)
    print(f"\nvectors: {a.vectors}, {a.max_vocab} words a language at most, {a.threads} threads")
    print("| direction | start | dictionary sources | P@1 NN before | CSLS before | NN after refinement | "
          "CSLS after | seconds |")
    print("|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    if a.json:
        a.json.write_text(json.dumps(reports, indent=2) + "\n")


if __name__ == "__main__":
    main()
