"""Write the ``mist_meta/`` dataset folder: parquet shards plus a dataset card with YAML configs.

Usage (from the project root)::

    python dataset_builder/export.py                      # all evaluation splits + 2,000 train examples
    python dataset_builder/export.py --out /tmp/mm --max-examples 20

Afterwards, from the folder that contains ``mist_meta/``::

    from datasets import load_dataset
    load_dataset("mist_meta")                     # every split
    load_dataset("mist_meta", "test_oomd")        # one split
    load_dataset("mist_meta", split="test_imd", streaming=True)

Generation is deterministic, so two exports with the same arguments write identical data.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from mist_hf.builder import DEFAULT_TRAIN_EXAMPLES, FEATURES, MistMetaConfig, iter_tables
from mist_hf.meta import SPLITS

ROOT = Path(__file__).resolve().parents[1]
CARD_BODY = ROOT / "model_cards" / "mist_meta.md"
ROWS_PER_SHARD = 512


def write_split(name: str, config: MistMetaConfig, data_dir: Path) -> dict:
    """Write the parquet shards of split ``name``; returns summary statistics."""
    spec, indices = config.materialised(name)
    tables = list(iter_tables(spec, indices, chunk_size=ROWS_PER_SHARD))
    total = len(tables)
    for i, table in enumerate(tables):
        pq.write_table(table, data_dir / f"{name}-{i:05d}-of-{total:05d}.parquet", row_group_size=128)
    table = pa.concat_tables(tables) if tables else FEATURES.arrow_schema.empty_table()
    mi = np.asarray(table.column("mi"))
    n = np.asarray(table.column("n"))
    dims = np.concatenate([np.asarray(table.column("dim_x")), np.asarray(table.column("dim_y"))])
    return {
        "split": name,
        "examples": table.num_rows,
        "of": spec.size if name != "train" else SPLITS["train"].size,
        "families": len(set(table.column("family").to_pylist())),
        "n": f"{n.min()}-{n.max()}" if n.size else "-",
        "dims": f"{dims.min()}-{dims.max()}" if dims.size else "-",
        "mi_median": float(np.median(mi)) if mi.size else float("nan"),
        "mi_max": float(mi.max()) if mi.size else float("nan"),
        "bytes": sum(p.stat().st_size for p in data_dir.glob(f"{name}-*.parquet")),
    }


def card_yaml(splits: list[str]) -> str:
    """YAML front matter: a ``default`` config with every split, and one config per split."""
    configs = [
        {
            "config_name": "default",
            "default": True,
            "data_files": [{"split": s, "path": f"data/{s}-*.parquet"} for s in splits],
        }
    ]
    configs += [{"config_name": s, "data_files": [{"split": s, "path": f"data/{s}-*.parquet"}]} for s in splits]
    meta = {
        "pretty_name": "MIST meta-dataset",
        "license": "mit",
        "tags": ["mutual-information", "synthetic", "meta-learning"],
        "task_categories": ["tabular-regression"],
        "configs": configs,
    }
    return yaml.safe_dump(meta, sort_keys=False)


def summary_markdown(rows: list[dict]) -> str:
    head = "| split | examples | of | families | n | dims | median MI (nats) | max MI | parquet MB |\n"
    head += "|---|---|---|---|---|---|---|---|---|\n"
    lines = [
        f"| {r['split']} | {r['examples']:,} | {r['of']:,} | {r['families']} | {r['n']} | {r['dims']} | "
        f"{r['mi_median']:.3f} | {r['mi_max']:.2f} | {r['bytes'] / 1e6:.1f} |"
        for r in rows
    ]
    return head + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "mist_meta", help="output folder (default: mist_meta/)")
    parser.add_argument("--splits", nargs="+", default=list(SPLITS), choices=list(SPLITS), help="splits to write")
    parser.add_argument("--train-examples", type=int, default=DEFAULT_TRAIN_EXAMPLES, help="train sample size")
    parser.add_argument("--max-examples", type=int, default=None, help="cap per split, spread over the split")
    args = parser.parse_args(argv)
    if args.train_examples < 0:
        parser.error(f"--train-examples must be >= 0, got {args.train_examples}")
    if args.max_examples is not None and args.max_examples < 0:
        parser.error(f"--max-examples must be >= 0, got {args.max_examples}")

    config = MistMetaConfig(
        name="export", splits=tuple(args.splits), train_examples=args.train_examples, max_examples=args.max_examples
    )
    out: Path = args.out
    data_dir = out / "data"
    if data_dir.exists():
        shutil.rmtree(data_dir)  # stale shards of another size would be picked up by the globs
    data_dir.mkdir(parents=True)

    start = time.perf_counter()
    rows = []
    for name in args.splits:
        rows.append(write_split(name, config, data_dir))
        print(f"wrote {name}: {rows[-1]['examples']} examples", file=sys.stderr)
    elapsed = time.perf_counter() - start

    body = CARD_BODY.read_text() if CARD_BODY.exists() else "# MIST meta-dataset\n"
    summary = summary_markdown(rows)
    command = "python dataset_builder/export.py " + " ".join(argv if argv is not None else sys.argv[1:])
    card = f"---\n{card_yaml(args.splits)}---\n\n{body}\n## This export\n\nWritten by `{command.strip()}`.\n\n{summary}"
    (out / "README.md").write_text(card)
    (out / "export_summary.json").write_text(json.dumps(rows, indent=2))
    print(summary)
    print(f"exported {sum(r['examples'] for r in rows):,} examples to {out} in {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
