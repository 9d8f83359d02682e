"""Evaluate a MIST checkpoint and baselines, in one run, on the evaluation splits.

Writes to ``--out``: per-example predictions (``records.csv``), errors by n bin and by dimension bin with the
paper's MIST-QR numbers beside ours, interval coverage, the calibration curve, all of it as ``summary.md``, and the
plots ``error_vs_n.png`` and ``calibration.png`` (see ``mist_hf.evaluation.reports.write_report``).

    python scripts/evaluate.py --model mist-mi \
        --baselines ksg3 ksg5 ksg10 gaussian gaussian-copula infonce bootstrap-ksg3
    python scripts/evaluate.py --model runs/train/final --baselines ksg3 --max-examples 200   # quicker

Two models side by side: evaluate each (``--name`` tells them apart), then merge the records::

    python scripts/evaluate.py --model old-model --name mist-old --baselines --out results/old
    python scripts/evaluate.py --from-records results/old/records.csv results/new/records.csv --out results/both
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from mist_hf.evaluation.reports import read_records, write_report
from mist_hf.evaluation.scoring import evaluate_splits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="MIST model folder (omit to evaluate baselines only)")
    parser.add_argument("--baselines", nargs="*", default=["ksg3", "ksg5", "ksg10", "gaussian"])
    parser.add_argument("--splits", nargs="+", default=["test_imd", "test_oomd", "test_ood_hard"])
    parser.add_argument("--max-examples", type=int, default=None, help="per split, spread evenly over it")
    parser.add_argument("--bootstrap", type=int, default=50, help="resamples of bootstrap-* baselines")
    parser.add_argument("--out", type=Path, default=Path("results/eval"))
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument(
        "--from-records", type=Path, nargs="+", default=None, help="re-render the report of records.csv file(s)"
    )
    parser.add_argument("--name", default="mist", help="the MIST model's name in the report (to compare two models)")
    args = parser.parse_args(argv)
    if args.max_examples is not None and args.max_examples < 1:
        parser.error(f"--max-examples must be >= 1, got {args.max_examples}")
    started = time.perf_counter()
    try:
        if args.from_records is not None:
            records = [r for path in args.from_records for r in read_records(path)]
        else:
            records = evaluate_splits(
                args.model, args.baselines, args.splits, args.max_examples, args.bootstrap, name=args.name
            )
    except ValueError as err:
        parser.error(str(err))
    command = f"python scripts/evaluate.py {' '.join(sys.argv[1:] if argv is None else argv)}"
    if args.from_records is not None:
        names = ", ".join(dict.fromkeys(r.estimator for r in records))
        intro = f"Estimators: {names} (from saved records). Command: `{command}`"
    else:
        intro = f"Model: `{args.model}`. Command: `{command}`"
    elapsed = time.perf_counter() - started
    print(write_report(records, args.out, "Evaluation", intro, plots=not args.no_plots, seconds=elapsed))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
