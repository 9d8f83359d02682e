"""Batching variable-shape samples: padding with explicit masks, and bucketing by n to waste little padding."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.utils.data import IterableDataset


def _as_2d(example: dict[str, Any], key: str) -> np.ndarray:
    """``example[key]`` as an ``(n, dim)`` float32 array; flat rows (the datasets layout) are reshaped."""
    value = np.asarray(example[key], dtype=np.float32)
    if value.ndim == 1:
        value = value.reshape(int(example["n"]), int(example[f"dim_{key}"]))
    return value


@dataclass
class MistCollator:
    """Pads a list of examples into the tensors :class:`~mist_hf.modeling_mist.MistModel` takes.

    Accepts ``{"x": (n, dx), "y": (n, dy), "mi": float}`` (from :class:`~mist_hf.streaming.MetaStream`) or the
    flat datasets layout (``x``, ``y`` flat with ``n``, ``dim_x``, ``dim_y``). Returns ``x (B, N, DX)``,
    ``y (B, N, DY)``, ``row_mask (B, N)``, ``x_mask (B, DX)``, ``y_mask (B, DY)`` and, when ``mi`` is present,
    ``labels (B,)``.
    """

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        xs = [_as_2d(e, "x") for e in examples]
        ys = [_as_2d(e, "y") for e in examples]
        b = len(examples)
        n = max(v.shape[0] for v in xs)
        dx, dy = max(v.shape[1] for v in xs), max(v.shape[1] for v in ys)
        x = np.zeros((b, n, dx), np.float32)
        y = np.zeros((b, n, dy), np.float32)
        row_mask = np.zeros((b, n), bool)
        x_mask = np.zeros((b, dx), bool)
        y_mask = np.zeros((b, dy), bool)
        for i, (xi, yi) in enumerate(zip(xs, ys, strict=True)):
            x[i, : xi.shape[0], : xi.shape[1]] = xi
            y[i, : yi.shape[0], : yi.shape[1]] = yi
            row_mask[i, : xi.shape[0]] = True
            x_mask[i, : xi.shape[1]] = True
            y_mask[i, : yi.shape[1]] = True
        batch = {
            "x": torch.from_numpy(x),
            "y": torch.from_numpy(y),
            "row_mask": torch.from_numpy(row_mask),
            "x_mask": torch.from_numpy(x_mask),
            "y_mask": torch.from_numpy(y_mask),
        }
        if "mi" in examples[0]:
            batch["labels"] = torch.tensor([float(e["mi"]) for e in examples], dtype=torch.float32)
        return batch


def bucket_batches(examples: Iterable[dict[str, Any]], batch_size: int, pool_batches: int = 16) -> Iterator[list]:
    """Group a stream into batches of similar n: fill a pool of ``pool_batches`` batches, sort it by n, cut it.

    Rows padded per batch drop from about a third (random n in 10..500) to a few percent. Batches leave in
    shuffled order so that training does not see n in sorted runs.
    """
    if batch_size < 1 or pool_batches < 1:
        raise ValueError(f"batch_size and pool_batches must be >= 1, got {batch_size} and {pool_batches}")
    rng = np.random.default_rng(0)
    pool: list[dict[str, Any]] = []

    def flush() -> Iterator[list]:
        pool.sort(key=lambda e: _num_rows(e))
        batches = [pool[i : i + batch_size] for i in range(0, len(pool), batch_size)]
        for j in rng.permutation(len(batches)):
            yield batches[j]
        pool.clear()

    for example in examples:
        pool.append(example)
        if len(pool) == batch_size * pool_batches:
            yield from flush()
    if pool:
        yield from flush()


def _num_rows(example: dict[str, Any]) -> int:
    return int(example["n"]) if "n" in example else len(example["x"])


class BucketedStream(IterableDataset):
    """Wraps an example stream into n-bucketed, collated batches (use with ``DataLoader(batch_size=None)``)."""

    def __init__(self, stream: IterableDataset, batch_size: int, pool_batches: int = 16) -> None:
        super().__init__()
        self.stream, self.batch_size, self.pool_batches = stream, batch_size, pool_batches
        self.collator = MistCollator()

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        for batch in bucket_batches(self.stream, self.batch_size, self.pool_batches):
            yield self.collator(batch)
