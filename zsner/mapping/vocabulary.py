"""The words a map is learned and scored on: MUSE's lower-cased vocabulary.

Why: MUSE lower-cases every word of an embedding file as it reads it and keeps only the first
(most frequent) casing of each form, and its evaluation dictionaries are lower-case. A cased
vocabulary scored against a lower-case dictionary loses every word that is mostly written with a
capital — all German nouns: `eyebrow → augenbraue` is found only where the corpus has the rare
lower-case form, and the right answer `Augenbraue` counts as an error. The paper's P@1 figures were
measured MUSE's way, so zsner maps the same way by default (``mapping.lowercase_vocabulary``).

Only the map sees the lower-cased view; ``zsner map`` exports every cased row, mapped by the same W,
so that the tagger keeps its look-up (the word, then its lower case).
"""
from __future__ import annotations

import numpy as np

from zsner.embeddings.vectors import Embeddings


def first_casings(words: list[str]) -> np.ndarray:
    """Rows of the first occurrence of each lower-cased form (a vocabulary sorted by falling frequency
    keeps each form's most frequent casing, as MUSE's reader does)."""
    seen: set[str] = set()
    rows = []
    for i, word in enumerate(words):
        form = word.lower()
        if form not in seen:
            seen.add(form)
            rows.append(i)
    return np.asarray(rows, dtype=np.int64)


def mapping_vocabulary(vectors: Embeddings, lowercase: bool) -> Embeddings:
    """``vectors`` as the map sees them: lower-cased forms with the vector of each one's first casing,
    or unchanged."""
    if not lowercase:
        return vectors
    rows = first_casings(vectors.words)
    return Embeddings([vectors.words[i].lower() for i in rows], vectors.matrix[rows])
