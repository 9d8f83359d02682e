"""Writing results: evaluation reports (CSV tables, a markdown summary, plots) and the validation history of a run.

Everything here formats what :mod:`mist_hf.evaluation.tables` computed from the records of
:mod:`mist_hf.evaluation.scoring`; nothing is scored here.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .scoring import Record
from .tables import PAPER_MSE, calibration_table, coverage_table, error_table, held_out_table, n_bins

ERROR_COLUMNS = [
    "split", "estimator", "bin", "count", "failed", "mse", "mae", "bias", "paper_mist_qr_mse", "median_seconds",
]  # fmt: skip
COVERAGE_COLUMNS = ["split", "estimator", "count", "failed", "coverage_50", "coverage_80", "coverage_90", "coverage_95"]


def markdown(rows: list[dict], columns: Sequence[str]) -> str:
    """A markdown table of ``rows`` with the given columns (floats to 3 significant digits)."""

    def fmt(v) -> str:
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 1000 else f"{v:,.0f}"
        return str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def record_rows(records: list[Record]) -> list[dict]:
    """Records as flat CSV rows; the quantiles become one JSON column."""
    return [
        {k: v for k, v in vars(r).items() if k != "quantiles"} | {"quantiles": json.dumps(r.quantiles)} for r in records
    ]


def read_records(path: str | Path) -> list[Record]:
    """The records of a ``records.csv`` written by :func:`write_report` (to re-render a report without re-running)."""
    with Path(path).open(newline="") as handle:
        return [
            Record(
                row["estimator"], row["split"], int(row["index"]), row["family"], int(row["n"]), int(row["dim_x"]),
                int(row["dim_y"]), float(row["true_mi"]), float(row["estimate"]), float(row["seconds"]),
                {float(t): float(v) for t, v in json.loads(row["quantiles"]).items()},
            )
            for row in csv.DictReader(handle)
        ]  # fmt: skip


def write_csv(rows: list[dict], path: str | Path) -> None:
    """Write ``rows`` (dicts with the same keys) to ``path`` with a header; an empty file when there are none."""
    with Path(path).open("w", newline="") as handle:
        if rows:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)


def headline(by_n: list[dict], coverage: list[dict]) -> str:
    """One compact table per split: estimators x n bins as "MSE / MAE", plus 90% coverage where there is one."""
    cover = {(r["split"], r["estimator"]): r["coverage_90"] for r in coverage}
    parts = []
    for split in sorted({r["split"] for r in by_n}):
        bins = [b for b, _, _ in n_bins(split)]
        cells = {(r["estimator"], r["bin"]): r for r in by_n if r["split"] == split}
        estimators = sorted({e for e, _ in cells}, key=lambda e: (not e.startswith("mist"), e))
        lines = [
            f"**{split}** (MSE nats² / MAE nats by n; 90% interval coverage; median s per estimate)\n",
            "| estimator | " + " | ".join(f"n {b}" for b in bins) + " | coverage 90% | s/estimate |",
            "|---|" + "---|" * (len(bins) + 2),
        ]
        for est in estimators:
            row = [
                f"{cells[(est, b)]['mse']:.3g} / {cells[(est, b)]['mae']:.3g}" if (est, b) in cells else "-"
                for b in bins
            ]
            cov = cover.get((split, est))
            secs = np.median([cells[(est, b)]["median_seconds"] for b in bins if (est, b) in cells])
            lines.append(f"| {est} | " + " | ".join(row) + f" | {'-' if cov is None else f'{cov:.2f}'} | {secs:.2g} |")
        paper = [PAPER_MSE.get((split, b)) for b in bins]
        if any(v is not None for v in paper):
            lines.append(
                "| paper MIST-QR (MSE) | " + " | ".join("-" if v is None else str(v) for v in paper) + " | | |"
            )
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def plot(errors_n: list[dict], calibration: list[dict], out: Path) -> None:
    """``error_vs_n.png`` (MSE by n bin, one panel per split) and ``calibration.png`` (P(true <= q_tau) vs tau)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    splits = sorted({r["split"] for r in errors_n})
    fig, axes = plt.subplots(1, len(splits), figsize=(5 * len(splits), 4), squeeze=False)
    for ax, split in zip(axes[0], splits, strict=True):
        for est in sorted({r["estimator"] for r in errors_n}):
            rows = [r for r in errors_n if r["split"] == split and r["estimator"] == est]
            ax.plot([r["bin"] for r in rows], [r["mse"] for r in rows], marker="o", label=est)
        ax.set_yscale("log")
        ax.set_title(split)
        ax.set_xlabel("n")
        ax.set_ylabel("MSE (nats²)")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "error_vs_n.png", dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="ideal")
    for est, split in sorted({(r["estimator"], r["split"]) for r in calibration}):
        rows = [r for r in calibration if r["estimator"] == est and r["split"] == split]
        ax.plot([r["tau"] for r in rows], [r["observed"] for r in rows], marker=".", label=f"{est} {split}")
    ax.set_xlabel("tau")
    ax.set_ylabel("P(true MI <= q_tau)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "calibration.png", dpi=110)
    plt.close(fig)


def write_report(
    records: list[Record], out: Path, title: str, intro: str, plots: bool = True, seconds: float | None = None
) -> str:
    """Write ``records.csv``, ``errors_by_n.csv``, ``errors_by_dim.csv``, ``coverage.csv``, ``calibration.csv``,
    ``summary.md`` (returned) and, with ``plots``, the two PNGs to the folder ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    write_csv(record_rows(records), out / "records.csv")
    by_n, by_dim = error_table(records, "n"), error_table(records, "dim")
    coverage, calibration = coverage_table(records), calibration_table(records)
    for rows, name in ((by_n, "errors_by_n"), (by_dim, "errors_by_dim"), (coverage, "coverage")):
        write_csv(rows, out / f"{name}.csv")
    write_csv(calibration, out / "calibration.csv")
    by_split = sorted(by_n, key=lambda r: (r["split"], r["estimator"]))
    by_split_dim = sorted(by_dim, key=lambda r: (r["split"], r["estimator"]))
    parts = [
        f"# {title}\n\n{intro}\n",
        "## Headline\n",
        headline(by_n, coverage),
        "## Errors by n (nats; MSE in nats²)\n",
        markdown(by_split, ERROR_COLUMNS),
        "## Errors by dimension (max of dim_x, dim_y)\n",
        markdown(by_split_dim, [c for c in ERROR_COLUMNS if c != "paper_mist_qr_mse"]),
        "## Coverage of central intervals\n",
        markdown(coverage, COVERAGE_COLUMNS),
    ]
    held = held_out_table(records)
    if held:
        write_csv(held, out / "held_out.csv")
        parts += [
            "## Training families against held-out families\n",
            markdown(held, ["split", "estimator", "families", "count", "failed", "mae", "mse", "coverage_90"]),
        ]
    if calibration:
        parts += [
            "## Calibration: P(true MI <= q_tau)\n",
            markdown(calibration, ["split", "estimator", "tau", "observed"]),
        ]
    if seconds is not None:
        parts.append(f"Total wall time {seconds:.0f} s.\n")
    summary = "\n".join(parts)
    (out / "summary.md").write_text(summary)
    if plots:
        plot(by_n, calibration, out)
    return summary


def validation_history(state: dict) -> list[dict]:
    """One row per validation in a ``trainer_state.json``: step, datasets seen, loss, MAE, MSE, 90% coverage and the
    learning rate of the nearest training log before it (a resumed run's repeated step appears once)."""
    batch = state.get("train_batch_size") or 32
    lr = None
    rows: dict[int, dict] = {}
    for entry in state["log_history"]:
        if "learning_rate" in entry:
            lr = float(entry["learning_rate"])
        if "eval_loss" in entry:
            rows[entry["step"]] = {
                "step": entry["step"],
                "datasets_seen": entry["step"] * batch,
                "val_loss": entry["eval_loss"],
                "val_mae": entry.get("eval_mae"),
                "val_mse": entry.get("eval_mse"),
                "val_coverage90": entry.get("eval_coverage90"),
                "learning_rate": lr,
            }
    return [rows[s] for s in sorted(rows)]


def history_markdown(state: dict, every: int = 1, source: str = "") -> str:
    """The validation history as a markdown table, every ``every``-th row (and the last)."""
    rows = validation_history(state)
    lines = [
        f"Validation history of `{source}` (best checkpoint: `{state.get('best_model_checkpoint')}`, best val loss "
        f"{state.get('best_metric')}).\n",
        "| step | datasets seen | val pinball | val MAE | val MSE | val cov90 | lr |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(rows):
        if i % every == 0 or i == len(rows) - 1:
            lines.append(
                f"| {r['step']} | {r['datasets_seen']:,} | {r['val_loss']:.4f} | {r['val_mae']:.3f} | "
                f"{r['val_mse']:.3f} | {r['val_coverage90']:.3f} | {r['learning_rate']:.2e} |"
            )
    return "\n".join(lines) + "\n"


def plot_history(state: dict, path: Path) -> None:
    """Validation MAE against datasets seen, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = validation_history(state)
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    ax.plot([r["datasets_seen"] for r in rows], [r["val_mae"] for r in rows], marker=".")
    ax.set_xlabel("training datasets seen")
    ax.set_ylabel("validation MAE (nats)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
