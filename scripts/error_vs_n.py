"""Error and 90% interval width against n, up to 50,000 rows, on Gaussian and non-Gaussian distributions.

For each case of ``mist_hf.evaluation.error_vs_n.CASES`` and each n: ``--repeats`` fresh samples, their mean
absolute error, bias, interval width and coverage, and the rows the estimate read. Writes ``error_vs_n.md``,
``error_vs_n.json`` and the plot ``error_vs_n_large.png`` to ``--out``; ``--compare`` adds a second model (for
example v1) to the table and plot::

    python scripts/error_vs_n.py --model mist-mi --repeats 10
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
    """Two panels against n (log scale): mean absolute error and mean interval width, one line per case and model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    keys = sorted({(r["model"], r["case"]) for r in rows})
    for model, case in keys:
        line = sorted((r for r in rows if (r["model"], r["case"]) == (model, case)), key=lambda r: r["n"])
        style = "-" if model == rows[0]["model"] else ":"
        for ax, field in zip(axes, ("mae", "width"), strict=True):
            ax.plot([r["n"] for r in line], [r[field] for r in line], style, marker="o", ms=3, label=f"{model}: {case}")
    for ax, title in zip(axes, ("mean absolute error (nats)", "mean 90% interval width (nats)"), strict=True):
        ax.set_xscale("log")
        ax.set_yscale("symlog", linthresh=0.01)
        ax.set_xlabel("n (rows)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[1].legend(fontsize=6, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model folder (default: the shipped mist-mi)")
    parser.add_argument("--compare", default=None, help="a second model folder, measured on the same samples")
    parser.add_argument("--ns", type=int, nargs="+", default=None, help="sample sizes (default: scaling.DEFAULT_NS)")
    parser.add_argument("--cases", nargs="+", default=None, help="case names (default: all of scaling.CASES)")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("results/scaling"))
    args = parser.parse_args(argv)

    from mist_hf.evaluation.error_vs_n import DEFAULT_NS, error_against_n
    from mist_hf.evaluation.reports import markdown

    started = time.perf_counter()
    rows = []
    for model in [args.model, args.compare] if args.compare else [args.model]:
        try:
            found = error_against_n(model, args.cases, args.ns or DEFAULT_NS, args.repeats, args.seed)
        except ValueError as err:
            parser.error(str(err))
        rows += [{"model": model or "mist-mi", **r} for r in found]
    args.out.mkdir(parents=True, exist_ok=True)
    command = f"python scripts/error_vs_n.py {' '.join(sys.argv[1:] if argv is None else argv)}"
    columns = ["model", "case", "n", "mi", "mae", "bias", "width", "coverage", "rows_used"]
    text = f"Command: `{command}` ({args.repeats} samples per cell)\n\n{markdown(rows, columns)}"
    text += f"\n{time.perf_counter() - started:.0f} s\n"
    (args.out / "error_vs_n.md").write_text(text)
    (args.out / "error_vs_n.json").write_text(json.dumps(rows, indent=2) + "\n")
    plot(rows, args.out / "error_vs_n_large.png")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
