"""Bilingual dictionaries: reading MUSE-format files, and inducing one from a map (CSLS or NN).

A MUSE dictionary has one ``source target`` pair per line, separated by white space; a source word
may have several lines (several gold translations).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from zsner.embeddings.dictionaries import read_pairs as read_dictionary  # one MUSE-format reader
from zsner.mapping.neighbours import Radii, csls_topk, knn


@dataclass
class DictionaryStats:
    pairs: int           # lines read
    in_vocab: int        # pairs with both words in the vocabularies
    sources: int         # distinct source words among those


def load_dictionary(path: str | Path, src_index: dict[str, int], tgt_index: dict[str, int],
                    lowercase: bool = False) -> tuple[np.ndarray, DictionaryStats]:
    """Pairs of row indices [n, 2] (sorted by source index, then target) for the pairs whose two
    words are in the vocabularies, and counts of what was kept."""
    pairs = read_dictionary(path, lowercase)
    ids = sorted({(src_index[s], tgt_index[t]) for s, t in pairs if s in src_index and t in tgt_index})
    arr = np.array(ids, dtype=np.int64).reshape(-1, 2)
    return arr, DictionaryStats(len(pairs), len(arr), len(set(arr[:, 0].tolist())))


def identical_pairs(src_words: list[str], tgt_words: list[str]) -> np.ndarray:
    """Seed dictionary of words spelled identically in both vocabularies (MUSE ``identical_char``)."""
    tgt_index = {w: i for i, w in enumerate(tgt_words)}
    ids = [(i, tgt_index[w]) for i, w in enumerate(src_words) if w in tgt_index]
    return np.array(ids, dtype=np.int64).reshape(-1, 2)


def candidates(queries: torch.Tensor, keys: torch.Tensor, method: str, max_rank: int,
               key_radii: torch.Tensor | None = None, max_size: int = 0,
               chunk: int = 4096) -> torch.Tensor:
    """Best key for each of the ``max_rank`` first queries among the ``max_rank`` first keys, as
    pairs [n, 2] sorted by confidence (best score minus second best, as MUSE), at most ``max_size``
    (0 = all). ``queries`` and ``keys`` must be unit-normalised. ``key_radii`` (CSLS only) are the
    radii of the first ``max_rank`` keys.

    MUSE searches all keys and then drops pairs whose key ranks beyond ``max_rank``; searching only
    those keys (as VecMap does) needs radii for ``max_rank`` words only, not the whole vocabulary.
    """
    q = queries[:max_rank]
    kk = keys[:max_rank]
    if method == "nn":
        scores, idx = knn(q, kk, 2, "fp32", chunk)
    elif method.startswith("csls_knn_"):
        if key_radii is None:
            raise ValueError("CSLS needs the keys' radii")
        scores, idx = csls_topk(q, kk, key_radii[: kk.shape[0]], 2, chunk=chunk)
    else:
        raise ValueError(f"unknown dictionary method {method!r}")
    pairs = torch.stack([torch.arange(q.shape[0], device=idx.device), idx[:, 0]], dim=1)
    if scores.shape[1] > 1:
        order = (scores[:, 0] - scores[:, 1]).argsort(descending=True, stable=True)
        pairs = pairs[order]
    if max_size > 0:
        pairs = pairs[:max_size]
    return pairs.cpu()


def build_dictionary(src: torch.Tensor, tgt: torch.Tensor, radii: Radii | None, method: str = "csls_knn_10",
                     build: str = "S2T", max_rank: int = 15_000, max_size: int = 0,
                     chunk: int = 4096) -> np.ndarray:
    """Induce a dictionary [n, 2] of (source row, target row) from the mapped, unit-normalised
    source ``src`` and target ``tgt``. ``build``: S2T (each source word's best target), T2S, their
    intersection ``S2T&T2S`` (mutual) or union ``S2T|T2S``. Sorted by (source, target)."""
    csls = method.startswith("csls_knn_")
    out: set[tuple[int, int]] | None = None
    parts = []
    if build in ("S2T", "S2T&T2S", "S2T|T2S"):
        r = radii.tgt(max_rank) if csls else None
        parts.append({tuple(p) for p in candidates(src, tgt, method, max_rank, r, max_size, chunk).tolist()})
    if build in ("T2S", "S2T&T2S", "S2T|T2S"):
        r = radii.src(max_rank) if csls else None
        t2s = candidates(tgt, src, method, max_rank, r, max_size, chunk)
        parts.append({(s, t) for t, s in t2s.tolist()})
    if not parts:
        raise ValueError(f"unknown dictionary build {build!r}")
    if build == "S2T&T2S":
        out = parts[0] & parts[1]
    elif build == "S2T|T2S":
        out = parts[0] | parts[1]
    else:
        out = parts[0]
    return np.array(sorted(out), dtype=np.int64).reshape(-1, 2)
