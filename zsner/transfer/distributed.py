"""Data-parallel fine-tuning over several processes (``torchrun``): gloo on CPUs, NCCL on GPUs.

Every process builds the same model and the same length-bucketed batches (same seed); each takes its own
share of every batch, and DistributedDataParallel averages the gradients, so one step of N processes is
one step of a single process over the whole batch (exactly, for the CRF head's per-sentence mean loss,
when the shares are equal and dropout is off). Only the first process evaluates, saves and writes the
run directory; the others wait at a barrier.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch

from zsner.errors import ZsnerError


@dataclass
class Workers:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world > 1

    def share(self, chosen: list[int]) -> list[int]:
        """This process's part of a batch; every process gets at least one window (all must step together)."""
        if not self.distributed:
            return chosen
        mine = chosen[self.rank :: self.world]
        return mine or [chosen[self.rank % len(chosen)]]

    def barrier(self) -> None:
        if self.distributed:
            torch.distributed.barrier()

    def device(self, device: torch.device) -> torch.device:
        if self.distributed and device.type == "cuda":
            torch.cuda.set_device(self.local_rank)
            return torch.device("cuda", self.local_rank)
        return device

    def wrap(self, model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
        if not self.distributed:
            return model
        from torch.nn.parallel import DistributedDataParallel

        ids = [device.index] if device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids)

    def close(self) -> None:
        if self.distributed and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def workers_from_environment(device: torch.device, sparse_embeddings: bool) -> Workers:
    """The process group ``torchrun`` describes in the environment (one process when there is none)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Workers()
    if sparse_embeddings:
        raise ZsnerError("[transfer] embeddings = 'sparse' cannot be trained over several processes; use frozen or full")
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return Workers(torch.distributed.get_rank(), world, int(os.environ.get("LOCAL_RANK", "0")))
