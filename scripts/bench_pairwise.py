"""Pairwise MI over wide tables: speed with 1 and K processes, beside scikit-learn, and accuracy on exact MI.

Tables come from ``mist_hf.evaluation.speed.copula_table``: a Gaussian copula with a factor correlation structure,
each column through its own monotone (some decreasing) map, so every pair's MI is exact. In one run:

1. **Speed.** For each n in ``--ns``: a ``--columns``-column table; ``scripts/pairwise.py`` over all its pairs with
   each process count in ``--processes`` (``accelerate launch`` for more than one), ``--repeats`` times each (a fresh
   output every time); pairs per second from the script's own timing (model loaded, table planned) and from the
   whole command (with start-up). Beside it, scikit-learn's ``mutual_info_regression`` on the first
   ``--sklearn-pairs`` pairs of the same table, one pair per call as in a loop over columns.
2. **Accuracy.** A ``--accuracy-columns``-column table at n = ``--accuracy-n``: MAE against the exact MI of MIST
   over all pairs and of scikit-learn over a random ``--sklearn-pairs`` of them (MIST's MAE on the same subset
   too).

Medians over repeats::

    python scripts/bench_pairwise.py --ns 1000 10000 --columns 60 --processes 1 2 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]


def write_table(path: Path, n: int, columns: int, seed: int):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mist_hf.evaluation.speed import copula_table

    table, mi = copula_table(n, columns, seed)
    names = [f"c{j:03d}" for j in range(columns)]
    pq.write_table(pa.table({name: table[:, j] for j, name in enumerate(names)}), path)
    return table, mi, names


def run_pairwise(
    table: Path, out: Path, processes: int, model: str | None, batch_size: int | None = None
) -> tuple[float, float]:
    """(wall seconds of the whole command, seconds the script reports for the estimates)."""
    command = [sys.executable, "scripts/pairwise.py"]
    if processes > 1:
        command = [sys.executable, "-m", "accelerate.commands.launch", "--config_file",
                   str(ROOT / "configs" / "accelerate_cpu2.yaml"), "--num_processes", str(processes),
                   "scripts/pairwise.py"]  # fmt: skip
    command += [str(table), "--out", str(out)] + (["--model", model] if model else [])
    command += ["--batch-size", str(batch_size)] if batch_size else []
    began = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - began
    inner = float(re.search(r"\(([\d.]+) s, \d+ process", done.stdout).group(1))
    return wall, inner


def sklearn_pairs(table, pairs, repeats: int) -> tuple[float, list[float]]:
    """Median seconds for scikit-learn's mutual_info_regression over ``pairs`` (one call per pair), and its
    estimates."""
    from sklearn.feature_selection import mutual_info_regression

    times, values = [], []
    for _ in range(repeats):
        began = time.perf_counter()
        values = [float(mutual_info_regression(table[:, [i]], table[:, j], random_state=0)[0]) for i, j in pairs]
        times.append(time.perf_counter() - began)
    return statistics.median(times), values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model folder (default: the shipped mist-mi)")
    parser.add_argument("--ns", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--columns", type=int, default=60, help="columns of the speed tables")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sklearn-pairs", type=int, default=200)
    parser.add_argument("--accuracy-columns", type=int, default=200)
    parser.add_argument("--accuracy-n", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=None, help="pairwise.py's --batch-size (a GPU wants more)")
    parser.add_argument("--out", type=Path, default=Path("results/pairwise_bench"))
    args = parser.parse_args(argv)

    import numpy as np
    import pandas as pd

    from mist_hf.evaluation.reports import markdown
    from mist_hf.evaluation.speed import machine

    speed, accuracy = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for n in args.ns:
            table, _, _ = write_table(tmp / f"speed_{n}.parquet", n, args.columns, seed=n)
            count = args.columns * (args.columns - 1) // 2
            for k in args.processes:
                runs = [run_pairwise(tmp / f"speed_{n}.parquet", tmp / f"out_{n}_{k}_{r}.parquet", k, args.model,
                                     args.batch_size) for r in range(args.repeats)]  # fmt: skip
                wall, inner = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
                speed.append({"estimator": f"mist, {k} process(es)", "n": n, "pairs": count,
                              "pairs_per_s": count / inner if inner else float("nan"),  # below the clock's 0.01 s
                              "pairs_per_s_with_startup": count / wall})  # fmt: skip
            pairs = [(i, j) for i in range(args.columns) for j in range(i + 1, args.columns)][: args.sklearn_pairs]
            seconds, _ = sklearn_pairs(table, pairs, args.repeats)
            speed.append({"estimator": "scikit-learn mutual_info_regression, 1 process", "n": n, "pairs": len(pairs),
                          "pairs_per_s": len(pairs) / seconds, "pairs_per_s_with_startup": None})  # fmt: skip
        table, truth, names = write_table(tmp / "accuracy.parquet", args.accuracy_n, args.accuracy_columns, seed=7)
        run_pairwise(
            tmp / "accuracy.parquet", tmp / "accuracy_out.parquet", max(args.processes), args.model, args.batch_size
        )
        ours = pd.read_parquet(tmp / "accuracy_out.parquet")
        index = {name: j for j, name in enumerate(names)}
        i = ours["x"].map(index).to_numpy()
        j = ours["y"].map(index).to_numpy()
        exact = truth[i, j]
        rng = np.random.default_rng(0)
        subset = rng.choice(len(ours), size=min(args.sklearn_pairs, len(ours)), replace=False)
        _, theirs = sklearn_pairs(table, list(zip(i[subset], j[subset], strict=True)), 1)
        inside = (ours["low"] <= exact) & (exact <= ours["high"])
        accuracy += [
            {"estimator": "mist", "pairs": len(ours), "mae": float(np.mean(np.abs(ours["mi"] - exact))),
             "coverage_90": float(np.mean(inside))},
            {"estimator": "mist, the scikit-learn subset", "pairs": len(subset),
             "mae": float(np.mean(np.abs(ours["mi"].to_numpy()[subset] - exact[subset]))), "coverage_90": None},
            {"estimator": "scikit-learn, the subset", "pairs": len(subset),
             "mae": float(np.mean(np.abs(np.asarray(theirs) - exact[subset]))), "coverage_90": None},
        ]  # fmt: skip
    command = f"python scripts/bench_pairwise.py {' '.join(sys.argv[1:] if argv is None else argv)}"
    text = f"Command: `{command}`\n\nmachine: {machine()}\n\n## Speed (median of {args.repeats})\n\n"
    text += markdown(speed, ["estimator", "n", "pairs", "pairs_per_s", "pairs_per_s_with_startup"])
    text += f"\n## Accuracy: {args.accuracy_columns} columns, n = {args.accuracy_n}, exact pairwise MI\n\n"
    text += markdown(accuracy, ["estimator", "pairs", "mae", "coverage_90"])
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "pairwise_bench.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
