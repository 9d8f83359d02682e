"""The lownoise category: registration, one channel from the label tables at low noise, the MI range, exact MI against
a Monte Carlo mean of the log density ratio (20k float64 points within 4 standard errors + 0.002 nats, as for every
functional channel: the labels are the table's quadrature), round trips and float32 samples."""

import json

import numpy as np
import pytest
from mc_check import assert_mc_mi

from mist_hf.families import draw_sampler, family_names, get_family
from mist_hf.families.lownoise import EVEN, MAX_SIGMA, PERIODIC, ZIGZAG
from mist_hf.samplers import FunctionalSampler, sampler_from_params
from mist_hf.samplers.functional import load_functional_table

TRAIN = ("lownoise-even", "lownoise-periodic")
HELD_OUT = ("lownoise-zigzag",)
DIMS = [(1, 1), (4, 2), (32, 32)]


def test_registered_with_category_and_held_out():
    assert family_names(category="lownoise", held_out=False) == TRAIN
    assert family_names(category="lownoise", held_out=True) == HELD_OUT
    assert all(get_family(n).min_dim == 1 for n in TRAIN + HELD_OUT)


def test_every_drawable_channel_is_in_the_label_table():
    table = load_functional_table()
    for grid in (EVEN, PERIODIC, ZIGZAG):
        for shape, values in grid.items():
            assert values, shape
            for a, sigma, noise in values:
                assert sigma <= MAX_SIGMA and (shape, a, sigma, noise, 1, "normal") in table
    assert set(EVEN) == {"square", "abs", "cos", "doublewell"} and set(PERIODIC) == {"sin", "cos"}
    assert "student" in {noise for values in ZIGZAG.values() for _, _, noise in values}


@pytest.mark.parametrize("name", TRAIN + HELD_OUT)
def test_one_channel_at_low_noise_with_exact_mi(name):
    rng = np.random.default_rng(3)
    mis, shapes, signs = [], set(), set()
    for i in range(60):
        dims = DIMS[i % len(DIMS)]
        sampler = draw_sampler(name, *dims, rng)
        assert isinstance(sampler, FunctionalSampler) and len(sampler.channels) == 1
        channel = sampler.channels[0]
        assert channel.m == 1 and channel.sigma <= MAX_SIGMA and (sampler.dim_x, sampler.dim_y) == dims
        mis.append(sampler.mutual_information())
        shapes.add(channel.shape)
        signs.add(channel.sign)
    assert 0.8 < min(mis) and max(mis) > 4.0 and max(mis) < 8.0
    assert signs == {-1, 1} and len(shapes) == {"lownoise-even": 4, "lownoise-periodic": 2, "lownoise-zigzag": 1}[name]
    for seed in range(3):
        sampler = draw_sampler(name, 1, 1, np.random.default_rng(seed))
        x, y = sampler.sample(20_000, np.random.default_rng(10 + seed))
        ratio = sampler.log_density_ratio(x, y)
        se = ratio.std(ddof=1) / np.sqrt(ratio.size)
        assert abs(ratio.mean() - sampler.mutual_information()) <= 4 * se + 0.002, (name, seed)


def test_a_square_at_low_noise_is_several_nats():
    """The failure that motivates the category: y = x^2 + small noise carries 2.4 to 7.7 nats."""
    table = load_functional_table()
    values = [table[("square", 1.0, s, "gaussian", 1, "normal")] for s in (2.5e-4, 0.06)]
    assert values[0] > 7.5 and values[1] > 2.4
    assert_mc_mi(values[1], _square_ratio(0.06))


def _square_ratio(sigma: float) -> np.ndarray:
    sampler = FunctionalSampler(1, 1, [{"shape": "square", "a": 1.0, "sigma": sigma, "noise": "gaussian"}])
    x, y = sampler.sample(20_000, np.random.default_rng(1))
    return sampler.log_density_ratio(x, y)


@pytest.mark.parametrize("name", TRAIN + HELD_OUT)
def test_round_trip_and_float32(name):
    sampler = draw_sampler(name, 3, 2, np.random.default_rng(7))
    rebuilt = sampler_from_params(json.loads(json.dumps(sampler.params())))
    assert rebuilt.mutual_information() == sampler.mutual_information()
    x, y = sampler.sample(5000, np.random.default_rng(9), np.float32)
    assert x.dtype == y.dtype == np.float32 and np.isfinite(x).all() and np.isfinite(y).all()
    assert np.all(y.std(axis=0) > 0)
