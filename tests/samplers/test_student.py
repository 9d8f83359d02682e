"""Multivariate Student-t: stated MI against a Monte Carlo mean with scipy's t densities."""

import numpy as np
import pytest
from mc_check import assert_sampler_mc

from mist_hf.samplers import LatentStructure, StudentSampler, student_t_correction

CASES = [
    (LatentStructure.dense(3, 3, rho=0.3), 1.0),
    (LatentStructure.sparse(2, 5, k=2, strength=2.0), 2.5),
    (LatentStructure.sparse(4, 4, k=2, strength=0.5, kind="2pair"), 10.0),
    (LatentStructure("lvm", 1, 4, k=1, alpha=0.6, beta=0.2, lam=1.0, eta=2.0), 4.0),
    (LatentStructure.sparse(1, 1, k=0, strength=1.0), 1.5),  # C = I: dependence only through the shared scale
]


@pytest.mark.parametrize("structure, df", CASES, ids=lambda v: getattr(v, "kind", v))
def test_monte_carlo_agrees(structure, df):
    sampler = StudentSampler(structure, df)
    assert_sampler_mc(sampler, np.random.default_rng(11))


def test_correction_matches_reference_values():
    # the MIST paper's tabulated correction: 0.43 / 1.02 / 1.34 / 1.68 nats at nu = 1, d = 2 / 8 / 16 / 32.
    for d, expected in [(2, 0.43), (8, 1.02), (16, 1.34), (32, 1.68)]:
        assert student_t_correction(1.0, d, d) == pytest.approx(expected, abs=0.01)


def test_correction_vanishes_as_df_grows():
    assert student_t_correction(1e6, 4, 4) == pytest.approx(0.0, abs=1e-4)


@pytest.mark.parametrize("df", [0.0, -1.0, float("inf"), float("nan")])
def test_invalid_df_raises(df):
    with pytest.raises(ValueError, match="df"):
        StudentSampler(LatentStructure.dense(2, 2, rho=0.1), df)
