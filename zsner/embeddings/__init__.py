"""Word vectors, monolingual corpora and bilingual dictionaries.

The cross-lingual mapping (zsner.mapping) needs three inputs per language pair: monolingual vectors
for each language, and a bilingual dictionary to evaluate (or, in the supervised variant, to seed)
the mapping. This package produces all three from data that is reachable offline, and reads the
public fastText files for users who have them.
"""
from zsner.embeddings.vectors import Embeddings, load_vectors, read_vec, write_vec

__all__ = ["Embeddings", "load_vectors", "read_vec", "write_vec"]
