"""Which layer and which method give the best distilled word vectors? (the README's choice of defaults)

For the N most frequent words of two corpora, distil vectors with each method at each layer and score the
shared space as it is (identity map, no training): P@1 NN and CSLS on the pair's FreeDict dictionary. The
identity map isolates the vectors' quality from the mapping's; `bench/map_inits.py` then measures the maps.

usage: python bench/bench_distill_layers.py [--pair en-es] [--words 20000] [--alone-layers 0 2 4 6 8 10 12]
       [--context-layers 4 6 8] [--sentences 20000] [--encoder data/encoders/e5-small]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from zsner.embeddings.distill import DistillSettings, distill  # noqa: E402
from zsner.embeddings.vectors import read_vec  # noqa: E402
from zsner.mapping.dictionary import load_dictionary  # noqa: E402
from zsner.mapping.evaluation import word_translation  # noqa: E402
from zsner.mapping.neighbours import Radii  # noqa: E402


def centred_unit(m: np.ndarray) -> torch.Tensor:
    """Centred, then unit rows: the mean vector of a language is not about meaning (MUSE's "center")."""
    m = m - m.mean(0)
    return torch.from_numpy((m / np.linalg.norm(m, axis=1, keepdims=True)).astype(np.float32))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pair", default="en-es")
    ap.add_argument("--words", type=int, default=20_000)
    ap.add_argument("--alone-layers", type=int, nargs="*", default=[0, 2, 4, 6, 8, 10, 12])
    ap.add_argument("--context-layers", type=int, nargs="*", default=[4, 6, 8])
    ap.add_argument("--sentences", type=int, default=20_000)
    ap.add_argument("--encoder", type=Path, default=Path("data/encoders/e5-small"))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    src_lang, tgt_lang = a.pair.split("-")
    runs = [("alone", layer) for layer in a.alone_layers] + [("context", layer) for layer in a.context_layers]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for method, layer in runs:
            vectors, seconds = {}, 0.0
            for lang in (src_lang, tgt_lang):
                out = Path(tmp) / f"{lang}-{method}-{layer}.vec"
                settings = DistillSettings(method=method, layers=(layer,), max_words=a.words, sentences=a.sentences)
                t0 = time.perf_counter()
                distill(Path(f"data/corpus/{lang}.txt"), a.encoder, out, settings, echo=lambda m: None)
                seconds += time.perf_counter() - t0
                vectors[lang] = read_vec(out)
            src, tgt = vectors[src_lang], vectors[tgt_lang]
            pairs, stats = load_dictionary(Path(f"data/dictionaries/{a.pair}.txt"), src.index, tgt.index)
            s, t = centred_unit(src.matrix), centred_unit(tgt.matrix)
            result = word_translation(s, t, pairs, Radii(s, t), ("nn", "csls_knn_10"), (1, 10))
            rows.append(f"| {method} | {layer} | {stats.sources} | {result['nn/P@1']:.1f} | "
                        f"{result['csls_knn_10/P@1']:.1f} | {result['csls_knn_10/P@10']:.1f} | {seconds:.0f} |")
            print(rows[-1], flush=True)
    print(f"\n{a.pair}, the {a.words} most frequent words of each corpus, identity map (no training), "
          f"context: {a.sentences} sentences; {a.threads} threads")
    print("| method | layer | dictionary sources | P@1 NN | P@1 CSLS | P@10 CSLS | distil seconds (both languages) |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
