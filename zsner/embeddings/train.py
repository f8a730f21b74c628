"""Train monolingual word vectors with fastText skip-gram (the paper's vectors are fastText's).

Why the library and these defaults: Bari et al. map fastText vectors (Bojanowski et al. 2017);
training our own with the same tool keeps the sub-word model that helps rare and inflected words
(Finnish, Arabic) and that lets ``.bin`` models give vectors for unseen words. dim 300 matches the
public cc.LANG.300 vectors so that the recipes work with either. On a terminal fastText prints its own
progress (words/sec/thread, loss, ETA) with ``verbose=2``, so long runs are visibly alive; into a log
(`make ... > log`) that progress is thousands of carriage-return updates, so there only its summary
lines and ours are written (``verbose=1``).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path


from zsner.embeddings.fasttext_worker import MMAP_THRESHOLD_BYTES, PROBLEM_EXIT
from zsner.embeddings.vectors import load_bin, write_vec
from zsner.errors import ZsnerError


ATTEMPTS = 3


@dataclass
class TrainSettings:
    """fastText training settings; defaults are fastText's skip-gram defaults except ``dim``=300.

    No seed: the fasttext Python API does not accept one (it always uses 0); with one thread a run is
    repeatable (tests/test_embeddings_vectors.py checks it), with more it depends on scheduling anyway.
    ``min_count`` 3 (not 5): our offline corpora have 1-3M tokens, where 5 would drop many content
    words, including the rarer words of the dictionaries that evaluate the mapping.
    """

    model: str = "skipgram"
    dim: int = 300
    epoch: int = 5
    min_count: int = 3
    minn: int = 3
    maxn: int = 6
    ws: int = 5
    neg: int = 5
    lr: float = 0.05
    bucket: int = 2_000_000
    thread: int = os.cpu_count() or 1
    verbose: int = -1              # -1: 2 (live progress) on a terminal, 1 (summary lines) into a file or pipe


def _train_once(corpus: Path, tmp_bin: Path, kwargs: dict) -> str | None:
    """Train and save to ``tmp_bin`` in a child process (see ``fasttext_worker`` for why); the reason
    it failed, or None."""
    job = Path(f"{tmp_bin}.job.json")
    problem_file = Path(f"{job}.problem")
    job.write_text(json.dumps({"corpus": str(corpus), "bin": str(tmp_bin), "kwargs": kwargs}), "utf-8")
    problem_file.unlink(missing_ok=True)
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(MMAP_THRESHOLD_BYTES))
    try:
        status = subprocess.run([sys.executable, "-m", "zsner.embeddings.fasttext_worker", str(job)], env=env).returncode
        if status == PROBLEM_EXIT:
            return problem_file.read_text("utf-8")
        if status != 0:  # a crash, not a diverged run: retrying would only repeat it
            raise ZsnerError(f"the fastText process failed (exit status {status}; its error is printed above)",
                             corpus)
        return None
    finally:
        job.unlink(missing_ok=True)
        problem_file.unlink(missing_ok=True)


def train_vectors(corpus: str | Path, out_prefix: str | Path, settings: TrainSettings | None = None, echo=print) -> dict:
    """Train on ``corpus`` (one tokenised sentence per line) and write ``PREFIX.bin`` and ``PREFIX.vec``.

    Returns a summary (vocabulary size, tokens, seconds) for the README/recipe records.
    """
    s = settings or TrainSettings()
    corpus = Path(corpus)
    if not corpus.is_file() or corpus.stat().st_size == 0:
        raise ZsnerError("corpus file is missing or empty (build it with: zsner corpus build LANG)", corpus)
    if s.model not in ("skipgram", "cbow"):
        raise ZsnerError(f"model must be skipgram or cbow, not {s.model!r}")
    out_prefix = Path(out_prefix)
    out_prefix.parent.mkdir(parents=True, exist_ok=True)
    echo(f"train: {corpus} -> {out_prefix}.bin/.vec with {asdict(s)}")
    t0 = time.time()
    kwargs = asdict(s)
    kwargs["minCount"] = kwargs.pop("min_count")
    if s.verbose < 0:
        kwargs["verbose"] = 2 if sys.stderr.isatty() else 1
    if s.maxn == 0:
        kwargs["bucket"] = 0  # no sub-words: fastText otherwise trains unused buckets and can hit NaN
    bin_path = Path(f"{out_prefix}.bin")
    tmp_bin = Path(f"{out_prefix}.bin.tmp")
    for attempt in range(1, ATTEMPTS + 1):
        problem = _train_once(corpus, tmp_bin, kwargs)
        if problem is None:
            break
        # With more than one thread the result depends on scheduling, and a run that diverges once may
        # not the next time; so retry before giving up.
        echo(f"train: attempt {attempt}/{ATTEMPTS} failed: {problem}")
        if attempt == ATTEMPTS:
            raise ZsnerError(f"fastText training failed {ATTEMPTS} times ({problem}); try a lower --lr, "
                             "fewer epochs or more text", corpus)
    seconds = time.time() - t0
    os.replace(tmp_bin, bin_path)  # atomic, like write_vec: an interrupted run leaves no half model
    emb = load_bin(bin_path)
    write_vec(emb, Path(f"{out_prefix}.vec"))
    n_tokens = sum(line.count(b" ") + 1 for line in open(corpus, "rb") if line.strip())
    summary = {"vocab": len(emb), "dim": emb.dim, "tokens": n_tokens, "train_seconds": round(seconds, 1),
               "settings": asdict(s)}
    echo(f"train: {len(emb)} words x {emb.dim}, {n_tokens} tokens, {seconds:.0f}s -> {out_prefix}.vec")
    return summary
