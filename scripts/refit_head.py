"""Refit a trained model's quantile head on its frozen encoder's features, and save the model with the new head.

The head's inputs of ``--examples`` ``train_v2`` examples (from ``--start``) and of the first
``--validation_examples`` of ``validation_v2`` are computed once (``--cache`` keeps them, in blocks, so an
interrupted run goes on where it stopped); the head is then fit on them for ``--steps`` Adam steps, and the step
with the lowest validation pinball loss is kept (see :mod:`mist_hf.training.head_refit`)::

    git checkout 5e31c91 -- checkpoints/mist-v2-ns2   # v2's encoder, out of the tree since v2 shipped
    python scripts/refit_head.py --model checkpoints/mist-v2-ns2 --out runs/mist-v2-refit \\
        --examples 9000 --start 1100000000 --cache runs/refit-ns2.pt

Prints the validation record and writes it to ``refit_head.json`` in ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a saved model folder")
    parser.add_argument("--out", required=True, help="folder for the model with the refit head")
    parser.add_argument("--examples", type=int, default=9000, help="train_v2 examples to fit on")
    parser.add_argument("--start", type=int, default=1_100_000_000, help="first train_v2 index (away from runs)")
    parser.add_argument("--validation_examples", type=int, default=500)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--cache", default=None, help="file that keeps the computed head inputs")
    parser.add_argument("--block", type=int, default=250, help="examples computed between cache writes")
    args = parser.parse_args(argv)

    import torch

    from mist_hf.modeling_mist import MistModel
    from mist_hf.prior import get_split
    from mist_hf.registration import register
    from mist_hf.training.head_refit import head_inputs, refit_head

    register()
    model = MistModel.from_pretrained(args.model)
    spec = get_split("train_v2")
    if args.start + args.examples > spec.size:
        spec = spec.with_size(args.start + args.examples)
    wanted = {
        "train": (spec, range(args.start, args.start + args.examples)),
        "validation": (get_split("validation_v2"), range(args.validation_examples)),
    }
    # What the cached inputs were computed from: a cache of another model or other examples is refused, not reused.
    source = {"model": str(args.model), "start": args.start, "validation_examples": args.validation_examples}
    cache = {**source, "train": [], "validation": []}
    if args.cache and Path(args.cache).exists():
        cache = torch.load(args.cache)
        for key, value in source.items():
            if cache.get(key) != value:
                raise SystemExit(f"{args.cache} holds inputs for {key}={cache.get(key)!r}, not {value!r}")
    for part, (split, indices) in wanted.items():
        done = sum(len(block[1]) for block in cache[part])
        for first in range(done, len(indices), args.block):
            block = indices[first : first + args.block]
            cache[part].append(head_inputs(model, split, block))
            print(f"{part}: {first + len(block)} of {len(indices)}", flush=True)
            if args.cache:
                torch.save(cache, args.cache)
    (h, mi), (vh, vmi) = ([torch.cat(t) for t in zip(*cache[p], strict=True)] for p in ("train", "validation"))
    record = refit_head(model, h[: args.examples], mi[: args.examples], vh, vmi, args.steps, args.batch, args.lr)
    best = min(record, key=lambda r: r["validation_loss"])
    print(f"validation loss: {record[0]['validation_loss']:.4f} as saved, {best['validation_loss']:.4f} at step "
          f"{best['step']}")  # fmt: skip
    model.save_pretrained(args.out)
    Path(args.out, "refit_head.json").write_text(json.dumps({"args": vars(args), "record": record}, indent=1))
    print(f"saved to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
