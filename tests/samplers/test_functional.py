"""Functional channels Y = +-g(a T) + sigma eps: the CDF of g(a T), the label quadrature (closed forms, refinement,
the shipped table), the independent Monte Carlo check, float32, round trips and argument errors.

Tolerances: the quadrature agrees with the closed forms to 5e-4 nats and with itself at twice the resolution to
1e-3 nats; the Monte Carlo mean of the log density ratio (20k float64 points; p_Y by a scale mixture of uniforms,
not by the label's grid convolution) agrees with the stated MI within 4 standard errors plus 0.002 nats.
"""

import json
import math

import numpy as np
import pytest

from mist_hf.samplers import FunctionalSampler, sampler_from_params
from mist_hf.samplers.functional import (
    NOISES,
    RESOLUTION,
    SHAPES,
    TABLE_GRIDS,
    Channel,
    channel_mi,
    channel_mi_quadrature,
    closed_form_mi,
    load_functional_table,
    shape_cdf,
    table_channels,
)
from mist_hf.samplers.verify import monte_carlo_mi


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("law, m, a", [("normal", 1, 2.5), ("normal", 5, 1.5), ("uniform", 1, 3.0)])
def test_shape_cdf_matches_the_empirical_cdf(shape, law, m, a):
    rng = np.random.default_rng(3)
    channel = Channel(shape, a, 1.0, m=m, law=law)
    x = rng.random((100_000, 1)) if law == "uniform" else rng.standard_normal((100_000, m))
    u = np.sort(channel.signal(channel.t_of(x)))
    grid = np.quantile(u, np.linspace(0.001, 0.999, 201))
    empirical = np.searchsorted(u, grid, side="right") / u.size
    assert np.max(np.abs(shape_cdf(shape, a, law, m, grid) - empirical)) < 0.006  # KS bound at 100k points


@pytest.mark.parametrize("sigma", [2.5e-4, 0.01, 0.3, 2.0])
def test_quadrature_matches_the_closed_forms(sigma):
    gauss = Channel("linear", 1.5, sigma)
    additive = Channel("linear", 1.0, sigma / 4, "uniform", law="uniform")
    assert channel_mi_quadrature(gauss) == pytest.approx(closed_form_mi(gauss), abs=5e-4)
    assert channel_mi_quadrature(additive) == pytest.approx(closed_form_mi(additive), abs=5e-4)


REFINED = [
    Channel("square", 1.0, 0.03, "laplace"),
    Channel("cos", 6.0, 0.03, "gaussian", m=4),
    Channel("sin", 3.0, 2.5e-4, "laplace"),
    Channel("wave", 3.0, 0.5, "student"),
    Channel("doublewell", 0.7, 0.06, "uniform"),
    Channel("zigzag", 4.0, 1.0, "uniform", m=12),
    Channel("tanh", 2.0, 5e-4, "student"),
    Channel("abs", 2.0, 0.12, "gaussian", m=32),
]


@pytest.mark.parametrize("channel", REFINED, ids=lambda c: f"{c.shape}-{c.sigma}-{c.noise}-{c.m}")
def test_quadrature_is_converged(channel):
    assert channel_mi_quadrature(channel) == pytest.approx(channel_mi_quadrature(channel, 2 * RESOLUTION), abs=1e-3)


MC_CASES = [
    [Channel("square", 1.0, 0.03, "gaussian"), Channel("wave", 2.0, 0.25, "gaussian", sign=-1)],
    [Channel("cos", 4.0, 0.06, "uniform", m=3)],
    [Channel("zigzag", 3.0, 2.5e-4, "student")],
    [Channel("sin", 2.0, 5e-4, "laplace"), Channel("doublewell", 1.0, 0.12, "student", m=2)],
    [Channel("tanh", 1.0, 1e-3, "uniform"), Channel("abs", 0.5, 0.5, "gaussian", m=8)],
    [Channel("linear", 1.0, 2.5e-4, "laplace")],
]


@pytest.mark.parametrize("case", range(len(MC_CASES)))
def test_monte_carlo_agrees(case):
    channels = MC_CASES[case]
    sampler = FunctionalSampler(sum(c.m for c in channels) + 1, len(channels) + 1, channels)
    mi = sampler.mutual_information()
    estimate, se = monte_carlo_mi(sampler, 20_000, np.random.default_rng(case))
    assert abs(estimate - mi) <= 4 * se + 0.002, (estimate, se, mi)


def test_table_holds_every_drawn_channel_and_rebuilds():
    table = load_functional_table()
    assert len(table) == len(table_channels())
    for grid in TABLE_GRIDS.values():
        for channel in grid.channels():
            assert closed_form_mi(channel) is not None or channel.key() in table
    rng = np.random.default_rng(0)
    channels = table_channels()
    picks = [channels[i] for i in rng.choice(len(channels), 10, replace=False)]
    picks.append(Channel("zigzag", 3.0, 2.5e-4, "student"))  # the smallest noise, heavy tails
    for channel in picks:
        assert table[channel.key()] == pytest.approx(channel_mi_quadrature(channel), abs=1e-9)


def test_off_grid_channels_are_computed_on_the_fly():
    channel = Channel("cos", 2.2, 0.07, "laplace", sign=-1)
    assert channel.key() not in load_functional_table()
    assert channel_mi(channel) == pytest.approx(channel_mi_quadrature(channel), abs=1e-12)
    assert channel_mi(Channel("cos", 2.2, 0.07, "laplace")) == channel_mi(channel)  # the sign leaves the MI


def test_round_trip_determinism_and_float32():
    channels = [Channel("sin", 3.0, 2.5e-4, "uniform"), Channel("square", 1.0, 0.06, "laplace", m=3, sign=-1)]
    sampler = FunctionalSampler(6, 3, channels)
    rebuilt = sampler_from_params(json.loads(json.dumps(sampler.params())))
    assert rebuilt.mutual_information() == sampler.mutual_information()
    for dtype in (np.float32, np.float64):
        x0, y0 = sampler.sample(500, np.random.default_rng(1), dtype)
        x1, y1 = rebuilt.sample(500, np.random.default_rng(1), dtype)
        assert x0.dtype == y0.dtype == dtype and x0.shape == (500, 6) and y0.shape == (500, 3)
        assert x0.tobytes() == x1.tobytes() and y0.tobytes() == y1.tobytes()
    # float32 keeps the smallest noise: the residual of the stored values has the noise's spread, not 0.
    x, y = sampler.sample(20_000, np.random.default_rng(2), np.float32)
    residual = y[:, 0].astype(float) - np.sin(3.0 * x[:, 0].astype(float))
    assert np.all(np.isfinite(y)) and residual.std() == pytest.approx(2.5e-4, rel=0.03)
    assert np.mean(residual == 0) < 0.01  # no exact functional relation after the cast


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(shape="cube"), "unknown shape"),
        (dict(noise="cauchy"), "unknown noise"),
        (dict(law="beta"), "unknown law"),
        (dict(a=0.0), "a must be"),
        (dict(a=True), "a must be"),
        (dict(sigma=float("nan")), "sigma must be"),
        (dict(sigma="1"), "sigma must be"),
        (dict(m=0), "m must be"),
        (dict(m=2, law="uniform"), "uniform law reads one column"),
        (dict(sign=2), "sign must be"),
    ],
)
def test_invalid_channels_raise(kwargs, match):
    args = dict(shape="sin", a=1.0, sigma=0.1) | kwargs
    with pytest.raises(ValueError, match=match):
        Channel(**args)


def test_invalid_samplers_raise():
    channel = Channel("sin", 1.0, 0.1, m=3)
    with pytest.raises(ValueError, match="at least one channel"):
        FunctionalSampler(2, 2, [])
    with pytest.raises(ValueError, match="need dim_y"):
        FunctionalSampler(8, 1, [channel, channel])
    with pytest.raises(ValueError, match="more than dim_x"):
        FunctionalSampler(5, 2, [channel, channel])
    with pytest.raises(ValueError, match="dim_x"):
        FunctionalSampler(0, 2, [channel])


def test_noise_laws_have_unit_variance():
    from mist_hf.samplers.functional import _draw_noise, noise_cdf, noise_logpdf

    grid = np.linspace(-60, 60, 600_001)
    for noise in NOISES:
        density = np.exp(noise_logpdf(noise, grid))
        assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=1e-4)
        assert np.trapezoid(grid**2 * density, grid) == pytest.approx(1.0, abs=2e-2 if noise == "student" else 1e-4)
        draws = _draw_noise(noise, np.random.default_rng(0), (200_000,))
        assert np.mean(draws <= 0.7) == pytest.approx(float(noise_cdf(noise, np.array(0.7))), abs=0.004)
    assert math.isclose(float(noise_cdf("uniform", np.array(math.sqrt(3)))), 1.0)
