"""Unsupervised cross-lingual word-embedding mapping (Conneau et al. 2018, "MUSE"), as used by
Bari, Joty & Jwalapuram (AAAI 2020), section "Word-level Adversarial Mapping" (Eq. 3-5).

Split as MUSE's ``src/``: :mod:`models` (linear map, discriminator), :mod:`trainer` (adversarial
training, Procrustes refinement, model selection), :mod:`dictionary` (reading and inducing
bilingual dictionaries), :mod:`evaluation` (word translation P@k, unsupervised criterion) and
:mod:`neighbours` (chunked exact k-NN and CSLS).
"""
from zsner.mapping.config import MappingConfig

__all__ = ["MappingConfig"]
