"""Check every family's stated MI against an independent Monte Carlo estimate, over random draws.

The families are read from the registry (``mist_hf.families``): every family that a split of
``mist_hf.prior.SPLITS`` uses, plus an explicit ``<wrapper>-<base>`` family in place of each bare wrapper family
(whose base is drawn at random); ``--all`` checks every registered family instead, and ``--only`` / ``--skip``
choose families by glob pattern. For each family, draws
``--draws`` samplers (dims from the family's minimum to 32, independently) with the meta-dataset's parameter
ranges, and compares the stated MI with the mean of log p(x, y) - log p(x) - log p(y) over ``--n`` samples
(see ``mist_hf.samplers.verify``). Prints one row per family with the worst deviation in standard errors, and
the overall worst.

    python scripts/verify_ground_truth.py --n 100000 --draws 4
    python scripts/verify_ground_truth.py --n 200000 --draws 2 --only 'nonmono-*' 'highmi-*' --max-dim 2
"""

from __future__ import annotations

import argparse
import fnmatch
import time

import numpy as np

from mist_hf.families import FAMILIES, WRAPPERS, draw_sampler, family_min_dim
from mist_hf.prior import SPLITS
from mist_hf.samplers.verify import monte_carlo_mi

EXPLICIT_WRAPPED = ("rotated-student-dense-wiggly", "mixed-student-dense-wiggly", "mixflow-normal-lvm-base",
                    "mixplanar-additive-base", "signed-student-2pair-asinh")  # fmt: skip
"""Checked in place of the bare wrappers, whose base changes from draw to draw."""


def families_to_check(everything: bool = False) -> tuple[str, ...]:
    """The wrapped example, then the families the splits use (or every registered one), without bare wrappers."""
    names = FAMILIES if everything else [name for spec in SPLITS.values() for name in spec.families]
    return tuple(dict.fromkeys(name for name in (*EXPLICIT_WRAPPED, *names) if name not in WRAPPERS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000, help="Monte Carlo sample size per draw")
    parser.add_argument("--draws", type=int, default=4, help="random samplers per family")
    parser.add_argument("--max-dim", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--all", action="store_true", help="every registered family, not only those in splits")
    parser.add_argument("--only", nargs="*", default=None, help="check only families matching these glob patterns")
    parser.add_argument("--skip", nargs="*", default=(), help="skip families matching these glob patterns")
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    print("| family | draws | dims (dx, dy) | MI range (nats) | worst |MC - MI| | worst deviation (SE) |")
    print("|---|---|---|---|---|---|")
    worst_all, start = 0.0, time.perf_counter()
    chosen = [
        f
        for f in families_to_check(args.all)
        if (args.only is None or any(fnmatch.fnmatch(f, p) for p in args.only))
        and not any(fnmatch.fnmatch(f, p) for p in args.skip)
    ]
    for family in chosen:
        lo = family_min_dim(family)
        dims, mis, devs, zs = [], [], [], []
        for _ in range(args.draws):
            dx, dy = (int(v) for v in rng.integers(lo, args.max_dim + 1, size=2))
            sampler = draw_sampler(family, dx, dy, rng)
            mean, se = monte_carlo_mi(sampler, args.n, rng)
            mi = sampler.mutual_information()
            dims.append(f"({dx},{dy})")
            mis.append(mi)
            devs.append(abs(mean - mi))
            zs.append(abs(mean - mi) / max(se, 1e-12) if devs[-1] > 1e-9 else 0.0)
        worst_all = max(worst_all, max(zs))
        print(
            f"| {family} | {args.draws} | {' '.join(dims)} | {min(mis):.3f}-{max(mis):.3f} | "
            f"{max(devs):.4f} | {max(zs):.2f} |"
        )
    print(f"\nworst deviation over all checks: {worst_all:.2f} standard errors ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
