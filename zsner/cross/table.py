"""Table 4 and Figure 2 from the run directories on disk (never from numbers typed in).

Table 4: for each language pair and model variant, the target test F1 of the checkpoint selected on
target dev (F1•) and on source dev (F1°), as mean ± standard deviation and maximum over the runs
found (the paper: 5 seeds), and the parameter count without embeddings.

Figure 2: sentence length vs. the fraction of target words the *source* model tags correctly (all
words, and words inside gold entities), from the round-0 pseudo-labels a Cross-Augmented run writes
(``pseudo-labels.round0.conll``: token, gold, pseudo-label) when its unlabelled target file carries
gold tags (analysis only; training never reads them), pooled over every such run of a pair.
"""
from __future__ import annotations

import csv
import functools
import json
import statistics
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

from zsner.utils import atomic_write_text

ORDER = ["source-mono-nochar", "source-mono", "source-mono-random", "cross-word-nochar", "cross-word",
         "cross-shared", "cross-augmented", "transfer-linear", "transfer-crf"]
BUCKET = 10  # words per length bucket in Figure 2
#: the name suffix of the row that pools Cross-Augmented runs whose seeds each started from their own source
POOLED_SOURCES = "(best source of each seed)"


#: settings that may differ between runs pooled as "seeds" of one row: not what was learnt, or (the
#: augmented run's source_model) a path that differs per seed by construction (its kind is in the row name)
NOT_SETTINGS = {"seed", "path", "name", "threads", "device", "eval_batch_size", "source_model"}
#: settings that follow from the kind of word vectors, which has a column of its own (``vector_kind``)
VECTOR_SETTINGS = ("vectors.", "cross.mapped_dir", "model.word_dim")


def run_config(run_dir: Path) -> dict[str, Any]:
    try:
        config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return config if isinstance(config, dict) else {}


def vector_kind(run_dir: Path) -> str:
    """Which word vectors a run used, named by the folder of its ``[vectors]`` files: ``fasttext`` for the
    vectors trained here (data/vectors/LANG.vec), ``e5-small`` for data/vectors/e5-small/ (distilled),
    the folder's name for files of one's own; "" for runs without word vectors (model transfer)."""
    vectors = run_config(run_dir).get("vectors")
    if not isinstance(vectors, dict) or not vectors:
        return ""
    folders = sorted({Path(str(path)).parent for path in vectors.values()})
    return " + ".join("fasttext" if folder.as_posix() == "data/vectors" else folder.name for folder in folders)


#: a stage run's [transfer] keys that its [stages] table sets (zsner.projection.config.StageRecipe.student):
#: told by the stage's own keys, and the pseudo-label file is the run's own by construction
STAGE_DERIVED = {"train", "init", "loss", "gamma", "epochs", "lr", "head_lr", "freeze_layers", "with_source", "stage"}


def _stage_view(config: dict[str, Any]) -> dict[str, Any]:
    """A pseudo-labelling stage's config as its settings: [transfer] without what [stages] derives, and
    [stages] with the run's own stage table only (another stage's table does not change this run)."""
    stage = config["stage"]
    stages = {k: v for k, v in config.get("stages", {}).items() if not isinstance(v, dict)}
    own = config.get("stages", {}).get(stage, {})
    stages.update({f"{stage}.{k}": v for k, v in own.items()} if isinstance(own, dict) else {})
    transfer = {k: v for k, v in config.get("transfer", {}).items() if k not in STAGE_DERIVED}
    return {**config, "transfer": transfer, "stages": stages}


def run_settings(run_dir: Path) -> dict[str, str]:
    """The run's recorded config (config.json), flattened to ``section.key`` → value, seed left out."""
    flat: dict[str, str] = {}
    config = run_config(run_dir)
    if config.get("stage"):
        config = _stage_view(config)
    for key, value in config.items():
        if key in NOT_SETTINGS:
            continue
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": json.dumps(v) for k, v in value.items() if k not in NOT_SETTINGS})
        else:
            flat[key] = json.dumps(value)
    return flat


def _split_by_settings(runs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Runs of one (pair, variant) grouped by their settings, so that only runs that differ in the
    seed alone are pooled; each group is labelled by the settings that set it apart ("" if one)."""
    by_settings: dict[str, list[dict[str, Any]]] = defaultdict(list)
    settings = {id(r): run_settings(Path(r["_dir"])) for r in runs}
    for r in runs:
        by_settings[json.dumps(settings[id(r)], sort_keys=True)].append(r)
    if len(by_settings) == 1:
        return {"": runs}
    keys = sorted({k for s in settings.values() for k in s})
    differing = [k for k in keys if len({s.get(k) for s in settings.values()}) > 1
                 and not k.startswith(VECTOR_SETTINGS)]
    out = {}
    for group in by_settings.values():
        mine = settings[id(group[0])]
        out[", ".join(f"{k}={json.loads(mine[k]) if k in mine else '-'}" for k in differing)] = group
    return out


def find_runs_files(runs_dirs: Iterable[Path], name: str) -> list[Path]:
    """Every file called ``name`` under the given folders, each once, in a stable order."""
    return sorted({path.resolve(): path for folder in runs_dirs for path in Path(folder).rglob(name)}.values())


def collect(runs_dirs: Iterable[Path], reference=None) -> list[dict[str, Any]]:
    """One row per (pair, variant, settings) over every cross-lingual ``metrics.json`` under
    ``runs_dirs``: runs are pooled as seeds only when their recorded configs differ in the seed alone.

    Any run that reports both selections (``f1_tgt_dev_selected``, ``f1_src_dev_selected``) is a row: the
    embedding baseline's and model transfer's alike. ``reference(pair, variant)`` gives the published
    figure printed beside a row (default: Bari et al.'s Table 4). Cross-Augmented runs are split by
    the source variant they started from, and where each seed picked its own, pooled as well.
    """
    reference = reference or paper_f1
    found: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    augmented: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)  # every source together
    for path in find_runs_files(runs_dirs, "metrics.json"):
        try:
            metrics = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if not isinstance(metrics, dict) or "f1_tgt_dev_selected" not in metrics or metrics.get("summary"):
            continue  # not a cross-lingual run, or runs/train-X/metrics.json (zsner cross summary)
        metrics["_dir"] = str(path.parent)
        variant = metrics.get("variant", metrics["model"])
        source = metrics.get("source_variant")
        kind = vector_kind(path.parent)
        if source:  # Algorithm 1 starts from the best source variant of its seed: say which, keep them apart
            augmented[(metrics["pair"], variant, kind)].append(metrics)
            variant += f" (from {source})"
        found[(metrics["pair"], variant, kind)].append(metrics)
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for (pair, variant, kind), runs in found.items():
        for label, group in _split_by_settings(runs).items():
            groups[(pair, f"{variant} [{label}]" if label else variant, kind)] = group
    for (pair, variant, kind), runs in augmented.items():
        for label, group in _split_by_settings(runs).items():
            if _source_picked_per_seed(group):
                name = f"{variant} {POOLED_SOURCES}"
                groups[(pair, f"{name} [{label}]" if label else name, kind)] = group
    rows = []
    for (pair, variant, kind), runs in groups.items():
        row: dict[str, Any] = {"pair": pair, "variant": variant, "vectors": kind, "runs": len(runs),
                               "seeds": " ".join(str(r["seed"]) for r in runs),
                               "parameters": _parameters(runs),
                               # the word map the runs used: the paper's F1 rests on P@1 ~ 80
                               "map_p_at_1": _map_precision(runs),
                               "paper_f1": reference(pair, variant),
                               "train_seconds": statistics.fmean(float(r.get("train_seconds", 0.0)) for r in runs),
                               "_runs": runs}  # the metrics themselves, for the step gains (not a column)
        for key, label in (("f1_tgt_dev_selected", "tgt"), ("f1_src_dev_selected", "src")):
            values = [float(r[key]) for r in runs]
            row[f"{label}_mean"] = statistics.fmean(values)
            row[f"{label}_std"] = statistics.stdev(values) if len(values) > 1 else 0.0
            row[f"{label}_max"] = max(values)
        rows.append(row)
    rank = {name: i for i, name in enumerate(ORDER)}
    rows.sort(key=lambda r: (r["pair"], rank.get(r["variant"].split(" ")[0], len(ORDER)), r["variant"], r["vectors"]))
    return rows


def _source_picked_per_seed(runs: list[dict[str, Any]]) -> bool:
    """Whether Algorithm 1's runs started, seed by seed, from whichever source variant that seed's
    selection picked (``zsner cross pick-source``; more than one source among them, each seed once).
    Pooled, they are the paper's Cross-Augmented: the method includes the pick, and the rows split by
    source alone hold too few seeds each for a mean."""
    seeds = [r["seed"] for r in runs]
    return len({r["source_variant"] for r in runs}) > 1 and len(set(seeds)) == len(seeds)


@functools.cache
def _paper_table() -> dict[str, dict[str, list[float]]]:
    with open(Path(__file__).with_name("paper_table4.toml"), "rb") as handle:
        return tomllib.load(handle)


def paper_figures(pair: str, variant: str) -> list[float] | None:
    """The paper's mean [F1•, F1°] for this row (``paper_table4.toml``), None where it has none."""
    return _paper_table().get(pair, {}).get(variant.split(" ")[0])


def paper_f1(pair: str, variant: str) -> str:
    """The paper's mean F1• / F1° for this row as the table prints it, "" where it has none."""
    values = paper_figures(pair, variant)
    return f"{values[0]:.2f} / {values[1]:.2f}" if values else ""


def _parameters(runs: list[dict[str, Any]]) -> int | str | None:
    """The runs' parameter count; several (Cross-Augmented from each seed's own source) joined by " / "."""
    counts = sorted({r.get("parameters") for r in runs} - {None})
    return counts[0] if len(counts) == 1 else " / ".join(map(str, counts)) or None


def _map_precision(runs: list[dict[str, Any]]) -> str:
    """P@1 (CSLS) of the runs' word maps, as recorded in their metrics ("" if none was evaluated)."""
    values = sorted({r["mapping_p_at_1"].get("csls_knn_10/P@1") for r in runs
                     if isinstance(r.get("mapping_p_at_1"), dict)} - {None})
    return " / ".join(f"{v:.2f}" for v in values)


def write_table(rows: list[dict[str, Any]], out: Path) -> str:
    """Write ``out.md`` and ``out.csv``; return the Markdown."""
    lines = ["| pair | model | vectors | runs | F1• (tgt dev) mean ± std | max | F1° (src dev) mean ± std | max "
             "| parameters | map P@1 (CSLS) | paper F1• / F1° |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        spread = {k: f"{r[k]:.2f}" if r["runs"] > 1 else "–" for k in ("tgt_std", "src_std")}  # one run: no spread
        lines.append(f"| {r['pair']} | {r['variant']} | {r['vectors'] or '–'} | {r['runs']} | "
                     f"{r['tgt_mean']:.2f} ± {spread['tgt_std']} | "
                     f"{r['tgt_max']:.2f} | {r['src_mean']:.2f} ± {spread['src_std']} | {r['src_max']:.2f} | "
                     f"{r['parameters']} | {r['map_p_at_1']} | {r['paper_f1']} |")
    return write_rows(rows, lines, out)


def write_rows(rows: list[dict[str, Any]], lines: list[str], out: Path) -> str:
    """``out.md`` (the Markdown ``lines``) and ``out.csv`` (every public field of ``rows``: a field named
    ``_...`` is for the code, not a column); return the Markdown."""
    markdown = "\n".join(lines) + "\n"
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out.with_suffix(".md"), markdown)
    with open(out.with_suffix(".csv"), "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[k for k in rows[0] if not k.startswith("_")], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return markdown


Counts = tuple[int, int, int, int]  # words correct, words, entity words correct, entity words


def length_accuracy(path: Path) -> dict[int, Counts]:
    """Length bucket start → counts of a ``token gold predicted`` file. Entity words (gold tag not O)
    are counted apart: O is ~85 % of the words, so all-word accuracy hides how the entities fare."""
    buckets: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    sentence: list[tuple[str, str]] = []

    def flush() -> None:
        if sentence:
            bucket = buckets[(len(sentence) - 1) // BUCKET * BUCKET + 1]
            bucket[0] += sum(g == p for g, p in sentence)
            bucket[1] += len(sentence)
            bucket[2] += sum(g == p for g, p in sentence if g != "O")
            bucket[3] += sum(g != "O" for g, _ in sentence)
            sentence.clear()

    for line in path.read_text(encoding="utf-8").splitlines():
        columns = line.split()
        if len(columns) >= 3:
            sentence.append((columns[-2], columns[-1]))
        else:
            flush()
    flush()
    return {k: (v[0], v[1], v[2], v[3]) for k, v in sorted(buckets.items())}


def _pooled_curves(runs_dirs: Iterable[Path]) -> tuple[dict[str, dict[int, Counts]], dict[str, int]]:
    """Per pair, the counts of every round-0 pseudo-label file under ``runs_dirs`` added up (each file
    is one source model: a seed, a schedule), and how many files each pair pooled."""
    curves: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0, 0]))
    files: dict[str, int] = defaultdict(int)
    for path in find_runs_files(runs_dirs, "pseudo-labels.round0.conll"):
        metrics = path.parent / "metrics.json"
        if not metrics.is_file():
            continue  # a run still training: its row is not in the table either
        pair = json.loads(metrics.read_text()).get("pair", path.parent.name)
        files[pair] += 1
        for start, counts in length_accuracy(path).items():
            pooled = curves[pair][start]
            for i, count in enumerate(counts):
                pooled[i] += count
    return ({pair: {start: tuple(c) for start, c in sorted(curve.items())} for pair, curve in sorted(curves.items())},
            dict(files))


def figure2(runs_dirs: Iterable[Path], out: Path) -> list[Path]:
    """Write ``out-fig2.csv`` and, when matplotlib is installed, ``out-fig2.png``; return the paths."""
    curves, files = _pooled_curves(runs_dirs)
    if not curves:
        return []
    out = Path(out)
    csv_path = out.with_name(out.name + "-fig2.csv")
    rows = [f"{pair},{files[pair]},{start},{start + BUCKET - 1},{c},{t},{c / t:.4f},{ec},{et},"
            f"{ec / et if et else 0:.4f}" for pair, curve in curves.items() for start, (c, t, ec, et) in curve.items()]
    atomic_write_text(csv_path, "pair,runs,min_length,max_length,correct,words,fraction,entity_correct,"
                      "entity_words,entity_fraction\n" + "\n".join(rows) + "\n")
    written = [csv_path]
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return written
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for pair, curve in curves.items():
        label = f"{pair} ({files[pair]} source model{'s' if files[pair] > 1 else ''})"
        for ax, (correct, total) in zip(axes, ((0, 1), (2, 3))):
            points = [(start + BUCKET / 2, c[correct] / c[total]) for start, c in curve.items() if c[total] >= 50]
            ax.plot([x for x, _ in points], [y for _, y in points], marker="o", label=label)
    for ax, what in zip(axes, ("all target words", "target words inside gold entities")):
        ax.set_xlabel("target sentence length (words)")
        ax.set_ylabel(f"fraction of {what.split(' inside')[0].replace('all ', '')} tagged correctly")
        ax.set_title(what)
    axes[0].legend()
    fig.suptitle("Sentence length vs. correctly tagged target words: source-model pseudo-labels (Fig. 2)")
    fig.tight_layout()
    png = out.with_name(out.name + "-fig2.png")
    fig.savefig(png, dpi=120)
    plt.close(fig)
    return written + [png]
