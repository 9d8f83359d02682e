"""Manifold embeddings (linear, graph, coil): z recovered exactly, samples on a k-dimensional manifold, finite
float32 samples, round trips, argument errors, and the MI kept (Monte Carlo within 4 standard errors of the
stated MI, 30k points; float32 inputs to the ratio get an extra 0.01 nats of slack)."""

import json

import numpy as np
import pytest
from mc_check import assert_sampler_mc

from mist_hf.samplers import (
    EMBEDDINGS,
    AdditiveNoiseSampler,
    EmbeddedSampler,
    Embedding,
    GaussianSampler,
    LatentStructure,
    StudentSampler,
    TransformedSampler,
    sampler_from_params,
)

N = 30_000
BASES = [
    GaussianSampler(LatentStructure("lvm", 2, 3, k=2, alpha=0.5, beta=0.7, lam=2.0, eta=1.0)),
    TransformedSampler(StudentSampler(LatentStructure.sparse(3, 2, k=2, strength=1.5), df=1.5), "halfcube"),
    AdditiveNoiseSampler(1, 1, eps=[0.3]),
]
DIMS = [(5, 3), (3, 7), (4, 9)]  # embedded dims for the bases above (one side may stay at its intrinsic dim)


@pytest.mark.parametrize("name", EMBEDDINGS)
@pytest.mark.parametrize("k, dim", [(1, 1), (1, 2), (1, 7), (2, 3), (3, 6), (3, 5), (5, 32), (32, 32)])
def test_recover_inverts_forward(name, k, dim):
    rng = np.random.default_rng(k * 100 + dim)
    e = Embedding(name, k, dim, 2.0, rng)
    z = rng.standard_normal((400, k)) * 3
    z[:5] *= 1e5  # far tails too
    x = e.forward(z)
    assert x.shape == (400, dim)
    np.testing.assert_allclose(e.recover(x), z, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", EMBEDDINGS)
def test_samples_lie_on_a_k_dimensional_manifold(name):
    # Locally k-dimensional: the Jacobian of the embedding has rank k everywhere (injective immersion), and for
    # the linear embedding the whole cloud spans only k dimensions.
    rng = np.random.default_rng(4)
    k, dim = 2, 6
    e = Embedding(name, k, dim, 2.0, rng)
    z = rng.standard_normal((50, k)) * 2
    h = 1e-6
    for point in z:
        jac = np.stack([(e.forward((point + h * d)[None]) - e.forward((point - h * d)[None]))[0] for d in np.eye(k)])
        assert np.linalg.matrix_rank(jac / (2 * h), tol=1e-6) == k
    x = e.forward(rng.standard_normal((500, k)))
    s = np.linalg.svd(x - x.mean(0), compute_uv=False)
    if name == "linear":
        assert s[k] < 1e-9 * s[0]
    else:
        assert s[k] > 1e-3 * s[0]  # curved: not inside a k-dimensional subspace


def test_graph_embedding_is_z_and_bent_functions_of_z():
    rng = np.random.default_rng(5)
    e = Embedding("graph", 2, 5, 1.0, rng)
    z = rng.standard_normal((300, 2))
    u = e.forward(z) @ e.q
    np.testing.assert_allclose(u[:, :2], z, atol=1e-12)
    extra = u[:, 2:]
    assert np.all(np.abs(extra) <= 3.0 * np.abs(e.amp) + np.abs(z @ e.b).max() * np.abs(e.amp) + 1e-9)


def test_coil_is_a_double_spiral():
    # |pair| = |z|; z and -z lie on opposite arms (point reflections); the angle turns with |z|.
    rng = np.random.default_rng(6)
    e = Embedding("coil", 1, 2, 1.5, rng)
    z = np.linspace(-30, 30, 601)[:, None]
    pair = e.forward(z) @ e.q
    np.testing.assert_allclose(np.linalg.norm(pair, axis=1), np.abs(z[:, 0]), atol=1e-12)
    np.testing.assert_allclose(pair[::-1], -pair, atol=1e-12)
    angle = np.unwrap(np.arctan2(pair[301:, 1], pair[301:, 0]))
    assert abs(angle[-1] - angle[0]) > 2 * np.pi


@pytest.mark.parametrize("name", EMBEDDINGS)
def test_float32_samples_are_finite_on_heavy_tails(name):
    base = TransformedSampler(StudentSampler(LatentStructure.sparse(3, 3, k=3, strength=3.0), df=1.0), "halfcube")
    x, y = EmbeddedSampler(base, 8, 5, name, 2.0, 1).sample(20_000, np.random.default_rng(3), np.float32)
    assert x.dtype == np.float32 and y.dtype == np.float32
    assert np.all(np.isfinite(x)) and np.all(np.isfinite(y))


@pytest.mark.parametrize("name", EMBEDDINGS)
@pytest.mark.parametrize(
    "base, dims", list(zip(BASES, DIMS, strict=True)), ids=lambda v: str(v) if isinstance(v, tuple) else ""
)
def test_mi_unchanged_by_monte_carlo(name, base, dims):
    sampler = EmbeddedSampler(base, *dims, name, 1.5, 7)
    assert (sampler.dim_x, sampler.dim_y) == dims
    assert sampler.mutual_information() == base.mutual_information()
    assert_sampler_mc(sampler, np.random.default_rng(52), n=N)


@pytest.mark.parametrize("name", EMBEDDINGS)
def test_float32_samples_keep_the_dependence(name):
    """The ratio at float32 samples: within 4 standard errors + 0.01 nats of the stated MI (a strong pair)."""
    base = GaussianSampler(LatentStructure.sparse(2, 2, k=2, strength=5.0))
    sampler = EmbeddedSampler(base, 6, 3, name, 2.0, 8)
    x, y = sampler.sample(N, np.random.default_rng(9), np.float32)
    ratio = sampler.log_density_ratio(x, y)
    assert abs(ratio.mean() - sampler.mutual_information()) <= 4 * ratio.std() / np.sqrt(N) + 0.01


@pytest.mark.parametrize("name", EMBEDDINGS)
def test_params_round_trip(name):
    sampler = EmbeddedSampler(BASES[0], 6, 4, name, 1.0, 9)
    rebuilt = sampler_from_params(json.loads(json.dumps(sampler.params())))
    assert type(rebuilt) is EmbeddedSampler and rebuilt.params() == sampler.params()
    assert rebuilt.mutual_information() == sampler.mutual_information()
    a = sampler.sample(50, np.random.default_rng(1), np.float32)
    b = rebuilt.sample(50, np.random.default_rng(1), np.float32)
    assert all(u.tobytes() == v.tobytes() for u, v in zip(a, b, strict=True))


BASE = BASES[0]  # dims (2, 3)


@pytest.mark.parametrize(
    "args, match",
    [
        ((BASE, 1, 3, "graph", 1.0, 0), "dim_x must be an integer between the base's 2 and 32"),
        ((BASE, 2, 33, "graph", 1.0, 0), "dim_y must be an integer between the base's 3 and 32"),
        ((BASE, 2.0, 3, "graph", 1.0, 0), "dim_x must be an integer"),
        ((BASE, 2, 3, "sphere", 1.0, 0), "unknown embedding 'sphere'"),
        ((BASE, 2, 3, "coil", -0.1, 0), r"strength must be in \[0, 3\]"),
        ((BASE, 2, 3, "coil", 3.5, 0), r"strength must be in \[0, 3\]"),
        ((BASE, 2, 3, "coil", float("inf"), 0), r"strength must be in \[0, 3\]"),
        ((BASE, 2, 3, "coil", None, 0), "strength must be a number"),
        ((BASE, 2, 3, "linear", 1.0, -3), "seed must be an integer"),
        ((BASE, 2, 3, "linear", 1.0, 2**63), "seed must be an integer"),
        ((BASE.params(), 2, 3, "linear", 1.0, 0), "base must be a Sampler"),
    ],
)
def test_invalid_arguments_raise(args, match):
    with pytest.raises(ValueError, match=match):
        EmbeddedSampler(*args)
