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
from collections.abc import Callable
from pathlib import Path

from zsner.embeddings.distill import summary_path as build_summary_path
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


def discriminator_words(cfg: MappingConfig, vec_paths: tuple[str | Path, str | Path],
                        log: Callable[[str], None] = print) -> MappingConfig:
    """Cap ``cfg.dis_most_frequent`` at the context-vector prefix of both sides (adversarial runs
    with ``dis_context_only`` only); returns ``cfg``, changed in place, and says what it did."""
    if cfg.seed_dictionary or not cfg.dis_context_only:
        return cfg
    prefixes = {str(p): recorded_context_prefix(p) for p in vec_paths}
    known = [n for n in prefixes.values() if n is not None]
    if not known or min(known) >= cfg.dis_most_frequent:
        return cfg
    cap = min(known)
    if cap < MIN_DISCRIMINATOR_WORDS:
        raise ZsnerError(f"only {cap} leading words have context vectors ({prefixes}): too few for the "
                         "discriminator; rebuild with more --sentences or set mapping.dis_context_only = false")
    log(f"distilled vectors: the discriminator sees the {cap} most frequent words of each side (was "
        f"{cfg.dis_most_frequent}), the leading words with context vectors ({prefixes}; dis_context_only)")
    cfg.dis_most_frequent = cap
    return cfg
