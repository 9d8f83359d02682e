"""A model on the most basic null: X and Y independent, every column independent standard Gaussian.

For each n and (dim_x, dim_y), ``--samples`` samples (seeds 0, 1, ...), estimated in one batch; prints the median
estimate and the median upper end of the 90% interval, in nats. A model that reads "no correlation anywhere" as
dependence shows up here (see docs/training-v2.md)::

    python scripts/independence_check.py --model mist-mi
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

DIMS = ((1, 1), (2, 2), (4, 4), (5, 5), (8, 8), (16, 16), (4, 8))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model folder (default: the shipped mist-mi)")
    parser.add_argument("--ns", type=int, nargs="+", default=[100, 500, 2000])
    parser.add_argument("--samples", type=int, default=6)
    args = parser.parse_args(argv)

    import warnings

    import numpy as np

    from mist_hf.estimation import estimate_mi_batch, load_model

    model = load_model(args.model)
    print("| n | " + " | ".join(f"{dx}+{dy}" for dx, dy in DIMS) + " |")
    print("|---|" + "---|" * len(DIMS))
    for n in args.ns:
        cells = []
        for dx, dy in DIMS:
            pairs = []
            for seed in range(args.samples):
                rng = np.random.default_rng(seed)
                pairs.append((rng.standard_normal((n, dx)), rng.standard_normal((n, dy))))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                estimates = estimate_mi_batch(pairs, model)
            mi = np.median([e.mi for e in estimates])
            high = np.median([e.interval[1] for e in estimates])
            cells.append(f"{mi:.2f} ({high:.1f})")
        print(f"| {n:,} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
