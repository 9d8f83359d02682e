"""Random invertible maps inside X and inside Y (mixed, coupling flow, planar flow): exact inverses, coordinate
mixing, finite float32 samples, round trips, argument errors, and the MI kept (Monte Carlo within 4 standard
errors of the stated MI, 30k points; float32 inputs to the ratio get an extra 0.01 nats of slack)."""

import json

import numpy as np
import pytest
from mc_check import assert_sampler_mc

from mist_hf.samplers import (
    AdditiveNoiseSampler,
    CouplingFlow,
    CouplingFlowSampler,
    GaussianSampler,
    LatentStructure,
    MixedMap,
    MixedSampler,
    PlanarFlow,
    PlanarFlowSampler,
    StudentSampler,
    TransformedSampler,
    random_invertible,
    sampler_from_params,
    solve_increasing,
)

N = 30_000
MAPS = {
    "mixed": lambda dim, rng: MixedMap(dim, 3.0, 1.0, rng),
    "flow": lambda dim, rng: CouplingFlow(dim, 4, 1.0, rng),
    "planar": lambda dim, rng: PlanarFlow(dim, 6, 2.5, rng),
}
SAMPLERS = {
    "mixed": lambda base, seed: MixedSampler(base, 2.5, 1.0, seed),
    "flow": lambda base, seed: CouplingFlowSampler(base, 3, 0.8, seed),
    "planar": lambda base, seed: PlanarFlowSampler(base, 5, 2.0, seed),
}
BASES = [
    GaussianSampler(LatentStructure("lvm", 3, 4, k=2, alpha=0.5, beta=0.7, lam=2.0, eta=1.0)),
    TransformedSampler(StudentSampler(LatentStructure.sparse(3, 2, k=2, strength=1.5), df=1.5), "halfcube"),
    AdditiveNoiseSampler(1, 5, eps=[0.3]),
    TransformedSampler(GaussianSampler(LatentStructure.dense(1, 1, rho=0.45)), "wiggly"),
]


def test_solve_increasing_inverts_a_monotone_map():
    t = np.linspace(-50, 50, 1001)
    c = -0.8
    v = t + c * np.tanh(t)
    got = solve_increasing(lambda s: s + c * np.tanh(s), lambda s: 1 + c * (1 - np.tanh(s) ** 2), v, v - 1, v + 1)
    np.testing.assert_allclose(got, t, atol=1e-10)


def test_random_invertible_matrix_has_bounded_singular_values_and_its_inverse():
    a, a_inv = random_invertible(9, 1.0, np.random.default_rng(0))
    s = np.linalg.svd(a, compute_uv=False)
    assert np.all((s >= np.exp(-1.0) - 1e-12) & (s <= np.exp(1.0) + 1e-12))
    assert s.max() / s.min() > 1.5  # not orthogonal
    np.testing.assert_allclose(a @ a_inv, np.eye(9), atol=1e-12)


@pytest.mark.parametrize("name", MAPS)
@pytest.mark.parametrize("dim", [1, 2, 5, 32])
def test_inverse_undoes_forward(name, dim):
    rng = np.random.default_rng(dim)
    m = MAPS[name](dim, rng)
    x = rng.standard_normal((500, dim)) * 3
    x[:5] *= 1e4  # far tails too
    np.testing.assert_allclose(m.inverse(m.forward(x)), x, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", MAPS)
def test_maps_mix_coordinates_and_are_not_orthogonal(name):
    # The rank of output column 0 depends on several input columns (no per-column map undoes it), and the map
    # does not preserve all distances (it is not a rotation).
    rng = np.random.default_rng(2)
    m = MAPS[name](4, rng)
    x = rng.standard_normal((3000, 4))
    out = m.forward(x)
    rank = lambda v: np.argsort(np.argsort(v))  # noqa: E731
    assert max(abs(np.corrcoef(rank(x[:, j]), rank(out[:, 0]))[0, 1]) for j in range(4)) < 0.95
    d_in = np.linalg.norm(x[1:] - x[:-1], axis=1)
    d_out = np.linalg.norm(out[1:] - out[:-1], axis=1)
    assert np.std(np.log(d_out / d_in)) > 0.05


@pytest.mark.parametrize("name", MAPS)
def test_forward_keeps_the_dtype_and_is_finite_on_heavy_tails(name):
    rng = np.random.default_rng(3)
    base = TransformedSampler(StudentSampler(LatentStructure.sparse(6, 6, k=3, strength=3.0), df=1.0), "halfcube")
    x, y = SAMPLERS[name](base, 4).sample(20_000, rng, np.float32)
    assert x.dtype == np.float32 and y.dtype == np.float32
    assert np.all(np.isfinite(x)) and np.all(np.isfinite(y))


@pytest.mark.parametrize("name", SAMPLERS)
@pytest.mark.parametrize("base", BASES, ids=lambda b: f"{type(b).__name__}-{b.dim_x}x{b.dim_y}")
def test_mi_unchanged_by_monte_carlo(name, base):
    sampler = SAMPLERS[name](base, 5)
    assert sampler.mutual_information() == base.mutual_information()
    assert_sampler_mc(sampler, np.random.default_rng(51), n=N)


@pytest.mark.parametrize("name", SAMPLERS)
def test_float32_samples_keep_the_dependence(name):
    """The ratio at float32 samples: within 4 standard errors + 0.01 nats of the stated MI (a strong pair)."""
    base = GaussianSampler(LatentStructure.sparse(3, 3, k=3, strength=5.0))  # 3 pairs, about 4.9 nats
    sampler = SAMPLERS[name](base, 6)
    x, y = sampler.sample(N, np.random.default_rng(7), np.float32)
    ratio = sampler.log_density_ratio(x, y)
    mi = sampler.mutual_information()
    assert abs(ratio.mean() - mi) <= 4 * ratio.std() / np.sqrt(N) + 0.01


@pytest.mark.parametrize("name", SAMPLERS)
def test_params_round_trip(name):
    sampler = SAMPLERS[name](BASES[0], 9)
    rebuilt = sampler_from_params(json.loads(json.dumps(sampler.params())))
    assert type(rebuilt) is type(sampler) and rebuilt.params() == sampler.params()
    assert rebuilt.mutual_information() == sampler.mutual_information()
    a = sampler.sample(50, np.random.default_rng(1), np.float32)
    b = rebuilt.sample(50, np.random.default_rng(1), np.float32)
    assert all(u.tobytes() == v.tobytes() for u, v in zip(a, b, strict=True))


BASE = BASES[0]


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: MixedSampler(BASE, -0.1, 1.0, 0), "strength must be in"),
        (lambda: MixedSampler(BASE, 11.0, 1.0, 0), "strength must be in"),
        (lambda: MixedSampler(BASE, float("nan"), 1.0, 0), "strength must be in"),
        (lambda: MixedSampler(BASE, "1", 1.0, 0), "strength must be a number"),
        (lambda: MixedSampler(BASE, 1.0, -0.5, 0), "spread must be in"),
        (lambda: MixedSampler(BASE, 1.0, 3.5, 0), "spread must be in"),
        (lambda: MixedSampler(BASE, 1.0, 1.0, -1), "seed must be an integer"),
        (lambda: MixedSampler(BASE, 1.0, 1.0, 2**63), "seed must be an integer"),
        (lambda: MixedSampler(BASE, 1.0, 1.0, 1.5), "seed must be an integer"),
        (lambda: MixedSampler(BASE.params(), 1.0, 1.0, 0), "base must be a Sampler"),
        (lambda: CouplingFlowSampler(BASE, 0, 0.5, 0), "depth must be an integer"),
        (lambda: CouplingFlowSampler(BASE, 9, 0.5, 0), "depth must be an integer"),
        (lambda: CouplingFlowSampler(BASE, 2.0, 0.5, 0), "depth must be an integer"),
        (lambda: CouplingFlowSampler(BASE, True, 0.5, 0), "depth must be an integer"),
        (lambda: CouplingFlowSampler(BASE, 2, 2.5, 0), "strength must be in"),
        (lambda: CouplingFlowSampler(BASE, 2, -1.0, 0), "strength must be in"),
        (lambda: PlanarFlowSampler(BASE, 2, 4.5, 0), "strength must be in"),
        (lambda: PlanarFlowSampler(BASE, 2, 1.0, "7"), "seed must be an integer"),
    ],
)
def test_invalid_arguments_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_mixed_one_column_side_is_a_monotone_nonlinear_map():
    base = GaussianSampler(LatentStructure.dense(1, 2, rho=0.3))
    sampler = MixedSampler(base, 3.0, 1.0, seed=11)
    t = np.linspace(-4, 4, 801)[:, None]
    out = sampler.map_x.forward(t)[:, 0]
    slope = np.diff(out)
    assert np.all(slope > 0) or np.all(slope < 0)
    assert np.std(slope) / abs(np.mean(slope)) > 0.05  # not affine
