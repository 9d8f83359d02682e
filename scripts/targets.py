"""The v2 model's targets table (issue 13) from evaluation records.

Reads MIST's records (estimator ``mist``, or the ``--name`` given to ``scripts/evaluate.py``) from ``--mist`` and
the baselines' records from ``--baselines`` (records.csv files written by ``scripts/evaluate.py``; the same splits
and examples), and prints per split and n bin: MIST's MAE against the better of KSG (k = 3) and the Gaussian-copula
estimator, its MSE against the paper-split targets, and its 90% coverage (target 0.85 to 0.95), each marked met or
missed. Also the coverage of training and held-out families, and how often the interval contains 0 on independent
data and excludes it on dependent data::

    python scripts/targets.py --mist results/eval_v2/records.csv --baselines results/baselines/records.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mist", type=Path, nargs="+", required=True, help="records.csv file(s) with MIST's records")
    parser.add_argument("--baselines", type=Path, nargs="+", required=True, help="records.csv file(s) of baselines")
    parser.add_argument("--estimators", nargs="+", default=["ksg3", "gaussian-copula"], help="baselines to beat")
    parser.add_argument("--out", type=Path, default=None, help="also write the tables to this markdown file")
    parser.add_argument("--name", default="mist", help="the MIST model's estimator name in --mist")
    args = parser.parse_args(argv)

    from mist_hf.evaluation.reports import markdown, read_records
    from mist_hf.evaluation.tables import held_out_table, targets_table, zero_table

    records = [r for path in args.mist for r in read_records(path) if r.estimator == args.name]
    records += [r for path in args.baselines for r in read_records(path) if r.estimator in args.estimators]
    if not any(r.estimator == args.name for r in records):
        parser.error(f"no MIST records (estimator {args.name!r}) in --mist")
    rows = targets_table(records, args.name, args.estimators)
    columns = ["split", "bin", "count", "failed", "mae", *(f"mae_{b}" for b in args.estimators), "mae_met", "mse",
               "mse_target", "mse_met", "coverage_90", "coverage_met"]  # fmt: skip
    met = {key: sum(bool(r[key]) for r in rows if r[key] is not None) for key in ("mae_met", "mse_met", "coverage_met")}
    total = {key: sum(r[key] is not None for r in rows) for key in met}
    summary = ", ".join(f"{key.removesuffix('_met')} met in {met[key]} of {total[key]} bins" for key in met)
    held = [r for r in held_out_table(records) if r["estimator"] == args.name]
    text = f"## Targets\n\n{summary}\n\n{markdown(rows, columns)}\n## Training and held-out families (MIST)\n\n"
    text += markdown(held, ["split", "families", "count", "failed", "mae", "mse", "coverage_90"])
    zero = [r for r in zero_table(records) if r["estimator"] == args.name]
    text += "\n## Zero: 90% intervals on independent (MI = 0) and dependent examples (MIST)\n\n"
    text += markdown(zero, ["split", "independent", "contains_0", "dependent", "excludes_0", "coverage_90_dependent"])
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
