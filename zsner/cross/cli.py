"""``zsner cross train RECIPE`` and ``zsner table``: register :data:`cross` and :data:`table` on the
main ``zsner`` group (``cli.add_command(cross)``, ``cli.add_command(table)``)."""
from __future__ import annotations

from pathlib import Path

import click

from zsner.cli_options import recipe_overrides, run_options


@click.group("cross")
def cross() -> None:
    """Cross-lingual NER: English tagger → target language (Table 4 models)."""


@cross.command("train")
@click.argument("recipe", type=click.Path(path_type=Path))
@run_options("Run directory (default: runs/train-<name>/<cross.model>[-nochar]).", "cross.model=cross-word")
def cross_train(recipe: Path, run_dir: Path | None, seed: int | None, sets: tuple[str, ...], restart: bool) -> None:
    """Train the cross-lingual model of RECIPE's [cross] table (source-mono, cross-word, cross-shared,
    cross-augmented) and score it on the target test set, selected on source dev (F1°) and on target
    dev (F1•). An interrupted run (^C) resumes when the same command is run again.
    """
    from zsner.cross.config import load_cross_recipe

    loaded = load_cross_recipe(recipe, recipe_overrides(sets, seed))
    if run_dir is None:
        suffix = "" if loaded.base.model.use_chars else "-nochar"
        run_dir = Path("runs") / f"train-{loaded.base.name}" / f"{loaded.cross.model}{suffix}"
    if loaded.cross.model == "cross-augmented":
        from zsner.cross.augment import AugmentedTrainer

        metrics = AugmentedTrainer(loaded, run_dir, restart).run_training()
    else:
        from zsner.cross.train_source import SourceTrainer

        metrics = SourceTrainer(loaded, run_dir, restart).run_training()
    click.echo(f"{loaded.pair} {loaded.cross.model}: target test F1 {metrics['f1_tgt_dev_selected']:.2f} "
               f"(selected on target dev, F1•), {metrics['f1_src_dev_selected']:.2f} (on source dev, F1°); "
               f"{metrics['parameters']} parameters")
    click.echo(f"run directory: {run_dir}")


@cross.command("summary")
@click.argument("pair_dir", type=click.Path(file_okay=False, path_type=Path))
def cross_summary(pair_dir: Path) -> None:
    """Write PAIR_DIR/metrics.json (e.g. runs/train-es): the final model's F1• and F1° and every
    stage trained in PAIR_DIR beside it (`make train-X` runs this last)."""
    from zsner.cross.summary import summarize

    summary = summarize(pair_dir)
    for name, stage in summary["stages"].items():
        mark = "  <- final" if name == summary["final_model"] else ""
        click.echo(f"{name:28s} F1• {stage['f1_tgt_dev_selected']:6.2f}  F1° {stage['f1_src_dev_selected']:6.2f}{mark}")
    click.echo(f"wrote {pair_dir / 'metrics.json'}")


@cross.command("pick-source")
@click.argument("runs", nargs=-1, required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--by", type=click.Choice(["src-dev", "tgt-dev"]), default="src-dev", show_default=True,
              help="src-dev: the best source-dev F1, no target label read (zero-resource); tgt-dev: the best target-dev F1.")
def cross_pick_source(runs: tuple[Path, ...], by: str) -> None:
    """Print the source run among RUNS (finished Cross-Word / Cross-Shared runs) that Cross-Augmented should
    start from: the paper starts Algorithm 1 from the best of its source variants (Table 4 caption).
    `make train-X` and the seed runs use it: --set cross.source_model=$(zsner cross pick-source ...)."""
    from zsner.cross.summary import best_source

    click.echo(best_source(list(runs), by))


@cross.command("fig3")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="PNG to write (default: runs/fig3-PAIR.png); the points' coordinates go beside it as .csv.")
@click.option("--samples", default=1000, show_default=True, help="Tagged words in all, half per language, "
              "spread evenly over PER, LOC, ORG, MISC and O.")
@click.option("--seed", default=1, show_default=True, help="Seed of the sample and of t-SNE.")
def cross_fig3(run_dir: Path, out: Path | None, samples: int, seed: int) -> None:
    """Figure 3 of the paper for a finished Cross-Shared RUN_DIR (e.g. runs/train-es/cross-shared): t-SNE of
    NER-tagged words of both languages in (a) the monolingual vectors, (b) the mapped vectors and (c) the
    model's common encoder, coloured by tag, marked by language."""
    import json

    from zsner.cross.figure3 import figure3

    if out is None:
        config = run_dir / "config.json"
        target = json.loads(config.read_text())["target"]["language"] if config.is_file() else "x"
        out = Path(f"runs/fig3-{target}.png")
    click.echo(f"wrote {figure3(run_dir, out, samples, seed)}")


@click.command("table")
@click.option("--runs", "runs_dirs", type=click.Path(path_type=Path), multiple=True, default=[Path("runs")],
              show_default=True, help="Folder searched (recursively) for cross-lingual metrics.json files; "
              "give it more than once to search several.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs/table4"), show_default=True,
              help="Output prefix: writes OUT.md, OUT.csv, OUT-gains.md (+ .csv) and OUT-fig2.png (+ .csv).")
def table(runs_dirs: tuple[Path, ...], out: Path) -> None:
    """Table 4 (mean ± std and max F1 over seeds, tuned on target dev and on source dev, parameters),
    each step's gain beside the paper's (char LSTM, tying, Algorithm 1) and Figure 2 (sentence length
    vs. correctly tagged target words) from the run directories."""
    from zsner.cross.table import collect, figure2, write_table
    from zsner.cross.table_gains import step_gains, write_gains

    rows = collect(runs_dirs)
    if not rows:
        from zsner.errors import ZsnerError

        raise ZsnerError("no cross-lingual run with metrics.json found", ", ".join(map(str, runs_dirs)))
    click.echo(write_table(rows, out))
    gains = step_gains(rows)
    if gains:
        click.echo("Each step's gain in mean F1• (the paper's in brackets):\n" + write_gains(gains, out))
    written = figure2(runs_dirs, out)
    for path in written:
        click.echo(f"wrote {path}", err=True)


@click.command("table2")
@click.option("--runs", "runs_dirs", type=click.Path(path_type=Path), multiple=True, default=[Path("runs/table2")],
              show_default=True, help="Folder searched (recursively) for supervised runs (zsner train); repeatable.")
@click.option("--out", type=click.Path(path_type=Path), default=Path("runs/table2"), show_default=True,
              help="Output prefix: writes OUT.md and OUT.csv.")
def table2(runs_dirs: tuple[Path, ...], out: Path) -> None:
    """Table 2: supervised monolingual test F1 per language, by word embeddings (random, fastText, distilled,
    ...) with and without the char LSTM, the paper's figure beside each row (`make table2` trains the runs)."""
    from zsner.cross.table2 import collect, write_table

    rows = collect(runs_dirs)
    if not rows:
        from zsner.errors import ZsnerError

        raise ZsnerError("no supervised run with metrics.json found (run `make table2`)", ", ".join(map(str, runs_dirs)))
    click.echo(write_table(rows, out))
    click.echo(f"wrote {out}.md and {out}.csv", err=True)
