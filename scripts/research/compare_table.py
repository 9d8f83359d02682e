"""Render the variant comparison (``runs/compare/*.json`` from compare_architectures.py) as markdown.

python scripts/research/compare_table.py runs/compare
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
    print("| variant | params | minutes | latency ms (n=500, d=16) | val MAE by n bin | val cov90 | OOMD MAE by n bin "
          "| OOMD cov90 |\n|---|---|---|---|---|---|---|---|")  # fmt: skip
    for r in rows:
        cells = []
        for split in ("validation", "test_oomd"):
            s = r[split]
            cells += [
                " / ".join(f"{s['by_n'][b]['mae']:.3f}" for b in s["bins"] if b in s["by_n"]),
                f"{s['coverage90']:.2f}",
            ]
        print(f"| {r['name']} | {r['parameters']:,} | {r['train_minutes']:.1f} | {r['latency_ms_n500_d16']:.1f} | "
              + " | ".join(cells) + " |")  # fmt: skip


if __name__ == "__main__":
    main()
