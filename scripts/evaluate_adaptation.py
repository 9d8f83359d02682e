"""Measure what modality adaptation gains: base MIST, the adapted MIST and KSG on a flow-pushed test set.

The test set is the adapted ``test`` split of ``mist_hf.meta.adapted_split``: 13 test families (the
in- and out-of-meta-distribution ones) x the paper's 20 n values x 2, drawn with a seed that neither training
nor validation uses, at the target's dims, and pushed through the same fitted flows. Its MI labels are exact.
For reference the base model is also scored on the same synthetic samples before the flows (``synthetic``).

    python scripts/evaluate_adaptation.py --adapted runs/adapt-breast-cancer/model --out results/adaptation

Writes ``records.csv``, ``errors_by_n.csv``, ``coverage.csv`` and ``summary.md`` to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from tqdm import tqdm

from mist_hf import load_model
from mist_hf.adaptation import ModalityAdapter
from mist_hf.evaluation import (
    coverage_table,
    error_table,
    markdown,
    point_estimators,
    record_rows,
    run_baseline,
    run_mist,
    write_csv,
)
from mist_hf.meta import adapted_split, generate_example


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--adapted", type=Path, required=True, help="adapted model folder (from scripts/adapt.py)")
    parser.add_argument("--base", default=None, help="base model folder (default: mist-mi)")
    parser.add_argument("--flows", type=Path, default=None, help="flows folder (default: <adapted>/flows)")
    parser.add_argument("--baselines", nargs="*", default=["ksg3", "ksg5", "ksg10"])
    parser.add_argument("--max-examples", type=int, default=None, help="first N test examples (default: all 520)")
    parser.add_argument("--out", type=Path, default=Path("results/adaptation"))
    args = parser.parse_args(argv)
    try:
        baselines = point_estimators(args.baselines)
    except ValueError as err:
        parser.error(str(err))
    adapter = ModalityAdapter.from_pretrained(args.flows or args.adapted / "flows")
    base, adapted = load_model(args.base), load_model(args.adapted)

    started = time.perf_counter()
    spec = adapted_split("test", adapter.dims)
    stop = spec.size if args.max_examples is None else min(args.max_examples, spec.size)
    originals = [generate_example(spec, i) for i in tqdm(range(stop), desc="generate", file=sys.stderr)]
    pushed = []
    for lo in tqdm(range(0, stop, 64), desc="push through flows", file=sys.stderr):
        pushed += adapter.adapt_many(originals[lo : lo + 64])

    def named(records, name):
        return [replace(r, estimator=name) for r in records]

    records = named(run_mist(base, "adapted_test", pushed, progress=True), "mist-mi (base)")
    records += named(run_mist(adapted, "adapted_test", pushed, progress=True), "mist-mi adapted")
    for name in args.baselines:
        for ex in tqdm(pushed, desc=name, file=sys.stderr, leave=False):
            records += run_baseline(name, baselines[name], "adapted_test", [ex])
    records += named(run_mist(base, "synthetic_test", originals, progress=True), "mist-mi (base)")

    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(record_rows(records), args.out / "records.csv")
    by_n = sorted(error_table(records, "n"), key=lambda r: (r["split"], r["estimator"]))
    coverage = coverage_table(records)
    write_csv(by_n, args.out / "errors_by_n.csv")
    write_csv(coverage, args.out / "coverage.csv")
    command = f"python scripts/evaluate_adaptation.py {' '.join(argv if argv is not None else sys.argv[1:])}"
    info = args.adapted / "adaptation.json"
    recipe = json.loads(info.read_text()) if info.is_file() else {}
    cols = ["split", "estimator", "bin", "count", "mse", "mae", "bias", "median_seconds"]
    summary = "\n".join(
        [
            "# Modality adaptation\n",
            f"Adapted model: `{args.adapted}` (base `{recipe.get('base_model', args.base or 'mist-mi')}`, "
            f"{recipe.get('steps', '?')} fine-tuning steps, data {recipe.get('data', '?')}). Command: `{command}`\n",
            f"Test set: {stop} examples of `{spec.name}` at dims {adapter.dims}, pushed through the fitted flows "
            "(`adapted_test`); `synthetic_test` is the same samples before the flows.\n",
            "## Errors by n (nats; MSE in nats²)\n",
            markdown(by_n, cols),
            "## Coverage of central intervals\n",
            markdown(coverage, ["split", "estimator", "count", *(f"coverage_{c}" for c in (50, 80, 90, 95))]),
            f"Total wall time {time.perf_counter() - started:.0f} s.\n",
        ]
    )
    (args.out / "summary.md").write_text(summary)
    print(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
