"""``zsner transfer retarget``: a finished transfer run, scored for another target language.

Model transfer trains on English alone; the target language enters only through the target-dev choice
(F1•) and the test set. A run of en→es and a run of en→nl with the same English settings and seed
therefore follow the same training trajectory step for step, and differ only in which evaluation step
target dev picks. Every evaluation's weights are kept (``checkpoints/``), so the en→nl run is obtained
exactly by scoring those checkpoints on Dutch dev — minutes of tagging instead of an hour of training.
The result is an ordinary run directory (config, log, history, both bundles, metrics, predictions) that
names the run it came from.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch

from zsner.errors import ZsnerError
from zsner.metrics import score
from zsner.training.rundir import RunDirectory, first_difference
from zsner.training.trainer import resolve_device
from zsner.transfer.config import TransferRecipe
from zsner.transfer.evaluation import Selection, run_facts, score_selections
from zsner.transfer.model import TransferTagger
from zsner.transfer.predict import encode_corpus, predict_encoded
from zsner.encoders.precision import autocast_for
from zsner.transfer.trainer import read_sets
from zsner.utils import atomic_copy

log = logging.getLogger("zsner.transfer")
#: [transfer] keys that do not change what is learnt (the English test file is only scored)
NOT_LEARNT = {"source_test", "threads", "device", "eval_batch_size", "keep_checkpoints"}
#: [data] keys that transfer reads (the others are the BiLSTM-CRF's: its train scheme, word normalisation)
DATA_READ = ("train", "dev", "scheme", "encoding", "max_train_length")


def english_side(config: dict[str, Any]) -> dict[str, Any]:
    """What determines the training trajectory: the English data, the seed, the [transfer] settings."""
    return {"seed": config["seed"], "data": {k: config["data"].get(k) for k in DATA_READ},
            "transfer": {k: v for k, v in config["transfer"].items() if k not in NOT_LEARNT}}


def retarget(run: Path, recipe: TransferRecipe, out: Path, restart: bool = False) -> dict[str, Any]:
    run, out = Path(run), Path(out)
    try:
        trained = json.loads((run / "config.json").read_text(encoding="utf-8"))
        source_metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
        history = [json.loads(line) for line in (run / "history.jsonl").read_text(encoding="utf-8").splitlines()]
    except (OSError, ValueError):
        raise ZsnerError("not a finished transfer run (config.json, metrics.json, history.jsonl)", run) from None
    if "transfer" not in trained:
        raise ZsnerError("not a transfer run (its config.json has no [transfer] table)", run)
    mine = recipe.to_dict()
    if english_side(trained) != english_side(mine):
        raise ZsnerError(f"was trained with other English settings than {recipe.base.path} "
                         f"({first_difference(english_side(trained), english_side(mine))}); train it instead", run)
    steps = [entry["step"] for entry in history]
    missing = [s for s in steps if not (run / "checkpoints" / f"step-{s:07d}.pt").is_file()]
    if missing:
        raise ZsnerError(f"has no checkpoint of step {missing[0]} (trained with keep_checkpoints = false?)", run)
    directory = RunDirectory(out, {**mine, "retargeted_from": str(run)}, restart)
    directory.prepare()  # refuses a different recipe in `out`; --restart wipes it
    device = resolve_device(recipe.transfer.device)
    directory.attach_log(device)
    try:
        if (out / "metrics.json").exists():
            log.info("run already finished; reporting its metrics")
            return json.loads((out / "metrics.json").read_text())
        return _retarget(run, recipe, out, directory, trained, history, source_metrics, device)
    finally:
        directory.detach_log()


def _retarget(run: Path, recipe: TransferRecipe, out: Path, directory: RunDirectory, trained: dict[str, Any],
              history: list[dict], source_metrics: dict, device: torch.device) -> dict[str, Any]:
    from zsner.encoders.loading import load_encoder, load_tokenizer

    cfg = recipe.transfer
    torch.set_num_threads(cfg.threads or torch.get_num_threads())
    payload = torch.load(run / "best-src-dev.pt", map_location="cpu", weights_only=False)
    tags = payload["tags"]
    tokenizer = load_tokenizer(cfg.encoder)
    model = TransferTagger(load_encoder(cfg.encoder), len(tags), cfg.head, cfg.dropout).to(device)
    autocast = autocast_for(cfg.precision, device)
    sets = read_sets(recipe, train=False)
    known = {}
    if cfg.source_test and cfg.source_test == trained["transfer"]["source_test"]:
        sets.pop("source_test", None)  # the same English test, the same src-dev model: its score is known
        known["source_test_f1"] = source_metrics.get("source_test_f1")
    dev = encode_corpus(tokenizer, sets["target_dev"], cfg.max_subwords, cfg.eval_batch_size, "target dev")
    log.info("%s %s from %s: scoring its %d checkpoints on %s", recipe.pair, recipe.model_name, run, len(history),
             recipe.target.dev)
    (out / "history.jsonl").unlink(missing_ok=True)  # an interrupted retarget starts its scoring over
    best = Selection("tgt-dev", out / "best.pt", -1, -1.0)
    for entry in history:
        checkpoint = run / "checkpoints" / f"step-{entry['step']:07d}.pt"
        model.load_state_dict(torch.load(checkpoint, map_location="cpu", weights_only=False)["state_dict"], strict=False)
        f1 = score([s.tags for s in sets["target_dev"]], predict_encoded(model, dev, tags, cfg.scheme, device, autocast)).f1
        directory.record({**{k: v for k, v in entry.items() if k != "tgt_dev_f1"}, "tgt_dev_f1": round(f1, 2)})
        log.info("step %d: source dev F1 %.2f, target dev F1 %.2f", entry["step"], entry["src_dev_f1"], f1)
        if f1 > best.dev_f1:
            best = Selection("tgt-dev", out / "best.pt", entry["step"], f1)
            atomic_copy(checkpoint, out / "best.pt")
    atomic_copy(run / "best-src-dev.pt", out / "best-src-dev.pt")
    chosen = source_metrics["src-dev-selected"]
    selections = [best, Selection("src-dev", out / "best-src-dev.pt", chosen["step"], chosen["dev_f1"])]
    metrics = {**run_facts(recipe, model), **known, "steps": source_metrics["steps"], "retargeted_from": str(run),
               "train_seconds": source_metrics["train_seconds"],
               "train_sentences_per_second": source_metrics.get("train_sentences_per_second")}
    return score_selections(out, cfg, model, tokenizer, tags, sets, selections, metrics, device, autocast)
