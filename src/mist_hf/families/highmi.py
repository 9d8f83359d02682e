"""High MI in few dimensions: up to 4 near-deterministic pairs, each carrying up to about 8 nats.

- ``highmi-gauss``: k ~ U{1..min(dim_x, dim_y, 4)} Gaussian pairs Y_j = +-X_j + sigma_j eps_j with per-pair MI
  I_j ~ U(1, 8) (sigma_j = 1 / sqrt(exp(2 I_j) - 1), closed form), then an element-wise transform drawn from the
  paper's four (:class:`~mist_hf.samplers.TransformedSampler`);
- ``highmi-additive``: k pairs X_j ~ U(0, 1), Y_j = +-X_j + U(-eps_j, eps_j), eps_j log-uniform in [1.7e-4, 0.5]
  (the uniform-additive closed form, 0.5 to 8 nats a pair), then a transform;
- ``highmi-curve``: k pairs Y_j = +-g(a X_j) + sigma eps with g ~ U{x, tanh, x^2, |x|, cos, sin, wave}, sigma on the
  grid 2.5e-4 .. 0.032 and Gaussian, Laplace or uniform noise (MI by the precomputed quadrature table);
- ``highmi-zigzag`` (held out): as ``highmi-curve`` with the triangle wave, a shape no training family uses, and
  noise that may be Student-t (4 df).

float32 cap: the smallest noise drawn is sigma = 2.5e-4 (highmi-curve), 3.4e-4 (highmi-gauss at 8 nats) or
eps = 1.7e-4 (highmi-additive). Where |X| <= 4 (all but 6e-5 of the mass), the float32 spacing of the values plus
that of X times the slope stays 60 (x^2 at |x| near 4) to 1000 times below the noise, so no pair becomes an exact
function after the cast (``tests/families/test_highmi.py`` checks the residuals of the cast samples). That is why one
pair carries at most about 8 nats (8.3 at the extreme of highmi-curve: PAIR_MI, ADDITIVE_EPS and
``functional.HIGHMI_SIGMA`` set the cap); the MI of several pairs adds (2x2 reaches 16).
"""

from __future__ import annotations

import math

import numpy as np

from ..samplers import TRANSFORMS, FunctionalSampler, Sampler, TransformedSampler
from ..samplers.functional import TABLE_GRIDS, Channel
from .nonmonotone import draw_channel
from .registry import Family, register_family

MAX_PAIRS = 4
PAIR_MI = (1.0, 8.0)
"""Range of the per-pair MI of highmi-gauss (nats); 8 is the float32 cap (see the module docstring)."""
ADDITIVE_EPS = (1.7e-4, 0.5)
"""Range of the noise half-width of highmi-additive (log-uniform): 0.5 to 8.0 nats a pair."""


def _pairs(dim_x: int, dim_y: int, rng: np.random.Generator) -> int:
    return int(rng.integers(1, min(dim_x, dim_y, MAX_PAIRS) + 1))


def _transformed(base: Sampler, rng: np.random.Generator) -> Sampler:
    transform = TRANSFORMS[int(rng.integers(len(TRANSFORMS)))]
    return base if transform == "base" else TransformedSampler(base, transform)


def _sign(rng: np.random.Generator) -> int:
    return 1 if rng.random() < 0.5 else -1


def _draw_gauss(dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
    channels = []
    for _ in range(_pairs(dim_x, dim_y, rng)):
        mi = rng.uniform(*PAIR_MI)
        channels.append(Channel("linear", 1.0, 1.0 / math.sqrt(math.expm1(2.0 * mi)), "gaussian", sign=_sign(rng)))
    return _transformed(FunctionalSampler(dim_x, dim_y, channels), rng)


def _draw_additive(dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
    channels = []
    lo, hi = (math.log(e) for e in ADDITIVE_EPS)
    for _ in range(_pairs(dim_x, dim_y, rng)):
        eps = math.exp(rng.uniform(lo, hi))
        channels.append(Channel("linear", 1.0, eps / math.sqrt(3.0), "uniform", 1, "uniform", _sign(rng)))
    return _transformed(FunctionalSampler(dim_x, dim_y, channels), rng)


def _curve(grid_name: str):
    grid = TABLE_GRIDS[grid_name]

    def draw(dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
        k = _pairs(dim_x, dim_y, rng)
        return FunctionalSampler(dim_x, dim_y, [draw_channel(grid, rng) for _ in range(k)])

    return draw


_K = "k ~ U{1..min(dim_x, dim_y, 4)} pairs"
_SIGMA = "sigma ~ U{2.5e-4, 5e-4, 1e-3, ..., 0.032} (doubling)"
register_family(
    Family(
        "highmi-gauss",
        _draw_gauss,
        min_dim=1,
        description=f"{_K} Y_j = +-X_j + sigma_j eps, X_j, eps ~ N(0, 1), per-pair MI ~ U(1, 8) nats; then a transform "
        "~ U{base, halfcube, asinh, wiggly} on every column; other columns N(0, 1)",
        category="highmi",
    )
)
register_family(
    Family(
        "highmi-additive",
        _draw_additive,
        min_dim=1,
        description=f"{_K} X_j ~ U(0, 1), Y_j = +-X_j + U(-eps_j, eps_j), eps_j log-uniform in [1.7e-4, 0.5]; then a "
        "transform ~ U{base, halfcube, asinh, wiggly} on every column; other columns N(0, 1)",
        category="highmi",
    )
)
register_family(
    Family(
        "highmi-curve",
        _curve("highmi"),
        min_dim=1,
        description=f"{_K} Y_j = +-g(a X_j) + sigma eps, X_j ~ N(0, 1), g ~ U{{x, tanh, x^2, |x|, cos, sin, "
        f"x exp((1 - x^2) / 2)}}, a on a grid per shape (1 to 3), {_SIGMA}, noise ~ U{{gaussian, laplace, uniform}}; "
        "other columns N(0, 1)",
        category="highmi",
    )
)
register_family(
    Family(
        "highmi-zigzag",
        _curve("highmi-heldout"),
        min_dim=1,
        description=f"{_K} Y_j = +-zigzag(a X_j) + sigma eps, zigzag = (2 / pi) arcsin(sin), a ~ U{{1, 2, 3}}, "
        f"{_SIGMA}, noise ~ U{{gaussian, laplace, uniform, student t 4 df}}; other columns N(0, 1)",
        category="highmi",
        held_out=True,
    )
)
