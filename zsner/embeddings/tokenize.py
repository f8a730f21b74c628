"""CoNLL-style sentence splitting and tokenisation for the vector corpora.

Why it matters: the tagger looks words up in the vectors exactly as they are written in the CoNLL
files, so the corpus that the vectors are trained on must be cut the same way: punctuation split off
(``Williams ,``), numbers kept whole (``1.000``, ``3,5``), abbreviations with dots kept (``U.S.``),
and in English the Penn-Treebank clitics split (``does n't``, ``John 's``) as in CoNLL-2003, while
Dutch keeps ``zo'n`` and ``foto's`` whole as in CoNLL-2002. Case is kept: NER needs it.
"""
from __future__ import annotations

import re
import unicodedata

_TOKEN = re.compile(
    r"""
    https?://\S+                                # a URL stays one token
    | \d+(?:[.,:/]\d+)+                        # 1.000  3,5  12:30  1/2
    | (?:[^\W\d_]\.){2,}                        # U.S.  e.g.  (letters each followed by a dot)
    | [^\W_]+(?:[-'’][^\W_]+)*                   # words, with inner hyphens / apostrophes
    | '(?:\d+|s|re|ve|ll|d|m|t|n)(?![^\W_])      # 's  '98  (a clitic or year written apart)
    | ([^\w\s])\1+                              # ... -- ==== : a run of one symbol
    | \S                                        # any other symbol, one by one
    """,
    re.VERBOSE,
)

_EN_CLITIC = re.compile(r"(?i)^(.+?)(n't|'s|'re|'ve|'ll|'d|'m)$")

# A full stop after these (lowercased, no dot) does not end a sentence. Short lists on purpose: a
# missed split costs little (one long line), a wrong split breaks a name ("Dr. | Smith").
_ABBREV = {
    "en": "mr mrs ms dr prof st jr sr inc ltd co corp vs etc fig no vol jan feb mar apr jun jul aug sep sept oct nov dec e.g i.e",
    "es": "sr sra srta dr dra ud uds etc pág núm art fig av ej vol",
    "de": "dr prof nr str bzw usw z.b d.h ca vgl ggf evtl inkl abb s",
    "nl": "dr prof nr blz bijv enz dhr mevr mr ca o.a d.w.z m.a.w",
    "fi": "esim ks mm ns jne tms prof tri n",
    "ar": "",
}

_SENT_END = re.compile(r"(?<=[.!?؟…])[\"'»”’)\]]*\s+(?=[\"'«“‘(¿¡\[]*[^\W_])", re.UNICODE)


def normalize_text(text: str) -> str:
    """NFC, unify apostrophes, drop control characters and soft hyphens, squeeze whitespace."""
    text = unicodedata.normalize("NFC", text).replace("’", "'").replace("\u00ad", "")
    text = "".join(ch if ch.isprintable() or ch in "\t\n" else " " for ch in text)
    return re.sub(r"\s+", " ", text).strip()


def split_sentences(text: str, lang: str) -> list[str]:
    """Split a paragraph into sentences at ``. ! ? ؟`` followed by space and a word start."""
    text = normalize_text(text)
    if not text:
        return []
    abbrev = set(_ABBREV.get(lang, "").split())
    out: list[str] = []
    start = 0
    for m in _SENT_END.finditer(text):
        before = text[start : m.start()].rstrip("\"'»”’)]")
        last = before.rsplit(" ", 1)[-1].rstrip(".").lower()
        if before.endswith(".") and (last in abbrev or (len(last) == 1 and last.isalpha())):
            continue  # "Dr. Smith", "J. Smith": not a sentence end
        out.append(text[start : m.end()].strip())  # keeps a closing quote with its sentence
        start = m.end()
    out.append(text[start:].strip())
    return [s for s in out if s]


def tokenize(sentence: str, lang: str) -> list[str]:
    """Tokens of one sentence, cut as in the CoNLL files of ``lang``."""
    tokens = [m.group(0) for m in _TOKEN.finditer(normalize_text(sentence))]
    abbrev = set(_ABBREV.get(lang, "").split())
    if abbrev:  # "Dr ." -> "Dr." as in the CoNLL files
        merged: list[str] = []
        for t in tokens:
            if t == "." and merged and merged[-1].lower() in abbrev:
                merged[-1] += "."
            else:
                merged.append(t)
        tokens = merged
    if lang == "en":
        split: list[str] = []
        for t in tokens:
            m = _EN_CLITIC.match(t)
            if m and "'" in t and not t.startswith("'"):
                split.extend(m.groups())
            else:
                split.append(t)
        tokens = split
    return tokens
