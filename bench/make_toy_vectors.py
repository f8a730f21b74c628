"""Train small real fastText vectors from the shared CoNLL corpora, for bench_mapping.py and tests.

Writes into OUT_DIR:
  en.vec, es.vec             English (CoNLL-2003, all splits) and Spanish (CoNLL-2002, all splits)
  en_a.vec, en_b_rot.vec     two disjoint halves of the English sentences (even / odd), the second
                             multiplied by a random orthogonal matrix: an unsupervised-mapping task
                             on real vectors whose gold dictionary is the identity (en-en.txt)
  en-en.txt                  identity dictionary over the 5,000 most frequent shared words,
                             excluding the 1,000 most frequent (as MUSE's test dictionaries do)

usage: python bench/make_toy_vectors.py OUT_DIR [--dim 300] [--shared PATH]
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np


def conll_sentences(path: Path, encoding: str) -> list[list[str]]:
    sents, cur = [], []
    for line in path.read_text(encoding=encoding).splitlines():
        tok = line.split(" ")[0] if line.strip() else ""
        if not tok or tok == "-DOCSTART-":
            if cur:
                sents.append(cur)
            cur = []
        else:
            cur.append(tok)
    if cur:
        sents.append(cur)
    return sents


def train(sents: list[list[str]], dim: int, seed: int, out: Path, rotate: np.ndarray | None = None):
    import fasttext

    from zsner.embeddings.vectors import Embeddings, write_vec

    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        f.write("\n".join(" ".join(s) for s in sents) + "\n")
    model = fasttext.train_unsupervised(f.name, model="skipgram", dim=dim, epoch=10, minCount=3,
                                        thread=2, verbose=0)
    Path(f.name).unlink()
    words = model.get_words()  # by decreasing frequency, as in a .vec file
    mat = np.stack([model.get_word_vector(w) for w in words]).astype(np.float32)
    if rotate is not None:
        mat = mat @ rotate
    write_vec(Embeddings(list(words), mat), out)
    return list(words)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared" / "data")
    a = ap.parse_args()
    ner = a.shared / "ner"
    en = [s for n in ("eng.train", "eng.testa", "eng.testb")
          for s in conll_sentences(ner / "conll2003" / n, "utf-8")]
    es = [s for n in ("esp.train", "esp.testa", "esp.testb")
          for s in conll_sentences(ner / "conll2002" / n, "latin-1")]
    a.out.mkdir(parents=True, exist_ok=True)
    train(en, a.dim, 1, a.out / "en.vec")
    train(es, a.dim, 1, a.out / "es.vec")
    q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((a.dim, a.dim)))
    wa = train(en[0::2], a.dim, 2, a.out / "en_a.vec")
    wb = train(en[1::2], a.dim, 3, a.out / "en_b_rot.vec", rotate=q.astype(np.float32))
    shared = [w for w in wa if w in set(wb)]
    (a.out / "en-en.txt").write_text("".join(f"{w} {w}\n" for w in shared[1000:6000]), encoding="utf-8")
    print(f"en {len(en)} sents, es {len(es)} sents, halves vocab {len(wa)}/{len(wb)}, dict {len(shared[1000:6000])}")


if __name__ == "__main__":
    main()
