"""MIST as a differentiable loss: learn the projection of X that keeps the most information about Y.

X is 8-dimensional Gaussian noise; Y depends on X only through one hidden direction v. A unit vector w is
trained by gradient ascent on MIST's MI estimate I(X w; Y). If the estimate is informative, w turns towards v
(|cos(w, v)| -> 1) and the estimated MI rises towards the MI of the best projection.

    python scripts/mi_loss_demo.py --model mist-mi --steps 200
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from mist_hf import load_model, mutual_information


def run(model, steps: int = 200, n: int = 300, dim: int = 8, lr: float = 0.05, seed: int = 0) -> dict:
    """Train the projection; returns the start and end MI estimates and |cos(w, v)|."""
    rng = np.random.default_rng(seed)
    v = torch.tensor(rng.normal(size=dim), dtype=torch.float32)
    v /= v.norm()
    x = torch.tensor(rng.normal(size=(n, dim)), dtype=torch.float32)
    y = (x @ v + 0.5 * torch.tensor(rng.normal(size=n), dtype=torch.float32)).unsqueeze(1)
    best_mi = -0.5 * np.log(1 - 1 / 1.25)  # corr(x.v, y)^2 = 1 / (1 + 0.25)
    w = torch.nn.Parameter(torch.tensor(rng.normal(size=dim), dtype=torch.float32))
    optimizer = torch.optim.Adam([w], lr=lr)
    history = []
    for _ in range(steps):
        unit = w / w.norm()
        mi = mutual_information((x @ unit).unsqueeze(1), y, model)
        (-mi).backward()
        optimizer.step()
        optimizer.zero_grad()
        history.append(mi.item())
    cosine = abs(float((w.detach() / w.detach().norm()) @ v))
    return {"mi_start": history[0], "mi_end": history[-1], "best_projection_mi": best_mi, "abs_cosine": cosine}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="model folder (default: $MIST_MODEL or mist-mi)")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    result = run(load_model(args.model), steps=args.steps, seed=args.seed)
    print(
        f"estimated I(Xw; Y): {result['mi_start']:.3f} -> {result['mi_end']:.3f} nats "
        f"(best projection: {result['best_projection_mi']:.3f}); |cos(w, v)| = {result['abs_cosine']:.3f}"
    )


if __name__ == "__main__":
    main()
