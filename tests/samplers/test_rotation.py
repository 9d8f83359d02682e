"""Rotations and the spiral: they mix coordinates, are invertible, preserve volume, and keep the MI."""

import numpy as np
import pytest
from mc_check import assert_sampler_mc

from mist_hf.samplers import (
    AdditiveNoiseSampler,
    GaussianSampler,
    LatentStructure,
    PlaneSpiral,
    RotatedSampler,
    SpiralSampler,
    StudentSampler,
    TransformedSampler,
    haar_orthogonal,
)


def test_haar_matrix_is_orthogonal():
    q = haar_orthogonal(7, np.random.default_rng(0))
    np.testing.assert_allclose(q @ q.T, np.eye(7), atol=1e-12)


def test_spiral_inverse_and_unit_jacobian():
    rng = np.random.default_rng(1)
    spiral = PlaneSpiral(4, speed=2.0, rng=rng)
    x = rng.standard_normal((200, 4)) * 2
    np.testing.assert_allclose(spiral.inverse(spiral.forward(x)), x, atol=1e-10)
    np.testing.assert_allclose(np.linalg.norm(spiral.forward(x), axis=1), np.linalg.norm(x, axis=1))
    h = 1e-6
    for point in x[:10]:
        jac = np.stack(
            [
                (spiral.forward((point + h * e)[None]) - spiral.forward((point - h * e)[None]))[0] / (2 * h)
                for e in np.eye(4)
            ],
            axis=1,
        )
        assert np.linalg.det(jac) == pytest.approx(1.0, abs=1e-5)


def test_spiral_is_not_coordinatewise():
    # The rank of column 0 after the map depends on the other columns: no per-column monotone map undoes it.
    rng = np.random.default_rng(2)
    spiral = PlaneSpiral(2, speed=2.0, rng=rng)
    x = rng.standard_normal((2000, 2))
    out = spiral.forward(x)
    assert abs(np.corrcoef(np.argsort(np.argsort(x[:, 0])), np.argsort(np.argsort(out[:, 0])))[0, 1]) < 0.9


def test_one_column_side_is_unchanged():
    base = GaussianSampler(LatentStructure.dense(1, 3, rho=0.3))
    x0, _ = base.sample(100, np.random.default_rng(3))
    x1, _ = SpiralSampler(base, 1.0, 1.0, seed=4).sample(100, np.random.default_rng(3))
    np.testing.assert_array_equal(x0, x1)


BASES = [
    GaussianSampler(LatentStructure("lvm", 3, 4, k=2, alpha=0.5, beta=0.7, lam=2.0, eta=1.0)),
    TransformedSampler(StudentSampler(LatentStructure.sparse(3, 2, k=2, strength=1.0), df=2.0), "halfcube"),
    AdditiveNoiseSampler(2, 5, eps=[0.3, 1.2]),
]


@pytest.mark.parametrize("base", BASES, ids=lambda b: type(b).__name__)
@pytest.mark.parametrize("wrapper", ["rotated", "spiral"])
def test_mi_unchanged_by_monte_carlo(base, wrapper):
    sampler = RotatedSampler(base, seed=5) if wrapper == "rotated" else SpiralSampler(base, 2.0, 0.7, seed=5)
    assert sampler.mutual_information() == base.mutual_information()
    assert_sampler_mc(sampler, np.random.default_rng(51))
