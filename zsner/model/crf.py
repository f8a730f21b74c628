"""A linear-chain CRF with the parameters and semantics of pytorch-crf, vectorised for speed.

Same parameters as ``torchcrf.CRF`` (``start_transitions``, ``end_transitions``, ``transitions[i, j]``
scoring a move from tag i to tag j), same log-likelihood and the same Viterbi path; the tests check both
against pytorch-crf and against brute-force enumeration of every tag sequence. The differences are
for speed: the forward algorithm runs in exp-space as one small matrix product per time step instead of
a ``logsumexp`` over a B×K×K tensor, batches whose sentences all have one length skip the masking, and
the Viterbi back-trace is vectorised over the batch instead of a Python loop per sentence.
"""
from __future__ import annotations

import torch
from torch import nn


class CRF(nn.Module):
    """Linear-chain CRF over ``num_tags`` tags; inputs are batch-first ``[B, T, K]`` emission scores."""

    def __init__(self, num_tags: int):
        super().__init__()
        if num_tags <= 0:
            raise ValueError(f"invalid number of tags: {num_tags}")
        self.num_tags = num_tags
        self.start_transitions = nn.Parameter(torch.empty(num_tags).uniform_(-0.1, 0.1))
        self.end_transitions = nn.Parameter(torch.empty(num_tags).uniform_(-0.1, 0.1))
        self.transitions = nn.Parameter(torch.empty(num_tags, num_tags).uniform_(-0.1, 0.1))

    def log_likelihood(self, emissions: torch.Tensor, tags: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """log p(tags | emissions) per sentence, ``[B]``. ``lengths`` ≥ 1 gives each sentence's size."""
        return self._gold_score(emissions, tags, lengths) - self._log_partition(emissions, lengths)

    def _mask(self, lengths: torch.Tensor, steps: int) -> torch.Tensor | None:
        """``[B, T]`` validity mask, or None when every sentence fills the batch (no masking needed)."""
        if bool((lengths == steps).all()):
            return None
        return torch.arange(steps, device=lengths.device)[None, :] < lengths[:, None]

    def _gold_score(self, emissions: torch.Tensor, tags: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        batch, steps, _ = emissions.shape
        mask = self._mask(lengths, steps)
        emitted = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # [B, T]
        moved = self.transitions[tags[:, :-1], tags[:, 1:]]  # [B, T-1]
        if mask is not None:
            emitted = emitted * mask
            moved = moved * mask[:, 1:]
        last_tags = tags.gather(1, (lengths - 1).unsqueeze(1)).squeeze(1)
        return (
            self.start_transitions[tags[:, 0]]
            + emitted.sum(1)
            + moved.sum(1)
            + self.end_transitions[last_tags]
        )

    def _log_partition(self, emissions: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """log Z per sentence, with an analytic gradient (see :class:`_LogPartition`)."""
        mask = self._mask(lengths, emissions.shape[1])
        return _LogPartition.apply(emissions, self.start_transitions, self.end_transitions, self.transitions, mask)

    @torch.no_grad()
    def decode(self, emissions: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Viterbi: the best tag sequence per sentence, ``[B, T]`` (positions past a length are junk)."""
        batch, steps, num_tags = emissions.shape
        mask = self._mask(lengths, steps)
        score = self.start_transitions + emissions[:, 0]
        backpointers = []
        identity = torch.arange(num_tags, device=emissions.device).expand(batch, num_tags)
        for t in range(1, steps):
            best, previous = (score.unsqueeze(2) + self.transitions).max(dim=1)
            stepped = best + emissions[:, t]
            if mask is not None:
                valid = mask[:, t : t + 1]
                stepped = torch.where(valid, stepped, score)
                previous = torch.where(valid, previous, identity)  # padding steps keep the tag
            score = stepped
            backpointers.append(previous)
        path = torch.empty(batch, steps, dtype=torch.long, device=emissions.device)
        path[:, -1] = (score + self.end_transitions).argmax(dim=1)
        for t in range(steps - 1, 0, -1):
            path[:, t - 1] = backpointers[t - 1].gather(1, path[:, t : t + 1]).squeeze(1)
        # A short sentence's best last tag was carried through its padding to position T-1 by the
        # identity back-pointers, so the back-trace lands on it at the sentence's real end.
        return path


class _LogPartition(torch.autograd.Function):
    """log Z by the forward algorithm, differentiated by the forward-backward algorithm.

    Recording the forward recursion for autograd costs a dozen graph nodes per time step; the gradient
    of log Z is known in closed form (node and edge marginals), so one backward recursion computes it
    with no graph at all. Each step is one K×K matrix product in exp-space, shifted for stability:
    α_t = log(exp(α_{t-1} − m) · exp(A − a)) + m + a + e_t.
    """

    @staticmethod
    def forward(ctx, emissions, start, end, transitions, mask):
        batch, steps, num_tags = emissions.shape
        shift = transitions.max()
        exp_transitions = torch.exp(transitions - shift)
        alphas = emissions.new_empty(steps, batch, num_tags)
        alpha = start + emissions[:, 0]
        alphas[0] = alpha
        for t in range(1, steps):
            peak = alpha.max(dim=1, keepdim=True).values
            stepped = torch.log(torch.exp(alpha - peak) @ exp_transitions) + peak + shift + emissions[:, t]
            alpha = stepped if mask is None else torch.where(mask[:, t : t + 1], stepped, alpha)
            alphas[t] = alpha
        log_z = torch.logsumexp(alpha + end, dim=1)
        ctx.save_for_backward(emissions, end, transitions, alphas, log_z)
        ctx.mask = mask
        return log_z

    @staticmethod
    def backward(ctx, grad_log_z):
        emissions, end, transitions, alphas, log_z = ctx.saved_tensors
        mask = ctx.mask
        batch, steps, num_tags = emissions.shape
        shift = transitions.max()
        exp_transitions_t = torch.exp(transitions - shift).t()
        # β_t(i) = log Σ_j exp(A_ij + e_{t+1}(j) + β_{t+1}(j)); padding steps carry β = end.
        betas = emissions.new_empty(steps, batch, num_tags)
        beta = end.expand(batch, num_tags)
        betas[-1] = beta
        for t in range(steps - 2, -1, -1):
            ahead = emissions[:, t + 1] + beta
            peak = ahead.max(dim=1, keepdim=True).values
            stepped = torch.log(torch.exp(ahead - peak) @ exp_transitions_t) + peak + shift
            beta = stepped if mask is None else torch.where(mask[:, t + 1 : t + 2], stepped, beta)
            betas[t] = beta
        weight = grad_log_z.view(1, batch, 1)
        if mask is not None:
            weight = weight * mask.t().unsqueeze(2)
        log_z = log_z.view(1, batch, 1)
        node = torch.exp(alphas + betas - log_z) * weight  # [T, B, K] marginals
        grad_emissions = node.transpose(0, 1)
        grad_start = node[0].sum(0)
        grad_end = (torch.exp(alphas[-1] + end - log_z[0]) * grad_log_z.unsqueeze(1)).sum(0)
        grad_transitions = torch.zeros_like(transitions)
        if steps > 1:
            previous = alphas[:-1]
            peak = previous.max(dim=2, keepdim=True).values
            left = torch.exp(previous - peak)  # [T-1, B, K]
            edge_weight = weight[1:] if mask is not None else weight
            right = torch.exp(emissions.transpose(0, 1)[1:] + betas[1:] - log_z + peak + shift) * edge_weight
            pairs = left.reshape(-1, num_tags).t() @ right.reshape(-1, num_tags)
            grad_transitions = pairs * exp_transitions_t.t()
        return grad_emissions, grad_start, grad_end, grad_transitions, None
