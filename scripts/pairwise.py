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
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(argv: list[str] | None = None) -> int:
    """The command: parse ``argv``; a launched worker ends with its launcher; the main process holds the lock."""
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

    from mist_hf.wide import FolderLock, exit_with_parent, launched

    if launched():  # a worker of accelerate launch: end with the launcher, even one killed with SIGKILL
        exit_with_parent()

    import torch
    from accelerate import PartialState

    # Without a GPU, cpu=True makes a torchrun launch (accelerate launch --num_processes K) one gloo group.
    state = PartialState(cpu=not torch.cuda.is_available())
    folder = args.out.with_name(args.out.name + ".shards")
    lock = FolderLock(folder)  # taken by the main process, held until the merge is written
    try:
        return run(args, parser, state, folder, lock)
    finally:
        lock.release()


def shard_list(numbers: list[int]) -> str:
    """Shard numbers as ranges: ``0-3, 7, 9-10`` (``none`` when empty)."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans) or "none"


def run(args: argparse.Namespace, parser: argparse.ArgumentParser, state: Any, folder: Path, lock: Any) -> int:
    """Check everything that can refuse, then estimate this process's shards and (main process) merge them."""
    import torch
    from accelerate.utils import broadcast_object_list, gather_object
    from tqdm import tqdm

    from mist_hf.estimation import load_model
    from mist_hf.wide import (
        check_numeric,
        check_output_path,
        check_plan,
        file_sha256,
        merge_shards,
        model_fingerprint,
        needed_columns,
        plan_pairs,
        run_shards,
        shards,
        table_columns,
    )

    main_process, rank, count = state.is_main_process, state.process_index, state.num_processes
    error = plan_id = None
    try:
        # every check that can refuse comes before any estimate; the main process also runs those that read whole
        # files (the table's types and its sha256) or write (the output path, the lock, plan.json)
        available = table_columns(args.table)
        pairs = plan_pairs(args.columns, args.x, args.y, available=available)
        planned = shards(pairs, args.shard_size)
        if main_process:
            check_output_path(args.out, table=args.table)
            lock.acquire()
            check_numeric(args.table, needed_columns(pairs))
        model = load_model(args.model, device=state.device)
        if main_process:
            model_folder = Path(model.name_or_path).resolve()
            device = state.device.type
            if device == "cuda":
                device += f" ({torch.cuda.get_device_name(state.device)})"
            settings = {"table_sha256": file_sha256(args.table), "shard_size": args.shard_size,
                        "model": str(model_folder), "model_sha256": model_fingerprint(model_folder),
                        "seed": args.seed, "batch_size": args.batch_size, "torch_threads": torch.get_num_threads(),
                        "device": device}  # fmt: skip
            plan_id = check_plan(folder, pairs, settings, info={"table": str(args.table.resolve())})
    except (ValueError, OSError, RuntimeError) as err:
        error = str(err)
    if count > 1:  # every process learns every refusal (and the main one's plan id) before any work
        error = next((e for e in gather_object([error]) if e is not None), None)
        plan_id = broadcast_object_list([plan_id])[0]
    if error is not None:
        lock.release()
        if main_process:
            parser.error(error)
        return 2

    def say(message: str) -> None:
        sys.stderr.write(f"process {rank}: {message}\n")  # one write: lines of processes do not interleave
        sys.stderr.flush()

    started = time.perf_counter()
    with state.split_between_processes(list(range(len(planned)))) as mine:
        bar = tqdm(total=len(mine), desc=f"shards (process 0 of {count})", unit="shard", disable=not main_process)
        report = run_shards(args.table, planned, mine, folder, model, seed=args.seed, batch_size=args.batch_size,
                            plan_id=plan_id, progress=lambda _: bar.update(), log=say)  # fmt: skip
        bar.close()
    say(f"{len(report.computed)} shard(s) computed, {len(report.skipped)} already finished; computed: "
        f"{shard_list(report.computed)}")  # fmt: skip
    state.wait_for_everyone()
    if main_process:
        try:
            rows = merge_shards(folder, planned, args.out, plan_id=plan_id)
        except (ValueError, FileNotFoundError) as err:
            print(f"pairwise.py: error: {err}", file=sys.stderr)
            return 1
        seconds = time.perf_counter() - started
        print(f"{rows:,} pairs in {len(planned)} shards -> {args.out} ({seconds:.1f} s, {count} process(es))")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
