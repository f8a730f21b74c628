"""``zsner corpus build LANG``: one tokenised, de-duplicated monolingual corpus per language.

Why this exists: the paper maps monolingual fastText vectors; where the public vectors cannot be
downloaded, we train our own on whatever real text the machine can reach offline (see
``sources.py``). Output: ``LANG.txt`` (one sentence a line, CoNLL-style tokens separated by spaces)
and ``LANG.sources.json`` (sentences and tokens each source contributed after de-duplication, plus
the sources that were missing and why), so the README's figures can be checked and reproduced.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from zsner.embeddings.sources import LANGS, SOURCES, Source, read_extra
from zsner.embeddings.tokenize import split_sentences, tokenize
from zsner.embeddings.vectors import _readable
from zsner.errors import ZsnerError

log = logging.getLogger(__name__)

MIN_TOKENS = 3  # shorter lines are headings, menu labels, list bullets: noise for skip-gram
MAX_TOKENS = 200  # longer "sentences" are failed splits of tables or lists


def sentences_of(paragraphs: Iterable[str], lang: str, pretokenized: bool = False) -> Iterator[str]:
    """Tokenised sentences (tokens joined by one space) of running-text paragraphs."""
    for para in paragraphs:
        if pretokenized:
            yield para
            continue
        for sent in split_sentences(para, lang):
            tokens = tokenize(sent, lang)
            if MIN_TOKENS <= len(tokens) <= MAX_TOKENS and sum(t[0].isalpha() for t in tokens) >= 2:
                yield " ".join(tokens)


def build_corpus(
    lang: str,
    out_dir: str | Path = "data/corpus",
    extra: Iterable[str | Path] = (),
    sources: Iterable[Source] | None = None,
    echo=print,
) -> dict:
    """Gather every available source for ``lang`` into ``out_dir/LANG.txt``; returns the stats.

    Sentences are de-duplicated across sources (first source wins, by a hash of the line) because
    repeated boilerplate (menu paths, Bible refrains, licence notes) would otherwise dominate the
    co-occurrence counts. The text file is written atomically.
    """
    if lang not in LANGS:
        raise ZsnerError(f"unknown language {lang!r}; known: {', '.join(LANGS)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{lang}.txt"
    stats: dict = {"lang": lang, "sources": {}, "missing": {}}
    seen: set[bytes] = set()
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=out_dir)
    _readable(fd)
    jobs: list[tuple[str, Iterator[str], bool]] = []
    for src in SOURCES if sources is None else sources:
        why = src.missing(lang) if lang in src.langs else "not for this language"
        if why:
            stats["missing"][src.name] = why
            echo(f"corpus {lang}: skip {src.name}: {why}")
        else:
            jobs.append((src.name, src.read(lang), src.pretokenized))
    for path in extra:
        jobs.append((f"extra:{path}", read_extra(Path(path)), False))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            for name, paragraphs, pretok in jobs:
                t0 = time.time()
                n_sent = n_tok = n_dup = 0
                for sent in sentences_of(paragraphs, lang, pretok):
                    key = hashlib.blake2b(sent.encode(), digest_size=12).digest()
                    if key in seen:
                        n_dup += 1
                        continue
                    seen.add(key)
                    f.write(sent + "\n")
                    n_sent += 1
                    n_tok += sent.count(" ") + 1
                stats["sources"][name] = {"sentences": n_sent, "tokens": n_tok, "duplicates_dropped": n_dup}
                echo(f"corpus {lang}: {name}: {n_sent} sentences, {n_tok} tokens "
                     f"({n_dup} duplicates dropped, {time.time() - t0:.0f}s)")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    stats["total"] = {
        "sentences": sum(s["sentences"] for s in stats["sources"].values()),
        "tokens": sum(s["tokens"] for s in stats["sources"].values()),
    }
    (out_dir / f"{lang}.sources.json").write_text(json.dumps(stats, indent=2, ensure_ascii=False) + "\n", "utf-8")
    echo(f"corpus {lang}: wrote {target}: {stats['total']['sentences']} sentences, {stats['total']['tokens']} tokens")
    return stats
