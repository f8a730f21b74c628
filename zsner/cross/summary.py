"""``runs/train-X/metrics.json``: one file that answers "what did ``make train-X`` reach?".

``make train-X`` leaves one run directory per stage (``cross-shared``, ``cross-augmented``, and any
other Table 4 variant trained there); this summary names the final model, repeats its two scores (F1•:
selected on target dev, F1°: selected on source dev) and lists every stage beside it, so the gain of
each step is visible without opening the stage directories. ``zsner table`` skips it (it is marked
``"summary": true``): the stage files are the runs.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from zsner.errors import ZsnerError
from zsner.utils import atomic_write_text

#: the stage that is the result of ``make train-X``, most complete first
FINAL_ORDER = ("cross-augmented", "cross-shared", "cross-word", "source-mono")
STAGE_KEYS = ("model", "variant", "seed", "f1_tgt_dev_selected", "f1_src_dev_selected", "parameters",
              "mapping_p_at_1", "train_seconds")


def summarize(pair_dir: Path) -> dict[str, Any]:
    """Collect ``pair_dir/*/metrics.json`` and write ``pair_dir/metrics.json``; return the summary."""
    pair_dir = Path(pair_dir)
    stages: dict[str, dict[str, Any]] = {}
    for path in sorted(pair_dir.glob("*/metrics.json")):
        try:
            metrics = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise ZsnerError(f"unreadable metrics ({error})", path) from None
        if isinstance(metrics, dict) and "f1_tgt_dev_selected" in metrics:
            stages[path.parent.name] = {k: metrics[k] for k in STAGE_KEYS if k in metrics}
            stages[path.parent.name]["pair"] = metrics.get("pair")
    final = next((name for name in FINAL_ORDER if name in stages), None)
    if final is None:
        raise ZsnerError("no finished cross-lingual stage (*/metrics.json) to summarise", pair_dir)
    summary = {
        "summary": True,
        "pair": stages[final]["pair"],
        "final_model": final,
        "f1_tgt_dev_selected": stages[final]["f1_tgt_dev_selected"],
        "f1_src_dev_selected": stages[final]["f1_src_dev_selected"],
        "mapping_p_at_1": stages[final].get("mapping_p_at_1"),
        "stages": stages,
    }
    atomic_write_text(pair_dir / "metrics.json", json.dumps(summary, indent=2) + "\n")
    return summary


def best_source(runs: list[Path], by: str = "src-dev") -> Path:
    """The source run (Cross-Word without chars, Cross-Word, Cross-Shared, ...) whose selected checkpoint
    scores best on ``by`` (``src-dev``: no target label, the zero-resource choice; ``tgt-dev``: the paper's
    Table 4 caption), the first of equals; Algorithm 1 starts from it."""
    if by not in ("src-dev", "tgt-dev"):
        raise ZsnerError(f"choose the source run by src-dev or tgt-dev, not {by!r}")
    scored = []
    for run in map(Path, runs):
        path = run / "metrics.json"
        if not path.is_file():
            raise ZsnerError("no metrics.json: the source run has not finished", run)
        metrics = json.loads(path.read_text(encoding="utf-8"))
        if metrics.get("model") == "cross-augmented":
            raise ZsnerError("a Cross-Augmented run is not a source variant", run)
        scored.append((metrics["dev_f1"][by], run))
    if not scored:
        raise ZsnerError("no source run to choose from")
    best = max(score for score, _ in scored)
    return next(run for score, run in scored if score == best)
