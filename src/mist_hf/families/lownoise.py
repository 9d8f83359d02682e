"""The ``lownoise`` category: one 1-D non-monotone relation at low noise, Y_0 = +-g(a X_0) + sigma eps.

v2 reads y = x^2 + small noise (2.6 nats) as about 0.26: its non-monotone families spread over up to 32 pairs and
its low-noise curves over up to 4, so a single even or periodic relation, the commonest case in real tables, is rare.
Here there is exactly one channel (X column 0 to Y column 0); the other columns are independent N(0, 1).

- ``lownoise-even``: g ~ U{x^2, |x|, cos, x^4 - 2 x^2} (even);
- ``lownoise-periodic``: g ~ U{sin, cos} (periodic);
- ``lownoise-zigzag`` (held out): the triangle wave (2 / pi) arcsin(sin(a x)), noise possibly Student-t (4 df).

The shape is drawn first, then (a, sigma, noise) uniformly among the shape's parameters in the functional label
tables (:data:`~mist_hf.samplers.functional.TABLE_GRIDS`, ``nonmono`` and ``highmi`` grids, one column read) with
sigma <= :data:`MAX_SIGMA`, then the sign. Every label is a table lookup; the MI is 0.8 to 7.9 nats.
"""

from __future__ import annotations

import numpy as np

from ..samplers import FunctionalSampler, Sampler
from ..samplers.functional import TABLE_GRIDS, Channel
from .registry import DrawFn, Family, register_family

CATEGORY = "lownoise"
MAX_SIGMA = 0.12
"""The largest noise standard deviation drawn (X is N(0, 1))."""


def low_noise_grid(grids: tuple[str, ...], shapes: tuple[str, ...]) -> dict[str, list[tuple[float, float, str]]]:
    """For each shape, the (a, sigma, noise) of the named table grids with sigma <= MAX_SIGMA, sorted, no repeats."""
    out: dict[str, set[tuple[float, float, str]]] = {shape: set() for shape in shapes}
    for name in grids:
        grid = TABLE_GRIDS[name]
        for shape in shapes:
            for a in grid.a.get(shape, ()):
                out[shape] |= {(a, s, noise) for s in grid.sigma if s <= MAX_SIGMA for noise in grid.noises}
    return {shape: sorted(values) for shape, values in out.items()}


TRAIN_GRIDS = ("nonmono", "highmi")
EVEN = low_noise_grid(TRAIN_GRIDS, ("square", "abs", "cos", "doublewell"))
PERIODIC = low_noise_grid(TRAIN_GRIDS, ("sin", "cos"))
ZIGZAG = low_noise_grid(("nonmono-heldout", "highmi-heldout"), ("zigzag",))


def _one_channel(grid: dict[str, list[tuple[float, float, str]]]) -> DrawFn:
    shapes = tuple(grid)

    def draw(dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
        shape = shapes[int(rng.integers(len(shapes)))]
        a, sigma, noise = grid[shape][int(rng.integers(len(grid[shape])))]
        sign = 1 if rng.random() < 0.5 else -1
        return FunctionalSampler(dim_x, dim_y, [Channel(shape, a, sigma, noise, 1, "normal", sign)])

    return draw


_TEXT = "one pair Y_0 = +-g(a X_0) + sigma eps, X_0 ~ N(0, 1), sigma from 2.5e-4 to 0.12"
register_family(
    Family(
        "lownoise-even",
        _one_channel(EVEN),
        min_dim=1,
        description=f"{_TEXT}, g ~ U{{x^2, |x|, cos, x^4 - 2 x^2}} (even), a, sigma and noise (Gaussian, Laplace, "
        "uniform) from the functional label tables; other columns N(0, 1)",
        category=CATEGORY,
    )
)
register_family(
    Family(
        "lownoise-periodic",
        _one_channel(PERIODIC),
        min_dim=1,
        description=f"{_TEXT}, g ~ U{{sin, cos}} with a from 1 to 6, sigma and noise (Gaussian, Laplace, uniform) from "
        "the functional label tables; other columns N(0, 1)",
        category=CATEGORY,
    )
)
register_family(
    Family(
        "lownoise-zigzag",
        _one_channel(ZIGZAG),
        min_dim=1,
        description=f"{_TEXT}, g the triangle wave (2 / pi) arcsin(sin), a from 1 to 6, noise Gaussian, Laplace, "
        "uniform or Student-t (4 df); other columns N(0, 1)",
        category=CATEGORY,
        held_out=True,
    )
)
