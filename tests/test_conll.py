"""The CoNLL reader on every real corpus layout and on each quirk, and its one-line errors."""
from __future__ import annotations

import logging

import pytest

from conftest import corpus
from zsner.data.conll import Sentence, read_conll, read_tokens, read_unlabelled, write_conll
from zsner.errors import ZsnerError

# (file, encoding, scheme, sentences): counts of the data README (no -DOCSTART- sentences dropped).
CORPORA = [
    ("conll2003/eng.train", "ascii", "iob1", 14041),
    ("conll2003/eng.testa", "ascii", "iob1", 3250),
    ("conll2003/deu.testa", "latin-1", "iob1", 2867),
    ("conll2003/deu.testb", "latin-1", "iob1", 3005),
    ("conll2002/esp.train", "latin-1", "iob2", 8323),
    ("conll2002/esp.testb", "latin-1", "iob2", 1517),
    ("conll2002/ned.train", "latin-1", "iob2", 15806),
    ("conll2002/ned.testb", "latin-1", "iob2", 5195),
    ("ar/ar.train.iob2", "utf-8", "iob2", 2166),
    ("fi/fi.train.iob2", "utf-8", "iob2", 13497),
    ("fi/fi.testb.iob2", "utf-8", "iob2", 3512),
]


@pytest.mark.parametrize("name, encoding, scheme, count", CORPORA)
def test_real_corpora_sentence_counts(name, encoding, scheme, count):
    sentences = read_conll(corpus(name), scheme=scheme, encoding=encoding)
    assert len(sentences) == count
    assert all(len(s.tokens) == len(s.tags) > 0 for s in sentences)
    assert not any(t == "-DOCSTART-" for s in sentences for t in s.tokens)


def test_latin1_is_decoded(tmp_path):
    sentences = read_conll(corpus("conll2002/esp.train"), encoding="latin-1")
    words = {t for s in sentences[:2000] for t in s.tokens}
    assert "España" in words or "también" in words


def test_latin1_read_as_utf8_names_line(tmp_path):
    path = corpus("conll2002/esp.train")
    with pytest.raises(ZsnerError) as err:
        read_conll(path, encoding="utf-8")
    message = str(err.value)
    first_bad = next(i for i, line in enumerate(path.read_bytes().split(b"\n"), 1) if any(b > 127 for b in line))
    assert message.startswith(f"{path}:{first_bad}: byte 0x")
    assert "\n" not in message


def test_iob1_entities_open_with_b_after_reading():
    sentences = read_conll(corpus("conll2003/eng.testa"), scheme="iob1")
    first = sentences[0]
    assert first.tokens[:2] == ["CRICKET", "-"]
    for s in sentences:
        for prev, tag in zip(["O"] + s.tags, s.tags):
            if tag.startswith("I-"):
                assert prev[2:] == tag[2:], "an I- tag must continue an entity of its type in IOB2"


def test_spanish_stray_i_tags_repaired_with_warning(caplog):
    path = corpus("conll2002/esp.testb")
    with caplog.at_level(logging.WARNING):
        sentences = read_conll(path, encoding="latin-1")
    assert f"{path}: 1 line(s) with an I- tag opening an entity" in caplog.text and "line 9291" in caplog.text
    line_9291 = [s for s in sentences if s.line <= 9291][-1]
    assert line_9291.tags[9291 - line_9291.line].startswith("B-")


def test_spanish_stray_i_tag_is_an_error_when_strict():
    path = corpus("conll2002/esp.testb")
    with pytest.raises(ZsnerError, match=rf"^{path}:9291: tag 'I-\w+' follows 'O', illegal in IOB2$"):
        read_conll(path, encoding="latin-1", strict=True)


def test_dutch_glued_docstart_keeps_the_sentence():
    sentences = read_conll(corpus("conll2002/ned.train"), encoding="latin-1")
    lines = corpus("conll2002/ned.train").read_bytes().decode("latin-1").splitlines()
    glued = [i for i, line in enumerate(lines, 1) if line.startswith("-DOCSTART-") and i < len(lines) and lines[i].strip()]
    assert glued, "the Dutch file has -DOCSTART- lines glued to sentences"
    after = {s.line for s in sentences if s.after_docstart}
    assert after == {i + 1 for i in glued}
    assert lines[0].startswith("-DOCSTART-") and sentences[0].line == 2 and sentences[0].after_docstart


@pytest.mark.parametrize("name, all_sentences, paper", [
    ("conll2002/ned.train", 15806, 15519), ("conll2002/ned.testa", 2895, 2821), ("conll2002/ned.testb", 5195, 5076)])
def test_dutch_counts_of_the_paper_leave_out_the_docstart_sentences(name, all_sentences, paper):
    """Bari et al. count 15519 / 2821 / 5076 Dutch sentences: those not glued to a -DOCSTART- line."""
    sentences = read_conll(corpus(name), encoding="latin-1")
    assert len(sentences) == all_sentences
    assert sum(not s.after_docstart for s in sentences) == paper


@pytest.mark.parametrize("name", ["conll2003/deu.testa", "conll2003/deu.testb"])
def test_german_docstart_is_its_own_sentence_break(name):
    sentences = read_conll(corpus(name), scheme="iob1", encoding="latin-1")
    assert not any(s.after_docstart for s in sentences)
    assert sentences[0].line == 3  # line 1 is -DOCSTART-, line 2 blank


@pytest.mark.parametrize("name, word", [("conll2002/ned.testb", "België"), ("conll2003/deu.testb", "für")])
def test_clean_dutch_and_german_keep_their_letters(name, word):
    """The first copies had every ü/ë turned into 0x81 0x45 by a Shift-JIS round trip."""
    raw = corpus(name).read_bytes()
    assert b"\x81" not in raw
    words = {t for s in read_conll(corpus(name), scheme="iob2" if "ned" in name else "iob1", encoding="latin-1")
             for t in s.tokens}
    assert word in words


def test_a_line_with_a_lost_column_separator_is_an_error(tmp_path):
    """A short line is no longer guessed at: the tag may have moved into another column."""
    lines = corpus("conll2003/deu.testa").read_bytes().decode("latin-1").splitlines()[:40]
    bad_line = next(i for i, line in enumerate(lines, 1) if len(line.split()) == 5 and i > 10)
    word, lemma, *rest = lines[bad_line - 1].split()
    lines[bad_line - 1] = " ".join([word + lemma, *rest])
    path = tmp_path / "deu.short"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ZsnerError, match=rf"^{path}:{bad_line}: expected 5 columns like the first token line, found 4$"):
        read_conll(path, scheme="iob1")


def test_finnish_leading_and_doubled_blank_lines(tmp_path):
    source = corpus("fi/fi.testb.iob2").read_text(encoding="utf-8")
    padded = tmp_path / "fi.padded"
    padded.write_text("\n\n" + source.replace("\n\n", "\n\n\n", 50) + "\n\n", encoding="utf-8")
    assert [s.tokens for s in read_conll(padded)] == [s.tokens for s in read_conll(corpus("fi/fi.testb.iob2"))]


def _inject(tmp_path, line_number: int, replacement: str):
    lines = corpus("conll2003/eng.testb").read_text(encoding="ascii").splitlines()
    lines[line_number - 1] = replacement
    path = tmp_path / "eng.bad"
    path.write_text("\n".join(lines[:400]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("replacement, problem", [
    ("Japan NNP I-NP I-LOC extra", r"expected 4 columns like the first token line, found 5"),
    ("Japan NNP I-NP I-PLACE-", r"unknown entity type|unknown tag"),
    ("Japan NNP I-NP X-LOC", r"unknown tag 'X-LOC'"),
    ("Japan", r"a token line needs at least 2 columns"),
    ("Japan NNP I-NP E-LOC", r"tag 'E-LOC' is not allowed in a file declared IOB1"),
])
def test_malformed_lines_give_one_line_errors(tmp_path, replacement, problem):
    path = _inject(tmp_path, 30, replacement)
    with pytest.raises(ZsnerError) as err:
        read_conll(path, scheme="iob1", allowed_types={"PER", "LOC", "ORG", "MISC"})
    assert str(err.value).startswith(f"{path}:30: ")
    assert "\n" not in str(err.value)
    import re

    assert re.search(problem, str(err.value))


def test_missing_file_and_unknown_scheme(tmp_path):
    with pytest.raises(ZsnerError, match="file not found"):
        read_conll(tmp_path / "nope.conll")
    with pytest.raises(ZsnerError, match="unknown tag scheme 'bio'"):
        read_conll(corpus("ar/ar.testa.iob2"), scheme="bio")


def test_iobes_file_round_trip_and_validation(tmp_path):
    sentences = read_conll(corpus("conll2003/eng.testa"), scheme="iob1")[:300]
    path = tmp_path / "out.iobes"
    write_conll(path, sentences, [s.tags for s in sentences], scheme="iobes")
    again = read_conll(path, scheme="iobes")
    assert [s.tags for s in again] == [s.tags for s in sentences]
    text = path.read_text().splitlines()
    broken = next(i for i, line in enumerate(text) if line.endswith("S-LOC"))
    text[broken] = text[broken][: -len("S-LOC")] + "E-LOC"
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(ZsnerError, match=rf":{broken + 1}: tag 'E-LOC' breaks IOBES"):
        read_conll(path, scheme="iobes")


def test_write_predictions_is_conlleval_input(tmp_path):
    sentences = read_conll(corpus("ar/ar.testa.iob2"))[:20]
    predicted = [["O"] * len(s) for s in sentences]
    path = tmp_path / "pred.conll"
    write_conll(path, sentences, predicted)
    rows = [line.split(" ") for line in path.read_text(encoding="utf-8").splitlines() if line]
    assert len(rows) == sum(len(s) for s in sentences)
    assert all(len(r) == 3 and r[2] == "O" for r in rows)
    assert [r[1] for r in rows] == [t for s in sentences for t in s.tags]


def test_unlabelled_readers(tmp_path):
    conll = read_unlabelled(corpus("fi/fi.testa.iob2"))
    gold = read_conll(corpus("fi/fi.testa.iob2"))
    assert [s.tokens for s in conll] == [s.tokens for s in gold] and not conll[0].tags
    text = tmp_path / "raw.txt"
    text.write_text("\n".join(" ".join(s.tokens) for s in gold[:30]) + "\n", encoding="utf-8")
    assert [s.tokens for s in read_tokens(text)] == [s.tokens for s in gold[:30]]
    assert [s.tokens for s in read_unlabelled(text)] == [s.tokens for s in gold[:30]]
    assert isinstance(conll[0], Sentence)
