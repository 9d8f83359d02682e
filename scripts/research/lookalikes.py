"""Which training samples look independent? The prior mass behind "no dependence to be seen", at one shape and n.

For every training family of the v2 prior, ``--seeds`` samples at ``--dims`` and ``--n``: KSG (k = 3) and the
head's Gaussian-copula and quadratic inputs. A sample "looks independent" when all three fall at or below their
95th percentile over the ``indep-iid`` samples. Prints, for each family with look-alikes, its prior probability
(signed variant included), the share of its samples that look independent, the prior mass that makes, and their
exact MI; then the total mass and the share of it that is truly independent::

    python scripts/research/lookalikes.py --dims 8 8 --n 500 --seeds 12
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dims", type=int, nargs=2, default=[8, 8])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--seeds", type=int, default=12)
    args = parser.parse_args(argv)

    import numpy as np
    from feature_separation import classical_statistics  # this script's neighbour

    from mist_hf.families import draw_sampler, family_names
    from mist_hf.prior import v2_training_families

    dx, dy = args.dims
    null_families = set(family_names("independence", held_out=False))

    def statistics(family: str, seed: int) -> list[float]:
        rng = np.random.default_rng(1000 + seed)
        sampler = draw_sampler(family, dx, dy, rng)
        x, y = sampler.sample(args.n, rng)
        return [sampler.mutual_information(), *classical_statistics(x, y)]

    families, weights = v2_training_families()
    prior: dict[str, float] = {}
    for name, weight in zip(families, weights, strict=True):
        base = name.removeprefix("signed-")
        prior[base] = prior.get(base, 0.0) + weight
    table = {name: np.array([statistics(name, s) for s in range(args.seeds)]) for name in prior}
    limit = np.percentile(table["indep-iid"][:, 1:], 95, axis=0)
    print(f"{dx} + {dy} columns, n = {args.n}; indep-iid 95th percentiles: KSG {limit[0]:.3f}, "
          f"copula {limit[1]:.3f}, quadratic {limit[2]:.3f}\n")  # fmt: skip
    print("| family | prior | looks independent | mass | MI of the look-alikes |")
    print("|---|---|---|---|---|")
    total = independent = 0.0
    for name, rows in table.items():
        looks = np.all(rows[:, 1:] <= limit, axis=1)
        if not looks.any():
            continue
        mass = prior[name] * looks.mean()
        total += mass
        if name in null_families:
            independent += mass
        values = ", ".join(f"{v:.2f}" for v in np.sort(rows[looks, 0]))
        print(f"| {name} | {prior[name]:.4f} | {looks.mean():.2f} | {mass:.4f} | {values} |")
    print(f"\ntotal mass {total:.4f}, of which independent {independent / total:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
