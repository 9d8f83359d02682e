"""Feeding the meta-dataset to a model: one example stream, and one step that forms padded batches.

- :class:`ExampleStream` yields a split's examples by index, generated on the fly (nothing touches the disk). It
  shards itself over distributed ranks and DataLoader workers with one policy (shard ``s`` of ``S`` takes the
  positions ``start + s, start + s + S, ...``), can cycle through the split forever, and can push each chunk of
  consecutive examples through a transform (modality adaptation maps them through flows, one call per chunk).
- :class:`BatchStream` forms the batches, once: it fills a pool of ``pool_batches * batch_size`` consecutive
  examples of its shard, sorts the pool by n (so batches hold similar n and little padding), cuts it into batches,
  pads each with :func:`~mist_hf.preprocessing.pad_batch` and yields them in an order drawn from a generator
  seeded by the pool's number. Every batch is therefore a pure function of (stream, batch number), and a resumed
  run skips exactly the batches it has used: no example is repeated or skipped.

Training, adaptation, the dataset builder and the benchmarks all read examples through :class:`ExampleStream`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from .preprocessing import pad_batch
from .prior import Example, SplitSpec, generate_example, get_split

Transform = Callable[[list[Example]], list[Example]]


def _distributed() -> tuple[int, int]:
    """``(rank, world_size)`` of the initialised ``torch.distributed`` group, else ``(0, 1)``."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def _worker() -> tuple[int, int]:
    """``(worker id, number of workers)`` inside a DataLoader worker, else ``(0, 1)``."""
    info = get_worker_info()
    return (info.id, info.num_workers) if info is not None else (0, 1)


class ExampleStream(IterableDataset):
    """Examples of a split, by position, generated on the fly and sharded over ranks and DataLoader workers.

    The stream walks *positions* ``start, start + 1, ...``. Position ``p`` is example ``p`` of the split; with
    ``indices`` it is example ``indices[p]``; with ``cycle`` it is example ``p mod stop`` and the stream never
    ends (``stop`` then sets the epoch length; a ``stop`` beyond a prior split's size enlarges the split with more
    distinct examples). Without ``cycle`` the stream ends at ``stop``.

    Args:
        split: a split name from ``mist_hf.prior.SPLITS`` or a :class:`~mist_hf.prior.SplitSpec`.
        start: first position.
        stop: end position (default: the split's size, or ``len(indices)``).
        indices: optional example indices to walk instead of ``0, 1, ...`` (the builder's spread subsets).
        cycle: repeat the positions ``0 .. stop - 1`` forever, starting at ``start`` (which must lie below ``stop``).
        transform: maps each list of ``chunk`` consecutive examples of a shard to new examples.
        chunk: examples per ``transform`` call.
        rank, world_size: this process's shard of a distributed run; default: from ``torch.distributed`` when it is
            initialised, else ``0`` and ``1``. Pass ``rank=0, world_size=1`` for a set every process reads whole.
    """

    def __init__(
        self,
        split: str | SplitSpec,
        start: int = 0,
        stop: int | None = None,
        *,
        indices: Sequence[int] | None = None,
        cycle: bool = False,
        transform: Transform | None = None,
        chunk: int = 1,
        rank: int | None = None,
        world_size: int | None = None,
    ) -> None:
        super().__init__()
        spec = get_split(split) if isinstance(split, str) else split
        size = spec.size if indices is None else len(indices)
        stop = size if stop is None else stop
        if indices is None and stop > spec.size and spec.n_grid is None:
            spec, size = spec.with_size(stop), stop  # more distinct train examples than the split's default size
        if not 0 <= stop <= size or start < 0 or (not cycle and start > stop) or (cycle and stop == 0):
            raise ValueError(
                f"need 0 <= start <= stop <= {size} for split {spec.name!r}, got start={start}, stop={stop}"
            )
        if cycle and start >= stop:
            # Positions wrap at stop, so such a start would silently re-read the examples from start % stop on.
            raise ValueError(
                f"a cycled stream needs start < stop (positions wrap at stop), got start={start}, stop={stop}: "
                f"raise stop (train_examples) above start to read examples from {start} on"
            )
        if indices is not None and any(not 0 <= int(i) < spec.size for i in indices):
            raise ValueError(f"indices must lie in [0, {spec.size}) for split {spec.name!r}")
        if chunk < 1:
            raise ValueError(f"chunk must be >= 1, got {chunk}")
        if world_size is not None and (world_size < 1 or not 0 <= (rank or 0) < world_size):
            raise ValueError(f"need 0 <= rank < world_size, got rank={rank}, world_size={world_size}")
        self.spec, self.start, self.stop, self.cycle = spec, start, stop, cycle
        self.indices = None if indices is None else [int(i) for i in indices]
        self.transform, self.chunk = transform, chunk
        self.rank, self.world_size = rank, world_size

    def shard(self, worker: int | None = None) -> tuple[int, int]:
        """``(shard, number of shards)`` of the calling process and DataLoader worker (or of ``worker``)."""
        rank, world = (self.rank or 0, self.world_size) if self.world_size is not None else _distributed()
        current, workers = _worker()
        return rank * workers + (current if worker is None else worker), world * workers

    def index(self, position: int) -> int:
        """The split index of ``position``."""
        p = position % self.stop if self.cycle else position
        return p if self.indices is None else self.indices[p]

    def positions(self, skip: int = 0, worker: int | None = None) -> Iterator[int]:
        """This shard's positions (or those of ``worker``'s shard), after skipping its first ``skip``."""
        shard, num_shards = self.shard(worker)
        first = self.start + shard + skip * num_shards
        if self.cycle:
            return itertools.count(first, num_shards)
        return iter(range(first, self.stop, num_shards))

    def examples(self, skip: int = 0, worker: int | None = None) -> Iterator[Example]:
        """This shard's examples (after ``transform``), after skipping its first ``skip`` positions."""
        positions = self.positions(skip, worker)
        while True:
            block = [generate_example(self.spec, self.index(p)) for p in itertools.islice(positions, self.chunk)]
            if not block:
                return
            yield from self.transform(block) if self.transform is not None else block

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for ex in self.examples():
            yield {"x": ex.x, "y": ex.y, "mi": ex.mi, "family": ex.family, "seed": ex.seed, "index": ex.index}


class BatchStream(IterableDataset):
    """Padded batches of similar n from an :class:`ExampleStream`; use with ``DataLoader(batch_size=None)``.

    Each shard (rank x DataLoader worker) fills pools of ``pool_batches * batch_size`` consecutive examples of its
    own positions, sorts a pool by n, cuts it into batches and yields them in the order of a permutation drawn from
    ``numpy.random.default_rng([seed, shard, pool number])``. Padding rows drop from about a third (n uniform in
    10..500) to a few percent, and batch ``b`` of a shard is a pure function of ``b``.

    Args:
        examples: the example stream (its ``transform``, if any, runs before bucketing).
        batch_size: examples per batch.
        pool_batches: batches per pool.
        skip_batches: batches this process has already consumed (a resumed run's ``global_step`` times its
            gradient-accumulation steps). A DataLoader takes batch ``t`` from worker ``t mod num_workers`` and starts
            at worker 0, so worker ``k`` of the resumed loader takes over the shard of worker
            ``(k + skip_batches) mod num_workers`` and skips that shard's share; whole pools are skipped without
            generating them.
        seed: seed of the batch order inside pools.
    """

    def __init__(
        self, examples: ExampleStream, batch_size: int, pool_batches: int = 16, skip_batches: int = 0, seed: int = 0
    ) -> None:
        super().__init__()
        if batch_size < 1 or pool_batches < 1:
            raise ValueError(f"batch_size and pool_batches must be >= 1, got {batch_size} and {pool_batches}")
        if skip_batches < 0:
            raise ValueError(f"skip_batches must be >= 0, got {skip_batches}")
        self.examples, self.batch_size, self.pool_batches = examples, batch_size, pool_batches
        self.skip_batches, self.seed = skip_batches, seed

    def example_lists(self) -> Iterator[list[Example]]:
        """This shard's batches as lists of examples, before padding."""
        worker, workers = _worker()
        role = (worker + self.skip_batches) % workers  # the original worker whose next batch this worker yields
        shard, _ = self.examples.shard(role)
        skip = len(range(role, self.skip_batches, workers))  # batches that worker had already handed out
        pool_size = self.batch_size * self.pool_batches
        pool_number, skip_in_pool = divmod(skip, self.pool_batches)
        stream = self.examples.examples(pool_number * pool_size, role)
        while pool := list(itertools.islice(stream, pool_size)):
            pool.sort(key=lambda e: e.n)
            batches = [pool[i : i + self.batch_size] for i in range(0, len(pool), self.batch_size)]
            order = np.random.default_rng([self.seed, shard, pool_number]).permutation(len(batches))
            for j in order[skip_in_pool:]:
                yield batches[j]
            pool_number, skip_in_pool = pool_number + 1, 0

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        for batch in self.example_lists():
            yield pad_batch([{"x": e.x, "y": e.y, "mi": e.mi} for e in batch])
