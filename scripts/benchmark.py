"""One speed table for MIST and the baselines, all measured in the same run on this machine.

- MIST single-dataset latency (``estimate_mi`` end to end, and the bare forward) and batched throughput;
- KSG (k = 3) and InfoNCE at n in {100, 500, 1000, 5000} and dx = dy in {1, 8, 32}, with MIST beside them;
- meta-dataset generation rate (train prior, one process) and training throughput of the model's config;
- the bare forward's cost against n (no subsampling), to show that it grows linearly.

Every figure is a median over ``--repeats`` runs. MIST above its trained n (500) subsamples and aggregates.

    OMP_NUM_THREADS=1 python scripts/benchmark.py                        # default config, random weights
    OMP_NUM_THREADS=1 python scripts/benchmark.py --model mist-mi --threads 2
"""

from __future__ import annotations

import argparse

import torch

from mist_hf import MistConfig, MistModel, load_model
from mist_hf.evaluation.speed import machine, speed_report
from mist_hf.training.speed import training_rate


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
    torch.manual_seed(0)
    model = load_model(args.model) if args.model else MistModel(MistConfig()).eval()
    print(f"machine: {machine()}")
    print(f"model: {args.model or 'default config, random weights'} ({sum(p.numel() for p in model.parameters()):,} "
          "parameters)\n")  # fmt: skip
    training = training_rate(model.config, args.train_seconds)
    print(speed_report(model, args.sizes, args.dims, args.repeats, args.infonce_steps, args.generation_count,
                       training=training))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
