"""The ``independence`` category of v2: X and Y independent (MI exactly 0) with diverse marginals.

Each family builds an :class:`~mist_hf.samplers.IndependentPairSampler`: X is one half of a draw of a source
sampler drawn for X's dims, Y one half of a separate draw of another source drawn for Y's dims, each side with an
optional element-wise map. The sources carry dependence inside their side (a factor shared by the side's columns,
loading beta ~ U(0, 2), or the shared scale of a Student-t), so X and Y each have correlated columns.

- ``indep-iid``: sides whose columns are independent of each other too (Gaussian, or Student-t through a shared
  scale only), optionally through exp, a square, rounding or a threshold on some columns. Without it, the only
  training data whose columns are all uncorrelated is non-monotone dependence, and a model learns to read "no
  correlation anywhere" as "a few nats";
- ``indep-gaussian``: correlated Gaussian sides;
- ``indep-heavy``: Student-t sides (df log-uniform in [1, 10], one df per side);
- ``indep-skewed``: Gaussian sides through exp (log-normal) or a square (chi-square-like);
- ``indep-discrete``: each side categorical codes, Poisson counts, rounded Gaussians (ties) or thresholded
  Gaussians (binary flags with P down to 0.01);
- ``indep-mixed``: each side Gaussian or Student-t with a random subset of columns rounded or thresholded;
- held out: ``indep-spiky`` (a point mass at 0 plus a continuous part) and ``indep-bimodal`` (a gap at 0).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..samplers import (
    CategoricalSampler,
    CountsSampler,
    GaussianSampler,
    IndependentPairSampler,
    LatentStructure,
    Sampler,
    StudentSampler,
)
from .discrete import COUNT_INTERCEPTS, COUNT_SLOPES
from .registry import Family, register_family

Side = tuple[Sampler, str, dict[str, Any] | None]
"""A source sampler, the half of its draw kept (``"x"`` or ``"y"``), and the map of that side (or None)."""


def _structure(dim: int, half: str, rng: np.random.Generator) -> LatentStructure:
    dims = (dim, 1) if half == "x" else (1, dim)
    return LatentStructure("lvm", *dims, beta=rng.uniform(0.0, 2.0))  # a factor shared inside each side


def _continuous(dim: int, half: str, rng: np.random.Generator, heavy: bool) -> Sampler:
    structure = _structure(dim, half, rng)
    if heavy:
        return StudentSampler(structure, df=float(np.exp(rng.uniform(0.0, np.log(10.0)))))
    return GaussianSampler(structure)


def _iid_side(dim: int, half: str, rng: np.random.Generator) -> Side:
    dims = (dim, 1) if half == "x" else (1, dim)
    structure = LatentStructure("lvm", *dims, beta=0.0)  # no shared factor: the side's columns are independent
    heavy = bool(rng.random() < 0.3)
    if heavy:
        source: Sampler = StudentSampler(structure, df=float(np.exp(rng.uniform(0.0, np.log(10.0)))))
    else:
        source = GaussianSampler(structure)
    kind = int(rng.integers(6))
    columns = _subset(dim, rng) if rng.random() < 0.5 else None
    if kind == 0 and not heavy:
        return source, half, _map("exp", rng.uniform(0.3, 1.5), columns)
    if kind in (0, 1):  # exp of a Student-t with df near 1 overflows to inf: heavy sides get the square instead
        return source, half, _map("square", 1.0, columns)
    if kind == 2:
        return source, half, _map("round", np.exp(rng.uniform(np.log(0.2), np.log(2.0))), columns)
    if kind == 3:
        return source, half, _map("threshold", rng.uniform(0.0, 2.33), columns)
    return source, half, None  # plain, a third of the time


def _map(name: str, param: float, columns: list[int] | None = None) -> dict[str, Any]:
    return {"name": name, "param": float(param), "columns": columns}


def _gaussian_side(dim: int, half: str, rng: np.random.Generator) -> Side:
    return _continuous(dim, half, rng, heavy=False), half, None


def _heavy_side(dim: int, half: str, rng: np.random.Generator) -> Side:
    return _continuous(dim, half, rng, heavy=True), half, None


def _skewed_side(dim: int, half: str, rng: np.random.Generator) -> Side:
    source = _continuous(dim, half, rng, heavy=False)
    spec = _map("exp", rng.uniform(0.3, 1.5)) if rng.random() < 0.5 else _map("square", 1.0)
    return source, half, spec


def _discrete_side(dim: int, half: str, rng: np.random.Generator) -> Side:
    kind = int(rng.integers(4))
    if kind == 0:  # independent categorical codes
        pmfs = [
            (lambda p: (p / p.sum()).tolist())(rng.dirichlet(np.ones(int(rng.integers(2, 11))))) for _ in range(dim)
        ]
        other = [[0.5, 0.5]]
        fx, fy = (pmfs, other) if half == "x" else (other, pmfs)
        return CategoricalSampler(len(fx), len(fy), [], [], [], fx, fy), half, None
    if kind == 1:  # Poisson counts (the Y half of a counts sampler)
        a = rng.choice(COUNT_INTERCEPTS, size=dim).tolist()
        b = rng.choice(COUNT_SLOPES, size=dim).tolist()
        return CountsSampler(dim, dim, a, b), "y", None
    source = _continuous(dim, half, rng, heavy=False)
    if kind == 2:  # rounded, ties
        return source, half, _map("round", np.exp(rng.uniform(np.log(0.2), np.log(2.0))))
    return source, half, _map("threshold", rng.uniform(0.0, 2.33))  # flags, P(1) from 0.5 down to 0.01


def _mixed_side(dim: int, half: str, rng: np.random.Generator) -> Side:
    source = _continuous(dim, half, rng, heavy=bool(rng.random() < 0.5))
    columns = _subset(dim, rng)
    if rng.random() < 0.5:
        return source, half, _map("round", np.exp(rng.uniform(np.log(0.2), np.log(2.0))), columns)
    return source, half, _map("threshold", rng.uniform(0.0, 2.33), columns)


def _subset(dim: int, rng: np.random.Generator) -> list[int]:
    """A random non-empty subset of the columns, a proper one when there are several."""
    size = int(rng.integers(1, dim)) if dim > 1 else 1
    return sorted(rng.choice(dim, size=size, replace=False).tolist())


def _spiky_side(dim: int, half: str, rng: np.random.Generator) -> Side:
    source = _continuous(dim, half, rng, heavy=bool(rng.random() < 0.5))
    return source, half, _map("spike", rng.uniform(0.3, 1.5), _subset(dim, rng) if rng.random() < 0.5 else None)


def _bimodal_side(dim: int, half: str, rng: np.random.Generator) -> Side:
    return _continuous(dim, half, rng, heavy=False), half, _map("bimodal", rng.uniform(1.0, 4.0))


def _pair(side):
    def draw(dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
        x_source, x_half, x_map = side(dim_x, "x", rng)
        y_source, y_half, y_map = side(dim_y, "y", rng)
        return IndependentPairSampler(x_source, y_source, x_map, y_map, x_half, y_half)

    return draw


_SIDE = "X and Y independent (MI 0), each side"
_INSIDE = "a factor shared inside the side with loading beta ~ U(0, 2)"
INDEPENDENCE_FAMILIES = (
    Family(
        "indep-iid",
        _pair(_iid_side),
        min_dim=1,
        description="X and Y independent (MI 0), and the columns inside each side independent too: Gaussian, or "
        "Student-t (df log-uniform in [1, 10], a shared scale the only link inside a side) 30% of the time; on "
        "all columns or a random subset, one of exp(c z) (Gaussian sides only), z^2, rounding or a threshold, or "
        "nothing (a third)",
        category="independence",
    ),
    Family(
        "indep-gaussian",
        _pair(_gaussian_side),
        min_dim=1,
        description=f"{_SIDE} Gaussian with {_INSIDE}",
        category="independence",
    ),
    Family(
        "indep-heavy",
        _pair(_heavy_side),
        min_dim=1,
        description=f"{_SIDE} multivariate Student-t (df log-uniform in [1, 10]) with {_INSIDE}",
        category="independence",
    ),
    Family(
        "indep-skewed",
        _pair(_skewed_side),
        min_dim=1,
        description=f"{_SIDE} Gaussian with {_INSIDE}, then exp(c z) (c ~ U(0.3, 1.5)) or z^2 on every column "
        "(a fair coin per side)",
        category="independence",
    ),
    Family(
        "indep-discrete",
        _pair(_discrete_side),
        min_dim=1,
        description=f"{_SIDE} one of (equal odds): independent categoricals (2..10 codes, Dirichlet(1) pmfs); "
        "Poisson counts of log-linear means; Gaussian with a shared factor rounded to a width log-uniform in "
        "[0.2, 2]; or the same thresholded at t ~ U(0, 2.33) (flags with P(1) from 0.5 to 0.01)",
        category="independence",
    ),
    Family(
        "indep-mixed",
        _pair(_mixed_side),
        min_dim=1,
        description=f"{_SIDE} Gaussian or Student-t (df log-uniform in [1, 10]) with {_INSIDE}, a random "
        "subset of columns rounded (width log-uniform in [0.2, 2]) or thresholded at t ~ U(0, 2.33)",
        category="independence",
    ),
    Family(
        "indep-spiky",
        _pair(_spiky_side),
        min_dim=1,
        description=f"{_SIDE} Gaussian or Student-t with {_INSIDE}, values with |z| < c ~ U(0.3, 1.5) set to 0 "
        "(a point mass plus a continuous part) on all columns or a random subset",
        category="independence",
        held_out=True,
    ),
    Family(
        "indep-bimodal",
        _pair(_bimodal_side),
        min_dim=1,
        description=f"{_SIDE} Gaussian with {_INSIDE}, then z + c sign(z), c ~ U(1, 4) (bimodal marginals)",
        category="independence",
        held_out=True,
    ),
)
for _family in INDEPENDENCE_FAMILIES:
    register_family(_family)
