"""Signed correlation structures: their matrices, MI formulas, samples, Monte Carlo checks, round trips, errors.

The Monte Carlo checks compare the stated MI (determinant lemma for the factor model, Markov property for the
chain, plus the Student-t correction) with the mean of log p(x, y) - log p(x) - log p(y) from scipy's densities of
the full matrix C, within 4 standard errors (30k float64 points; the labels are closed forms, so no slack).
"""

import json

import numpy as np
import pytest
from mc_check import assert_sampler_mc

from mist_hf.samplers import (
    ChainStructure,
    CorrelatedGaussianSampler,
    CorrelatedStudentSampler,
    SignedFactorStructure,
    sampler_from_params,
    structure_from_params,
)
from mist_hf.samplers.correlated import MIN_CHI2_HALF

N_MC = 30_000


def _factor(dim_x, dim_y, r, k, seed):
    rng = np.random.default_rng(seed)
    d = dim_x + dim_y
    return SignedFactorStructure(
        dim_x, dim_y, rng.normal(size=(d, r)), rng.uniform(0.2, 1.0, d),
        rng.choice(dim_x, k, replace=False), rng.choice(dim_y, k, replace=False),
        rng.uniform(-3, 3, k), rng.uniform(-3, 3, k),
    )  # fmt: skip


def _chain(dim_x, dim_y, seed):
    rng = np.random.default_rng(seed)
    d = dim_x + dim_y
    return ChainStructure(dim_x, dim_y, rng.permutation(d), rng.uniform(0.3, 0.97, d - 1) * rng.choice([-1, 1], d - 1))


def _slogdet_mi(c, dim_x):
    ld = [np.linalg.slogdet(m)[1] for m in (c[:dim_x, :dim_x], c[dim_x:, dim_x:], c)]
    return 0.5 * (ld[0] + ld[1] - ld[2])


STRUCTURES = [
    _factor(1, 1, 1, 0, 0),
    _factor(1, 1, 0, 1, 1),
    _factor(3, 5, 2, 2, 2),
    _factor(8, 8, 3, 8, 3),
    _factor(32, 32, 3, 20, 4),
    _chain(1, 1, 5),
    _chain(3, 4, 6),
    _chain(16, 16, 7),
]
IDS = [f"{s.kind}-{s.dim_x}x{s.dim_y}-{i}" for i, s in enumerate(STRUCTURES)]


def test_factor_correlation_is_the_normalised_factor_covariance():
    s = SignedFactorStructure(2, 1, [[1.0], [-2.0], [0.5]], [1.0, 0.5, 2.0], [1], [0], [3.0], [-1.0])
    cov = np.array([[1.0, -2.0, 0.5], [-2.0, 4.0, -1.0], [0.5, -1.0, 0.25]]) + np.diag([1.0, 0.25, 4.0])
    cov[1, 1] += 9.0
    cov[2, 2] += 1.0
    cov[1, 2] += -3.0
    cov[2, 1] += -3.0
    std = np.sqrt(np.diag(cov))
    np.testing.assert_allclose(s.correlation(), cov / np.outer(std, std), atol=1e-14)
    assert s.correlation()[1, 2] < 0 and s.correlation()[0, 1] < 0  # signed inside X and across


def test_chain_correlation_is_the_product_of_steps():
    s = ChainStructure(2, 1, [2, 0, 1], [-0.5, 0.8])  # chain Y0 -> X0 -> X1
    expected = np.array([[1.0, 0.8, -0.5], [0.8, 1.0, -0.4], [-0.5, -0.4, 1.0]])
    np.testing.assert_allclose(s.correlation(), expected, atol=1e-14)
    assert s.gaussian_mi() == pytest.approx(-0.5 * np.log(1 - 0.25), abs=1e-14)  # Y0 -- X0 is the only link


@pytest.mark.parametrize("structure", STRUCTURES, ids=IDS)
def test_mi_formula_matches_the_log_determinants(structure):
    assert structure.gaussian_mi() == pytest.approx(_slogdet_mi(structure.correlation(), structure.dim_x), abs=1e-9)


def test_no_factor_means_independence():
    assert SignedFactorStructure(2, 3, [[]] * 5, np.ones(5)).gaussian_mi() == 0.0


@pytest.mark.parametrize("structure", [STRUCTURES[2], STRUCTURES[6]], ids=["factor", "chain"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sample_covariance_matches(structure, dtype):
    z = structure.sample_standard(200_000, np.random.default_rng(8), np.dtype(dtype))
    assert z.dtype == dtype
    np.testing.assert_allclose(np.cov(z.T), structure.correlation(), atol=0.015)


@pytest.mark.parametrize("structure", STRUCTURES, ids=IDS)
def test_gaussian_monte_carlo_agrees(structure):
    assert_sampler_mc(CorrelatedGaussianSampler(structure), np.random.default_rng(9), n=N_MC)


@pytest.mark.parametrize("df", [0.6, 1.0, 7.0])
@pytest.mark.parametrize("structure", [STRUCTURES[2], STRUCTURES[4], STRUCTURES[6]], ids=["f3x5", "f32x32", "c3x4"])
def test_student_monte_carlo_agrees(structure, df):
    assert_sampler_mc(CorrelatedStudentSampler(structure, df), np.random.default_rng(10), n=N_MC)


def test_student_is_finite_in_float32_even_for_tiny_df():
    # df = 0.05 draws Gamma(0.025) values that underflow to 0: the clip keeps every float32 sample finite.
    sampler = CorrelatedStudentSampler(STRUCTURES[3], 0.05)
    x, y = sampler.sample(20_000, np.random.default_rng(11), np.float32)
    assert np.isfinite(x).all() and np.isfinite(y).all()
    assert max(np.abs(x).max(), np.abs(y).max()) <= np.sqrt(0.025 / MIN_CHI2_HALF) * 10
    x, y = CorrelatedStudentSampler(STRUCTURES[4], 0.5).sample(5000, np.random.default_rng(12), np.float32)
    assert np.isfinite(x).all() and np.isfinite(y).all()


@pytest.mark.parametrize("structure", [STRUCTURES[3], STRUCTURES[6]], ids=["factor", "chain"])
def test_round_trip(structure):
    for sampler in (CorrelatedGaussianSampler(structure), CorrelatedStudentSampler(structure, 2.5)):
        params = json.loads(json.dumps(sampler.params()))
        rebuilt = sampler_from_params(params)
        assert type(rebuilt) is type(sampler)
        assert rebuilt.mutual_information() == sampler.mutual_information()
        assert rebuilt.params() == sampler.params()
        samples = sampler.sample(50, np.random.default_rng(13)), rebuilt.sample(50, np.random.default_rng(13))
        for a, b in zip(*samples, strict=True):
            np.testing.assert_array_equal(a, b)


def test_student_mi_adds_the_correction():
    from mist_hf.samplers import student_t_correction

    s = STRUCTURES[2]
    assert CorrelatedStudentSampler(s, 3.0).mutual_information() == pytest.approx(
        s.gaussian_mi() + student_t_correction(3.0, 3, 5)
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(dim_x=0, dim_y=1, loadings=[[1.0]], noise=[1.0]), "dim_x"),
        (dict(dim_x=1, dim_y=1, loadings=[[1.0]], noise=[1.0, 1.0]), "loadings"),
        (dict(dim_x=1, dim_y=1, loadings=[1.0, 1.0], noise=[1.0, 1.0]), "loadings"),
        (dict(dim_x=1, dim_y=1, loadings=[[1.0], [np.nan]], noise=[1.0, 1.0]), "loadings"),
        (dict(dim_x=1, dim_y=1, loadings=[[1.0], [1.0]], noise=[1.0]), "noise"),
        (dict(dim_x=1, dim_y=1, loadings=[[1.0], [1.0]], noise=[1.0, 0.0]), "noise"),
        (dict(dim_x=1, dim_y=1, loadings=[[1.0], [1.0]], noise=[1.0, np.inf]), "noise"),
        (dict(dim_x=1, dim_y=2, loadings=[[]] * 3, noise=[1.0] * 3, pair_x=[0, 0], pair_y=[0, 1]), "pairs"),
        (dict(dim_x=2, dim_y=2, loadings=[[]] * 4, noise=[1.0] * 4, pair_x=[0, 0], pair_y=[0, 1]), "pair_x"),
        (dict(dim_x=2, dim_y=2, loadings=[[]] * 4, noise=[1.0] * 4, pair_x=[0], pair_y=[2]), "pair_y"),
        (dict(dim_x=2, dim_y=2, loadings=[[]] * 4, noise=[1.0] * 4, pair_x=[0.5], pair_y=[1]), "pair_x"),
        (dict(dim_x=2, dim_y=2, loadings=[[]] * 4, noise=[1.0] * 4, pair_x=[0], pair_y=[1], pair_a=[]), "pair_a"),
        (dict(dim_x=2, dim_y=2, loadings=[[]] * 4, noise=[1.0] * 4, pair_x=[0], pair_y=[1], pair_a=[1.0]), "pair_b"),
    ],
)
def test_invalid_factor_structure_raises(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SignedFactorStructure(**kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(dim_x=1, dim_y=33, order=list(range(34)), phi=[0.5] * 33), "dim_y"),
        (dict(dim_x=1, dim_y=2, order=[0, 1, 1], phi=[0.5, 0.5]), "order"),
        (dict(dim_x=1, dim_y=2, order=[0, 1, 3], phi=[0.5, 0.5]), "order"),
        (dict(dim_x=1, dim_y=2, order=[0, 1], phi=[0.5, 0.5]), "order"),
        (dict(dim_x=1, dim_y=2, order=[0, 1, 2], phi=[0.5]), "phi"),
        (dict(dim_x=1, dim_y=2, order=[0, 1, 2], phi=[0.5, 1.0]), "phi"),
        (dict(dim_x=1, dim_y=2, order=[0, 1, 2], phi=[0.5, np.nan]), "phi"),
    ],
)
def test_invalid_chain_structure_raises(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ChainStructure(**kwargs)


@pytest.mark.parametrize("df", [0.0, -1.0, float("inf"), float("nan"), "3", True])
def test_invalid_df_raises(df):
    with pytest.raises(ValueError, match="df"):
        CorrelatedStudentSampler(STRUCTURES[0], df)


def test_invalid_structure_raises():
    with pytest.raises(ValueError, match="structure"):
        CorrelatedGaussianSampler(np.eye(2))
    with pytest.raises(ValueError, match="structure"):
        CorrelatedStudentSampler("factor", 2.0)
    with pytest.raises(ValueError, match="unknown signed structure kind"):
        structure_from_params({"kind": "toeplitz"})
