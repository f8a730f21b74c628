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

from zsner.embeddings.vectors import Embeddings, lowercased


def mapping_vocabulary(vectors: Embeddings, lowercase: bool) -> Embeddings:
    """``vectors`` as the map sees them: lower-cased forms with the vector of each one's first casing,
    or unchanged."""
    return lowercased(vectors) if lowercase else vectors
