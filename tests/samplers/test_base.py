"""The sampler interface: validation, dtypes, params round trips and determinism for every kind."""

import json

import numpy as np
import pytest

from mist_hf.prior import OOD_HARD_FAMILIES, OOMD_FAMILIES, TRAIN_FAMILIES, draw_sampler
from mist_hf.samplers import (
    SAMPLER_KINDS,
    AdditiveNoiseSampler,
    GaussianSampler,
    LatentStructure,
    check_dims,
    check_n,
    sampler_from_params,
    standard_normal,
)

FAMILIES = tuple(dict.fromkeys(TRAIN_FAMILIES + OOMD_FAMILIES + OOD_HARD_FAMILIES + ("spiral", "rotated-discrete")))


@pytest.mark.parametrize("family", FAMILIES)
def test_params_round_trip_and_determinism(family):
    sampler = draw_sampler(family, 3, 2, np.random.default_rng(7))
    params = json.loads(json.dumps(sampler.params()))
    rebuilt = sampler_from_params(params)
    assert rebuilt.mutual_information() == sampler.mutual_information()
    assert (rebuilt.dim_x, rebuilt.dim_y) == (3, 2)
    for dtype in (np.float32, np.float64):
        x0, y0 = sampler.sample(64, np.random.default_rng(8), dtype)
        x1, y1 = rebuilt.sample(64, np.random.default_rng(8), dtype)
        assert x0.dtype == dtype and y0.shape == (64, 2)
        assert x0.tobytes() == x1.tobytes() and y0.tobytes() == y1.tobytes()
        assert np.all(np.isfinite(x0)) and np.all(np.isfinite(y0))
    assert sampler.mutual_information() >= 0
    node, kinds = params, []
    while node is not None:  # every sampler in the tree names its own registered kind
        kinds.append(node["sampler"])
        node = node.get("base")
    assert SAMPLER_KINDS[kinds[0]] is type(sampler) and all(kind in SAMPLER_KINDS for kind in kinds)


def test_float32_normals_have_unit_moments():
    z = standard_normal(np.random.default_rng(0), (1_000_000,), np.float32).astype(float)
    assert abs(z.mean()) < 0.005 and abs(z.std() - 1) < 0.005 and abs(np.mean(z**4) - 3) < 0.05


SAMPLER = GaussianSampler(LatentStructure.dense(2, 2, rho=0.2))


@pytest.mark.parametrize("n", [1, 0, -5, 2.5, "10", True])
def test_bad_n_raises(n):
    with pytest.raises(ValueError, match="n must"):
        SAMPLER.sample(n, np.random.default_rng(0))


def test_bad_rng_and_dtype_raise():
    with pytest.raises(ValueError, match=r"numpy\.random\.Generator"):
        SAMPLER.sample(10, 0)
    with pytest.raises(ValueError, match="dtype"):
        SAMPLER.sample(10, np.random.default_rng(0), np.int64)


@pytest.mark.parametrize(
    "dims, match", [((0, 1), "dim_x"), ((1, 33), "dim_y"), ((-1, 2), "dim_x"), ((2.0, 2), "dim_x")]
)
def test_bad_dims_raise(dims, match):
    with pytest.raises(ValueError, match=match):
        check_dims(*dims)


def test_check_n_minimum():
    assert check_n(2) == 2
    with pytest.raises(ValueError, match="at least 10"):
        check_n(5, minimum=10)


def test_unknown_params_kind_raises():
    with pytest.raises(ValueError, match="unknown sampler kind"):
        sampler_from_params({"sampler": "mixture"})


def test_every_kind_is_registered_once():
    assert {"gaussian", "student", "additive", "discrete", "transformed", "rotated", "spiral"} <= set(SAMPLER_KINDS)
    assert all(cls.kind == kind for kind, cls in SAMPLER_KINDS.items())
    assert len(set(SAMPLER_KINDS.values())) == len(SAMPLER_KINDS)


def test_a_taken_kind_raises():
    with pytest.raises(ValueError, match="sampler kind 'gaussian' is already registered by GaussianSampler"):

        class Another(GaussianSampler):
            kind = "gaussian"

    assert SAMPLER_KINDS["gaussian"] is GaussianSampler


def test_a_subclass_without_its_own_kind_is_not_registered():
    class Narrow(AdditiveNoiseSampler):
        pass

    assert Narrow not in SAMPLER_KINDS.values()
    assert Narrow(1, 1, [0.5]).params()["sampler"] == "additive"


@pytest.mark.parametrize(
    "x_shape, y_shape", [((10, 3), (10, 2)), ((10, 2), (9, 2)), ((10,), (10, 2)), ((10, 2, 1), (10, 2))]
)
def test_log_density_ratio_checks_shapes(x_shape, y_shape):
    with pytest.raises(ValueError, match=r"shapes \(n, 2\) and \(n, 2\)"):
        SAMPLER.log_density_ratio(np.zeros(x_shape), np.zeros(y_shape))


def test_log_density_ratio_is_float64_of_length_n():
    x, y = SAMPLER.sample(50, np.random.default_rng(0), np.float32)
    ratio = SAMPLER.log_density_ratio(x, y)
    assert ratio.shape == (50,) and ratio.dtype == np.float64 and np.all(np.isfinite(ratio))
