"""Derive a head-input cache for fewer anchors from a cache with more, without recomputing anything.

The anchors of a smaller ``anchor_ks`` are a subset of those of a larger one, and a lower ``anchor_max_dims`` only
switches the KSG anchors off for wider samples; so the cheaper variants can be measured at equal data by fitting
heads on derived caches (``scripts/fit_head.py``)::

    python scripts/research/derive_cache.py runs/v3/cache runs/v3/cache-k3-d4 --anchor_ks 3 --anchor_max_dims 4

One difference from a cache computed with the smaller ks: a subsample is read by the KSG anchors only when its rows
outnumber the largest k, so below 11 rows a half or quarter that ks = [3] would read stays "not computed" here.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--anchor_ks", type=int, nargs="+", required=True)
    parser.add_argument("--anchor_max_dims", type=int, required=True)
    args = parser.parse_args(argv)

    import torch

    from mist_hf.configuration_mist import anchor_names

    args.out.mkdir(parents=True, exist_ok=True)
    for path in sorted(args.source.glob("*.pt")):
        shard = torch.load(path, weights_only=False)
        source = shard["source"]
        if not set(args.anchor_ks) <= set(source["anchor_ks"]) or args.anchor_max_dims > source["anchor_max_dims"]:
            raise SystemExit(
                f"{path}: cannot derive ks {args.anchor_ks} / max dims {args.anchor_max_dims} from {source}"
            )
        old, new = anchor_names(source["anchor_ks"]), anchor_names(sorted(args.anchor_ks))
        inputs = shard["inputs"]
        lead = inputs.shape[1] - 3 * len(old)
        keep = [old.index(name) for name in new]
        blocks = [inputs[:, lead + b * len(old) : lead + (b + 1) * len(old)][:, keep].clone() for b in range(3)]
        wide = (shard["dim_x"] + shard["dim_y"]) > args.anchor_max_dims
        ksg = [i for i, name in enumerate(new) if name.startswith("ksg")]
        for block in blocks:
            block[wide.nonzero()[:, 0].unsqueeze(1), torch.tensor(ksg)] = 0.0  # not computed: all three inputs 0
        shard["inputs"] = torch.cat([inputs[:, :lead], *blocks], 1)
        shard["source"] = {**source, "anchor_ks": sorted(args.anchor_ks), "anchor_max_dims": args.anchor_max_dims}
        torch.save(shard, args.out / path.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
