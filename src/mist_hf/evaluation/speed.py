"""Speed measurements, reported as markdown: estimation latency beside the baselines, and generation rates.

Every figure is a median over repeated runs in the same process, so ratios between rows are like for like.
``scripts/benchmark.py`` and ``scripts/bench_generation.py`` print these reports. Training throughput is measured in
:mod:`mist_hf.training.speed` (training sits above evaluation) and handed to :func:`speed_report`.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import torch

from ..data import ExampleStream
from ..modeling_mist import MistModel
from ..prior import PAPER_TRAIN_FAMILIES, SPLITS, SplitSpec, generate_example


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


def _generate(spec: SplitSpec) -> Callable[[int, int], None]:
    def run(lo: int, hi: int) -> None:
        for i in range(lo, hi):
            generate_example(spec, i)

    return run


def generation_rate(spec: SplitSpec, count: int, repeats: int, start: int = 0) -> tuple[float, list[float]]:
    """Datasets per second of ``generate_example`` over ``repeats`` disjoint runs of ``count``: (median, all)."""
    return rate(_generate(spec), count, repeats, start)


def machine() -> str:
    """One line describing the machine and the thread settings."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    gpu = f", GPU: {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ""
    return (
        f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}{gpu}"
    )


def correlated(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A Gaussian sample with ``d`` dependent column pairs (correlation 0.6), for timing."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    return x, 0.6 * x + 0.8 * rng.normal(size=(n, d))


def speed_report(
    model: MistModel,
    sizes: list[int],
    dims: list[int],
    repeats: int = 5,
    infonce_steps: int = 100,
    generation_count: int = 2000,
    training: tuple[float, float] | None = None,
) -> str:
    """The speed table of MIST beside KSG and InfoNCE, the generation rate, and the forward's cost against n; all
    measured in this call. ``training`` is ``(datasets per second, mean n)`` from
    :func:`mist_hf.training.speed.training_rate`, for the training row (left out when ``None``)."""
    from ..estimation import estimate_mi, estimate_mi_batch
    from .baselines import infonce_mi, ksg_mi

    x, y = correlated(500, 16)
    xt, yt = torch.tensor(x, dtype=torch.float32)[None], torch.tensor(y, dtype=torch.float32)[None]
    with torch.no_grad():
        forward = median_time(lambda: model(xt, yt), repeats)
    single = median_time(lambda: estimate_mi(x, y, model), repeats)
    ksg_single = median_time(lambda: ksg_mi(x, y, k=3), repeats)
    pairs = [(e.x, e.y) for e in ExampleStream("validation", indices=range(0, 720, 3), rank=0, world_size=1).examples()]
    batched = median_time(lambda: estimate_mi_batch(pairs, model), max(2, repeats // 2))
    gen, _ = generation_rate(SPLITS["train"], generation_count, repeats)
    lines = [
        "| what | value |",
        "|---|---|",
        f"| MIST estimate_mi, one dataset n=500 dx=dy=16 | {1000 * single:.1f} ms |",
        f"| MIST forward only, same data | {1000 * forward:.1f} ms |",
        f"| KSG k=3, same data | {1000 * ksg_single:.1f} ms |",
        f"| MIST batched, {len(pairs)} validation datasets (mean n {np.mean([p[0].shape[0] for p in pairs]):.0f}) "
        f"| {len(pairs) / batched:.0f} datasets/s |",
        f"| meta-dataset generation, train prior, one process | {gen:,.0f} datasets/s |",
    ]
    if training is not None:
        lines.append(f"| training, batches of 32 (mean n {training[1]:.0f}) | {training[0]:.0f} datasets/s |")
    lines += [
        "\nMilliseconds per estimate (median):\n",
        "| n | d | MIST | KSG k=3 | InfoNCE |",
        "|---|---|---|---|---|",
    ]
    for n in sizes:
        for d in (d for d in dims if d <= model.config.max_dim):
            xs, ys = correlated(n, d, seed=n + d)
            reps = max(1, repeats if n <= 1000 else repeats // 2)
            mist = median_time(lambda xs=xs, ys=ys: estimate_mi(xs, ys, model), reps)
            ksg = median_time(lambda xs=xs, ys=ys: ksg_mi(xs, ys, k=3), reps)
            nce = median_time(lambda xs=xs, ys=ys: infonce_mi(xs, ys, steps=infonce_steps), 1, warmup=0)
            lines.append(f"| {n} | {d} | {1000 * mist:.1f} | {1000 * ksg:.1f} | {1000 * nce:.0f} |")
    lines += [
        "\nMIST forward cost against n, no subsampling (dx = dy = 16): linear in n\n",
        "| n | forward ms | ms per 1000 rows |",
        "|---|---|---|",
    ]
    for n in (250, 500, 1000, 2000, 4000):
        xn = torch.randn(1, n, 16)
        yn = xn + torch.randn_like(xn)
        with torch.no_grad():
            t = median_time(lambda xn=xn, yn=yn: model(xn, yn), repeats)
        lines.append(f"| {n} | {1000 * t:.1f} | {1e6 * t / n:.2f} |")
    return "\n".join(lines) + "\n"


PAPER_PRIOR = SplitSpec(
    "paper_prior", seed=1000, families=PAPER_TRAIN_FAMILIES, num_examples=10**9, dim_range=(2, 32), equal_dims=True
)
"""The reference's prior: its 16 training families, dim_x = dim_y in 2..32, n in 10..500."""


def generation_report(count: int, repeats: int) -> str:
    """Datasets per second of ``generate_example`` under the train and the paper's prior, and of its two consumers
    (the example stream and Arrow packing, which the builder and export use): medians of ``repeats`` runs."""
    train = SPLITS["train"]
    probe = [generate_example(train, i) for i in range(2000)]

    def stream(lo: int, hi: int) -> None:
        for _ in ExampleStream("train", lo, hi, rank=0, world_size=1):
            pass

    def packed(lo: int, hi: int) -> None:
        from ..builder import examples_to_table  # needs datasets; this module does not otherwise

        for s in range(lo, hi, 256):
            examples_to_table([generate_example(train, i) for i in range(s, min(s + 256, hi))])

    v2 = SPLITS["train_v2"]
    v2_paper_n = replace(v2, name="train_v2_paper_n", n_range=(10, 500), n_law="uniform")
    cases = [
        ("generate_example, train prior", _generate(train)),
        ("generate_example, paper prior", _generate(PAPER_PRIOR)),
        ("generate_example, v2 prior (train_v2), the paper's n range (U{10..500})", _generate(v2_paper_n)),
        ("generate_example, v2 prior (train_v2), full (n log-uniform 10..5000)", _generate(v2)),
        ("ExampleStream (torch), train prior", stream),
        ("generate + Arrow table (builder/export), train prior", packed),
    ]
    lines = [
        f"machine: {machine()}, numpy {np.__version__}",
        f"train prior: mean n {np.mean([e.n for e in probe]):.0f}, "
        f"mean dim_x + dim_y {np.mean([e.x.shape[1] + e.y.shape[1] for e in probe]):.1f}\n",
        f"| what | datasets/s (median of {repeats}) | all runs |",
        "|---|---|---|",
    ]
    for name, fn in cases:
        fn(600_000, 600_200)  # warm-up
        median, rates = rate(fn, count, repeats)
        lines.append(f"| {name} | {median:,.0f} | {', '.join(f'{r:,.0f}' for r in rates)} |")
    return "\n".join(lines) + "\n"


def copula_table(n: int, d: int, seed: int = 0, factors: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """A ``(n, d)`` table whose every pair of columns has exact MI, and the ``(d, d)`` matrix of those MIs (nats).

    A Gaussian copula with a factor correlation matrix R = L L^T + diag(1 - |L_i|^2) (``factors`` factors; each row
    of L a random direction scaled to a length uniform in (0.3, 0.95), so correlations of both signs up to about
    0.9), each column then put through its own strictly monotone
    map (exp, cube, 3 asinh, the normal CDF, a decreasing exp, or none). Monotone maps keep MI, so the MI of columns
    i and j is the Gaussian one, -log(1 - R_ij^2) / 2 (0 on the diagonal)."""
    rng = np.random.default_rng(seed)
    loadings = rng.normal(size=(d, factors))
    loadings *= rng.uniform(0.3, 0.95, size=(d, 1)) / np.linalg.norm(loadings, axis=1, keepdims=True)
    corr = loadings @ loadings.T
    np.fill_diagonal(corr, 1.0)
    z = rng.normal(size=(n, factors)) @ loadings.T + rng.normal(size=(n, d)) * np.sqrt(1 - (loadings**2).sum(1))
    from scipy.special import ndtr

    maps = [np.exp, lambda v: v**3, lambda v: 3 * np.arcsinh(v), ndtr, lambda v: -np.exp(v / 2), lambda v: v]
    table = np.stack([maps[j % len(maps)](z[:, j]) for j in range(d)], axis=1)
    mi = -0.5 * np.log1p(-(corr**2) + np.eye(d))  # the diagonal becomes -log(1)/2 = 0
    return table, mi
