"""What the word-translation errors of a shared space are made of (issue 11): P@1 (CSLS, no map) by
frequency band, and how many errors are a *source-language* word found in the target vocabulary.

Vectors distilled from one multilingual encoder put an English word at the same place whichever
corpus it came from; the Spanish corpus holds English (untranslated help pages, man pages, names of
bands), so `the` in the Spanish vocabulary is the nearest Spanish "translation" of English `the`. The
last line scores again with every target word that is more frequent in the source corpus than in the
target corpus removed from the candidates (an estimate of what a language filter of the corpora gives).

FreeDict lists lemmas, one or two translations each (`catholic → católico`); MUSE's dictionaries, which
the paper's P@1 ≈ 80 was measured on, list inflected forms and synonyms too. So the stem-matched column
also counts a prediction that has the Snowball stem of a gold translation (`católica`, `católicos`): an
estimate of how many errors are inflections FreeDict lacks, not the paper's metric (it also accepts a
verb for its noun, `perder` for `pérdida`).

``--target-words N`` keeps only the N most frequent target words as candidates (and the dictionary pairs
among them): two builds compared at one N compete against the same number of words, which tells whether a
build's rare words, once they have context vectors, take P@1 from the frequent ones by standing as candidates.

usage: python bench/map_errors.py [--vectors e5-small] [--pair es] [--threads N] [--cased] [--target-words N]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import snowballstemmer  # noqa: E402
import torch  # noqa: E402

from zsner.embeddings.vectors import Embeddings, load_vectors  # noqa: E402
from zsner.mapping.dictionary import load_dictionary  # noqa: E402
from zsner.mapping.evaluation import precision_at_k, translation_ranks  # noqa: E402
from zsner.mapping.neighbours import Radii, unit_rows  # noqa: E402
from zsner.mapping.vocabulary import mapping_vocabulary  # noqa: E402

BANDS = [(0, 5000), (5000, 6500), (5000, 20000), (20000, 50000), (50000, 10**9)]  # 5000-6500: MUSE's test words
SNOWBALL = {"es": "spanish", "nl": "dutch", "de": "german", "fi": "finnish", "ar": "arabic"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vectors", default="e5-small")
    ap.add_argument("--pair", default="es")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--cased", action="store_true", help="score the cased words (by default lower-cased, as MUSE)")
    ap.add_argument("--target-words", type=int, default=0, help="candidates: the N most frequent target words (0 = all)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    src, tgt = (mapping_vocabulary(load_vectors(f"data/vectors/{a.vectors}/{lang}.vec"), not a.cased)
                for lang in ("en", a.pair))
    if a.target_words:
        tgt = Embeddings(tgt.words[:a.target_words], tgt.matrix[:a.target_words])
    pairs, _ = load_dictionary(f"data/dictionaries/en-{a.pair}.txt", src.index, tgt.index, lowercase=not a.cased)
    s, t = unit_rows(torch.from_numpy(src.matrix)), unit_rows(torch.from_numpy(tgt.matrix))
    sources, top = translation_ranks(s, t, pairs, "csls_knn_10", Radii(s, t), 10)
    gold: dict[int, set[int]] = {}
    for x, y in pairs.tolist():
        gold.setdefault(x, set()).add(y)
    hit = np.array([row[0] in gold[x] for x, row in zip(sources.tolist(), top.tolist())])
    stem = snowballstemmer.stemmer(SNOWBALL[a.pair]).stemWord
    stem_hit = np.array([stem(tgt.words[row[0]]) in {stem(tgt.words[y]) for y in gold[x]}
                         for x, row in zip(sources.tolist(), top.tolist())])
    among = f" among the {len(tgt)} most frequent target words" if a.target_words else ""
    print(f"en→{a.pair}, {a.vectors}, no map{among}: {len(sources)} dictionary words, P@1 CSLS {100 * hit.mean():.1f}, "
          f"stem-matched {100 * stem_hit.mean():.1f}\n")
    print("| source frequency rank | words | P@1 CSLS | stem-matched |\n|---|---|---|---|")
    for lo, hi in BANDS:
        m = (sources >= lo) & (sources < hi)
        band = f"{lo:,}–{hi:,}" if hi < 10**9 else f"{lo:,}–"
        print(f"| {band} | {m.sum()} | {100 * hit[m].mean():.1f} | {100 * stem_hit[m].mean():.1f} |")
    predicted = [tgt.words[row[0]] for row in top.tolist()]

    def from_source_language(word: str) -> bool:
        rank = src.index.get(word)
        return rank is not None and rank < tgt.index[word]

    errors = [i for i in range(len(sources)) if not hit[i]]
    itself = sum(predicted[i] == src.words[sources[i]] for i in errors)
    foreign = sum(from_source_language(predicted[i]) for i in errors)
    print(f"\nerrors {len(errors)}: the source word itself {itself}, a word more frequent in the English corpus {foreign}")
    keep = np.array([not from_source_language(w) for w in tgt.words])
    rows = np.nonzero(keep)[0]
    new_row = -np.ones(len(keep), dtype=np.int64)
    new_row[rows] = np.arange(len(rows))
    kept = np.array([(x, new_row[y]) for x, y in pairs.tolist() if new_row[y] >= 0])
    t2 = t[torch.from_numpy(rows)]
    s2, top2 = translation_ranks(s, t2, kept, "csls_knn_10", Radii(s, t2), 10)
    p = precision_at_k(s2, top2, kept)
    print(f"without the {(~keep).sum()} target words more frequent in the English corpus: {len(s2)} dictionary words, "
          f"P@1 CSLS {p[1]:.1f}, P@10 {p[10]:.1f}")


if __name__ == "__main__":
    main()
