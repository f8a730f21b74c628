"""The vectorised CRF against brute-force enumeration and against pytorch-crf (in pytorch-crf's style)."""
from __future__ import annotations

import itertools

import pytest
import torch
from torchcrf import CRF as ReferenceCRF

from zsner.model.crf import CRF, _LogPartition


def _pair(num_tags: int, seed: int):
    torch.manual_seed(seed)
    ours = CRF(num_tags)
    with torch.no_grad():  # larger transitions than the init range, to exercise the exp-space shift
        ours.transitions.mul_(30)
    reference = ReferenceCRF(num_tags, batch_first=True)
    reference.load_state_dict(ours.state_dict())
    return ours, reference


def _path_score(crf: CRF, emissions: torch.Tensor, path) -> torch.Tensor:
    total = crf.start_transitions[path[0]] + emissions[0, path[0]]
    for t in range(1, len(path)):
        total = total + crf.transitions[path[t - 1], path[t]] + emissions[t, path[t]]
    return total + crf.end_transitions[path[-1]]


@pytest.mark.parametrize("seed", range(4))
def test_partition_and_viterbi_by_enumeration(seed):
    num_tags, steps = 4, 5
    crf, _ = _pair(num_tags, seed)
    emissions = torch.randn(3, steps, num_tags) * 3
    lengths = torch.tensor([5, 3, 1])
    best = crf.decode(emissions, lengths)
    for b, n in enumerate(lengths.tolist()):
        paths = list(itertools.product(range(num_tags), repeat=n))
        scores = torch.stack([_path_score(crf, emissions[b], p) for p in paths])
        log_z = torch.logsumexp(scores, 0)
        tags = torch.zeros(1, steps, dtype=torch.long)
        tags[0, :n] = torch.tensor(paths[0])
        ll = crf.log_likelihood(emissions[b : b + 1], tags, lengths[b : b + 1])
        assert ll.item() == pytest.approx((scores[0] - log_z).item(), abs=1e-4)
        assert best[b, :n].tolist() == list(paths[int(scores.argmax())])


@pytest.mark.parametrize("seed", range(3))
def test_equals_pytorch_crf_with_padding(seed):
    ours, reference = _pair(7, seed)
    emissions = torch.randn(6, 9, 7, requires_grad=True)
    lengths = torch.tensor([9, 4, 1, 9, 7, 2])
    mask = torch.arange(9)[None, :] < lengths[:, None]
    tags = torch.randint(7, (6, 9))
    mine = ours.log_likelihood(emissions, tags, lengths)
    theirs = reference(emissions, tags, mask, reduction="none")
    assert torch.allclose(mine, theirs, atol=1e-4)
    names = ["start_transitions", "end_transitions", "transitions"]
    grad_mine = torch.autograd.grad(mine.sum(), [emissions] + [getattr(ours, n) for n in names])
    grad_theirs = torch.autograd.grad(theirs.sum(), [emissions] + [getattr(reference, n) for n in names])
    for a, b in zip(grad_mine, grad_theirs):
        assert torch.allclose(a, b, atol=1e-4)
    decoded = ours.decode(emissions, lengths)
    assert [decoded[b, :n].tolist() for b, n in enumerate(lengths.tolist())] == reference.decode(emissions, mask)


def test_unpadded_batch_takes_the_same_result():
    ours, reference = _pair(5, 11)
    emissions = torch.randn(4, 6, 5)
    lengths = torch.full((4,), 6)
    tags = torch.randint(5, (4, 6))
    assert torch.allclose(ours.log_likelihood(emissions, tags, lengths), reference(emissions, tags, torch.ones(4, 6, dtype=torch.bool), reduction="none"), atol=1e-4)
    assert ours.decode(emissions, lengths).tolist() == reference.decode(emissions, torch.ones(4, 6, dtype=torch.bool))


def test_training_reduces_nll_on_a_fixed_batch():
    torch.manual_seed(0)
    crf = CRF(5)
    emissions = torch.randn(8, 6, 5, requires_grad=True)
    tags = torch.randint(5, (8, 6))
    lengths = torch.tensor([6, 6, 5, 4, 3, 2, 1, 6])
    optimiser = torch.optim.SGD([emissions, *crf.parameters()], lr=0.5)
    first = None
    for _ in range(50):
        loss = -crf.log_likelihood(emissions, tags, lengths).mean()
        first = first if first is not None else loss.item()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    assert loss.item() < 0.2 * first


def test_rejects_zero_tags():
    with pytest.raises(ValueError):
        CRF(0)


@pytest.mark.parametrize("lengths", [[5, 5, 5], [5, 2, 1]])
def test_analytic_gradient_of_log_partition(lengths):
    """The forward-backward gradient of log Z against finite differences (double precision)."""
    torch.manual_seed(1)
    lengths = torch.tensor(lengths)
    mask = None if bool((lengths == 5).all()) else torch.arange(5)[None, :] < lengths[:, None]
    inputs = (torch.randn(3, 5, 4, dtype=torch.double, requires_grad=True),
              *(torch.randn(*shape, dtype=torch.double, requires_grad=True) for shape in ((4,), (4,), (4, 4))))
    assert torch.autograd.gradcheck(lambda e, s, t, a: _LogPartition.apply(e, s, t, a, mask), inputs)
