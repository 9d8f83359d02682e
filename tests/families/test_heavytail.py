"""The heavytail category: registration, df laws, exact MI against a Monte Carlo mean of the log density ratio
(within 4 standard errors, 20k float64 points; closed-form labels, no slack), finite float32 samples down to
df = 0.5, round trips."""

import json

import numpy as np
import pytest
from mc_check import assert_sampler_mc

from mist_hf.families import draw_sampler, family_names, get_family
from mist_hf.samplers import CorrelatedStudentSampler, TransformedSampler, sampler_from_params

TRAIN = ("heavytail-student-factor", "heavytail-student-pairs", "heavytail-student-pairs-halfcube")
HELD_OUT = ("heavytail-subunit-factor", "heavytail-subunit-pairs")
DIMS = [(1, 1), (3, 5), (8, 2), (32, 32)]
N_MC = 20_000


def _student(sampler):
    return sampler.base if isinstance(sampler, TransformedSampler) else sampler


def test_registered_with_category_and_split():
    assert set(family_names(category="heavytail", held_out=False)) == set(TRAIN)
    assert set(family_names(category="heavytail", held_out=True)) == set(HELD_OUT)
    for name in TRAIN + HELD_OUT:
        family = get_family(name)
        assert family.min_dim == 1 and family.description and "\n" not in family.description


@pytest.mark.parametrize("name, low, high", [(n, 1.0, 30.0) for n in TRAIN] + [(n, 0.5, 1.0) for n in HELD_OUT])
def test_df_follows_the_stated_law(name, low, high):
    dfs = np.array([_student(draw_sampler(name, 2, 2, np.random.default_rng(s))).df for s in range(300)])
    assert np.all((dfs >= low) & (dfs < high))
    u = np.log(dfs / low) / np.log(high / low)  # log-uniform: u is U(0, 1)
    assert abs(u.mean() - 0.5) < 0.07 and np.mean(u < 0.25) > 0.15


@pytest.mark.parametrize("name", TRAIN + HELD_OUT)
def test_draws_have_the_dims_and_exact_mi(name):
    for i, (dim_x, dim_y) in enumerate(DIMS):
        rng = np.random.default_rng(200 + i)
        sampler = draw_sampler(name, dim_x, dim_y, rng)
        assert (sampler.dim_x, sampler.dim_y) == (dim_x, dim_y)
        assert isinstance(_student(sampler), CorrelatedStudentSampler)
        assert_sampler_mc(sampler, rng, n=N_MC)


@pytest.mark.parametrize("name", ["heavytail-subunit-pairs", "heavytail-subunit-factor", TRAIN[2]])
def test_float32_samples_are_finite_and_heavy(name):
    largest = []
    for seed in range(8):
        rng = np.random.default_rng(seed)
        x, y = draw_sampler(name, 32, 32, rng).sample(5000, rng, np.float32)
        assert x.dtype == y.dtype == np.float32
        assert np.isfinite(x).all() and np.isfinite(y).all()
        largest.append(max(np.abs(x).max(), np.abs(y).max()))
    if "subunit" in name:
        assert np.median(largest) > 1e3  # a Gaussian of unit scale stays below 10


@pytest.mark.parametrize("name", TRAIN + HELD_OUT)
def test_round_trip(name):
    sampler = draw_sampler(name, 4, 7, np.random.default_rng(5))
    rebuilt = sampler_from_params(json.loads(json.dumps(sampler.params())))
    assert rebuilt.mutual_information() == sampler.mutual_information()
    samples = sampler.sample(100, np.random.default_rng(6)), rebuilt.sample(100, np.random.default_rng(6))
    for a, b in zip(*samples, strict=True):
        np.testing.assert_array_equal(a, b)


def test_subunit_mi_exceeds_the_same_structure_with_df_one():
    # the shared scale adds dependence as df falls: the held-out family's labels lie beyond the training df range
    sampler = _student(draw_sampler("heavytail-subunit-pairs", 4, 4, np.random.default_rng(9)))
    at_one = CorrelatedStudentSampler(sampler.structure, 1.0)
    assert sampler.mutual_information() > at_one.mutual_information()
