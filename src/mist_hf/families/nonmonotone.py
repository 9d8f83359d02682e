"""Non-monotone dependence: Y_j = +-g(a X_j) + sigma eps_j with g even, periodic, piecewise or bumped, in independent
pairs (MI adds) or through the radius of a block of X columns, with Gaussian and non-Gaussian noise.

Every parameter is drawn from the finite grid :data:`~mist_hf.samplers.functional.TABLE_GRIDS` (``"nonmono"`` and
``"nonmono-heldout"``), whose MI is precomputed by quadrature (:mod:`mist_hf.samplers.functional`), so a draw costs
a table lookup.

- ``nonmono-pairs``: k ~ U{1..min(dim_x, dim_y)} pairs Y_j = s_j g_j(a_j X_j) + sigma_j eps_j;
- ``nonmono-radial``: k ~ U{1..min(dim_y, dim_x // 2, 4)} disjoint blocks of m_j >= 2 X columns (m_j from
  {2, 3, 4, 6, 8, 12, 16, 24, 32}), Y_j = s_j g_j(a_j (|X_block| - E|X_block|)) + sigma_j eps_j (one signed pair
  when dim_x = 1);
- ``nonmono-zigzag`` (held out): pairs with the triangle wave (2 / pi) arcsin(sin(a x)), a shape no training
  family uses, and noise that may be Student-t (4 df), a law no training family uses.

Other X and Y columns are independent N(0, 1).
"""

from __future__ import annotations

import numpy as np

from ..samplers import FunctionalSampler, Sampler
from ..samplers.functional import RADIAL_MS, TABLE_GRIDS, Channel, Grid
from .registry import Family, register_family

TRAIN_GRID = TABLE_GRIDS["nonmono"]
HELDOUT_GRID = TABLE_GRIDS["nonmono-heldout"]


def draw_channel(grid: Grid, rng: np.random.Generator, m: int = 1) -> Channel:
    """A channel with shape, a, sigma, noise and sign drawn uniformly from ``grid`` (in that order)."""
    shape = grid.shapes[int(rng.integers(len(grid.shapes)))]
    a_values = grid.a[shape]
    a = a_values[int(rng.integers(len(a_values)))]
    sigma = grid.sigma[int(rng.integers(len(grid.sigma)))]
    noise = grid.noises[int(rng.integers(len(grid.noises)))]
    sign = 1 if rng.random() < 0.5 else -1
    return Channel(shape, a, sigma, noise, m, grid.law, sign)


def _pairs(grid: Grid):
    def draw(dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
        k = int(rng.integers(1, min(dim_x, dim_y) + 1))
        return FunctionalSampler(dim_x, dim_y, [draw_channel(grid, rng) for _ in range(k)])

    return draw


def _draw_radial(dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
    if dim_x == 1:
        return FunctionalSampler(dim_x, dim_y, [draw_channel(TRAIN_GRID, rng)])
    k = int(rng.integers(1, min(dim_y, dim_x // 2, 4) + 1))
    channels, used = [], 0
    for j in range(k):
        room = dim_x - used - 2 * (k - j - 1)  # leave at least 2 columns for each later block
        allowed = [m for m in RADIAL_MS if m <= room]
        m = allowed[int(rng.integers(len(allowed)))]
        channels.append(draw_channel(TRAIN_GRID, rng, m))
        used += m
    return FunctionalSampler(dim_x, dim_y, channels)


def _grid_text(grid: Grid) -> str:
    sigmas = ", ".join(f"{s:g}" for s in grid.sigma)
    return f"sigma ~ U{{{sigmas}}}, noise ~ U{{{', '.join(grid.noises)}}}, sign +-1"


_SHAPES_TEXT = "g ~ U{x^2, |x|, cos, sin, x exp((1 - x^2) / 2), x^4 - 2 x^2} with a ~ a grid per shape (0.5 to 6)"

register_family(
    Family(
        "nonmono-pairs",
        _pairs(TRAIN_GRID),
        min_dim=1,
        description=f"k ~ U{{1..min(dim_x, dim_y)}} pairs Y_j = +-g(a X_j) + sigma eps, X_j ~ N(0, 1), {_SHAPES_TEXT}, "
        f"{_grid_text(TRAIN_GRID)}; other columns N(0, 1)",
        category="nonmonotone",
    )
)
register_family(
    Family(
        "nonmono-radial",
        _draw_radial,
        min_dim=1,
        description="k ~ U{1..min(dim_y, dim_x // 2, 4)} blocks of m ~ U{2..32 on a grid} N(0, 1) X columns, "
        f"Y_j = +-g(a (|X_block| - E|X_block|)) + sigma eps, {_SHAPES_TEXT}, {_grid_text(TRAIN_GRID)}; "
        "other columns N(0, 1)",
        category="nonmonotone",
    )
)
register_family(
    Family(
        "nonmono-zigzag",
        _pairs(HELDOUT_GRID),
        min_dim=1,
        description="k ~ U{1..min(dim_x, dim_y)} pairs Y_j = +-zigzag(a X_j) + sigma eps, "
        f"zigzag = (2 / pi) arcsin(sin), a ~ U{{1, 1.5, 2, 3, 4, 6}}, {_grid_text(HELDOUT_GRID)} "
        "(student: t, 4 df); other columns N(0, 1)",
        category="nonmonotone",
        held_out=True,
    )
)
