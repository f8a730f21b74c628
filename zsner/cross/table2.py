"""Table 2 of the paper from the run directories on disk: supervised monolingual NER per language, by kind of
word embeddings (random, fastText, distilled from the encoder, ...) with and without the character LSTM.

It sits beside Table 4 (``zsner.cross.table``) to read runs and write tables the same way: the kind of
vectors is named by ``vector_kind`` (random when a run had none), runs pooled as seeds only when their
recorded configs differ in the seed alone, Markdown and CSV written by ``write_rows``.
"""
from __future__ import annotations

import functools
import json
import statistics
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

from zsner.cross.table import find_runs_files, run_config, run_settings, vector_kind, write_rows

LANGUAGES = ["en", "es", "nl", "de", "ar", "fi"]  # the paper's order


@functools.cache
def _paper() -> dict[str, dict[str, str]]:
    with open(Path(__file__).with_name("paper_table2.toml"), "rb") as handle:
        return tomllib.load(handle)


def collect(runs_dirs: Iterable[Path]) -> list[dict[str, Any]]:
    """One row per (language, embeddings, chars, settings) over every supervised ``metrics.json`` (a run of
    ``zsner train``: it has ``test`` scores and no cross-lingual selection) under ``runs_dirs``."""
    groups: dict[tuple[str, str, bool, str], list[dict[str, Any]]] = defaultdict(list)
    for path in find_runs_files(runs_dirs, "metrics.json"):
        try:
            metrics = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if not isinstance(metrics, dict) or "test" not in metrics or "f1_tgt_dev_selected" in metrics:
            continue
        config = run_config(path.parent)
        language = config.get("data", {}).get("language", "?")
        chars = bool(config.get("model", {}).get("use_chars", True))
        settings = {k: v for k, v in run_settings(path.parent).items() if not k.startswith(("vectors.", "data."))}
        metrics["_epochs"] = config.get("training", {}).get("epochs")
        key = (language, vector_kind(path.parent) or "random", chars, json.dumps(settings, sort_keys=True))
        groups[key].append(metrics)
    rows = []
    for (language, kind, chars, _), runs in groups.items():
        test = [float(r["test"]["f1"]) for r in runs]
        rows.append({"language": language, "embeddings": kind, "chars": chars, "runs": len(runs),
                     "seeds": " ".join(str(r["seed"]) for r in runs),
                     "test_mean": statistics.fmean(test), "test_std": statistics.stdev(test) if len(test) > 1 else 0.0,
                     "test_max": max(test), "dev_mean": statistics.fmean(float(r["dev"]["f1"]) for r in runs),
                     "epochs": runs[0]["_epochs"], "parameters": runs[0].get("parameters"),
                     "train_minutes": statistics.fmean(float(r.get("train_seconds", 0.0)) for r in runs) / 60,
                     "paper": _paper().get(language, {}).get(kind, "") if chars else ""})
    order = {name: i for i, name in enumerate(LANGUAGES)}
    rows.sort(key=lambda r: (order.get(r["language"], len(order)), r["embeddings"] != "random", r["embeddings"],
                             not r["chars"], r["epochs"] or 0))
    return rows


def write_table(rows: list[dict[str, Any]], out: Path, languages: Iterable[str] = LANGUAGES) -> str:
    """``out.md`` / ``out.csv``; a language of the paper with no row is listed as missing (German: no train file)."""
    lines = ["| language | embeddings | char LSTM | runs | test F1 mean ± std | max | dev F1 | epochs | parameters "
             "| train min | paper |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        spread = f"{r['test_std']:.2f}" if r["runs"] > 1 else "–"
        lines.append(f"| {r['language']} | {r['embeddings']} | {'yes' if r['chars'] else 'no'} | {r['runs']} | "
                     f"{r['test_mean']:.2f} ± {spread} | {r['test_max']:.2f} | {r['dev_mean']:.2f} | {r['epochs']} | "
                     f"{r['parameters']} | {r['train_minutes']:.1f} | {r['paper']} |")
    missing = [lang for lang in languages if lang not in {r["language"] for r in rows}]
    if missing:
        lines += ["", "No run for: " + ", ".join(
            f"{lang} ({'no labelled train file here (CoNLL-2003 German train is not distributed)' if lang == 'de' else 'not run'})"
            for lang in missing) + "."]
    return write_rows(rows, lines, out)
