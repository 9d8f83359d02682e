"""Class-conditional, counts and rounded samplers: labels against independent references, Monte Carlo checks,
round trips, float32, invalid arguments.

Reference checks: each numerical label against a reference computed by scipy's adaptive quadrature (a different
method), within 1e-4 nats. Monte Carlo checks: 4 standard errors of the mean of the log density ratio (40k
points) plus an absolute slack of 0.002 nats for the numerical labels (they are accurate to far better).
"""

import json
import math

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import gammaln

from mist_hf.samplers import (
    ClassConditionalSampler,
    CountsSampler,
    RoundedSampler,
    class_conditional_mi,
    counts_mi,
    mixture_entropy,
    rounded_gaussian_mi,
    sampler_from_params,
)

N = 40_000
SLACK = 0.002


def _assert_mc(sampler, rng):
    x, y = sampler.sample(N, rng)
    ratio = sampler.log_density_ratio(x, y)
    se = ratio.std(ddof=1) / np.sqrt(N)
    assert np.all(np.isfinite(ratio))
    assert abs(ratio.mean() - sampler.mutual_information()) <= 4 * se + SLACK, (ratio.mean(), se)


# ---- class-conditional -----------------------------------------------------------------------------------------


def _mixture_entropy_quad(p, mu, s):
    def f(v):
        dens = np.sum(p * stats.norm.pdf(v, mu, s))
        return -dens * math.log(dens) if dens > 0 else 0.0

    points = sorted(mu)
    lo, hi = min(mu - 10 * s), max(mu + 10 * s)
    return integrate.quad(f, lo, hi, points=points, limit=500, epsabs=1e-10)[0]


@pytest.mark.parametrize("seed", range(4))
def test_mixture_entropy_against_quad(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 8))
    p, mu, s = rng.dirichlet(np.ones(k)), rng.normal(0, 3, k), np.exp(rng.uniform(np.log(0.2), np.log(2), k))
    assert mixture_entropy(p, mu, s) == pytest.approx(_mixture_entropy_quad(p, mu, s), abs=1e-4)


def test_class_conditional_limits():
    p = np.array([0.2, 0.3, 0.5])
    far = class_conditional_mi(p, [0.0, 100.0, 200.0], [1.0, 1.0, 1.0])
    assert far == pytest.approx(-np.sum(p * np.log(p)), abs=1e-6)  # separated classes: MI = H(C)
    assert class_conditional_mi(p, [1.0, 1.0, 1.0], [0.5, 0.5, 0.5]) == pytest.approx(0.0, abs=1e-6)


def _classcond(dim_x, dim_y, k, rng):
    probs, means, scales = [], [], []
    for _ in range(k):
        c = int(rng.integers(2, 6))
        p = rng.dirichlet(np.ones(c))
        p[0] = 0.01  # a rare class
        probs.append((p / p.sum()).tolist())
        means.append(rng.normal(0, 2, c).tolist())
        scales.append(np.exp(rng.uniform(np.log(0.2), np.log(2), c)).tolist())
    return ClassConditionalSampler(dim_x, dim_y, probs, means, scales, (rng.random(k) < 0.5).tolist())


@pytest.mark.parametrize("dims, k, seed", [((1, 1), 1, 0), ((3, 2), 2, 1), ((4, 5), 3, 2)])
def test_class_conditional_monte_carlo(dims, k, seed):
    _assert_mc(_classcond(*dims, k, np.random.default_rng(seed)), np.random.default_rng(seed + 10))


# ---- counts ----------------------------------------------------------------------------------------------------


def _counts_mi_quad(a, b, r=None):
    """H(Y) - E_X H(Y | X) with P(y) and E_X by scipy's adaptive quadrature, per count."""

    def logpmf(c, mean):
        if r is None:
            return c * np.log(mean) - mean - gammaln(c + 1)
        return gammaln(c + r) - gammaln(r) - gammaln(c + 1) + r * np.log(r / (r + mean)) + c * np.log(mean / (r + mean))

    def pmf(c, mean):
        return np.exp(logpmf(c, mean))

    top_mean = math.exp(a + abs(b) * 6)
    top = int(
        stats.poisson.ppf(1 - 1e-13, top_mean) if r is None else stats.nbinom.ppf(1 - 1e-13, r, r / (r + top_mean))
    )
    hy = 0.0
    for c in range(top + 1):
        py = integrate.quad(lambda t, c=c: math.exp(-0.5 * t * t) * pmf(c, math.exp(a + b * t)), -9, 9, limit=200)[0]
        py /= math.sqrt(2 * math.pi)
        hy -= py * math.log(py) if py > 0 else 0.0

    def cond_entropy(t):
        mean = math.exp(a + b * t)
        ps = pmf(np.arange(top + 1), mean)
        ps = ps[ps > 0]
        return -np.sum(ps * np.log(ps))

    hyx = integrate.quad(lambda t: stats.norm.pdf(t) * cond_entropy(t), -9, 9, limit=200)[0]
    return hy - hyx


@pytest.mark.parametrize("a, b, r", [(0.5, 0.6, None), (1.5, -0.3, None), (0.0, 0.4, 3.0)])
def test_counts_mi_against_quad(a, b, r):
    assert counts_mi(a, b, r) == pytest.approx(_counts_mi_quad(a, b, r), abs=1e-4)


@pytest.mark.parametrize(
    "dims, a, b, r",
    [((1, 1), [1.0], [0.7], None), ((3, 2), [-1.0, 2.0], [0.5, -0.6], None), ((2, 2), [0.5, 1.5], [0.4, 0.6], [1, 5])],
)
def test_counts_monte_carlo(dims, a, b, r):
    sampler = CountsSampler(*dims, a, b, r)
    _x, y = sampler.sample(100, np.random.default_rng(0))
    assert np.all(y[:, : len(a)] == np.rint(y[:, : len(a)])) and np.all(y[:, : len(a)] >= 0)
    _assert_mc(sampler, np.random.default_rng(3))


def test_counts_zero_slope_is_independent():
    assert counts_mi(1.0, 0.0) == 0.0


# ---- rounded ---------------------------------------------------------------------------------------------------


def _rounded_mi_quad(rho, w, u):
    """Sum over cells of E_X[p log p], each expectation by scipy's adaptive quadrature."""
    s = math.sqrt(1 - rho * rho)
    ks = np.arange(math.floor(-8 / w - u), math.ceil(8 / w - u) + 1)
    total = 0.0
    for k in ks:
        lo, hi = (k + u - 0.5) * w, (k + u + 0.5) * w
        py = stats.norm.cdf(hi) - stats.norm.cdf(lo)
        if py <= 0:
            continue

        def f(t, lo=lo, hi=hi, py=py):
            p = stats.norm.cdf((hi - rho * t) / s) - stats.norm.cdf((lo - rho * t) / s)
            return stats.norm.pdf(t) * p * math.log(p / py) if p > 0 else 0.0

        total += integrate.quad(f, -9, 9, points=[lo / rho, hi / rho], limit=200)[0]
    return total


@pytest.mark.parametrize("rho, w, u", [(0.8, 1.0, 0.0), (-0.95, 0.5, 0.25), (0.5, 2.5, 0.5)])
def test_rounded_mi_against_quad(rho, w, u):
    assert rounded_gaussian_mi(rho, w, u) == pytest.approx(_rounded_mi_quad(rho, w, u), abs=1e-4)


def test_rounded_fine_grid_tends_to_the_gaussian_mi():
    assert rounded_gaussian_mi(0.8, 0.01) == pytest.approx(-0.5 * math.log(1 - 0.64), abs=1e-4)


@pytest.mark.parametrize(
    "dims, rhos, widths, offsets",
    [((1, 1), [0.9], [0.5], [0.0]), ((2, 3), [-0.99, 0.6], [0.05, 2.0], [0.25, 0.5]), ((3, 1), [0.3], [1.0], [0.0])],
)
def test_rounded_monte_carlo(dims, rhos, widths, offsets):
    _assert_mc(RoundedSampler(*dims, rhos, widths, offsets), np.random.default_rng(4))


def test_float32_samples_keep_the_cells_and_counts():
    rng = np.random.default_rng(7)
    for sampler in (
        RoundedSampler(2, 2, [0.99, -0.5], [0.05, 1.5], [0.25, 0.0]),
        CountsSampler(1, 1, [2.0], [0.7]),
        _classcond(2, 2, 2, rng),
    ):
        x, y = sampler.sample(5000, rng, np.float32)
        assert x.dtype == y.dtype == np.float32
        ratio = sampler.log_density_ratio(x, y)
        assert np.all(np.isfinite(ratio))
        assert abs(ratio.mean() - sampler.mutual_information()) < 8 * ratio.std() / np.sqrt(5000) + SLACK


@pytest.mark.parametrize(
    "sampler",
    [
        ClassConditionalSampler(2, 1, [[0.3, 0.7]], [[0.0, 1.0]], [[1.0, 0.5]], [False]),
        CountsSampler(2, 2, [0.5, 1.0], [0.3, -0.4], [2.0, 5.0]),
        RoundedSampler(1, 2, [0.7], [0.4], [0.5]),
    ],
)
def test_round_trip_same_mi_and_samples(sampler):
    again = sampler_from_params(json.loads(json.dumps(sampler.params())))
    assert again.mutual_information() == sampler.mutual_information()
    for a, b in zip(
        sampler.sample(50, np.random.default_rng(1)), again.sample(50, np.random.default_rng(1)), strict=True
    ):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: ClassConditionalSampler(1, 1, [[0.5, 0.6]], [[0, 1]], [[1, 1]], [True]), "summing to 1"),
        (lambda: ClassConditionalSampler(1, 1, [[1.0]], [[0]], [[1]], [True]), ">= 2 probabilities"),
        (lambda: ClassConditionalSampler(1, 1, [[0.5, 0.5]], [[0]], [[1, 1]], [True]), "one value per class"),
        (lambda: ClassConditionalSampler(1, 1, [[0.5, 0.5]], [[0, 1]], [[1, 0]], [True]), "scales"),
        (lambda: ClassConditionalSampler(1, 1, [[0.5, 0.5]], [[0, np.inf]], [[1, 1]], [True]), "means"),
        (lambda: ClassConditionalSampler(1, 1, [[0.5, 0.5]] * 2, [[0, 1]] * 2, [[1, 1]] * 2, [True] * 2), "at most"),
        (lambda: ClassConditionalSampler(1, 1, [[0.5, 0.5]], [[0, 1]], [[1, 1]], []), "one entry per block"),
        (lambda: CountsSampler(1, 1, [1.0, 2.0], [0.5, 0.5]), "same length"),
        (lambda: CountsSampler(1, 1, [3.0], [0.6]), "a \\+ 5.5 \\|b\\| <= 6"),
        (lambda: CountsSampler(1, 1, [np.nan], [0.6]), "finite"),
        (lambda: CountsSampler(1, 1, [1.0], [0.5], [0.1]), "dispersions"),
        (lambda: RoundedSampler(1, 1, [1.0], [1.0], [0.0]), "rho"),
        (lambda: RoundedSampler(1, 1, [0.5], [0.0], [0.0]), "width"),
        (lambda: RoundedSampler(1, 1, [0.5], [1.0], [1.0]), "offset"),
        (lambda: RoundedSampler(1, 1, [0.5, 0.5], [1.0, 1.0], [0.0, 0.0]), "same length"),
    ],
)
def test_invalid_arguments_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()
