"""The ``target`` wrapper: composed names take the base's category and held-out state, the draw weakens the base to a
target log-uniform on [0.001, the drawn MI] hit within 1%, the draw order (base first, then one uniform), round
trips, and, on a handful of draws, the label against a Monte Carlo mean of the log density ratio (20k points, within 4
standard errors + 0.002 nats)."""

import json

import numpy as np
import pytest
from mc_check import assert_mc_mi

from mist_hf.families import WRAPPERS, draw_sampler, get_family
from mist_hf.families.target import TARGET_MI_LOW
from mist_hf.prior import v3_training_families
from mist_hf.samplers import TargetSampler, sampler_from_params


@pytest.mark.parametrize(
    "name, category, held_out",
    [
        ("target-normal-dense-base", "paper", False),
        ("target-rotated", "paper", False),
        ("target-spiral-normal-lvm-base", "paper", True),
        ("target-signed-copies-noisy", "copies", False),
        ("target-lownoise-zigzag", "lownoise", True),
        ("target-mixplanar", "mixing", True),
    ],
)
def test_composed_names_take_the_base_category(name, category, held_out):
    family = get_family(name)
    assert (family.category, family.held_out) == (category, held_out)
    assert "target" in WRAPPERS and family.description.endswith(WRAPPERS["target"].description)


def test_every_v3_target_family_hits_its_target():
    families, _ = v3_training_families()
    names = [f for f in families if f.startswith("target-")]
    assert len(names) > 50
    for i, name in enumerate(names):
        dims = ((2, 2), (3, 2), (12, 7))[i % 3] if get_family(name).min_dim > 1 else ((1, 1), (3, 2), (12, 7))[i % 3]
        sampler = draw_sampler(name, *dims, np.random.default_rng(100 + i))
        assert isinstance(sampler, TargetSampler), name
        plain = draw_sampler(name.removeprefix("target-"), *dims, np.random.default_rng(100 + i))
        drawn = plain.mutual_information()
        if drawn <= TARGET_MI_LOW:
            assert sampler.t == 1.0 and sampler.base.params() == plain.params()
            continue
        assert TARGET_MI_LOW <= sampler.target_mi <= drawn
        assert sampler.mutual_information() == pytest.approx(sampler.target_mi, rel=0.01), name
        assert sampler.mutual_information() <= drawn * 1.01


def test_the_draw_is_the_base_then_one_uniform():
    a = draw_sampler("target-signs-normal-pairs", 4, 4, np.random.default_rng(5))
    rng = np.random.default_rng(5)
    base = draw_sampler("signs-normal-pairs", 4, 4, rng)
    u = rng.random()
    expected = np.exp(np.log(TARGET_MI_LOW) + u * (np.log(base.mutual_information()) - np.log(TARGET_MI_LOW)))
    assert a.target_mi == pytest.approx(expected, rel=1e-12)
    assert a.base.params()["base"] == base.params()  # the scaled sampler's base is the drawn one


def test_targets_are_log_uniform_below_the_drawn_mi():
    targets = []
    for seed in range(300):
        s = draw_sampler("target-highmi-gauss", 1, 1, np.random.default_rng(seed))
        plain = draw_sampler("highmi-gauss", 1, 1, np.random.default_rng(seed))
        targets.append(np.log(s.target_mi / TARGET_MI_LOW) / np.log(plain.mutual_information() / TARGET_MI_LOW))
    shares = np.histogram(targets, bins=4, range=(0, 1))[0] / len(targets)
    assert np.all(np.abs(shares - 0.25) < 4 * np.sqrt(0.25 * 0.75 / len(targets))), shares


@pytest.mark.parametrize(
    "name",
    [
        "target-normal-sparse-base",
        "target-sharedscale-t",
        "target-lownoise-even",
        "target-copies-exact",
        "target-flags-continuous",
        "target-manifold-graph",
        "target-counts-poisson",
    ],
)
def test_labels_agree_with_monte_carlo_and_round_trip(name):
    sampler = draw_sampler(name, 2, 2, np.random.default_rng(11))
    rebuilt = sampler_from_params(json.loads(json.dumps(sampler.params())))
    assert rebuilt.params() == sampler.params() and rebuilt.mutual_information() == sampler.mutual_information()
    x, y = sampler.sample(20_000, np.random.default_rng(12))
    ratio = sampler.log_density_ratio(x, y)
    assert_mc_mi(sampler.mutual_information(), ratio, n_se=4.0 + 0.002 / max(ratio.std() / 141.4, 1e-9))
    xf, yf = sampler.sample(1000, np.random.default_rng(13), np.float32)
    assert xf.dtype == np.float32 and np.isfinite(xf).all() and np.isfinite(yf).all()
