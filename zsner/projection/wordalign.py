"""Word alignment of English-target parallel text, and label projection through it.

The alignment-based projection baseline (annotation projection, as in Li et al. 2021's comparison):
tag the English side of a parallel corpus, align words, and copy every English entity onto the
target tokens its words are aligned to. This module is the model-free half: read the pairs
(:func:`read_parallel`), align them (:func:`align`, eflomal in both directions, symmetrised with
:func:`grow_diag_final_and`), and project one sentence's tags (:func:`project`).

Indices are token positions in the space-separated sides of ``data/parallel/*.tsv``; a link is
``(english index, target index)``.

Reproducibility: eflomal (2.0.0, and its C source up to now) seeds its sampler from ``/dev/urandom``
and has no seed option, so two runs on the same input give slightly different links. :func:`align`
therefore takes no seed; a caller who needs the same links twice must store them.
"""
from __future__ import annotations

import heapq
import logging
import math
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from zsner.data.tags import chunks
from zsner.errors import ZsnerError

log = logging.getLogger("zsner.projection")

Pair = tuple[list[str], list[str]]
Link = tuple[int, int]  # (english index, target index)

#: reasons :func:`project` gives for dropping a sentence
UNALIGNED_ENTITY = "unaligned_entity"
OVERLAPPING_ENTITIES = "overlapping_entities"

#: eflomal's text format stores a sentence of this many tokens or more as empty (no links): its
#: binary refuses longer sentences, and its own Python writer makes the same cut
EFLOMAL_MAX_TOKENS = 0x400

#: Koehn's neighbourhood order for grow-diag: the four direct neighbours, then the diagonals. The
#: order matters, since a point added early can stop a later one (its words are then aligned).
_NEIGHBOURS = ((-1, 0), (0, -1), (1, 0), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))


# --- reading -------------------------------------------------------------------------------------


def read_parallel(path: str | Path, limit: int = 0) -> list[Pair]:
    """The (english tokens, target tokens) pairs of an ``english<TAB>target`` file, in file order.

    ``limit`` > 0 keeps the first ``limit`` pairs (a quick run on the head of a corpus). Strict: a
    line without exactly one tab, or with a side that has no token, is an error naming file and
    line, because a silently skipped or mis-split line would shift no index but would feed the
    aligner a sentence against the wrong translation, or an empty one it cannot align. Lines are
    decoded one by one so that a bad byte is reported with its line too.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ZsnerError("no such parallel file", path) from None
    except OSError as err:
        raise ZsnerError(f"cannot read parallel file: {err.strerror}", path) from None
    pairs: list[Pair] = []
    for number, line_bytes in enumerate(raw.splitlines(), start=1):
        if limit and len(pairs) >= limit:
            break
        try:
            line = line_bytes.decode("utf-8")
        except UnicodeDecodeError:
            raise ZsnerError("not UTF-8 text", path, number) from None
        if line.count("\t") != 1:
            raise ZsnerError(f"expected 'english<TAB>target' (one tab), found {line.count(chr(9))} tabs",
                             path, number)
        english, target = (side.split() for side in line.split("\t"))
        if not english or not target:
            side = "english" if not english else "target"
            raise ZsnerError(f"the {side} side is empty", path, number)
        pairs.append((english, target))
    return pairs


# --- symmetrisation ------------------------------------------------------------------------------


def grow_diag_final_and(forward: Iterable[Link], reverse: Iterable[Link]) -> list[Link]:
    """Symmetrise two directional alignments with grow-diag-final-and (Koehn et al. 2003; Moses).

    Each direction alone is one-to-many (eflomal's forward direction gives each target word at most
    one English word, the reverse each English word at most one target word), so neither can align
    a multi-word name to a multi-word translation. Their intersection is precise but sparse, their
    union dense but noisy; grow-diag-final-and starts from the intersection, adds union points next
    to (also diagonally) accepted points where one of the two words is still unaligned, then ("final
    and") adds remaining points of each direction whose words are both unaligned. This is the
    standard setting for projection, as it keeps precision while aligning most words.

    Follows Koehn's pseudo-code exactly, including the order of additions: grow-diag visits the
    accepted points in (english, target) order, a point added after the one being visited is
    visited in the same pass, one added before it in the next pass, until a pass adds nothing; then
    final-and on the forward links, then on the reverse links. Returns sorted links.
    """
    forward, reverse = set(forward), set(reverse)
    union = forward | reverse
    accepted = forward & reverse
    english_aligned = {i for i, _ in accepted}
    target_aligned = {j for _, j in accepted}

    def add(point: Link) -> None:
        accepted.add(point)
        english_aligned.add(point[0])
        target_aligned.add(point[1])

    grown = True
    while grown:  # one pass of Koehn's grid scan per loop; a heap replaces the scan over all cells
        grown = False
        queue = sorted(accepted)
        while queue:
            i, j = heapq.heappop(queue)
            for di, dj in _NEIGHBOURS:
                new = (i + di, j + dj)
                if new in union and new not in accepted and (
                        new[0] not in english_aligned or new[1] not in target_aligned):
                    add(new)
                    grown = True
                    if new > (i, j):
                        heapq.heappush(queue, new)
    for direction in (forward, reverse):
        for i, j in sorted(direction):
            if i not in english_aligned and j not in target_aligned:
                add((i, j))
    return sorted(accepted)


# --- alignment -----------------------------------------------------------------------------------


def _write_eflomal_text(path: Path, sentences: Sequence[Sequence[str]]) -> None:
    """Write sentences in eflomal's input format: ``n_sentences vocabulary_size`` then one
    ``length id id ...`` line per sentence (ids from 0; length 0 marks a sentence not to align)."""
    index: dict[str, int] = {}
    lines = []
    for sentence in sentences:
        if not sentence or len(sentence) >= EFLOMAL_MAX_TOKENS:
            lines.append("0")
            continue
        ids = [index.setdefault(token.lower(), len(index)) for token in sentence]
        lines.append(" ".join(map(str, [len(ids), *ids])))
    path.write_text(f"{len(lines)} {len(index)}\n" + "\n".join(lines) + "\n", encoding="ascii")


def _read_links(path: Path, pairs: Sequence[Pair]) -> list[set[Link]]:
    """Parse eflomal's Moses-format links (``i-j`` with i the English index, in both directions'
    files) and check them against the sentence lengths: a mismatch means the output is not for
    these pairs, which must not pass silently into projection."""
    lines = path.read_text(encoding="ascii").splitlines()
    if len(lines) != len(pairs):
        raise RuntimeError(f"eflomal wrote {len(lines)} alignment lines for {len(pairs)} pairs ({path.name})")
    result = []
    for number, (line, (english, target)) in enumerate(zip(lines, pairs), start=1):
        links = set()
        for item in line.split():
            i, j = map(int, item.split("-"))
            if not (0 <= i < len(english) and 0 <= j < len(target)):
                raise RuntimeError(f"eflomal link {item} out of range in pair {number} ({path.name})")
            links.add((i, j))
        result.append(links)
    return result


def _eflomal_binary() -> str:
    """The eflomal executable shipped inside the ``eflomal`` wheel (the package's own wrapper looks
    there too), else one on PATH."""
    try:
        import eflomal
    except ImportError:
        raise ZsnerError("word alignment needs the eflomal package: pip install eflomal") from None
    shipped = Path(eflomal.__file__).resolve().parent / "bin" / "eflomal"
    if shipped.is_file():
        return str(shipped)
    found = shutil.which("eflomal")
    if found is None:
        raise ZsnerError(f"the eflomal package has no aligner binary (looked for {shipped} and on PATH)")
    return found


def iterations(n_pairs: int, rel_iterations: float = 1.0) -> tuple[int, int, int]:
    """Sampling iterations for IBM1, HMM and HMM+fertility, by eflomal's own rule: fewer for larger
    corpora (about 5000/sqrt(n) for the last model), since each iteration then sees more evidence."""
    iters = max(2, round(rel_iterations * 5000 / math.sqrt(max(1, n_pairs))))
    quarter = max(1, iters // 4)
    return max(2, quarter), quarter, iters


def align(pairs: Sequence[tuple[Sequence[str], Sequence[str]]], *, n_samplers: int = 1, threads: int = 1,
          rel_iterations: float = 1.0, null_prior: float = 0.2) -> list[list[Link]]:
    """Word alignments ``(english index, target index)`` of every pair, symmetrised.

    eflomal (a Bayesian HMM+fertility aligner, Gibbs-sampled) aligns both directions in one run; the
    two are symmetrised with :func:`grow_diag_final_and`. Alignment is unsupervised over the whole
    input, so align all pairs in one call: a sentence aligned alone has no statistics to go on.
    Tokens are lowercased for the aligner (``LibreOffice`` and ``libreoffice`` are one word; case
    carries no translation evidence) while indices stay those of the original tokens. A pair with an
    empty side or of :data:`EFLOMAL_MAX_TOKENS` tokens or more gets no links.

    The binary is called directly rather than through ``eflomal.Aligner`` so that its thread count
    is set (``OMP_NUM_THREADS``: eflomal runs the two directions and the samplers in parallel, using
    every core by default, which is wrong on a shared machine), its exit status is checked (the
    wrapper ignores it) and its progress lines reach the ``zsner.projection`` log. ``n_samplers``:
    independent samplers whose counts are pooled for the final links; eflomal's command line uses 3
    for slightly better links at 3x the time, 1 is the single-threaded default here.

    Not reproducible run to run: eflomal seeds itself from ``/dev/urandom`` (see the module note).
    """
    pairs = [(list(english), list(target)) for english, target in pairs]
    if not pairs:
        return []
    binary = _eflomal_binary()
    n_iters = iterations(len(pairs), rel_iterations)
    log.info("aligning %d pairs with eflomal (%d sampler(s), %d thread(s), iterations %s)",
             len(pairs), n_samplers, threads, "/".join(map(str, n_iters)))
    with tempfile.TemporaryDirectory(prefix="zsner-align-") as tmp:
        folder = Path(tmp)
        _write_eflomal_text(folder / "en.txt", [english for english, _ in pairs])
        _write_eflomal_text(folder / "tgt.txt", [target for _, target in pairs])
        command = [binary, "-m", "3", "-s", str(folder / "en.txt"), "-t", str(folder / "tgt.txt"),
                   "-n", str(n_samplers), "-N", str(null_prior),
                   "-1", str(n_iters[0]), "-2", str(n_iters[1]), "-3", str(n_iters[2]),
                   "-f", str(folder / "forward"), "-r", str(folder / "reverse")]
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
        with subprocess.Popen(command, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                              text=True, errors="replace") as process:
            assert process.stderr is not None
            tail: list[str] = []
            for line in process.stderr:  # "Aligning with model 2 (28 iterations)", "Done: 3.1 s", ...
                log.info("eflomal: %s", line.rstrip())
                tail = (tail + [line.rstrip()])[-5:]
        if process.returncode != 0:
            raise RuntimeError(f"eflomal failed with status {process.returncode}: {' | '.join(tail)}")
        forward = _read_links(folder / "forward", pairs)
        reverse = _read_links(folder / "reverse", pairs)
    return [grow_diag_final_and(f, r) for f, r in zip(forward, reverse)]


# --- projection ----------------------------------------------------------------------------------


def project(english_tags: Sequence[str], n_target: int,
            links: Iterable[Link]) -> tuple[list[str] | None, str]:
    """Project one sentence's English IOB2 tags onto its target side through word links.

    Each English entity chunk becomes the smallest contiguous target span covering every target
    token aligned to one of its tokens, with the entity's type (``B-`` then ``I-``). Covering the
    span rather than tagging only the aligned tokens repairs alignment gaps inside a name (an
    unaligned preposition in "Banco de España"); it also means one English entity always yields
    exactly one target mention, so the case Li et al. filter (an entity mapped to several target
    mentions, kept only if they are all the same) cannot arise here.

    Returns ``(target tags, "")``, or ``(None, reason)`` when the sentence must be dropped, because
    keeping it would teach the target model a wrong label:

    * ``unaligned_entity``: an entity has no aligned target token. Tagging the rest would leave the
      entity's translation (if any) as ``O``, a false negative in training data.
    * ``overlapping_entities``: two entities' spans share a target token; no IOB2 sequence can hold
      both, and keeping either one is a guess.

    No other case needs a drop: target spans in another order than in English are fine (word order
    differs), and a sentence whose English side has no entity projects to all ``O`` and is kept, as
    the target model needs negative context too. Links outside the sentence lengths are a caller
    bug (tags and links of different pairs) and raise ``ValueError``.
    """
    links = list(links)
    for i, j in links:
        if not (0 <= i < len(english_tags) and 0 <= j < n_target):
            raise ValueError(f"link ({i}, {j}) outside a pair of {len(english_tags)} English "
                             f"and {n_target} target tokens")
    spans: list[tuple[int, int, str]] = []
    for kind, start, end in chunks(english_tags):
        aligned = [j for i, j in links if start <= i <= end]
        if not aligned:
            return None, UNALIGNED_ENTITY
        spans.append((min(aligned), max(aligned), kind))
    spans.sort()
    for (_, previous_end, _), (start, _, _) in zip(spans, spans[1:]):
        if start <= previous_end:
            return None, OVERLAPPING_ENTITIES
    tags = ["O"] * n_target
    for start, end, kind in spans:
        tags[start] = f"B-{kind}"
        for j in range(start + 1, end + 1):
            tags[j] = f"I-{kind}"
    return tags, ""
