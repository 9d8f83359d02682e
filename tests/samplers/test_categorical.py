"""Categorical blocks: the discrete MI by hand, the Monte Carlo check, codes, round trips, invalid arguments.

Tolerance of the Monte Carlo checks: 4 standard errors of the mean of the log density ratio (50k points); the
label is an exact finite sum, so no slack is added.
"""

import json

import numpy as np
import pytest
from mc_check import assert_mc_mi

from mist_hf.samplers import CategoricalSampler, discrete_mi, sampler_from_params

N = 50_000


def _random_sampler(dim_x, dim_y, k, rng):
    tables = [rng.dirichlet(np.full(r * c, 0.3)).reshape(r, c) for r, c in rng.integers(2, 8, size=(k, 2))]
    tables = [(t / t.sum()).tolist() for t in tables]
    codes_x = [rng.permutation(len(t)).tolist() for t in tables]
    codes_y = [rng.permutation(len(t[0])).tolist() for t in tables]
    fillers_x = [[0.2, 0.8]] * (dim_x - k)
    fillers_y = [[0.5, 0.25, 0.25]] * (dim_y - k)
    return CategoricalSampler(dim_x, dim_y, tables, codes_x, codes_y, fillers_x, fillers_y)


def test_discrete_mi_by_hand():
    assert discrete_mi(np.eye(5) / 5) == pytest.approx(np.log(5))
    assert discrete_mi(np.outer([0.3, 0.7], [0.1, 0.2, 0.7])) == pytest.approx(0.0, abs=1e-15)
    p = np.array([[0.4, 0.1], [0.1, 0.4]])  # a binary symmetric channel with crossover 0.2
    assert discrete_mi(p) == pytest.approx(np.log(2) + 0.8 * np.log(0.8) + 0.2 * np.log(0.2))


@pytest.mark.parametrize("dims, k, seed", [((1, 1), 1, 0), ((3, 2), 2, 1), ((4, 6), 3, 2), ((2, 2), 0, 3)])
def test_monte_carlo_agrees(dims, k, seed):
    rng = np.random.default_rng(seed)
    sampler = _random_sampler(*dims, k, rng)
    x, y = sampler.sample(N, rng)
    assert np.all(x == np.rint(x)) and np.all(y == np.rint(y))
    assert_mc_mi(sampler.mutual_information(), sampler.log_density_ratio(x, y))


def test_codes_follow_the_permutation_and_unknown_codes_are_not_finite():
    table = [[0.5, 0.0], [0.0, 0.5]]
    sampler = CategoricalSampler(1, 1, [table], [[1, 0]], [[0, 1]], [], [])
    x, y = sampler.sample(1000, np.random.default_rng(0))
    assert np.all(x + y == 1)  # category 0 carries code 1 in X and code 0 in Y
    ratio = sampler.log_density_ratio(np.array([[0.0], [2.0], [0.5]]), np.array([[1.0], [0.0], [0.0]]))
    assert ratio[0] == pytest.approx(np.log(2)) and not np.isfinite(ratio[1]) and not np.isfinite(ratio[2])


def test_round_trip_same_mi_and_samples():
    sampler = _random_sampler(3, 4, 2, np.random.default_rng(5))
    again = sampler_from_params(json.loads(json.dumps(sampler.params())))
    assert again.mutual_information() == sampler.mutual_information()
    for a, b in zip(
        sampler.sample(50, np.random.default_rng(1)), again.sample(50, np.random.default_rng(1)), strict=True
    ):
        np.testing.assert_array_equal(a, b)


def test_float32_samples_are_the_same_codes():
    sampler = _random_sampler(2, 2, 2, np.random.default_rng(6))
    x32, y32 = sampler.sample(200, np.random.default_rng(2), np.float32)
    x64, y64 = sampler.sample(200, np.random.default_rng(2), np.float64)
    assert x32.dtype == np.float32
    np.testing.assert_array_equal(x32, x64)
    np.testing.assert_array_equal(y32, y64)


@pytest.mark.parametrize(
    "args, match",
    [
        ((1, 1, [[[0.5, 0.5]]], [[0]], [[0, 1]], [], []), "2-D pmf"),
        ((1, 1, [[[0.5, 0.6], [0.0, 0.0]]], [[0, 1]], [[0, 1]], [], []), "sum to 1"),
        ((1, 1, [[[-0.5, 1.5], [0.0, 0.0]]], [[0, 1]], [[0, 1]], [], []), ">= 0"),
        ((1, 1, [[[0.5, 0.0], [0.0, 0.5]]], [[0, 0]], [[0, 1]], [], []), "permutation"),
        ((1, 1, [[[0.5, 0.0], [0.0, 0.5]]], [[0, 1]], [[1, 2]], [], []), "permutation"),
        ((1, 1, [[[0.5, 0.0], [0.0, 0.5]]] * 2, [[0, 1]] * 2, [[0, 1]] * 2, [], []), "at most"),
        ((1, 1, [[[0.5, 0.0], [0.0, 0.5]]], [], [[0, 1]], [], []), "one permutation per table"),
        ((2, 1, [[[0.5, 0.0], [0.0, 0.5]]], [[0, 1]], [[0, 1]], [], []), "fillers"),
        ((1, 1, [], [], [], [[1.0, 0.0]], [[0.5, 0.4]]), "sum to 1"),
        ((0, 1, [], [], [], [], [[1.0]]), "dim_x"),
    ],
)
def test_invalid_arguments_raise(args, match):
    with pytest.raises(ValueError, match=match):
        CategoricalSampler(*args)
