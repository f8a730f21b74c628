"""English-target parallel text for the label-projection stages (Li et al. 2021's entity alignment).

Projection needs sentence pairs whose English side an English tagger can label and whose target
side carries the same entities; this module turns the parallel text installed on the machine into
``english tokens<TAB>target tokens`` lines, one pair per help paragraph or Bible verse. Both sides are
cut with the corpus tokenizer (:func:`zsner.embeddings.tokenize.tokenize`), so the target tokens are
the ones the CoNLL files and the word vectors use, and a projected label lands on a token the tagger
knows.

Two sources, both offline Debian packages (read with the parsers of :mod:`zsner.embeddings.sources`):

* the LibreOffice help: every translated page has the same relative path as its en-US original, and
  every paragraph keeps the element id of the original (``<p id="par_id3147251">``), so pairing by
  (page, id) is exact; no sentence aligner, no guessing.
* SWORD Bibles (en-es only): verses share their book/chapter/verse reference.

Why pairs are dropped, each counted in the report: the help falls back to the English string where a
translation is missing, which would teach projection that English is the target language
(``untranslated``); an id on one side only or without text cannot be paired (``no_counterpart``,
``empty``); elements without text in either language are containers or images (``no_text``); text
outside any element with an id has no key (``no_id``); repeated pairs (menu labels
repeated on hundreds of pages) would weigh boilerplate over prose (``duplicate``); very long
"paragraphs" are tables or lists joined together, slow and unreliable to align (``too_long``).
"""
from __future__ import annotations

import functools
import html
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import click

from zsner.embeddings import sources
from zsner.embeddings.sources import (LO_DIRS, SWORD_MODULES, SWORD_PACKAGES, _HelpText, _missing_libreoffice,
                                      _missing_sword)
from zsner.embeddings.tokenize import normalize_text, tokenize
from zsner.errors import ZsnerError
from zsner.utils import atomic_write

PARALLEL_SOURCES = ("libreoffice", "bible")
DEFAULT_MAX_TOKENS = 100
LO_LANGS = tuple(lang for lang in LO_DIRS if lang != "en")
BIBLE_LANGS = tuple(lang for lang in SWORD_MODULES if lang != "en")


# --- LibreOffice help: paragraphs keyed by element id ---------------------------------------------


#: an element's key on its page: its id and which element with that id it is (ids repeat where a
#: page embeds the same section several times)
Key = tuple[str, int]


class _KeyedHelpText(_HelpText):
    """:class:`~zsner.embeddings.sources._HelpText` that also records the key of each text.

    The text of a block belongs to the innermost enclosing block element that has an id (a ``<p>`` in
    a ``<td>``, a ``<li>`` in a ``<p>`` without its own id), so the same key names the same text in
    every language. ``keys`` lists every keyed block, with or without text, so that a block whose
    text is empty on one side is told apart from a block that side does not have. Text outside any
    keyed block (the page's <title>, "Related Topics" links to other pages' titles, debug notes) is
    kept under ``None``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.texts: dict[Key | None, list[str]] = {}
        self.keys: list[Key] = []  # document order
        self._seen: Counter = Counter()
        self._open: list[Key | None] = []  # parallel to self._stack: the key of each open element
        self._key: Key | None = None

    def _current(self) -> Key | None:
        return self._open[-1] if self._open else None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._key = self._current()  # text flushed here belongs to the enclosing element
        depth = len(self._stack)
        super().handle_starttag(tag, attrs)
        if len(self._stack) > depth:  # void elements and anchors are not pushed
            own = dict(attrs).get("id") if tag in self.BLOCKS and not self._stack[-1][1] else None
            key = self._key
            if own:
                key = (own, self._seen[own])
                self._seen[own] += 1
                self.keys.append(key)
            self._open.append(key)

    def handle_endtag(self, tag: str) -> None:
        self._key = self._current()  # text flushed here belongs to the innermost open element
        super().handle_endtag(tag)
        del self._open[len(self._stack):]

    def _flush(self) -> None:
        n = len(self.paragraphs)
        super()._flush()
        if len(self.paragraphs) > n:
            self.texts.setdefault(self._key, []).append(self.paragraphs[-1])


def help_page(path: Path) -> tuple[dict[Key | None, str], list[Key]]:
    """The text of one help page by element key (``None``: text outside any block with an id, one
    entry per stretch of text, joined by newlines), and all keys of the page in document order.

    The texts of one element that nested blocks without an id cut apart are joined with a space.
    """
    parser = _KeyedHelpText()
    parser.feed(path.read_text("utf-8", errors="replace"))
    parser.close()
    texts = {key: (" " if key else "\n").join(parts) for key, parts in parser.texts.items()}
    return texts, parser.keys


def help_pages() -> list[str]:
    """Relative paths of all en-US help pages, sorted (the order of the output file)."""
    root = sources.LO_HELP / LO_DIRS["en"]
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.html"))


def libreoffice_pairs(lang: str, pages: Iterable[str] | None = None,
                      drops: Counter | None = None) -> Iterator[tuple[str, str]]:
    """(English, ``lang``) paragraph pairs of the LibreOffice help, paired by (page path, element id).

    ``pages``: relative paths under en-US (default: all, see :func:`help_pages`); pass a
    progress-bar-wrapped iterable to see progress. ``drops`` counts the pairs not yielded, by reason
    (see the module docstring); duplicates are left to :func:`build_parallel`, which drops them on
    their tokens. Texts are whitespace-squeezed but not tokenised.
    """
    _check_libreoffice(lang)
    drops = Counter() if drops is None else drops
    en_root, tgt_root = sources.LO_HELP / LO_DIRS["en"], sources.LO_HELP / LO_DIRS[lang]
    for rel in help_pages() if pages is None else pages:
        en_path = en_root / rel
        if not en_path.is_file():
            raise ZsnerError("no such English help page", en_path)
        english, en_keys = help_page(en_path)
        tgt_path = tgt_root / rel
        target, tgt_keys = help_page(tgt_path) if tgt_path.is_file() else ({}, [])
        if None in english:
            drops["no_id"] += english[None].count("\n") + 1
        in_en, in_tgt = set(en_keys), set(tgt_keys)
        for key in en_keys + [k for k in tgt_keys if k not in in_en]:
            en, tgt = english.get(key, ""), target.get(key, "")
            if key not in in_en or key not in in_tgt:
                drops["no_counterpart"] += 1
                continue
            en_norm, tgt_norm = normalize_text(en), normalize_text(tgt)
            if not en_norm and not tgt_norm:
                drops["no_text"] += 1  # a container (a <td> around <p>s) or an image: not a pair of texts
            elif not en_norm or not tgt_norm:
                drops["empty"] += 1
            elif en_norm == tgt_norm:
                drops["untranslated"] += 1
            else:
                yield en, tgt


def _require(source: str, lang: str, langs: Sequence[str], missing) -> None:
    """One-line errors for a language ``source`` does not have or an uninstalled side (``missing(lang)``)."""
    if lang not in langs:
        raise ZsnerError(f"{source} has no {lang!r} text here; it has: {', '.join(langs)}")
    for side in ("en", lang):
        why = missing(side)
        if why:
            raise ZsnerError(f"{source}: {why}")


def _check_libreoffice(lang: str) -> None:
    _require("LibreOffice help", lang, LO_LANGS, _missing_libreoffice)


# --- SWORD Bibles: verses keyed by reference ------------------------------------------------------

_NOTE = re.compile(r"<note\b.*?</note>", re.S | re.I)
# Section headings (not canonical) are the editors', and the Spanish module has none; canonical
# titles (psalm superscriptions) are scripture, which the Spanish module has as part of verse 1.
_HEADING = re.compile(r"<title\b(?![^>]*canonical=\"true\")[^>]*>.*?</title>", re.S | re.I)
_DROP = re.compile(r"<(milestone|catchWord|index|rdg|rdgGroup|figure)\b[^>]*?(/>|>.*?</\1>)", re.S | re.I)
_EMPTY_TAG = re.compile(r"<[^<>]*/>")
_TAG = re.compile(r"<[^<>]*>")
# RV1909 marks the translators' added words (<transChange>) without a space before or after them
# ("Y FUÉ</w><transChange>que</transChange>" -> "FUÉque") in ~400 verses; most are two words, but a
# verb with an enclitic pronoun is one ("sabiéndo</w><transChange>lo"): an infinitive or a verb form
# written with an accent followed by lo/la/le/nos/os/se/me/te stays one word.
_ADDED = re.compile(r"([^\W\d_]+)(</(?:w|transChange)>)(<(?:w|transChange)\b[^>]*>)(?=([^\W\d_]+))")
_ENCLITIC = {"lo", "la", "los", "las", "le", "les", "nos", "os", "se", "me", "te"}


def _space_added(m: re.Match[str]) -> str:
    before, after = m.group(1), m.group(4).lower()
    verb = before.endswith(("r", "R")) or any(c in "áéíóúÁÉÍÓÚ" for c in before)
    glue = after in _ENCLITIC and verb
    return m.group(1) + m.group(2) + ("" if glue else " ") + m.group(3)


def osis_text(raw: str) -> str:
    """Plain text of one OSIS verse.

    Not pysword's own cleaner: it deletes a footnote without leaving a space, which glues the words
    around it ("God<note>..</note>created" -> "Godcreated", in many WEB verses), and it deletes the
    psalm superscriptions of the English modules that the Spanish one keeps in verse 1.
    """
    text = _DROP.sub(" ", _HEADING.sub(" ", _NOTE.sub(" ", raw)))
    text = _ADDED.sub(_space_added, text)
    text = _TAG.sub("", _EMPTY_TAG.sub(" ", text))  # milestones (<l eID=../>) separate, inline tags do not
    return " ".join(html.unescape(text).split())


_WORD = re.compile(r"[^\W\d_]+")


def unshout(text: str) -> str:
    """Lower the drop capitals of a chapter's first verse: RV1909 writes its first word or two in
    capitals ("EN el principio", "¡OH Jehová", "DE SIETE años era Joas"), a typesetting habit that
    would give the tagger all-caps tokens the CoNLL text never has. The first all-caps word (two
    letters or more) and the all-caps words right after it are lowered, the first one capitalised at a
    sentence start; a verse that is all capitals (an inscription) is left alone."""
    words = list(_WORD.finditer(text))
    start = next((i for i, w in enumerate(words) if len(w.group()) > 1 and w.group().isupper()), None)
    if start is None:
        return text
    end = start + 1
    while end < len(words) and words[end].group().isupper() and text[words[end - 1].end():words[end].start()] == " ":
        end += 1
    if not any(c.islower() for c in text[words[end - 1].end():]):
        return text
    before = text[:words[start].start()].rstrip(" ¡¿\"'«(")
    out = [text[:words[start].start()]]
    for i in range(start, end):
        w = words[i].group()
        out.append(w.capitalize() if i == start and (not before or before[-1] in ".:!?") else w.lower())
        out.append(text[words[i].end():words[i + 1].start() if i + 1 < end else words[i].end()])
    out.append(text[words[end - 1].end():])
    return "".join(out)


def _open_bible(name: str):
    """A pysword Bible for module ``name``; ZsnerError naming the package when it is not installed."""
    from pysword.modules import SwordModules

    modules = SwordModules(str(sources.SWORD_DIR))
    if name not in modules.parse_modules():
        raise ZsnerError(f"SWORD module {name} not found under {sources.SWORD_DIR} "
                         f"(apt-get install {SWORD_PACKAGES.get(name, 'the sword-text package')})")
    bible = modules.get_bible_from_module(name)
    # pysword decompresses a whole compressed block again for every verse it reads: ~90 s for WEB and
    # RV1909 instead of ~2 s. A small cache on that private method; without it (another pysword
    # version) the build is only slower.
    if hasattr(bible, "_decompressed_text"):
        bible._decompressed_text = functools.lru_cache(maxsize=8)(bible._decompressed_text)
    return bible


def _verses(bible, book) -> Iterator[tuple[tuple[str, int, int], str]]:
    for chapter, n_verses in enumerate(book.chapter_lengths, 1):
        for verse in range(1, n_verses + 1):
            raw = bible.get(books=book.osis_name, chapters=chapter, verses=verse, clean=False)
            yield (book.osis_name, chapter, verse), osis_text(raw)


def _books(bible) -> dict[str, object]:
    return {b.osis_name: b for books in bible.get_structure().get_books().values() for b in books}


def bible_books(lang: str, english: str | None = None) -> list[str]:
    """OSIS names (``Gen`` .. ``Rev``) of the books of either Bible: the English ones in canonical
    order, then any that only the ``lang`` one has."""
    en_name, tgt_name = _bible_modules(lang, english)
    en = list(_books(_open_bible(en_name)))
    return en + [name for name in _books(_open_bible(tgt_name)) if name not in en]


def _bible_modules(lang: str, english: str | None) -> tuple[str, str]:
    """The (English, target) module names, after checking that ``lang`` has a Bible and both are here."""
    _require("SWORD Bible", lang, BIBLE_LANGS, _missing_sword)
    if english is None:  # the first installed of the preferred English modules (WEB: modern English)
        ztext = sources.SWORD_DIR / "modules/texts/ztext"
        installed = [m for m in SWORD_MODULES["en"] if (ztext / m.lower()).is_dir() or (ztext / m).is_dir()]
        english = (installed or list(SWORD_MODULES["en"]))[0]
    return english, SWORD_MODULES[lang][0]


def bible_pairs(lang: str, books: Iterable[str] | None = None, drops: Counter | None = None,
                english: str | None = None) -> Iterator[tuple[str, str]]:
    """(English, ``lang``) verse pairs with the same book/chapter/verse reference.

    ``english``: the English module (default engWEB2015eb, else engKJV2006eb). ``books``: OSIS book
    names (default: all, :func:`bible_books`); pass a progress-bar-wrapped iterable to see progress.
    WEB uses NRSVA versification and RV1909 KJV's: books and verses that one has and the other lacks
    (the deuterocanon of WEB) count as ``no_counterpart``, verses without text as ``empty``.
    """
    en_name, tgt_name = _bible_modules(lang, english)
    en_bible, tgt_bible = _open_bible(en_name), _open_bible(tgt_name)
    en_books, tgt_books = _books(en_bible), _books(tgt_bible)
    drops = Counter() if drops is None else drops
    for name in bible_books(lang, en_name) if books is None else books:
        if name not in en_books and name not in tgt_books:
            raise ZsnerError(f"no Bible book {name!r}; books are OSIS names such as Gen, Ps, Matt")
        if name not in en_books or name not in tgt_books:
            drops["no_counterpart"] += sum((en_books.get(name) or tgt_books[name]).chapter_lengths)
            continue
        target = dict(_verses(tgt_bible, tgt_books[name]))
        for ref, en in _verses(en_bible, en_books[name]):
            tgt = target.pop(ref, None)
            if tgt is None:
                drops["no_counterpart"] += 1
            elif not en or not tgt:
                drops["empty"] += 1
            else:
                yield en, unshout(tgt) if ref[2] == 1 and lang == "es" else tgt
        drops["no_counterpart"] += len(target)


# --- the TSV file ---------------------------------------------------------------------------------


def _write_shared(path: Path, write) -> None:
    """:func:`zsner.utils.atomic_write`, with the usual permissions instead of mkstemp's 0600: these
    files are data for the other stages (and other users), like the corpora."""
    def write_readable(tmp: Path) -> None:
        write(tmp)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)

    atomic_write(path, write_readable)


def default_out(lang: str, source: str) -> Path:
    return Path("data/parallel") / f"en-{lang}.{source}.tsv"


def build_parallel(lang: str, source: str = "libreoffice", out_path: str | Path | None = None,
                   max_tokens: int = DEFAULT_MAX_TOKENS, limit: int = 0,
                   only: Sequence[str] | None = None) -> dict:
    """Write ``out_path`` (UTF-8, ``english tokens<TAB>target tokens`` a line) and ``out_path.report.json``.

    ``limit``: stop after this many pairs (0: all). ``only``: help pages (paths under en-US) or Bible
    books (OSIS names) to read instead of all, for quick runs. Pairs are de-duplicated on their tokens
    and dropped when a side has no token or more than ``max_tokens``. The TSV is written atomically
    (an interrupted run leaves the previous file). Progress goes to stderr. Returns the report.
    """
    if source not in PARALLEL_SOURCES:
        raise ZsnerError(f"unknown parallel source {source!r}; known: {', '.join(PARALLEL_SOURCES)}")
    if max_tokens < 1 or limit < 0:
        raise ZsnerError(f"--max-tokens must be at least 1 and --limit at least 0 (got {max_tokens}, {limit})")
    out = Path(out_path) if out_path is not None else default_out(lang, source)
    drops: Counter = Counter()
    t0 = time.time()
    if source == "libreoffice":
        _check_libreoffice(lang)
        units, what = (list(only) if only else help_pages()), "pages"
        pairs_of = functools.partial(libreoffice_pairs, lang, drops=drops)
    else:
        _bible_modules(lang, None)
        units, what = (list(only) if only else bible_books(lang)), "books"
        pairs_of = functools.partial(bible_pairs, lang, drops=drops)
    n_pairs, tokens = 0, Counter()
    seen: set[str] = set()

    def write(tmp: Path) -> None:
        nonlocal n_pairs
        with open(tmp, "w", encoding="utf-8", newline="\n") as f, click.progressbar(
                units, label=f"parallel en-{lang} {source}: {len(units)} {what}", file=sys.stderr,
                show_pos=True) as bar:
            for en, tgt in pairs_of(bar):
                en_tok, tgt_tok = tokenize(en, "en"), tokenize(tgt, lang)
                if not en_tok or not tgt_tok:
                    drops["empty"] += 1
                    continue
                if len(en_tok) > max_tokens or len(tgt_tok) > max_tokens:
                    drops["too_long"] += 1
                    continue
                line = " ".join(en_tok) + "\t" + " ".join(tgt_tok)
                if line in seen:
                    drops["duplicate"] += 1
                    continue
                seen.add(line)
                f.write(line + "\n")
                n_pairs += 1
                tokens["en"] += len(en_tok)
                tokens[lang] += len(tgt_tok)
                if limit and n_pairs >= limit:
                    break

    _write_shared(out, write)
    report = {
        "source": source,
        "pair": f"en-{lang}",
        "lang": lang,
        "out": str(out),
        "pairs": n_pairs,
        "dropped": dict(sorted(drops.items())),
        "tokens": {"en": tokens["en"], lang: tokens[lang]},
        "max_tokens": max_tokens,
        "limit": limit,
        "only": list(only) if only else None,
        "seconds": round(time.time() - t0, 1),
    }
    if source == "bible":
        report["modules"] = list(_bible_modules(lang, None))
    text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    _write_shared(Path(f"{out}.report.json"), lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return report


def summary_line(report: dict) -> str:
    """One line for the terminal: pairs written, drops by reason, where."""
    drops = ", ".join(f"{k} {v}" for k, v in report["dropped"].items() if v) or "none"
    return (f"parallel {report['pair']} {report['source']}: {report['pairs']} pairs "
            f"({report['tokens']['en']} en / {report['tokens'][report['lang']]} {report['lang']} tokens), "
            f"dropped: {drops}; {report['seconds']}s -> {report['out']}")
