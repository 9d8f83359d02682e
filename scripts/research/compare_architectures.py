"""Train one model variant for a fixed wall-clock budget, then score it on validation splits.

Every candidate runs ``mist_hf.training.train`` on the same stream (train examples 0, 1, 2, ...), with the same
optimiser, schedule and budget, so the comparison is of variants per unit of compute. Writes ``<out>/<name>.json``
(read by ``compare_table.py``) and the model folder ``<out>/<name>/final``. The measurements behind the shipped
choices are in ``docs/architecture.md``; the encoders that lost are no longer in the code (see that file).

    python scripts/research/compare_architectures.py --name rows --minutes 12
    python scripts/research/compare_architectures.py --name rows-unsorted --minutes 12 -- --sort_columns false

The v2 levers (``docs/architecture.md``, "v2 levers") train on ``train_v2`` and are scored on ``validation_v2``
only, so that no choice looks at a test split::

    python scripts/research/compare_architectures.py --name v2-base --minutes 10 --splits validation_v2 -- \
        configs/train_v2.yaml --save_strategy no
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from mist_hf import load_model
from mist_hf.evaluation.scoring import evaluate_splits
from mist_hf.evaluation.speed import median_time
from mist_hf.evaluation.tables import coverage_table, error_table, n_bins
from mist_hf.training import parse_train_args, train


def overall_scores(rows: list) -> dict[str, float]:
    """MAE, MSE and mean pinball loss over the levels each record has (nats), and 90% coverage, over all n; failed
    (non-finite) estimates are left out and counted."""
    failed = sum(not np.isfinite(r.estimate) for r in rows)
    rows = [r for r in rows if np.isfinite(r.estimate)]
    truth = np.array([r.true_mi for r in rows])
    estimate = np.array([r.estimate for r in rows])
    pinballs = [
        np.mean([max(t * (r.true_mi - q), (t - 1) * (r.true_mi - q)) for t, q in r.quantiles.items()])
        for r in rows
        if r.quantiles
    ]
    low = np.array([r.quantiles.get(0.05, np.nan) for r in rows])
    high = np.array([r.quantiles.get(0.95, np.nan) for r in rows])
    return {
        "mae": float(np.mean(np.abs(estimate - truth))),
        "mse": float(np.mean((estimate - truth) ** 2)),
        "pinball": float(np.mean(pinballs)),
        "coverage90": float(np.mean((low <= truth) & (truth <= high))),
        "count": len(rows),
        "failed": failed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--name", required=True)
    parser.add_argument("--minutes", type=float, default=12.0)
    parser.add_argument("--out", type=Path, default=Path("runs/compare"))
    parser.add_argument("--splits", nargs="+", default=["validation", "test_oomd"], help="splits to score on")
    parser.add_argument("--max-examples", type=int, default=None, help="per split, spread evenly over it")
    parser.add_argument("train_args", nargs="*", help="after --: a YAML config first (optional), then flags")
    args = parser.parse_args()
    run = args.out / args.name
    config = args.train_args[:1] if args.train_args[:1] and args.train_args[0].endswith((".yaml", ".yml")) else []
    rest = args.train_args[len(config) :]
    argv = [*config, "--output_dir", str(run), "--max_steps", "1000000", "--lr_scheduler_type", "constant_with_warmup",
            "--warmup_steps", "100", "--eval_strategy", "no", "--save_strategy", "no", "--load_best_model_at_end",
            "false", "--resume", "false", "--max_minutes", str(args.minutes), "--disable_tqdm", "true",
            *rest]  # fmt: skip
    began = time.perf_counter()
    final = train(*parse_train_args(argv))
    minutes = (time.perf_counter() - began) / 60
    model = load_model(final)
    state = json.loads((run / "final" / "config.json").read_text())
    result = {"name": args.name, "config": state, "parameters": sum(p.numel() for p in model.parameters()),
              "train_minutes": minutes}  # fmt: skip
    x, y = torch.randn(1, 500, 16), torch.randn(1, 500, 16)
    with torch.no_grad():
        result["latency_ms_n500_d16"] = 1000 * median_time(lambda: model(x, y), 20)
    records = evaluate_splits(model, [], args.splits, args.max_examples, progress=False)
    for split in args.splits:
        rows = [r for r in records if r.split == split]
        overall = error_table([*rows], "n")
        result[split] = {
            "by_n": {r["bin"]: {k: r[k] for k in ("mse", "mae", "bias")} for r in overall},
            "coverage90": coverage_table(rows)[0]["coverage_90"],
            "bins": [b for b, _, _ in n_bins(split)],
            "overall": overall_scores(rows),
        }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.name}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "config"}, indent=2))


if __name__ == "__main__":
    main()
