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
    splits = [k for k in rows[0] if isinstance(rows[0][k], dict) and "by_n" in rows[0][k]] if rows else []
    header = "| variant | params | minutes | latency ms (n=500, d=16) |"
    for split in splits:
        header += f" {split} MAE by n bin | {split} MAE | {split} pinball | {split} cov90 |"
    print(header + "\n|" + "---|" * (4 + 4 * len(splits)))
    for r in rows:
        cells = []
        for split in splits:
            s = r[split]
            overall = s.get("overall", {})
            cells += [
                " / ".join(f"{s['by_n'][b]['mae']:.3f}" for b in s["bins"] if b in s["by_n"]),
                f"{overall['mae']:.3f}" if "mae" in overall else "-",
                f"{overall['pinball']:.4f}" if "pinball" in overall else "-",
                f"{s['coverage90']:.2f}",
            ]
        latency = r.get("latency_ms_n500_d16")  # absent from the earliest lever records
        latency = f"{latency:.1f}" if latency is not None else "-"
        head = f"| {r['name']} | {r['parameters']:,} | {r['train_minutes']:.1f} | {latency} | "
        print(head + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
