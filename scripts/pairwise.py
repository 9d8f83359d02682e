"""Pairwise MI over a wide table, split across processes (and GPUs) with accelerate; a killed run resumes.

    python scripts/pairwise.py TABLE --out OUT                     # all pairs of the table's columns
    python scripts/pairwise.py TABLE --out OUT --columns a b c d   # all pairs of these
    python scripts/pairwise.py TABLE --out OUT --x a b "c+d" --y e f   # every X variable against every Y one
    accelerate launch --num_processes 2 scripts/pairwise.py TABLE --out OUT

TABLE is CSV, TSV or parquet; only the columns a shard needs are read (pyarrow). OUT is a parquet file in long form
with columns ``x``, ``y``, ``mi``, ``low``, ``high`` (the 90% interval, nats) and ``n`` (rows without a missing
value in the pair). The pairs are cut into shards of ``--shard-size``; accelerate splits the shards between the
processes, each process writes its finished shards to ``OUT.shards/``, and the main process merges them into OUT.
Rerunning the same command after a kill computes only the shards that are missing. The shards do not depend on the
number of processes, so 1 and K processes write the same OUT (at the same torch thread count).

Variables (--x, --y): "a+b" is the group of columns a and b. A spec without a backslash that is exactly a column's
name is that column (so "c+d" is the column c+d when the table has one); a backslash escapes the next character
("c\\+d" is always the column c+d, "\\\\" a backslash); a trailing '+' marks a group ("c+d+" is always the group). A
spec that is both a column and a group of existing columns is refused, saying how to write each. --columns takes
exact names. OUT's x and y are written as they would be given to --x/--y.

Safety: before any estimate, OUT must be a writable file path, every needed column numeric (a CSV is read to its
end), and OUT.shards/ not locked by another run. OUT.shards/plan.json records the pairs and what moves the values
(the table's sha256, the model folder and a hash of its files, --seed, --shard-size, --batch-size, the torch thread
count, the device); a resume that changes any is refused, naming it: use a new --out. A corrupt or foreign shard is
recomputed (said on stderr) and the merge refuses any shard that does not hold its planned pairs. Each process says
which shards it computed; launched workers exit when their launcher dies.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(argv: list[str] | None = None) -> int:
    """The command: parse ``argv`` and run :func:`mist_hf.pairwise_tables.pairwise_table` in this process."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("table", type=Path, help="CSV, TSV or parquet table")
    parser.add_argument("--out", type=Path, required=True, help="output parquet file (its shards go to OUT.shards/)")
    parser.add_argument("--columns", nargs="+", default=None, help="all pairs of these columns (exact names; "
                        "default: all)")  # fmt: skip
    parser.add_argument("--x", nargs="+", default=None, metavar="SPEC",
                        help="X variables: a column, or a group joined by '+' (\"c+d\"); a spec without a "
                             "backslash that is exactly a column's name is that column; '\\+' is a '+' inside a "
                             "name (\"c\\+d\": the column c+d), '\\\\' a backslash; a trailing '+' marks a group "
                             "(\"c+d+\"); a spec both a column and a group is refused as ambiguous")  # fmt: skip
    parser.add_argument("--y", nargs="+", default=None, metavar="SPEC",
                        help="Y variables, written as --x's; each is estimated against every X one")  # fmt: skip
    parser.add_argument("--model", default=None, help="model folder (default: the shipped mist-mi)")
    parser.add_argument("--shard-size", type=int, default=256, help="pairs per shard (the unit of resuming)")
    parser.add_argument("--batch-size", type=int, default=24, help="samples per forward pass")
    parser.add_argument("--seed", type=int, default=0, help="seed of the row subsampling above the model's max_n")
    args = parser.parse_args(argv)

    from mist_hf.pairwise_tables import Refused, Unmerged, pairwise_table

    try:
        run = pairwise_table(args.table, args.out, columns=args.columns, x=args.x, y=args.y, model=args.model,
                             shard_size=args.shard_size, batch_size=args.batch_size, seed=args.seed)  # fmt: skip
    except Refused as err:
        if err.main_process:
            parser.error(str(err))
        return 2
    except Unmerged as err:
        print(f"pairwise.py: error: {err}", file=sys.stderr)
        return 1
    if run.main_process:
        print(f"{run.rows:,} pairs in {run.shards} shards -> {args.out} ({run.seconds:.2f} s, {run.processes} "
              "process(es))")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
