"""The token losses of zsner.transfer.losses against their formulas and their hand-derived gradients."""
from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from zsner.transfer.losses import token_loss


def _batch(seed: int = 0, n: int = 7, k: int = 5):
    g = torch.Generator().manual_seed(seed)
    scores = torch.randn(n, k, generator=g, dtype=torch.float64) * 2
    targets = torch.randint(0, k, (n,), generator=g)
    return scores, targets


def _hand_gradient(scores: torch.Tensor, targets: torch.Tensor, kind: str, gamma: float) -> torch.Tensor:
    """d mean_i L_i / d scores, written out: L = −w(p) log p with p = softmax(z)_t, dp/dz_j = p (δ_tj − p_j)."""
    probs = scores.softmax(-1)
    p = probs.gather(1, targets.unsqueeze(1)).squeeze(1)
    if kind == "ce":
        dl_dp = -1 / p
    elif kind == "focal":  # L = −(1−p)^γ log p
        dl_dp = gamma * (1 - p) ** (gamma - 1) * p.log() - (1 - p) ** gamma / p
    else:  # reweighted: L = −(1+p)^γ log p
        dl_dp = -gamma * (1 + p) ** (gamma - 1) * p.log() - (1 + p) ** gamma / p
    one_hot = F.one_hot(targets, scores.shape[1]).to(scores.dtype)
    dp_dz = p.unsqueeze(1) * (one_hot - probs)
    return dl_dp.unsqueeze(1) * dp_dz / len(targets)


@pytest.mark.parametrize("kind,gamma", [("ce", 0.0), ("focal", 2.0), ("reweighted", 4.0), ("reweighted", 1.0)])
def test_gradient_equals_the_hand_derived_one(kind, gamma):
    scores, targets = _batch()
    scores.requires_grad_(True)
    token_loss(scores, targets, kind, gamma).backward()
    torch.testing.assert_close(scores.grad, _hand_gradient(scores.detach(), targets, kind, gamma))


def test_values_and_the_direction_of_the_weights():
    scores, targets = _batch(1)
    ce = F.cross_entropy(scores, targets)
    torch.testing.assert_close(token_loss(scores, targets, "ce"), ce)
    torch.testing.assert_close(token_loss(scores, targets, "reweighted", 0.0), ce)  # γ = 0: plain CE
    torch.testing.assert_close(token_loss(scores, targets, "focal", 0.0), ce)
    # one confident word (p_t ≈ 0.98) and one hard word (p_t ≈ 0.02): the re-weighted loss gives the hard
    # word a smaller share of the total than CE does, focal a larger one
    scores = torch.tensor([[4.0, 0.0], [0.0, 4.0]], dtype=torch.float64)
    targets = torch.tensor([0, 0])
    share = {}
    for kind in ("ce", "focal", "reweighted"):
        each = [token_loss(scores[i : i + 1], targets[i : i + 1], kind, 4.0).item() for i in range(2)]
        share[kind] = each[1] / sum(each)
    assert share["reweighted"] < share["ce"] < share["focal"]


def test_an_unknown_loss_is_refused():
    scores, targets = _batch()
    with pytest.raises(ValueError, match="hinge"):
        token_loss(scores, targets, "hinge")


def test_the_reweighted_loss_has_a_local_minimum_near_p_016():
    """The documented trap: −(1+p)^4 log p of a single word, with p its gold tag's probability, falls to a
    local minimum near p ≈ 0.16 and rises after it, so gradient descent from an untrained head (p ≈ 1/9)
    stops there; CE falls all the way."""
    p = torch.linspace(0.01, 0.99, 981, dtype=torch.float64)
    reweighted, ce = -(1 + p) ** 4 * p.log(), -p.log()
    falling = reweighted[1:] < reweighted[:-1]
    first_rise = int((~falling).nonzero()[0])
    assert 0.14 <= float(p[first_rise]) <= 0.18  # the local minimum
    assert float(reweighted[first_rise]) == pytest.approx(3.31, abs=0.02)  # the loss a stuck student sat at
    assert not bool(falling[first_rise : first_rise + 100].any())  # rising from there to p ≈ 0.26 at least
    assert bool((ce[1:] < ce[:-1]).all())
    # the same trap seen through token_loss on a 9-tag head: at p = 0.3 a step towards the gold tag raises it
    z = torch.zeros(1, 9, dtype=torch.float64)
    z[0, 0] = float(torch.log(torch.tensor(0.3 * 8 / 0.7)))  # softmax gives the gold tag p = 0.3
    z.requires_grad_(True)
    token_loss(z, torch.tensor([0]), "reweighted", 4.0).backward()
    assert float(z.grad[0, 0]) > 0  # descent lowers the gold logit
