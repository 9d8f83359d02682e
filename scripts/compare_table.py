"""Render the architecture comparison (``runs/compare/*.json`` from compare_architectures.py) as markdown.

python scripts/compare_table.py runs/compare
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, nargs="?", default=Path("runs/compare"))
    args = parser.parse_args()
    rows = [json.loads(p.read_text()) for p in sorted(args.folder.glob("*.json"))]
    print(
        "| candidate | params | datasets seen (15 min) | train datasets/s | latency ms (n=500, d=16) | "
        "val MSE | val MAE | val cov90 | OOMD MSE | OOMD MAE | OOMD cov90 | OOMD MSE by n bin |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: r["validation"]["mse"]):
        v, o = r["validation"], r["test_oomd"]
        bins = " / ".join(f"{o[k]:.2f}" for k in ("mse_10_100", "mse_101_300", "mse_301_500"))
        print(
            f"| {r['name']} | {r['parameters']:,} | {r['datasets_seen']:,} | {r['train_datasets_per_s']:.0f} | "
            f"{r['latency_ms_n500_d16']:.1f} | {v['mse']:.2f} | {v['mae']:.3f} | {v['coverage90']:.2f} | "
            f"{o['mse']:.2f} | {o['mae']:.3f} | {o['coverage90']:.2f} | {bins} |"
        )


if __name__ == "__main__":
    main()
