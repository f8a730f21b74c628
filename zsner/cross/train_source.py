"""Source-Mono, Cross-Word and Cross-Shared: one English tagger over the shared word table (Eq. 6),
applied to the target language through the target's rows of that table.

The loop is the supervised one of :mod:`zsner.training.trainer` (SGD, the paper's decaying learning
rate, clipping, singleton UNK dropout, evaluation every ``eval_every`` batches), with two differences:
every evaluation scores the source dev set *and* the target dev set (selection both ways,
:class:`zsner.cross.run.Selection`), and the word table is frozen.
"""
from __future__ import annotations

import logging
import sys
from collections import Counter
from dataclasses import asdict
from typing import Any

import click
import numpy as np
import torch

from zsner.cross.bundle import cross_payload
from zsner.cross.config import CrossRecipe
from zsner.cross.model import network_parameters, source_config
from zsner.cross.run import Clock, RunDirectory, Selection, evaluate, final_metrics, load_data, load_vectors_for, sgd_for
from zsner.cross.vocab import SharedVocabularies, build_shared
from zsner.data import tags as tagging
from zsner.data.vocab import WordNormaliser
from zsner.model.tagger import CrfTagger
from zsner.training import checkpoint
from zsner.training.predict import make_batches
from zsner.training.trainer import EpochRandom, learning_rate, resolve_device, sgd_step, singleton_unk_mask
from zsner.utils import GracefulStop, seed_everything

log = logging.getLogger("zsner.cross")


def threads_for(recipe: CrossRecipe) -> None:
    import os

    torch.set_num_threads(recipe.base.training.threads or os.cpu_count() or 1)


class SourceTrainer:
    """Trains one source variant of a :class:`CrossRecipe` in one run directory."""

    def __init__(self, recipe: CrossRecipe, run_dir, restart: bool = False):
        if recipe.cross.model == "cross-augmented":
            raise ValueError("SourceTrainer trains the source variants; use AugmentedTrainer")
        self.recipe = recipe
        self.run = RunDirectory(run_dir, recipe.to_dict(), restart)
        self.device = resolve_device(recipe.base.training.device)
        threads_for(recipe)

    def run_training(self) -> dict[str, Any]:
        recipe, cfg = self.recipe, self.recipe.base.training
        resume = self.run.prepare()
        self.run.attach_log(self.device)
        try:
            return self._run(recipe, cfg, resume)
        finally:
            self.run.detach_log()

    def _run(self, recipe: CrossRecipe, cfg, resume: bool) -> dict[str, Any]:
        seed_everything(recipe.base.seed)
        data = load_data(recipe)
        src, tgt = recipe.source_language, recipe.target.language
        config = source_config(recipe.base.model, recipe.cross.model, freeze=recipe.cross.model != "source-mono")
        state: dict[str, Any] = {"epoch": 0, "batch": 0, "step": 0, "loss": 0.0, "pending_eval": False,
                                 "finished": False, "seconds": 0.0}
        selection = Selection()
        saved = None
        if resume:
            saved = torch.load(self.run.path / "last.pt", map_location="cpu", weights_only=False)
            vocabs = SharedVocabularies.from_dict(saved["vocabularies"])
            v = vocabs.vocabs
            model = CrfTagger(config, len(v.words), len(v.chars), len(v.tags))
            model.load_state_dict(saved["model"])
            state, selection = saved["state"], Selection(saved["selection"])
            self.run.forget_history_after(state["step"])
        else:
            vectors = load_vectors_for(recipe)
            normaliser = WordNormaliser(recipe.base.data.lowercase, recipe.base.data.zeros)
            vocabs, matrix = build_shared(src, data.source_train, data.source_dev, tgt,
                                          data.unlabelled + data.target_dev + data.target_test,
                                          vectors, normaliser, recipe.base.data.train_scheme)
            v = vocabs.vocabs
            model = CrfTagger(config, len(v.words), len(v.chars), len(v.tags), matrix)
        parameters, optimiser = sgd_for(model, self.device, cfg, saved)
        if state["finished"]:
            log.info("run already finished; reporting its metrics")
            import json

            return json.loads((self.run.path / "metrics.json").read_text())

        v = vocabs.vocabs
        source_batcher, target_batcher = vocabs.batcher(src), vocabs.batcher(tgt)
        train = data.source_train
        train_tags = [tagging.from_iob2(s.tags, v.scheme) for s in train]
        eval_sets = {"src-dev": make_batches(source_batcher, data.source_dev, cfg.eval_batch_size),
                     "tgt-dev": make_batches(target_batcher, data.target_dev, cfg.eval_batch_size)}
        gold = {"src-dev": data.source_dev, "tgt-dev": data.target_dev}
        counts = Counter(w for s in train for w in source_batcher.word_ids(s.tokens))
        singletons = np.array([counts.get(i, 0) == 1 for i in range(len(v.words))])
        log.info("%s %s (%s): %d %s train / %d %s dev / %d %s dev / %d %s test sentences; %d words, %d chars, "
                 "%d tags; %d trainable parameters without embeddings (%d in all)%s", recipe.base.name, recipe.cross.model,
                 recipe.pair, len(train), src, len(data.source_dev), src, len(data.target_dev), tgt,
                 len(data.target_test), tgt, len(v.words), len(v.chars), len(v.tags), network_parameters(model),
                 sum(p.numel() for p in parameters), "; resuming" if resume else "")

        epoch_random = EpochRandom(recipe.base.seed, saved.get("numpy_rng") if saved is not None and state["batch"] else None)

        def save_state() -> None:
            # every random stream the rest of the run draws from, so that a resumed run is the same run
            checkpoint.save(self.run.path / "last.pt", {
                "state": state, "model": model.state_dict(), "optimiser": optimiser.state_dict(),
                "vocabularies": vocabs.to_dict(), "torch_rng": torch.get_rng_state(), "selection": selection.best,
                "numpy_rng": epoch_random.state})

        clock = Clock(state["seconds"])
        last = {"src-dev": 0.0, "tgt-dev": 0.0}

        def evaluate_and_select(lr: float) -> None:
            nonlocal last
            last = evaluate(model, eval_sets, gold, v.tags.items, v.scheme, self.device)
            where = {"epoch": state["epoch"] + 1, "step": state["step"]}
            improved = selection.update(last, where, lambda name: checkpoint.save(
                self.run.path / f"select-{name}.pt", cross_payload(model, vocabs, tgt)))
            entry = {**where, "lr": lr, "loss": round(state["loss"], 4), "src_dev_f1": round(last["src-dev"], 2),
                     "tgt_dev_f1": round(last["tgt-dev"], 2), "improved": improved, "seconds": round(clock.seconds, 1)}
            self.run.record(entry)
            log.info("epoch %d step %d: loss %.3f; dev F1 %s %.2f, %s %.2f%s", entry["epoch"], state["step"],
                     state["loss"], src, last["src-dev"], tgt, last["tgt-dev"],
                     f" (best on {', '.join(improved)})" if improved else "")
            state["pending_eval"] = False
            state["seconds"] = clock.seconds
            save_state()

        # ^C is taken between batches (a checkpoint there resumes exactly); a second ^C stops at once,
        # and the run then resumes from its last evaluation
        stop = GracefulStop(log.warning, "^C: stopping after the current batch (^C again to stop now)").install()
        try:
            if state.get("pending_eval"):  # interrupted during an evaluation: do it now
                evaluate_and_select(learning_rate(cfg, state["epoch"]))
            while state["epoch"] < cfg.epochs:
                lr = learning_rate(cfg, state["epoch"])
                for group in optimiser.param_groups:
                    group["lr"] = lr
                batches = epoch_random.begin(state["epoch"], [len(s) for s in train], cfg.batch_size)
                model.train()
                with click.progressbar(length=len(batches), label=f"epoch {state['epoch'] + 1}/{cfg.epochs}", file=sys.stderr,
                                       item_show_func=lambda _: f"loss {state['loss']:.3f} F1 src {last['src-dev']:.1f} tgt {last['tgt-dev']:.1f}") as bar:
                    bar.update(state["batch"])
                    for index in range(state["batch"], len(batches)):
                        chosen = batches[index]
                        unk = singleton_unk_mask(source_batcher, train, chosen, singletons, cfg.singleton_unk, epoch_random.rng)
                        batch = source_batcher.batch(train, chosen, [train_tags[i] for i in chosen], unk).to(self.device)
                        loss = sgd_step(model, batch, optimiser, parameters, cfg.clip)
                        state["loss"] = 0.95 * state["loss"] + 0.05 * loss if state["step"] else loss
                        state["step"] += 1
                        state["batch"] = index + 1
                        bar.update(1)
                        if state["step"] % cfg.eval_every == 0 or state["batch"] == len(batches):
                            state["pending_eval"] = True
                            evaluate_and_select(lr)
                            model.train()
                        if stop.requested:
                            state["seconds"] = clock.seconds
                            save_state()
                            raise KeyboardInterrupt
                state["epoch"] += 1
                state["batch"] = 0
                save_state()
        except KeyboardInterrupt:
            log.warning("interrupted: state saved in %s; run the same command again to resume", self.run.path / "last.pt")
            raise
        finally:
            stop.restore()
        state["finished"] = True
        state["seconds"] = clock.seconds
        metrics = final_metrics(self.run, recipe, data, selection, lambda m: m,
                                {"steps": state["step"], "train_seconds": round(state["seconds"], 1),
                                 "model_config": asdict(config)}, self.device, cfg.eval_batch_size)
        save_state()
        return metrics
