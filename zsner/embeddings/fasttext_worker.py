"""Run one fastText training in a fresh child process whose large allocations start zeroed.

Why a child process: fasttext-numpy2 (the numpy-2 build of fastText we depend on) stores the input
matrix in an uninitialised aligned buffer and, like upstream fastText, ``DenseMatrix::uniform`` fills
only ``thread``/10 of it; upstream's ``std::vector`` leaves the rest at zero, this build leaves heap
garbage there. In a long-lived process that garbage is whatever freed memory glibc hands back, so the
same settings gave NaN ("Encountered NaN.") in 9 of 20 one-thread runs of the test corpus and a
different model in most of the others. A child started with a small static ``MALLOC_MMAP_THRESHOLD_``
gets every buffer of 4 KiB or more from fresh, zero-filled pages: the matrix starts as upstream's does
and one-thread training is deterministic again (20 of 20 identical runs). It also lets ^C stop a long
training at once (the parent kills the child), which the library's C++ loop never notices otherwise.

Usage (by ``zsner.embeddings.train`` only): ``python -m zsner.embeddings.fasttext_worker JOB.json``
with ``{"corpus", "bin", "kwargs"}``; exit status 0 and the model saved to ``bin``, or status 3 and
the reason in ``JOB.json.problem``.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

# allocations of this many bytes or more come from fresh (zeroed) pages in the child
MMAP_THRESHOLD_BYTES = 4096
PROBLEM_EXIT = 3


def degenerate(model) -> str | None:
    """Why a trained model is unusable (NaN, mostly zero or exploded vectors), or None when it is fine."""
    words = model.get_words()[:2000]
    matrix = np.array([model.get_word_vector(w) for w in words], dtype=np.float32)
    if not np.isfinite(matrix).all():
        return "vectors contain NaN or infinity"
    if (np.linalg.norm(matrix, axis=1) == 0).mean() > 0.5:
        return "most vectors are zero"
    if np.abs(matrix).max() > 1e3:  # healthy skip-gram vectors stay within about ±10
        return f"vectors exploded (largest value {np.abs(matrix).max():.3g})"
    return None


def main(job_path: str) -> int:
    import fasttext

    job = json.loads(Path(job_path).read_text("utf-8"))
    try:
        model = fasttext.train_unsupervised(job["corpus"], **job["kwargs"])
        problem = degenerate(model)
    except RuntimeError as e:  # fasttext 0.9/0.10: "Encountered NaN."
        problem = str(e)
    if problem is not None:
        Path(job_path + ".problem").write_text(problem, "utf-8")
        return PROBLEM_EXIT
    model.save_model(job["bin"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
