"""Independent pairs: MI 0, the two halves really come from separate draws, the maps, round trips, errors.

The Monte Carlo check is trivial here (the ratio is 0 by construction), so independence is tested directly: the
correlation of ranks between every X and Y column is within 4.5 standard errors (1 / sqrt(n)) of 0, while columns
inside a side stay correlated.
"""

import json

import numpy as np
import pytest
from scipy import stats

from mist_hf.samplers import (
    MAPS,
    CountsSampler,
    GaussianSampler,
    IndependentPairSampler,
    LatentStructure,
    StudentSampler,
    apply_map,
    sampler_from_params,
)

N = 20_000


def _correlated(dim_x, dim_y):
    return GaussianSampler(LatentStructure("lvm", dim_x, dim_y, k=min(dim_x, dim_y), lam=3.0, beta=1.5))


def test_halves_are_independent_even_from_a_dependent_source():
    source = _correlated(3, 3)  # strongly dependent X and Y: a shared draw would show it
    sampler = IndependentPairSampler(source, source, {"name": "exp", "param": 0.5, "columns": [0]}, None)
    x, y = sampler.sample(N, np.random.default_rng(0))
    assert sampler.mutual_information() == 0.0
    np.testing.assert_array_equal(sampler.log_density_ratio(x, y), np.zeros(N))
    rho = stats.spearmanr(np.hstack([x, y])).statistic
    assert np.max(np.abs(rho[:3, 3:])) < 4.5 / np.sqrt(N)
    assert np.min(np.abs(rho[:3, :3][np.triu_indices(3, 1)])) > 0.1  # dependence inside X is kept


def test_halves_can_be_taken_from_either_side():
    counts = CountsSampler(2, 2, [1.0, 0.5], [0.5, 0.5])
    sampler = IndependentPairSampler(counts, counts, x_half="y", y_half="x")
    x, y = sampler.sample(1000, np.random.default_rng(1))
    assert np.all(x == np.rint(x)) and np.all(x >= 0)  # the counts half as X
    assert not np.all(y == np.rint(y))  # the Gaussian half as Y


def test_maps():
    z = np.array([-2.0, -0.5, 0.0, 0.3, 1.7])
    np.testing.assert_allclose(apply_map("exp", z, 2.0), np.exp(2 * z))
    np.testing.assert_allclose(apply_map("square", z, 1.0), z**2)
    np.testing.assert_allclose(apply_map("round", z, 0.5), [-2.0, -0.5, 0.0, 0.5, 1.5])
    np.testing.assert_allclose(apply_map("threshold", z, 0.2), [0, 0, 0, 1, 1])
    np.testing.assert_allclose(apply_map("spike", z, 0.6), [-2.0, 0, 0, 0, 1.7])
    np.testing.assert_allclose(apply_map("bimodal", z, 1.0), [-3.0, -1.5, 0.0, 1.3, 2.7])
    assert set(MAPS) == {"identity", "exp", "square", "round", "threshold", "spike", "bimodal"}


def test_float32_heavy_tails_stay_finite():
    heavy = StudentSampler(LatentStructure("lvm", 4, 1, beta=1.0), df=1.0)
    sampler = IndependentPairSampler(heavy, _correlated(1, 4), None, {"name": "exp", "param": 3.0, "columns": None})
    x, y = sampler.sample(50_000, np.random.default_rng(2), np.float32)
    assert x.dtype == np.float32 and np.all(np.isfinite(x)) and np.all(np.isfinite(y))


def test_round_trip_same_samples():
    sampler = IndependentPairSampler(
        _correlated(2, 1), CountsSampler(3, 3, [0.0] * 3, [0.3] * 3), {"name": "round", "param": 0.5, "columns": [1]}
    )
    again = sampler_from_params(json.loads(json.dumps(sampler.params())))
    assert (again.dim_x, again.dim_y) == (2, 3)
    for a, b in zip(
        sampler.sample(50, np.random.default_rng(1)), again.sample(50, np.random.default_rng(1)), strict=True
    ):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"x_map": {"name": "cube", "param": 1.0, "columns": None}}, "unknown map"),
        ({"x_map": {"name": "exp", "param": -1.0, "columns": None}}, "param"),
        ({"x_map": {"name": "exp", "param": 5.0, "columns": None}}, "exp map"),
        ({"x_map": {"name": "exp", "param": 1.0, "columns": [2]}}, "columns"),
        ({"x_map": {"name": "exp", "param": 1.0, "columns": [0, 0]}}, "columns"),
        ({"y_map": {"name": "exp", "param": 1.0}}, "keys"),
        ({"x_half": "z"}, "x_half"),
    ],
)
def test_invalid_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        IndependentPairSampler(_correlated(2, 2), _correlated(2, 2), **kwargs)
    with pytest.raises(ValueError, match="samplers"):
        IndependentPairSampler(_correlated(2, 2), "not a sampler")
