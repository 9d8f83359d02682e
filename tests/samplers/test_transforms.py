"""Element-wise transforms: exact coefficients, monotonicity, inverses, and MI after the change of variables."""

import numpy as np
import pytest
from mc_check import assert_sampler_mc

from mist_hf.samplers import (
    TRANSFORMS,
    GaussianSampler,
    LatentStructure,
    StudentSampler,
    TransformedSampler,
    apply_transform,
    invert_transform,
    transform_derivative,
)

T = np.linspace(-30, 30, 200_001)


def test_reference_coefficients():
    t = np.array([-1.3, 0.0, 0.7, 2.0])
    wx = t + 0.4 * np.sin(t) + 0.2 * np.sin(1.7 * t + 1) + 0.03 * np.sin(3.3 * t - 2.5)
    wy = t - 0.4 * np.sin(0.4 * t) + 0.17 * np.sin(1.3 * t + 3.5) + 0.02 * np.sin(4.3 * t - 2.5)
    np.testing.assert_allclose(apply_transform("wiggly", t, "x"), wx)
    np.testing.assert_allclose(apply_transform("wiggly", t, "y"), wy)
    np.testing.assert_allclose(apply_transform("halfcube", t, "x"), t * np.sqrt(np.abs(t)))
    np.testing.assert_allclose(apply_transform("asinh", t, "y"), np.arcsinh(t))


@pytest.mark.parametrize("name", TRANSFORMS)
@pytest.mark.parametrize("side", ["x", "y"])
def test_strictly_increasing_and_invertible(name, side):
    u = apply_transform(name, T, side)
    assert np.all(np.diff(u) > 0)
    np.testing.assert_allclose(invert_transform(name, u, side), T, atol=1e-9, rtol=1e-12)


@pytest.mark.parametrize("name", ["halfcube", "asinh", "wiggly"])
def test_derivative_matches_finite_differences(name):
    t, h = np.linspace(-5, 5, 1000), 1e-6  # an even count skips t = 0, where halfcube is not smooth
    numeric = (apply_transform(name, t + h, "x") - apply_transform(name, t - h, "x")) / (2 * h)
    np.testing.assert_allclose(transform_derivative(name, t, "x"), numeric, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", TRANSFORMS)
def test_mi_unchanged_by_monte_carlo(name):
    base = StudentSampler(LatentStructure.sparse(2, 3, k=2, strength=1.2), df=3.0)
    sampler = TransformedSampler(base, name)
    assert sampler.mutual_information() == base.mutual_information()
    assert_sampler_mc(sampler, np.random.default_rng(41))


def test_transform_is_applied_to_the_base_sample():
    base = GaussianSampler(LatentStructure.dense(2, 2, rho=0.3))
    x0, y0 = base.sample(50, np.random.default_rng(5))
    x1, y1 = TransformedSampler(base, "wiggly").sample(50, np.random.default_rng(5))
    np.testing.assert_allclose(x1, apply_transform("wiggly", x0, "x"))
    np.testing.assert_allclose(y1, apply_transform("wiggly", y0, "y"))


def test_unknown_transform_raises():
    with pytest.raises(ValueError, match="unknown transform 'cube'"):
        TransformedSampler(GaussianSampler(LatentStructure.dense(1, 1, rho=0.1)), "cube")
