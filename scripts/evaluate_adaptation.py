"""Measure what modality adaptation gains: base MIST, the adapted MIST and KSG on a flow-pushed test set.

The test set is the adapted ``test`` split (``mist_hf.prior.adapted_split``): 13 test families (the in- and
out-of-meta-distribution ones) x the paper's 20 n values x 2, drawn with a seed that neither training nor validation
uses, at the target's dims, and pushed through the same fitted flows. Its MI labels are exact. For reference the
base model is also scored on the same synthetic samples before the flows (``synthetic_test``).

    python scripts/evaluate_adaptation.py --adapted runs/adapt-breast-cancer/model --out results/adaptation
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from mist_hf import load_model
from mist_hf.adaptation import ModalityAdapter
from mist_hf.evaluation.reports import write_report
from mist_hf.evaluation.scoring import evaluate_adaptation


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--adapted", type=Path, required=True, help="adapted model folder (from scripts/adapt.py)")
    parser.add_argument("--base", default=None, help="base model folder (default: mist-mi)")
    parser.add_argument("--flows", type=Path, default=None, help="flows folder (default: <adapted>/flows)")
    parser.add_argument("--baselines", nargs="*", default=["ksg3", "ksg5", "ksg10"])
    parser.add_argument("--max-examples", type=int, default=None, help="first N test examples (default: all 520)")
    parser.add_argument("--out", type=Path, default=Path("results/adaptation"))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    adapter = ModalityAdapter.from_pretrained(args.flows or args.adapted / "flows")
    try:
        records = evaluate_adaptation(
            load_model(args.adapted), load_model(args.base), adapter, args.baselines, args.max_examples
        )
    except ValueError as err:
        parser.error(str(err))
    info = args.adapted / "adaptation.json"
    recipe = json.loads(info.read_text()) if info.is_file() else {}
    command = f"python scripts/evaluate_adaptation.py {' '.join(sys.argv[1:] if argv is None else argv)}"
    intro = (
        f"Adapted model: `{args.adapted}` (base `{recipe.get('base_model', args.base or 'mist-mi')}`, "
        f"{recipe.get('steps', '?')} fine-tuning steps, data {recipe.get('data', '?')}). Command: `{command}`\n\n"
        f"Test set: the adapted `test` split at dims {adapter.dims}, pushed through the fitted flows "
        "(`adapted_test`); `synthetic_test` is the same samples before the flows."
    )
    summary = write_report(records, args.out, "Modality adaptation", intro, plots=False,
                           seconds=time.perf_counter() - started)  # fmt: skip
    print(summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
