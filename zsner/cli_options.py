"""Options shared by every command that trains from a recipe (``zsner train``, ``zsner cross train``),
so that they read the same way and a recipe value is overridden the same way everywhere."""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Callable

import click

from zsner.errors import ZsnerError


def run_options(run_dir_help: str, set_example: str) -> Callable:
    """Decorator adding ``--run-dir``, ``--seed``, ``--set`` (repeatable) and ``--restart``."""

    def decorate(command: Callable) -> Callable:
        for option in reversed([
            click.option("--run-dir", type=click.Path(path_type=Path), default=None, help=run_dir_help),
            click.option("--seed", type=int, default=None, help="Override the recipe's seed."),
            click.option("--set", "sets", multiple=True, metavar="SECTION.KEY=VALUE",
                         help=f"Override one recipe value, e.g. --set {set_example} (repeatable)."),
            click.option("--restart", is_flag=True, help="Discard the run directory's previous state and start over."),
        ]):
            command = option(command)
        return command

    return decorate


def recipe_overrides(sets: tuple[str, ...], seed: int | None) -> dict[str, Any]:
    """``--set section.key=value`` pairs (values parsed as TOML, else kept as strings) plus ``--seed``."""
    overrides: dict[str, Any] = {}
    for pair in sets:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ZsnerError(f"--set expects section.key=value, got {pair!r}")
        try:
            overrides[key.strip()] = tomllib.loads(f"v = {value}")["v"]
        except tomllib.TOMLDecodeError:
            overrides[key.strip()] = value
    if seed is not None:
        overrides["seed"] = seed
    return overrides
