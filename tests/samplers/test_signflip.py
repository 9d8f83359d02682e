"""Per-column sign flips: the flagged columns change sign, the MI is the base's and the Monte Carlo mean of the
log density ratio (the base's at the flipped point) agrees with it within 4 standard errors (30k points)."""

import json

import numpy as np
import pytest
from mc_check import assert_sampler_mc

from mist_hf.samplers import (
    AdditiveNoiseSampler,
    DiscreteContinuousSampler,
    GaussianSampler,
    LatentStructure,
    SignFlipSampler,
    StudentSampler,
    TransformedSampler,
    sampler_from_params,
)

BASES = [
    GaussianSampler(LatentStructure("lvm", 3, 4, k=2, alpha=0.5, beta=0.7, lam=2.0, eta=1.0)),
    TransformedSampler(StudentSampler(LatentStructure.sparse(2, 2, k=2, strength=2.0), 3.0), "wiggly"),
    AdditiveNoiseSampler(2, 3, [0.3, 1.0]),
    DiscreteContinuousSampler(2, 2, [3, 5], [0.5, 2.0]),
]
FLIPS = [([1, 0, 1], [0, 1, 1, 0]), ([1, 1], [0, 1]), ([0, 1], [1, 1, 0]), ([1, 0], [1, 1])]


def test_flagged_columns_change_sign_only():
    base = BASES[0]
    x0, y0 = base.sample(100, np.random.default_rng(0), np.float32)
    x1, y1 = SignFlipSampler(base, *FLIPS[0]).sample(100, np.random.default_rng(0), np.float32)
    assert x1.dtype == np.float32
    np.testing.assert_array_equal(x1, x0 * np.array([-1, 1, -1], dtype=np.float32))
    np.testing.assert_array_equal(y1, y0 * np.array([1, -1, -1, 1], dtype=np.float32))


def test_flips_make_correlations_negative():
    base = BASES[0]  # all correlations positive
    assert np.all(base.correlation() > 0)
    x, y = SignFlipSampler(base, *FLIPS[0]).sample(20_000, np.random.default_rng(1))
    c = np.corrcoef(np.hstack([x, y]).T)
    assert c[0, 1] < -0.1 and c[0, 3] < -0.1 and c[1, 4] < -0.1  # inside X and across X and Y


CASES = list(zip(BASES, FLIPS, strict=True))


@pytest.mark.parametrize("base, flips", CASES, ids=["gaussian", "student", "additive", "discrete"])
def test_monte_carlo_agrees_and_mi_is_the_base(base, flips):
    sampler = SignFlipSampler(base, *flips)
    assert sampler.mutual_information() == base.mutual_information()
    assert_sampler_mc(sampler, np.random.default_rng(2), n=30_000)


def test_round_trip():
    sampler = SignFlipSampler(BASES[1], [True, False], np.array([1, 1]))
    rebuilt = sampler_from_params(json.loads(json.dumps(sampler.params())))
    assert rebuilt.params() == sampler.params() and sampler.params()["flip_x"] == [1, 0]
    samples = sampler.sample(50, np.random.default_rng(3)), rebuilt.sample(50, np.random.default_rng(3))
    for a, b in zip(*samples, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "flip_x, flip_y, match",
    [([1, 0], [0, 1, 1, 0], "flip_x"), ([1, 0, 1], [0, 1], "flip_y"), ([1, 0, 2], [0, 1, 1, 0], "flip_x"),
     ([1.0, 0.0, 1.0], [0, 1, 1, 0], "flip_x"), ([1, 0, 1], [[0, 1, 1, 0]], "flip_y")],
)  # fmt: skip
def test_invalid_flags_raise(flip_x, flip_y, match):
    with pytest.raises(ValueError, match=match):
        SignFlipSampler(BASES[0], flip_x, flip_y)


def test_invalid_base_raises():
    with pytest.raises(ValueError, match="base"):
        SignFlipSampler({"sampler": "gaussian"}, [0], [0])
