"""Command line: ``mist-mi estimate data.csv --x a,b --y c`` prints I(X; Y) and its interval.

    mist-mi estimate data.csv --x a,b --y c [--unit bits] [--confidence 0.9] [--model PATH] [--json] [--dropna]
    mist-mi pairwise data.csv [--columns a,b,c] [--unit bits] [--model PATH] [--json] [--dropna]
    mist-mi --version

``python -m mist_hf ...`` runs the same command. The file must be CSV text with a header row (``,`` ``;`` tab or
``|`` between fields); a Parquet file or a workbook is refused with a message saying so. Errors (missing file,
unknown or non-numeric columns, invalid data) are printed on stderr with exit status 2, naming the CSV columns.

``--dropna``: ``estimate`` drops every row with a missing value in the columns it reads; ``pairwise`` estimates each
pair from its own complete rows (a mostly empty column costs only its own pairs their rows), as
``scripts/pairwise.py`` does.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import warnings
from pathlib import Path


def _split(spec: str, option: str = "--columns") -> list[str]:
    """The column names of a comma-separated list given to ``option``; each must be named once."""
    names = [c.strip() for c in spec.split(",") if c.strip()]
    if not names:
        raise ValueError(f"empty column list: {spec!r}")
    twice = sorted({c for c in names if names.count(c) > 1})
    if twice:
        raise ValueError(f"{option} names column(s) more than once: {', '.join(map(repr, twice))}")
    return names


def _with_names(message: str, xs: list[str], ys: list[str]) -> str:
    """``message`` with the positions ``x[i]`` and ``y[j]`` replaced by the CSV column names."""
    names = {"x": xs, "y": ys}

    def name(m: re.Match) -> str:
        side, i = names[m[1]], int(m[2])
        return repr(side[i]) if i < len(side) else m[0]

    return re.sub(r"\b([xy])\[(\d+)\]", name, message)


def _command(args: argparse.Namespace) -> None:
    """Run the parsed ``estimate`` or ``pairwise`` command, printing its result; errors raise ``ValueError``."""
    import numpy as np

    from .estimation import estimate_mi, pairwise_mi
    from .table_files import csv_header, not_csv, read_columns

    if not args.csv.is_file():  # the same message from every command, before any other work
        raise ValueError(f"no such file: {args.csv}")
    reason = not_csv(args.csv)  # read_columns also reads parquet; this command reads CSV text only
    if reason is not None:
        raise ValueError(reason)
    if args.command == "estimate":
        xs, ys = _split(args.x, "--x"), _split(args.y, "--y")
        both = [c for c in xs if c in ys]
        if both:
            raise ValueError(
                f"column(s) {', '.join(map(repr, both))} in both --x and --y: a variable shares all its information "
                "with itself, so I(X; Y) is infinite; give each column to one side only"
            )
        args.names = (xs, ys)  # for the warnings, printed by main with the CSV column names
        data = read_columns(args.csv, xs + ys, dropna=args.dropna)
        try:
            est_ = estimate_mi(
                data[:, : len(xs)], data[:, len(xs) :], args.model, unit=args.unit, confidence=args.confidence,
                seed=args.seed,
            )  # fmt: skip
        except ValueError as err:  # name the CSV columns, not their positions x[i] / y[j]
            raise ValueError(_with_names(str(err), xs, ys)) from None
        if args.json:
            fields = ("mi", "confidence", "unit", "n", "subsamples", "rows_used")
            record = {k: getattr(est_, k) for k in fields} | {"interval": list(est_.interval), "x": xs, "y": ys}
            print(json.dumps(record))
        else:
            print(f"I({','.join(xs)} ; {','.join(ys)}) = {est_.mi:.4f} {est_.unit}")
            lo, hi = est_.interval
            read = "" if est_.rows_used == est_.n else f", {est_.rows_used:,} rows read"
            print(f"{est_.confidence:.0%} interval: [{lo:.4f}, {hi:.4f}]  (n = {est_.n}{read})")
    else:
        names = _split(args.columns) if args.columns else csv_header(args.csv)
        # --dropna: missing cells are read as NaN and each pair keeps its own complete rows (not only the rows
        # complete in every column, which a mostly empty column would cut to a few)
        table = read_columns(args.csv, names, keep_missing=args.dropna)
        matrix = pairwise_mi(
            table, args.model, unit=args.unit, seed=args.seed, dropna=args.dropna, columns=names
        )  # fmt: skip
        if args.json:
            rows = [[None if np.isnan(v) else float(v) for v in row] for row in matrix]
            print(json.dumps({"columns": names, "unit": args.unit, "mi": rows}))
            return 0
        width = max(len(c) for c in names)
        cell = max(9, width)  # every column as wide as its longest name, so long names stay aligned
        print(" " * width + " " + " ".join(f"{c:>{cell}}" for c in names))
        for name, row in zip(names, matrix, strict=True):
            print(f"{name:>{width}} " + " ".join(f"{'-':>{cell}}" if np.isnan(v) else f"{v:{cell}.4f}" for v in row))


def main(argv: list[str] | None = None) -> int:
    import mist_hf  # the package itself (already imported with this module, and cheap), for its __version__

    parser = argparse.ArgumentParser(prog="mist-mi", description="Mutual information with MIST.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {mist_hf.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    est = sub.add_parser("estimate", help="I(X; Y) between two groups of columns")
    est.add_argument("csv", type=Path)
    est.add_argument("--x", required=True, help="comma-separated X columns")
    est.add_argument("--y", required=True, help="comma-separated Y columns")
    est.add_argument("--confidence", type=float, default=0.9)
    est.add_argument("--json", action="store_true", help="print JSON instead of text")
    pair = sub.add_parser("pairwise", help="MI between every pair of columns")
    pair.add_argument("csv", type=Path)
    pair.add_argument("--columns", default=None, help="comma-separated columns (default: all)")
    pair.add_argument("--json", action="store_true", help="print JSON (columns and matrix; null on the diagonal)")
    for p in (est, pair):
        p.add_argument("--unit", choices=["nats", "bits"], default="nats")
        p.add_argument("--model", default=None, help="model folder (default: $MIST_MODEL or the shipped mist-mi)")
        p.add_argument("--seed", type=int, default=0)
    est.add_argument("--dropna", action="store_true", help="drop rows with a missing value (empty, NA, NaN, ...)")
    pair.add_argument(
        "--dropna", action="store_true", help="estimate each pair from its rows with no missing value (empty, NA, ...)"
    )
    args = parser.parse_args(argv)

    with warnings.catch_warnings(record=True) as told:  # printed as one line each, after the result
        warnings.simplefilter("always")
        try:
            _command(args)
            status = 0
        except (ValueError, OSError) as err:
            print(f"mist-mi: error: {err}", file=sys.stderr)
            status = 2
    names = getattr(args, "names", None)
    for w in told:
        # only the estimator's warnings speak of x[i] / y[j]; others (file names, say) are printed as they are
        misleading = type(w.message).__name__ == "MisleadingInputWarning"
        text = _with_names(str(w.message), *names) if names is not None and misleading else str(w.message)
        print(f"mist-mi: warning: {text}", file=sys.stderr)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
