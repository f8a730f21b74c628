"""Run directories: one per training run, self-describing and resumable.

    config.json   the resolved recipe (a different recipe in the same directory is refused)
    versions.json library versions and device          log.txt  everything logged during the run
    history.jsonl one line per evaluation               last.pt / best.pt / metrics.json  (by the trainer)

Shared by ``zsner train`` and ``zsner cross train`` so that both keep the same conventions.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch

from zsner.errors import ZsnerError
from zsner.utils import atomic_write_json, atomic_write_text, versions


class RunDirectory:
    """Creates, checks and writes a run directory."""

    STALE = ("last.pt", "best.pt", "best-src-dev.pt", "select-src-dev.pt", "select-tgt-dev.pt",
             "history.jsonl", "metrics.json")

    def __init__(self, path: str | Path, config: dict[str, Any], restart: bool = False):
        self.path = Path(path)
        self.config = config
        self.restart = restart
        self._handler: logging.Handler | None = None

    def prepare(self) -> bool:
        """True when a previous state should be resumed; a different recipe is refused."""
        config_path = self.path / "config.json"
        if config_path.exists() and not self.restart:
            previous = json.loads(config_path.read_text())
            if previous != self.config:
                raise ZsnerError(f"holds a run of a different recipe ({first_difference(previous, self.config)}); "
                                 "pass --restart to start over, or use another --run-dir", self.path)
            return (self.path / "last.pt").exists()
        self.path.mkdir(parents=True, exist_ok=True)
        for stale in self.STALE:
            (self.path / stale).unlink(missing_ok=True)
        atomic_write_json(config_path, self.config)
        return False

    def attach_log(self, device: torch.device) -> None:
        self._handler = logging.FileHandler(self.path / "log.txt", encoding="utf-8")
        self._handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logging.getLogger("zsner").addHandler(self._handler)
        logging.getLogger("zsner").setLevel(logging.INFO)
        atomic_write_json(self.path / "versions.json", {**versions(), "device": str(device)})

    def detach_log(self) -> None:
        if self._handler is not None:
            logging.getLogger("zsner").removeHandler(self._handler)
            self._handler.close()

    def record(self, entry: dict[str, Any]) -> None:
        with open(self.path / "history.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry) + "\n")

    def forget_history_after(self, step: int) -> None:
        """Drop the evaluations recorded after training step ``step``: a run resuming from a checkpoint
        taken there evaluates them again, and its history must read as one uninterrupted run's."""
        path = self.path / "history.jsonl"
        if not path.is_file():
            return
        lines = path.read_text(encoding="utf-8").splitlines()
        kept = [line for line in lines if json.loads(line).get("step", 0) <= step]
        if len(kept) < len(lines):
            atomic_write_text(path, "".join(line + "\n" for line in kept))


def first_difference(a: Any, b: Any, prefix: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                return first_difference(a.get(key), b.get(key), f"{prefix}{key}.")
    return f"{prefix.rstrip('.')}: {a!r} → {b!r}"
