"""The mixing category: its wrappers and bare families, their categories and held-out flags, bases drawn from the
paper's training families, and the stated MI checked on draws across dims (Monte Carlo mean of the log density
ratio within 4 standard errors, 20k points a draw)."""

import numpy as np
import pytest
from mc_check import assert_sampler_mc

from mist_hf.families import WRAPPERS, draw_sampler, family_names, get_family
from mist_hf.samplers import CouplingFlowSampler, MixedSampler, PlanarFlowSampler

NAMES = ("mixed", "mixflow", "mixplanar")
KINDS = {"mixed": MixedSampler, "mixflow": CouplingFlowSampler, "mixplanar": PlanarFlowSampler}
DIMS = [(1, 1), (1, 6), (3, 2), (5, 5), (12, 4)]


def test_mixing_families_and_held_out():
    assert family_names(category="mixing") == NAMES
    assert family_names(category="mixing", held_out=True) == ("mixplanar",)
    assert all(name in WRAPPERS and WRAPPERS[name].category == "mixing" for name in NAMES)
    assert all(name not in family_names(held_out=False) for name in ("mixplanar", "spiral"))
    for name in NAMES:
        assert get_family(name).min_dim == 1  # the pool's 1-column families keep dims (1, 1) possible
        assert "the paper's 16 training families" in get_family(name).description


def test_composed_names_take_the_mixing_category():
    family = get_family("mixflow-normal-dense-base")
    assert family.category == "mixing" and not family.held_out and family.min_dim == 1
    assert get_family("mixed-student-2pair-asinh").min_dim == 2
    assert get_family("mixplanar-normal-sparse-base").held_out
    assert get_family("mixed-spiral").held_out  # a held-out base stays held out


@pytest.mark.parametrize("name", NAMES)
def test_bare_families_wrap_a_paper_training_family(name):
    seen = set()
    for seed in range(40):
        sampler = draw_sampler(name, 2, 3, np.random.default_rng(seed))
        assert type(sampler) is KINDS[name]
        seen.add(sampler.base.params()["sampler"])
        assert sampler.params()["base"] == sampler.base.params()
    assert seen == {"gaussian", "student", "transformed"}


@pytest.mark.parametrize("name", NAMES)
def test_wrapper_draws_after_the_base(name):
    wrapped = draw_sampler(f"{name}-student-sparse-asinh", 3, 4, np.random.default_rng(5))
    plain = draw_sampler("student-sparse-asinh", 3, 4, np.random.default_rng(5))
    assert wrapped.params()["base"] == plain.params()
    assert wrapped.mutual_information() == plain.mutual_information()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dims", DIMS)
def test_stated_mi_by_monte_carlo(name, dims):
    for seed in range(2):
        sampler = draw_sampler(name, *dims, np.random.default_rng(1000 * seed + dims[0]))
        assert (sampler.dim_x, sampler.dim_y) == dims
        assert_sampler_mc(sampler, np.random.default_rng(seed), n=20_000)


@pytest.mark.parametrize("name", ["mixed-discrete", "mixflow-additive-base", "mixplanar-rotated-normal-lvm-wiggly"])
def test_composed_families_by_monte_carlo(name):
    sampler = draw_sampler(name, 3, 3, np.random.default_rng(3))
    assert_sampler_mc(sampler, np.random.default_rng(4), n=20_000)


@pytest.mark.parametrize("name", NAMES)
def test_float32_samples_are_finite(name):
    for seed in range(10):
        sampler = draw_sampler(name, 8, 8, np.random.default_rng(seed))
        x, y = sampler.sample(5000, np.random.default_rng(seed), np.float32)
        assert np.all(np.isfinite(x)) and np.all(np.isfinite(y))
