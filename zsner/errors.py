"""User-facing errors.

Every problem caused by the user's input (a malformed file, a missing path, a bad recipe) is raised as
a :class:`ZsnerError`. The command-line entry point turns it into a single line on stderr and exit
status 2, so users never see a traceback for their own mistakes, while genuine bugs still show one.
"""
from __future__ import annotations

from pathlib import Path


class ZsnerError(Exception):
    """An error in the user's input, reported as one line: ``file:line: problem``."""

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path + (f":{self.line}" if self.line is not None else "") + ": "
        return where + self.message
