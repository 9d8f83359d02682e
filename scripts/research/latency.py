"""Latency of ``estimate_mi`` end to end for several model folders beside KSG (k = 3), in one run.

Gaussian columns ``y = x + noise`` at n in {100, 500, 1000, 5000, 20000} and dx = dy in {1, 4, 8, 32} (8 and 32 up
to 5,000 rows); each cell the median of 5 calls after a warm-up (KSG: 3, one above 5,000 rows), one thread::

    OMP_NUM_THREADS=1 python scripts/research/latency.py mist-mi runs/v3/head
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+")
    args = parser.parse_args(argv)

    import numpy as np
    import torch

    from mist_hf import estimate_mi
    from mist_hf.estimation import load_model
    from mist_hf.evaluation.baselines import ksg_mi

    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    models = {p: load_model(p) for p in args.models}
    rng = np.random.default_rng(0)
    print("| n | dims | " + " | ".join(f"{p} (ms)" for p in models) + " | KSG k = 3 (ms) |")
    print("|---|---|" + "---|" * (len(models) + 1))
    for d in (1, 4, 8, 32):
        for n in (100, 500, 1000, 5000, 20000):
            if d >= 8 and n > 5000:
                continue
            x = rng.standard_normal((n, d))
            y = x + rng.standard_normal((n, d))
            cells = []
            for model in models.values():
                estimate_mi(x, y, model)
                times = []
                for _ in range(5):
                    start = time.perf_counter()
                    estimate_mi(x, y, model)
                    times.append(time.perf_counter() - start)
                cells.append(f"{1000 * np.median(times):.1f}")
            times = []
            for _ in range(3 if n <= 5000 else 1):
                start = time.perf_counter()
                ksg_mi(x, y, 3)
                times.append(time.perf_counter() - start)
            print(f"| {n} | {d} + {d} | " + " | ".join(cells) + f" | {1000 * np.median(times):.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
