"""Can a cheap after-step lift the word-translation P@1 of distilled vectors (issue 11's P@1 aims)?

Two ideas, each scored as P@1 (NN and CSLS) of the shared space with no map (after unit, center, unit),
English -> PAIR on the FreeDict dictionary, against the vectors as built:

* ``top-D``: "all-but-the-top" (Mu & Viswanath 2018): remove each language's D strongest principal
  directions, which in contextual encoders' spaces carry frequency and position rather than meaning.
* ``fallback-linear`` / ``fallback-shift``: a word the sampled context pass never met is encoded alone
  (most of the rare ones: en 71k of 102k words, es 56k of 100k), and such vectors sit apart from the
  context vectors. Map them into the context space, by a ridge regression learned on the most frequent
  words that have both kinds of vector, or by moving their mean onto the context vectors' mean.

Which words fell back is recomputed with the pass's own sampling rule (``context_stride``; a word whose
only occurrences were cut off at ``--max-subwords`` counts as met, a few dozen words: en 70,994 here against
the build's 71,011); the vectors must be the default build (``--sentences 20000``), as ``make vectors
VECTORS=e5-small`` writes them.

usage: python bench/distill_postprocess.py [--pair es] [--variants built,top-1,top-3,fallback-linear,fallback-shift]
       [--fit-words 5000] [--threads N]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from zsner.embeddings.distill import LayerPooler, context_stride, corpus_vocabulary, vectors_alone  # noqa: E402
from zsner.embeddings.normalize import normalize  # noqa: E402
from zsner.embeddings.vectors import Embeddings, load_vectors  # noqa: E402
from zsner.mapping.dictionary import load_dictionary  # noqa: E402
from zsner.mapping.evaluation import word_translation  # noqa: E402
from zsner.mapping.neighbours import Radii  # noqa: E402

DEFAULT_SENTENCES = 20_000  # DistillSettings.sentences: the build these vectors come from


def met_in_context(lang: str, words: list[str]) -> np.ndarray:
    """True for the words the default context pass met in at least one sampled sentence."""
    corpus = Path(f"data/corpus/{lang}.txt")
    stride = context_stride(corpus_vocabulary(corpus, 1, 1).lines, DEFAULT_SENTENCES)
    met: set[str] = set()
    with open(corpus, encoding="utf-8") as f:
        for lineno, line in enumerate(f):
            if lineno % stride == 0:
                met.update(line.split())
    return np.array([w in met for w in words])


def without_top(matrix: np.ndarray, d: int) -> np.ndarray:
    """``matrix`` (centred) less its projection on the ``d`` strongest directions of its 50k first rows."""
    _, _, vt = np.linalg.svd(matrix[:50_000], full_matrices=False)
    top = vt[:d]
    return matrix - (matrix @ top.T) @ top


def fallback_variants(emb: Embeddings, lang: str, pooler: LayerPooler, fit_words: int) -> dict[str, np.ndarray]:
    """The vectors with their fallback rows moved into the context space, two ways."""
    met = met_in_context(lang, emb.words)
    fit, fell_back = np.flatnonzero(met)[:fit_words], np.flatnonzero(~met)
    alone = vectors_alone(pooler, [emb.words[i] for i in fit], 8192, lambda _: None)
    with_bias = np.hstack([alone, np.ones((len(fit), 1), np.float32)])
    ridge = np.linalg.solve(with_bias.T @ with_bias + np.eye(with_bias.shape[1]), with_bias.T @ emb.matrix[fit])
    linear, shift = emb.matrix.copy(), emb.matrix.copy()
    linear[fell_back] = np.hstack([emb.matrix[fell_back], np.ones((len(fell_back), 1), np.float32)]) @ ridge
    shift[fell_back] += emb.matrix[met].mean(0) - emb.matrix[fell_back].mean(0)
    print(f"{lang}: {len(fell_back)} of {len(emb.words)} words encoded alone; regression on {len(fit)} words")
    return {"fallback-linear": linear, "fallback-shift": shift}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--vectors", default="e5-small")
    ap.add_argument("--pair", default="es")
    ap.add_argument("--variants", default="built,top-1,top-3,fallback-linear,fallback-shift")
    ap.add_argument("--fit-words", type=int, default=5000)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    variants = a.variants.split(",")
    src = load_vectors(f"data/vectors/{a.vectors}/en.vec")
    tgt = load_vectors(f"data/vectors/{a.vectors}/{a.pair}.vec")
    pairs, _ = load_dictionary(f"data/dictionaries/en-{a.pair}.txt", src.index, tgt.index)
    sides = {v: (src.matrix, tgt.matrix) for v in variants if v == "built" or v.startswith("top-")}
    if any(v.startswith("fallback-") for v in variants):
        pooler = LayerPooler(Path(f"data/encoders/{a.vectors}"), (6,), "cpu", "fp32")
        moved = [fallback_variants(src, "en", pooler, a.fit_words), fallback_variants(tgt, a.pair, pooler, a.fit_words)]
        sides.update({v: (moved[0][v], moved[1][v]) for v in variants if v.startswith("fallback-")})
    print(f"\n| en→{a.pair}, {a.vectors}, no map | P@1 NN | P@1 CSLS | s |\n|---|---|---|---|")
    for variant in variants:
        t0 = time.time()
        s, t = (normalize(m.astype(np.float32, copy=True), "unit,center") for m in sides[variant])
        if variant.startswith("top-"):
            s, t = (without_top(m, int(variant[4:])) for m in (s, t))
        s, t = (torch.from_numpy(normalize(np.ascontiguousarray(m, np.float32), "unit")) for m in (s, t))
        r = word_translation(s, t, pairs, Radii(s, t), ks=(1,))
        print(f"| {variant} | {r['nn/P@1']:.2f} | {r['csls_knn_10/P@1']:.2f} | {time.time() - t0:.0f} |", flush=True)


if __name__ == "__main__":
    main()
