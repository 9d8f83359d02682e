"""The independent control family: MI exactly 0, shapes, params round trip, Monte Carlo check, registry entry."""

import json

import numpy as np
import pytest
from mc_check import assert_sampler_mc

from mist_hf.families import draw_sampler, families_markdown, family_min_dim
from mist_hf.prior import SPLITS
from mist_hf.samplers import IndependentSampler, sampler_from_params
from mist_hf.samplers.verify import monte_carlo_mi


@pytest.mark.parametrize("dims", [(1, 1), (3, 5), (32, 32)])
def test_mi_is_exactly_zero_and_shapes(dims):
    sampler = IndependentSampler(*dims)
    assert sampler.mutual_information() == 0.0
    for dtype in (np.float32, np.float64):
        x, y = sampler.sample(40, np.random.default_rng(0), dtype)
        assert x.shape == (40, dims[0]) and y.shape == (40, dims[1])
        assert x.dtype == dtype and y.dtype == dtype


def test_columns_are_uncorrelated_standard_normals():
    x, y = IndependentSampler(2, 3).sample(200_000, np.random.default_rng(1))
    c = np.corrcoef(np.hstack([x, y]), rowvar=False)
    assert np.abs(c - np.eye(5)).max() < 0.01  # SE of a correlation at n = 200k is about 0.0022
    assert np.abs(np.hstack([x, y]).std(axis=0) - 1).max() < 0.01


def test_params_round_trip():
    sampler = IndependentSampler(4, 2)
    params = json.loads(json.dumps(sampler.params()))
    assert params == {"sampler": "independent", "dim_x": 4, "dim_y": 2}
    rebuilt = sampler_from_params(params)
    assert isinstance(rebuilt, IndependentSampler) and (rebuilt.dim_x, rebuilt.dim_y) == (4, 2)
    x0, y0 = sampler.sample(16, np.random.default_rng(2))
    x1, y1 = rebuilt.sample(16, np.random.default_rng(2))
    assert x0.tobytes() == x1.tobytes() and y0.tobytes() == y1.tobytes()


@pytest.mark.parametrize("dims", [(1, 1), (3, 5)])
def test_monte_carlo_agrees(dims):
    sampler = IndependentSampler(*dims)
    assert_sampler_mc(sampler, np.random.default_rng(3))
    mean, se = monte_carlo_mi(sampler, 100_000, np.random.default_rng(4))
    assert abs(mean) <= max(4 * se, 1e-12)


def test_invalid_dims_raise():
    with pytest.raises(ValueError, match="dim_y"):
        IndependentSampler(2, 0)


def test_family_is_registered_and_in_no_split():
    sampler = draw_sampler("independent", 3, 2, np.random.default_rng(5))
    assert isinstance(sampler, IndependentSampler) and (sampler.dim_x, sampler.dim_y) == (3, 2)
    assert family_min_dim("independent") == 1
    assert draw_sampler("rotated-independent", 3, 2, np.random.default_rng(5)).mutual_information() == 0.0
    assert "| `independent` | paper | 1 | X and Y independent" in families_markdown(["independent"])
    assert all("independent" not in name for spec in SPLITS.values() for name in spec.families)
