"""The independence category's families: registration, MI 0, dims, independence of X and Y in the samples,
the promised marginals, round trips and float32.

Independence tolerance: every rank correlation between an X and a Y column within 4.5 / sqrt(n) of 0 (n = 4000).
"""

import json

import numpy as np
import pytest
from scipy import stats

from mist_hf.families import draw_sampler, family_names
from mist_hf.samplers import sampler_from_params

NAMES = (
    "indep-iid",
    "indep-gaussian",
    "indep-heavy",
    "indep-skewed",
    "indep-discrete",
    "indep-mixed",
    "indep-spiky",
    "indep-bimodal",
)
HELD_OUT = {"indep-spiky", "indep-bimodal"}


def test_registered_with_category_and_held_out():
    assert set(family_names("independence")) == set(NAMES)
    assert set(family_names("independence", held_out=True)) == HELD_OUT


@pytest.mark.parametrize("name", NAMES)
def test_independent_samples_with_the_right_dims(name):
    rng = np.random.default_rng(sum(map(ord, name)))
    n = 4000
    for dims in ((1, 1), (3, 4), (32, 2)):
        sampler = draw_sampler(name, *dims, rng)
        assert sampler.mutual_information() == 0.0
        x, y = sampler.sample(n, rng, np.float32)
        assert x.shape == (n, dims[0]) and y.shape == (n, dims[1]) and x.dtype == np.float32
        assert np.all(np.isfinite(x)) and np.all(np.isfinite(y))
        np.testing.assert_array_equal(sampler.log_density_ratio(x, y), np.zeros(n))
        vx, vy = np.ptp(x, axis=0) > 0, np.ptp(y, axis=0) > 0  # constant columns have no rank correlation
        ranks = stats.rankdata(np.hstack([x[:, vx], y[:, vy]]).astype(float), axis=0)
        cross = np.corrcoef(ranks, rowvar=False)[: vx.sum(), vx.sum() :]
        assert np.all(np.abs(cross) < 4.5 / np.sqrt(n)), name


def test_marginals_are_what_the_families_promise():
    rng = np.random.default_rng(3)
    x, _ = draw_sampler("indep-heavy", 2, 2, rng).sample(20_000, rng)
    assert stats.kurtosis(x[:, 0]) > 1  # heavy tails
    found = {"ties": False, "spike": False, "bimodal": False}
    for _ in range(10):
        x, _ = draw_sampler("indep-discrete", 2, 2, rng).sample(1000, rng)
        found["ties"] |= np.unique(x[:, 0]).size < 100
        x, _ = draw_sampler("indep-spiky", 3, 3, rng).sample(1000, rng)
        found["spike"] |= np.mean(x == 0) > 0.05
        x, _ = draw_sampler("indep-bimodal", 1, 1, rng).sample(1000, rng)
        found["bimodal"] |= np.mean(np.abs(x) < 0.5) < 0.01
    assert all(found.values()), found


def test_iid_family_has_uncorrelated_columns_inside_each_side():
    """indep-iid is the independence family whose columns are all uncorrelated (the look of non-monotone
    dependence): without a Student scale or a map, every rank correlation, inside a side too, is within
    4.5 / sqrt(n) of 0 (n = 4000); with the shared factor of indep-gaussian, some are far from it."""
    rng = np.random.default_rng(5)
    plain = 0
    for _ in range(150):  # both sides plain about 5% of the time
        sampler = draw_sampler("indep-iid", 3, 3, rng)
        params = json.dumps(sampler.params())
        if '"student"' in params or '"name"' in params:
            continue
        plain += 1
        x, y = sampler.sample(4000, rng)
        corr = np.corrcoef(stats.rankdata(np.hstack([x, y]), axis=0), rowvar=False)
        assert np.all(np.abs(corr - np.eye(6)) < 4.5 / np.sqrt(4000))
    assert plain >= 3
    x, _ = draw_sampler("indep-gaussian", 3, 1, np.random.default_rng(0)).sample(4000, rng)
    assert np.abs(np.corrcoef(x, rowvar=False) - np.eye(3)).max() > 0.2


@pytest.mark.parametrize("name", NAMES)
def test_every_draw_is_finite(name):
    """Many draws of each family, at the prior's largest n: no overflow (exp of a Student-t with df near 1 once gave
    inf in indep-iid, which stopped a training run)."""
    rng = np.random.default_rng(sum(map(ord, name)) + 1)
    for _ in range(200):
        x, y = draw_sampler(name, int(rng.integers(1, 9)), int(rng.integers(1, 9)), rng).sample(5000, rng, np.float32)
        assert np.all(np.isfinite(x)) and np.all(np.isfinite(y)), name


@pytest.mark.parametrize("name", NAMES)
def test_round_trip(name):
    sampler = draw_sampler(name, 5, 3, np.random.default_rng(11))
    again = sampler_from_params(json.loads(json.dumps(sampler.params())))
    for a, b in zip(
        sampler.sample(50, np.random.default_rng(1)), again.sample(50, np.random.default_rng(1)), strict=True
    ):
        np.testing.assert_array_equal(a, b)
