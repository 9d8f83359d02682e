"""Evaluate a MIST checkpoint and baselines, in one run, on the evaluation splits.

Prints and saves (``--out``): per-example predictions (``records.csv``), errors by n bin and by dimension bin with
the paper's MIST-QR numbers beside ours (``errors_by_n.csv``, ``errors_by_dim.csv``), interval coverage
(``coverage.csv``), the calibration curve (``calibration.csv``), all of it as ``summary.md``, and the plots
``error_vs_n.png`` and ``calibration.png``.

    python scripts/evaluate.py --model mist-mi \
        --baselines ksg3 ksg5 ksg10 gaussian gaussian-copula infonce bootstrap-ksg3
    python scripts/evaluate.py --model runs/compare/rows --baselines ksg3 --max-examples 200   # quicker
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from mist_hf.builder import split_indices
from mist_hf.evaluation import (
    N_BINS,
    PAPER_MSE,
    calibration_table,
    coverage_table,
    error_table,
    markdown,
    point_estimators,
    record_rows,
    run_baseline,
    run_mist,
    write_csv,
)
from mist_hf.meta import generate_example, get_split

DEFAULT_SPLITS = ("test_imd", "test_oomd", "test_ood_hard")


def plot(errors_n: list[dict], calibration: list[dict], out: Path) -> None:
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


def headline(by_n: list[dict], coverage: list[dict]) -> str:
    """One compact table per split: estimators x n bins as "MSE / MAE", plus 90% coverage where there is one."""
    cover = {(r["split"], r["estimator"]): r["coverage_90"] for r in coverage}
    bins = [b for b, _, _ in N_BINS]
    parts = []
    for split in sorted({r["split"] for r in by_n}):
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="MIST model folder (omit to evaluate baselines only)")
    parser.add_argument("--baselines", nargs="*", default=["ksg3", "ksg5", "ksg10", "gaussian"])
    parser.add_argument("--splits", nargs="+", default=list(DEFAULT_SPLITS))
    parser.add_argument("--max-examples", type=int, default=None, help="per split, spread evenly over it")
    parser.add_argument("--bootstrap", type=int, default=50, help="resamples of bootstrap-* baselines")
    parser.add_argument("--out", type=Path, default=Path("results/eval"))
    parser.add_argument("--no-plots", action="store_true")
    args = parser.parse_args(argv)
    if args.max_examples is not None and args.max_examples < 1:
        parser.error(f"--max-examples must be >= 1, got {args.max_examples}")
    try:
        baselines = point_estimators([b.removeprefix("bootstrap-") for b in args.baselines])
        specs = [get_split(s) for s in args.splits]
    except ValueError as err:
        parser.error(str(err))
    model = None
    if args.model:
        from mist_hf import load_model

        model = load_model(args.model)

    records = []
    started = time.perf_counter()
    for spec in specs:
        examples = [generate_example(spec, int(i)) for i in split_indices(spec, args.max_examples)]
        if model is not None:
            records += run_mist(model, spec.name, examples, progress=True)
        for name in args.baselines:
            fn = baselines[name.removeprefix("bootstrap-")]
            for ex in tqdm(examples, desc=f"{spec.name} {name}", file=sys.stderr, leave=False):
                records += run_baseline(name, fn, spec.name, [ex], n_boot=args.bootstrap)

    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(record_rows(records), args.out / "records.csv")
    by_n, by_dim = error_table(records, "n"), error_table(records, "dim")
    coverage, calibration = coverage_table(records), calibration_table(records)
    for rows, name in (
        (by_n, "errors_by_n"),
        (by_dim, "errors_by_dim"),
        (coverage, "coverage"),
        (calibration, "calibration"),
    ):
        write_csv(rows, args.out / f"{name}.csv")
    error_cols = ["split", "estimator", "bin", "count", "mse", "mae", "bias", "paper_mist_qr_mse", "median_seconds"]
    command = f"python scripts/evaluate.py {' '.join(argv if argv is not None else sys.argv[1:])}"
    by_split = sorted(by_n, key=lambda r: (r["split"], r["estimator"]))
    by_split_dim = sorted(by_dim, key=lambda r: (r["split"], r["estimator"]))
    coverage_cols = ["split", "estimator", "count", "coverage_50", "coverage_80", "coverage_90", "coverage_95"]
    summary = "\n".join(
        [
            f"# Evaluation\n\nModel: `{args.model}`. Command: `{command}`\n",
            "## Headline\n",
            headline(by_n, coverage),
            "## Errors by n (nats; MSE in nats²)\n",
            markdown(by_split, error_cols),
            "## Errors by dimension (max of dim_x, dim_y)\n",
            markdown(by_split_dim, [c for c in error_cols if c != "paper_mist_qr_mse"]),
            "## Coverage of central intervals\n",
            markdown(coverage, coverage_cols),
            "## Calibration: P(true MI <= q_tau)\n",
            markdown(calibration, ["split", "estimator", "tau", "observed"]),
            f"Total wall time {time.perf_counter() - started:.0f} s.\n",
        ]
    )
    (args.out / "summary.md").write_text(summary)
    if not args.no_plots:
        plot(by_n, calibration, args.out)
    print(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
