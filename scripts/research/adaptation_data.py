"""Write the adaptation example's target data: scikit-learn's bundled breast-cancer table (569 tumours).

X = the 10 "mean" cell-nucleus features, Y = the 10 "worst" features of the same tumours. The table ships inside
scikit-learn (no download). Nobody here generated it; its MI is unknown, which is why the measurement pushes
held-out synthetic samples with known MI through flows fitted to it (see ``scripts/evaluate_adaptation.py``).

    python scripts/adaptation_data.py --out data    # writes data/breast_cancer_x.csv and data/breast_cancer_y.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("data"))
    args = parser.parse_args(argv)
    try:
        from sklearn.datasets import load_breast_cancer
    except ImportError:
        parser.error("scikit-learn is needed for the example data: pip install -e '.[adapt]'")
    table = load_breast_cancer()
    names = [str(n) for n in table.feature_names]
    args.out.mkdir(parents=True, exist_ok=True)
    for tag, cols in (("x", range(0, 10)), ("y", range(20, 30))):
        path = args.out / f"breast_cancer_{tag}.csv"
        header = ",".join(names[c].replace(" ", "_") for c in cols)
        np.savetxt(path, table.data[:, list(cols)], delimiter=",", header=header, comments="", fmt="%.6g")
        print(f"wrote {path}: {table.data.shape[0]} rows x {len(cols)} columns ({header})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
