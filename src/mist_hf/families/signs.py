"""The ``signs`` category: negative and mixed-sign correlations, and per-column sign flips for every family.

- ``"signs-<normal|student>-factor"``: a signed latent factor model (:class:`SignedFactorStructure`);
- ``"signs-<normal|student>-pairs"``: signed (X_i, Y_j) pairs at random columns over signed shared factors;
- ``"signs-<normal|student>-chain"`` (held out): an AR(1) chain through X's and Y's columns in a random
  interleaved order with signed steps (:class:`ChainStructure`), a structure no training family has;
- the wrapper ``signed``: each column of X and of Y flipped (times -1) with probability 1/2, for any family
  (``"signed-<family>"``); the bare family ``"signed"`` draws its base from the paper's 16 training families.

Drawn loadings and noise scales are rounded to 4 decimals, so the stored parameters stay short; the rounded
values are the sampler's exact parameters. The structure draws are shared with :mod:`.heavytail`.
"""

from __future__ import annotations

import math

import numpy as np

from ..samplers import (
    ChainStructure,
    CorrelatedGaussianSampler,
    CorrelatedStudentSampler,
    Sampler,
    SignedFactorStructure,
    SignFlipSampler,
)
from .paper import PAPER_TRAIN_FAMILIES
from .registry import DrawFn, Family, Wrapper, register_family, register_pattern, register_wrapper

CATEGORY = "signs"


def _short(values: np.ndarray) -> np.ndarray:
    return np.round(values, 4)


def _signs(rng: np.random.Generator, size: int) -> np.ndarray:
    return np.where(rng.random(size) < 0.5, -1.0, 1.0)


def draw_factor(dim_x: int, dim_y: int, rng: np.random.Generator) -> SignedFactorStructure:
    """r ~ U{1, 2, 3} shared factors with N(0, s_j^2) loadings on every coordinate, s_j log-uniform in [0.3, 3];
    with probability 1/2 each, a factor inside X and one inside Y with N(0, t^2) loadings, t ~ U(0, 1.5);
    private noise scales log-uniform in [0.1, 1]."""
    d = dim_x + dim_y
    r = int(rng.integers(1, 4))
    scales = np.exp(rng.uniform(math.log(0.3), math.log(3.0), size=r))
    columns = [rng.standard_normal((d, r)) * scales]
    for lo, hi in ((0, dim_x), (dim_x, d)):
        if rng.random() < 0.5:
            column = np.zeros((d, 1))
            column[lo:hi, 0] = rng.standard_normal(hi - lo) * rng.uniform(0.0, 1.5)
            columns.append(column)
    noise = np.exp(rng.uniform(math.log(0.1), math.log(1.0), size=d))
    return SignedFactorStructure(dim_x, dim_y, _short(np.hstack(columns)), _short(noise))


def draw_pairs(dim_x: int, dim_y: int, rng: np.random.Generator) -> SignedFactorStructure:
    """k ~ U{1..min(dim_x, dim_y)} pairs (X_i, Y_j) at random distinct columns, each with loadings of random signs
    and magnitudes ~ U(0.1, 5) on both ends; one factor shared by all with N(0, a^2) loadings, a ~ U(0, 1), one
    inside X and one inside Y with N(0, b^2) loadings, b ~ U(0, 1.5); noise scales ~ U(0.5, 1.5)."""
    d = dim_x + dim_y
    k = int(rng.integers(1, min(dim_x, dim_y) + 1))
    pair_x = rng.choice(dim_x, size=k, replace=False)
    pair_y = rng.choice(dim_y, size=k, replace=False)
    pair_a = rng.uniform(0.1, 5.0, size=k) * _signs(rng, k)
    pair_b = rng.uniform(0.1, 5.0, size=k) * _signs(rng, k)
    loadings = np.zeros((d, 3))
    loadings[:, 0] = rng.standard_normal(d) * rng.uniform(0.0, 1.0)
    loadings[:dim_x, 1] = rng.standard_normal(dim_x) * rng.uniform(0.0, 1.5)
    loadings[dim_x:, 2] = rng.standard_normal(dim_y) * rng.uniform(0.0, 1.5)
    noise = rng.uniform(0.5, 1.5, size=d)
    return SignedFactorStructure(
        dim_x, dim_y, _short(loadings), _short(noise), pair_x, pair_y, _short(pair_a), _short(pair_b)
    )


def draw_chain(dim_x: int, dim_y: int, rng: np.random.Generator) -> ChainStructure:
    """A uniformly random order of all X and Y columns; step coefficients of random signs, |phi| ~ U(0.3, 0.97)."""
    d = dim_x + dim_y
    order = rng.permutation(d)
    phi = rng.uniform(0.3, 0.97, size=d - 1) * _signs(rng, d - 1)
    return ChainStructure(dim_x, dim_y, order, _short(phi))


STRUCTURE_DRAWS = {"factor": draw_factor, "pairs": draw_pairs, "chain": draw_chain}
_STRUCTURE_TEXT = {
    "factor": "signed factor model: r ~ U{1,2,3} shared factors with N(0, s^2) loadings, s log-uniform in [0.3, 3], "
    "a factor inside X and one inside Y each with probability 1/2 (N(0, t^2) loadings, t ~ U(0, 1.5)), "
    "noise scales log-uniform in [0.1, 1]",
    "pairs": "k ~ U{1..min(dim_x, dim_y)} signed (X_i, Y_j) pairs at random columns, loadings +-U(0.1, 5) at both "
    "ends, over signed shared, X-only and Y-only factors (N(0, a^2) loadings, a ~ U(0, 1), U(0, 1.5), U(0, 1.5)), "
    "noise scales ~ U(0.5, 1.5)",
    "chain": "AR(1) chain through all columns in a uniformly random interleaved order, steps +-U(0.3, 0.97) "
    "with random signs",
}


def _structured(distribution: str, structure: str) -> DrawFn:
    draw_structure = STRUCTURE_DRAWS[structure]

    def draw(dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
        s = draw_structure(dim_x, dim_y, rng)  # the structure first, then df
        if distribution == "normal":
            return CorrelatedGaussianSampler(s)
        return CorrelatedStudentSampler(s, df=rng.uniform(1.0, 10.0))

    return draw


def _flip(base: Sampler, rng: np.random.Generator) -> SignFlipSampler:
    return SignFlipSampler(base, rng.random(base.dim_x) < 0.5, rng.random(base.dim_y) < 0.5)


SIGNED = register_wrapper(
    Wrapper(
        "signed",
        _flip,
        "each column of X and of Y multiplied by -1 with probability 1/2",
        category=CATEGORY,
    )
)

_DISTRIBUTION_TEXT = {"normal": "Gaussian", "student": "Student-t (df ~ U(1, 10))"}
for _distribution, _text in _DISTRIBUTION_TEXT.items():
    for _structure in STRUCTURE_DRAWS:
        register_family(
            Family(
                f"signs-{_distribution}-{_structure}",
                _structured(_distribution, _structure),
                min_dim=1,
                description=f"{_text}, {_STRUCTURE_TEXT[_structure]}",
                category=CATEGORY,
                held_out=_structure == "chain",  # the chain's signed Toeplitz-like structure is kept out of training
            )
        )
register_pattern(
    "signs-<normal|student>-<factor|pairs|chain>",
    [f"signs-{d}-{s}" for d in _DISTRIBUTION_TEXT for s in STRUCTURE_DRAWS],
)
register_family(SIGNED.over(PAPER_TRAIN_FAMILIES, "the paper's 16 training families"))
