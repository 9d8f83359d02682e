"""The ``copies`` category: a categorical column and its copy, or a near-copy, in blocks.

v2 reads Y = X with K categories as 4.8 to 6.1 nats whatever K (the truth is log K <= 4.2). Every family draws
k ~ U{1..min(dim_x, dim_y, 4)} independent blocks (X column b with Y column b, the MI adds), each with
K categories, K log-uniform on the integers of [2, 64] (3 to 64 for the ordinal family), and a marginal of X that is
uniform (half the blocks) or Dirichlet(1); the other columns are categorical fillers (2..10 levels, Dirichlet(1)),
independent of everything. The codes of a block are one random permutation shared by X and Y, so a copy is equal
as a number too.

- ``copies-exact``: Y = X; I = H(X) (log K for a uniform marginal);
- ``copies-noisy``: Y = X with probability 1 - eps, else one of the other K - 1 categories uniformly, eps
  log-uniform in [0.001, 0.5]; I = H(Y) - h(eps) - eps log(K - 1), h the binary entropy;
- ``copies-ordinal`` (held out): codes in their natural order, Y = X + D clipped to [0, K - 1], D = 0 with
  probability 1 - eps and -1 or +1 otherwise (eps ~ U(0.05, 0.6)): confusion between neighbouring levels only.

The samplers are :class:`~mist_hf.samplers.CategoricalSampler` with the joint pmf table of each block; the MI is the
exact discrete sum.
"""

from __future__ import annotations

import math

import numpy as np

from ..samplers import CategoricalSampler, Sampler
from .registry import Family, register_family

CATEGORY = "copies"
MAX_BLOCKS = 4
MAX_LEVELS = 64


def draw_levels(rng: np.random.Generator, low: int = 2, high: int = MAX_LEVELS) -> int:
    """K log-uniform on the integers of [low, high]: floor(exp(U(log low, log(high + 1))))."""
    return min(high, max(low, int(math.exp(rng.uniform(math.log(low), math.log(high + 1))))))


def draw_marginal(rng: np.random.Generator, levels: int) -> np.ndarray:
    """Uniform with probability 1/2, else Dirichlet(1)."""
    if rng.random() < 0.5:
        return np.full(levels, 1.0 / levels)
    p = rng.dirichlet(np.ones(levels))
    return p / p.sum()


def copy_table(p: np.ndarray, eps: float = 0.0) -> np.ndarray:
    """The joint pmf of (X, Y): Y = X with probability 1 - eps, else uniform on the other categories."""
    k = p.shape[0]
    off = eps / (k - 1) if k > 1 else 0.0
    channel = np.full((k, k), off)
    np.fill_diagonal(channel, 1.0 - eps)
    return p[:, None] * channel


def ordinal_table(p: np.ndarray, eps: float) -> np.ndarray:
    """The joint pmf of (X, clip(X + D, 0, K - 1)), D = 0 with probability 1 - eps, -1 or +1 with eps / 2 each."""
    k = p.shape[0]
    channel = np.zeros((k, k))
    for i in range(k):
        channel[i, i] += 1.0 - eps
        channel[i, max(i - 1, 0)] += 0.5 * eps
        channel[i, min(i + 1, k - 1)] += 0.5 * eps
    return p[:, None] * channel


def _fillers(rng: np.random.Generator, count: int) -> list[list[float]]:
    out = []
    for _ in range(count):
        p = rng.dirichlet(np.ones(int(rng.integers(2, 11))))
        out.append((p / p.sum()).tolist())
    return out


def _blocks(kind: str):
    def draw(dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
        k = int(rng.integers(1, min(dim_x, dim_y, MAX_BLOCKS) + 1))
        tables, codes = [], []
        for _ in range(k):
            levels = draw_levels(rng, 3 if kind == "ordinal" else 2)
            p = draw_marginal(rng, levels)
            if kind == "exact":
                table = copy_table(p)
            elif kind == "noisy":
                table = copy_table(p, math.exp(rng.uniform(math.log(1e-3), math.log(0.5))))
            else:
                table = ordinal_table(p, rng.uniform(0.05, 0.6))
            tables.append(table / table.sum())
            codes.append(np.arange(levels) if kind == "ordinal" else rng.permutation(levels))
        codes_list = [c.tolist() for c in codes]
        return CategoricalSampler(
            dim_x, dim_y, [t.tolist() for t in tables], codes_list, codes_list,
            _fillers(rng, dim_x - k), _fillers(rng, dim_y - k),
        )  # fmt: skip

    return draw


_K = (
    "k ~ U{1..min(dim_x, dim_y, 4)} blocks of K categories (K log-uniform on the integers of [2, 64]), marginal "
    "uniform or Dirichlet(1) (a fair coin), codes one random permutation shared by X and Y"
)
register_family(
    Family("copies-exact", _blocks("exact"), min_dim=1, description=f"{_K}: Y = X; filler columns categorical",
           category=CATEGORY)
)  # fmt: skip
register_family(
    Family(
        "copies-noisy",
        _blocks("noisy"),
        min_dim=1,
        description=f"{_K}: Y = X with probability 1 - eps, else one of the other K - 1 categories uniformly, eps "
        "log-uniform in [0.001, 0.5]; filler columns categorical",
        category=CATEGORY,
    )
)
register_family(
    Family(
        "copies-ordinal",
        _blocks("ordinal"),
        min_dim=1,
        description="k ~ U{1..min(dim_x, dim_y, 4)} blocks of K ordered levels (K log-uniform on the integers of "
        "[3, 64]), marginal uniform or Dirichlet(1), codes in order: Y = X + D clipped to [0, K - 1], D = 0 with "
        "probability 1 - eps, else -1 or +1, eps ~ U(0.05, 0.6); filler columns categorical",
        category=CATEGORY,
        held_out=True,
    )
)
