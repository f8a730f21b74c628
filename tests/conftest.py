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


def latin1_slice(relative: str, tmp_path: Path, lines: int) -> Path:
    """The first ``lines`` lines of a real file, kept in its own encoding, for fast tests."""
    source = corpus(relative)
    with open(source, "rb") as handle:
        head = b"".join(handle.readline() for _ in range(lines))
    target = tmp_path / source.name
    target.write_bytes(head)
    return target


@pytest.fixture
def eng_train() -> Path:
    return corpus("conll2003/eng.train")
