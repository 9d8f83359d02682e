"""Timing helpers shared by the benchmark scripts: medians of repeated runs, generation and training rates."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable

import torch

from .collator import BucketedStream
from .configuration_mist import MistConfig
from .meta import SplitSpec, generate_example
from .modeling_mist import MistModel
from .streaming import MetaStream


def median_time(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median wall time in seconds of ``repeats`` calls of ``fn`` after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def rate(fn: Callable[[int, int], object], count: int, repeats: int, start: int = 0) -> tuple[float, list[float]]:
    """Items per second of ``fn(lo, hi)`` over ``repeats`` disjoint index ranges of ``count``: (median, all)."""
    rates = []
    for r in range(repeats):
        lo = start + r * count
        began = time.perf_counter()
        fn(lo, lo + count)
        rates.append(count / (time.perf_counter() - began))
    return statistics.median(rates), rates


def generation_rate(spec: SplitSpec, count: int, repeats: int, start: int = 0) -> tuple[float, list[float]]:
    """Datasets per second of ``generate_example`` over ``repeats`` disjoint runs of ``count``: (median, all)."""

    def generate(lo: int, hi: int) -> None:
        for i in range(lo, hi):
            generate_example(spec, i)

    return rate(generate, count, repeats, start)


def training_rate(config: MistConfig, seconds: float, batch_size: int = 32, start: int = 10_000) -> tuple[float, float]:
    """Training datasets per second (forward, backward, AdamW step on n-bucketed train batches) and mean rows."""
    torch.manual_seed(0)
    model = MistModel(config).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    batches = iter(BucketedStream(MetaStream("train", start), batch_size=batch_size))
    for _ in range(2):  # warm-up
        model(**next(batches)).loss.backward()
    seen, rows, began = 0, 0, time.perf_counter()
    while time.perf_counter() - began < seconds:
        batch = next(batches)
        model(**batch).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        seen += batch["x"].shape[0]
        rows += int(batch["row_mask"].sum())
    return seen / (time.perf_counter() - began), rows / max(seen, 1)


def machine() -> str:
    """One line describing the machine and the thread settings."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )
