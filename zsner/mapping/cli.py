"""``zsner map RECIPE``: learn the cross-lingual map of a recipe and write the run directory.

Run directory: ``<src>.vec`` and ``<tgt>.vec`` (both languages in the common space = the target
language's space), ``W.npy`` (mapped = W x), ``best_W.npy`` and ``checkpoint.pt`` (for --resume),
``report.json`` and ``log.txt``.
"""
from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import click
import numpy as np

from zsner.errors import ZsnerError


def _versions() -> dict[str, str]:
    import faiss
    import torch

    return {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
            "faiss": getattr(faiss, "__version__", "?"), "cpu_threads": str(torch.get_num_threads())}


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


@click.command("map")
@click.argument("recipe", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="run directory [default: runs/map-<recipe name>]")
@click.option("--resume", is_flag=True, help="continue from the run directory's checkpoint")
@click.option("--seed", type=int, default=None, help="override the recipe's mapping.seed")
@click.option("--set", "sets", multiple=True, metavar="SECTION.KEY=VALUE",
              help="override one [mapping] value or a [vectors] path, e.g. --set mapping.seed_dictionary=similarity "
                   "or --set vectors.es=wiki.es.vec (repeatable)")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
              help="torch device (auto: cuda when available)")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="torch/faiss CPU threads [default: all cores]")
@click.option("--quiet", is_flag=True, help="no progress bar")
def map_command(recipe: Path, out: Path | None, resume: bool, seed: int | None, sets: tuple[str, ...],
                device: str, threads: int | None, quiet: bool) -> None:
    """Learn the word-level map of RECIPE's [mapping] table (adversarial + Procrustes refinement)."""
    import torch

    from zsner.embeddings.normalize import normalize
    from zsner.embeddings.vectors import Embeddings, load_vectors, write_vec
    from zsner.mapping.config import load_mapping_config
    from zsner.mapping.dictionary import load_dictionary
    from zsner.mapping.distilled import discriminator_words
    from zsner.mapping.pipeline import Interrupted, run_mapping
    from zsner.mapping.trainer import atomic_save_npy
    from zsner.mapping.vocabulary import mapping_vocabulary

    from zsner.cli_options import recipe_overrides

    cfg, recipe_table = load_mapping_config(recipe, recipe_overrides(sets, None))
    if seed is not None:
        cfg.seed = seed
    if not cfg.direction:
        langs = recipe_table.get("languages", {})
        if not (isinstance(langs, dict) and langs.get("source") and langs.get("target")):
            raise ZsnerError("set mapping.direction (e.g. 'en->es') or [languages] source and target", recipe)
        cfg.direction = f"{langs['source']}->{langs['target']}"
    src_lang, tgt_lang = cfg.languages
    vectors = recipe_table.get("vectors", {})
    for lang in (src_lang, tgt_lang):
        if not isinstance(vectors, dict) or not isinstance(vectors.get(lang), str):
            raise ZsnerError(f"[vectors] has no path for {lang!r} (mapping.direction = {cfg.direction!r})", recipe)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    elif device == "cuda" and not torch.cuda.is_available():
        raise ZsnerError("--device cuda, but torch sees no CUDA device")
    out = out or Path("runs") / f"map-{recipe.stem}"
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(threads or os.cpu_count() or 1)
    torch.manual_seed(cfg.seed)
    if device == "cpu":
        torch.use_deterministic_algorithms(True, warn_only=True)

    log_file = open(out / "log.txt", "a" if resume else "w", encoding="utf-8")

    def log(msg: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {msg}"
        click.echo(line, err=True)
        log_file.write(line + "\n")
        log_file.flush()

    def progress(length: int, label: str):
        if quiet or not sys.stderr.isatty():
            from zsner.mapping.pipeline import _noprogress
            return _noprogress(length, label)
        return click.progressbar(length=length, label=label, file=sys.stderr, show_pos=True, show_eta=True)

    try:
        log(f"zsner map {recipe} -> {out} (direction {cfg.direction}, seed {cfg.seed}, device {device})")
        t0 = time.perf_counter()
        src = load_vectors(vectors[src_lang], max_vocab=cfg.max_vocab)
        tgt = load_vectors(vectors[tgt_lang], max_vocab=cfg.max_vocab)
        load_s = time.perf_counter() - t0
        if src.dim != tgt.dim:
            raise ZsnerError(f"{vectors[src_lang]} has dimension {src.dim} but {vectors[tgt_lang]} has {tgt.dim}", recipe)
        log(f"loaded {len(src)} {src_lang} and {len(tgt)} {tgt_lang} vectors of dimension {src.dim} ({load_s:.1f} s)")
        discriminator_words(cfg, ((vectors[src_lang], src.words), (vectors[tgt_lang], tgt.words)), log)
        src_map, tgt_map = (mapping_vocabulary(v, cfg.lowercase_vocabulary) for v in (src, tgt))
        if cfg.lowercase_vocabulary:
            log(f"the map is learned on lower-cased words as MUSE's: {len(src_map)} {src_lang} and {len(tgt_map)} "
                f"{tgt_lang} forms, each with its most frequent casing's vector (mapping.lowercase_vocabulary)")
        pairs = None
        dico_info = None
        if cfg.dictionary:
            pairs, stats = load_dictionary(cfg.dictionary, src_map.index, tgt_map.index, cfg.dictionaries_lowercased)
            dico_info = {"path": cfg.dictionary, **stats.__dict__}
            log(f"evaluation dictionary {cfg.dictionary}: {stats.pairs} pairs, {stats.in_vocab} in the "
                f"vocabularies, {stats.sources} source words")
        try:
            trainer, report = run_mapping(cfg, src_map.words, src_map.matrix, tgt_map.words, tgt_map.matrix, out,
                                          device, resume, pairs, log, progress, recipe_dir=recipe.parent)
        except Interrupted as e:
            log(f"{e}; continue with: zsner map {recipe} --out {out} --resume")
            raise click.exceptions.Exit(130) from None
        report["seconds"]["load"] = round(load_s, 2)
        t0 = time.perf_counter()
        w = trainer.weight
        atomic_save_npy(w, out / "W.npy")
        # every cased row, by the same normalisation steps (a centring uses these rows' own mean) and the same W
        src_out, tgt_out = (normalize(v.matrix.copy(), cfg.normalize) if cfg.normalize else v.matrix for v in (src, tgt))
        write_vec(Embeddings(src.words, src_out @ w.T), out / f"{src_lang}.vec")
        write_vec(Embeddings(tgt.words, tgt_out), out / f"{tgt_lang}.vec")
        report["seconds"]["export"] = round(time.perf_counter() - t0, 2)
        report.update({
            "recipe": str(recipe), "direction": cfg.direction, "source": src_lang, "target": tgt_lang,
            "seed": cfg.seed, "vocab": {src_lang: len(src), tgt_lang: len(tgt)},
            "mapped_forms": {src_lang: len(src_map), tgt_lang: len(tgt_map)}, "dim": src.dim,
            "dictionary": dico_info, "config": cfg.to_dict(), "versions": _versions(),
            "orthogonality_error": float(np.abs(w @ w.T - np.eye(w.shape[0])).max()),
            "outputs": {"W": "W.npy", src_lang: f"{src_lang}.vec", tgt_lang: f"{tgt_lang}.vec"},
        })
        _atomic_write_text(out / "report.json", json.dumps(report, indent=2) + "\n")
        log(f"wrote {out}/W.npy, {src_lang}.vec, {tgt_lang}.vec, report.json; seconds per phase: {report['seconds']}")
    finally:
        log_file.close()
