"""Fit ``pooled_interval_exponent`` on validation samples larger than ``max_n``: how much the pooled interval may
narrow past ``max_n`` rows and still hold the truth 90% of the time.

Draws ``--examples`` examples of the validation_v3 prior at n log-uniform on [5,001, 50,000] (split seed 33, used by
no other split), estimates each with the model's pooled reading and no contraction (exponent 0), then for each
exponent on a grid reports the 90% coverage of the contracted intervals and picks the largest exponent whose
coverage is at least ``--coverage``. ``--worker i --workers k`` shares the examples between processes; ``--merge``
reads their outputs::

    python scripts/research/pooled_calibration.py --model checkpoints/mist-v3-candidate --out runs/v3/pooled \\
        --worker 0 --workers 2 &   # and --worker 1
    python scripts/research/pooled_calibration.py --model checkpoints/mist-v3-candidate --out runs/v3/pooled --merge
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SEED = 33
GRID = [round(0.05 * i, 2) for i in range(11)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--coverage", type=float, default=0.9)
    parser.add_argument("--worker", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--merge", action="store_true")
    args = parser.parse_args(argv)

    import numpy as np

    args.out.mkdir(parents=True, exist_ok=True)
    if args.merge:
        rows = [r for p in sorted(args.out.glob("worker-*.json")) for r in json.loads(p.read_text())]
        mi = np.array([r["mi"] for r in rows])
        low, median, high = (np.array([r[k] for r in rows]) for k in ("low", "median", "high"))
        scale = np.array([r["max_n"] / r["rows"] for r in rows])
        print(f"{len(rows)} examples, n {min(r['n'] for r in rows)}-{max(r['n'] for r in rows)}")
        print("| exponent | 90% coverage | mean width |")
        print("|---|---|---|")
        best = 0.0
        for e in GRID:
            lo, hi = median + (low - median) * scale**e, median + (high - median) * scale**e
            held = np.mean((lo <= mi) & (mi <= hi))
            print(f"| {e} | {held:.3f} | {np.mean(hi - lo):.3f} |")
            if held >= args.coverage:
                best = e
        print(f"largest exponent with coverage >= {args.coverage}: {best}")
        return 0

    from mist_hf.estimation import estimate_mi, load_model
    from mist_hf.preprocessing import MisleadingInputWarning
    from mist_hf.prior import generate_example, get_split

    model = load_model(args.model)
    model.config.pooled_interval_exponent = 0.0  # the subsamples' mean interval, uncontracted
    spec = dataclasses.replace(get_split("validation_v3"), name="validation_v3_pooled", seed=SEED,
                               num_examples=args.examples, n_range=(5001, 50000))  # fmt: skip
    rows = []
    for i in range(args.worker, args.examples, args.workers):
        example = generate_example(spec, i)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MisleadingInputWarning)
            try:
                est = estimate_mi(example.x, example.y, model, confidence=0.9)
            except ValueError as err:  # a sample the estimation API refuses (say, a copied column of many values)
                print(f"{i}: refused: {err}", flush=True)
                continue
        rows.append({"index": i, "n": example.n, "dims": example.x.shape[1] + example.y.shape[1], "mi": example.mi,
                     "median": est.mi, "low": est.interval[0], "high": est.interval[1], "rows": est.rows_used,
                     "max_n": model.config.max_n, "family": example.family})  # fmt: skip
        print(f"{i}: n {example.n}, MI {example.mi:.3f}, estimate {est.mi:.3f}", flush=True)
        (args.out / f"worker-{args.worker}.json").write_text(json.dumps(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
