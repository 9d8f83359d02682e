"""Discrete-continuous family: exact MI against brute-force integration and Monte Carlo."""

import numpy as np
import pytest
from mc_check import N_MC, assert_mc_mi

from mist_hf.samplers import DiscreteContinuousSampler, discrete_pair_mi


def brute_force_mi(m: int, w: float, grid: int = 400_000) -> float:
    y = (np.arange(grid) + 0.5) * (m - 1 + w) / grid
    counts = np.sum((np.arange(m)[None, :] <= y[:, None]) & (y[:, None] < np.arange(m)[None, :] + w), axis=1)
    p = counts / (m * w)
    h = -np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1)), 0)) * (m - 1 + w) / grid
    return h - np.log(w)


@pytest.mark.parametrize("m, w", [(2, 0.5), (2, 1.0), (3, 1.7), (5, 2.5), (10, 0.3), (7, 6.0)])
def test_pair_mi_matches_brute_force(m, w):
    assert discrete_pair_mi(m, w)[0] == pytest.approx(brute_force_mi(m, w), abs=1e-4)


def test_non_overlapping_windows_give_log_levels():
    assert discrete_pair_mi([4, 9], [1.0, 0.4]) == pytest.approx(np.log([4, 9]))


@pytest.mark.parametrize("dims, k", [((1, 1), 1), ((4, 2), 2), ((2, 6), 1)])
def test_monte_carlo_agrees(dims, k):
    rng = np.random.default_rng(31)
    sampler = DiscreteContinuousSampler(*dims, levels=rng.integers(2, 11, dims[0]), widths=rng.uniform(1.2, 5, k))
    x, y = sampler.sample(N_MC, rng)
    assert np.all(x == np.round(x))  # X is integer-valued: ties by construction
    assert_mc_mi(sampler.mutual_information(), sampler.log_density_ratio(x, y))


def test_invalid_parameters_raise():
    with pytest.raises(ValueError, match="levels"):
        DiscreteContinuousSampler(2, 2, levels=[1, 3], widths=[1.0])
    with pytest.raises(ValueError, match="widths"):
        DiscreteContinuousSampler(1, 2, levels=[3], widths=[1.0, 2.0])
    with pytest.raises(ValueError, match="width"):
        DiscreteContinuousSampler(1, 1, levels=[3], widths=[-1.0])
