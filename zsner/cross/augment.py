"""Cross-Augmented: augmented fine-tuning (Algorithm 1, steps 3-5; Eq. 7).

Start from a trained source model θs (a Cross-Shared/Cross-Word run directory), add the target model
θt (:class:`zsner.cross.model.CrossAugmented`), then per round:

1. pseudo-label every unlabelled target sentence with θs **in eval mode** (no dropout: the labels are
   the model's best guess, and two labelings agree);
2. draw l ~ U(min, max) (:class:`LengthSampler`) and keep the sentences of ≤ l words;
3. for each target batch: one SGD step of θs on a source batch (L_s, Eq. 6), then one step of θs and
   θt on the target batch (L_t(θs) + L_t(θt)); the target head reads [target states ; source states];
4. evaluate θs on source dev and θt on target dev (selection both ways).

Stops after ``rounds`` rounds or ``patience`` rounds without a better src-dev or tgt-dev score. The
state is saved atomically at every round start, so ^C (or a crash) loses at most the current round;
evaluations of an interrupted round stay in history.jsonl and the round is redone on resume.
"""
from __future__ import annotations

import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click
import numpy as np
import torch

from zsner.cross.bundle import cross_payload, load_cross
from zsner.cross.config import CrossRecipe
from zsner.cross.model import CrossAugmented, network_parameters
from zsner.cross.run import Clock, CrossData, RunDirectory, Selection, evaluate, final_metrics, load_data, sgd_for
from zsner.cross.sampling import LengthSampler
from zsner.cross.train_source import threads_for
from zsner.data import tags as tagging
from zsner.data.batching import bucketed_batches
from zsner.data.conll import Sentence, read_conll, write_conll
from zsner.errors import ZsnerError
from zsner.model.tagger import CrfTagger
from zsner.training import checkpoint
from zsner.training.predict import EvalSet, make_batches, predict_batches
from zsner.training.trainer import clip_gradients, learning_rate, resolve_device
from zsner.utils import seed_everything

log = logging.getLogger("zsner.cross")


def pseudo_label(source: CrfTagger, data: EvalSet, tag_items, scheme: str, device) -> list[list[str]]:
    """IOB2 labels of θs for every sentence; :func:`predict_batches` switches to eval mode (dropout
    off) and back."""
    return predict_batches(source, data, tag_items, scheme, device)


def source_checkpoint(recipe: CrossRecipe) -> Path:
    """The checkpoint θs starts from: ``select-<source_selection>.pt`` of the source run (or a file)."""
    path = Path(recipe.cross.source_model)
    if path.is_dir():
        path = path / f"select-{recipe.cross.source_selection}.pt"
    if not path.is_file():
        raise ZsnerError("no trained source model here; train a source variant first "
                         "(e.g. `zsner cross train RECIPE --set cross.model=cross-shared`)", path)
    return path


def _gold_of_unlabelled(recipe: CrossRecipe, unlabelled: list[Sentence]) -> list[Sentence] | None:
    """Gold tags of the unlabelled sentences when the file is a labelled CoNLL file (for analysis
    only, Figure 2: the pseudo-labels are never compared to them during training)."""
    try:
        gold = read_conll(recipe.target.unlabelled, scheme=recipe.target.scheme, encoding=recipe.target.unlabelled_encoding)
    except ZsnerError:
        return None
    gold = [s for s in gold if len(s) <= recipe.base.data.max_train_length][: len(unlabelled)]
    if len(gold) != len(unlabelled) or any(g.tokens != u.tokens for g, u in zip(gold, unlabelled)):
        return None
    return gold


def _source_info(start: Path) -> dict[str, Any]:
    """The variant θs came from (Table 4 keeps augmentations of different sources apart), and no
    mapping P@1 when θs was a Source-Mono model (it never read mapped vectors)."""
    metrics = start.parent / "metrics.json"
    variant = json.loads(metrics.read_text()).get("variant") if metrics.is_file() else None
    return {"source_variant": variant, **({"mapping_p_at_1": None} if variant and variant.startswith("source-mono") else {})}


class AugmentedTrainer:
    """Trains Cross-Augmented for one :class:`CrossRecipe` in one run directory."""

    def __init__(self, recipe: CrossRecipe, run_dir, restart: bool = False):
        if recipe.cross.model != "cross-augmented":
            raise ValueError("AugmentedTrainer trains cross-augmented only")
        self.recipe = recipe
        self.run = RunDirectory(run_dir, recipe.to_dict(), restart)
        self.device = resolve_device(recipe.base.training.device)
        threads_for(recipe)

    def run_training(self) -> dict[str, Any]:
        resume = self.run.prepare()
        self.run.attach_log(self.device)
        try:
            return self._run(resume)
        finally:
            self.run.detach_log()

    def _run(self, resume: bool) -> dict[str, Any]:
        recipe, cfg, cross = self.recipe, self.recipe.base.training, self.recipe.cross
        seed_everything(recipe.base.seed)
        data: CrossData = load_data(recipe)
        src, tgt = recipe.source_language, recipe.target.language
        start = source_checkpoint(recipe)
        source, vocabs, payload = load_cross(start, "cpu")
        if payload["kind"] != "source" or payload.get("target_language") != tgt:
            raise ZsnerError(f"not a source model for target language {tgt!r}", start)
        v = vocabs.vocabs
        model = CrossAugmented(source, recipe.base.model, len(v.tags), cross.detach_source)
        state: dict[str, Any] = {"round": 0, "step": 0, "stale": 0, "finished": False, "seconds": 0.0, "thresholds": []}
        selection = Selection()
        saved = None
        if resume:
            saved = torch.load(self.run.path / "last.pt", map_location="cpu", weights_only=False)
            model.load_state_dict(saved["model"])
            state, selection = saved["state"], Selection(saved["selection"])
            self.run.forget_history_after(state["step"])  # the interrupted round is trained again
        parameters, optimiser = sgd_for(model, self.device, cfg, saved)
        if state["finished"]:
            log.info("run already finished; reporting its metrics")
            return json.loads((self.run.path / "metrics.json").read_text())

        source_batcher, target_batcher = vocabs.batcher(src), vocabs.batcher(tgt)
        train, unlabelled = data.source_train, data.unlabelled
        train_tags = [tagging.from_iob2(s.tags, v.scheme) for s in train]
        eval_sets = {"src-dev": make_batches(source_batcher, data.source_dev, cfg.eval_batch_size),
                     "tgt-dev": make_batches(target_batcher, data.target_dev, cfg.eval_batch_size)}
        gold = {"src-dev": data.source_dev, "tgt-dev": data.target_dev}
        taggers = {"src-dev": model.source, "tgt-dev": model.target}
        unlabelled_set = make_batches(target_batcher, unlabelled, cfg.eval_batch_size)
        sampler = LengthSampler([len(s) for s in unlabelled], cross.min_length, cross.max_length)
        unlabelled_gold = _gold_of_unlabelled(recipe, unlabelled) if not resume else None
        log.info("%s cross-augmented (%s) from %s: %d %s train / %d unlabelled %s sentences (l ~ U(%d, %d)); "
                 "%d parameters without embeddings%s", recipe.base.name, recipe.pair, start, len(train), src,
                 len(unlabelled), tgt, sampler.low, sampler.high, network_parameters(model),
                 f"; resuming at round {state['round'] + 1}" if resume else "")

        def save_state() -> None:
            checkpoint.save(self.run.path / "last.pt", {
                "state": state, "model": model.state_dict(), "optimiser": optimiser.state_dict(),
                "torch_rng": torch.get_rng_state(), "selection": selection.best})

        def save_selection(name: str) -> None:
            checkpoint.save(self.run.path / f"select-{name}.pt", cross_payload(model, vocabs, tgt))

        clock = Clock(state["seconds"])
        last = {"src-dev": 0.0, "tgt-dev": 0.0}
        if not resume:
            # Recorded but not a selection candidate: θt's encoders are untrained here, and θs scores
            # best on source dev at its own starting point, so src-dev selection would always pick an
            # untrained target model (target test F1 0).
            last = evaluate(taggers, eval_sets, gold, v.tags.items, v.scheme, self.device)
            self.run.record({"round": 0, "step": 0, "src_dev_f1": round(last["src-dev"], 2),
                             "tgt_dev_f1": round(last["tgt-dev"], 2), "seconds": round(clock.seconds, 1)})
        try:
            while state["round"] < cross.rounds and state["stale"] < cross.patience:
                save_state()  # the round-start state: ^C resumes here
                r = state["round"]
                rng = np.random.default_rng([recipe.base.seed, 1000 + r])
                lr = cross.lr / (1.0 + cfg.lr_decay * r) if cross.lr else learning_rate(cfg, r)
                for group in optimiser.param_groups:
                    group["lr"] = lr
                labels = pseudo_label(model.source, unlabelled_set, v.tags.items, v.scheme, self.device)
                if r == 0 and unlabelled_gold is not None:
                    write_conll(self.run.path / "pseudo-labels.round0.conll", unlabelled_gold, labels)
                labels = [tagging.from_iob2(t, v.scheme) for t in labels]
                threshold, chosen = sampler.sample(rng)
                target_batches = [[chosen[i] for i in b] for b in
                                  bucketed_batches([len(unlabelled[i]) for i in chosen], cfg.batch_size, rng)]
                if cross.max_steps_per_round:
                    target_batches = target_batches[: cross.max_steps_per_round]
                source_batches = bucketed_batches([len(s) for s in train], cfg.batch_size, rng)
                evals = sorted({max(1, round(len(target_batches) * (k + 1) / max(1, cross.evals_per_round)))
                                for k in range(max(1, cross.evals_per_round))})
                log.info("round %d: l = %d, %d of %d target sentences, %d steps, lr %.4f", r + 1, threshold,
                         len(chosen), len(unlabelled), len(target_batches), lr)
                improved_round: set[str] = set()
                model.train()
                running = {"src": 0.0, "tgt_s": 0.0, "tgt_t": 0.0}
                with click.progressbar(length=len(target_batches), label=f"round {r + 1}/{cross.rounds} (l={threshold})",
                                       file=sys.stderr, item_show_func=lambda _: "loss src %.2f tgt θs %.2f θt %.2f F1 src %.1f tgt %.1f" % (
                                           running["src"], running["tgt_s"], running["tgt_t"], last["src-dev"], last["tgt-dev"])) as bar:
                    for k, chosen_t in enumerate(target_batches, start=1):
                        chosen_s = source_batches[(k - 1) % len(source_batches)]
                        batch = source_batcher.batch(train, chosen_s, [train_tags[i] for i in chosen_s]).to(self.device)
                        optimiser.zero_grad(set_to_none=True)
                        loss_s = model.source.loss(batch)
                        loss_s.backward()
                        clip_gradients(parameters, cfg.clip)
                        optimiser.step()
                        batch = target_batcher.batch(unlabelled, chosen_t, [labels[i] for i in chosen_t]).to(self.device)
                        optimiser.zero_grad(set_to_none=True)
                        loss_ts, loss_tt = model.target_batch_losses(batch)
                        (loss_ts + loss_tt).backward()
                        clip_gradients(parameters, cfg.clip)
                        optimiser.step()
                        first = state["step"] == 0
                        for key, value in (("src", loss_s), ("tgt_s", loss_ts), ("tgt_t", loss_tt)):
                            running[key] = value.item() if first or k == 1 else 0.95 * running[key] + 0.05 * value.item()
                        state["step"] += 1
                        bar.update(1)
                        if k in evals:
                            last = evaluate(taggers, eval_sets, gold, v.tags.items, v.scheme, self.device)
                            where = {"round": r + 1, "step": state["step"]}
                            improved = selection.update(last, where, save_selection)
                            improved_round.update(improved)
                            self.run.record({**where, "threshold": threshold, "sentences": len(chosen), "lr": lr,
                                             **{f"loss_{key}": round(val, 4) for key, val in running.items()},
                                             "src_dev_f1": round(last["src-dev"], 2), "tgt_dev_f1": round(last["tgt-dev"], 2),
                                             "improved": improved, "seconds": round(clock.seconds, 1)})
                            log.info("round %d step %d: loss src %.3f, tgt(θs) %.3f, tgt(θt) %.3f; dev F1 %s %.2f (θs), %s %.2f (θt)%s",
                                     r + 1, state["step"], running["src"], running["tgt_s"], running["tgt_t"], src,
                                     last["src-dev"], tgt, last["tgt-dev"], f" (best on {', '.join(improved)})" if improved else "")
                state["round"] += 1
                state["stale"] = 0 if improved_round else state["stale"] + 1
                state["thresholds"].append(threshold)
                state["seconds"] = clock.seconds
        except KeyboardInterrupt:
            # last.pt holds the round-start state, selections included: the round is trained again
            # exactly as before (the same pseudo-labels, sample and batches), so a resumed run
            # selects, counts stale rounds and stops as an uninterrupted one does
            log.warning("interrupted: the current round restarts when the same command is run again (%s)",
                        self.run.path / "last.pt")
            raise
        if state["stale"] >= cross.patience:
            log.info("stopping: no better dev score for %d rounds", cross.patience)
        state["finished"] = True
        state["seconds"] = clock.seconds
        metrics = final_metrics(self.run, recipe, data, selection, lambda m: m.target,
                                {"rounds": state["round"], "steps": state["step"], "thresholds": state["thresholds"],
                                 "train_seconds": round(state["seconds"], 1), "source_model": str(start),
                                 "target_config": asdict(recipe.base.model), **_source_info(start)}, self.device, cfg.eval_batch_size)
        save_state()
        return metrics
