"""MUSE's lower-cased mapping vocabulary (zsner.mapping.vocabulary) on real vectors and dictionaries."""
from __future__ import annotations

import numpy as np
import pytest

from test_mapping_real import real_vectors  # noqa: F401  (the session's real fastText vectors)
from zsner.embeddings.vectors import load_vectors
from zsner.mapping.dictionary import load_dictionary
from zsner.mapping.vocabulary import mapping_vocabulary

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_each_form_keeps_its_most_frequent_casings_vector(real_vectors):  # noqa: F811
    en = load_vectors(real_vectors["en"])
    view = mapping_vocabulary(en, lowercase=True)
    forms = {w.lower() for w in en.words}
    assert len(view) == len(forms) < len(en)  # CoNLL English has "The" and "the", "U.S." and "u.s." ...
    assert all(w == w.lower() for w in view.words)
    # the first (most frequent) casing's row wins: the vocabulary is sorted by falling frequency
    for casing in ("The", "the"):
        assert casing in en.index
    first_the = min(en.index["The"], en.index["the"])
    assert np.array_equal(view.matrix[view.index["the"]], en.matrix[first_the])
    # every form has its first row's vector, in the vocabulary's order (falling frequency)
    first: dict[str, int] = {}
    for i, word in enumerate(en.words):
        first.setdefault(word.lower(), i)
    assert [first[w] for w in view.words] == sorted(first.values())
    assert np.array_equal(view.matrix, en.matrix[[first[w] for w in view.words]])
    assert mapping_vocabulary(en, lowercase=False) is en


def test_words_written_with_a_capital_reach_a_lower_case_dictionary(real_vectors, tmp_path):  # noqa: F811
    """The reason for the view: a word the corpus writes only with a capital (German nouns, names)
    is missing from a cased vocabulary for a lower-case dictionary entry, so it is never scored."""
    en, es = load_vectors(real_vectors["en"]), load_vectors(real_vectors["es"])
    forms = list(dict.fromkeys(w.lower() for w in es.words if w[:1].isupper() and w.lower() not in es.index))
    forms = forms[:50]  # e.g. "Madrid" and "MADRID", never "madrid": one form
    assert len(forms) == 50
    dictionary = tmp_path / "en-es.txt"
    dictionary.write_text("".join(f"the {form}\n" for form in forms), encoding="utf-8")
    cased, _ = load_dictionary(dictionary, en.index, es.index)
    assert len(cased) == 0
    en_view, es_view = mapping_vocabulary(en, True), mapping_vocabulary(es, True)
    pairs, stats = load_dictionary(dictionary, en_view.index, es_view.index, lowercase=True)
    assert stats.in_vocab == 50
    assert [es_view.words[t] for t in pairs[:, 1]] == sorted(forms, key=es_view.index.get)
