"""Meta-dataset generation throughput, single process, one thread.

Datasets per second of ``generate_example`` (sample + exact MI) under the train prior and the paper's prior, and of
its two consumers: the example stream and Arrow packing (what the builder and export do). Each figure is the median
of ``--repeats`` runs over ``--count`` consecutive examples (a different index range per run)::

    OMP_NUM_THREADS=1 python scripts/bench_generation.py --count 3000 --repeats 5
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # "one core": keep numpy's BLAS from spreading small matmuls

from mist_hf.evaluation.speed import generation_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=3000, help="examples per run")
    parser.add_argument("--repeats", type=int, default=5, help="runs per measurement (the median is reported)")
    args = parser.parse_args(argv)
    print(generation_report(args.count, args.repeats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
