"""Accuracy against datasets seen, from a training run's ``trainer_state.json`` (the validation history).

    python scripts/training_curve.py runs/mist-main/checkpoint-34000 --out results/training_curve

Prints a markdown table (step, datasets seen, validation pinball loss, MAE, MSE, 90% coverage, learning rate) and
writes it to ``--out/curve.md`` with a plot ``--out/curve.png``. ``--every`` thins the table, not the plot.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def curve(state: dict) -> list[dict]:
    """One row per validation, with the learning rate of the nearest training log before it."""
    batch = state.get("train_batch_size") or 32
    lr = None
    rows = []
    for entry in state["log_history"]:
        if "learning_rate" in entry:
            lr = float(entry["learning_rate"])
        if "eval_loss" in entry:
            rows.append(
                {
                    "step": entry["step"],
                    "datasets_seen": entry["step"] * batch,
                    "val_loss": entry["eval_loss"],
                    "val_mae": entry.get("eval_mae"),
                    "val_mse": entry.get("eval_mse"),
                    "val_coverage90": entry.get("eval_coverage90"),
                    "learning_rate": lr,
                }
            )
    dedup = {r["step"]: r for r in rows}  # a resumed run may evaluate the same step twice
    return [dedup[s] for s in sorted(dedup)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path, help="a checkpoint folder (or its trainer_state.json)")
    parser.add_argument("--out", type=Path, default=Path("results/training_curve"))
    parser.add_argument("--every", type=int, default=1, help="keep every k-th validation in the table")
    args = parser.parse_args(argv)
    path = args.checkpoint if args.checkpoint.suffix == ".json" else args.checkpoint / "trainer_state.json"
    if not path.is_file():
        parser.error(f"{path} not found")
    state = json.loads(path.read_text())
    rows = curve(state)
    best = state.get("best_model_checkpoint")
    lines = [
        f"Validation history of `{path}` (best checkpoint: `{best}`, best val loss {state.get('best_metric')}).\n",
        "| step | datasets seen | val pinball | val MAE | val MSE | val cov90 | lr |",
        "|---|---|---|---|---|---|---|",
    ]
    shown = [r for i, r in enumerate(rows) if i % args.every == 0 or i == len(rows) - 1]
    for r in shown:
        lines.append(
            f"| {r['step']} | {r['datasets_seen']:,} | {r['val_loss']:.4f} | {r['val_mae']:.3f} | {r['val_mse']:.3f} "
            f"| {r['val_coverage90']:.3f} | {r['learning_rate']:.2e} |"
        )
    table = "\n".join(lines) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "curve.md").write_text(table)
    print(table)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return 0
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    ax.plot([r["datasets_seen"] for r in rows], [r["val_mae"] for r in rows], marker=".")
    ax.set_xlabel("training datasets seen")
    ax.set_ylabel("validation MAE (nats)")
    fig.tight_layout()
    fig.savefig(args.out / "curve.png", dpi=110)
    plt.close(fig)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
