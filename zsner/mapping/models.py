"""The linear map W (Eq. 5's W_{t->s} / W_{s->t}) and the discriminator D of Eq. 3-4."""
from __future__ import annotations

import torch
from torch import nn


def nearest_orthogonal(w: torch.Tensor) -> torch.Tensor:
    """The orthogonal matrix closest to ``w`` in Frobenius norm: the polar factor U V^T of its SVD
    U S V^T, computed in float64 and returned in ``w``'s dtype."""
    u, _, vt = torch.linalg.svd(w.double())
    return (u @ vt).to(w.dtype)


class Mapping(nn.Module):
    """x -> W x with W a d x d matrix, initialised to the identity and kept near-orthogonal."""

    def __init__(self, dim: int):
        super().__init__()
        self.linear = nn.Linear(dim, dim, bias=False)
        with torch.no_grad():
            self.linear.weight.copy_(torch.eye(dim))

    @property
    def weight(self) -> torch.Tensor:
        return self.linear.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)

    @torch.no_grad()
    def orthogonalize(self, beta: float) -> None:
        """One step of W <- (1 + beta) W - beta (W W^T) W (Cisse et al. 2017), as MUSE after each
        map update: it pulls W back towards the orthogonal manifold."""
        if beta > 0:
            w = self.linear.weight
            w.copy_((1 + beta) * w - beta * (w @ w.T) @ w)

    @torch.no_grad()
    def project_orthogonal(self) -> None:
        """Replace W by its nearest orthogonal matrix.

        The beta step above moves a singular value s by only beta*s*(1-s^2) per call, far less than
        one SGD step can take away when the discriminator finds a direction to shrink; this exact
        projection undoes any drift at once (11 ms for 300 x 300)."""
        self.linear.weight.copy_(nearest_orthogonal(self.linear.weight))

    @torch.no_grad()
    def set_weight(self, w) -> None:
        self.linear.weight.copy_(torch.as_tensor(w, dtype=torch.float32))


class Discriminator(nn.Module):
    """P(src = 1 | z): input dropout, ``layers`` hidden LeakyReLU(0.2) layers, sigmoid output."""

    def __init__(self, dim: int, layers: int = 2, hid_dim: int = 2048, dropout: float = 0.0,
                 input_dropout: float = 0.1):
        super().__init__()
        mods: list[nn.Module] = [nn.Dropout(input_dropout)]
        for i in range(layers + 1):
            d_in = dim if i == 0 else hid_dim
            d_out = 1 if i == layers else hid_dim
            mods.append(nn.Linear(d_in, d_out))
            if i < layers:
                mods.append(nn.LeakyReLU(0.2))
                if dropout > 0:
                    mods.append(nn.Dropout(dropout))
        mods.append(nn.Sigmoid())
        self.layers = nn.Sequential(*mods)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x).view(-1)
