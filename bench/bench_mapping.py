"""Mapping speed and quality: a MUSE-like schedule (shortened by --factor) vs zsner's default,
on the same vectors, in one run.

MUSE's schedule: 5 epochs x 1,000,000 words, batch 32, SGD 0.1, fp32, a full word-translation
evaluation (CSLS over the whole vocabulary) after every epoch, 5 refinements. With --factor F each
MUSE epoch has 1,000,000/F words (F = 1 is the real thing: ~8 h for 200k x 300 on 2 cores).
zsner's default is MappingConfig(): MUSE's batch 32 and SGD 0.1 for 5 x 100,000 words (so --factor 10
gives both the same number of steps), bf16 matmuls where the CPU is fast at them, W snapped to the
nearest orthogonal matrix every 10 map steps, CSLS radii once per map, no per-epoch evaluation.

Two ways to make the task harder to fake:

* ``--rotated-copy``: TGT and DICTIONARY are ignored; the target is SRC times a random orthogonal
  matrix, so the right answer is known (the gold dictionary is the identity over source ranks
  1,000-6,000, as MUSE's test dictionaries skip the most frequent words). A schedule that cannot
  find this rotation cannot map two real languages either.
* ``--rotate-target``: TGT is rotated by a random orthogonal matrix and the real DICTIONARY kept: the
  known-answer test on vectors with real structure (issue 11). Vectors distilled from one multilingual
  encoder already share a space (the identity map scores well); rotated, only a method that finds the
  rotation from the two vector clouds alone gets that P@1 back.
* ``--pad-to N``: both matrices are extended to N rows (e.g. 200000, the size of the issue's speed
  target; our trained vocabularies hold ~40k words) with Gaussian rows of each side's own mean and
  covariance. They only make the neighbour searches as costly as real N-word vocabularies; the
  dictionary never names them.

usage: python bench/bench_mapping.py SRC.vec TGT.vec DICTIONARY [--max-vocab 200000] [--factor 20]
       [--normalize SPEC] [--only muse|zsner] [--set key=value ...] [--rotated-copy | --rotate-target] [--pad-to N]
       [--cased] [--json out.json] [--out DIR [--resume]]

A run of MUSE's full schedule (--factor 1) takes hours on a CPU: with --out DIR each schedule checkpoints into
DIR/muse or DIR/zsner (atomically, every few minutes and on ^C), and the same command with --resume continues it.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from zsner.embeddings.vectors import Embeddings, load_vectors  # noqa: E402
from zsner.mapping.config import MappingConfig  # noqa: E402
from zsner.mapping.distilled import discriminator_words  # noqa: E402
from zsner.mapping.dictionary import load_dictionary  # noqa: E402
from zsner.errors import ZsnerError  # noqa: E402
from zsner.mapping.pipeline import Interrupted, run_mapping  # noqa: E402
from zsner.mapping.vocabulary import mapping_vocabulary  # noqa: E402


def parse_value(v: str):
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(v.lower(), v)


def random_orthogonal(dim: int, seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((dim, dim)))
    return q * np.sign(np.diag(r))


def rotated_copy(src: Embeddings, seed: int) -> tuple[Embeddings, np.ndarray]:
    """SRC rotated by a random orthogonal matrix, and the identity dictionary over ranks 1000-6000."""
    q = random_orthogonal(src.dim, seed + 1000)
    tgt = Embeddings(list(src.words), (src.matrix.astype(np.float64) @ q.T).astype(np.float32))
    ranks = np.arange(min(1000, len(src) // 2), min(6000, len(src)))
    return tgt, np.stack([ranks, ranks], axis=1)


def pad_rows(emb: Embeddings, n: int, seed: int) -> Embeddings:
    """Extend to ``n`` rows with Gaussian rows of the matrix's own mean and covariance."""
    extra = n - len(emb)
    if extra <= 0:
        return emb
    m = emb.matrix.astype(np.float64)
    rng = np.random.default_rng(seed)
    rows = rng.multivariate_normal(m.mean(0), np.cov(m, rowvar=False), size=extra, method="cholesky")
    return Embeddings(emb.words + [f"<pad-{i}>" for i in range(extra)],
                      np.concatenate([emb.matrix, rows.astype(np.float32)]))


class StepLog:
    """Progress as log lines (every 5 % of a phase, at least 50 steps apart): a multi-hour run under nohup
    writes to a file, where a progress bar shows nothing until the phase ends."""

    def __init__(self, length: int, label: str) -> None:
        self.length, self.label, self.done, self.next = length, label, 0, 0
        self.t0 = time.perf_counter()

    def __enter__(self) -> "StepLog":
        return self

    def __exit__(self, *exc) -> None:
        pass

    def update(self, n: int) -> None:
        self.done += n
        if self.done >= self.next and self.length:
            print(f"  {self.label}: {self.done}/{self.length} steps, {time.perf_counter() - self.t0:.0f} s", flush=True)
            self.next = self.done + max(50, self.length // 20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", type=Path)
    ap.add_argument("tgt", type=Path)
    ap.add_argument("dictionary", type=Path)
    ap.add_argument("--max-vocab", type=int, default=200_000)
    ap.add_argument("--factor", type=float, default=20.0, help="MUSE epochs shortened by this factor")
    ap.add_argument("--normalize", default="")
    ap.add_argument("--only", choices=["muse", "zsner"], default=None)
    ap.add_argument("--cased", action="store_true",
                    help="map the cased words (mapping.lowercase_vocabulary = false); by default lower-cased, as MUSE")
    ap.add_argument("--set", action="append", default=[], help="zsner config override key=value")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rotated-copy", action="store_true",
                    help="target = SRC rotated by a random orthogonal matrix (known answer)")
    ap.add_argument("--rotate-target", action="store_true",
                    help="TGT rotated by a random orthogonal matrix, the real dictionary kept (known answer)")
    ap.add_argument("--pad-to", type=int, default=0, help="extend both vocabularies to N rows (timing)")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=None,
                    help="checkpoint each schedule into OUT/<schedule> (resumable with --resume)")
    ap.add_argument("--resume", action="store_true", help="continue the checkpoints in --out")
    a = ap.parse_args()
    if a.resume and a.out is None:
        ap.error("--resume needs --out, the folder the checkpoints are in")
    torch.set_num_threads(a.threads)

    t0 = time.perf_counter()
    src_file = load_vectors(a.src, a.max_vocab)
    src = mapping_vocabulary(src_file, not a.cased)
    if a.rotated_copy:
        tgt_file = src_file
        tgt, pairs = rotated_copy(src, a.seed)
        what = f"rotated copy of {a.src}: identity dictionary, {len(pairs)} words"
    else:
        tgt_file = load_vectors(a.tgt, a.max_vocab)
        tgt = mapping_vocabulary(tgt_file, not a.cased)
        pairs, stats = load_dictionary(a.dictionary, src.index, tgt.index, lowercase=not a.cased)
        what = f"dictionary {stats.in_vocab} pairs ({stats.sources} sources) in vocab"
        if a.rotate_target:
            q = random_orthogonal(tgt.dim, a.seed + 2000)
            tgt = Embeddings(list(tgt.words), (tgt.matrix.astype(np.float64) @ q.T).astype(np.float32))
            what += ", target rotated by a random orthogonal matrix"
    if a.pad_to:
        src, tgt = pad_rows(src, a.pad_to, a.seed), pad_rows(tgt, a.pad_to, a.seed + 1)
    load_s = time.perf_counter() - t0
    print(f"vectors {len(src)} x {src.dim} / {len(tgt)} x {tgt.dim}"
          + (f" (padded to {a.pad_to})" if a.pad_to else "")
          + f", {what}, loaded in {load_s:.1f} s, {a.threads} threads", flush=True)

    common = dict(max_vocab=a.max_vocab, normalize=a.normalize, seed=a.seed, lowercase_vocabulary=not a.cased)
    zs = {**common, **{k: parse_value(v) for k, v in (s.split("=", 1) for s in a.set)}}
    runs = {
        "muse": MappingConfig.muse_like(**common, epoch_size=int(1_000_000 / a.factor)),
        "zsner": MappingConfig(**zs).validate(),
    }
    # zsner's schedule shows the discriminator only context vectors of distilled builds (MUSE's does not)
    discriminator_words(runs["zsner"], ((a.src, src_file.words), (a.src if a.rotated_copy else a.tgt, tgt_file.words)),
                        print)
    results = {}
    for name, cfg in runs.items():
        if a.only and name != a.only:
            continue
        print(f"\n== {name}: epochs {cfg.n_epochs} x {cfg.epoch_size} words, batch {cfg.batch_size}, "
              f"lr {cfg.map_lr}/{cfg.dis_lr}, precision {cfg.precision}, eval every epoch {cfg.eval_every_epoch}",
              flush=True)
        t = time.perf_counter()
        out_dir = a.out / name if a.out else None
        if out_dir:
            out_dir.mkdir(parents=True, exist_ok=True)
        try:
            _, rep = run_mapping(cfg, src.words, src.matrix, tgt.words, tgt.matrix, out_dir, a.device,
                                 resume=a.resume, eval_pairs=pairs, log=lambda m: print("  " + m, flush=True),
                                 progress=StepLog if out_dir else None)
        except ZsnerError as e:
            sys.exit(str(e))
        except Interrupted as e:
            sys.exit(f"{e}" + ("; continue with the same command and --resume" if out_dir else ""))
        # a run resumed from a checkpoint: its total is the phases' time summed over all its pieces
        rep["seconds"]["total"] = (round(sum(rep["seconds"].values()), 1) if a.resume
                                   else round(time.perf_counter() - t, 1))
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
        a.json.write_text(json.dumps({"load_s": load_s, "factor": a.factor, "args": {k: str(v) for k, v in vars(a).items()},
                                      "results": results}, indent=2))


if __name__ == "__main__":
    main()
