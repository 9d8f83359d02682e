"""The highmi category: registration, the MI range (1x1 up to 8 nats, 2x2 beyond 12), float32 resolution at the
largest MI, held-out shape, and the Monte Carlo check of the stated MI.

Tolerance of the Monte Carlo check: 4 standard errors plus 0.002 nats at 10k float64 points per draw.
"""

import json

import numpy as np
import pytest

from mist_hf.families import draw_sampler, family_names
from mist_hf.samplers import FunctionalSampler, TransformedSampler, sampler_from_params
from mist_hf.samplers.functional import Channel, closed_form_mi, load_functional_table
from mist_hf.samplers.verify import monte_carlo_mi

TRAIN = ("highmi-gauss", "highmi-additive", "highmi-curve")
HELD_OUT = ("highmi-zigzag",)


def test_registered_in_the_category():
    assert family_names("highmi", held_out=False) == TRAIN
    assert family_names("highmi", held_out=True) == HELD_OUT


def functional(sampler):
    return sampler.base if isinstance(sampler, TransformedSampler) else sampler


@pytest.mark.parametrize("family", TRAIN + HELD_OUT)
@pytest.mark.parametrize("dims", [(1, 1), (2, 2), (5, 3), (32, 32)])
def test_draws_have_the_dims_and_fast_labels(family, dims):
    table = load_functional_table()
    for seed in range(5):
        sampler = draw_sampler(family, *dims, np.random.default_rng(seed))
        assert (sampler.dim_x, sampler.dim_y) == dims
        channels = functional(sampler).channels
        assert 1 <= len(channels) <= min(*dims, 4)
        assert all(c.key() in table or closed_form_mi(c) is not None for c in channels)
        rebuilt = sampler_from_params(json.loads(json.dumps(sampler.params())))
        assert rebuilt.mutual_information() == sampler.mutual_information()


def test_mi_reaches_8_nats_in_1x1_and_12_in_2x2():
    def largest(family, dims):
        return max(draw_sampler(family, *dims, np.random.default_rng(s)).mutual_information() for s in range(300))

    assert largest("highmi-gauss", (1, 1)) > 7.9
    assert largest("highmi-additive", (1, 1)) > 7.5
    assert largest("highmi-curve", (1, 1)) > 7.9
    assert largest("highmi-gauss", (2, 2)) > 12.0
    assert largest("highmi-curve", (2, 2)) > 12.0


@pytest.mark.parametrize(
    "channel",
    [
        Channel("linear", 1.0, 1.0 / np.sqrt(np.expm1(16.0))),  # highmi-gauss at 8 nats
        Channel("sin", 3.0, 2.5e-4, "uniform"),  # highmi-curve's smallest noise
        Channel("square", 1.0, 2.5e-4, "laplace"),  # the same, on the steepest shape
        Channel("linear", 1.0, 1.7e-4 / np.sqrt(3), "uniform", law="uniform"),  # highmi-additive at 8 nats
    ],
    ids=lambda c: c.shape,
)
def test_float32_keeps_the_noise_at_the_largest_mi(channel):
    sampler = FunctionalSampler(1, 1, [channel])
    x, y = sampler.sample(50_000, np.random.default_rng(0), np.float32)
    x64, y64 = x[:, 0].astype(float), y[:, 0].astype(float)
    residual = y64 - channel.signal(channel.t_of(x64[:, None]))
    # Where |X| <= 4, the float32 spacing of Y plus that of X times the slope stays 60 times below the noise.
    slope = np.abs(channel.signal(x64 + 1e-6) - channel.signal(x64 - 1e-6)) / 2e-6
    spacing = np.spacing(np.abs(y[:, 0])).astype(float) + slope * np.spacing(np.abs(x[:, 0])).astype(float)
    assert np.max(spacing[np.abs(x64) <= 4]) < channel.sigma / 60
    assert residual.std() == pytest.approx(channel.sigma, rel=0.02)
    assert np.mean(residual == 0) < 0.01  # Y = g(X) exactly only as often as a float32 lattice point of the noise


def test_held_out_shape_is_out_of_training():
    train = set()
    for seed in range(200):
        sampler = draw_sampler(TRAIN[seed % 3], 3, 3, np.random.default_rng(seed))
        train |= {c.shape for c in functional(sampler).channels}
    held = {c.shape for s in range(20) for c in draw_sampler("highmi-zigzag", 2, 2, np.random.default_rng(s)).channels}
    assert held == {"zigzag"} and "zigzag" not in train


@pytest.mark.parametrize(
    "family, dims, seed",
    [("highmi-gauss", (1, 1), 0), ("highmi-gauss", (3, 2), 1), ("highmi-additive", (2, 2), 2),
     ("highmi-curve", (1, 1), 3), ("highmi-curve", (2, 3), 4), ("highmi-zigzag", (2, 1), 5)],
)  # fmt: skip
def test_monte_carlo_agrees(family, dims, seed):
    sampler = draw_sampler(family, *dims, np.random.default_rng(seed))
    estimate, se = monte_carlo_mi(sampler, 10_000, np.random.default_rng(100 + seed))
    assert abs(estimate - sampler.mutual_information()) <= 4 * se + 0.002
