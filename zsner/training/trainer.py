"""The supervised training loop: SGD on the CRF loss, periodic dev evaluation, best-model selection.

A run directory is self-describing and resumable:

    config.json     the resolved recipe          versions.json  library versions, threads, device
    log.txt         everything printed           history.jsonl  one line per dev evaluation
    last.pt         training state (resume)      best.pt        best model on dev (a model bundle)
    metrics.json    final dev/test scores        *.predictions.conll  test/dev output for conlleval

Running the same recipe on the same directory again continues an interrupted run, or only reports a
finished one; a different recipe in an existing directory is refused rather than mixed in.
"""
from __future__ import annotations

import json
import logging
import math
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import click
import numpy as np
import torch

from zsner.data import tags as tagging
from zsner.data.batching import Batcher, bucketed_batches
from zsner.data.conll import Sentence, read_conll, write_conll
from zsner.data.vocab import Vocabulary, WordNormaliser
from zsner.errors import ZsnerError
from zsner.metrics import Scores, score
from zsner.model.tagger import CrfTagger, count_parameters
from zsner.training import checkpoint
from zsner.training.checkpoint import Vocabularies
from zsner.training.predict import make_batches, predict_batches
from zsner.training.recipe import Recipe
from zsner.training.rundir import RunDirectory
from zsner.utils import GracefulStop, atomic_write_json, atomic_write_text, seed_everything

log = logging.getLogger("zsner.train")


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ZsnerError("device 'cuda' requested but no CUDA GPU is available")
    return torch.device(name)


def learning_rate(config, epoch: int) -> float:
    return max(config.lr / (1.0 + config.lr_decay * epoch), config.min_lr)


def clip_gradients(parameters: Sequence[torch.nn.Parameter], max_norm: float) -> float:
    """Clip the global gradient norm, sparse embedding gradients included.

    ``torch.nn.utils.clip_grad_norm_`` does not accept sparse gradients, which the word embeddings
    produce (only the rows of the batch's words are touched, the main saving on large vocabularies).
    """
    norms = []
    for p in parameters:
        if p.grad is None:
            continue
        grad = p.grad
        if grad.is_sparse:
            grad = grad.coalesce()
            p.grad = grad
            norms.append(grad._values().norm())
        else:
            norms.append(grad.norm())
    if not norms:
        return 0.0
    total = float(torch.linalg.vector_norm(torch.stack(norms)))
    if math.isfinite(total) and total > max_norm:
        scale = max_norm / (total + 1e-6)
        for p in parameters:
            if p.grad is not None:
                p.grad.mul_(scale)
    return total


def singleton_unk_mask(batcher: Batcher, sentences: Sequence[Sentence], chosen: Sequence[int],
                       singletons: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray | None:
    """Which tokens of a batch to replace by UNK: each training singleton with probability ``rate``.

    Lample et al.'s trick: the UNK embedding then learns from real contexts, which is what unknown test
    words will look like.
    """
    if rate <= 0:
        return None
    ids = [batcher.word_ids(sentences[i].tokens) for i in chosen]
    mask = np.zeros((len(chosen), max(len(x) for x in ids)), dtype=bool)
    for row, x in enumerate(ids):
        mask[row, : len(x)] = singletons[x] & (rng.random(len(x)) < rate)
    return mask


def sgd_step(model: torch.nn.Module, batch, optimiser: torch.optim.Optimizer,
             parameters: Sequence[torch.nn.Parameter], clip: float) -> float:
    """One update on the CRF loss of ``batch`` with global-norm clipping; returns the loss."""
    optimiser.zero_grad(set_to_none=True)
    loss = model.loss(batch)
    loss.backward()
    clip_gradients(parameters, clip)
    optimiser.step()
    return loss.item()


def build_vocabularies(recipe: Recipe, train: Sequence[Sentence], vector_words: Sequence[str] = ()) -> Vocabularies:
    """Words of the training data (plus words that have a pretrained vector), all characters, all tags."""
    normaliser = WordNormaliser(recipe.data.lowercase, recipe.data.zeros)
    word_counts = Counter(normaliser(t) for s in train for t in s.tokens)
    char_counts = Counter(c for s in train for t in s.tokens for c in t)
    scheme = recipe.data.train_scheme
    tags = tagging.tag_inventory(tagging.entity_types(s.tags for s in train), scheme)
    return Vocabularies(
        Vocabulary.build(word_counts, extra=vector_words),
        Vocabulary.build(char_counts),
        Vocabulary(tags, specials=False),
        normaliser,
        scheme,
    )


class EpochRandom:
    """The generator one epoch draws from — its batch order, then the singleton-UNK masks — seeded by
    (seed, epoch), and resumable mid-epoch: ``state`` goes into the checkpoint, and a run resumed from it
    continues the stream where it stood instead of drawing the masks again from the start.

    Shared by the supervised loop here and the source loop of ``zsner cross train``."""

    def __init__(self, seed: int, resume_state: dict | None = None):
        self.seed, self.rng = seed, None
        self._resume_state = resume_state  # applied to the first epoch started (the interrupted one)

    def begin(self, epoch: int, lengths: list[int], batch_size: int) -> list[list[int]]:
        """Seed the epoch's generator and return its batches."""
        self.rng = np.random.default_rng([self.seed, epoch])
        batches = bucketed_batches(lengths, batch_size, self.rng)
        if self._resume_state is not None:
            self.rng.bit_generator.state, self._resume_state = self._resume_state, None
        return batches

    @property
    def state(self) -> dict | None:
        return self.rng.bit_generator.state if self.rng is not None else None


@dataclass
class TrainState:
    """Where training stands; saved in ``last.pt`` with the weights and the optimiser."""

    epoch: int = 0
    batch: int = 0  # next batch index within the epoch
    step: int = 0
    best_f1: float = -1.0
    best_step: int = -1
    finished: bool = False
    seconds: float = 0.0
    loss: float | None = None  # moving average of the training loss (display and history)


class Trainer:
    """Trains one recipe in one run directory."""

    def __init__(self, recipe: Recipe, run_dir: str | Path, restart: bool = False):
        self.recipe = recipe
        self.directory = RunDirectory(run_dir, recipe.to_dict(), restart)
        self.run_dir = self.directory.path
        self.device = resolve_device(recipe.training.device)
        threads = recipe.training.threads or os.cpu_count() or 1
        torch.set_num_threads(threads)

    # -- set-up -----------------------------------------------------------------------------------
    def _read(self, path: str, what: str) -> list[Sentence]:
        if not path:
            raise ZsnerError(f"[data] {what} is not set", self.recipe.path)
        return read_conll(path, scheme=self.recipe.data.scheme, encoding=self.recipe.data.encoding)

    def _vocabularies(self, train: list[Sentence], unseen: list[Sentence]) -> tuple[Vocabularies, torch.Tensor | None]:
        """Vocabularies, plus initial word embeddings when the recipe names vectors for its language."""
        path = self.recipe.word_vectors
        if path is None:
            return build_vocabularies(self.recipe, train), None
        from zsner.training.pretrained import covered_words, embedding_matrix, load_word_vectors

        vectors = load_word_vectors(path, self.recipe.model.word_dim)
        normalise = WordNormaliser(self.recipe.data.lowercase, self.recipe.data.zeros)
        extra = covered_words(vectors, (normalise(t) for s in unseen for t in s.tokens))
        vocabs = build_vocabularies(self.recipe, train, extra)
        table, coverage = embedding_matrix(vectors, vocabs.words.items)
        log.info("%s: %d vectors; %.1f%% of the %d vocabulary words have one", path, len(vectors), 100 * coverage, len(vocabs.words))
        return vocabs, table

    # -- the run ----------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Train (or resume, or only report a finished run) and return the final metrics."""
        resume = self.directory.prepare()
        self.directory.attach_log(self.device)
        try:
            return self._run(resume)
        finally:  # several runs in one process must not write into each other's log.txt
            self.directory.detach_log()

    def _run(self, resume: bool) -> dict[str, Any]:
        metrics_path = self.run_dir / "metrics.json"
        if resume and metrics_path.exists():  # written last: the run is finished, nothing to load
            log.info("run already finished; reporting its metrics")
            return json.loads(metrics_path.read_text())
        recipe, cfg = self.recipe, self.recipe.training
        seed_everything(recipe.seed)
        train = [s for s in self._read(recipe.data.train, "train") if len(s) <= recipe.data.max_train_length]
        dev = self._read(recipe.data.dev, "dev")
        test = self._read(recipe.data.test, "test") if recipe.data.test else []
        train_tags = [tagging.from_iob2(s.tags, recipe.data.train_scheme) for s in train]

        state = TrainState()
        if resume:
            saved = torch.load(self.run_dir / "last.pt", map_location="cpu", weights_only=False)
            vocabs = Vocabularies.from_dict(saved["vocabularies"])
            state = TrainState(**saved["state"])
            self.directory.forget_history_after(state.step)
            model = CrfTagger(recipe.model, len(vocabs.words), len(vocabs.chars), len(vocabs.tags))
            model.load_state_dict(saved["model"])
        else:
            vocabs, initial = self._vocabularies(train, dev + test)
            model = CrfTagger(recipe.model, len(vocabs.words), len(vocabs.chars), len(vocabs.tags), initial)
        model.to(self.device)
        optimiser = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=cfg.lr, momentum=cfg.momentum)
        if resume:
            optimiser.load_state_dict(saved["optimiser"])
            torch.set_rng_state(saved["torch_rng"])
        epoch_random = EpochRandom(recipe.seed, saved.get("numpy_rng") if resume and state.batch else None)

        batcher = vocabs.batcher()
        dev_batches = make_batches(batcher, dev, cfg.eval_batch_size)
        word_counts = Counter(w for s in train for w in batcher.word_ids(s.tokens))
        singletons = np.array([word_counts.get(i, 0) == 1 for i in range(len(vocabs.words))])
        parameters = [p for p in model.parameters() if p.requires_grad]
        log.info("%s: %d train / %d dev / %d test sentences; %d words, %d chars, %d tags; %d parameters; device %s, %d threads%s",
                 recipe.name, len(train), len(dev), len(test), len(vocabs.words), len(vocabs.chars), len(vocabs.tags),
                 count_parameters(model), self.device, torch.get_num_threads(), "; resuming at epoch %d batch %d" % (state.epoch + 1, state.batch) if resume else "")

        def evaluate_dev() -> float:
            predicted = predict_batches(model, dev_batches, vocabs.tags.items, vocabs.scheme, self.device)
            return score([s.tags for s in dev], predicted).f1

        def save_state() -> None:
            # every random stream the rest of the run draws from, so that a resumed run is the same run
            checkpoint.save(self.run_dir / "last.pt", {
                "state": state.__dict__, "model": model.state_dict(), "optimiser": optimiser.state_dict(),
                "vocabularies": vocabs.to_dict(), "torch_rng": torch.get_rng_state(),
                "numpy_rng": epoch_random.state})

        started = time.perf_counter() - state.seconds
        last_f1 = state.best_f1
        # ^C is taken between batches (a checkpoint there resumes exactly); a second ^C stops at once,
        # and the run then resumes from its last evaluation
        stop = GracefulStop(log.warning, "^C: stopping after the current batch (^C again to stop now)").install()
        try:
            while state.epoch < cfg.epochs:
                lr = learning_rate(cfg, state.epoch)
                for group in optimiser.param_groups:
                    group["lr"] = lr
                batches = epoch_random.begin(state.epoch, [len(s) for s in train], cfg.batch_size)
                model.train()
                with click.progressbar(length=len(batches), label=f"epoch {state.epoch + 1}/{cfg.epochs}",
                                       item_show_func=lambda _: f"loss {state.loss or 0:.3f} lr {lr:.4f} dev F1 {max(last_f1, 0):.2f}",
                                       file=sys.stderr) as bar:
                    bar.update(state.batch)
                    for index in range(state.batch, len(batches)):
                        chosen = batches[index]
                        unk = singleton_unk_mask(batcher, train, chosen, singletons, cfg.singleton_unk, epoch_random.rng)
                        batch = batcher.batch(train, chosen, [train_tags[i] for i in chosen], unk).to(self.device)
                        loss = sgd_step(model, batch, optimiser, parameters, cfg.clip)
                        state.loss = loss if state.loss is None else 0.95 * state.loss + 0.05 * loss
                        state.step += 1
                        state.batch = index + 1
                        bar.update(1)
                        if state.step % cfg.eval_every == 0 or state.batch == len(batches):
                            last_f1 = evaluate_dev()
                            self._record(state, last_f1, lr, state.loss, started)
                            if last_f1 > state.best_f1:
                                state.best_f1, state.best_step = last_f1, state.step
                                checkpoint.save(self.run_dir / "best.pt", checkpoint.model_payload(model, vocabs))
                            state.seconds = time.perf_counter() - started
                            save_state()
                        if stop.requested:
                            state.seconds = time.perf_counter() - started
                            save_state()
                            raise KeyboardInterrupt
                state.epoch += 1
                state.batch = 0
                log.info("epoch %d done: loss %.3f, best dev F1 %.2f (step %d)", state.epoch, state.loss or 0.0, state.best_f1, state.best_step)
                save_state()
        except KeyboardInterrupt:
            log.warning("interrupted: state saved in %s; run the same command again to resume", self.run_dir / "last.pt")
            raise
        finally:
            stop.restore()
        state.finished = True
        state.seconds = time.perf_counter() - started
        metrics = self._final_metrics(dev, test, state)
        save_state()
        return metrics

    def _record(self, state: TrainState, f1: float, lr: float, loss: float, started: float) -> None:
        entry = {"epoch": state.epoch + 1, "step": state.step, "lr": lr, "loss": round(loss, 4),
                 "dev_f1": round(f1, 2), "seconds": round(time.perf_counter() - started, 1)}
        self.directory.record(entry)
        log.info("epoch %d step %d: loss %.3f lr %.4f dev F1 %.2f", entry["epoch"], state.step, loss, lr, f1)

    def _final_metrics(self, dev: list[Sentence], test: list[Sentence], state: TrainState) -> dict[str, Any]:
        """Score the best checkpoint on dev and test; write predictions and ``metrics.json``."""
        model, vocabs = checkpoint.load_model(self.run_dir / "best.pt", self.device)
        batcher = vocabs.batcher()
        metrics: dict[str, Any] = {"recipe": self.recipe.name, "seed": self.recipe.seed,
                                   "best_step": state.best_step, "steps": state.step,
                                   "train_seconds": round(state.seconds, 1), "parameters": count_parameters(model)}
        for name, sentences in (("dev", dev), ("test", test)):
            if not sentences:
                continue
            predicted = predict_batches(model, make_batches(batcher, sentences, self.recipe.training.eval_batch_size),
                                        vocabs.tags.items, vocabs.scheme, self.device)
            scores: Scores = score([s.tags for s in sentences], predicted)
            metrics[name] = scores.as_dict()
            write_conll(self.run_dir / f"{name}.predictions.conll", sentences, predicted)
            atomic_write_text(self.run_dir / f"{name}.conlleval.txt", scores.report() + "\n")
            log.info("%s: %s", name, scores.report().splitlines()[1])
        atomic_write_json(self.run_dir / "metrics.json", metrics)
        return metrics
