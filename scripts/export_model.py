"""Write a trained model folder as a hub-ready model repo: weights, config with auto_map, code, model card.

    python scripts/export_model.py runs/mist-main/final --out mist-mi --eval results/eval_mist-mi/summary.md

The card is ``model_cards/mist-mi.template.md`` (the recipe and usage) followed by the evaluation summary that
``scripts/evaluate.py`` wrote and its plots, under YAML metadata (``mist_hf.hub.export_model``). The card lives in
the exported folder only. Refuses to overwrite ``--out`` unless ``--force``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mist_hf.hub import export_model

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path, help="a folder written by scripts/train.py or save_pretrained")
    parser.add_argument("--out", type=Path, default=ROOT / "mist-mi")
    parser.add_argument("--eval", type=Path, default=None, help="summary.md from scripts/evaluate.py")
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    if args.out.exists() and not args.force:
        parser.error(f"{args.out} exists; pass --force to replace it")
    template = (ROOT / "model_cards" / "mist-mi.template.md").read_text()
    try:
        out = export_model(args.model, args.out, template, args.eval)
    except ValueError as err:
        parser.error(str(err))
    print(f"wrote {out} ({sum(p.stat().st_size for p in out.iterdir()) / 1e6:.1f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
