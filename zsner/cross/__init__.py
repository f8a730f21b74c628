"""Cross-lingual NER (Bari et al. 2020, "Our Cross-Lingual Model"): a tagger trained on English reads
target-language text through one shared, frozen, cross-lingually mapped word table (Source-Mono,
Cross-Word, Cross-Shared), and augmented fine-tuning adds a target encoder trained on pseudo-labels
(Cross-Augmented, Algorithm 1). Entry points: ``zsner cross train RECIPE`` and ``zsner table``.
"""
