"""Rebuild the label tables that ship with the package (``mist_hf/samplers/tables/<name>.npz``).

The counts and rounded families draw their parameters from fixed grids (``mist_hf.samplers.mixed``); their MI
labels on those grids are computed once by quadrature and stored, so that a new process need not recompute
them. Rebuild after changing a grid or a label's quadrature (a table whose grid no longer matches is ignored
with a warning, and the labels are computed by quadrature):

    python scripts/build_mi_tables.py
    python scripts/build_mi_tables.py --out /tmp/tables --only rounded_gaussian
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from mist_hf.samplers import mixed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=mixed.TABLES_DIR, help="folder of the tables (the package's)")
    parser.add_argument("--only", choices=sorted(mixed.TABLES), action="append", help="rebuild only these tables")
    args = parser.parse_args()
    builders = {
        "counts_poisson": mixed.build_counts_poisson_table,
        "counts_negbin": mixed.build_counts_negbin_table,
        "rounded_gaussian": mixed.build_rounded_gaussian_table,
    }
    for name in args.only or builders:
        start = time.perf_counter()
        path = builders[name](args.out / f"{name}.npz")
        seconds = time.perf_counter() - start
        print(f"{name}: {path} ({path.stat().st_size:,} bytes) in {seconds:.1f} s")


if __name__ == "__main__":
    main()
