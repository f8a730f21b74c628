"""The whole mapping run: initialise (adversarial or seed dictionary), refine, select, evaluate.

Shared by ``zsner map`` and ``bench/bench_mapping.py``. With ``out_dir`` it checkpoints atomically
(every ``checkpoint_every_s`` seconds, after every epoch and refinement, and on ^C) so that a run
started again with ``resume=True`` continues where it stopped, with the same random streams.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zsner.embeddings.normalize import normalize
from zsner.errors import ZsnerError
from zsner.mapping.config import MappingConfig
from zsner.mapping.dictionary import identical_pairs, load_dictionary
from zsner.mapping.evaluation import word_translation
from zsner.mapping.models import nearest_orthogonal
from zsner.mapping.similarity_start import similarity_seed_pairs
from zsner.mapping.trainer import Trainer, atomic_torch_save
from zsner.utils import GracefulStop

CHECKPOINT = "checkpoint.pt"
BEST = "best_W.npy"

Log = Callable[[str], None]
#: progress(length, label) -> context manager whose value has .update(n)
Progress = Callable[[int, str], Any]


class Interrupted(Exception):
    """Raised after ^C once the checkpoint is safely written."""


def _noprogress(length: int, label: str):
    class _P:
        def update(self, n: int) -> None:
            pass
    return nullcontext(_P())


def run_mapping(cfg: MappingConfig, src_words: list[str], src: np.ndarray, tgt_words: list[str],
                tgt: np.ndarray, out_dir: str | Path | None = None, device: str = "cpu",
                resume: bool = False, eval_pairs: np.ndarray | None = None, log: Log = print,
                progress: Progress | None = None, recipe_dir: Path | None = None) -> tuple[Trainer, dict]:
    """Train, refine and evaluate a map of ``src`` onto ``tgt``; returns the trainer (holding the
    selected W and the normalised matrices ``trainer.src`` / ``trainer.tgt``) and the report."""
    progress = progress or _noprogress
    out = Path(out_dir) if out_dir is not None else None
    ckpt_path = out / CHECKPOINT if out else None
    best_path = out / BEST if out else None
    if src.shape[1] != tgt.shape[1]:
        raise ZsnerError(f"the two languages' vectors differ in dimension ({src.shape[1]} vs {tgt.shape[1]})",
                         cfg.recipe or None)
    if cfg.normalize:
        src = normalize(np.array(src, dtype=np.float32), cfg.normalize)
        tgt = normalize(np.array(tgt, dtype=np.float32), cfg.normalize)
    trainer = Trainer(torch.from_numpy(src), torch.from_numpy(tgt), cfg, device)
    report: dict[str, Any] = {"epochs": [], "refinement": [], "eval": {}, "seconds": {},
                              "precision": trainer.precision, "device": str(trainer.device)}
    pos = {"phase": "init", "epoch": 0, "step": 0, "refinement": 0, "dis_loss_sum": 0.0,
           "dis_loss_first": None}

    if resume and ckpt_path is not None and ckpt_path.is_file():
        state = torch.load(ckpt_path, map_location=trainer.device, weights_only=False)
        saved = {k: v for k, v in state["config"].items() if k not in ("recipe", "checkpoint_every_s")}
        now = {k: v for k, v in cfg.to_dict().items() if k not in ("recipe", "checkpoint_every_s")}
        if saved != now:
            diff = sorted(k for k in now if saved.get(k) != now[k])
            raise ZsnerError(f"the checkpoint was made with other settings ({', '.join(diff)}); "
                             "run without --resume to start again", ckpt_path)
        trainer.load_state_dict(state["trainer"])
        report, pos = state["report"], state["position"]
        log(f"resuming from {ckpt_path}: phase {pos['phase']}, epoch {pos['epoch']}, "
            f"step {pos['step']}, refinement {pos['refinement']}")
    elif resume:
        log("no checkpoint to resume from: starting afresh")

    def checkpoint() -> None:
        if ckpt_path is not None:
            atomic_torch_save({"trainer": trainer.state_dict(), "report": report, "position": pos,
                               "config": cfg.to_dict()}, ckpt_path)

    def add_time(phase: str, t0: float) -> None:
        report["seconds"][phase] = round(report["seconds"].get(phase, 0.0) + time.perf_counter() - t0, 2)

    def evaluate(tag: str) -> None:
        if eval_pairs is None or len(eval_pairs) == 0:
            return
        t0 = time.perf_counter()
        s = trainer.mapped_unit()
        res = word_translation(s, trainer.tgt_unit, eval_pairs, trainer.radii(s),
                               ("nn", f"csls_knn_{cfg.csls_k}"), (1, 5, 10), cfg.knn_chunk)
        report["eval"][tag] = res
        add_time(f"eval_{tag}", t0)
        log(f"word translation ({tag}): " + ", ".join(f"{k} {v}" for k, v in res.items()))

    # ^C sets a flag that is checked between steps, so the checkpoint always holds a consistent
    # state (a resumed run then equals an uninterrupted one); a second ^C stops at once.
    stop = GracefulStop(log, "^C: stopping after the current step (^C again to stop now, without a checkpoint)")

    def check_stop() -> None:
        if stop.requested:
            checkpoint()
            raise Interrupted(f"interrupted; checkpoint saved in {ckpt_path}" if ckpt_path else "interrupted")

    stop.install()
    try:
        # ------------------------------------------------------------ 1. initial map
        if pos["phase"] == "init":
            t0 = time.perf_counter()
            if cfg.seed_dictionary == "identity":
                # vectors that already share one space (distilled from one multilingual encoder): W = I is the
                # starting point, and its P@1 ("before_refinement") says what the shared space gives unmapped
                trainer.set_weight(np.eye(src.shape[1], dtype=np.float32))
                crit = trainer.criterion()
                trainer.save_best(crit, best_path)
                report["seed_dictionary"] = {"source": "identity map", "pairs": 0, "criterion": crit}
                log(f"identity map: criterion {crit:.5f}")
                add_time("seed_procrustes", t0)
                pos["phase"] = "evaluate_init"
            elif cfg.seed_dictionary:
                if cfg.seed_dictionary == "identical":
                    pairs = identical_pairs(src_words, tgt_words)
                    what = "identical strings"
                elif cfg.seed_dictionary == "similarity":
                    pairs = similarity_seed_pairs(trainer.src, trainer.tgt, cfg.similarity_words, cfg.csls_k)
                    what = f"similarity distributions of the {min(cfg.similarity_words, len(src_words), len(tgt_words))} most frequent words"
                else:
                    path = Path(cfg.seed_dictionary)
                    if not path.is_absolute() and recipe_dir is not None and not path.exists():
                        path = recipe_dir / path
                    pairs, stats = load_dictionary(path, {w: i for i, w in enumerate(src_words)},
                                                   {w: i for i, w in enumerate(tgt_words)},
                                                   cfg.dictionaries_lowercased)
                    what = f"{path} ({stats.pairs} pairs read)"
                if len(pairs) == 0:
                    raise ZsnerError(f"seed dictionary {what} has no pair in the vocabularies", cfg.recipe or None)
                trainer.procrustes(pairs)
                crit = trainer.criterion()
                trainer.save_best(crit, best_path)
                report["seed_dictionary"] = {"source": what, "pairs": int(len(pairs)), "criterion": crit}
                log(f"Procrustes on seed dictionary {what}: {len(pairs)} pairs, criterion {crit:.5f}")
                add_time("seed_procrustes", t0)
                pos["phase"] = "evaluate_init"
            else:
                pos["phase"] = "adversarial"
        if pos["phase"] == "adversarial":
            steps = cfg.dis_epoch_steps
            last_ckpt = time.perf_counter()
            while pos["epoch"] < cfg.n_epochs:
                e = pos["epoch"]
                t0 = time.perf_counter()
                with progress(steps, f"adversarial epoch {e + 1}/{cfg.n_epochs}") as bar:
                    bar.update(pos["step"])
                    while pos["step"] < steps:
                        loss = 0.0
                        for _ in range(cfg.dis_steps):
                            loss += float(trainer.dis_step())
                        trainer.mapping_step()
                        loss /= cfg.dis_steps
                        pos["dis_loss_sum"] += loss
                        if pos["dis_loss_first"] is None:
                            pos["dis_loss_first"] = loss
                        pos["step"] += 1
                        bar.update(1)
                        if stop.requested:
                            add_time("adversarial", t0)
                            check_stop()
                        if time.perf_counter() - last_ckpt > cfg.checkpoint_every_s:
                            add_time("adversarial", t0)
                            t0 = time.perf_counter()
                            checkpoint()
                            last_ckpt = time.perf_counter()
                add_time("adversarial", t0)
                t0 = time.perf_counter()
                w_train = trainer.weight
                if cfg.select_orthogonal:
                    # The adversarial W can drift far from orthogonal (even collapse to low rank,
                    # which inflates the mean cosine); judge and keep its nearest orthogonal matrix,
                    # the kind of map that refinement produces, and train on from the raw W.
                    trainer.set_weight(nearest_orthogonal(torch.from_numpy(w_train)))
                crit = trainer.criterion()
                add_time("criterion", t0)
                sv = np.linalg.svd(w_train.astype(np.float64), compute_uv=False)
                entry = {"epoch": e, "criterion": round(crit, 5),
                         "singular_values": [round(float(sv.min()), 4), round(float(sv.max()), 4)],
                         "dis_loss": round(pos["dis_loss_sum"] / max(1, pos["step"]), 5),
                         "dis_loss_first_step": pos["dis_loss_first"],
                         "map_lr": trainer.map_optimizer.param_groups[0]["lr"]}
                if cfg.eval_every_epoch:
                    evaluate(f"epoch_{e}")
                    entry["eval"] = report["eval"].get(f"epoch_{e}")
                improved = trainer.save_best(crit, best_path)
                trainer.set_weight(w_train)
                notes = trainer.update_lr(crit)
                report["epochs"].append(entry)
                log(f"epoch {e}: discriminator loss {entry['dis_loss']:.4f}, singular values of W in "
                    f"[{sv.min():.3f}, {sv.max():.3f}], criterion {crit:.5f}"
                    + (" (best so far, saved)" if improved else "") + ("; " + "; ".join(notes) if notes else ""))
                pos.update(epoch=e + 1, step=0, dis_loss_sum=0.0, dis_loss_first=None)
                checkpoint()
            trainer.reload_best()
            pos["phase"] = "evaluate_init"
            checkpoint()
        if pos["phase"] == "evaluate_init":
            evaluate("before_refinement")
            pos["phase"] = "refinement"
            checkpoint()
        # ------------------------------------------------------------ 2. refinement
        if pos["phase"] == "refinement":
            while pos["refinement"] < cfg.n_refinement:
                i = pos["refinement"]
                t0 = time.perf_counter()
                n = trainer.refine_step()
                crit = trainer.criterion() if n else -1e9
                improved = trainer.save_best(crit, best_path)
                report["refinement"].append({"iteration": i, "dictionary_size": n, "criterion": round(crit, 5)})
                add_time("refinement", t0)
                log(f"refinement {i}: {n} pairs, criterion {crit:.5f}" + (" (best so far, saved)" if improved else ""))
                pos["refinement"] = i + 1
                checkpoint()
                check_stop()
                if n == 0:
                    break
            trainer.reload_best()
            pos["phase"] = "evaluate_final"
            checkpoint()
        if pos["phase"] == "evaluate_final":
            evaluate("after_refinement")
            pos["phase"] = "done"
            checkpoint()
        check_stop()
    finally:
        stop.restore()
    report["best_criterion"] = trainer.best_criterion
    return trainer, report
