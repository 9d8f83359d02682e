"""Does a new head input help, at equal compute? Refit only the head of a trained model, with and without it.

The model's row encoder is frozen: the head's inputs are computed once on ``--examples`` examples of ``train_v2``
(from ``--start``), and the head is refit on 85% of them three ways at the same steps and batch size: not at all
(the model as saved), on the same inputs, and with the two null-scaled Gaussian inputs added (``null_scaled_mi``
of the plain and the quadratic Gaussian MI, new weights starting at 0). Prints one markdown row each: pinball loss
at the model's levels, MAE of the median and 90% coverage on the held-out 15%, and the median estimate (upper end of
the 90% interval in brackets, both medians over 12 seeds) on independent standard Gaussian columns at the shapes
of the shipped-model guard::

    python scripts/research/head_refit.py --model checkpoints/mist-v2-quad --examples 9000

(``checkpoints/mist-v2-quad`` comes back with ``git checkout 5e31c91 -- checkpoints/mist-v2-quad``.)

The model's ``head_statistics`` must be ``gaussian_copula``, ``knn`` and ``quadratic_copula``, without
``null_scaled``.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

INDEPENDENT = ((2000, 4), (500, 8), (300, 16))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--examples", type=int, default=9000)
    parser.add_argument("--start", type=int, default=990_000_000, help="first train_v2 index (away from runs)")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args(argv)

    import numpy as np
    import torch

    from mist_hf.layers import MonotoneQuantileHead, log_space_to_mi, pinball_loss, random_levels, zero_mass_target
    from mist_hf.modeling_mist import MistModel
    from mist_hf.rank_statistics import null_scaled_mi
    from mist_hf.training.head_refit import head_inputs, sample_head_inputs

    torch.manual_seed(0)
    model = MistModel.from_pretrained(args.model).eval()
    config = model.config
    if config.head_statistics != ["gaussian_copula", "knn", "quadratic_copula"]:
        needed = "gaussian_copula knn quadratic_copula"
        raise SystemExit(f"the model needs head_statistics {needed}, has {config.head_statistics}")
    h, mi = head_inputs(model, "train_v2", range(args.start, args.start + args.examples))
    probes = []
    for n, d in INDEPENDENT:
        samples = (np.random.default_rng(s).standard_normal((2, n, d)) for s in range(12))
        probes.append((n, d, sample_head_inputs(model, samples)))

    dh = config.hidden_size  # the head's input: pooled (dh), log n, dims (2), copula, knn, quadratic

    def null_scaled(h: torch.Tensor) -> torch.Tensor:
        n = torch.exp(h[:, dh] * np.log(config.trained_max_n)).round()
        dx, dy = (h[:, dh + 1] * config.max_dim).round(), (h[:, dh + 2] * config.max_dim).round()
        plain, quadratic = torch.expm1(h[:, dh + 3].double()), torch.expm1(h[:, dh + 5].double())
        scaled = [null_scaled_mi(plain, n, dx, dy), null_scaled_mi(quadratic, n, 2 * dx, 2 * dy)]
        return torch.cat([h, torch.stack(scaled, -1).float()], -1)

    cut = int(len(h) * 0.85)
    target = zero_mass_target(mi, config.zero_margin)
    levels = torch.tensor(config.quantile_levels)
    print("| head | pinball | MAE | 90% coverage | " + " | ".join(f"{d}+{d}, n = {n}" for n, d, _ in probes) + " |")
    print("|---|---|---|---|" + "---|" * len(probes))
    for name, extend in (("as saved", None), ("refit", lambda v: v), ("refit + null-scaled", null_scaled)):
        head = model.head
        if extend is not None:
            width = extend(h[:1]).shape[1]
            head = MonotoneQuantileHead(width, config.num_basis)
            with torch.no_grad():  # the saved head in the leading block, new inputs and units without effect
                for new, old in zip(head.parameters(), model.head.parameters(), strict=True):
                    new.zero_()
                    new[tuple(slice(0, s) for s in old.shape)] = old
            optimiser = torch.optim.Adam(head.parameters(), lr=args.lr)
            train = extend(h[:cut])
            for _ in range(args.steps):
                idx = torch.randint(0, cut, (args.batch,))
                taus = random_levels(args.batch, config.num_train_quantiles)
                loss = pinball_loss(head(train[idx], taus), target[idx], taus)
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
        extend = extend or (lambda v: v)
        with torch.no_grad():
            log_q = head(extend(h[cut:]), levels)
            q = log_space_to_mi(log_q, zero_point_mass=True)
            truth = mi[cut:]
            i_med = len(levels) // 2
            cells = [
                f"{pinball_loss(log_q, target[cut:], levels).item():.4f}",
                f"{(q[:, i_med] - truth).abs().mean().item():.3f}",
                f"{((q[:, 0] <= truth) & (truth <= q[:, -1])).float().mean().item():.2f}",
            ]
            for _, _, rows in probes:
                qi = log_space_to_mi(head(extend(rows), levels), zero_point_mass=True)
                cells.append(f"{qi[:, i_med].median().item():.2f} ({qi[:, -1].median().item():.2f})")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
