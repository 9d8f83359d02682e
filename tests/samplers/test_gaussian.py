"""Gaussian structures: closed forms against the generic determinant formula and against Monte Carlo."""

import math

import numpy as np
import pytest
from mc_check import assert_sampler_mc

from mist_hf.samplers import GaussianSampler, LatentStructure


def generic_mi(c: np.ndarray, dx: int) -> float:
    """0.5 log(det C_xx det C_yy / det C), computed independently of the sampler's closed forms."""
    return 0.5 * (np.linalg.slogdet(c[:dx, :dx])[1] + np.linalg.slogdet(c[dx:, dx:])[1] - np.linalg.slogdet(c)[1])


STRUCTURES = [
    LatentStructure.dense(3, 5, rho=0.3),
    LatentStructure.dense(1, 1, rho=0.45),
    LatentStructure.dense(32, 32, rho=0.5),
    LatentStructure.sparse(4, 2, k=2, strength=1.5),
    LatentStructure.sparse(1, 6, k=1, strength=4.0),
    LatentStructure.sparse(32, 32, k=32, strength=5.0),
    LatentStructure.sparse(5, 5, k=2, strength=0.7, kind="2pair"),
    LatentStructure("lvm", 6, 3, k=2, alpha=0.8, beta=1.2, lam=2.0, eta=3.0),
    LatentStructure("lvm", 1, 1, k=1, alpha=0.5, beta=0.5, lam=0.5, eta=0.5),
]


@pytest.mark.parametrize("structure", STRUCTURES, ids=lambda s: f"{s.kind}-{s.dim_x}x{s.dim_y}")
def test_closed_form_matches_determinants(structure):
    c = structure.correlation()
    assert np.allclose(np.diag(c), 1.0)
    assert np.allclose(c, c.T)
    assert GaussianSampler(structure).mutual_information() == pytest.approx(generic_mi(c, structure.dim_x), abs=1e-9)


def test_sparse_pairs_have_the_stated_correlation():
    s = LatentStructure.sparse(3, 4, k=2, strength=2.0)
    c = s.correlation()
    assert c[0, 3] == pytest.approx(4.0 / 5.0)
    assert c[2, 5] == 0.0  # unpaired coordinates are independent
    assert GaussianSampler(s).mutual_information() == pytest.approx(-math.log(1 - 0.8**2))


@pytest.mark.parametrize("structure", STRUCTURES[:2] + STRUCTURES[3:5] + STRUCTURES[6:], ids=lambda s: s.kind)
def test_monte_carlo_agrees(structure):
    sampler = GaussianSampler(structure)
    assert_sampler_mc(sampler, np.random.default_rng(1))


def test_samples_have_the_stated_correlation():
    s = LatentStructure("lvm", 3, 2, k=1, alpha=0.9, beta=0.4, lam=1.5, eta=2.0)
    x, y = GaussianSampler(s).sample(200_000, np.random.default_rng(2))
    empirical = np.corrcoef(np.hstack([x, y]), rowvar=False)
    assert np.abs(empirical - s.correlation()).max() < 0.01  # SE of a correlation at n = 200k is < 0.0023


def test_float32_sampling_has_the_same_law():
    s = LatentStructure.dense(2, 2, rho=0.4)
    x, y = GaussianSampler(s).sample(200_000, np.random.default_rng(3), np.float32)
    assert x.dtype == np.float32 and y.dtype == np.float32
    empirical = np.corrcoef(np.hstack([x, y]).astype(float), rowvar=False)
    assert np.abs(empirical - s.correlation()).max() < 0.01
    assert np.abs(x.std(axis=0) - 1).max() < 0.01


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(kind="dense", dim_x=0, dim_y=2), "dim_x"),
        (dict(kind="dense", dim_x=2, dim_y=33), "dim_y"),
        (dict(kind="spiral", dim_x=2, dim_y=2), "structure"),
        (dict(kind="sparse", dim_x=2, dim_y=3, k=3), "k must be"),
        (dict(kind="lvm", dim_x=2, dim_y=2, alpha=-1.0), "alpha"),
        (dict(kind="lvm", dim_x=2, dim_y=2, eps=0.0), "eps"),
    ],
)
def test_invalid_structures_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LatentStructure(**kwargs)


def test_invalid_dense_rho_raises():
    with pytest.raises(ValueError, match="rho"):
        LatentStructure.dense(2, 2, rho=1.0)
