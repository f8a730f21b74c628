"""Token-level losses of the linear head: cross-entropy, focal, and Li et al.'s re-weighted loss.

With p_t the probability the model gives the gold (or pseudo-gold) tag of a word:

* ``ce``         −log p_t
* ``focal``      −(1 − p_t)^γ · log p_t   (Lin et al. 2017): easy words count less, hard ones more — for clean labels
* ``reweighted`` −(1 + p_t)^γ · log p_t   (Li et al. 2021, §4): the opposite — on *pseudo*-labels a word the
  model finds hard is more likely a projection error than a lesson, so it counts less than a confident one
  (γ = 4 was the paper's best of 1–5).

The weight is part of the loss (not detached), as in focal loss; ``tests/test_transfer_losses.py`` checks the
gradients against the derivative written out by hand.

A trap of the re-weighted loss, measured here: as a function of p_t, −(1 + p)^γ · log p falls from p = 0 to a
local minimum near p ≈ 0.16 (γ = 4), *rises* up to p ≈ 0.4, and only then falls to 0 at p = 1. A model that
already tags well (the English teacher, p_t near 1) never sees the bump; an untrained head over a bare
encoder (p_t ≈ 1/9 for 9 tags) slides into the local minimum and stays there (a student started from the bare
encoder with this loss sat at loss 3.32 = its value at p ≈ 0.16 for its whole epoch). Start such a student
with ``ce``; ``zsner.projection.config`` warns when a recipe combines the two.
"""
from __future__ import annotations

import torch
from torch.nn import functional as F

LOSSES = ("ce", "focal", "reweighted")


def token_loss(scores: torch.Tensor, targets: torch.Tensor, kind: str = "ce", gamma: float = 4.0) -> torch.Tensor:
    """The mean loss of ``scores`` ``[N, K]`` (logits) against tag ids ``targets`` ``[N]``."""
    if kind not in LOSSES:
        raise ValueError(f"loss {kind!r} is not one of {', '.join(LOSSES)}")
    if scores.dtype in (torch.float16, torch.bfloat16):
        scores = scores.float()  # the softmax of a mixed-precision forward, in fp32
    log_p = F.log_softmax(scores, dim=-1).gather(1, targets.unsqueeze(1)).squeeze(1)
    if kind == "ce":
        return -log_p.mean()
    p = log_p.exp()
    weight = (1 - p) ** gamma if kind == "focal" else (1 + p) ** gamma
    return -(weight * log_p).mean()
