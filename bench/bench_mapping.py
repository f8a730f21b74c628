"""Mapping speed and quality: a MUSE-like schedule (shortened by --factor) vs zsner's default,
on the same vectors, in one run.

MUSE's schedule: 5 epochs x 1,000,000 words, batch 32, SGD 0.1, fp32, a full word-translation
evaluation (CSLS over the whole vocabulary) after every epoch, 5 refinements. With --factor F each
MUSE epoch has 1,000,000/F words (F = 1 is the real thing: ~8 h for 200k x 300 on 2 cores).
zsner's default is MappingConfig() (batch 128, 250,000 words per epoch, SGD 0.2, bf16 matmuls
where the CPU is fast at them, CSLS radii once per map, no per-epoch evaluation).

usage: python bench/bench_mapping.py SRC.vec TGT.vec DICTIONARY [--max-vocab 200000] [--factor 20]
       [--normalize SPEC] [--only muse|zsner] [--set key=value ...] [--json out.json]
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
from zsner.mapping.config import MappingConfig  # noqa: E402
from zsner.mapping.dictionary import load_dictionary  # noqa: E402
from zsner.mapping.pipeline import run_mapping  # noqa: E402


def parse_value(v: str):
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(v.lower(), v)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", type=Path)
    ap.add_argument("tgt", type=Path)
    ap.add_argument("dictionary", type=Path)
    ap.add_argument("--max-vocab", type=int, default=200_000)
    ap.add_argument("--factor", type=float, default=20.0, help="MUSE epochs shortened by this factor")
    ap.add_argument("--normalize", default="")
    ap.add_argument("--only", choices=["muse", "zsner"], default=None)
    ap.add_argument("--set", action="append", default=[], help="zsner config override key=value")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)

    t0 = time.perf_counter()
    src = load_vectors(a.src, a.max_vocab)
    tgt = load_vectors(a.tgt, a.max_vocab)
    pairs, stats = load_dictionary(a.dictionary, src.index, tgt.index)
    load_s = time.perf_counter() - t0
    print(f"vectors {len(src)} x {src.dim} / {len(tgt)} x {tgt.dim}, dictionary {stats.in_vocab} pairs "
          f"({stats.sources} sources) in vocab, loaded in {load_s:.1f} s, {a.threads} threads", flush=True)

    common = dict(max_vocab=a.max_vocab, normalize=a.normalize, seed=a.seed)
    zs = {**common, **{k: parse_value(v) for k, v in (s.split("=", 1) for s in a.set)}}
    runs = {
        "muse": MappingConfig.muse_like(**common, epoch_size=int(1_000_000 / a.factor)),
        "zsner": MappingConfig(**zs).validate(),
    }
    results = {}
    for name, cfg in runs.items():
        if a.only and name != a.only:
            continue
        print(f"\n== {name}: epochs {cfg.n_epochs} x {cfg.epoch_size} words, batch {cfg.batch_size}, "
              f"lr {cfg.map_lr}/{cfg.dis_lr}, precision {cfg.precision}, eval every epoch {cfg.eval_every_epoch}",
              flush=True)
        t = time.perf_counter()
        _, rep = run_mapping(cfg, src.words, src.matrix, tgt.words, tgt.matrix, None, a.device,
                             eval_pairs=pairs, log=lambda m: print("  " + m, flush=True))
        rep["seconds"]["total"] = round(time.perf_counter() - t, 1)
        results[name] = rep

    print("\n| schedule | " + " | ".join(["total s", "adversarial s", "criterion s", "refinement s",
                                          "eval s", "P@1 NN before", "P@1 CSLS before", "P@1 NN after",
                                          "P@1 CSLS after"]) + " |")
    print("|" + "---|" * 10)
    for name, rep in results.items():
        sec = rep["seconds"]
        ev = sum(v for k, v in sec.items() if k.startswith("eval"))
        b, f = rep["eval"].get("before_refinement", {}), rep["eval"].get("after_refinement", {})
        print(f"| {name} | {sec['total']} | {sec.get('adversarial', 0)} | {sec.get('criterion', 0)} | "
              f"{sec.get('refinement', 0)} | {ev:.1f} | {b.get('nn/P@1')} | {b.get('csls_knn_10/P@1')} | "
              f"{f.get('nn/P@1')} | {f.get('csls_knn_10/P@1')} |")
    if a.json:
        a.json.write_text(json.dumps({"load_s": load_s, "factor": a.factor, "results": results}, indent=2))


if __name__ == "__main__":
    main()
