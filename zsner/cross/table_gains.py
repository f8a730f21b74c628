"""What each step of the method adds, as the paper's discussion of Table 4 reads it, from Table 4's rows.

The paper argues for its model step by step: the char LSTM (Cross-Word against Cross-Word without it),
tying the two languages' LSTMs (Cross-Shared against Cross-Word) and Algorithm 1 (Cross-Augmented
against the model it started from). A reproduction is judged by whether each step helps where the
paper says it does, so the gains are written beside the paper's, in mean F1• (tuned on target dev).
Algorithm 1 is compared seed by seed with the very run it started from (``source_variant``), since
``zsner cross pick-source`` lets each seed start from a different variant.
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from zsner.cross.table import POOLED_SOURCES, paper_figures, write_rows

#: (step, the model with it, the model without it) for the steps two Table 4 rows tell apart
ROW_STEPS = (("char LSTM", "cross-word", "cross-word-nochar"), ("tying the LSTMs", "cross-shared", "cross-word"))
#: the paper gives one Cross-Augmented row, started from Cross-Shared
PAPER_ALGORITHM_1_SOURCE = "cross-shared"


def _base(variant: str) -> str:
    return variant.split(" ")[0]


def _settings_label(variant: str) -> str:
    """The ``[...]`` that sets a row's settings apart ("" for none): rows compare within one label."""
    return variant.partition(" [")[2].rstrip("]")


def _paper_gain(pair: str, plus: str, minus: str) -> float | None:
    """The paper's F1• of ``plus`` minus that of ``minus``; None where it lacks either row."""
    with_step, without = paper_figures(pair, plus), paper_figures(pair, minus)
    return with_step[0] - without[0] if with_step and without else None


def _augmented_row(rows: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The Cross-Augmented row the gain is read from: all seeds pooled, else the one source there is."""
    pooled = [r for v, r in rows.items() if _base(v) == "cross-augmented" and POOLED_SOURCES in v]
    single = [r for v, r in rows.items() if _base(v) == "cross-augmented" and "(from " in v]
    return pooled[0] if pooled else single[0] if len(single) == 1 else None


def _algorithm_1_gain(augmented: dict[str, Any], by_variant: dict[str, dict[str, Any]]) -> tuple[float, int] | None:
    """Mean over seeds of F1•(Cross-Augmented) − F1•(the source run of the same seed), and the seeds."""
    gains = []
    for run in augmented["_runs"]:
        source = by_variant.get(run["source_variant"])
        same_seed = [s for s in source["_runs"] if s["seed"] == run["seed"]] if source else []
        if same_seed:
            gains.append(float(run["f1_tgt_dev_selected"]) - float(same_seed[0]["f1_tgt_dev_selected"]))
    return (statistics.fmean(gains), len(gains)) if gains else None


def step_gains(table_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (pair, vectors, settings label): each step's gain in mean F1• and the paper's."""
    grouped: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in table_rows:
        grouped[(row["pair"], row["vectors"], _settings_label(row["variant"]))][row["variant"]] = row
    out = []
    for (pair, vectors, label), rows in sorted(grouped.items()):
        by_variant = {_base(v): r for v, r in rows.items() if "(" not in v}
        gain: dict[str, Any] = {"pair": pair, "vectors": vectors, "settings": label}
        for step, plus, minus in ROW_STEPS:
            ours = (by_variant[plus]["tgt_mean"] - by_variant[minus]["tgt_mean"]
                    if plus in by_variant and minus in by_variant else None)
            gain[step] = ours
            gain[f"{step} (paper)"] = _paper_gain(pair, plus, minus)
        augmented = _augmented_row(rows)
        algorithm_1 = _algorithm_1_gain(augmented, by_variant) if augmented else None
        gain["Algorithm 1"], gain["Algorithm 1 seeds"] = algorithm_1 or (None, 0)
        gain["Algorithm 1 (paper)"] = _paper_gain(pair, "cross-augmented", PAPER_ALGORITHM_1_SOURCE)
        if any(gain[step] is not None for step in ("char LSTM", "tying the LSTMs", "Algorithm 1")):
            out.append(gain)
    return out


def _cell(ours: float | None, paper: float | None) -> str:
    text = "–" if ours is None else f"{ours:+.1f}"
    return text if paper is None else f"{text} ({paper:+.1f})"


def write_gains(gains: list[dict[str, Any]], out: Path) -> str:
    """``OUT-gains.md`` and ``OUT-gains.csv``; return the Markdown."""
    lines = ["| pair | vectors | settings | char LSTM (paper) | tying the LSTMs (paper) | "
             "Algorithm 1, seed by seed (paper: over Cross-Shared) | seeds |",
             "|---|---|---|---|---|---|---|"]
    for g in gains:
        lines.append(f"| {g['pair']} | {g['vectors'] or '–'} | {g['settings'] or '–'} | "
                     + " | ".join(_cell(g[s], g[f"{s} (paper)"]) for s in ("char LSTM", "tying the LSTMs", "Algorithm 1"))
                     + f" | {g['Algorithm 1 seeds']} |")
    out = Path(out)
    return write_rows(gains, lines, out.with_name(out.name + "-gains"))
