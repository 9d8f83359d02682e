"""The nonmonotone category: registration, dims, table lookups (fast labels), held-out shapes and noise, and the
Monte Carlo check of the stated MI.

Tolerance of the Monte Carlo check: 4 standard errors plus 0.002 nats (the quadrature labels are accurate to about
3e-4 nats) at 10k float64 points per draw (the heavy checks are in scripts/verify_ground_truth.py).
"""

import json

import numpy as np
import pytest

from mist_hf.families import draw_sampler, family_names, get_family
from mist_hf.samplers import sampler_from_params
from mist_hf.samplers.functional import closed_form_mi, load_functional_table
from mist_hf.samplers.verify import monte_carlo_mi

TRAIN = ("nonmono-pairs", "nonmono-radial")
HELD_OUT = ("nonmono-zigzag",)
DIMS = [(1, 1), (1, 5), (2, 1), (3, 4), (7, 2), (32, 32)]


def test_registered_in_the_category():
    assert family_names("nonmonotone", held_out=False) == TRAIN
    assert family_names("nonmonotone", held_out=True) == HELD_OUT
    assert all(get_family(name).min_dim == 1 for name in TRAIN + HELD_OUT)


def channels_of(sampler):
    return sampler.params()["channels"]


@pytest.mark.parametrize("family", TRAIN + HELD_OUT)
@pytest.mark.parametrize("dims", DIMS)
def test_draws_have_the_dims_and_table_labels(family, dims):
    table = load_functional_table()
    for seed in range(5):
        sampler = draw_sampler(family, *dims, np.random.default_rng(seed))
        assert (sampler.dim_x, sampler.dim_y) == dims
        assert sampler.mutual_information() > 0
        for channel in sampler.channels:
            assert channel.key() in table or closed_form_mi(channel) is not None
        rebuilt = sampler_from_params(json.loads(json.dumps(sampler.params())))
        assert rebuilt.mutual_information() == sampler.mutual_information()
        x, y = sampler.sample(50, np.random.default_rng(seed), np.float32)
        assert x.shape == (50, dims[0]) and y.shape == (50, dims[1]) and np.all(np.isfinite(y))


def test_radial_blocks_fit_and_pairs_are_bounded():
    for seed in range(40):
        rng = np.random.default_rng(seed)
        dim_x, dim_y = int(rng.integers(2, 33)), int(rng.integers(1, 33))
        sampler = draw_sampler("nonmono-radial", dim_x, dim_y, rng)
        ms = [c.m for c in sampler.channels]
        assert all(m >= 2 for m in ms) and sum(ms) <= dim_x and len(ms) <= min(dim_y, dim_x // 2, 4)
    assert [c.m for c in draw_sampler("nonmono-radial", 1, 3, np.random.default_rng(0)).channels] == [1]


def test_held_out_shape_and_noise_are_out_of_training():
    train, held = set(), set()
    for seed in range(300):
        for family, seen in ((TRAIN[seed % 2], train), (HELD_OUT[0], held)):
            for channel in draw_sampler(family, 3, 3, np.random.default_rng(seed)).channels:
                seen.add((channel.shape, channel.noise))
    assert {shape for shape, _ in held} == {"zigzag"} and "student" in {noise for _, noise in held}
    assert not {shape for shape, _ in train} & {"zigzag"} and "student" not in {noise for _, noise in train}
    assert {shape for shape, _ in train} == {"square", "abs", "cos", "sin", "wave", "doublewell"}


@pytest.mark.parametrize(
    "family, dims, seed",
    [("nonmono-pairs", (1, 1), 0), ("nonmono-pairs", (2, 3), 1), ("nonmono-radial", (6, 2), 2),
     ("nonmono-radial", (4, 1), 3), ("nonmono-zigzag", (2, 2), 4), ("nonmono-zigzag", (1, 3), 5)],
)  # fmt: skip
def test_monte_carlo_agrees(family, dims, seed):
    sampler = draw_sampler(family, *dims, np.random.default_rng(seed))
    estimate, se = monte_carlo_mi(sampler, 10_000, np.random.default_rng(100 + seed))
    assert abs(estimate - sampler.mutual_information()) <= 4 * se + 0.002
