"""The corpus language filter of ``zsner embed distill --drop-lines-in``, on real English and Spanish
sentences (CoNLL-2003 and CoNLL-2002), and with the real encoder: a filtered pass must equal a pass over
the kept lines alone."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import corpus

from zsner.data.conll import read_unlabelled
from zsner.embeddings.distill import DistillSettings, distill
from zsner.embeddings.language_filter import LineLanguageFilter, lines_to_keep
from zsner.embeddings.vectors import read_vec
from zsner.errors import ZsnerError


@pytest.fixture(scope="module")
def mixed_corpus(tmp_path_factory) -> tuple[Path, np.ndarray]:
    """80 Spanish sentences with 40 English ones among them (every third line), as a corpus holds them,
    and which lines are Spanish. Sentences of 8 tokens or more: a line of a date or a score has no language."""
    def long(relative: str, encoding: str, n: int) -> list[str]:
        sentences = read_unlabelled(corpus(relative), encoding)
        return [" ".join(s.tokens) for s in sentences if len(s.tokens) >= 8][:n]

    spanish, english = long("conll2002/esp.train", "latin-1", 80), long("conll2003/eng.train", "ascii", 40)
    lines, is_spanish = [], []
    for i in range(120):
        english_line = i % 3 == 2
        lines.append(english.pop() if english_line else spanish.pop())
        is_spanish.append(not english_line)
    path = tmp_path_factory.mktemp("filter") / "es.txt"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path, np.array(is_spanish)


def test_english_lines_of_a_spanish_corpus_are_found(mixed_corpus):
    path, is_spanish = mixed_corpus
    keep = lines_to_keep(path, "es", ("en",), echo=lambda m: None)
    assert keep.shape == is_spanish.shape
    assert (keep == is_spanish).mean() >= 0.97, np.flatnonzero(keep != is_spanish)
    assert not LineLanguageFilter("es", ("en",)).keeps("The committee said on Tuesday that the plan would go ahead .")
    assert LineLanguageFilter("es", ("en",)).keeps("El comité dijo el martes que el plan seguiría adelante .")


def test_a_filtered_pass_equals_a_pass_over_the_kept_lines(e5_encoder_dir, mixed_corpus, tmp_path, one_torch_thread):
    path, _ = mixed_corpus
    keep = lines_to_keep(path, "es", ("en",), echo=lambda m: None)
    lines = path.read_text(encoding="utf-8").splitlines()
    kept = tmp_path / "kept.txt"
    kept.write_text("".join(line + "\n" for line, k in zip(lines, keep) if k), encoding="utf-8")
    common = dict(method="context", max_words=150, occurrences=3, sentences=0, max_subwords=512)
    filtered = distill(path, e5_encoder_dir, tmp_path / "filtered.vec",
                       DistillSettings(**common, drop_lines_in=("en",), language="es"),
                       device="cpu", precision="fp32", echo=lambda m: None)
    distill(kept, e5_encoder_dir, tmp_path / "kept.vec", DistillSettings(**common), device="cpu", precision="fp32",
            echo=lambda m: None)
    a, b = read_vec(tmp_path / "filtered.vec"), read_vec(tmp_path / "kept.vec")
    assert filtered["lines_in_other_languages"] == int((~keep).sum()) > 30
    assert a.words == b.words and "the" not in a.index
    np.testing.assert_allclose(a.matrix, b.matrix, atol=1e-5)


def test_bad_languages_are_one_line_errors():
    with pytest.raises(ZsnerError, match="does not know xx"):
        LineLanguageFilter("es", ("xx",))
    with pytest.raises(ZsnerError, match="no language to drop"):
        LineLanguageFilter("es", ("es",))
    with pytest.raises(ZsnerError, match="needs the corpus's language"):
        DistillSettings(drop_lines_in=("en",)).validate()
