"""Error and 90% interval width against n, up to 50,000 rows, beside KSG and the Gaussian copula, with targets.

For each case of ``mist_hf.evaluation.error_vs_n.CASES`` and each n: ``--repeats`` fresh samples, their mean
absolute error (with its standard error over the repeats), bias, interval width and coverage, the rows the estimate
read, and on the same samples the MAE of KSG (k = 3), of the Gaussian-copula estimate and, where every column is
integer-valued, of the plug-in estimate, with the best of them. Then the targets (``--no-targets`` leaves them
out; see ``error_vs_n.target_summary``): per case with dx + dy <= 8, whether the error at n >= 5,000 is within
max(1.2 x the reference's, 0.02) (KSG's, the plug-in's on integer columns) and whether it does not grow with n
within noise; and whether the estimates rise with the truth along rho 0.1 < 0.2 < 0.3 < 0.5 < 0.7 at each
n >= 500. Writes ``error_vs_n.md``, ``error_vs_n.json`` (the rows), ``error_vs_n_targets.json`` and the plot
``error_vs_n_large.png`` to ``--out``; ``--compare`` adds a second model (for example v1) to the table, the targets
and the plot, on the same samples (the classical columns are computed once)::

    python scripts/error_vs_n.py --model mist-mi --repeats 3 --out results/error_vs_n_v2
    python scripts/error_vs_n.py --model runs/mist-v2/final --compare mist-mi --repeats 5 --out results/scaling
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def plot(rows: list[dict], path: Path) -> None:
    """Two panels against n (log scale): mean absolute error and mean interval width, one colour per case, one line
    style per model (solid: the first, dotted: the compared one); the best classical MAE is the thin dashed line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(14, 5.5))
    cases = list(dict.fromkeys(r["case"] for r in rows))
    colours = {case: plt.get_cmap("tab20")(i % 20) for i, case in enumerate(cases)}
    first = rows[0]["model"]
    for model, case in dict.fromkeys((r["model"], r["case"]) for r in rows):
        line = sorted((r for r in rows if (r["model"], r["case"]) == (model, case)), key=lambda r: r["n"])
        style = "-" if model == first else ":"
        ns = [r["n"] for r in line]
        for ax, field in zip(axes, ("mae", "width"), strict=True):
            ax.plot(
                ns, [r[field] for r in line], style, color=colours[case], marker="o", ms=3, label=f"{model}: {case}"
            )
        if model == first and all(r.get("best_classical_mae") is not None for r in line):
            axes[0].plot(ns, [r["best_classical_mae"] for r in line], "--", color=colours[case], lw=0.8, alpha=0.6)
    for ax, title in zip(axes, ("mean absolute error (nats; dashed: best classical)", "mean 90% interval width (nats)"),
                         strict=True):  # fmt: skip
        ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=0.001)
        ax.set_ylim(bottom=0)
        ax.set_xlabel("n (rows)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    fig.legend(*axes[1].get_legend_handles_labels(), fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)


COLUMNS = ["model", "case", "n", "mi", "mae", "mae_se", "bias", "width", "coverage", "rows_used", "ksg_mae",
           "copula_mae", "plugin_mae", "best_classical_mae"]  # fmt: skip
CLASSICAL = ["ksg_mae", "mixed_ksg_mae", "copula_mae", "plugin_mae", "best_classical_mae", "best_classical",
             "reference", "reference_mae"]  # fmt: skip


def targets_markdown(model: str, summary: dict) -> str:
    """The targets of one model as two markdown tables (see ``error_vs_n.target_summary``)."""

    def mark(ok: bool | None) -> str:
        return "-" if ok is None else ("yes" if ok else "**no**")

    def num(v: float | None) -> str:
        return "-" if v is None else f"{v:+.3f}"

    out = [
        f"Targets of {model} (cases with dx + dy <= 8). Accurate: MAE <= max(1.2 x the reference's MAE, 0.02) at "
        "every n >= 5,000, the reference being KSG (k = 3), or the plug-in estimate on integer columns (`worst`: the "
        "largest excess, nats). Non-increasing: for every n1 < n2, MAE(n2) <= MAE(n1) + sqrt(se1^2 + se2^2), se the "
        "standard error of the MAE over the repeats (`worst rise`: the largest excess).",
        "",
        "| case | dx + dy | true MI | accurate at n >= 5,000 | worst | non-increasing in n | worst rise |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in summary["cases"]:
        out.append(f"| {c['case']} | {c['dims']} | {c['mi']:.3f} | {mark(c['accurate'])} | {num(c['worst'])} | "
                   f"{mark(c['non_increasing'])} | {num(c['worst_rise'])} |")  # fmt: skip
    passed = [sum(bool(c[k]) for c in summary["cases"]) for k in ("accurate", "non_increasing")]
    out += ["", f"Accurate: {passed[0]} of {len(summary['cases'])} cases; non-increasing: {passed[1]}.", ""]
    if summary["ladder"]:
        out += [
            "Mean estimates along the 1-D Gaussian ladder (they must rise with the truth at every n >= 500):",
            "",
            "| n | rho 0.1 | rho 0.2 | rho 0.3 | rho 0.5 | rho 0.7 | rising |",
            "|---|---|---|---|---|---|---|",
        ]
        for step in summary["ladder"]:
            means = " | ".join(f"{v:.3f}" for v in step["means"])
            out.append(f"| {step['n']:,} | {means} | {mark(step['rising'])} |")
        out.append("")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model folder (default: the shipped mist-mi)")
    parser.add_argument("--compare", default=None, help="a second model folder, measured on the same samples")
    parser.add_argument("--ns", type=int, nargs="+", default=None, help="sample sizes (default: error_vs_n.DEFAULT_NS)")
    parser.add_argument("--cases", nargs="+", default=None, help="case names (default: all of error_vs_n.CASES)")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--targets", action=argparse.BooleanOptionalAction, default=True,
                        help="check and print the targets (default: yes)")  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("results/scaling"))
    args = parser.parse_args(argv)

    from mist_hf.evaluation.error_vs_n import DEFAULT_NS, KSG_LARGE_N, KSG_MAX_DIMS, error_against_n, target_summary
    from mist_hf.evaluation.reports import markdown

    started = time.perf_counter()
    rows: list[dict] = []
    models = [args.model, args.compare] if args.compare else [args.model]
    for i, model in enumerate(models):
        try:
            found = error_against_n(model, args.cases, args.ns or DEFAULT_NS, args.repeats, args.seed, classical=i == 0)
        except ValueError as err:
            parser.error(str(err))
        if i > 0:  # the same samples: the classical columns of the first model's rows hold for this one too
            same = {(r["case"], r["n"]): r for r in rows}
            found = [r | {k: same[(r["case"], r["n"])][k] for k in CLASSICAL} for r in found]
        rows += [{"model": model or "mist-mi", **r} for r in found]
    args.out.mkdir(parents=True, exist_ok=True)
    command = f"python scripts/error_vs_n.py {' '.join(sys.argv[1:] if argv is None else argv)}"
    text = (
        f"Command: `{command}` ({args.repeats} samples per cell). Classical estimators on the same samples: KSG "
        f"(k = 3; `-` where skipped: n > {KSG_LARGE_N:,} with dx + dy > {KSG_MAX_DIMS}), the Gaussian copula, and "
        "the plug-in (contingency table) where every column is integer-valued; `best_classical_mae` is the "
        f"smallest of them.\n\n{markdown(rows, COLUMNS)}"
    )
    summaries = {}
    if args.targets:
        for model in dict.fromkeys(r["model"] for r in rows):
            summaries[model] = target_summary([r for r in rows if r["model"] == model])
            text += "\n" + targets_markdown(model, summaries[model])
    text += f"\n{time.perf_counter() - started:.0f} s\n"
    (args.out / "error_vs_n.md").write_text(text)
    (args.out / "error_vs_n.json").write_text(json.dumps(rows, indent=2) + "\n")
    if summaries:
        (args.out / "error_vs_n_targets.json").write_text(json.dumps(summaries, indent=2) + "\n")
    plot(rows, args.out / "error_vs_n_large.png")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
