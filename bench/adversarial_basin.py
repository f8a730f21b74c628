"""Where MUSE's adversarial game goes on two real languages whose true map is known (issue 11).

The target vectors are rotated by a random orthogonal Q, so the right map is W = Q. The adversarial
steps of zsner's trainer (5 discriminator steps per map step, MUSE's batch and learning rates) are run
from ``--start true`` (W = Q: is the right answer a resting point of the game?) or ``--start identity``
(a wrong map, as a real run starts), printing every ``--every`` map steps the discriminator loss, MUSE's
selection criterion and the distance of W from Q (||W - Q||_F / sqrt(d): 0 at the answer, about 1.41
for an unrelated rotation). The criterion of W = Q is printed first as the target to reach.

usage: python bench/adversarial_basin.py SRC.vec TGT.vec [--start true|identity] [--steps 1000] [--every 200]
       [--max-vocab 50000] [--normalize SPEC] [--threads N] [--seed 1]
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from bench_mapping import random_orthogonal  # noqa: E402
from zsner.embeddings.normalize import normalize  # noqa: E402
from zsner.embeddings.vectors import load_vectors  # noqa: E402
from zsner.mapping.config import MappingConfig  # noqa: E402
from zsner.mapping.trainer import Trainer  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src", type=Path)
    ap.add_argument("tgt", type=Path)
    ap.add_argument("--start", choices=["true", "identity"], default="identity")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--every", type=int, default=200)
    ap.add_argument("--max-vocab", type=int, default=50_000)
    ap.add_argument("--normalize", default="")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    src, tgt = (load_vectors(p, a.max_vocab).matrix.copy() for p in (a.src, a.tgt))
    if a.normalize:
        src, tgt = normalize(src, a.normalize), normalize(tgt, a.normalize)
    q = random_orthogonal(tgt.shape[1], a.seed + 2000)
    tgt = (tgt.astype(np.float64) @ q.T).astype(np.float32)
    trainer = Trainer(torch.from_numpy(src), torch.from_numpy(tgt),
                      MappingConfig(max_vocab=a.max_vocab, seed=a.seed).validate())
    trainer.set_weight(q.astype(np.float32))
    print(f"{len(src)} x {src.shape[1]} words, normalize {a.normalize!r}, start {a.start}; "
          f"criterion of the true map {trainer.criterion():.4f}", flush=True)
    if a.start == "identity":
        trainer.set_weight(np.eye(q.shape[0], dtype=np.float32))
    print("| map steps | discriminator loss | criterion | distance from the true map |\n|---|---|---|---|")
    print(f"| 0 | – | {trainer.criterion():.4f} | {np.linalg.norm(trainer.weight - q) / np.sqrt(q.shape[0]):.3f} |", flush=True)
    losses, t0 = [], time.perf_counter()
    for step in range(1, a.steps + 1):
        losses.append(sum(float(trainer.dis_step()) for _ in range(trainer.cfg.dis_steps)) / trainer.cfg.dis_steps)
        trainer.mapping_step()
        if step % a.every == 0:
            dist = np.linalg.norm(trainer.weight - q) / np.sqrt(q.shape[0])
            print(f"| {step} | {np.mean(losses[-a.every:]):.3f} | {trainer.criterion():.4f} | {dist:.3f} |", flush=True)
    print(f"\n{time.perf_counter() - t0:.0f} s, {a.threads} threads")


if __name__ == "__main__":
    main()
