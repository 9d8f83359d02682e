"""mist_hf.evaluation.symmetry: every transformation keeps MI, and the measurement sees a model that is not
invariant."""

import numpy as np
import pytest
import torch
from helpers import TINY

from mist_hf import MistConfig, MistModel
from mist_hf.evaluation.symmetry import SYMMETRIES, symmetry_deviations


def model(**kwargs):
    torch.manual_seed(0)
    return MistModel(MistConfig(**TINY, **kwargs)).eval()


def pairs(count=4, n=120):
    rng = np.random.default_rng(0)
    out = []
    for _ in range(count):
        x = rng.normal(size=(n, 3))
        y = np.c_[x[:, :1] - 0.5 * x[:, 1:2] + rng.normal(size=(n, 1)), rng.standard_t(2, size=(n, 1))]
        out.append((x, y))
    return out


def test_transformations_keep_the_ranks_up_to_order_and_sign():
    rng = np.random.default_rng(1)
    x, y = pairs(1)[0]
    for name, fn in SYMMETRIES.items():
        x2, y2 = fn(x, y, rng)
        if name == "swap":
            x2, y2 = y2, x2
        assert x2.shape == x.shape and y2.shape == y.shape and np.isfinite(x2).all() and np.isfinite(y2).all()
        if name in ("increasing maps", "decreasing maps"):
            for a, b in ((x, x2), (y, y2)):
                for j in range(a.shape[1]):
                    rho = np.corrcoef(np.argsort(np.argsort(a[:, j])), np.argsort(np.argsort(b[:, j])))[0, 1]
                    assert abs(abs(rho) - 1) < 1e-12  # strictly monotone: the ranks agree or are reversed
                    assert name == "decreasing maps" or rho > 0


def test_a_v2_model_is_invariant_and_a_v1_style_model_is_not_under_decreasing_maps():
    v2 = symmetry_deviations(pairs(), model(sign_canonical=True, symmetrize="canonical"))
    assert set(v2) == set(SYMMETRIES) and all(v["count"] == 4 for v in v2.values())
    for name, values in v2.items():
        assert values["max"] < 1e-4 and values["max_interval"] < 1e-4, (name, values)
    v1 = symmetry_deviations(pairs(), model(), symmetries=["decreasing maps", "increasing maps"])
    assert v1["decreasing maps"]["max"] > 1e-3 and v1["increasing maps"]["max"] < 1e-4


def test_worst_names_the_sample_that_moved_most():
    """``worst`` indexes the given pairs, refused ones included: recomputed here from the same transformations (the
    symmetry's draws from ``default_rng(seed)``, in order) and per-sample estimates."""
    from mist_hf import estimate_mi_batch

    v1 = model()
    good = pairs(3)
    samples = [(np.ones((120, 2)), good[0][1]), *good]  # a refused sample first shifts every index by one
    report = symmetry_deviations(samples, v1, seed=5, symmetries=["decreasing maps"])["decreasing maps"]
    rng = np.random.default_rng(5)
    moved = [SYMMETRIES["decreasing maps"](x, y, rng) for x, y in samples]
    before = estimate_mi_batch(samples, v1, refused="none")
    after = estimate_mi_batch(moved, v1, refused="none")
    change = [abs(a.mi - b.mi) if a is not None and b is not None else -1.0 for a, b in zip(before, after, strict=True)]
    assert report["refused"] == 1 and report["worst"] == int(np.argmax(change)) and report["worst"] >= 1


def test_unknown_symmetry_raises():
    with pytest.raises(ValueError, match="unknown symmetry"):
        symmetry_deviations(pairs(1), model(), symmetries=["reflection"])


def test_refused_samples_are_left_out_and_counted():
    good = pairs(2)
    constant = (np.ones((120, 2)), good[0][1])
    report = symmetry_deviations([*good, constant], model(sign_canonical=True), symmetries=["row order"])
    assert report["row order"]["count"] == 2 and report["row order"]["refused"] == 1
