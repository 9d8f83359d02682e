"""The manifold category: intrinsic dims (at least one side strictly lower where dims allow), bases drawn from
the paper's training families at the intrinsic dims, categories and held-out flags, and the stated MI checked on
draws across dims (Monte Carlo mean of the log density ratio within 4 standard errors, 20k points a draw)."""

import numpy as np
import pytest
from mc_check import assert_sampler_mc

from mist_hf.families import draw_sampler, family_names, get_family
from mist_hf.families.manifold import draw_intrinsic_dims
from mist_hf.samplers import EmbeddedSampler

NAMES = ("manifold-linear", "manifold-graph", "manifold-coil")
DIMS = [(1, 1), (1, 6), (3, 2), (5, 5), (12, 4)]


def test_manifold_families_and_held_out():
    assert family_names(category="manifold") == NAMES
    assert family_names(category="manifold", held_out=True) == ("manifold-coil",)
    assert all(get_family(name).min_dim == 1 for name in NAMES)


@pytest.mark.parametrize("dims", [(1, 1), (1, 2), (2, 1), (2, 2), (1, 32), (32, 32), (4, 7)])
def test_intrinsic_dims(dims):
    seen = set()
    for seed in range(300):
        kx, ky = draw_intrinsic_dims(*dims, np.random.default_rng(seed))
        assert 1 <= kx <= dims[0] and 1 <= ky <= dims[1]
        assert (kx, ky) != dims or dims == (1, 1)  # at least one side strictly lower where dims allow
        seen.add((kx, ky))
    if dims == (2, 2):
        assert seen == {(1, 1), (1, 2), (2, 1)}


@pytest.mark.parametrize("name", NAMES)
def test_draws_embed_a_paper_training_family(name):
    kinds = set()
    for seed in range(40):
        sampler = draw_sampler(name, 3, 4, np.random.default_rng(seed))
        assert type(sampler) is EmbeddedSampler and sampler.embedding == name.split("-")[1]
        assert (sampler.dim_x, sampler.dim_y) == (3, 4)
        assert sampler.base.dim_x < 3 or sampler.base.dim_y < 4
        kinds.add(sampler.base.params()["sampler"])
    assert kinds == {"gaussian", "student", "transformed"}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("dims", DIMS)
def test_stated_mi_by_monte_carlo(name, dims):
    for seed in range(2):
        sampler = draw_sampler(name, *dims, np.random.default_rng(1000 * seed + dims[0]))
        assert (sampler.dim_x, sampler.dim_y) == dims
        assert_sampler_mc(sampler, np.random.default_rng(seed), n=20_000)


@pytest.mark.parametrize("name", NAMES)
def test_float32_samples_are_finite(name):
    for seed in range(10):
        sampler = draw_sampler(name, 8, 8, np.random.default_rng(seed))
        x, y = sampler.sample(5000, np.random.default_rng(seed), np.float32)
        assert np.all(np.isfinite(x)) and np.all(np.isfinite(y))
