"""Adversarial training (Eq. 3-4, Algorithm 1 step 1), Procrustes refinement (Eq. 5) and
unsupervised model selection, following MUSE's trainer.

The source matrix is mapped into the target space: ``mapped = src @ W.T``. For the paper's
``W_{t->s}`` (e.g. ar->en) the recipe simply names the target language as the map's source.
"""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from zsner.mapping.config import MappingConfig
from zsner.mapping.dictionary import build_dictionary
from zsner.utils import atomic_write
from zsner.mapping.evaluation import mean_cosine
from zsner.mapping.models import Discriminator, Mapping
from zsner.mapping.neighbours import Radii, resolve_precision, unit_rows


def atomic_save_npy(array: np.ndarray, path: str | Path) -> None:
    """np.save through a temporary file and a rename: never a half-written file."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:  # a file handle: np.save would append .npy to a path
            np.save(handle, array)

    atomic_write(path, write)


def atomic_torch_save(obj: Any, path: str | Path) -> None:
    atomic_write(path, lambda tmp: torch.save(obj, tmp))


def procrustes_solution(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The orthogonal W minimising ||W a_i - b_i|| over rows: W = U V^T with U S V^T = SVD(B^T A)."""
    m = b.astype(np.float64).T @ a.astype(np.float64)
    u, _, vt = np.linalg.svd(m)
    return (u @ vt).astype(np.float32)


class Trainer:
    """Holds the two embedding matrices, the map, the discriminator and their optimisers."""

    def __init__(self, src: torch.Tensor, tgt: torch.Tensor, cfg: MappingConfig,
                 device: str | torch.device = "cpu"):
        self.cfg = cfg
        self.device = torch.device(device)
        self.src = src.to(self.device, torch.float32)
        self.tgt = tgt.to(self.device, torch.float32)
        dim = self.src.shape[1]
        torch.manual_seed(cfg.seed)
        self.mapping = Mapping(dim).to(self.device)
        self.discriminator = Discriminator(dim, cfg.dis_layers, cfg.dis_hid_dim, cfg.dis_dropout,
                                           cfg.dis_input_dropout).to(self.device)
        self.map_optimizer = torch.optim.SGD(self.mapping.parameters(), lr=cfg.map_lr)
        self.dis_optimizer = torch.optim.SGD(self.discriminator.parameters(), lr=cfg.dis_lr)
        self.precision = resolve_precision(cfg.precision, self.device)
        self.generator = torch.Generator().manual_seed(cfg.seed)  # batch sampling (CPU, portable)
        self.best_criterion = -1e12
        self.best_w: np.ndarray | None = None
        self.decrease_lr = False
        self.tgt_unit = unit_rows(self.tgt)
        self._radii: tuple[int, Radii] | None = None
        self._version = 0  # bumped whenever W changes: radii are valid for one version
        self._map_steps = 0  # counts map updates, for cfg.orthogonal_every
        # the discriminator sees only the most frequent words of each side
        self.n_dis = (min(cfg.dis_most_frequent, self.src.shape[0]), min(cfg.dis_most_frequent, self.tgt.shape[0]))
        self.bce = nn.BCELoss()

    # ---------------------------------------------------------------- adversarial (Eq. 3-4)
    def _autocast(self):
        if self.precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _ids(self, n: int) -> torch.Tensor:
        return torch.randint(n, (self.cfg.batch_size,), generator=self.generator).to(self.device)

    def dis_step(self) -> torch.Tensor:
        """One discriminator update on a fresh batch of mapped-source and target words (Eq. 3)."""
        cfg = self.cfg
        self.discriminator.train()
        with torch.no_grad():
            x_src = self.mapping(self.src[self._ids(self.n_dis[0])])
        x = torch.cat([x_src, self.tgt[self._ids(self.n_dis[1])]])
        y = torch.full((2 * cfg.batch_size,), cfg.dis_smooth, device=self.device)
        y[: cfg.batch_size] = 1 - cfg.dis_smooth  # source = 1 (smoothed)
        with self._autocast():
            preds = self.discriminator(x)
        loss = self.bce(preds.float(), y)
        self.dis_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.dis_optimizer.step()
        if cfg.dis_clip_weights > 0:
            with torch.no_grad():
                for p in self.discriminator.parameters():
                    p.clamp_(-cfg.dis_clip_weights, cfg.dis_clip_weights)
        return loss.detach()

    def mapping_step(self) -> torch.Tensor:
        """One map update to fool the discriminator (Eq. 4), then orthogonalisation.

        Only the mapped-source half of MUSE's batch depends on W; the target half adds nothing to
        the gradient, so it is skipped and the loss halved to keep MUSE's gradient exactly.
        """
        cfg = self.cfg
        self.discriminator.eval()
        for p in self.discriminator.parameters():
            p.requires_grad_(False)
        try:
            x = self.mapping(self.src[self._ids(self.n_dis[0])])
            y = torch.full((cfg.batch_size,), cfg.dis_smooth, device=self.device)  # flipped label
            with self._autocast():
                preds = self.discriminator(x)
            loss = 0.5 * cfg.dis_lambda * self.bce(preds.float(), y)
            self.map_optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.map_optimizer.step()
        finally:
            for p in self.discriminator.parameters():
                p.requires_grad_(True)
        self.mapping.orthogonalize(cfg.map_beta)
        self._map_steps += 1
        if cfg.orthogonal_every and self._map_steps % cfg.orthogonal_every == 0:
            self.mapping.project_orthogonal()
        self._version += 1
        return loss.detach()

    def update_lr(self, criterion: float) -> list[str]:
        """MUSE: decay the map lr each epoch; halve it when the criterion drops again."""
        cfg, notes = self.cfg, []
        group = self.map_optimizer.param_groups[0]
        old = group["lr"]
        new = max(cfg.min_lr, old * cfg.lr_decay)
        if new < old:
            group["lr"] = new
            notes.append(f"map lr {old:.6f} -> {new:.6f}")
        if cfg.lr_shrink < 1 and criterion >= -1e7 and criterion < self.best_criterion:
            notes.append(f"criterion below the best: {criterion:.5f} < {self.best_criterion:.5f}")
            if self.decrease_lr:
                group["lr"] *= cfg.lr_shrink
                notes.append(f"shrinking map lr to {group['lr']:.6f}")
            self.decrease_lr = True
        return notes

    # ---------------------------------------------------------------- spaces, radii, criterion
    @torch.no_grad()
    def mapped_unit(self) -> torch.Tensor:
        """Unit-normalised mapped source (recomputed: cheap, 200k x 300 x 300)."""
        return unit_rows(self.mapping(self.src))

    def radii(self, mapped_unit: torch.Tensor | None = None) -> Radii:
        """CSLS radii of the current map, computed once per map version."""
        if self._radii is None or self._radii[0] != self._version:
            src = self.mapped_unit() if mapped_unit is None else mapped_unit
            self._radii = (self._version, Radii(src, self.tgt_unit, self.cfg.csls_k, self.precision,
                                                self.cfg.knn_chunk))
        return self._radii[1]

    def criterion(self) -> float:
        """Mean cosine of the CSLS translations of the ``criterion_words`` most frequent source words."""
        src = self.mapped_unit()
        return mean_cosine(src, self.tgt_unit, self.radii(src), self.cfg.criterion_words,
                           f"csls_knn_{self.cfg.csls_k}", self.cfg.knn_chunk)

    # ---------------------------------------------------------------- refinement (Eq. 5)
    def procrustes(self, pairs: np.ndarray) -> None:
        a = self.src[torch.as_tensor(pairs[:, 0], device=self.device)].cpu().numpy()
        b = self.tgt[torch.as_tensor(pairs[:, 1], device=self.device)].cpu().numpy()
        self.set_weight(procrustes_solution(a, b))

    def induce_dictionary(self) -> np.ndarray:
        src = self.mapped_unit()
        cfg = self.cfg
        return build_dictionary(src, self.tgt_unit, self.radii(src), cfg.dico_method, cfg.dico_build,
                                cfg.dico_max_rank, cfg.dico_max_size, cfg.knn_chunk)

    def refine_step(self) -> int:
        """Induce a dictionary from the current map and replace W by its Procrustes solution."""
        pairs = self.induce_dictionary()
        if len(pairs) == 0:
            return 0
        self.procrustes(pairs)
        return len(pairs)

    # ---------------------------------------------------------------- weights and checkpoints
    @property
    def weight(self) -> np.ndarray:
        return self.mapping.weight.detach().cpu().numpy().copy()

    def set_weight(self, w: np.ndarray | torch.Tensor) -> None:
        self.mapping.set_weight(w)
        self._version += 1

    def save_best(self, criterion: float, path: str | Path | None = None) -> bool:
        """Keep W if ``criterion`` beats the best so far (and write it atomically to ``path``)."""
        if criterion > self.best_criterion:
            self.best_criterion = criterion
            self.best_w = self.weight
            if path is not None:
                atomic_save_npy(self.best_w, path)
            return True
        return False

    def reload_best(self) -> None:
        if self.best_w is not None:
            self.set_weight(self.best_w)

    def state_dict(self) -> dict[str, Any]:
        return {
            "mapping": self.mapping.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "map_optimizer": self.map_optimizer.state_dict(),
            "dis_optimizer": self.dis_optimizer.state_dict(),
            "generator": self.generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "best_criterion": self.best_criterion,
            "best_w": self.best_w,
            "decrease_lr": self.decrease_lr,
            "map_steps": self._map_steps,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.mapping.load_state_dict(state["mapping"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.map_optimizer.load_state_dict(state["map_optimizer"])
        self.dis_optimizer.load_state_dict(state["dis_optimizer"])
        self.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        self.best_criterion = state["best_criterion"]
        self.best_w = state["best_w"]
        self.decrease_lr = state["decrease_lr"]
        self._map_steps = state.get("map_steps", 0)
        self._version += 1
