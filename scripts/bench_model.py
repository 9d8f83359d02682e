"""Speed of MIST on the CPU, with KSG on the same data in the same run.

Reports medians over ``--repeats`` runs of:
- single-dataset latency at n = 500, dx = dy = 16: ``estimate_mi`` end to end, the bare forward, and KSG (k = 3);
- batched throughput: 256 datasets from the train prior through ``estimate_mi_batch``;
- forward cost against n (one dataset, dx = dy = 16), to show it is linear in n;
- training throughput of the config (forward, backward, AdamW step; batches of 32 bucketed by n).

    OMP_NUM_THREADS=1 python scripts/bench_model.py --threads 1 2          # default config, random weights
    python scripts/bench_model.py --model mist-mi                          # a trained checkpoint
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
import torch

from mist_hf import MistConfig, MistModel, estimate_mi, estimate_mi_batch, load_model
from mist_hf.baselines import ksg_mi
from mist_hf.collator import BucketedStream
from mist_hf.meta import SPLITS, generate_example
from mist_hf.streaming import MetaStream


def median_time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def training_rate(config: MistConfig, seconds: float) -> tuple[float, float]:
    torch.manual_seed(0)
    model = MistModel(config).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    batches = iter(BucketedStream(MetaStream("train", 10_000), batch_size=32))
    for _ in range(2):  # warm-up
        model(**next(batches)).loss.backward()
    seen, rows, start = 0, 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        batch = next(batches)
        model(**batch).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        seen += batch["x"].shape[0]
        rows += int(batch["row_mask"].sum())
    elapsed = time.perf_counter() - start
    return seen / elapsed, rows / seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model folder; default: the default config, random weights")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--train-seconds", type=float, default=30.0)
    args = parser.parse_args()

    if args.model:
        model = load_model(args.model)
    else:
        torch.manual_seed(0)
        model = MistModel(MistConfig()).eval()
    config = model.config
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 16))
    y = x @ rng.normal(size=(16, 16)) * 0.3 + rng.normal(size=(500, 16))
    xt, yt = torch.tensor(x, dtype=torch.float32)[None], torch.tensor(y, dtype=torch.float32)[None]
    pairs = [(e.x, e.y) for e in (generate_example(SPLITS["validation"], i) for i in range(0, 720, 720 // 256 + 1))]
    pairs = (pairs * 2)[:256]
    mean_n = np.mean([p[0].shape[0] for p in pairs])

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}")
    print(
        f"model: {args.model or 'default config (random weights)'}, encoder {config.encoder}, "
        f"{sum(p.numel() for p in model.parameters()):,} parameters\n"
    )
    print(
        "| threads | estimate_mi ms | forward ms | KSG k=3 ms | batched datasets/s (256, mean n "
        f"{mean_n:.0f}) | training datasets/s | rows per dataset in training |"
    )
    print("|---|---|---|---|---|---|---|")
    for threads in args.threads:
        torch.set_num_threads(threads)
        api = median_time(lambda: estimate_mi(x, y, model), args.repeats)
        with torch.no_grad():
            fwd = median_time(lambda: model(xt, yt), args.repeats)
        ksg = median_time(lambda: ksg_mi(x, y, k=3), args.repeats)
        batched = median_time(lambda: estimate_mi_batch(pairs, model), max(3, args.repeats // 5))
        train, rows = training_rate(config, args.train_seconds)
        print(
            f"| {threads} | {1000 * api:.1f} | {1000 * fwd:.1f} | {1000 * ksg:.1f} | {256 / batched:.0f} | "
            f"{train:.0f} | {rows:.0f} |"
        )

    torch.set_num_threads(args.threads[-1])
    print(f"\nforward time against n (dx = dy = 16, {args.threads[-1]} threads):\n")
    print("| n | forward ms | ms per 1000 rows |")
    print("|---|---|---|")
    for n in (100, 500, 1000, 2000, 5000):
        xn = torch.randn(1, n, 16)
        with torch.no_grad():
            t = median_time(lambda xn=xn: model(xn, xn + torch.randn_like(xn)), max(3, args.repeats // 3))
        print(f"| {n} | {1000 * t:.1f} | {1e6 * t / n:.2f} |")


if __name__ == "__main__":
    main()
