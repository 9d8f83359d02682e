"""Write a trained model folder as a hub-ready model repo: weights, config with auto_map, code, model card.

    python scripts/export_model.py runs/mist-main/final --out mist-mi --eval results/eval_mist-mi/summary.md

The card is ``model_cards/mist-mi.template.md`` (the recipe and usage) followed by the evaluation summary that
``scripts/evaluate.py`` wrote and its plots, if ``--eval`` is given, under YAML metadata
(``mist_hf.hub.export_model``). The card lives in the exported folder only. Refuses to overwrite ``--out`` unless
``--force``.

``--card-only`` re-renders only the card of an existing model folder, leaving its weights, config and code
byte-identical (the folder is exported to a temporary folder and only its README.md is copied back)::

    python scripts/export_model.py mist-mi --out mist-mi --card-only
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from mist_hf.hub import export_model

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path, help="a folder written by scripts/train.py or save_pretrained")
    parser.add_argument("--out", type=Path, default=ROOT / "mist-mi")
    parser.add_argument("--eval", type=Path, default=None, help="summary.md from scripts/evaluate.py")
    parser.add_argument("--force", action="store_true")
    parser.add_argument("--card-only", action="store_true", help="write only --out/README.md (--out must exist)")
    args = parser.parse_args(argv)
    template = (ROOT / "model_cards" / "mist-mi.template.md").read_text()
    if args.card_only:
        if not (args.out / "config.json").is_file():
            parser.error(f"--card-only: {args.out} is not a model folder")
        with tempfile.TemporaryDirectory() as tmp:
            try:
                folder = export_model(args.model, Path(tmp) / "model", template, args.eval)
            except ValueError as err:
                parser.error(str(err))
            written = [p for p in folder.iterdir() if p.name == "README.md" or p.suffix == ".png"]
            for path in written:
                shutil.copy(path, args.out / path.name)
        print(f"wrote {', '.join(str(args.out / p.name) for p in written)}", file=sys.stderr)
        return 0
    if args.out.exists() and not args.force:
        parser.error(f"{args.out} exists; pass --force to replace it")
    try:
        out = export_model(args.model, args.out, template, args.eval)
    except ValueError as err:
        parser.error(str(err))
    print(f"wrote {out} ({sum(p.stat().st_size for p in out.iterdir()) / 1e6:.1f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
