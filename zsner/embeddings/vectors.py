"""Word-vector container and fastText ``.vec`` / ``.bin`` I/O.

Why our own ``.vec`` parser: the public fastText files have 2M rows x 300 floats; a line-by-line
``float()`` loop takes minutes, while handing whole chunks of rows to numpy's C parser takes seconds.
We still check every row (its dimension and its UTF-8), because a truncated download or a file
written by another tool must fail with the file and line to fix, not with a shape error far later.

Duplicate words: MUSE keeps the first occurrence and warns; we do the same by default (real files,
e.g. some Wikipedia ``.vec`` releases, contain a few duplicates and are still usable), and
``on_duplicate="error"`` turns it into a :class:`ZsnerError` naming the file and both lines.
"""
from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from zsner.errors import ZsnerError

log = logging.getLogger(__name__)

#: rows parsed per numpy call: large enough to amortise the call, small enough to bound memory.
CHUNK_ROWS = 20_000


@dataclass
class Embeddings:
    """Words and their vectors: row ``i`` of ``matrix`` is the vector of ``words[i]``.

    ``index`` maps a word to its row; it is built here so that every consumer (mapping, tagger
    look-up, dictionary filtering) shares one definition of "in the vocabulary".
    """

    words: list[str]
    matrix: np.ndarray
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.matrix = np.ascontiguousarray(self.matrix, dtype=np.float32)
        if self.matrix.ndim != 2 or self.matrix.shape[0] != len(self.words):
            raise ValueError(f"{len(self.words)} words but matrix of shape {self.matrix.shape}")
        self.index = {}
        for i, w in enumerate(self.words):
            if w in self.index:
                raise ValueError(f"duplicate word {w!r} at rows {self.index[w]} and {i}")
            self.index[w] = i

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self.index

    def vector(self, word: str) -> np.ndarray:
        """The vector of ``word`` (KeyError if absent: callers decide how to treat unknown words)."""
        return self.matrix[self.index[word]]

    def subset(self, words: Iterable[str]) -> "Embeddings":
        """The rows of ``words`` that are present, in the given order (e.g. the top-k for mapping)."""
        keep = [w for w in words if w in self.index]
        return Embeddings(keep, self.matrix[[self.index[w] for w in keep]])


def first_rows_of_forms(words: Sequence[str]) -> list[int]:
    """The row of each lower-cased form's first occurrence in ``words``, in order: the rows
    :func:`lowercased` keeps (and so, for a prefix of ``words``, how many of them the view holds)."""
    seen: set[str] = set()
    rows = []
    for i, word in enumerate(words):
        form = word.lower()
        if form not in seen:
            seen.add(form)
            rows.append(i)
    return rows


def lowercased(vectors: Embeddings) -> Embeddings:
    """Each lower-cased form once, with the vector of its first row: in a vocabulary sorted by falling
    frequency, its most frequent casing. This is how MUSE reads embeddings, and what its lower-case
    dictionaries are matched against (zsner.mapping.vocabulary says why it matters)."""
    rows = first_rows_of_forms(vectors.words)
    return Embeddings([vectors.words[i].lower() for i in rows], vectors.matrix[rows])


def _parse_header(line: bytes, path: Path) -> tuple[int, int]:
    parts = line.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        shown = line[:60].decode("utf-8", "replace").rstrip()
        raise ZsnerError(f"bad header {shown!r}: a .vec file starts with 'N_WORDS DIM'", path, 1)
    n, d = int(parts[0]), int(parts[1])
    if d == 0:
        raise ZsnerError("header gives dimension 0", path, 1)
    return n, d


def read_vec(
    path: str | Path,
    max_vocab: int | None = None,
    on_duplicate: Literal["keep-first", "error"] = "keep-first",
) -> Embeddings:
    """Read a fastText text ``.vec`` file (first line ``N DIM``, then ``word f1 ... fDIM`` rows).

    ``max_vocab`` keeps the first rows only (fastText files are sorted by frequency, so these are the
    most frequent words); the header/row-count check is then only applied to the rows read.
    """
    path = Path(path)
    if not path.is_file():
        raise ZsnerError("no such vectors file", path)
    with open(path, "rb") as f:
        header = f.readline()
        if not header:
            raise ZsnerError("empty file: expected a header 'N_WORDS DIM'", path, 1)
        n, d = _parse_header(header, path)
        want = n if max_vocab is None else min(n, max_vocab)
        words: list[str] = []
        seen: dict[str, int] = {}
        blocks: list[np.ndarray] = []
        lineno = 1
        n_dup = 0
        while len(words) + n_dup < want:
            lines = f.readlines(CHUNK_ROWS * d * 10)  # size hint in bytes, about CHUNK_ROWS rows
            if not lines:
                break
            remaining = want - len(words) - n_dup
            if len(lines) > remaining:
                if want == n:  # the whole file was asked for: anything after row n is an error
                    for k, extra_line in enumerate(lines[remaining:], remaining + 1):
                        if extra_line.strip():
                            raise ZsnerError(f"more rows than the header's {n}", path, lineno + k)
                lines = lines[:remaining]
            rests: list[bytes] = []
            rest_lines: list[int] = []
            for raw in lines:
                lineno += 1
                word_b, sep, rest = raw.rstrip(b"\r\n").partition(b" ")
                if not sep or not word_b:
                    raise ZsnerError(f"expected 'word' and {d} numbers, found {raw[:40]!r}", path, lineno)
                rest = rest.strip(b" ")
                if rest.count(b" ") != d - 1 and len(rest.split()) != d:
                    raise ZsnerError(
                        f"row has {len(rest.split())} numbers, the header says dimension {d}", path, lineno
                    )
                try:
                    word = word_b.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise ZsnerError(f"word is not valid UTF-8 ({e.reason} at byte {e.start})", path, lineno) from None
                if word in seen:
                    if on_duplicate == "error":
                        raise ZsnerError(f"duplicate word {word!r} (first on line {seen[word]})", path, lineno)
                    if n_dup == 0:
                        log.warning("%s:%d: duplicate word %r (first on line %d); keeping the first",
                                    path, lineno, word, seen[word])
                    n_dup += 1
                    continue
                seen[word] = lineno
                words.append(word)
                rests.append(rest)
                rest_lines.append(lineno)
            if rests:
                blocks.append(_parse_floats(rests, rest_lines, path, d))
        if max_vocab is None or max_vocab >= n:
            extra = f.readline()
            while extra and not extra.strip():
                extra = f.readline()  # tolerate trailing blank lines only
            if extra:
                raise ZsnerError(f"more rows than the header's {n}", path, lineno + 1)
    if len(words) + n_dup < want:
        raise ZsnerError(f"header says {n} rows but the file has only {len(words) + n_dup}", path, lineno)
    if n_dup:
        log.warning("%s: %d duplicate words skipped (kept the first occurrence)", path, n_dup)
    matrix = np.concatenate(blocks) if blocks else np.zeros((0, d), np.float32)
    return Embeddings(words, matrix)


def _parse_floats(rests: list[bytes], rest_lines: list[int], path: Path, d: int) -> np.ndarray:
    """Parse the number fields of many rows in one numpy call; on failure name the bad row's line."""
    try:
        return np.loadtxt(rests, dtype=np.float32, ndmin=2, comments=None).reshape(len(rests), d)
    except ValueError:
        for rest, line in zip(rests, rest_lines):
            bad = [t for t in rest.split() if not _is_float(t)]
            if bad:
                raise ZsnerError(f"not a number: {bad[0][:30].decode('utf-8', 'replace')!r}", path, line) from None
        raise  # a failure numpy saw and we cannot place: a bug, keep the traceback


def _is_float(token: bytes) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _readable(fd: int) -> None:
    """Give a mkstemp file (created 0600) the usual permissions under the user's umask."""
    mask = os.umask(0)
    os.umask(mask)
    os.fchmod(fd, 0o666 & ~mask)


def write_vec(emb: Embeddings, path: str | Path, precision: int = 5) -> None:
    """Write ``emb`` as a fastText ``.vec`` file, atomically (temp file + rename).

    Atomic because a Make target that is interrupted mid-write must not leave a truncated file that
    looks complete (Make would then never rebuild it).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = " ".join([f"%.{precision}g"] * emb.dim)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    _readable(fd)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(f"{len(emb)} {emb.dim}\n")
            for start in range(0, len(emb), CHUNK_ROWS):
                block = emb.matrix[start : start + CHUNK_ROWS]
                f.writelines(
                    w + " " + (fmt % tuple(row)) + "\n"
                    for w, row in zip(emb.words[start : start + CHUNK_ROWS], block.tolist())
                )
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_bin(path: str | Path, max_vocab: int | None = None) -> Embeddings:
    """Load a fastText ``.bin`` model and return the vectors of its vocabulary words.

    Each vector is ``get_word_vector`` (the word's own vector averaged with its character n-grams),
    which is exactly what fastText writes to ``.vec``; so ``convert`` gives the same file fastText's
    own training would.
    """
    import fasttext  # deferred: importing the C extension is not needed for .vec work

    path = Path(path)
    if not path.is_file():
        raise ZsnerError("no such fastText model", path)
    try:
        model = fasttext.load_model(str(path))
    except ValueError as e:  # fasttext raises ValueError for files that are not models
        raise ZsnerError(f"cannot load as a fastText model: {e}", path) from None
    words = model.get_words(on_unicode_error="replace")
    if max_vocab is not None:
        words = words[:max_vocab]
    matrix = np.empty((len(words), model.get_dimension()), dtype=np.float32)
    for i, w in enumerate(words):
        matrix[i] = model.get_word_vector(w)
    return Embeddings(list(words), matrix)


def load_vectors(path: str | Path, max_vocab: int | None = None) -> Embeddings:
    """Load ``.bin`` (fastText model) or text ``.vec``, chosen by the file name's ending."""
    if str(path).endswith(".bin"):
        return load_bin(path, max_vocab)
    return read_vec(path, max_vocab)
