"""Train one encoder candidate for a fixed wall-clock budget, then score it on validation and test_oomd.

Every candidate sees the same stream (train examples 0, 1, 2, ...), the same optimiser and schedule and the
same budget on one CPU thread, so the comparison is of architectures per unit of compute. Writes
``<out>/<name>.json`` and the model folder ``<out>/<name>/``.

    python scripts/compare_architectures.py --encoder colrow --minutes 12
    python scripts/compare_architectures.py --encoder rows --minutes 12
    python scripts/compare_architectures.py --encoder axial --column-size 16 --minutes 12
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from mist_hf.benchmarking import median_time
from mist_hf.collator import BucketedStream
from mist_hf.configuration_mist import MistConfig
from mist_hf.meta import get_split
from mist_hf.modeling_mist import MistModel
from mist_hf.preprocessing import pad_batch
from mist_hf.streaming import MetaStream

BINS = ((10, 100), (101, 300), (301, 500))


@torch.no_grad()
def score(model: MistModel, split: str, batch_size: int = 64) -> dict:
    """MSE, MAE, bias and 90% interval coverage of the median on a whole split, overall and by n bin."""
    model.eval()
    spec = get_split(split)
    examples = list(MetaStream(split))
    preds, lows, highs, truth, ns = [], [], [], [], []
    order = np.argsort([len(e["x"]) for e in examples])  # similar n together: little padding
    for start in range(0, len(order), batch_size):
        batch = [examples[i] for i in order[start : start + batch_size]]
        inputs = pad_batch(batch)
        labels = inputs.pop("labels")
        out = model(**inputs, quantile_levels=[0.05, 0.5, 0.95])
        preds += out.mi.tolist()
        lows += out.quantiles[:, 0].tolist()
        highs += out.quantiles[:, 2].tolist()
        truth += labels.tolist()
        ns += [len(e["x"]) for e in batch]
    p, t, lo, hi, n = map(np.asarray, (preds, truth, lows, highs, ns))
    result = {
        "split": split,
        "size": spec.size,
        "mse": float(np.mean((p - t) ** 2)),
        "mae": float(np.mean(np.abs(p - t))),
        "bias": float(np.mean(p - t)),
        "coverage90": float(np.mean((lo <= t) & (t <= hi))),
    }
    for a, b in BINS:
        sel = (n >= a) & (n <= b)
        result[f"mse_{a}_{b}"] = float(np.mean((p[sel] - t[sel]) ** 2))
    return result


@torch.no_grad()
def latency_ms(model: MistModel, n: int = 500, dim: int = 16, repeats: int = 20) -> float:
    model.eval()
    x, y = torch.randn(1, n, dim), torch.randn(1, n, dim)
    return 1000 * median_time(lambda: model(x, y), repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--encoder", choices=["colrow", "rows", "axial"], required=True)
    parser.add_argument("--name", default=None)
    parser.add_argument("--minutes", type=float, default=12.0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--hidden-size", type=int, default=64)
    parser.add_argument("--column-size", type=int, default=32)
    parser.add_argument("--pair-forms", type=int, default=16, help="colrow: quadratic forms per row (0: none)")
    parser.add_argument("--no-copula", action="store_true", help="standardise columns instead of normal scores")
    parser.add_argument("--no-sort", action="store_true", help="rows: keep the given column order")
    parser.add_argument("--symmetrize", choices=["average", "canonical"], default="average")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("runs/compare"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    name = args.name or args.encoder + ("-standardised" if args.no_copula else "") + (
        "-unsorted" if args.no_sort else ""
    )

    config = MistConfig(
        encoder=args.encoder,
        hidden_size=args.hidden_size,
        column_size=args.column_size,
        copula=not args.no_copula,
        num_pair_forms=args.pair_forms,
        sort_columns=not args.no_sort,
        symmetrize=args.symmetrize,
    )
    model = MistModel(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    warmup = 100
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / warmup))
    loader = DataLoader(BucketedStream(MetaStream("train"), args.batch_size), batch_size=None)

    model.train()
    start, seen, step, losses = time.perf_counter(), 0, 0, []
    budget = 60 * args.minutes
    for batch in loader:
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        seen += batch["x"].shape[0]
        step += 1
        losses.append(loss.item())
        if step % 100 == 0:
            print(f"{name} step {step} seen {seen} loss {np.mean(losses[-100:]):.4f}", flush=True)
        if time.perf_counter() - start > budget:
            break
    train_seconds = time.perf_counter() - start

    result = {
        "name": name,
        "encoder": args.encoder,
        "copula": not args.no_copula,
        "parameters": sum(p.numel() for p in model.parameters()),
        "train_minutes": train_seconds / 60,
        "datasets_seen": seen,
        "train_datasets_per_s": seen / train_seconds,
        "final_train_loss": float(np.mean(losses[-100:])),
        "latency_ms_n500_d16": latency_ms(model),
        "threads": args.threads,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }
    for split in ("validation", "test_oomd"):
        result[split] = score(model, split)
    args.out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(args.out / name)
    (args.out / f"{name}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
