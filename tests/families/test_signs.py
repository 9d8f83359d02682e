"""The signs category: registration, dims, exact MI against a Monte Carlo mean of the log density ratio (within 4
standard errors, 20k float64 points; the labels are closed forms, no slack), sign diversity, round trips, float32
samples, and the ``signed`` wrapper on any family."""

import json

import numpy as np
import pytest
from mc_check import assert_sampler_mc

from mist_hf.families import PAPER_TRAIN_FAMILIES, WRAPPERS, draw_sampler, family_names, get_family
from mist_hf.samplers import CorrelatedGaussianSampler, SignFlipSampler, sampler_from_params

TRAIN = ("signs-normal-factor", "signs-normal-pairs", "signs-student-factor", "signs-student-pairs", "signed")
HELD_OUT = ("signs-normal-chain", "signs-student-chain")
DIMS = [(1, 1), (3, 5), (8, 2), (32, 32)]
N_MC = 20_000


def test_registered_with_category_and_split():
    assert set(family_names(category="signs", held_out=False)) == set(TRAIN)
    assert set(family_names(category="signs", held_out=True)) == set(HELD_OUT)
    for name in TRAIN + HELD_OUT:
        family = get_family(name)
        assert family.min_dim == 1 and name.startswith(("signs-", "signed"))
        assert family.description and "\n" not in family.description
    assert WRAPPERS["signed"].category == "signs" and not WRAPPERS["signed"].held_out


@pytest.mark.parametrize("name", TRAIN + HELD_OUT)
def test_draws_have_the_dims_and_exact_mi(name):
    for i, (dim_x, dim_y) in enumerate(DIMS):
        rng = np.random.default_rng(100 + i)
        sampler = draw_sampler(name, dim_x, dim_y, rng)
        assert (sampler.dim_x, sampler.dim_y) == (dim_x, dim_y)
        assert sampler.mutual_information() >= 0
        assert_sampler_mc(sampler, rng, n=N_MC)


@pytest.mark.parametrize("name", TRAIN + HELD_OUT)
def test_round_trip_and_float32(name):
    rng = np.random.default_rng(7)
    sampler = draw_sampler(name, 6, 4, rng)
    rebuilt = sampler_from_params(json.loads(json.dumps(sampler.params())))
    assert rebuilt.mutual_information() == sampler.mutual_information()
    samples = sampler.sample(500, np.random.default_rng(8)), rebuilt.sample(500, np.random.default_rng(8))
    for a, b in zip(*samples, strict=True):
        np.testing.assert_array_equal(a, b)
    for a in sampler.sample(5000, np.random.default_rng(9), np.float32):
        assert a.dtype == np.float32 and np.isfinite(a).all() and np.all(a.std(axis=0) > 0)


@pytest.mark.parametrize("name", ["signs-normal-factor", "signs-normal-pairs", "signs-normal-chain"])
def test_correlations_take_both_signs_inside_and_across(name):
    inside, across = [], []
    for seed in range(20):
        c = draw_sampler(name, 4, 4, np.random.default_rng(seed)).correlation()
        inside += [c[0, 1], c[5, 6]]
        across += [c[0, 4], c[2, 7], c[3, 5]]
    for values in (inside, across):
        values = np.asarray(values)
        assert np.sum(values < -0.05) >= 4 and np.sum(values > 0.05) >= 4


def test_pair_correlations_take_both_signs():
    values = []
    for seed in range(10):
        sampler = draw_sampler("signs-normal-pairs", 5, 5, np.random.default_rng(seed))
        structure, c = sampler.structure, sampler.correlation()
        values += c[structure.pair_x, 5 + structure.pair_y].tolist()
    assert np.sum(np.asarray(values) < -0.1) >= 5 and np.sum(np.asarray(values) > 0.1) >= 5


def test_mi_ranges_from_low_to_high():
    mis = [draw_sampler("signs-normal-pairs", 32, 32, np.random.default_rng(s)).mutual_information() for s in range(40)]
    assert min(mis) < 5 and max(mis) > 12
    mis = [draw_sampler("signs-normal-factor", 1, 1, np.random.default_rng(s)).mutual_information() for s in range(40)]
    assert min(mis) < 0.05 and max(mis) > 0.8


def test_draw_is_deterministic_given_the_generator():
    a = draw_sampler("signs-student-pairs", 5, 3, np.random.default_rng(3)).params()
    b = draw_sampler("signs-student-pairs", 5, 3, np.random.default_rng(3)).params()
    assert a == b


@pytest.mark.parametrize(
    "name, category, held_out",
    [
        ("signed-normal-dense-base", "signs", False),
        ("signed-discrete", "signs", False),
        ("signed-additive-wiggly", "signs", False),
        ("signed-spiral-student-lvm-halfcube", "signs", True),
        ("signed-heavytail-student-factor", "heavytail", False),
        ("rotated-signs-normal-chain", "signs", True),
    ],
)
def test_signed_wrapper_composes_with_any_family(name, category, held_out):
    family = get_family(name)
    assert (family.category, family.held_out) == (category, held_out)
    rng = np.random.default_rng(11)
    sampler = draw_sampler(name, 3, 2, rng)
    assert sampler.mutual_information() >= 0
    assert_sampler_mc(sampler, rng, n=N_MC)


def test_signed_flips_each_column_with_probability_one_half():
    flips = []
    for seed in range(200):
        sampler = draw_sampler("signed-normal-lvm-base", 4, 4, np.random.default_rng(seed))
        assert isinstance(sampler, SignFlipSampler)
        flips += [*sampler.flip_x, *sampler.flip_y]
    assert abs(np.mean(flips) - 0.5) < 0.04  # 1600 fair coins: 4 standard errors is 0.05


def test_bare_signed_draws_its_base_from_the_paper_training_families():
    seen = set()
    for seed in range(60):
        sampler = draw_sampler("signed", 2, 2, np.random.default_rng(seed))
        assert isinstance(sampler, SignFlipSampler)
        seen.add(sampler.base.kind)
    assert len(seen) >= 3
    assert get_family("signed").category == "signs" and len(PAPER_TRAIN_FAMILIES) == 16


def test_signs_structures_are_gaussian_samplers_of_signed_kinds():
    sampler = draw_sampler("signs-normal-chain", 3, 3, np.random.default_rng(0))
    assert isinstance(sampler, CorrelatedGaussianSampler) and sampler.params()["structure"]["kind"] == "chain"
