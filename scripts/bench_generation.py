"""Meta-dataset generation throughput, single process, one thread.

Measures datasets per second of ``generate_example`` (sample + exact MI) under two priors, and of the two
consumers of the generator: the torch training stream and Arrow packing (what the builder and export do).

- ``train``: this project's training prior (18 families, dim_x and dim_y independent in 1..32, n in 10..500).
- ``paper``: the reference's prior (its 16 training families, dim_x = dim_y in 2..32, n in 10..500).

Each figure is the median of ``--repeats`` runs over ``--count`` consecutive examples (a different index range
per run). Usage::

    OMP_NUM_THREADS=1 python scripts/bench_generation.py --count 3000 --repeats 5
"""

from __future__ import annotations

import argparse
import os
import platform

os.environ.setdefault("OMP_NUM_THREADS", "1")  # "one core": keep numpy's BLAS from spreading small matmuls

import numpy as np

from mist_hf.benchmarking import rate
from mist_hf.builder import examples_to_table
from mist_hf.meta import PAPER_TRAIN_FAMILIES, SPLITS, SplitSpec, generate_example
from mist_hf.streaming import MetaStream

PAPER_PRIOR = SplitSpec(
    "paper_prior", seed=1000, families=PAPER_TRAIN_FAMILIES, num_examples=10**9, dim_range=(2, 32), equal_dims=True
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=3000, help="examples per run")
    parser.add_argument("--repeats", type=int, default=5, help="runs per measurement (the median is reported)")
    args = parser.parse_args()

    train = SPLITS["train"]
    probe = [generate_example(train, i) for i in range(2000)]
    mean_n = np.mean([e.n for e in probe])
    mean_width = np.mean([e.x.shape[1] + e.y.shape[1] for e in probe])

    def gen(spec):
        def run(lo, hi):
            for i in range(lo, hi):
                generate_example(spec, i)

        return run

    def stream(lo, hi):
        for _ in MetaStream("train", lo, hi):
            pass

    def packed(lo, hi):
        for s in range(lo, hi, 256):
            examples_to_table([generate_example(train, i) for i in range(s, min(s + 256, hi))])

    cases = [
        ("generate_example, train prior", gen(train)),
        ("generate_example, paper prior", gen(PAPER_PRIOR)),
        ("MetaStream (torch), train prior", stream),
        ("generate + Arrow table (builder/export), train prior", packed),
    ]
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"numpy {np.__version__}, OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}"
    )
    print(f"train prior: mean n {mean_n:.0f}, mean dim_x + dim_y {mean_width:.1f}\n")
    print(f"| what | datasets/s (median of {args.repeats}) | all runs |")
    print("|---|---|---|")
    for name, fn in cases:
        fn(600_000, 600_200)  # warm-up
        median, rates = rate(fn, args.count, args.repeats)
        print(f"| {name} | {median:,.0f} | {', '.join(f'{r:,.0f}' for r in rates)} |")


if __name__ == "__main__":
    main()
