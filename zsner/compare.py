"""``zsner compare``: every model of one language pair on one table — the embedding baseline's rows and
model transfer's and the pseudo-labelling stages' — scored on the same target test set by the same scorer.

Rows come from :func:`zsner.cross.table.collect` (the Table 4 code: any run reporting both selections,
F1• and F1°), so the comparison can never drift from the table; this module only picks a pair's rows,
adds what a reader of a comparison asks next (how long did it take, how big is it) and puts the published
figure of each family beside its rows: Bari et al.'s Table 4 for the embedding baseline, Li et al.'s
Table 1 (zero-transfer) for model transfer, Li et al.'s fine-tuned and CROP's figures for those stages.
"""
from __future__ import annotations

import functools
import tomllib
from pathlib import Path
from typing import Any, Iterable

from zsner.cross.table import collect, paper_f1, write_rows


@functools.cache
def _references(relative: str) -> dict[str, Any]:
    with open(Path(__file__).parent / relative, "rb") as handle:
        return tomllib.load(handle)


def reference(pair: str, variant: str) -> str:
    """The published figure for a row: Table 4 (F1• / F1°), Li et al.'s zero-transfer F1 for model transfer,
    or the published F1 of the method a pseudo-labelling stage reproduces (Li et al.'s entity alignment, CROP)."""
    if variant.startswith("transfer-"):
        figures = _references("transfer/paper_li2021.toml").get(pair, {})
    else:
        figures = _references("projection/paper_stages.toml").get(variant.split("-")[0], {}).get(pair)
        if figures is None:
            return paper_f1(pair, variant)
    return ", ".join(f"{name} {value:.1f}" for name, value in figures.items())


def compare_rows(pair: str, runs_dirs: Iterable[Path]) -> list[dict[str, Any]]:
    return [row for row in collect(runs_dirs, reference) if row["pair"] == pair]


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f}" if seconds else ""


def write_comparison(rows: list[dict[str, Any]], out: Path) -> str:
    """Write ``out.md`` and ``out.csv``; return the Markdown."""
    lines = ["| model | vectors | runs | F1• (tgt dev) mean ± std | F1° (src dev) mean ± std | parameters "
             "| train minutes | published F1 |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        spread = {k: f" ± {r[k]:.2f}" if r["runs"] > 1 else "" for k in ("tgt_std", "src_std")}
        lines.append(f"| {r['variant']} | {r['vectors'] or '–'} | {r['runs']} | {r['tgt_mean']:.2f}{spread['tgt_std']} | "
                     f"{r['src_mean']:.2f}{spread['src_std']} | {r['parameters']:,} | {_minutes(r['train_seconds'])} | "
                     f"{r['paper_f1']} |")
    lines += ["", "Parameters: the BiLSTM-CRF rows count no word embeddings (as the paper's Table 4); the transfer rows "
              "count the whole encoder. Train minutes: the stage alone (Cross-Augmented starts from a finished "
              "Cross-Shared run). Vectors: the embedding baseline's word vectors (fasttext: trained here on the offline "
              "corpora; e5-small: distilled from the encoder, `make train-X VECTORS=e5-small`). Published: Bari et "
              "al. Table 4 (F1• / F1°, public fastText vectors); Li et al. Table 1 (mBERT, XLM-R-large): zero-transfer "
              "beside model transfer, fine-tuned on their entity-alignment projections beside the entityalign stage; "
              "CROP's Table 2 beside the crop stage. Self-training and word-alignment projection have no published "
              "row in these papers."]
    return write_rows(rows, lines, out)
