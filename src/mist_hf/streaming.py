"""Streaming the meta-dataset for training: examples are generated on the fly, nothing touches the disk.

Two equivalent entry points:

- :class:`MetaStream`, a ``torch.utils.data.IterableDataset`` that yields ``{"x": (n, dim_x) float32,
  "y": (n, dim_y) float32, "mi": float, ...}`` and shards itself over DataLoader workers and distributed
  ranks (example ``i`` goes to shard ``i mod num_shards``). This is the fast path for training.
- :func:`hf_stream`, a ``datasets.IterableDataset`` with the flat :data:`~mist_hf.builder.FEATURES` layout,
  split into contiguous index ranges so that ``datasets`` hands whole ranges to workers
  (and ``datasets.distributed.split_dataset_by_node`` to ranks).

Both produce exactly the examples of ``generate_example(spec, i)``, so a run can stop and resume at any index.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import datasets
import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from .builder import FEATURES
from .meta import SplitSpec, generate_example, get_split


def _resolve(split: str | SplitSpec, start: int, stop: int | None) -> tuple[SplitSpec, int, int]:
    spec = get_split(split) if isinstance(split, str) else split
    stop = spec.size if stop is None else stop
    if not 0 <= start <= stop <= spec.size:
        raise ValueError(
            f"need 0 <= start <= stop <= {spec.size} for split {spec.name!r}, got start={start}, stop={stop}"
        )
    return spec, start, stop


class MetaStream(IterableDataset):
    """Examples ``start, ..., stop - 1`` of a split, generated on the fly and sharded over workers and ranks.

    Args:
        split: a split name from ``mist_hf.meta.SPLITS`` or a :class:`~mist_hf.meta.SplitSpec`.
        start, stop: the index range (default: the whole split).
        rank, world_size: this process's shard of a distributed run; by default read from
            ``torch.distributed`` when it is initialised, else ``0`` and ``1``.
    """

    def __init__(
        self,
        split: str | SplitSpec = "train",
        start: int = 0,
        stop: int | None = None,
        rank: int | None = None,
        world_size: int | None = None,
    ) -> None:
        super().__init__()
        self.spec, self.start, self.stop = _resolve(split, start, stop)
        self.rank, self.world_size = rank, world_size
        if world_size is not None and (world_size < 1 or not 0 <= (rank or 0) < world_size):
            raise ValueError(f"need 0 <= rank < world_size, got rank={rank}, world_size={world_size}")

    def _shard(self) -> tuple[int, int]:
        rank, world = self.rank, self.world_size
        if world is None:
            dist = torch.distributed.is_available() and torch.distributed.is_initialized()
            rank, world = (torch.distributed.get_rank(), torch.distributed.get_world_size()) if dist else (0, 1)
        info = get_worker_info()
        workers, worker = (info.num_workers, info.id) if info is not None else (1, 0)
        return (rank or 0) * workers + worker, world * workers

    def __iter__(self) -> Iterator[dict[str, Any]]:
        shard, num_shards = self._shard()
        for i in range(self.start + shard, self.stop, num_shards):
            ex = generate_example(self.spec, i)
            yield {"x": ex.x, "y": ex.y, "mi": ex.mi, "family": ex.family, "seed": ex.seed, "index": i}


def _generate_records(spec: SplitSpec, ranges: list[tuple[int, int]]) -> Iterator[dict[str, Any]]:
    for lo, hi in ranges:
        for i in range(lo, hi):
            yield generate_example(spec, i).to_record()


def hf_stream(
    split: str | SplitSpec = "train", start: int = 0, stop: int | None = None, num_shards: int = 64
) -> datasets.IterableDataset:
    """A ``datasets.IterableDataset`` over examples ``start, ..., stop - 1``, in ``num_shards`` index ranges."""
    spec, start, stop = _resolve(split, start, stop)
    if num_shards < 1:
        raise ValueError(f"num_shards must be >= 1, got {num_shards}")
    edges = np.linspace(start, stop, min(num_shards, max(stop - start, 1)) + 1).round().astype(int)
    ranges = [(int(a), int(b)) for a, b in itertools.pairwise(edges)]
    return datasets.IterableDataset.from_generator(
        _generate_records, features=FEATURES, gen_kwargs={"spec": spec, "ranges": ranges}
    )
