"""Mapping settings that depend on how the vectors were made: distilled vectors of two kinds.

`zsner embed distill`'s default pass gives the most frequent words context vectors and encodes the
rarer ones alone; the two kinds of vector occupy different regions, in a share that differs by
language. MUSE's discriminator samples the ``dis_most_frequent`` words of each side, so with both
kinds in its sample it tells the languages apart by the mix, and the map it trains is pulled away from
the true one (README, known-answer test: not recovered with the 50k most frequent words, recovered
with the first 10k, which are context vectors on both sides). With ``dis_context_only`` the
discriminator sees only the leading words that the build's summary (``VEC.distill.json``) records as
context vectors, on both sides.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from zsner.embeddings.distill import summary_path as build_summary_path
from zsner.embeddings.vectors import first_rows_of_forms
from zsner.errors import ZsnerError
from zsner.mapping.config import MappingConfig

#: below this many words the discriminator has too little to judge a map by
MIN_DISCRIMINATOR_WORDS = 1000


def recorded_context_prefix(vec_path: str | Path) -> int | None:
    """``leading_context_words`` of the build summary beside ``vec_path``; None for vectors that
    were not distilled in context (no summary, or one of the ``alone`` method: a single kind)."""
    summary_path = build_summary_path(vec_path)
    if not summary_path.is_file():
        return None
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ZsnerError(f"unreadable build summary ({e})", summary_path) from None
    if summary.get("settings", {}).get("method") != "context":
        return None
    if "leading_context_words" not in summary:
        raise ZsnerError(f"built before the summary recorded leading_context_words; delete {vec_path} and "
                         "build it again (make vectors VECTORS=KIND, or zsner embed distill), or set "
                         "mapping.dis_context_only = false", summary_path)
    return int(summary["leading_context_words"])


def view_prefix(words: Sequence[str], prefix: int, lowercase: bool) -> int:
    """How many rows of the vocabulary the map sees lie within the first ``prefix`` rows of the file.

    The build summary counts the file's (cased) rows; the lower-cased view keeps each form's first row
    in file order (zsner.mapping.vocabulary), so its leading context words are the forms first met in the
    file's first ``prefix`` words: fewer rows, and the file's count used on the view would reach past
    the context-vector prefix."""
    return len(first_rows_of_forms(words[:prefix])) if lowercase else prefix


def discriminator_words(cfg: MappingConfig, sides: Sequence[tuple[str | Path, Sequence[str]]],
                        log: Callable[[str], None] = print) -> MappingConfig:
    """Cap ``cfg.dis_most_frequent`` at the context-vector prefix of both sides (adversarial runs
    with ``dis_context_only`` only); ``sides`` are each side's ``.vec`` path and its words as read
    from it. Returns ``cfg``, changed in place, and says what it did (nothing where no side's prefix ends
    before its words do)."""
    if cfg.seed_dictionary or not cfg.dis_context_only:
        return cfg
    prefixes = []
    for path, words in sides:
        recorded = recorded_context_prefix(path)
        # a side whose every row as read has a context vector (a full pass, or max_vocab within the prefix)
        # is one kind of vector and caps nothing
        if recorded is not None and recorded < len(words):
            prefixes.append((str(path), view_prefix(words, recorded, cfg.lowercase_vocabulary)))
    cap = min((n for _, n in prefixes), default=cfg.dis_most_frequent)
    if cap >= cfg.dis_most_frequent:
        return cfg
    shown = ", ".join(f"{path}: {n}" for path, n in prefixes)
    what = "lower-cased forms" if cfg.lowercase_vocabulary else "words"
    if cap < MIN_DISCRIMINATOR_WORDS:
        raise ZsnerError(f"only {cap} leading {what} have context vectors ({shown}): too few for the "
                         "discriminator; rebuild with more --sentences or set mapping.dis_context_only = false")
    log(f"distilled vectors: the discriminator sees the {cap} most frequent {what} of each side (was "
        f"{cfg.dis_most_frequent}), the leading ones with context vectors ({shown}; dis_context_only)")
    cfg.dis_most_frequent = cap
    return cfg
