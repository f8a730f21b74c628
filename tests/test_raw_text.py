"""Raw text for `zsner predict`: real CoNLL sentences written back as plain text are cut into the CoNLL
files' own tokens, and entity offsets slice the text back to each entity."""
from __future__ import annotations

import re

from conftest import corpus
from zsner.data.conll import read_conll
from zsner.embeddings.tokenize import tokenize
from zsner.raw_text import entity_spans, read_raw_lines


def detokenise(tokens: list[str]) -> str:
    """Plain text as a person writes it: no space before , . ; : ) ? ! % and after ( ¿ ¡."""
    text = " ".join(tokens)
    text = re.sub(r" ([,.;:)?!%])", r"\1", text)
    return re.sub(r"([(¿¡]) ", r"\1", text)


def test_real_sentences_as_plain_text_get_the_conll_tokens_and_entity_offsets():
    gold = read_conll(corpus("conll2002/esp.testb"), scheme="iob2", encoding="latin-1")[:400]
    lines = [detokenise(s.tokens) for s in gold]
    assert any("Francia," in line or ", " in line for line in lines)  # commas glued to words, as typed
    items = list(read_raw_lines(lines, "es"))
    by_line: dict[int, list] = {}
    for item in items:
        by_line.setdefault(item.line, []).append(item)
    same = [n for n, s in enumerate(gold, start=1)
            if n in by_line and sum((i.sentence.tokens for i in by_line[n]), []) == s.tokens]
    assert len(same) / len(gold) > 0.85, len(same)  # the rest: the files' own quirks (`hoy,` `20.` one token)
    checked = 0
    for n in same:
        if len(by_line[n]) != 1:
            continue
        item = by_line[n][0]
        for entity in entity_spans(item, gold[n - 1].tags):
            assert lines[n - 1][entity["start"]:entity["end"]] == entity["text"]
            first, last = entity["tokens"]
            assert tokenize(entity["text"], "es") == item.sentence.tokens[first:last]
            checked += 1
    assert checked > 300


def test_offsets_survive_what_normalisation_changes():
    line = "El  Sr.  Pérez\u00ad Gil’s visitó   (¿Madrid?)\tayer."
    items = list(read_raw_lines([line], "es"))
    assert items[0].sentence.tokens[:4] == ["El", "Sr.", "Pérez", "Gil's"]
    assert [len(i.sentence.tokens) for i in items] == [10, 2]  # "?)" then a word: two sentences
    for item in items:
        for token, (start, end) in zip(item.sentence.tokens, item.spans):
            assert line[start:end].replace("\u00ad", "").replace("’", "'") == token


def test_several_sentences_on_a_line_are_split():
    items = list(read_raw_lines(["Llegó a Madrid. Luego habló con el Dr. Gómez en Sevilla.", "", "Fin."], "es"))
    assert [i.sentence.tokens for i in items] == [["Llegó", "a", "Madrid", "."],
                                                 ["Luego", "habló", "con", "el", "Dr.", "Gómez", "en", "Sevilla", "."],
                                                 ["Fin", "."]]
    assert [i.line for i in items] == [1, 1, 3]
