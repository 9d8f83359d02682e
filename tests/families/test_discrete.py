"""The discrete category's families: registration, dims, labels against Monte Carlo for several draws each,
round trips and float32 samples.

Tolerance: 4 standard errors of the mean of the log density ratio (20k points per draw) plus 0.002 nats of slack
for the numerical labels (counts, class-conditional, rounded; accurate to far better).
"""

import json

import numpy as np
import pytest

from mist_hf.families import draw_sampler, family_names, get_family
from mist_hf.samplers import sampler_from_params

NAMES = (
    "categorical-dirichlet",
    "flags-categorical",
    "flags-continuous",
    "classcond-gaussian",
    "counts-poisson",
    "rounded-gaussian",
    "counts-negbin",
    "categorical-zipf",
)
HELD_OUT = {"counts-negbin", "categorical-zipf"}


def test_registered_with_category_and_held_out():
    assert set(family_names("discrete")) == set(NAMES)
    assert set(family_names("discrete", held_out=True)) == HELD_OUT
    assert get_family("discrete").category == "paper"  # the paper's family keeps its name and category


@pytest.mark.parametrize("name", NAMES)
def test_monte_carlo_agrees_for_several_draws(name):
    rng = np.random.default_rng(sum(map(ord, name)))
    for dims in ((1, 1), (3, 2), (2, 5)):
        sampler = draw_sampler(name, *dims, rng)
        assert (sampler.dim_x, sampler.dim_y) == dims
        x, y = sampler.sample(20_000, rng)
        ratio = sampler.log_density_ratio(x, y)
        assert np.all(np.isfinite(ratio))
        se = ratio.std(ddof=1) / np.sqrt(ratio.size)
        assert abs(ratio.mean() - sampler.mutual_information()) <= 4 * se + 0.002, (dims, ratio.mean(), se)


@pytest.mark.parametrize("name", NAMES)
def test_large_dims_round_trip_and_float32(name):
    rng = np.random.default_rng(7)
    sampler = draw_sampler(name, 32, 17, rng)
    again = sampler_from_params(json.loads(json.dumps(sampler.params())))
    assert again.mutual_information() == sampler.mutual_information() >= 0
    x, y = sampler.sample(500, np.random.default_rng(1), np.float32)
    x2, y2 = again.sample(500, np.random.default_rng(1), np.float32)
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    assert x.shape == (500, 32) and y.shape == (500, 17) and x.dtype == np.float32
    assert np.all(np.isfinite(x)) and np.all(np.isfinite(y))
    assert np.all(np.isfinite(sampler.log_density_ratio(x, y)))
