"""The ``manifold`` category: a lower-dimensional (X, Y) embedded smoothly and injectively into more columns.

A family draws intrinsic dims ``k_x <= dim_x`` and ``k_y <= dim_y``, a base sampler of dims ``(k_x, k_y)`` from
:data:`~mist_hf.families.paper.PAPER_TRAIN_FAMILIES`, then an embedding of each side
(:class:`~mist_hf.samplers.EmbeddedSampler`): the MI is the base's.

- ``manifold-linear``: a random linear embedding (a flat subspace);
- ``manifold-graph``: z -> Q [z ; a g(B z + c)], g from tanh, sin, log cosh;
- ``manifold-coil`` (held out): coordinates rolled into double spirals, a construction no training family
  uses.

The draw order: k_x, k_y (and, when both equal the dims, the side made lower and its new k), the base family,
the base sampler's parameters, the embedding strength, the seed.
"""

from __future__ import annotations

import math

import numpy as np

from ..samplers import EmbeddedSampler, Sampler
from .paper import PAPER_TRAIN_FAMILIES
from .registry import DrawFn, Family, get_family, register_family, register_pattern

CATEGORY = "manifold"

_INTRINSIC = (
    "k_x ~ U{1..dim_x}, k_y ~ U{1..dim_y}, and if both equal the dims, one side with more than one column"
    " (drawn uniformly) takes k ~ U{1..dim - 1}; a base from the paper's 16 training families at (k_x, k_y)"
)


def draw_intrinsic_dims(dim_x: int, dim_y: int, rng: np.random.Generator) -> tuple[int, int]:
    """``(k_x, k_y)``: uniform in ``[1, dim]`` each, with at least one side strictly lower where dims allow."""
    k = [int(rng.integers(1, dim_x + 1)), int(rng.integers(1, dim_y + 1))]
    dims = (dim_x, dim_y)
    if tuple(k) == dims:
        sides = [i for i in (0, 1) if dims[i] > 1]
        if sides:
            side = sides[int(rng.integers(len(sides)))]
            k[side] = int(rng.integers(1, dims[side]))
    return k[0], k[1]


def _embedded(embedding: str, low: float, high: float) -> DrawFn:
    def draw(dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
        kx, ky = draw_intrinsic_dims(dim_x, dim_y, rng)
        allowed = [b for b in PAPER_TRAIN_FAMILIES if get_family(b).min_dim <= min(kx, ky)]
        base = get_family(allowed[int(rng.integers(len(allowed)))]).draw(kx, ky, rng)
        strength = rng.uniform(low, high)
        return EmbeddedSampler(base, dim_x, dim_y, embedding, strength, int(rng.integers(2**63)))

    return draw


register_family(
    Family(
        "manifold-linear",
        _embedded("linear", 0.0, math.log(3.0)),
        min_dim=1,
        description=f"{_INTRINSIC}; each side embedded as x = U[:, :k] diag(s) V^T z (U, V Haar, log s ~ U(-r, r),"
        " r ~ U(0, log 3))",
        category=CATEGORY,
    )
)
register_family(
    Family(
        "manifold-graph",
        _embedded("graph", 0.5, 2.0),
        min_dim=1,
        description=f"{_INTRINSIC}; each side embedded as x = Q [z ; a g(B z + c)] (Q Haar, g per column from tanh,"
        " sin, log cosh, B ~ N(0, f^2 / k), f ~ U(0.5, 2), c ~ U(-pi, pi), a ~ strength U(0.5, 1.5),"
        " strength ~ U(0.5, 2))",
        category=CATEGORY,
    )
)
register_family(
    Family(
        "manifold-coil",
        _embedded("coil", 0.5, 2.0),
        min_dim=1,
        description=f"{_INTRINSIC}; min(k, dim - k) coordinates of each side rolled into double spirals"
        " z (cos phi(z), sin phi(z)), phi(z) = w sqrt(l^2 + z^2) + p (l ~ U(0.5, 2), w ~ strength U(0.5, 1.5),"
        " p ~ U(-pi, pi), strength ~ U(0.5, 2)), spare columns more spirals, then a Haar rotation",
        category=CATEGORY,
        held_out=True,
    )
)
register_pattern("manifold-<linear|graph|coil>", [f"manifold-{e}" for e in ("linear", "graph", "coil")])
