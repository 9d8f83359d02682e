"""The ``discrete`` category of v2: categorical, class-conditional, count, flag and rounded columns.

Every family draws k ~ U{1..min(dim_x, dim_y)} independent blocks (X column b with Y column b; the MI adds over
the blocks); the other columns are fillers independent of everything.

- ``categorical-dirichlet``: categorical against categorical, a Dirichlet joint pmf, codes in random order;
- ``flags-categorical``: a rare binary flag against a categorical;
- ``flags-continuous``: a rare binary flag against a class-conditional Gaussian;
- ``classcond-gaussian``: a categorical class (with rare classes) against class-conditional Gaussians;
- ``counts-poisson``: X ~ N(0, 1) against a Poisson count with log-linear mean;
- ``rounded-gaussian``: a Gaussian pair, the Y side rounded to a grid of random width and offset (ties);
- held out: ``counts-negbin`` (negative binomial counts) and ``categorical-zipf`` (Zipf-like marginals through a
  symmetric noisy channel).

The counts and rounded families draw their parameters from fixed grids (defined with their samplers in
``mist_hf.samplers.mixed``), on which the numerical labels come from tables shipped with the package instead of
quadrature.
"""

from __future__ import annotations

import numpy as np

from ..samplers import CategoricalSampler, ClassConditionalSampler, CountsSampler, RoundedSampler, Sampler
from ..samplers.mixed import (
    COUNT_INTERCEPTS,
    COUNT_SLOPES,
    NEGBIN_INTERCEPTS,
    NEGBIN_SIZES,
    NEGBIN_SLOPES,
    ROUNDED_BASE_MI,
    ROUNDED_OFFSETS,
    ROUNDED_WIDTHS,
    rounded_rho,
)
from .registry import Family, register_family


def _blocks(dim_x: int, dim_y: int, rng: np.random.Generator) -> int:
    return int(rng.integers(1, min(dim_x, dim_y) + 1))


def _log_uniform(rng: np.random.Generator, lo: float, hi: float, size: int | None = None) -> np.ndarray | float:
    return np.exp(rng.uniform(np.log(lo), np.log(hi), size=size))


def _dirichlet(rng: np.random.Generator, alpha: float, size: int) -> np.ndarray:
    p = rng.dirichlet(np.full(size, alpha))
    return p / p.sum()


def _fillers(rng: np.random.Generator, count: int) -> list[list[float]]:
    return [_dirichlet(rng, 1.0, int(rng.integers(2, 11))).tolist() for _ in range(count)]


def _categorical(tables: list[np.ndarray], dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
    codes_x = [rng.permutation(t.shape[0]).tolist() for t in tables]
    codes_y = [rng.permutation(t.shape[1]).tolist() for t in tables]
    k = len(tables)
    fillers_x, fillers_y = _fillers(rng, dim_x - k), _fillers(rng, dim_y - k)
    return CategoricalSampler(dim_x, dim_y, [t.tolist() for t in tables], codes_x, codes_y, fillers_x, fillers_y)


def _draw_categorical_dirichlet(dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
    tables = []
    for _ in range(_blocks(dim_x, dim_y, rng)):
        rows, cols = (int(v) for v in rng.integers(2, 11, size=2))
        alpha = _log_uniform(rng, 0.05, 2.0)
        tables.append(_dirichlet(rng, alpha, rows * cols).reshape(rows, cols))
    return _categorical(tables, dim_x, dim_y, rng)


def _draw_flags_categorical(dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
    tables = []
    for _ in range(_blocks(dim_x, dim_y, rng)):
        p = _log_uniform(rng, 0.01, 0.5)
        cols = int(rng.integers(2, 11))
        alpha = _log_uniform(rng, 0.1, 2.0)
        table = np.stack([(1 - p) * _dirichlet(rng, alpha, cols), p * _dirichlet(rng, alpha, cols)])
        tables.append(table if rng.random() < 0.5 else table.T)  # the flag in X or in Y
    return _categorical(tables, dim_x, dim_y, rng)


def _classcond(probs: list[np.ndarray], dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
    means, scales = [], []
    for p in probs:
        spread = _log_uniform(rng, 0.3, 5.0)
        means.append((spread * rng.standard_normal(p.shape[0])).tolist())
        scales.append(_log_uniform(rng, 0.2, 2.0, size=p.shape[0]).tolist())
    class_in_x = (rng.random(len(probs)) < 0.5).tolist()
    return ClassConditionalSampler(dim_x, dim_y, [p.tolist() for p in probs], means, scales, class_in_x)


def _draw_flags_continuous(dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
    probs = []
    for _ in range(_blocks(dim_x, dim_y, rng)):
        p = _log_uniform(rng, 0.01, 0.5)
        probs.append(np.array([1 - p, p]) if rng.random() < 0.5 else np.array([p, 1 - p]))  # the rare code: 1 or 0
    return _classcond(probs, dim_x, dim_y, rng)


def _draw_classcond_gaussian(dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
    probs = []
    for _ in range(_blocks(dim_x, dim_y, rng)):
        classes = int(rng.integers(2, 11))
        p = _dirichlet(rng, 1.0, classes)
        if rng.random() < 0.5:  # one rare class
            rare, p_rare = int(rng.integers(classes)), _log_uniform(rng, 0.01, 0.05)
            p[rare] = 0.0
            p = p / p.sum() * (1 - p_rare)
            p[rare] = p_rare
        probs.append(p)
    return _classcond(probs, dim_x, dim_y, rng)


def _signed(rng: np.random.Generator, grid: np.ndarray, size: int) -> list[float]:
    return (rng.choice(grid, size=size) * rng.choice([-1.0, 1.0], size=size)).tolist()


def _draw_counts_poisson(dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
    k = _blocks(dim_x, dim_y, rng)
    a = rng.choice(COUNT_INTERCEPTS, size=k).tolist()
    return CountsSampler(dim_x, dim_y, a, _signed(rng, COUNT_SLOPES, k))


def _draw_counts_negbin(dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
    k = _blocks(dim_x, dim_y, rng)
    a = rng.choice(NEGBIN_INTERCEPTS, size=k).tolist()
    b = _signed(rng, NEGBIN_SLOPES, k)
    return CountsSampler(dim_x, dim_y, a, b, rng.choice(NEGBIN_SIZES, size=k).tolist())


def _draw_rounded_gaussian(dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
    k = _blocks(dim_x, dim_y, rng)
    base = rng.choice(ROUNDED_BASE_MI, size=k)
    rhos = (rounded_rho(base) * rng.choice([-1.0, 1.0], size=k)).tolist()
    widths = rng.choice(ROUNDED_WIDTHS, size=k).tolist()
    return RoundedSampler(dim_x, dim_y, rhos, widths, rng.choice(ROUNDED_OFFSETS, size=k).tolist())


def _draw_categorical_zipf(dim_x: int, dim_y: int, rng: np.random.Generator) -> Sampler:
    tables = []
    for _ in range(_blocks(dim_x, dim_y, rng)):
        size = int(rng.integers(3, 21))
        source = 1.0 / np.arange(1, size + 1) ** rng.uniform(0.8, 2.0)
        source /= source.sum()
        eps = rng.uniform(0.05, 0.9)  # Y = X with probability 1 - eps, else uniform
        tables.append((1 - eps) * np.diag(source) + eps * np.outer(source, np.full(size, 1.0 / size)))
    return _categorical(tables, dim_x, dim_y, rng)


_K = "k ~ U{1..min(dim_x, dim_y)} blocks"
DISCRETE_FAMILIES = (
    Family(
        "categorical-dirichlet",
        _draw_categorical_dirichlet,
        min_dim=1,
        description=f"{_K} of integer-coded categoricals (K, L ~ U{{2..10}}, codes in random order), joint pmf "
        "~ Dirichlet(alpha) over the K L cells, alpha log-uniform in [0.05, 2]; filler columns categorical "
        "(2..10 levels, Dirichlet(1) pmf)",
        category="discrete",
    ),
    Family(
        "flags-categorical",
        _draw_flags_categorical,
        min_dim=1,
        description=f"{_K}: a binary flag with P(flag) log-uniform in [0.01, 0.5], in X or Y, against a "
        "categorical (2..10 levels) with per-flag pmfs ~ Dirichlet(alpha), alpha log-uniform in [0.1, 2]; "
        "filler columns categorical",
        category="discrete",
    ),
    Family(
        "flags-continuous",
        _draw_flags_continuous,
        min_dim=1,
        description=f"{_K}: a binary flag with P(flag) log-uniform in [0.01, 0.5], in X or Y, against V | flag ~ "
        "N(mu, s^2), mu ~ N(0, spread^2), spread log-uniform in [0.3, 5], s log-uniform in [0.2, 2]; fillers N(0, 1)",
        category="discrete",
    ),
    Family(
        "classcond-gaussian",
        _draw_classcond_gaussian,
        min_dim=1,
        description=f"{_K}: a class (2..10 codes, pi ~ Dirichlet(1), half the blocks with one class of "
        "probability log-uniform in [0.01, 0.05]), in X or Y, against V | class ~ N(mu_c, s_c^2), mu_c ~ N(0, "
        "spread^2), spread log-uniform in [0.3, 5], s_c log-uniform in [0.2, 2]; fillers N(0, 1)",
        category="discrete",
    ),
    Family(
        "counts-poisson",
        _draw_counts_poisson,
        min_dim=1,
        description=f"{_K}: X ~ N(0, 1), Y | X ~ Poisson(exp(a + b X)), a on the grid -1:0.25:2, |b| on the grid "
        "0.1:0.05:0.7 with a random sign; fillers N(0, 1)",
        category="discrete",
    ),
    Family(
        "rounded-gaussian",
        _draw_rounded_gaussian,
        min_dim=1,
        description=f"{_K}: (X, Z) bivariate normal, -log(1 - rho^2) / 2 on the grid 0.1:0.1:2.5, random sign, "
        "Y = Z rounded to a grid of width 0.05 1.25^j (j ~ U{0..18}) with offset 0, 1/4 or 1/2 of a width; "
        "fillers N(0, 1)",
        category="discrete",
    ),
    Family(
        "counts-negbin",
        _draw_counts_negbin,
        min_dim=1,
        description=f"{_K}: X ~ N(0, 1), Y | X negative binomial of size r in {{1, 2, 5, 10}} and mean "
        "exp(a + b X), a on the grid -1:0.25:1.5, |b| on the grid 0.1:0.05:0.6 with a random sign; fillers N(0, 1)",
        category="discrete",
        held_out=True,
    ),
    Family(
        "categorical-zipf",
        _draw_categorical_zipf,
        min_dim=1,
        description=f"{_K}: X categorical on K ~ U{{3..20}} with Zipf pmf (exponent ~ U(0.8, 2)), Y = X with "
        "probability 1 - eps else uniform on K, eps ~ U(0.05, 0.9), codes in random order; filler columns "
        "categorical",
        category="discrete",
        held_out=True,
    ),
)
for _family in DISCRETE_FAMILIES:
    register_family(_family)
