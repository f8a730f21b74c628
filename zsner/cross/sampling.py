"""Length-restricted stochastic selection of pseudo-labelled target sentences (Algorithm 1, steps 3-5).

The source model's pseudo-labels get noisier as target sentences get longer (Figure 2), but training
only on short sentences overfits them. So each round draws a threshold l ~ U(min, max) afresh and
trains on the sentences of at most l words: short sentences are seen in every round, long ones in some.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


class LengthSampler:
    """Draws l ~ U{low, …, high} (integers, both ends included) and selects sentences of ≤ l words.

    ``low``/``high`` of 0 mean the shortest/longest sentence, the paper's U(min, max); a ``low`` under
    the shortest sentence is raised to it, so a selection is never empty.
    """

    def __init__(self, lengths: Sequence[int], low: int = 0, high: int = 0):
        self.lengths = np.asarray(lengths, dtype=np.int64)
        if self.lengths.size == 0:
            raise ValueError("no sentences to sample from")
        shortest, longest = int(self.lengths.min()), int(self.lengths.max())
        self.low = max(low, shortest) if low else shortest
        self.high = high if high else longest
        if self.high < self.low:
            raise ValueError(f"length range [{low}, {high}] is empty for sentences of {shortest}-{longest} words")

    def draw(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.low, self.high + 1))

    def select(self, threshold: int) -> list[int]:
        """Indices of the sentences of at most ``threshold`` words, in corpus order."""
        return np.flatnonzero(self.lengths <= threshold).tolist()

    def sample(self, rng: np.random.Generator) -> tuple[int, list[int]]:
        threshold = self.draw(rng)
        return threshold, self.select(threshold)
