"""Exact k-nearest neighbours by inner product, and CSLS (Conneau et al. 2018, Eq. 6).

All vectors given here are expected to be unit length, so inner product = cosine.

Two back-ends, both exact:

* ``fp32``: faiss ``IndexFlatIP`` (the GPU index when faiss sees a GPU, else the CPU one), or a
  torch matmul when the keys live on a CUDA device; queries are processed in chunks so that a
  200k x 200k search never holds more than one chunk of scores.
* ``bf16``: a bf16 matmul (AMX / tensor cores: 5-8x faster than fp32 on CPUs that have them) picks
  ``2k + 16`` candidates per query, which are then re-scored exactly in fp32. bf16 rounds a cosine
  by at most ~0.004, so the true top-k is among the candidates unless more than k+16 keys lie within
  that rounding of the k-th neighbour; the re-scored top-k is then still exact to fp32 precision
  for every neighbour it returns.

CSLS(x, y) = 2 cos(x, y) - r_T(x) - r_S(y), where r is the mean cosine of a vector to its k nearest
neighbours in the other space. The radii depend only on the map, so :class:`Radii` computes them
once per map, for the most frequent words first, and extends them only when a caller needs more.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from zsner.encoders.precision import resolve_precision as encoder_precision

#: bytes of scores one query chunk may hold (bounds memory for 200k keys)
SCORE_BUDGET = 512 * 2**20


def unit_rows(x: torch.Tensor) -> torch.Tensor:
    """Rows scaled to length 1 (zero rows stay zero)."""
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)


def resolve_precision(precision: str, device: str | torch.device) -> str:
    """``auto`` → bf16 where the device computes it natively (the encoders' rule, one definition),
    else fp32. It used to time a bf16 and an fp32 product here: the answer then depended on the load
    of the machine, and the timing drew from the global torch generator after the run had been seeded."""
    return encoder_precision(precision, torch.device(device))


def _chunk_rows(n_keys: int, want: int, bytes_per: int) -> int:
    return max(1, min(want, SCORE_BUDGET // max(1, n_keys * bytes_per)))


def _faiss_index(keys: np.ndarray):
    import faiss

    faiss.omp_set_num_threads(torch.get_num_threads())
    index = faiss.IndexFlatIP(keys.shape[1])
    if faiss.get_num_gpus() > 0:  # a faiss-gpu build without a GPU would crash on search
        index = faiss.index_cpu_to_all_gpus(index)
    index.add(np.ascontiguousarray(keys, dtype=np.float32))
    return index


def knn(queries: torch.Tensor, keys: torch.Tensor, k: int, precision: str = "fp32",
        chunk: int = 4096) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-``k`` keys by inner product for every query: (similarities, indices), both [nq, k],
    sorted by decreasing similarity, on the queries' device."""
    k = min(k, keys.shape[0])
    nq = queries.shape[0]
    dev = queries.device
    if nq == 0:
        return torch.zeros(0, k, device=dev), torch.zeros(0, k, dtype=torch.long, device=dev)
    if precision == "bf16":
        return _knn_bf16(queries, keys, k, chunk)
    if dev.type == "cpu":
        index = _faiss_index(keys.numpy())
        sims, idx = [], []
        for s in range(0, nq, chunk):
            d, i = index.search(np.ascontiguousarray(queries[s:s + chunk].numpy()), k)
            sims.append(torch.from_numpy(d))
            idx.append(torch.from_numpy(i))
        return torch.cat(sims), torch.cat(idx)
    sims, idx = [], []
    step = _chunk_rows(keys.shape[0], chunk, 4)
    for s in range(0, nq, step):
        v, i = (queries[s:s + step] @ keys.T).topk(k, dim=1)
        sims.append(v)
        idx.append(i)
    return torch.cat(sims), torch.cat(idx)


def _knn_bf16(queries: torch.Tensor, keys: torch.Tensor, k: int, chunk: int):
    kc = min(keys.shape[0], 2 * k + 16)
    keys16 = keys.bfloat16()
    step = _chunk_rows(keys.shape[0], chunk, 2)
    sims, idx = [], []
    for s in range(0, queries.shape[0], step):
        q = queries[s:s + step]
        _, cand = (q.bfloat16() @ keys16.T).topk(kc, dim=1, sorted=False)
        exact = torch.einsum("qd,qcd->qc", q, keys[cand])  # fp32 re-scoring of the candidates
        v, j = exact.topk(k, dim=1)
        sims.append(v)
        idx.append(cand.gather(1, j))
    return torch.cat(sims), torch.cat(idx)


def mean_knn_sim(queries: torch.Tensor, keys: torch.Tensor, k: int, precision: str = "fp32",
                 chunk: int = 4096) -> torch.Tensor:
    """r(q): mean similarity of each query to its ``k`` nearest keys (the CSLS radius)."""
    sims, _ = knn(queries, keys, k, precision, chunk)
    return sims.mean(dim=1)


def csls_topk(queries: torch.Tensor, keys: torch.Tensor, key_radii: torch.Tensor, k: int,
              query_radii: torch.Tensor | None = None, chunk: int = 4096):
    """Top-``k`` keys by CSLS = 2 q.y - r(y) (- r(q) when given: it does not change the ranking),
    exact fp32. Returns (scores, indices), each [nq, k]."""
    k = min(k, keys.shape[0])
    step = _chunk_rows(keys.shape[0], chunk, 4)
    out_s, out_i = [], []
    for s in range(0, queries.shape[0], step):
        scores = (queries[s:s + step] @ keys.T).mul_(2).sub_(key_radii[None, :])
        v, i = scores.topk(k, dim=1)
        if query_radii is not None:
            v = v - query_radii[s:s + step, None]
        out_s.append(v)
        out_i.append(i)
    if not out_s:
        return torch.zeros(0, k), torch.zeros(0, k, dtype=torch.long)
    return torch.cat(out_s), torch.cat(out_i)


def nn_topk(queries: torch.Tensor, keys: torch.Tensor, k: int, chunk: int = 4096):
    """Top-``k`` keys by cosine, exact fp32: (scores, indices)."""
    return knn(queries, keys, k, "fp32", chunk)


class Radii:
    """CSLS radii of one map, computed once and extended on demand.

    ``src`` and ``tgt`` are the unit-normalised *mapped* source and the target matrices. ``src(n)``
    gives r_T(x) for the ``n`` most frequent source words (their neighbourhood in the target space),
    ``tgt(n)`` gives r_S(y) for the ``n`` most frequent target words.
    """

    def __init__(self, src: torch.Tensor, tgt: torch.Tensor, k: int = 10, precision: str = "fp32",
                 chunk: int = 4096):
        self.mats = {"src": src, "tgt": tgt}
        self.k, self.precision, self.chunk = k, precision, chunk
        self.cache: dict[str, torch.Tensor] = {
            side: torch.zeros(0, device=src.device) for side in ("src", "tgt")}
        self.seconds = 0.0

    def _get(self, side: str, n: int | None) -> torch.Tensor:
        mine = self.mats[side]
        other = self.mats["tgt" if side == "src" else "src"]
        n = mine.shape[0] if n is None else min(n, mine.shape[0])
        have = self.cache[side].shape[0]
        if have < n:
            t = time.perf_counter()
            more = mean_knn_sim(mine[have:n], other, self.k, self.precision, self.chunk)
            self.cache[side] = torch.cat([self.cache[side], more])
            self.seconds += time.perf_counter() - t
        return self.cache[side][:n]

    def src(self, n: int | None = None) -> torch.Tensor:
        return self._get("src", n)

    def tgt(self, n: int | None = None) -> torch.Tensor:
        return self._get("tgt", n)
