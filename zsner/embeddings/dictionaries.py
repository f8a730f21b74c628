"""Bilingual evaluation dictionaries in MUSE format, built from Debian's FreeDict packages.

Why: the mapping's quality is measured by word-translation precision@k on held-out pairs (MUSE,
Conneau et al. 2018); MUSE's own dictionaries cannot be downloaded here, FreeDict's dictd files can
(``apt-get install dict-freedict-eng-spa ...``). A dictd database is ``NAME.index`` (``headword TAB
offset TAB length``, numbers in dictd's base64) plus ``NAME.dict.dz`` (gzip-compatible). Each entry
is the headword line (``word /IPA/ <pos>``), then translations: numbered senses (``1. a, b``) or one
line of comma-separated alternatives; examples, notes, ``see:`` links and, in the eng-fin/fin-eng
files, a gloss line after each translation follow and are skipped.

Output: ``src tgt`` per line, UTF-8, lowercased single words (as MUSE), one line per pair, sorted by
source word. Split: MUSE names its files ``src-tgt.0-5000.txt`` (train) and ``.5000-6500.txt``
(test) by the frequency rank of source words; we split by *source word* (all translations of a word
fall on the same side, so test words are never seen in training), ranking source words by vector
frequency when a vocabulary is given, and write ``src-tgt.train.txt`` / ``src-tgt.test.txt``.
"""
from __future__ import annotations

import gzip
import os
import random
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from zsner.embeddings.vectors import _readable
from zsner.errors import ZsnerError

DICTD_DIR = Path("/usr/share/dictd")
ISO3 = {"en": "eng", "es": "spa", "nl": "nld", "de": "deu", "fi": "fin", "ar": "ara"}
PAIRS = ("en-es", "es-en", "en-nl", "nl-en", "en-de", "de-en", "ar-en", "en-ar", "fi-en", "en-fi")
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_VALUE = {c: i for i, c in enumerate(_B64)}
_WORD = re.compile(r"^[^\W\d_]+(?:[-'][^\W\d_]+)*$")
_ARABIC_LETTER = re.compile("[\u0620-\u064a]")
_ARABIC_DIACRITICS = re.compile("[\u064b-\u065f\u0670\u0640]")  # harakat, shadda, tatweel


def dictd_number(text: str, path: Path, line: int) -> int:
    """Decode dictd's base64 offsets/lengths (``'gB'`` -> 129)."""
    n = 0
    for c in text:
        if c not in _B64_VALUE:
            raise ZsnerError(f"bad dictd number {text!r}", path, line)
        n = n * 64 + _B64_VALUE[c]
    return n


def freedict_paths(src: str, tgt: str, directory: Path = DICTD_DIR) -> tuple[Path, Path]:
    """``(index, dict.dz)`` of the FreeDict src->tgt database (ISO 639-1 codes as in zsner)."""
    try:
        name = f"freedict-{ISO3[src]}-{ISO3[tgt]}"
    except KeyError as e:
        raise ZsnerError(f"no FreeDict code for language {e.args[0]!r}; known: {', '.join(ISO3)}") from None
    return directory / f"{name}.index", directory / f"{name}.dict.dz"


def read_dictd(index: Path, data: Path) -> Iterator[tuple[str, str]]:
    """``(headword, entry text)`` for every entry of a dictd database (the 00-database-* ones skipped)."""
    for p in (index, data):
        if not p.is_file():
            raise ZsnerError("dictionary file not found (apt-get install dict-freedict-...)", p)
    raw = gzip.decompress(data.read_bytes()) if data.suffix == ".dz" else data.read_bytes()
    with open(index, encoding="utf-8", errors="strict") as f:
        try:
            for lineno, line in enumerate(f, 1):
                parts = line.rstrip("\n").split("\t")
                if len(parts) < 3:
                    raise ZsnerError("expected 'headword<TAB>offset<TAB>length'", index, lineno)
                head = parts[0]
                if head.startswith("00database") or head.startswith("00-database"):
                    continue
                off, length = dictd_number(parts[1], index, lineno), dictd_number(parts[2], index, lineno)
                if off + length > len(raw):
                    raise ZsnerError(f"entry runs past the end of {data.name}", index, lineno)
                yield head, raw[off : off + length].decode("utf-8", errors="replace")
        except UnicodeDecodeError as e:
            raise ZsnerError(f"not valid UTF-8 ({e.reason})", index) from None


def headword_of(first_line: str) -> str:
    """``'house /hˈaʊs/ <n>'`` -> ``'house'`` (pronunciation and part of speech removed)."""
    return re.split(r"\s+[/<\[]", first_line.strip(), maxsplit=1)[0].strip()


def translations_of(entry: str) -> list[str]:
    """The translation strings of one entry text (phrases, not yet filtered to single words)."""
    lines = [ln for ln in entry.split("\n")[1:]]
    numbered = [re.sub(r"^\s*\d+\.\s*", "", ln) for ln in lines if re.match(r"^\s*\d+\.\s", ln)]
    if numbered:
        chosen = numbered
    else:
        first = next((ln for ln in lines if ln.strip()), "")
        if re.match(r"^\s*(see:|Synonyms?:|Note:|\")", first.strip()):
            first = ""
        chosen = [first]
    out: list[str] = []
    for ln in chosen:
        ln = re.sub(r"<[^>]*>|\[[^\]]*\]|\([^)]*\)|\{[^}]*\}", " ", ln)
        out.extend(t.strip() for t in re.split(r"[,;،؛]", ln))
    return [t for t in out if t]


def clean_word(word: str, lang: str) -> str | None:
    """Lowercased single word, or None for phrases, numbers and symbols (MUSE pairs are single words).

    Arabic: the vectors' text (AQMAR Wikipedia) is mostly written without short vowels, while FreeDict
    vocalises many words; diacritics and tatweel are removed so the two can meet.
    """
    w = word.strip().lower()
    if lang == "ar":
        w = _ARABIC_DIACRITICS.sub("", w)
    if (lang == "ar") != bool(_ARABIC_LETTER.search(w)):
        return None  # Latin headwords in ara-eng (e.g. 'mackintosh'), Arabic script elsewhere
    return w if _WORD.match(w) else None


def parse_freedict(src: str, tgt: str, directory: Path = DICTD_DIR) -> list[tuple[str, str]]:
    """All single-word ``(src, tgt)`` pairs of FreeDict's src->tgt database, without duplicates."""
    index, data = freedict_paths(src, tgt, directory)
    pairs: dict[tuple[str, str], None] = {}
    for _head, entry in read_dictd(index, data):
        s = clean_word(headword_of(entry.split("\n", 1)[0]), src)
        if s is None:
            continue
        for t in translations_of(entry):
            tw = clean_word(t, tgt)
            if tw is not None:
                pairs[(s, tw)] = None
    return list(pairs)


def dictionary_pairs(src: str, tgt: str, directory: Path = DICTD_DIR) -> list[tuple[str, str]]:
    """Pairs for src-tgt from both FreeDict directions that exist (the reverse one flipped).

    FreeDict's two directions are separate, differently sized works (eng-spa 5.9k headwords, spa-eng
    much larger); their union gives more evaluation words than either.
    """
    pairs: dict[tuple[str, str], None] = {}
    found = False
    for a, b, flip in ((src, tgt, False), (tgt, src, True)):
        index, data = freedict_paths(a, b, directory)
        if index.is_file() and data.is_file():
            found = True
            for s, t in parse_freedict(a, b, directory):
                pairs[(t, s) if flip else (s, t)] = None
    if not found:
        raise ZsnerError(
            f"no FreeDict database for {src}-{tgt} in {directory} "
            f"(apt-get install dict-freedict-{ISO3.get(src, src)}-{ISO3.get(tgt, tgt)})"
        )
    return sorted(pairs)


def filter_to_vocab(pairs: Iterable[tuple[str, str]], src_vocab: set[str], tgt_vocab: set[str]) -> list[tuple[str, str]]:
    """Pairs whose two words both have vectors: others cannot be evaluated, only counted as misses."""
    return [(s, t) for s, t in pairs if s in src_vocab and t in tgt_vocab]


def split_pairs(
    pairs: Sequence[tuple[str, str]], n_test: int = 1500, rank: dict[str, int] | None = None, seed: int = 0
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Split by source word: ``n_test`` source words (all their pairs) for test, the rest for train.

    With ``rank`` (word -> frequency rank in the source vectors), test words are drawn from the
    more frequent half, as MUSE's test words are frequent words; otherwise uniformly (seeded).
    """
    words = sorted({s for s, _ in pairs})
    rng = random.Random(seed)
    if rank is not None:
        words.sort(key=lambda w: rank.get(w, len(rank)))
        pool = words[: max(n_test, len(words) // 2)]
    else:
        pool = words
    test_words = set(rng.sample(pool, min(n_test, len(pool) // 2 if len(pool) < 2 * n_test else n_test)))
    test = [p for p in pairs if p[0] in test_words]
    train = [p for p in pairs if p[0] not in test_words]
    return train, test


def write_pairs(pairs: Iterable[tuple[str, str]], path: Path) -> int:
    """Write MUSE ``src tgt`` lines atomically; returns the number written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    _readable(fd)
    n = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            for s, t in pairs:
                f.write(f"{s} {t}\n")
                n += 1
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return n


def read_pairs(path: str | Path, lowercase: bool = False) -> list[tuple[str, str]]:
    """All ``(source, target)`` pairs of a MUSE-format file (``src tgt`` per line); a malformed line
    is a ZsnerError naming the file and line. Blank lines are skipped."""
    path = Path(path)
    if not path.is_file():
        raise ZsnerError("no such dictionary file", path)
    pairs: list[tuple[str, str]] = []
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise ZsnerError(f"line is not valid UTF-8 ({e.reason} at byte {e.start})", path, lineno) from None
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 2:
                raise ZsnerError(f"expected 'source target' (2 fields), found {len(fields)}: "
                                 f"{line.strip()[:60]!r}", path, lineno)
            if lowercase:
                fields = [w.lower() for w in fields]
            pairs.append((fields[0], fields[1]))
    return pairs


def build_dictionary(
    pair: str,
    out_dir: str | Path = "data/dictionaries",
    directory: Path = DICTD_DIR,
    src_vocab: set[str] | None = None,
    tgt_vocab: set[str] | None = None,
    rank: dict[str, int] | None = None,
    n_test: int = 1500,
    echo=print,
) -> dict[str, int]:
    """Write ``{src}-{tgt}.txt`` (all pairs) and its ``.train.txt`` / ``.test.txt`` split."""
    try:
        src, tgt = pair.split("-")
    except ValueError:
        raise ZsnerError(f"language pair {pair!r} must look like 'en-es'") from None
    pairs = dictionary_pairs(src, tgt, Path(directory))
    counts = {"freedict": len(pairs)}
    if src_vocab is not None and tgt_vocab is not None:
        pairs = filter_to_vocab(pairs, src_vocab, tgt_vocab)
        counts["in_vocab"] = len(pairs)
    out = Path(out_dir)
    train, test = split_pairs(pairs, n_test=n_test, rank=rank)
    counts["all"] = write_pairs(pairs, out / f"{pair}.txt")
    counts["train"] = write_pairs(train, out / f"{pair}.train.txt")
    counts["test"] = write_pairs(test, out / f"{pair}.test.txt")
    echo(f"dictionary {pair}: " + ", ".join(f"{k} {v}" for k, v in counts.items()) + f" -> {out}/{pair}.txt")
    return counts
