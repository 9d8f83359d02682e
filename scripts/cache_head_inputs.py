"""Compute a frozen encoder's head inputs (with the anchors) for many meta-dataset examples, in resumable shards.

The expensive part of fitting a head is the forward pass up to the head: the row encoder and the anchors on up to
5,000 rows. This script computes it once per example and writes shards of ``--shard_size`` examples to ``--out``
(``<split>-<first index>.pt``, each with the head inputs ``(N, D)``, the exact MIs, n, the dims and the families);
a shard that exists is skipped, so a killed run goes on where it stopped, and several processes can share a range
(``--worker i --workers k`` takes every k-th shard). ``scripts/fit_head.py`` fits a head on the shards::

    python scripts/cache_head_inputs.py --model mist-mi --anchors --split train_v3 --start 0 --count 20000 \\
        --out runs/v3/cache --worker 0 --workers 2 &
    python scripts/cache_head_inputs.py --model mist-mi --anchors --split train_v3 --start 0 --count 20000 \\
        --out runs/v3/cache --worker 1 --workers 2 &

The model must read a sample in one pass (``symmetrize="canonical"``, as v2 does).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="model folder whose encoder computes the inputs")
    parser.add_argument("--anchors", action="store_true", help="add the anchors (config.anchors) to the inputs")
    parser.add_argument("--anchor_ks", type=int, nargs="+", default=[3, 10])
    parser.add_argument("--anchor_max_dims", type=int, default=8)
    parser.add_argument("--split", required=True, help="a split of mist_hf.prior (train_v3, validation_v3, ...)")
    parser.add_argument("--start", type=int, default=0, help="first example index")
    parser.add_argument("--count", type=int, required=True, help="examples from --start")
    parser.add_argument("--dim_range", type=int, nargs=2, default=None, help="override the split's dim_x, dim_y range")
    parser.add_argument("--shard_size", type=int, default=250)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--worker", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    if not 0 <= args.worker < args.workers:
        parser.error(f"--worker must be in [0, --workers), got {args.worker} of {args.workers}")

    import torch

    from mist_hf.modeling_mist import MistModel
    from mist_hf.prior import generate_example, get_split
    from mist_hf.training.head_refit import sample_head_inputs

    torch.set_num_threads(1)
    model = MistModel.from_pretrained(args.model).eval()
    model.config.anchors = args.anchors
    model.config.anchor_ks = sorted(args.anchor_ks)
    model.config.anchor_max_dims = args.anchor_max_dims
    spec = get_split(args.split)
    if args.dim_range is not None:
        spec = dataclasses.replace(spec, dim_range=tuple(args.dim_range))
    if args.start + args.count > spec.size:
        spec = spec.with_size(args.start + args.count)
    args.out.mkdir(parents=True, exist_ok=True)
    firsts = range(args.start, args.start + args.count, args.shard_size)
    started, done = time.perf_counter(), 0
    for s, first in enumerate(firsts):
        path = args.out / f"{args.split}-{first:012d}.pt"
        if s % args.workers != args.worker or path.exists():
            continue
        examples = [
            generate_example(spec, i) for i in range(first, min(first + args.shard_size, args.start + args.count))
        ]
        inputs = sample_head_inputs(model, ((e.x, e.y) for e in examples))
        shard = {
            "inputs": inputs,
            "mi": torch.tensor([e.mi for e in examples], dtype=torch.float64),
            "n": torch.tensor([e.n for e in examples]),
            "dim_x": torch.tensor([e.x.shape[1] for e in examples]),
            "dim_y": torch.tensor([e.y.shape[1] for e in examples]),
            "family": [e.family for e in examples],
            "index": torch.tensor([e.index for e in examples]),
            "source": {"model": str(args.model), "split": args.split, "anchors": args.anchors,
                       "anchor_ks": sorted(args.anchor_ks), "anchor_max_dims": args.anchor_max_dims,
                       "dim_range": spec.dim_range},
        }  # fmt: skip
        tmp = path.with_suffix(".tmp")
        torch.save(shard, tmp)
        tmp.replace(path)  # a shard is there whole or not at all
        done += len(examples)
        rate = done / (time.perf_counter() - started)
        print(f"{path.name}: {done} examples, {rate:.1f}/s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
