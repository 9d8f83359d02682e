"""Dependence strength paths and the target-MI solve (mist_hf.samplers.strength).

What is checked, with its tolerance:

- every kind with a path: t = 0 builds two independent draws (MI exactly 0), t = 1 the sampler itself; the MI is
  non-decreasing on a 41-point grid of t (up to 2e-4 nats, the accuracy of the functional channels' drawn labels:
  the label table uses a coarser grid than the weakened channels) and tends to 0 (below 1e-5 at t = 1e-9); the
  built sampler's label equals ``path.mi(t)``; the solve hits targets from 0.001 to half the MI within 1% relative;
- the labels of the new kinds, independently: the scaled Gaussian against numpy's slogdet of the scaled matrix
  (1e-10 relative); the shared-scale term against mpmath at 50 digits (1e-9 relative); the weak-channel quadrature
  against the Gaussian closed form and a 4x finer grid (0.2%); the uniform-noise formula against the uniform-additive
  closed form (1e-7), the exact plateau form at wide noise (1e-6) and the channel quadrature (5e-5 nats,
  that quadrature's own convergence); every built sampler against a Monte Carlo mean of its log
  density ratio (20k float64 points within 4 standard errors + 0.002 nats, 100k points for the weak regime).
"""

import json
import math

import numpy as np
import pytest
from mc_check import assert_sampler_mc

from mist_hf.families import draw_sampler
from mist_hf.samplers import (
    AdditiveNoiseSampler,
    CorrelatedStudentSampler,
    DiscreteContinuousSampler,
    FunctionalSampler,
    GaussianSampler,
    IndependentPairSampler,
    LatentStructure,
    ScaledFunctionalSampler,
    ScaledGaussianSampler,
    ScaledStudentSampler,
    StudentSampler,
    TargetSampler,
    WeakClassConditionalSampler,
    can_weaken,
    sampler_from_params,
    solve_strength,
    strength_path,
    student_t_correction,
    weaken,
)
from mist_hf.samplers.functional import Channel, channel_mi_quadrature, closed_form_mi, shape_cdf
from mist_hf.samplers.strength import (
    _weak_quadrature,
    canonical_correlations,
    draw_target_mi,
    locate,
    shared_scale_mi,
    solve_increasing_mi,
    target_sampler,
    uniform_noise_mi,
    weak_channel_mi,
)

SAMPLERS = {
    "gaussian-dense": lambda: GaussianSampler(LatentStructure.dense(3, 2, rho=0.4)),
    "gaussian-lvm": lambda: GaussianSampler(LatentStructure("lvm", 4, 3, k=2, alpha=0.5, beta=0.7, lam=1.2, eta=0.8)),
    "gaussian-signed-factor": lambda: draw_sampler("signs-normal-factor", 3, 4, np.random.default_rng(1)),
    "gaussian-chain": lambda: draw_sampler("signs-normal-chain", 2, 3, np.random.default_rng(2)),
    "student-sparse": lambda: StudentSampler(LatentStructure.sparse(3, 3, 2, 1.5), df=2.5),
    "student-identity": lambda: StudentSampler(LatentStructure("lvm", 2, 3), df=1.5),
    "student-signed-pairs": lambda: draw_sampler("signs-student-pairs", 3, 2, np.random.default_rng(3)),
    "functional": lambda: FunctionalSampler(
        4,
        3,
        [
            Channel("cos", 3.0, 0.06, "uniform"),
            Channel("square", 1.0, 0.12, "laplace", m=2),
            Channel("sin", 2.0, 0.25, "gaussian", sign=-1),
        ],
    ),
    "functional-linear": lambda: draw_sampler("highmi-gauss", 2, 2, np.random.default_rng(4)),
    "counts": lambda: draw_sampler("counts-poisson", 3, 3, np.random.default_rng(5)),
    "counts-negbin": lambda: draw_sampler("counts-negbin", 2, 2, np.random.default_rng(6)),
    "rounded": lambda: draw_sampler("rounded-gaussian", 3, 3, np.random.default_rng(7)),
    "class-conditional": lambda: draw_sampler("classcond-gaussian", 3, 2, np.random.default_rng(8)),
    "categorical": lambda: draw_sampler("categorical-dirichlet", 3, 3, np.random.default_rng(9)),
    "additive": lambda: AdditiveNoiseSampler(2, 2, [0.3, 1.2]),
    "discrete": lambda: DiscreteContinuousSampler(2, 2, [3, 5], [0.5, 2.0]),
    "transformed": lambda: draw_sampler("normal-dense-halfcube", 2, 2, np.random.default_rng(10)),
    "signflip": lambda: draw_sampler("signed-nonmono-pairs", 2, 2, np.random.default_rng(11)),
    "rotated": lambda: draw_sampler("rotated-student-sparse-base", 3, 3, np.random.default_rng(12)),
    "spiral": lambda: draw_sampler("spiral-discrete", 3, 2, np.random.default_rng(13)),
    "mixed": lambda: draw_sampler("mixed-normal-lvm-base", 3, 3, np.random.default_rng(14)),
    "coupling-flow": lambda: draw_sampler("mixflow-additive-wiggly", 2, 3, np.random.default_rng(15)),
    "planar-flow": lambda: draw_sampler("mixplanar-nonmono-pairs", 2, 2, np.random.default_rng(16)),
    "embedded": lambda: draw_sampler("manifold-graph", 4, 3, np.random.default_rng(17)),
}
MONOTONE_TOL = 2e-4


@pytest.fixture(scope="module", params=list(SAMPLERS))
def case(request):
    sampler = SAMPLERS[request.param]()
    return request.param, sampler, strength_path(sampler)


def test_every_kind_has_a_path_and_the_ends_are_right(case):
    name, sampler, path = case
    assert path is not None and can_weaken(sampler), name
    assert sampler.mutual_information() > 0.01
    assert path.mi(0.0) == 0.0 and path.mi(1.0) == sampler.mutual_information()
    assert path.build(1.0) is sampler and weaken(sampler, 1.0) is sampler
    zero = path.build(0.0)
    assert isinstance(zero, IndependentPairSampler) and zero.mutual_information() == 0.0
    assert (zero.dim_x, zero.dim_y) == (sampler.dim_x, sampler.dim_y)


def test_mi_is_continuous_and_non_decreasing_in_t(case):
    name, _, path = case
    ts = np.linspace(0.0, 1.0, 41)
    values = np.array([path.mi(float(t)) for t in ts])
    assert np.all(np.diff(values) >= -MONOTONE_TOL), (name, np.diff(values).min())
    assert values[-2] > 0.5 * values[-1] or name.startswith(("functional", "counts", "rounded", "class"))
    assert path.mi(1e-9) < 1e-5, name  # tends to 0 (as t under uniform noise, as t^2 otherwise)


def test_built_samplers_carry_the_path_mi_and_round_trip(case):
    name, sampler, path = case
    for t in (0.07, 0.5, 0.93):
        built = path.build(t)
        assert built.mutual_information() == pytest.approx(path.mi(t), rel=1e-12, abs=1e-15), (name, t)
        rebuilt = sampler_from_params(json.loads(json.dumps(built.params())))
        assert type(rebuilt) is type(built) and rebuilt.params() == built.params()
        assert rebuilt.mutual_information() == built.mutual_information()
        a = built.sample(64, np.random.default_rng(0), np.float32)
        b = rebuilt.sample(64, np.random.default_rng(0), np.float32)
        assert a[0].tobytes() == b[0].tobytes() and a[1].tobytes() == b[1].tobytes()
        assert a[0].shape == (64, sampler.dim_x) and a[1].shape == (64, sampler.dim_y)
        assert np.all(np.isfinite(a[0])) and np.all(np.isfinite(a[1]))


def test_solve_hits_targets_within_one_percent(case):
    name, sampler, path = case
    mi = sampler.mutual_information()
    for target in (1e-3, 1e-2, 0.1, 0.5 * mi):
        if target >= mi:
            continue
        t = solve_strength(sampler, target)
        assert 0 < t < 1
        assert path.build(t).mutual_information() == pytest.approx(target, rel=0.01), (name, target)
    assert solve_strength(sampler, 2 * mi) == 1.0


def test_built_samplers_agree_with_monte_carlo(case):
    name, sampler, path = case
    rng = np.random.default_rng(21)
    for target in (0.05, 0.5 * sampler.mutual_information()):
        built = path.build(path.solve(target))
        x, y = built.sample(20_000, rng)
        ratio = built.log_density_ratio(x, y)
        assert np.all(np.isfinite(ratio)), name
        se = ratio.std(ddof=1) / math.sqrt(ratio.size)
        assert abs(ratio.mean() - built.mutual_information()) <= 4 * se + 0.002, (name, target, ratio.mean(), se)


# ---- the labels of the new kinds, checked a second way ----------------------------------------------------------


def _slogdet_mi(c: np.ndarray, dim_x: int) -> float:
    return 0.5 * (np.linalg.slogdet(c[:dim_x, :dim_x])[1] + np.linalg.slogdet(c[dim_x:, dim_x:])[1]
                  - np.linalg.slogdet(c)[1])  # fmt: skip


@pytest.mark.parametrize("name", ["gaussian-dense", "gaussian-lvm", "gaussian-signed-factor", "gaussian-chain"])
def test_scaled_gaussian_mi_equals_the_log_determinants(name):
    base = SAMPLERS[name]()
    for scale in (0.0, 0.01, 0.3, 0.77, 1.0):
        scaled = ScaledGaussianSampler(base, scale)
        assert scaled.mutual_information() == pytest.approx(_slogdet_mi(scaled.correlation(), base.dim_x),
                                                            rel=1e-10, abs=1e-14)  # fmt: skip
    assert ScaledGaussianSampler(base, 1.0).mutual_information() == pytest.approx(base.mutual_information(), rel=1e-10)
    assert ScaledGaussianSampler(base, 0.0).mutual_information() == 0.0
    rho = canonical_correlations(base.correlation(), base.dim_x)
    assert rho.shape == (min(base.dim_x, base.dim_y),) and np.all((rho >= 0) & (rho < 1))


def test_shared_scale_mi_matches_high_precision_values():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 50

    def exact(df: float, dx: int, dy: int) -> float:
        def c(k: int):
            a = mpmath.mpf(df + k) / 2
            half = mpmath.mpf(df) / 2
            return -mpmath.loggamma(a) + mpmath.loggamma(half) + a * (mpmath.digamma(a) - mpmath.digamma(half))

        return float(c(dx) + c(dy) - c(dx + dy))

    for dx, dy in ((1, 1), (1, 32), (4, 7), (32, 32)):
        for df in (0.5, 1.0, 5.0, 50.0, 199.0, 200.0, 1e3, 1e5, 1e8):
            assert shared_scale_mi(df, dx, dy) == pytest.approx(exact(df, dx, dy), rel=1e-9), (dx, dy, df)
        assert shared_scale_mi(1e12, dx, dy) == pytest.approx(dx * dy / (2 * 1e24), rel=1e-6)
    assert shared_scale_mi(3.0, 2, 5) == student_t_correction(3.0, 2, 5)
    assert shared_scale_mi(math.inf, 2, 5) == 0.0


def test_scaled_student_mi_and_its_two_phases():
    base = SAMPLERS["student-sparse"]()
    path = strength_path(base)
    for scale, df in ((0.5, base.df), (0.0, base.df), (0.0, 40.0), (0.3, 7.0)):
        s = ScaledStudentSampler(base, scale, df)
        gauss = _slogdet_mi(s.dispersion(), base.dim_x)
        assert s.mutual_information() == pytest.approx(gauss + student_t_correction(df, 3, 3), rel=1e-10)
    assert path.split(0.75) == (0.5, base.df) and path.split(0.25) == (0.0, 4 * base.df)
    identity = strength_path(SAMPLERS["student-identity"]())
    assert identity.split(0.5) == (0.0, 4 * 1.5)  # no Gaussian part: the df path on all of (0, 1)
    with pytest.raises(ValueError, match="at least the base"):
        ScaledStudentSampler(base, 0.5, base.df / 2)


@pytest.mark.parametrize(
    "sampler",
    [
        ScaledStudentSampler(StudentSampler(LatentStructure("lvm", 1, 1), df=2.0), 0.0, 8.0),
        ScaledStudentSampler(CorrelatedStudentSampler(SAMPLERS["student-signed-pairs"]().structure, 3.0), 0.2, 3.0),
        ScaledGaussianSampler(SAMPLERS["gaussian-lvm"](), 0.1),
        ScaledFunctionalSampler(FunctionalSampler(1, 1, [Channel("cos", 3.0, 0.06, "gaussian")]), 0.03),
        ScaledFunctionalSampler(FunctionalSampler(1, 1, [Channel("square", 1.0, 0.12, "laplace")]), 0.02),
        ScaledFunctionalSampler(FunctionalSampler(1, 1, [Channel("wave", 2.0, 0.12, "uniform")]), 0.05),
        ScaledFunctionalSampler(FunctionalSampler(1, 1, [Channel("zigzag", 2.0, 0.06, "student")]), 0.04),
        WeakClassConditionalSampler(SAMPLERS["class-conditional"](), 0.1),
    ],
    ids=[
        "student-df",
        "student-scale",
        "gaussian",
        "cos-gauss",
        "square-laplace",
        "wave-uniform",
        "zigzag-t",
        "classcond",
    ],
)
def test_weak_labels_agree_with_monte_carlo(sampler):
    """The weak regime (0.005 to 0.2 nats), 100k points: 4 standard errors are 3 to 10% of the MI."""
    assert 0.003 < sampler.mutual_information() < 0.3
    assert_sampler_mc(sampler, np.random.default_rng(5), n=100_000)


@pytest.mark.parametrize("sigma", [3.0, 10.0, 30.0])
def test_weak_quadrature_matches_the_gaussian_closed_form_and_a_finer_grid(sigma):
    linear = Channel("linear", 1.0, sigma)
    assert _weak_quadrature(linear) == pytest.approx(closed_form_mi(linear), rel=2e-3)
    for shape, a in (("cos", 6.0), ("square", 1.0), ("doublewell", 0.7)):
        for noise in ("gaussian", "laplace"):
            weak = Channel(shape, a, sigma, noise)
            assert _weak_quadrature(weak) == pytest.approx(channel_mi_quadrature(weak, 4 * 40 * sigma), rel=2e-3)


def test_uniform_noise_formula_matches_the_closed_form_and_the_channel_quadrature():
    for sigma in (0.005, 0.1, 0.3, 3.0, 100.0):
        channel = Channel("linear", 1.0, sigma, "uniform", law="uniform")
        assert uniform_noise_mi(channel) == pytest.approx(closed_form_mi(channel), rel=1e-7)
    for channel in (Channel("cos", 6.0, 0.3, "uniform"), Channel("square", 1.0, 3.0, "uniform", m=16),
                    Channel("doublewell", 0.5, 0.12, "uniform"), Channel("zigzag", 3.0, 1.0, "uniform")):  # fmt: skip
        assert uniform_noise_mi(channel) == pytest.approx(channel_mi_quadrature(channel), abs=5e-5)
    with pytest.raises(ValueError, match="uniform noise"):
        uniform_noise_mi(Channel("cos", 1.0, 0.3))


@pytest.mark.parametrize("shape, a, sigma", [("cos", 6.0, 30.0), ("sin", 1.5, 222.0), ("wave", 2.0, 5.0)])
def test_uniform_noise_formula_matches_the_plateau_form(shape, a, sigma):
    """When the noise window 2w is wider than the range of U = g(aT), I = int H_b(F_U(s)) ds / (2 w) exactly (H_b the
    binary entropy): a million-point trapezoid of that form, computed here from the CDF alone."""
    s = np.linspace(-1.0, 1.0, 1_000_001)
    f = shape_cdf(shape, a, "normal", 1, s)
    with np.errstate(divide="ignore", invalid="ignore"):
        hb = np.nan_to_num(-(f * np.log(f) + (1 - f) * np.log1p(-f)))
    plateau = float(np.sum(0.5 * (hb[1:] + hb[:-1]) * np.diff(s))) / (2 * math.sqrt(3) * sigma)
    assert uniform_noise_mi(Channel(shape, a, sigma, "uniform")) == pytest.approx(plateau, rel=1e-6)


def test_weak_channel_mi_ends_and_sign():
    channel = Channel("sin", 2.0, 0.25, "laplace", sign=-1)
    assert weak_channel_mi(channel, 0.0) == 0.0
    assert weak_channel_mi(channel, 1.0) == pytest.approx(channel_mi_quadrature(channel), abs=1e-9)
    assert weak_channel_mi(channel, 0.3) == weak_channel_mi(Channel("sin", 2.0, 0.25, "laplace"), 0.3)


def test_sequential_weakening_keeps_the_first_blocks():
    assert locate(1.0, 3) == (2, 1.0) and locate(0.5, 2) == (1, 0.0) and locate(0.0, 4) == (0, 0.0)
    j, tau = locate(0.6, 3)
    assert j == 1 and tau == pytest.approx(0.8)
    base = SAMPLERS["functional"]()
    weak = ScaledFunctionalSampler(base, 0.6)
    assert weak.channels[0] == base.channels[0] and len(weak.channels) == 2
    assert weak.channels[1].sigma == pytest.approx(base.channels[1].sigma / 0.8)
    classcond = WeakClassConditionalSampler(SAMPLERS["class-conditional"](), 0.75)
    assert classcond.strengths.tolist() == pytest.approx([1.0, 0.5])


# ---- the solve and the target draw ------------------------------------------------------------------------------


def test_solve_increasing_mi_on_known_curves():
    for power in (0.5, 1.0, 2.0, 4.0):
        t = solve_increasing_mi(lambda t, p=power: 3.0 * t**p, 0.01, 3.0, rtol=1e-6)
        assert 3.0 * t**power == pytest.approx(0.01, rel=1e-6)
    kinked = lambda t: 2.0 * t if t < 0.5 else 1.0 + 10 * (t - 0.5)  # noqa: E731
    assert kinked(solve_increasing_mi(kinked, 3.0, 6.0)) == pytest.approx(3.0, rel=0.01)
    assert solve_increasing_mi(lambda t: t, 2.0, 1.0) == 1.0
    with pytest.raises(ValueError, match="target must be > 0"):
        solve_increasing_mi(lambda t: t, 0.0, 1.0)


def test_draw_target_mi_is_log_uniform_and_consumes_one_draw():
    rng = np.random.default_rng(0)
    draws = np.array([draw_target_mi(2.0, rng, 1e-3) for _ in range(4000)])
    assert draws.min() >= 1e-3 and draws.max() <= 2.0
    quarters = np.histogram(np.log(draws), bins=np.linspace(np.log(1e-3), np.log(2.0), 5))[0] / draws.size
    assert np.all(np.abs(quarters - 0.25) < 4 * math.sqrt(0.25 * 0.75 / draws.size))
    assert draw_target_mi(5.0, rng, 1e-3, high=0.2) <= 0.2
    a, b = np.random.default_rng(1), np.random.default_rng(1)
    assert draw_target_mi(1e-4, a, 1e-3) == 1e-4 and a.random() == (b.random(), b.random())[1]


def test_target_sampler_records_target_and_strength():
    base = SAMPLERS["gaussian-lvm"]()
    s = target_sampler(base, np.random.default_rng(3), 1e-3)
    assert isinstance(s, TargetSampler) and 0 < s.t < 1
    assert s.mutual_information() == pytest.approx(s.target_mi, rel=0.01)
    rebuilt = sampler_from_params(json.loads(json.dumps(s.params())))
    assert rebuilt.params() == s.params() and rebuilt.mutual_information() == s.mutual_information()
    low = GaussianSampler(LatentStructure.dense(1, 1, rho=0.01))  # MI 5e-5: kept as drawn
    kept = target_sampler(low, np.random.default_rng(3), 1e-3)
    assert kept.base is low and kept.t == 1.0 and kept.target_mi == low.mutual_information()
    zero = IndependentPairSampler(base, base)
    assert not can_weaken(zero) and strength_path(zero) is None
    assert target_sampler(zero, np.random.default_rng(0), 1e-3).t == 1.0  # MI 0: nothing to weaken
    with pytest.raises(ValueError, match="no strength path"):
        weaken(zero, 0.5)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: ScaledGaussianSampler(SAMPLERS["student-sparse"](), 0.5), "Gaussian sampler"),
        (lambda: ScaledGaussianSampler(SAMPLERS["gaussian-dense"](), 1.5), r"scale must be in \[0.0, 1.0\]"),
        (lambda: ScaledStudentSampler(SAMPLERS["gaussian-dense"](), 0.5, 3.0), "Student sampler"),
        (lambda: ScaledFunctionalSampler(SAMPLERS["functional"](), 0.0), "scale must be > 0"),
        (lambda: ScaledFunctionalSampler(SAMPLERS["counts"](), 0.5), "FunctionalSampler"),
        (lambda: WeakClassConditionalSampler(SAMPLERS["counts"](), 0.5), "ClassConditionalSampler"),
        (lambda: TargetSampler(SAMPLERS["counts"](), 0.5, -1.0), "target_mi must be"),
        (lambda: TargetSampler(SAMPLERS["counts"](), "0.5", 1.0), "scale must be a number"),
        (lambda: weaken(SAMPLERS["counts"](), -0.1), "scale must be in"),
    ],
)
def test_invalid_arguments_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()
