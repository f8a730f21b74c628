"""Shared test fixtures: paths to the real corpora in ../shared/data (tests skip when it is absent)."""
from __future__ import annotations

from pathlib import Path

import pytest
from encoder_fixtures import *  # noqa

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
NER = SHARED / "ner"


def corpus(relative: str) -> Path:
    """A real gold file, as published (original encoding); skips the test if the data is not here."""
    path = NER / relative
    if not path.is_file():
        pytest.skip(f"shared data not available: {path}")
    return path


@pytest.fixture
def python_sigint():
    """Python's own ^C handler for the test, as a terminal session has it: a job that a shell starts in the
    background inherits SIGINT as ignored, Python then installs no KeyboardInterrupt handler, and a test of
    what ^C does would fail only because of how the suite was started (`make test &`)."""
    import signal

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture
def one_torch_thread():
    """One torch thread: small matmuls gain nothing from more, and lose a lot on a busy machine."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


from transfer_fixtures import slices, teacher, tiny  # noqa: E402,F401 (fixtures; they import corpus above)
