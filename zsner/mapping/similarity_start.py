"""A rotation-invariant unsupervised seed dictionary: matching words by their similarity distributions
(Artetxe, Labaka & Agirre 2018, "A robust self-learning method for fully unsupervised cross-lingual
mappings of word embeddings", the start of VecMap's unsupervised mode).

Why it is here: MUSE's adversarial start finds the rotation between a vector set and a rotated copy of
itself, but on two real languages it settles in a wrong optimum from which refinement cannot recover —
on the vectors distilled from e5-small (en→es, 50k words, es rotated) the adversarial map never moves
closer to the true rotation than a random rotation is, with raw, centred or alone-encoded vectors,
while the true rotation, given as the start, stays put (README, "Known-answer test"). The similarity
distribution of a word — the sorted row of sqrt(X Xᵀ) over the most frequent words of its own language —
does not change under any rotation of that language's space, so words of two languages can be matched
without knowing the rotation at all. The matches are poor (P@1 about 1 on en→es) but carry enough signal
for Procrustes refinement to take them to the right map.
"""
from __future__ import annotations

import numpy as np
import torch

from zsner.embeddings.normalize import normalize
from zsner.mapping.neighbours import csls_topk, mean_knn_sim


def similarity_distributions(vectors: torch.Tensor, n_words: int) -> torch.Tensor:
    """Rows of sqrt(X Xᵀ) for the ``n_words`` first (most frequent) rows, each sorted, then normalised
    (unit, centre, unit) so that rows of two languages compare by cosine.

    sqrt(X Xᵀ) = U S Uᵀ for X = U S Vᵀ: the square root smooths the raw similarities so that the two
    languages' distributions are more alike (Artetxe et al.'s choice), and costs one thin SVD.
    """
    x = normalize(vectors[:n_words].detach().cpu().numpy().astype(np.float64), "unit,center,unit")
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    root = (u * s) @ u.T
    root.sort(axis=1)
    return torch.from_numpy(normalize(root.astype(np.float32), "unit,center,unit"))


def similarity_seed_pairs(src: torch.Tensor, tgt: torch.Tensor, n_words: int = 4000, csls_k: int = 10) -> np.ndarray:
    """Seed dictionary [m, 2] of (source row, target row): every one of the ``n_words`` most frequent
    source words with its CSLS-nearest target word by similarity distribution, and every target word
    with its nearest source word (both directions, as VecMap's unsupervised start)."""
    n = min(n_words, src.shape[0], tgt.shape[0])
    a, b = similarity_distributions(src, n), similarity_distributions(tgt, n)
    k = min(csls_k, n)
    # CSLS nearest neighbours between the two sets of distributions, each way (the mapping's own k-NN/CSLS)
    forward = csls_topk(a, b, mean_knn_sim(b, a, k), 1)[1][:, 0].cpu().numpy()
    backward = csls_topk(b, a, mean_knn_sim(a, b, k), 1)[1][:, 0].cpu().numpy()
    rows = np.arange(n)
    pairs = np.concatenate([np.stack([rows, forward], 1), np.stack([backward, rows], 1)])
    return np.unique(pairs, axis=0).astype(np.int64)
