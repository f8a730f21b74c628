"""Word-translation precision@k (supervised check) and the unsupervised model-selection criterion.

MUSE semantics: only dictionary pairs with both words in the vocabularies count; a source word is
correct at k if *any* of its gold translations is among its k best targets; precision is the mean
over distinct source words, in percent.
"""
from __future__ import annotations

import numpy as np
import torch

from zsner.mapping.dictionary import build_dictionary
from zsner.mapping.neighbours import Radii, csls_topk, knn


def translation_ranks(src: torch.Tensor, tgt: torch.Tensor, pairs: np.ndarray, method: str,
                      radii: Radii | None = None, k: int = 10, chunk: int = 4096):
    """(distinct source rows, their top-``k`` target rows [n, k]) for the sources of ``pairs``."""
    sources = np.unique(pairs[:, 0])
    q = src[torch.as_tensor(sources, device=src.device)]
    if method == "nn":
        _, top = knn(q, tgt, k, "fp32", chunk)
    elif method.startswith("csls_knn_"):
        if radii is None:
            raise ValueError("CSLS needs radii")
        _, top = csls_topk(q, tgt, radii.tgt(None), k, chunk=chunk)  # every target is a candidate
    else:
        raise ValueError(f"unknown method {method!r}")
    return sources, top.cpu().numpy()


def precision_at_k(sources: np.ndarray, top: np.ndarray, pairs: np.ndarray,
                   ks: tuple[int, ...] = (1, 5, 10)) -> dict[int, float]:
    """P@k in percent: share of ``sources`` with a gold translation among their first k ``top``."""
    gold: dict[int, set[int]] = {}
    for s, t in pairs.tolist():
        gold.setdefault(s, set()).add(t)
    out = {}
    for k in ks:
        hits = [any(t in gold[s] for t in row[:k]) for s, row in zip(sources.tolist(), top.tolist())]
        out[k] = 100.0 * float(np.mean(hits)) if hits else 0.0
    return out


def word_translation(src: torch.Tensor, tgt: torch.Tensor, pairs: np.ndarray, radii: Radii,
                     methods: tuple[str, ...] = ("nn", "csls_knn_10"), ks: tuple[int, ...] = (1, 5, 10),
                     chunk: int = 4096) -> dict[str, float]:
    """``{"nn/P@1": .., "csls_knn_10/P@5": .., ..., "n_sources": ..}`` for unit-normalised mapped
    source ``src`` and target ``tgt``."""
    out: dict[str, float] = {"n_pairs": int(len(pairs)), "n_sources": int(len(np.unique(pairs[:, 0])))}
    if len(pairs) == 0:
        return out
    for method in methods:
        sources, top = translation_ranks(src, tgt, pairs, method, radii, max(ks), chunk)
        for k, p in precision_at_k(sources, top, pairs, ks).items():
            out[f"{method}/P@{k}"] = round(p, 2)
    return out


def mean_cosine(src: torch.Tensor, tgt: torch.Tensor, radii: Radii | None, n_words: int = 10_000,
                method: str = "csls_knn_10", chunk: int = 4096) -> float:
    """MUSE's unsupervised criterion: translate the ``n_words`` most frequent source words (S2T,
    among the ``n_words`` most frequent targets) and average the cosine of the pairs."""
    pairs = build_dictionary(src, tgt, radii, method, "S2T", n_words, n_words, chunk)
    if len(pairs) == 0:
        return -1e9
    p = torch.as_tensor(pairs, device=src.device)
    return float((src[p[:, 0]] * tgt[p[:, 1]]).sum(1).mean())
