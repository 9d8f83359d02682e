"""One speed table for MIST and the baselines, all measured in the same run on this machine.

- MIST single-dataset latency (``estimate_mi`` end to end, and the bare forward) and batched throughput;
- KSG (k = 3) and InfoNCE at n in {100, 500, 1000, 5000} and dx = dy in {1, 8, 32}, with MIST beside them;
- meta-dataset generation rate (train prior, one process);
- training throughput of the model's config;
- the bare forward's cost against n (no subsampling), to show that it grows linearly.

Every figure is a median over ``--repeats`` runs. MIST above its trained n (500) subsamples and aggregates.

    OMP_NUM_THREADS=1 python scripts/benchmark.py                        # default config, random weights
    OMP_NUM_THREADS=1 python scripts/benchmark.py --model mist-mi --threads 2
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from mist_hf import MistConfig, MistModel, estimate_mi, estimate_mi_batch, load_model
from mist_hf.baselines import infonce_mi, ksg_mi
from mist_hf.benchmarking import generation_rate, machine, median_time, training_rate
from mist_hf.meta import SPLITS, generate_example


def correlated(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    return x, 0.6 * x + 0.8 * rng.normal(size=(n, d))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model folder; default: the default config, random weights")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 1000, 5000])
    parser.add_argument("--dims", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--infonce-steps", type=int, default=100)
    parser.add_argument("--train-seconds", type=float, default=20.0)
    parser.add_argument("--generation-count", type=int, default=2000)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.model:
        model = load_model(args.model)
    else:
        torch.manual_seed(0)
        model = MistModel(MistConfig()).eval()
    print(f"machine: {machine()}")
    print(f"model: {args.model or 'default config, random weights'} ({model.config.encoder}, "
          f"{sum(p.numel() for p in model.parameters()):,} parameters)\n")  # fmt: skip

    x, y = correlated(500, 16)
    xt, yt = torch.tensor(x, dtype=torch.float32)[None], torch.tensor(y, dtype=torch.float32)[None]
    with torch.no_grad():
        forward = median_time(lambda: model(xt, yt), args.repeats)
    single = median_time(lambda: estimate_mi(x, y, model), args.repeats)
    ksg_single = median_time(lambda: ksg_mi(x, y, k=3), args.repeats)
    pairs = [(e.x, e.y) for e in (generate_example(SPLITS["validation"], i) for i in range(0, 720, 3))][:256]
    batched = median_time(lambda: estimate_mi_batch(pairs, model), max(2, args.repeats // 2))
    print("| what | value |")
    print("|---|---|")
    print(f"| MIST estimate_mi, one dataset n=500 dx=dy=16 | {1000 * single:.1f} ms |")
    print(f"| MIST forward only, same data | {1000 * forward:.1f} ms |")
    print(f"| KSG k=3, same data | {1000 * ksg_single:.1f} ms |")
    print(f"| MIST batched, 256 validation datasets (mean n {np.mean([p[0].shape[0] for p in pairs]):.0f}) | "
          f"{len(pairs) / batched:.0f} datasets/s |")  # fmt: skip
    gen, _ = generation_rate(SPLITS["train"], args.generation_count, args.repeats)
    print(f"| meta-dataset generation, train prior, one process | {gen:,.0f} datasets/s |")
    train, rows = training_rate(model.config, args.train_seconds)
    print(f"| training, batches of 32 (mean n {rows:.0f}) | {train:.0f} datasets/s |")

    print("\nMilliseconds per estimate (median):\n")
    print("| n | d | MIST | KSG k=3 | InfoNCE |")
    print("|---|---|---|---|---|")
    for n in args.sizes:
        for d in args.dims:
            if d > model.config.max_dim:
                continue
            xs, ys = correlated(n, d, seed=n + d)
            reps = max(1, args.repeats if n <= 1000 else args.repeats // 2)
            mist = median_time(lambda xs=xs, ys=ys: estimate_mi(xs, ys, model), reps)
            ksg = median_time(lambda xs=xs, ys=ys: ksg_mi(xs, ys, k=3), reps)
            nce = median_time(lambda xs=xs, ys=ys: infonce_mi(xs, ys, steps=args.infonce_steps), 1, warmup=0)
            print(f"| {n} | {d} | {1000 * mist:.1f} | {1000 * ksg:.1f} | {1000 * nce:.0f} |")

    print("\nMIST forward cost against n, no subsampling (dx = dy = 16): linear in n\n")
    print("| n | forward ms | ms per 1000 rows |")
    print("|---|---|---|")
    for n in (250, 500, 1000, 2000, 4000):
        xn = torch.randn(1, n, 16)
        yn = xn + torch.randn_like(xn)
        with torch.no_grad():
            t = median_time(lambda xn=xn, yn=yn: model(xn, yn), args.repeats)
        print(f"| {n} | {1000 * t:.1f} | {1e6 * t / n:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
