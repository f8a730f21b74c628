"""Reading the first rows of a public-size fastText ``.vec`` file: zsner's reader vs a plain line loop.

The public files (wiki.LANG.vec, cc.LANG.300.vec) hold 2M rows x 300 floats, 4-7 GB of text; a recipe
reads only ``max_vocab`` = 200k of them. This benchmark writes such a file once (Gaussian rows, fastText's
layout: header, then ``word f1 ... f300`` with 4 decimals; 50k Gaussian rows repeated under new words), then reads the first N rows twice in one
process: with ``zsner.embeddings.vectors.read_vec`` (whole chunks handed to numpy's parser, every row still
checked) and with the plain loop everyone writes first (``float()`` of every field). It prints seconds,
rows/s and peak Python-heap memory (tracemalloc: numpy's buffers included) for both, and the ratios.

usage: python bench/bench_vec_load.py [--file /tmp/zsner-bench-2M.vec] [--rows 2000000] [--read 200000 2000000]
"""
from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from zsner.embeddings.vectors import read_vec  # noqa: E402


PLAIN_MAX_ROWS = 500_000  # the plain loop is not run on more rows (its lists of floats would not fit in memory)


def write_public_size_file(path: Path, rows: int, dim: int, seed: int = 1) -> None:
    """A fastText-layout .vec file of ``rows`` x ``dim`` (written once; reused when present with that header)."""
    if path.is_file():
        with open(path, encoding="utf-8") as f:
            if f.readline().split() == [str(rows), str(dim)]:
                return
    rng = np.random.default_rng(seed)
    tmp = path.with_name(path.name + ".tmp")
    t0 = time.perf_counter()
    fmt = " ".join(["%.4f"] * dim)
    block = 50_000  # the numbers of one block formatted once and reused: parsing costs the same, writing 40x less
    numbers = [fmt % tuple(row) for row in (rng.standard_normal((block, dim)) * 0.1).tolist()]
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(f"{rows} {dim}\n")
        for start in range(0, rows, block):
            f.writelines(f"w{start + i} {numbers[i]}\n" for i in range(min(block, rows - start)))
    tmp.replace(path)
    print(f"wrote {path}: {rows} x {dim}, {path.stat().st_size / 2**30:.2f} GiB in {time.perf_counter() - t0:.0f} s",
          flush=True)


def plain_read(path: Path, n: int) -> tuple[list[str], np.ndarray]:
    """The baseline: one ``float()`` per field, a Python list per row, stacked at the end."""
    words, rows = [], []
    with open(path, encoding="utf-8") as f:
        f.readline()
        for line in f:
            if len(words) == n:
                break
            parts = line.rstrip("\n").split(" ")
            words.append(parts[0])
            rows.append([float(x) for x in parts[1:]])
    return words, np.array(rows, dtype=np.float32)


def measure(label: str, read, path: Path, n: int) -> dict:
    tracemalloc.start()
    t0 = time.perf_counter()
    result = read(path, n)
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    matrix = result.matrix if hasattr(result, "matrix") else result[1]
    out = {"label": label, "rows": len(matrix), "seconds": seconds, "rows_per_s": len(matrix) / seconds,
           "peak_mib": peak / 2**20, "matrix_mib": matrix.nbytes / 2**20, "checksum": float(matrix.sum(dtype=np.float64))}
    print(f"{label:>6}: {out['rows']} rows in {seconds:.2f} s ({out['rows_per_s']:,.0f} rows/s), peak heap "
          f"{out['peak_mib']:.0f} MiB for a {out['matrix_mib']:.0f} MiB matrix", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--file", type=Path, default=Path("/tmp/zsner-bench-2M.vec"))
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--read", type=int, nargs="+", default=[200_000, 2_000_000])
    a = ap.parse_args()
    write_public_size_file(a.file, a.rows, a.dim)
    lines = []
    for n in a.read:
        ours = measure("zsner", lambda p, k: read_vec(p, max_vocab=k), a.file, n)
        if n > PLAIN_MAX_ROWS:  # a Python float per field: ~7 KiB a row, 14 GiB for 2M rows
            lines.append(f"| {n:,} | {ours['seconds']:.2f} | – | – | {ours['peak_mib']:.0f} | – | {ours['matrix_mib']:.0f} |")
            continue
        plain = measure("plain", plain_read, a.file, n)
        if abs(ours["checksum"] - plain["checksum"]) > 1e-3 * max(1.0, abs(plain["checksum"])):
            sys.exit(f"the two readers disagree: checksums {ours['checksum']} vs {plain['checksum']}")
        lines.append(f"| {n:,} | {ours['seconds']:.2f} | {plain['seconds']:.2f} | "
                     f"{plain['seconds'] / ours['seconds']:.1f}x | {ours['peak_mib']:.0f} | {plain['peak_mib']:.0f} | "
                     f"{ours['matrix_mib']:.0f} |")
    print("| rows read | zsner s | plain s | speed-up | zsner peak MiB | plain peak MiB | matrix MiB |")
    print("|---|---|---|---|---|---|---|")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
