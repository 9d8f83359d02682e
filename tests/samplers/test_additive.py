"""Uniform additive noise: MI formula against quadrature and Monte Carlo."""

import itertools

import numpy as np
import pytest
from mc_check import assert_sampler_mc
from scipy import integrate

from mist_hf.samplers import AdditiveNoiseSampler, additive_noise_mi


@pytest.mark.parametrize("eps", [0.1, 0.3, 0.5, 0.8, 2.0])
def test_formula_matches_quadrature(eps):
    # I = h(Y) - log(2 eps), with p(y) = |[y - eps, y + eps] intersected with [0, 1]| / (2 eps).
    def density(y):
        return max(0.0, min(y + eps, 1.0) - max(y - eps, 0.0)) / (2 * eps)

    breaks = sorted({-eps, eps, 1 - eps, 1 + eps})
    h = sum(integrate.quad(lambda y: -density(y) * np.log(density(y)), a, b)[0] for a, b in itertools.pairwise(breaks))
    assert additive_noise_mi(eps) == pytest.approx(h - np.log(2 * eps), abs=1e-8)


@pytest.mark.parametrize("dims", [(1, 1), (3, 3), (5, 2), (1, 4)])
def test_monte_carlo_agrees(dims):
    rng = np.random.default_rng(21)
    sampler = AdditiveNoiseSampler(*dims, eps=rng.uniform(0.1, 2.0, size=min(dims)))
    assert_sampler_mc(sampler, rng)


def test_invalid_eps_raise():
    with pytest.raises(ValueError, match="entries"):
        AdditiveNoiseSampler(2, 3, eps=[0.5])
    with pytest.raises(ValueError, match="eps"):
        AdditiveNoiseSampler(1, 1, eps=[0.0])
