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
number of processes, so 1 and K processes write the same OUT.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("table", type=Path, help="CSV, TSV or parquet table")
    parser.add_argument("--out", type=Path, required=True, help="output parquet file")
    parser.add_argument("--columns", nargs="+", default=None, help="all pairs of these columns (default: all)")
    parser.add_argument("--x", nargs="+", default=None, help="X variables: columns, or groups joined by '+'")
    parser.add_argument("--y", nargs="+", default=None, help="Y variables, each estimated against every X one")
    parser.add_argument("--model", default=None, help="model folder (default: the shipped mist-mi)")
    parser.add_argument("--shard-size", type=int, default=256, help="pairs per shard (the unit of resuming)")
    parser.add_argument("--batch-size", type=int, default=24, help="samples per forward pass")
    parser.add_argument("--seed", type=int, default=0, help="seed of the row subsampling above the model's max_n")
    args = parser.parse_args(argv)

    import torch
    from accelerate import PartialState
    from tqdm import tqdm

    from mist_hf.estimation import load_model
    from mist_hf.wide import check_plan, merge_shards, plan_pairs, run_shards, shards, table_columns

    # Without a GPU, cpu=True makes a torchrun launch (accelerate launch --num_processes K) one gloo group.
    state = PartialState(cpu=not torch.cuda.is_available())
    try:
        available = table_columns(args.table)
        pairs = plan_pairs(args.columns, args.x, args.y, available=available)
        planned = shards(pairs, args.shard_size)
    except (ValueError, FileNotFoundError, OSError) as err:
        parser.error(str(err))
    folder = args.out.with_name(args.out.name + ".shards")
    settings = {"table": str(args.table.resolve()), "shard_size": args.shard_size, "model": args.model or "mist-mi",
                "seed": args.seed}  # fmt: skip
    if state.is_main_process:
        try:
            check_plan(folder, pairs, settings)
        except ValueError as err:
            parser.error(str(err))
    state.wait_for_everyone()
    model = load_model(args.model, device=state.device)
    started = time.perf_counter()
    with state.split_between_processes(list(range(len(planned)))) as mine:
        bar = tqdm(total=len(mine), desc=f"shards (process 0 of {state.num_processes})", unit="shard",
                   disable=not state.is_main_process)  # fmt: skip
        computed, skipped = run_shards(args.table, planned, mine, folder, model, seed=args.seed,
                                       batch_size=args.batch_size, progress=lambda _: bar.update())  # fmt: skip
        bar.close()
    print(f"process {state.process_index}: {computed} shard(s) computed, {skipped} already finished", file=sys.stderr)
    state.wait_for_everyone()
    if state.is_main_process:
        rows = merge_shards(folder, len(planned), args.out)
        seconds = time.perf_counter() - started
        print(f"{rows:,} pairs in {len(planned)} shards -> {args.out} ({seconds:.1f} s, {state.num_processes} "
              f"process(es))")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
