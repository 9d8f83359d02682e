"""Write a trained model folder as a hub-ready model repo: weights, config with auto_map, code, model card.

    python scripts/export_model.py runs/mist-main/final --out mist-mi --eval results/eval_mist-mi/summary.md

The card is ``model_cards/mist-mi.template.md`` (the recipe and usage) followed by the evaluation summary that
``scripts/evaluate.py`` wrote and its plots (copied next to the card), under YAML metadata. The shipped
``mist-mi/`` card is also copied to ``model_cards/mist-mi.md``. Refuses to overwrite ``--out`` unless ``--force``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from huggingface_hub import ModelCard, ModelCardData

from mist_hf import load_model

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "model_cards" / "mist-mi.template.md"
CARD_COPY = ROOT / "model_cards" / "mist-mi.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path, help="a folder written by scripts/train.py or save_pretrained")
    parser.add_argument("--out", type=Path, default=ROOT / "mist-mi")
    parser.add_argument("--eval", type=Path, default=None, help="summary.md from scripts/evaluate.py")
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    if args.out.exists() and not args.force:
        parser.error(f"{args.out} exists; pass --force to replace it")
    try:
        model = load_model(args.model)
    except ValueError as err:
        parser.error(str(err))
    if args.out.exists():
        shutil.rmtree(args.out)
    model.save_pretrained(args.out)  # safetensors + config.json with auto_map + the modeling code

    body = TEMPLATE.read_text() if TEMPLATE.exists() else "# mist-mi\n"
    if args.eval is not None:
        body += "\n" + args.eval.read_text().replace("# Evaluation", "## Evaluation", 1)
        plots = [p for p in ("error_vs_n.png", "calibration.png") if (args.eval.parent / p).is_file()]
        for name in plots:  # the evaluator's plots travel with the card
            shutil.copy(args.eval.parent / name, args.out / name)
        if plots:
            body += "\n## Plots\n\n" + "\n".join(f"![{Path(n).stem}]({n})" for n in plots) + "\n"
    data = ModelCardData(
        library_name="transformers",
        license="mit",
        tags=["mutual-information", "statistics", "custom_code", "set-transformer"],
        datasets=["mist_meta"],
        pipeline_tag="tabular-regression",
    )
    card = ModelCard(f"---\n{data.to_yaml()}\n---\n\n{body}")
    card.save(args.out / "README.md")
    if args.out.resolve() == (ROOT / "mist-mi").resolve():  # the shipped model's card is also kept in model_cards/
        shutil.copy(args.out / "README.md", CARD_COPY)
    print(f"wrote {args.out} ({sum(p.stat().st_size for p in args.out.iterdir()) / 1e6:.1f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
