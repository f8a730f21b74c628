"""``zsner transfer train``: model transfer from a pair's recipe (its ``[transfer]`` table)."""
from __future__ import annotations

from pathlib import Path

import click

from zsner.cli_options import recipe_overrides, run_options


@click.group()
def transfer() -> None:
    """Model transfer: fine-tune a multilingual encoder on English, tag the target language."""


@transfer.command("train")
@click.argument("recipe", type=click.Path(path_type=Path))
@run_options("Where config, log, checkpoints and metrics go (default: runs/transfer-<name>/<head>).",
             "transfer.head=crf")
def transfer_train(recipe: Path, run_dir: Path | None, seed: int | None, sets: tuple[str, ...], restart: bool) -> None:
    """Fine-tune the encoder of RECIPE's [transfer] table on its English data; score on its target files.

    Every evaluation scores English dev and target dev: best-src-dev.pt (F1°, no target label used) and
    best.pt (F1•) are both kept and both scored on the target test set. ^C saves the state; the same
    command resumes. The encoder is a local folder (`make encoder` builds the offline default, e5-small).
    Data-parallel over N processes: torchrun --nproc_per_node N -m zsner transfer train RECIPE (gloo on
    CPUs, NCCL on GPUs; each process takes a share of every batch).
    """
    from zsner.transfer.config import load_transfer_recipe
    from zsner.transfer.trainer import TransferTrainer

    loaded = load_transfer_recipe(recipe, recipe_overrides(sets, seed))
    run_dir = run_dir or Path("runs") / f"transfer-{loaded.base.name}" / loaded.transfer.head
    metrics = TransferTrainer(loaded, run_dir, restart).run()
    if not metrics:  # a torchrun process other than the first: the first one reports
        return
    click.echo(f"{loaded.pair} {loaded.model_name}: target test F1• {metrics['f1_tgt_dev_selected']:.2f} (target-dev "
               f"selected), F1° {metrics['f1_src_dev_selected']:.2f} (source-dev selected)"
               + (f"; English test F1 {metrics['source_test_f1']:.2f}" if "source_test_f1" in metrics else ""))
    click.echo(f"run directory: {run_dir}")


@transfer.command("retarget")
@click.argument("run", type=click.Path(path_type=Path))
@click.argument("recipe", type=click.Path(path_type=Path))
@run_options("Where the new run goes (default: runs/transfer-<name>/<head>).", "transfer.threads=2")
def transfer_retarget(run: Path, recipe: Path, run_dir: Path | None, seed: int | None, sets: tuple[str, ...],
                      restart: bool) -> None:
    """Score a finished transfer RUN for the target language of RECIPE, without training again.

    Transfer trains on English only, so a run of another pair with the same English settings and seed
    would train the very same weights: its checkpoints are scored on RECIPE's target dev (F1•) and the
    source-dev choice is kept (F1°), then both are scored on RECIPE's target test. Example:
    zsner transfer retarget runs/transfer-es/linear recipes/nl.toml   (→ runs/transfer-nl/linear)
    """
    from zsner.transfer.config import load_transfer_recipe
    from zsner.transfer.retarget import retarget

    loaded = load_transfer_recipe(recipe, recipe_overrides(sets, seed))
    run_dir = run_dir or Path("runs") / f"transfer-{loaded.base.name}" / loaded.transfer.head
    metrics = retarget(run, loaded, run_dir, restart)
    click.echo(f"{loaded.pair} {loaded.model_name} (from {run}): target test F1• {metrics['f1_tgt_dev_selected']:.2f}, "
               f"F1° {metrics['f1_src_dev_selected']:.2f}")
    click.echo(f"run directory: {run_dir}")
