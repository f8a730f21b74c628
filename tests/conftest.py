"""Shared test fixtures: paths to the real corpora in ../shared/data (tests skip when it is absent)."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
NER = SHARED / "ner"


def corpus(relative: str) -> Path:
    """A real gold file, as published (original encoding); skips the test if the data is not here."""
    path = NER / relative
    if not path.is_file():
        pytest.skip(f"shared data not available: {path}")
    return path
