"""Compare fitted heads on cached validation inputs: MAE and 90% coverage by n bin, beside the anchors they read.

For each model folder (made by ``scripts/fit_head.py`` on the same cache), the median and the 90% interval on the
cached ``--split`` examples, by n bin, and the MAE of the KSG (k = 3) and Gaussian-copula anchors of the same
examples (clipped at 0; the KSG one only where it applies), and the better of the two per bin::

    python scripts/research/head_report.py --cache runs/v3/cache --split validation_v3 \\
        runs/v3/head-mlp runs/v3/head-anchored
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

N_BINS = (10, 100, 300, 1000, 2000, 5001)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--split", default="validation_v3")
    parser.add_argument("--weak", type=float, default=0.2, help="also report examples with 0 < MI below this")
    args = parser.parse_args(argv)

    import numpy as np
    import torch

    from mist_hf.configuration_mist import anchor_names
    from mist_hf.layers import log_space_to_mi
    from mist_hf.modeling_mist import MistModel
    from mist_hf.training.head_refit import load_head_inputs

    data = load_head_inputs(args.cache, args.split)
    mi, n = data["mi"].numpy(), data["n"].numpy()
    names = anchor_names(data["source"]["anchor_ks"])
    anchors = data["inputs"][:, -3 * len(names) : -2 * len(names)].double().expm1().numpy()  # log1p block
    anchors[data["inputs"][:, -len(names) :].numpy() < 0.5] = np.nan  # where an anchor does not apply
    bins = np.searchsorted(N_BINS, n, side="right") - 1
    groups = [(f"n {N_BINS[b]}-{N_BINS[b + 1] - 1}", bins == b) for b in range(len(N_BINS) - 1)]
    groups += [("all", np.ones_like(mi, dtype=bool)), (f"0 < MI < {args.weak}", (mi > 0) & (mi < args.weak))]
    columns = {}
    for path in args.models:
        model = MistModel.from_pretrained(path).eval()
        feats = data["inputs"][:, : model.head.net[0].in_features].unsqueeze(0)  # a head without anchors: the lead
        with torch.no_grad():
            log_q = model._log_quantiles(feats, torch.tensor([0.05, 0.5, 0.95]))
            log_q = model._calibrated(feats, log_q, log_q[:, 1:2])
            q = log_space_to_mi(log_q, zero_point_mass=model.config.zero_point_mass).double().numpy()
        columns[f"{path.name} MAE"] = np.abs(q[:, 1] - mi)
        columns[f"{path.name} cov90"] = (q[:, 0] <= mi) & (mi <= q[:, 2])
    for name in ("ksg3", "gaussian_copula"):
        columns[f"{name} MAE"] = np.abs(anchors[:, names.index(name)] - mi)
    ksg = ~np.isnan(anchors[:, names.index("ksg3")])
    for title, subset in (("all examples", np.ones_like(ksg)), ("where the KSG anchors apply", ksg)):
        print(f"\n{title}\n")
        print("| group | examples | " + " | ".join(columns) + " | better anchor MAE |")
        print("|---|---|" + "---|" * (len(columns) + 1))
        for label, group in groups:
            mask = group & subset
            if not mask.any():
                continue
            cells = [f"{np.nanmean(columns[c][mask]):.3f}" for c in columns]
            better = min(np.nanmean(columns["ksg3 MAE"][mask]), np.nanmean(columns["gaussian_copula MAE"][mask]))
            print(f"| {label} | {mask.sum()} | " + " | ".join(cells) + f" | {better:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
