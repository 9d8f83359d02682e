"""How far a model's estimate moves under maps that leave MI unchanged, over validation datasets.

For each of the first ``--count`` examples of ``--split``: the estimate as given, and after strictly increasing
per-column maps, decreasing ones, a row permutation, column permutations inside X and inside Y, and swapping X and
Y (see ``mist_hf.evaluation.symmetry``). Prints a markdown table of the largest, 99th-percentile and mean change
(nats) and writes it with the raw numbers to ``--out``::

    python scripts/measure_symmetries.py --model mist-mi --split validation_v2 --count 1000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model folder (default: the shipped mist-mi)")
    parser.add_argument("--split", default="validation_v2")
    parser.add_argument("--count", type=int, default=1000, help="examples, from the split's start")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random maps and permutations")
    parser.add_argument("--out", type=Path, default=Path("results/symmetries"))
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error(f"--count must be >= 1, got {args.count}")

    from mist_hf.data import ExampleStream
    from mist_hf.evaluation.reports import markdown
    from mist_hf.evaluation.symmetry import symmetry_deviations

    started = time.perf_counter()
    try:
        examples = list(ExampleStream(args.split, 0, args.count, rank=0, world_size=1).examples())
    except ValueError as err:
        parser.error(str(err))
    report = symmetry_deviations([(e.x, e.y) for e in examples], args.model, seed=args.seed)

    def sample(i: int | None) -> str:  # the sample behind the largest change, so that a gap can be traced
        if i is None:
            return "-"
        e = examples[i]
        return f"#{i} {e.family}, n {e.n}, {e.x.shape[1]}+{e.y.shape[1]}"

    rows = [{"symmetry": name, **values, "worst": sample(values["worst"])} for name, values in report.items()]
    table = markdown(rows, ["symmetry", "max", "p99", "mean", "max_interval", "count", "refused", "worst"])
    args.out.mkdir(parents=True, exist_ok=True)
    command = f"python scripts/measure_symmetries.py {' '.join(argv if argv is not None else sys.argv[1:])}"
    text = f"Model: `{args.model or 'mist-mi'}`, split `{args.split}`, {len(examples)} examples. "
    text += f"Command: `{command}`\n\nAbsolute change of the estimate (nats): point estimate max / 99th percentile / "
    text += "mean; interval ends max; the sample that moved most (index in the split, family, n, dims).\n\n"
    text += table + f"\n{time.perf_counter() - started:.0f} s\n"
    (args.out / "symmetries.md").write_text(text)
    (args.out / "symmetries.json").write_text(json.dumps(report, indent=2) + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
