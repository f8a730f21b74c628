"""Small helpers shared by every module: atomic writes, seeding, version records."""
from __future__ import annotations

import json
import os
import platform
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

from zsner.errors import ZsnerError


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call ``write(tmp)`` on a temporary file beside ``path`` and rename it into place.

    A crash or ^C in the middle leaves the previous file intact: checkpoints and reports are never
    half-written. A write that fails for want of room (a full disk, hours into a run) is a one-line
    error naming the file and the space left, not a serialiser's traceback: torch reports a full disk
    as ``RuntimeError: ... unexpected pos``, numpy and json as ``OSError``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except (OSError, RuntimeError) as err:
        Path(tmp).unlink(missing_ok=True)
        free_mib = shutil.disk_usage(path.parent).free / 2**20
        raise ZsnerError(f"could not write it ({str(err).splitlines()[0] if str(err) else type(err).__name__}; "
                         f"{free_mib:.0f} MiB free on its disk); the previous version, if any, is intact",
                         path) from err
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_copy(source: str | Path, path: str | Path) -> None:
    """Put a copy of ``source`` at ``path`` atomically: a hard link (no bytes written) where the file
    system allows, else a copy. Safe for files that are only ever replaced, never edited in place, as
    every file written by :func:`atomic_write` is."""
    def place(tmp: Path) -> None:
        tmp.unlink()
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)

    atomic_write(path, place)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def atomic_write_json(path: str | Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch so that a run is repeatable on the CPU."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def versions() -> dict[str, str]:
    """Versions of everything that can change a result, recorded in every run directory."""
    import numpy as np
    import torch

    import zsner

    record = {
        "zsner": zsner.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "cuda": str(torch.version.cuda),
        "threads": str(torch.get_num_threads()),
    }
    try:
        import faiss

        record["faiss"] = faiss.__version__
    except ImportError:  # pragma: no cover - faiss is a hard dependency, but versions() must not fail
        pass
    return record


class GracefulStop:
    """^C handling for long loops that checkpoint: the first ^C only sets ``requested`` (the loop saves a
    consistent state at its next safe point and stops, so a resumed run equals an uninterrupted one); a
    second ^C raises KeyboardInterrupt at once. ``install()`` / ``restore()`` bracket the loop; outside the
    main thread (where Python cannot take signals) both do nothing and ``requested`` stays False."""

    def __init__(self, announce: Callable[[str], None], message: str):
        self.announce, self.message = announce, message
        self.requested = False
        self._previous: Any = None
        self._installed = False

    def _on_sigint(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        self.announce(self.message)

    def install(self) -> "GracefulStop":
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)
            self._installed = True
        return self

    def restore(self) -> None:
        import signal

        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False
