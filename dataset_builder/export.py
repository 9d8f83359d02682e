"""Write the ``mist_meta/`` dataset folder: parquet shards plus a dataset card with YAML configs.

Usage (from the project root)::

    python dataset_builder/export.py                      # all evaluation splits + 2,000 train examples
    python dataset_builder/export.py --out /tmp/mm --max-examples 20

Afterwards, from the folder that contains ``mist_meta/``::

    from datasets import load_dataset
    load_dataset("mist_meta")                     # every split
    load_dataset("mist_meta", "test_oomd")        # one split
    load_dataset("mist_meta", split="test_imd", streaming=True)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from mist_hf.builder import DEFAULT_TRAIN_EXAMPLES, MistMetaConfig, export_parquet, summary_markdown
from mist_hf.prior import SPLITS

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "mist_meta", help="output folder (default: mist_meta/)")
    parser.add_argument("--splits", nargs="+", default=list(SPLITS), choices=list(SPLITS), help="splits to write")
    parser.add_argument("--train-examples", type=int, default=DEFAULT_TRAIN_EXAMPLES, help="train sample size")
    parser.add_argument("--max-examples", type=int, default=None, help="cap per split, spread over the split")
    args = parser.parse_args(argv)
    try:
        config = MistMetaConfig(
            name="export", splits=tuple(args.splits), train_examples=args.train_examples, max_examples=args.max_examples
        )
    except ValueError as err:
        parser.error(str(err))
    started = time.perf_counter()
    command = "python dataset_builder/export.py " + " ".join(sys.argv[1:] if argv is None else argv)
    body = (ROOT / "model_cards" / "mist_meta.md").read_text()
    rows = export_parquet(args.out, config, body, command.strip())
    print(summary_markdown(rows))
    print(
        f"exported {sum(r['examples'] for r in rows):,} examples to {args.out} in {time.perf_counter() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
