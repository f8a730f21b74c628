"""Fine-tuning an encoder on English NER and scoring it on the target language (zero-shot model transfer).

One run directory, the same contract as ``zsner train`` and ``zsner cross train``::

    config.json  versions.json  log.txt  history.jsonl   (zsner.training.rundir)
    last.pt        training state: trained weights, optimisers, schedule, position, RNG (resume after ^C)
    best.pt        bundle of the checkpoint best on target dev (F1•)  — ``zsner predict --model RUN``
    best-src-dev.pt  bundle of the checkpoint best on source dev (F1°: no target label used)
    metrics.json   both choices scored on the target test set, English test F1, speed, parameters
    test.{tgt,src}-dev-selected.predictions.conll

Both selections are made in the one run: every evaluation scores source dev and target dev, as the
cross-lingual trainers do (zsner.cross.run), so the two families of the comparison table read alike.
"""
from __future__ import annotations

import json
import logging
import math
import io
import os
import shutil
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np
import torch

from zsner.data import tags as tagging
from zsner.data.batching import bucketed_batches
from zsner.data.conll import Sentence, read_conll
from zsner.errors import ZsnerError
from zsner.metrics import score
from zsner.model.tagger import count_parameters
from zsner.training import checkpoint
from zsner.training.rundir import RunDirectory
from zsner.training.trainer import resolve_device
from zsner.transfer import bundle
from zsner.transfer.config import TransferRecipe
from zsner.transfer.features import Window, collate, encode_sentences
from zsner.transfer.model import TransferTagger
from zsner.transfer.optim import Optimisers, clip_dense, freeze_lower_layers, prepare_embeddings
from zsner.transfer.distributed import workers_from_environment
from zsner.transfer.evaluation import Selection, run_facts, score_selections
from zsner.encoders.precision import autocast_for, resolve_precision
from zsner.transfer.predict import encode_corpus, predict_encoded
from zsner.utils import atomic_copy, seed_everything

log = logging.getLogger("zsner.transfer")


@dataclass
class TransferState:
    """Where fine-tuning stands; saved in ``last.pt``."""

    epoch: int = 0
    batch: int = 0  # next batch of the epoch
    step: int = 0
    best_src_dev: float = -1.0
    best_src_step: int = -1
    best_tgt_dev: float = -1.0
    best_tgt_step: int = -1
    seconds: float = 0.0
    train_sentences: int = 0  # sentences trained on so far (speed)
    step_seconds: float = 0.0  # time spent in training steps alone (evaluations not counted)
    finished: bool = False


def read_sets(recipe: TransferRecipe, train: bool = True) -> dict[str, list[Sentence]]:
    """The recipe's sentences: English train/dev (and test), target dev/test — IOB2 tags, one reader for all."""
    data, target, cfg = recipe.base.data, recipe.target, recipe.transfer
    english = lambda path: read_conll(path, scheme=data.scheme, encoding=data.encoding)  # noqa: E731
    sets = {"source_dev": english(data.dev),
            "target_dev": read_conll(target.dev, scheme=target.scheme, encoding=target.encoding),
            "target_test": read_conll(target.test, scheme=target.scheme, encoding=target.encoding)}
    if train:
        if cfg.train:  # a stage's pseudo-labelled target text (zsner.projection), with or without English
            chosen = read_conll(cfg.train, scheme="iob2", encoding="utf-8")
            if not chosen:
                raise ZsnerError("holds no sentence to train on", cfg.train)
            if cfg.with_source:
                chosen = english(data.train) + chosen
        else:
            chosen = english(data.train)
        sets["train"] = [s for s in chosen if len(s) <= data.max_train_length]
        if cfg.max_train_sentences:
            sets["train"] = sets["train"][: cfg.max_train_sentences]
    if cfg.source_test:
        sets["source_test"] = english(cfg.source_test)
    return sets


class TransferTrainer:
    """Fine-tunes one recipe's ``[transfer]`` model in one run directory."""

    def __init__(self, recipe: TransferRecipe, run_dir: str | Path, restart: bool = False):
        self.recipe = recipe
        self.cfg = recipe.transfer
        self.directory = RunDirectory(run_dir, recipe.to_dict(), restart)
        self.run_dir = self.directory.path
        device = resolve_device(self.cfg.device)
        self.workers = workers_from_environment(device, self.cfg.embeddings == "sparse")
        self.device = self.workers.device(device)
        self.precision = resolve_precision(self.cfg.precision, self.device)
        torch.set_num_threads(self.cfg.threads or max(1, (os.cpu_count() or 1) // self.workers.world))

    def run(self) -> dict[str, Any]:
        """Train (or resume, or only report a finished run); under torchrun only the first process reports."""
        try:
            if self.workers.main:
                resume = self.directory.prepare()
                self.directory.attach_log(self.device)
            self.workers.barrier()  # the others read what the first process prepared
            if not self.workers.main:
                resume = (self.run_dir / "last.pt").exists()
            metrics_path = self.run_dir / "metrics.json"
            if resume and metrics_path.exists():
                log.info("run already finished; reporting its metrics")
                return json.loads(metrics_path.read_text()) if self.workers.main else {}
            return self._run(resume)
        finally:
            if self.workers.main:
                self.directory.detach_log()
            self.workers.close()

    # -- data -------------------------------------------------------------------------------------
    def _train_windows(self, tokenizer, train: list[Sentence], tag_index: dict[str, int]) -> tuple[list[Window], list[list[int]]]:
        windows = encode_sentences(tokenizer, train, self.cfg.max_subwords, "train")
        scheme_tags = [tagging.from_iob2(s.tags, self.cfg.scheme) for s in train]
        labels = [[tag_index[t] for t in scheme_tags[w.sentence][w.start : w.start + w.words]] for w in windows]
        return windows, labels

    # -- the run ----------------------------------------------------------------------------------
    def _run(self, resume: bool) -> dict[str, Any]:
        from zsner.encoders.loading import load_encoder, load_tokenizer

        cfg, seed = self.cfg, self.recipe.base.seed
        seed_everything(seed)
        sets = read_sets(self.recipe)
        train = sets["train"]
        start = bundle.read_init(cfg) if cfg.init else None
        if start is not None:  # the tags of the model it starts from: its head's rows
            tags = start["tags"]
            bundle.check_tags_cover(tags, train, cfg.train or self.recipe.base.data.train)
        else:
            tags = tagging.tag_inventory(tagging.entity_types(s.tags for s in train), cfg.scheme)
        tag_index = {t: i for i, t in enumerate(tags)}
        tokenizer = load_tokenizer(cfg.encoder)
        model = TransferTagger(load_encoder(cfg.encoder), len(tags), cfg.head, cfg.dropout, cfg.loss, cfg.gamma)
        if start is not None:
            bundle.load_init(model, start, Path(cfg.init))
        prepare_embeddings(model, cfg.embeddings)
        freeze_lower_layers(model, cfg.freeze_layers)
        windows, labels = self._train_windows(tokenizer, train, tag_index)
        lengths = [len(w.input_ids) for w in windows]
        per_epoch = math.ceil(len(windows) / cfg.batch_size)
        total_steps = max(1, math.ceil(cfg.epochs * per_epoch))
        eval_every = cfg.eval_every or max(1, per_epoch // 2)
        optimisers = Optimisers(model, cfg.lr, cfg.head_lr, cfg.weight_decay, total_steps, cfg.warmup,
                                cfg.embeddings == "sparse")
        state = TransferState()
        if not resume:
            shutil.rmtree(self.run_dir / "checkpoints", ignore_errors=True)  # a restarted run's old steps
        else:
            saved = torch.load(self.run_dir / "last.pt", map_location="cpu", weights_only=False)
            model.load_state_dict(saved["model"], strict=False)
            optimisers.load_state_dict(saved["optimisers"])
            state = TransferState(**saved["state"])
            torch.set_rng_state(saved["torch_rng"])
        model.to(self.device)
        trained_model = self.workers.wrap(model, self.device)  # its forward() is the loss
        autocast = autocast_for(self.precision, self.device)
        dev_sets = {name: encode_corpus(tokenizer, sets[name], cfg.max_subwords, cfg.eval_batch_size, name)
                    for name in ("source_dev", "target_dev") if self.workers.main}  # only the first evaluates
        trained = sum(p.numel() for p in model.parameters() if p.requires_grad)
        log.info("%s %s: %d train sentences (%d windows) / %d source dev / %d target dev / %d target test; "
                 "encoder %s, %d parameters (%d trained, embeddings %s); %d steps (%.2f epochs of %d), "
                 "evaluation every %d; device %s, %d threads, %s%s",
                 self.recipe.pair, self.recipe.model_name, len(train), len(windows), len(sets["source_dev"]),
                 len(sets["target_dev"]), len(sets["target_test"]), cfg.encoder, count_parameters(model), trained,
                 cfg.embeddings, total_steps, cfg.epochs, per_epoch, eval_every, self.device,
                 torch.get_num_threads(), self.precision,
                 f"; resuming at step {state.step}" if resume else "")

        def evaluate() -> tuple[float, float]:
            f1 = []
            for name in ("source_dev", "target_dev"):
                predicted = predict_encoded(model, dev_sets[name], tags, cfg.scheme, self.device, autocast)
                f1.append(score([s.tags for s in sets[name]], predicted).f1)
            return f1[0], f1[1]

        def save_bundle(name: str) -> None:
            checkpoint.save(self.run_dir / name, bundle.payload(model, cfg.encoder, tags, cfg.scheme, cfg.max_subwords,
                                                                cfg.dropout, self.precision))

        def keep_evaluated(names: list[str]) -> None:
            """This evaluation's weights under each name, serialised once (the others are links to it)."""
            if cfg.keep_checkpoints:  # what `zsner transfer retarget` selects from
                names = [f"checkpoints/step-{state.step:07d}.pt", *names]
            if names:
                save_bundle(names[0])
                for name in names[1:]:
                    atomic_copy(self.run_dir / names[0], self.run_dir / name)

        def save_state() -> None:
            checkpoint.save(self.run_dir / "last.pt", {
                "state": state.__dict__, "model": bundle.trained_state(model),
                "optimisers": optimisers.state_dict(), "torch_rng": torch.get_rng_state()})

        started = time.perf_counter() - state.seconds
        running: float | None = None
        report_every = max(1, total_steps // 40)
        epochs = math.ceil(cfg.epochs)
        try:
            while state.step < total_steps:
                rng = np.random.default_rng([seed, state.epoch])
                batches = bucketed_batches(lengths, cfg.batch_size, rng)
                batches = batches[: total_steps - state.step + state.batch]
                model.train()
                with click.progressbar(length=len(batches), label=f"epoch {state.epoch + 1}/{epochs}",
                                       item_show_func=lambda _: f"loss {running or 0:.3f} src/tgt dev F1 "
                                       f"{max(state.best_src_dev, 0):.1f}/{max(state.best_tgt_dev, 0):.1f}",
                                       file=sys.stderr if self.workers.main else io.StringIO()) as bar:
                    bar.update(state.batch)
                    for index in range(state.batch, len(batches)):
                        step_started = time.perf_counter()
                        chosen = self.workers.share(batches[index])
                        batch = collate([windows[i] for i in chosen], tokenizer.pad_token_id,
                                        [labels[i] for i in chosen]).to(self.device)
                        optimisers.zero_grad()
                        with autocast or nullcontext():
                            loss = trained_model(batch)
                        loss.backward()
                        clip_dense(model, cfg.clip)
                        optimisers.step()
                        value = loss.detach().item()
                        running = value if running is None else 0.95 * running + 0.05 * value
                        state.step += 1
                        state.batch = index + 1
                        state.train_sentences += len(batches[index])
                        state.step_seconds += time.perf_counter() - step_started
                        bar.update(1)
                        if state.step % report_every == 0 and self.workers.main:  # progress in log files too
                            self._report(state, total_steps, running, started)
                        evaluating = state.step % eval_every == 0 or state.step == total_steps
                        if evaluating and self.workers.main:
                            src_f1, tgt_f1 = evaluate()
                            self._record(state, src_f1, tgt_f1, optimisers.lr, running, started)
                            best = []
                            if src_f1 > state.best_src_dev:
                                state.best_src_dev, state.best_src_step = src_f1, state.step
                                best.append("best-src-dev.pt")
                            if tgt_f1 > state.best_tgt_dev:
                                state.best_tgt_dev, state.best_tgt_step = tgt_f1, state.step
                                best.append("best.pt")
                            keep_evaluated(best)
                            state.seconds = time.perf_counter() - started
                            save_state()
                        if evaluating:
                            self.workers.barrier()  # the others wait while the first process evaluates
                state.epoch += 1
                state.batch = 0
        except KeyboardInterrupt:
            state.seconds = time.perf_counter() - started
            if self.workers.main:
                save_state()
            log.warning("interrupted: state saved in %s; run the same command again to resume", self.run_dir / "last.pt")
            raise
        state.finished = True
        state.seconds = time.perf_counter() - started
        if not self.workers.main:
            return {}
        save_state()
        metrics = {**run_facts(self.recipe, model), "precision": self.precision,
                   "steps": state.step, "train_seconds": round(state.seconds, 1),
                   "train_sentences_per_second": round(state.train_sentences / max(state.step_seconds, 1e-9), 2)}
        selections = [Selection("tgt-dev", self.run_dir / "best.pt", state.best_tgt_step, state.best_tgt_dev),
                      Selection("src-dev", self.run_dir / "best-src-dev.pt", state.best_src_step, state.best_src_dev)]
        return score_selections(self.run_dir, cfg, model, tokenizer, tags, sets, selections, metrics, self.device,
                                autocast)

    @staticmethod
    def _report(state: TransferState, total_steps: int, loss: float, started: float) -> None:
        seconds = time.perf_counter() - started
        speed = state.train_sentences / max(state.step_seconds, 1e-9)
        left = seconds / state.step * (total_steps - state.step)
        log.info("step %d/%d: loss %.3f, %.1f training sentences/s, about %d min of training left",
                 state.step, total_steps, loss, speed, round(left / 60))

    def _record(self, state: TransferState, src_f1: float, tgt_f1: float, lr: float, loss: float, started: float) -> None:
        entry = {"epoch": state.epoch + 1, "step": state.step, "lr": lr, "loss": round(loss, 4),
                 "src_dev_f1": round(src_f1, 2), "tgt_dev_f1": round(tgt_f1, 2),
                 "seconds": round(time.perf_counter() - started, 1)}
        self.directory.record(entry)
        log.info("step %d: loss %.3f, source dev F1 %.2f, target dev F1 %.2f", state.step, loss, src_f1, tgt_f1)
