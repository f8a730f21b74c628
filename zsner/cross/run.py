"""What both cross-lingual trainers share: the run directory, the data, the vectors, evaluation on
source dev and target dev, and model selection *both ways*.

Selection both ways (paper, "Source vs. Target NER distribution"): at every evaluation the model is
scored on the source dev set and on the target dev set; the checkpoint best on source dev
(``select-src-dev.pt``, F1°: no target label is ever used, truly zero-resource) and the one best on
target dev (``select-tgt-dev.pt``, F1•: what most cross-lingual papers report) are both kept, and both
are scored on the target test set at the end.

Run directory::

    config.json  versions.json  log.txt  history.jsonl     as `zsner train`
    last.pt                 training state (resume)
    select-src-dev.pt       full model best on source dev   select-tgt-dev.pt   best on target dev
    best.pt                 target-language bundle of the tgt-dev choice (`zsner predict --model DIR`)
    best-src-dev.pt         target-language bundle of the src-dev choice
    metrics.json            f1_src_dev_selected, f1_tgt_dev_selected, dev scores, parameters, seed, P@1
    test.{src,tgt}-dev-selected.predictions.conll   target test output of each choice
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch

from zsner.cross.config import CrossRecipe
from zsner.data.conll import Sentence, read_conll, read_unlabelled, write_conll
from zsner.embeddings.vectors import Embeddings
from zsner.errors import ZsnerError
from zsner.metrics import score
from zsner.training import checkpoint
from zsner.training.predict import EvalSet, make_batches, predict_batches
from zsner.training.pretrained import load_word_vectors
from zsner.training.rundir import RunDirectory
from zsner.utils import atomic_write_json, atomic_write_text

log = logging.getLogger("zsner.cross")
SELECTIONS = ("src-dev", "tgt-dev")


@dataclass
class CrossData:
    """Sentences of both languages (IOB2 tags; the unlabelled target sentences have none)."""

    source_train: list[Sentence]
    source_dev: list[Sentence]
    unlabelled: list[Sentence]
    target_dev: list[Sentence]
    target_test: list[Sentence]


def load_data(recipe: CrossRecipe) -> CrossData:
    data, target = recipe.base.data, recipe.target
    if not data.train or not data.dev:
        raise ZsnerError("[data] train and dev (the labelled source language) must be set", recipe.base.path)
    train = [s for s in read_conll(data.train, scheme=data.scheme, encoding=data.encoding) if len(s) <= data.max_train_length]
    source_dev = read_conll(data.dev, scheme=data.scheme, encoding=data.encoding)
    unlabelled = [s for s in read_unlabelled(target.unlabelled, target.unlabelled_encoding) if len(s) <= data.max_train_length]
    if target.max_unlabelled:
        unlabelled = unlabelled[: target.max_unlabelled]
    if not unlabelled:
        raise ZsnerError("no unlabelled target sentences", target.unlabelled)
    target_dev = read_conll(target.dev, scheme=target.scheme, encoding=target.encoding)
    target_test = read_conll(target.test, scheme=target.scheme, encoding=target.encoding)
    return CrossData(train, source_dev, unlabelled, target_dev, target_test)


def vector_paths(recipe: CrossRecipe) -> dict[str, str | None]:
    """Which .vec file initialises each language's rows (None: random rows)."""
    src, tgt = recipe.source_language, recipe.target.language
    cross = recipe.cross
    if cross.model == "source-mono":
        return {src: recipe.base.vectors.get(src) or None,
                tgt: None if cross.mono_target == "random" else recipe.base.vectors.get(tgt) or None}
    folder = Path(cross.mapped_dir)
    paths = {lang: str(folder / f"{lang}.vec") for lang in (src, tgt)}
    for lang, path in paths.items():
        if not Path(path).is_file():
            raise ZsnerError(f"no mapped {lang} vectors here; run `zsner map {recipe.base.path} --out {folder}` first", path)
    return paths


def load_vectors_for(recipe: CrossRecipe) -> dict[str, Embeddings | None]:
    out: dict[str, Embeddings | None] = {}
    for lang, path in vector_paths(recipe).items():
        out[lang] = None if path is None else load_word_vectors(path, recipe.base.model.word_dim)
        log.info("%s word vectors: %s", lang, path or "random")
    return out


def mapping_precision(recipe: CrossRecipe) -> dict[str, float] | None:
    """P@1 of the mapping run's report (CSLS and NN), when it has a dictionary evaluation."""
    if not recipe.cross.mapped_dir:
        return None
    report = Path(recipe.cross.mapped_dir) / "report.json"
    if not report.is_file():
        return None
    evaluations = json.loads(report.read_text()).get("eval", {})
    for stage in ("after_refinement", "before_refinement"):
        found = {k: v for k, v in evaluations.get(stage, {}).items() if k.endswith("P@1")}
        if found:
            return {"stage": stage, **found}
    return None


@dataclass
class Selection:
    """Best scores so far on each dev set, and where they were reached."""

    best: dict[str, dict[str, Any]] = field(default_factory=lambda: {s: {"f1": -1.0} for s in SELECTIONS})

    def update(self, scores: dict[str, float], where: dict[str, Any], save: Callable[[str], None]) -> list[str]:
        """Save a checkpoint for each selection whose dev score improved; return those names."""
        improved = []
        for name in SELECTIONS:
            if scores[name] > self.best[name]["f1"]:
                self.best[name] = {"f1": scores[name], "scores": dict(scores), **where}
                save(name)
                improved.append(name)
        return improved


def evaluate(model, sets: dict[str, EvalSet], gold: dict[str, list[Sentence]], tag_items, scheme: str,
             device: torch.device) -> dict[str, float]:
    """F1 of ``model`` on each named eval set (``model`` may be a mapping name → model)."""
    out = {}
    for name, data in sets.items():
        tagger = model[name] if isinstance(model, dict) else model
        predicted = predict_batches(tagger, data, tag_items, scheme, device)
        out[name] = score([s.tags for s in gold[name]], predicted).f1
    return out


def final_metrics(run: RunDirectory, recipe: CrossRecipe, data: CrossData, selection: Selection,
                  target_model_of: Callable[[Any], Any], extra: dict[str, Any], device: torch.device,
                  batch_size: int) -> dict[str, Any]:
    """Score both selected checkpoints on the target test set; export bundles; write metrics.json."""
    from zsner.cross.bundle import language_bundle, load_cross
    from zsner.cross.model import network_parameters

    language = recipe.target.language
    metrics: dict[str, Any] = {"recipe": recipe.base.name, "pair": recipe.pair, "model": recipe.cross.model,
                               "variant": variant_name(recipe), "use_chars": recipe.base.model.use_chars,
                               "seed": recipe.base.seed, **extra}
    for name in SELECTIONS:
        path = run.path / f"select-{name}.pt"
        if not path.is_file():
            raise ZsnerError("no selected checkpoint (did training evaluate at least once?)", path)
        model, vocabs, _ = load_cross(path, device)
        tagger = target_model_of(model)
        test = make_batches(vocabs.batcher(language), data.target_test, batch_size)
        predicted = predict_batches(tagger, test, vocabs.vocabs.tags.items, vocabs.vocabs.scheme, device)
        scores = score([s.tags for s in data.target_test], predicted)
        key = name.replace("-", "_")
        metrics[f"f1_{key}_selected"] = scores.f1
        metrics[f"{key}_selected"] = {"target_test": scores.as_dict(), **selection.best[name]}
        write_conll(run.path / f"test.{name}-selected.predictions.conll", data.target_test, predicted)
        atomic_write_text(run.path / f"test.{name}-selected.conlleval.txt", scores.report() + "\n")
        checkpoint.save(run.path / ("best.pt" if name == "tgt-dev" else "best-src-dev.pt"),
                        language_bundle(tagger, vocabs, language))
        metrics["parameters"] = network_parameters(model)
        log.info("selected on %s (dev F1 %.2f): target test F1 %.2f", name, selection.best[name]["f1"], scores.f1)
    metrics["dev_f1"] = {name: selection.best[name]["f1"] for name in SELECTIONS}
    if "mapping_p_at_1" not in metrics:  # only for models that read the mapped vectors
        metrics["mapping_p_at_1"] = None if recipe.cross.model == "source-mono" else mapping_precision(recipe)
    atomic_write_json(run.path / "metrics.json", metrics)
    return metrics


def variant_name(recipe: CrossRecipe) -> str:
    """The row label of Table 4: the model, plus ``-nochar`` / ``-random`` where they apply."""
    name = recipe.cross.model + ("" if recipe.base.model.use_chars else "-nochar")
    if recipe.cross.model == "source-mono" and recipe.cross.mono_target == "random":
        name += "-random"
    return name


class Clock:
    """Seconds of training, carried across resumes."""

    def __init__(self, already: float = 0.0):
        self.start = time.perf_counter() - already

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start


def sgd_for(model: torch.nn.Module, device: torch.device, cfg, saved: dict | None):
    """Move ``model`` to ``device`` and build its SGD optimiser over the trainable parameters; when
    resuming (``saved`` is the ``last.pt`` payload) restore the optimiser and the torch RNG state."""
    model.to(device)
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.SGD(parameters, lr=cfg.lr, momentum=cfg.momentum)
    if saved is not None:
        optimiser.load_state_dict(saved["optimiser"])
        torch.set_rng_state(saved["torch_rng"])
    return parameters, optimiser
