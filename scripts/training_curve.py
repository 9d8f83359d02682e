"""Accuracy against datasets seen, from a training run's ``trainer_state.json`` (the validation history).

    python scripts/training_curve.py runs/mist-main/checkpoint-34000 --out results/training_curve

Prints a markdown table (step, datasets seen, validation pinball loss, MAE, MSE, 90% coverage, learning rate) and
writes it to ``--out/curve.md`` with a plot ``--out/curve.png``. ``--every`` thins the table, not the plot.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mist_hf.evaluation.reports import history_markdown, plot_history


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path, help="a checkpoint folder (or its trainer_state.json)")
    parser.add_argument("--out", type=Path, default=Path("results/training_curve"))
    parser.add_argument("--every", type=int, default=1, help="keep every k-th validation in the table")
    parser.add_argument("--no-plot", action="store_true")
    args = parser.parse_args(argv)
    path = args.checkpoint if args.checkpoint.suffix == ".json" else args.checkpoint / "trainer_state.json"
    if not path.is_file():
        parser.error(f"{path} not found")
    state = json.loads(path.read_text())
    table = history_markdown(state, args.every, str(path))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "curve.md").write_text(table)
    print(table)
    if not args.no_plot:
        plot_history(state, args.out / "curve.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
