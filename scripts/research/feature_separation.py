"""Can a statistic tell independent columns from hidden dependence? Per family, samples at one shape and n.

For each family and seed: the exact MI, the model's estimate and 90% interval (with ``--model``), KSG (k = 3), and
the head's classical inputs on the normal scores: the Gaussian-copula MI and the quadratic-basis MI (see
``mist_hf.rank_statistics``). Prints one markdown table (median over the seeds, then the range)::

    python scripts/research/feature_separation.py --model checkpoints/mist-v2-prior3 --dims 8 8 --n 500

(``checkpoints/mist-v2-prior3`` comes back with ``git checkout 5e31c91 -- checkpoints/mist-v2-prior3``; any model
folder works.)
"""

from __future__ import annotations

import argparse
import os
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def classical_statistics(x, y) -> list[float]:
    """KSG (k = 3) of one sample ``x`` ``(n, dx)``, ``y`` ``(n, dy)``, and the head's Gaussian-copula and
    quadratic-basis MI of its normal scores (all real rows and columns)."""
    import numpy as np
    import torch

    from mist_hf.evaluation.baselines import ksg_mi
    from mist_hf.layers import normal_scores
    from mist_hf.rank_statistics import Ranks, gaussian_copula_mi, quadratic_copula_mi

    rows = torch.ones(1, x.shape[0], dtype=torch.bool)
    z = normal_scores(torch.as_tensor(np.hstack([x, y]), dtype=torch.float64)[None], rows)
    x_mask, y_mask = torch.ones(1, x.shape[1], dtype=torch.bool), torch.ones(1, y.shape[1], dtype=torch.bool)
    ranks = Ranks.from_scores(z, rows, x_mask, y_mask)
    return [ksg_mi(x, y), float(gaussian_copula_mi(ranks)[0]), float(quadratic_copula_mi(ranks)[0])]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--families", nargs="+", default=["indep-iid", "nonmono-pairs", "nonmono-radial"])
    parser.add_argument("--dims", type=int, nargs=2, default=[8, 8])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--seeds", type=int, default=12)
    parser.add_argument("--model", default=None, help="also the model's estimate (a model folder)")
    args = parser.parse_args(argv)

    import numpy as np

    import mist_hf
    from mist_hf.families import draw_sampler

    model = mist_hf.load_model(args.model) if args.model else None
    columns = ["MI", *(["estimate", "upper 95%"] if model else []), "KSG", "copula", "quadratic"]
    print("| family | " + " | ".join(f"{c} median (range)" for c in columns) + " |")
    print("|---|" + "---|" * len(columns))
    for family in args.families:
        rows = []
        for seed in range(args.seeds):
            rng = np.random.default_rng(100 + seed)
            sampler = draw_sampler(family, *args.dims, rng)
            x, y = sampler.sample(args.n, rng)
            row = [sampler.mutual_information()]
            if model is not None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # out-of-prior warnings are not the point here
                    est = mist_hf.estimate_mi(x, y, model)
                row += [est.mi, est.interval[1]]
            row += classical_statistics(x, y)
            rows.append(row)
        table = np.array(rows)
        cells = [f"{np.median(c):.2f} ({c.min():.2f} to {c.max():.2f})" for c in table.T]
        print(f"| {family} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
