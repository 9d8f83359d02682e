"""The sharedscale category: multivariate Student-t with identity scale. The MI is the shared chi-square's term, checked
against a Monte Carlo mean of the log density ratio from scipy's multivariate t density (100k float64 points, within
4 standard errors; the label is a closed form, no slack), and a second closed form (the entropy of the t: h(X) + h(Y)
- h(X, Y) from scipy's ``multivariate_t.entropy``) to 1e-9; columns are uncorrelated, df in the stated ranges."""

import json
import math

import numpy as np
import pytest
from mc_check import assert_sampler_mc
from scipy import stats

from mist_hf.families import draw_sampler, family_names, get_family
from mist_hf.samplers import StudentSampler, TransformedSampler, sampler_from_params, student_t_correction

TRAIN = ("sharedscale-t", "sharedscale-t-transformed")
HELD_OUT = ("sharedscale-subunit",)


def _base(sampler):
    return sampler.base if isinstance(sampler, TransformedSampler) else sampler


def test_registered_with_category_and_held_out():
    assert family_names(category="sharedscale", held_out=False) == TRAIN
    assert family_names(category="sharedscale", held_out=True) == HELD_OUT
    assert all(get_family(n).min_dim == 1 for n in TRAIN + HELD_OUT)


@pytest.mark.parametrize("name, low, high", [("sharedscale-t", 1.0, 5.0), ("sharedscale-t-transformed", 1.0, 5.0),
                                             ("sharedscale-subunit", 0.5, 1.0)])  # fmt: skip
def test_identity_scale_and_df_range(name, low, high):
    rng = np.random.default_rng(0)
    dfs = []
    for _ in range(200):
        sampler = draw_sampler(name, 3, 4, rng)
        base = _base(sampler)
        assert isinstance(base, StudentSampler)
        np.testing.assert_array_equal(base.dispersion(), np.eye(7))
        assert sampler.mutual_information() == pytest.approx(student_t_correction(base.df, 3, 4), rel=1e-12)
        dfs.append(base.df)
    assert low <= min(dfs) < low * 1.1 and high / 1.1 < max(dfs) <= high
    if name.endswith("transformed"):
        assert {draw_sampler(name, 2, 2, np.random.default_rng(s)).transform for s in range(30)} == {
            "halfcube", "asinh", "wiggly"}  # fmt: skip


@pytest.mark.parametrize("df, dims", [(1.0, (1, 1)), (2.5, (1, 1)), (5.0, (2, 3)), (0.6, (4, 4)), (1.5, (16, 16))])
def test_mi_against_the_t_entropy_and_monte_carlo(df, dims):
    dx, dy = dims
    sampler = StudentSampler(draw_sampler("sharedscale-t", dx, dy, np.random.default_rng(0)).structure, df=df)

    def entropy(d: int) -> float:
        return float(stats.multivariate_t(loc=np.zeros(d), shape=np.eye(d), df=df).entropy())

    assert sampler.mutual_information() == pytest.approx(entropy(dx) + entropy(dy) - entropy(dx + dy), rel=1e-9)
    assert_sampler_mc(sampler, np.random.default_rng(1), n=100_000)


def test_the_columns_are_uncorrelated_but_dependent():
    sampler = StudentSampler(draw_sampler("sharedscale-t", 1, 1, np.random.default_rng(0)).structure, df=4.0)
    x, y = sampler.sample(200_000, np.random.default_rng(2))
    assert abs(np.corrcoef(x[:, 0], y[:, 0])[0, 1]) < 0.01
    assert np.corrcoef(np.abs(x[:, 0]), np.abs(y[:, 0]))[0, 1] > 0.1  # the shared scale
    assert math.isclose(student_t_correction(1.0, 1, 1), 0.2241714275, rel_tol=1e-9)


@pytest.mark.parametrize("name", TRAIN + HELD_OUT)
def test_round_trip_and_float32(name):
    sampler = draw_sampler(name, 5, 2, np.random.default_rng(7))
    rebuilt = sampler_from_params(json.loads(json.dumps(sampler.params())))
    assert rebuilt.mutual_information() == sampler.mutual_information()
    x, y = sampler.sample(5000, np.random.default_rng(9), np.float32)
    assert x.dtype == np.float32 and np.isfinite(x).all() and np.isfinite(y).all()
