"""Parallel text for projection, on the real installed LibreOffice help and SWORD Bibles (skipped where
a source is not installed). Each test reads a few pages or books, so the file runs in seconds."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from zsner.embeddings import sources
from zsner.embeddings.parallel import (bible_pairs, build_parallel, help_page, libreoffice_pairs, osis_text,
                                       unshout)
from zsner.embeddings.tokenize import tokenize
from zsner.errors import ZsnerError

ANCHOR = "text/swriter/guide/anchor_object.html"  # a fully translated page
IDE = "text/sbasic/python/python_ide.html"  # a page with paragraphs left in English in es
UNITTEST = "text/sbasic/shared/03/sf_unittest.html"  # "Syntax:" 27 times: duplicates
PAGES = [ANCHOR, IDE, UNITTEST]


@pytest.fixture
def help_es():
    for lang in ("en", "es"):
        why = sources._missing_libreoffice(lang)
        if why:
            pytest.skip(why)
    for page in PAGES:
        if not (sources.LO_HELP / "es" / page).is_file():
            pytest.skip(f"help page {page} not in this LibreOffice version")


@pytest.fixture
def bible_es():
    for lang in ("en", "es"):
        why = sources._missing_sword(lang)
        if why:
            pytest.skip(why)


def _read_tsv(path: Path) -> list[tuple[str, str]]:
    lines = path.read_text("utf-8").split("\n")
    assert lines[-1] == "", "the file ends with a newline"
    return [tuple(line.split("\t")) for line in lines[:-1]]


def test_help_paragraphs_pair_by_element_id(help_es):
    pairs = list(libreoffice_pairs("es", [ANCHOR]))
    by_en = {en: es for en, es in pairs}
    first = [es for en, es in pairs if en.startswith("An object, such as an image")]
    assert first and first[0].startswith("Un objeto, tal como una imagen"), pairs[:3]
    # the same id on the next paragraphs, in a table cell too: each English text has its own translation
    assert by_en["An anchor determines the reference point for an object."
                 " The reference point could be the page or frame where the object is, a paragraph,"
                 " or even a character. An object always has an anchor."].startswith("Un ancla determina")
    assert by_en["Anchoring"] == "Anclaje"
    # the pairs follow the page, and every keyed text of both pages is accounted for
    english, keys = help_page(sources.LO_HELP / "en-US" / ANCHOR)
    assert [en for en, _ in pairs] == [english[k] for k in keys if english.get(k) in by_en]


def test_untranslated_paragraphs_are_dropped_and_counted(help_es):
    drops: Counter = Counter()
    pairs = list(libreoffice_pairs("es", [IDE], drops))
    english, _ = help_page(sources.LO_HELP / "en-US" / IDE)
    target, _ = help_page(sources.LO_HELP / "es" / IDE)
    untranslated = [k for k in english if k and english[k] == target.get(k)]
    assert untranslated, "this page had English paragraphs in the es help"
    assert drops["untranslated"] == len(untranslated)
    assert all(en != es for en, es in pairs)
    assert not {english[k] for k in untranslated} & {en for en, _ in pairs}
    assert pairs, "the page's translated paragraphs are kept"


def test_tsv_round_trips_with_the_tokenizer(help_es, tmp_path):
    out = tmp_path / "en-es.tsv"
    report = build_parallel("es", "libreoffice", out, only=PAGES)
    rows = _read_tsv(out)
    assert all(line.count("\t") == 1 for line in out.read_text("utf-8").splitlines())
    assert all(en and es for en, es in rows)
    # each line is the tokenizer's output for one raw pair, in order, duplicates removed
    expected, seen = [], set()
    for en, es in libreoffice_pairs("es", PAGES):
        row = (" ".join(tokenize(en, "en")), " ".join(tokenize(es, "es")))
        if row not in seen:
            seen.add(row)
            expected.append(row)
    assert rows == expected
    assert report["pairs"] == len(rows)
    assert report["dropped"]["duplicate"] >= 26  # "Syntax:" on sf_unittest, 27 times
    assert report["dropped"]["untranslated"] > 0
    assert report["tokens"] == {"en": sum(len(en.split()) for en, _ in rows),
                                "es": sum(len(es.split()) for _, es in rows)}
    assert json.loads(Path(f"{out}.report.json").read_text("utf-8")) == report


def test_too_long_pairs_are_dropped(help_es, tmp_path):
    out = tmp_path / "short.tsv"
    report = build_parallel("es", "libreoffice", out, only=PAGES, max_tokens=8)
    rows = _read_tsv(out)
    assert report["dropped"]["too_long"] > 0
    assert rows and all(len(en.split()) <= 8 and len(es.split()) <= 8 for en, es in rows)
    build_parallel("es", "libreoffice", tmp_path / "full.tsv", only=PAGES)
    full = _read_tsv(tmp_path / "full.tsv")
    assert rows == [(en, es) for en, es in full if len(en.split()) <= 8 and len(es.split()) <= 8]
    # counted before de-duplication: a long pair repeated is counted each time
    assert report["dropped"]["too_long"] >= len(full) - len(rows) > 0


def test_cli_limit(help_es, tmp_path):
    from zsner.cli import cli

    out = tmp_path / "cli.tsv"
    result = CliRunner().invoke(cli, ["corpus", "parallel", "es", "--limit", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = _read_tsv(out)
    assert len(rows) == 3
    assert "3 pairs" in result.stdout and str(out) in result.stdout
    assert json.loads(Path(f"{out}.report.json").read_text("utf-8"))["limit"] == 3


def test_bible_verses_pair_by_reference(bible_es):
    drops: Counter = Counter()
    pairs = list(bible_pairs("es", ["Gen", "John"], drops))
    assert pairs[0][0].startswith("In the beginning, God created the heavens and the earth")
    assert pairs[0][1] == "En el principio crió Dios los cielos y la tierra."  # drop capitals lowered
    john = [(en, es) for en, es in pairs if en.startswith("For God so loved the world")]
    assert len(john) == 1 and "de tal manera amó Dios al mundo" in john[0][1]
    assert drops["no_counterpart"] == 0
    assert len(pairs) == 1533 + 879 - drops["empty"]  # verses of Genesis and John, all paired


def test_osis_text_keeps_words_apart(bible_es):
    # a footnote between two words, and RV1909's added words written without spaces
    assert osis_text('<w>God</w><note placement="foot">The Hebrew word</note><w>created</w> the') == "God created the"
    assert osis_text('<w>Y FUÉ</w><transChange type="added">que</transChange><w>á los</w>') == "Y FUÉ que á los"
    assert osis_text('<w>sabiéndo</w><transChange type="added">lo</transChange> él') == "sabiéndolo él"
    assert unshout("DE SIETE años era Joas") == "De siete años era Joas"
    assert unshout("Salmo de David. YO DIJE: Atenderé") == "Salmo de David. Yo dije: Atenderé"
    assert unshout("JESUS NAZARENO REY") == "JESUS NAZARENO REY"


@pytest.mark.parametrize("lang, source, named", [
    ("nl", "bible", "es"),              # the Bible source has Spanish only
    ("ar", "libreoffice", "es, de, nl, fi"),
    ("es", "wikipedia", "libreoffice, bible"),
])
def test_unknown_language_or_source_is_one_line(lang, source, named, tmp_path):
    with pytest.raises(ZsnerError) as err:
        build_parallel(lang, source, tmp_path / "x.tsv")
    assert named in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "x.tsv").exists()


def test_missing_source_names_the_package(monkeypatch, tmp_path):
    monkeypatch.setattr(sources, "LO_HELP", tmp_path)
    with pytest.raises(ZsnerError, match=r"apt-get install libreoffice-help-en-us"):
        build_parallel("es", "libreoffice", tmp_path / "x.tsv")
    monkeypatch.setattr(sources, "SWORD_DIR", tmp_path)
    with pytest.raises(ZsnerError, match=r"apt-get install sword-text-") as err:
        build_parallel("es", "bible", tmp_path / "x.tsv")
    assert "\n" not in str(err.value)
