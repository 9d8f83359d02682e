"""mist_hf.prior, the meta-distribution (the prior over joint distributions), and the splits: composition, sizes,
determinism, no leaks and no collisions."""

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mist_hf.prior import (
    IMD_FAMILIES,
    OOD_HARD_FAMILIES,
    OOMD_FAMILIES,
    PAPER_N_GRID,
    PAPER_TRAIN_FAMILIES,
    SPLITS,
    TRAIN_FAMILIES,
    V2_CATEGORIES,
    V2_CATEGORY_WEIGHTS,
    V2_FAMILY_WEIGHTS,
    SplitSpec,
    draw_n,
    draw_sampler,
    example_seed,
    generate_example,
    get_split,
    v2_training_families,
)
from mist_hf.samplers import sampler_from_params
from mist_hf.samplers.verify import monte_carlo_mi


def test_paper_grid_and_sizes():
    assert PAPER_N_GRID == (
        10,
        35,
        61,
        87,
        113,
        138,
        164,
        190,
        216,
        242,
        267,
        293,
        319,
        345,
        371,
        396,
        422,
        448,
        474,
        500,
    )
    assert SPLITS["train"].size == 625_000
    assert SPLITS["test_imd"].size == 20 * 6 * 9
    assert SPLITS["test_oomd"].size == 20 * 7 * 9
    assert len(PAPER_TRAIN_FAMILIES) == 16


def test_no_oomd_or_ood_hard_family_in_training_or_validation():
    seen = set(SPLITS["train"].families) | set(SPLITS["validation"].families)
    assert not seen & set(OOMD_FAMILIES)
    assert not seen & set(OOD_HARD_FAMILIES)
    assert not any(f.startswith("spiral") for f in seen)
    assert set(IMD_FAMILIES) <= set(TRAIN_FAMILIES)
    assert all(generate_example(SPLITS["validation"], i).family in TRAIN_FAMILIES for i in range(0, 720, 5))


@pytest.mark.parametrize("name", ["test_imd", "test_oomd"])
def test_reference_grid_layout(name):
    spec = SPLITS[name]
    cells = {}
    for i in range(0, spec.size, 7):
        ex = generate_example(spec, i)
        cell = i // 9
        assert ex.n == PAPER_N_GRID[cell // len(spec.families)]
        assert ex.family == spec.families[cell % len(spec.families)]
        assert ex.x.shape[1] == ex.y.shape[1] and 2 <= ex.x.shape[1] <= 32
        cells.setdefault(cell, set()).add(ex.x.shape[1])
    assert all(len(d) == 1 for d in cells.values())  # one d per (n, family) cell, as in the reference


def test_ood_hard_has_unequal_dims_and_one_column_sides():
    spec = SPLITS["test_ood_hard"]
    dims = [generate_example(spec, i).sampler for i in range(spec.size)]
    assert any(s.dim_x != s.dim_y for s in dims)
    assert any(min(s.dim_x, s.dim_y) == 1 for s in dims)


def test_train_prior_covers_the_envelope():
    spec = SPLITS["train"]
    exs = [generate_example(spec, i) for i in range(2000)]
    ns = np.array([e.n for e in exs])
    dims = np.array([(e.x.shape[1], e.y.shape[1]) for e in exs])
    assert ns.min() >= 10 and ns.max() <= 500 and abs(ns.mean() - 255) < 10
    assert dims.min() == 1 and dims.max() == 32
    assert np.mean(dims[:, 0] != dims[:, 1]) > 0.9
    assert set(e.family for e in exs) == set(TRAIN_FAMILIES)


def test_equal_dims_option():
    spec = SplitSpec("eq", seed=99, families=("normal-dense-base",), num_examples=50, equal_dims=True)
    assert all(generate_example(spec, i).x.shape[1] == generate_example(spec, i).y.shape[1] for i in range(50))


def test_fixed_dims_option():
    spec = SplitSpec("fixed", seed=98, families=TRAIN_FAMILIES, num_examples=40, dims=(3, 5))
    assert {(generate_example(spec, i).x.shape[1], generate_example(spec, i).y.shape[1]) for i in range(40)} == {(3, 5)}


@pytest.mark.parametrize(
    "dims, families, match",
    [
        ((0, 3), ("normal-dense-base",), "dims must be"),
        ((3, 33), ("normal-dense-base",), "dims must be"),
        ((3,), ("normal-dense-base",), "dims must be"),
        ((1, 4), ("normal-2pair-base",), "needs dim_x and dim_y >= 2"),
    ],
)
def test_fixed_dims_are_validated(dims, families, match):
    with pytest.raises(ValueError, match=match):
        SplitSpec("bad", seed=97, families=families, num_examples=5, dims=dims)


def example_digest(split: str, index: int) -> str:
    e = generate_example(SPLITS[split], index)
    return hashlib.sha256(e.x.tobytes() + e.y.tobytes()).hexdigest()


def test_generation_is_bit_identical_and_pure():
    spec = SPLITS["train"]
    a, b = generate_example(spec, 123), generate_example(spec, 123)
    assert a.x.tobytes() == b.x.tobytes() and a.y.tobytes() == b.y.tobytes() and a.mi == b.mi
    # Same bytes in a fresh process: no hidden global state.
    code = (
        "import sys; sys.path.insert(0, 'tests'); import test_prior; print(test_prior.example_digest('test_oomd', 777))"
    )
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert out.stdout.strip() == example_digest("test_oomd", 777)
    np.random.seed(0)  # the global RNG has no influence
    assert generate_example(spec, 123).x.tobytes() == a.x.tobytes()


def test_no_seed_or_parameter_collisions_between_splits():
    seeds, params = {}, {}
    for name, spec in SPLITS.items():
        wide = (spec.n_grid is None and spec.n_range[1] > 500) or (spec.n_grid is not None and max(spec.n_grid) > 500)
        size = min(spec.size, 400 if wide else 3000)  # examples of n up to 5,000 are slower to draw
        seeds[name] = {example_seed(spec.seed, i) for i in range(min(spec.size, 100_000))}
        params[name] = {generate_example(spec, i).params_json() for i in range(size)}
    names = list(SPLITS)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not seeds[a] & seeds[b], (a, b)
            assert not params[a] & params[b], (a, b)
    assert len(seeds["train"]) == 100_000


# ---- MI labels, checked without the samplers' closed forms -------------------------------------------------


def base_params(params: dict) -> tuple[list[str], dict]:
    """The wrappers around a sampler's params (outermost first) and the params of the sampler inside them.

    ``transformed`` (an increasing map per coordinate), ``rotated`` (an orthogonal map inside X and inside Y) and
    ``spiral`` (an invertible map inside X and inside Y) leave the MI of their base unchanged.
    """
    wrappers = []
    while params["sampler"] in ("transformed", "rotated", "spiral"):
        wrappers.append(params["sampler"])
        params = params["base"]
    return wrappers, params


def latent_covariance(structure: dict) -> np.ndarray:
    """Covariance of (X, Y) as ``L L^T``, ``L`` the loadings of the latent model documented in
    :mod:`mist_hf.samplers.gaussian`: U on every coordinate, U_X on X, U_Y on Y, Z_i on the pair (X_i, Y_i) for
    i < k, and an own noise of variance ``eps^2 + eta^2 [i >= k]`` on each coordinate."""
    dx, dy, k = structure["dim_x"], structure["dim_y"], structure["k"]
    d = dx + dy
    shared = np.zeros((d, 3 + k))
    shared[:, 0] = structure["alpha"]
    shared[:dx, 1] = structure["beta"]
    shared[dx:, 2] = structure["beta"]
    for i in range(k):
        shared[[i, dx + i], 3 + i] = structure["lam"]
    unpaired = np.ones(d, bool)
    unpaired[:k] = unpaired[dx : dx + k] = False
    own = np.diag(np.sqrt(structure["eps"] ** 2 + structure["eta"] ** 2 * unpaired))
    loadings = np.hstack([shared, own])
    return loadings @ loadings.T


def gaussian_mi_by_slogdet(structure: dict) -> float:
    """I(X; Y) = 0.5 log(det S_XX det S_YY / det S) of N(0, S), by ``numpy.linalg.slogdet`` (the ratio is the same
    for the covariance and for the correlation matrix)."""
    cov = latent_covariance(structure)
    dx = structure["dim_x"]
    logdets = [np.linalg.slogdet(m) for m in (cov[:dx, :dx], cov[dx:, dx:], cov)]
    assert all(sign > 0 for sign, _ in logdets)
    return 0.5 * (logdets[0][1] + logdets[1][1] - logdets[2][1])


def test_gaussian_mi_labels_equal_log_determinants():
    structures = set()
    for name, spec in SPLITS.items():
        indices = range(0, min(spec.size, 60)) if spec.n_grid is None else range(0, spec.size, spec.size // 60)
        for i in indices:
            ex = generate_example(spec, i)
            _, params = base_params(json.loads(ex.params_json()))
            if params["sampler"] != "gaussian":
                continue
            structure = params["structure"]
            assert ex.mi == pytest.approx(gaussian_mi_by_slogdet(structure), rel=1e-9, abs=1e-12), (name, i)
            s = np.sqrt(np.diag(latent_covariance(structure)))
            correlation = sampler_from_params(params).correlation()  # the matrix the sampler states and samples
            np.testing.assert_allclose(correlation, latent_covariance(structure) / np.outer(s, s), atol=1e-12)
            structures.add(structure["kind"])
    assert structures == {"dense", "sparse", "2pair", "lvm"}


@pytest.mark.parametrize(
    "split, index, kind",
    [("validation", 16, "student"), ("validation", 34, "discrete"), ("test_oomd", 5 * 9, "additive"),
     ("test_ood_hard", 18, "student")],
)  # fmt: skip
def test_non_gaussian_mi_labels_agree_with_monte_carlo(split, index, kind):
    """E[log p(x, y) - log p(x) - log p(y)] over 20 000 draws, from the samplers' densities (not the closed
    forms of the labels), within 4 standard errors of the label."""
    ex = generate_example(SPLITS[split], index)
    assert base_params(json.loads(ex.params_json()))[1]["sampler"] == kind
    estimate, stderr = monte_carlo_mi(
        sampler_from_params(json.loads(ex.params_json())), 20_000, np.random.default_rng(7)
    )
    assert abs(estimate - ex.mi) < 4 * stderr, (estimate, stderr, ex.mi)


@pytest.mark.parametrize("structure", ["dense", "sparse", "2pair"])
def test_structure_parameters_span_their_documented_ranges(structure):
    """The paper's ranges, as the families' descriptions state them: rho ~ U(0, 0.5) for dense,
    strength ~ U(0.1, 5) for sparse and 2pair (both loadings lam and eta equal the strength)."""
    rng = np.random.default_rng(0)
    drawn = [draw_sampler(f"normal-{structure}-base", 3, 4, rng).structure for _ in range(400)]
    if structure == "dense":
        values = np.array([s.alpha**2 / (s.alpha**2 + s.eps**2) for s in drawn])  # the equicorrelation
        low, high = 0.0, 0.5
    else:
        values = np.array([s.lam for s in drawn])
        assert all(s.eta == s.lam for s in drawn)
        assert all(s.k == 2 for s in drawn) if structure == "2pair" else {s.k for s in drawn} == {1, 2, 3}
        low, high = 0.1, 5.0
    assert low <= values.min() < low + 0.05 * (high - low)
    assert high - 0.05 * (high - low) < values.max() <= high
    assert abs(np.median(values) - (low + high) / 2) < 0.1 * (high - low)


def test_bad_configurations_raise():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="dim_x"):
        draw_sampler("normal-dense-base", 0, 3, rng)
    with pytest.raises(ValueError, match="dim_y"):
        draw_sampler("normal-dense-base", 3, 40, rng)
    with pytest.raises(ValueError, match="needs dim_x and dim_y >= 2"):
        draw_sampler("normal-2pair-base", 1, 3, rng)
    with pytest.raises(ValueError, match="num_examples"):
        SplitSpec("bad", seed=9, families=("discrete",), num_examples=-1)
    with pytest.raises(ValueError, match="n must be at least 2"):
        SplitSpec("bad", seed=9, families=("discrete",), num_examples=5, n_range=(1, 10))
    with pytest.raises(ValueError, match="n must be at least 2"):
        SplitSpec("bad", seed=9, families=("discrete",), n_grid=(1, 10))
    with pytest.raises(ValueError, match="dim_range"):
        SplitSpec("bad", seed=9, families=("discrete",), num_examples=5, dim_range=(0, 4))
    with pytest.raises(ValueError, match="dim_range"):
        SplitSpec("bad", seed=9, families=("discrete",), num_examples=5, dim_range=(1, 64))
    with pytest.raises(ValueError, match="unknown family"):
        SplitSpec("bad", seed=9, families=("mixture",), num_examples=5)
    with pytest.raises(ValueError, match="unknown split"):
        get_split("test")
    with pytest.raises(ValueError, match="out of range"):
        generate_example(SPLITS["test_imd"], 1080)
    with pytest.raises(ValueError, match="index"):
        example_seed(1, -1)
    with pytest.raises(ValueError, match="grid"):
        SPLITS["test_imd"].with_size(10)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_law": "normal"}, "n_law must be one of"),
        ({"weights": (0.5,)}, "weights must be 2 positive numbers"),
        ({"weights": (1.0, 0.0)}, "weights must be 2 positive numbers"),
        ({"weights": (0.5, float("nan"))}, "weights must be 2 positive numbers"),
        ({"weights": (0.5, 0.6)}, "weights must sum to 1"),
    ],
)
def test_bad_prior_laws_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SplitSpec("bad", seed=9, families=("discrete", "normal-dense-base"), num_examples=5, **kwargs)


def test_family_weights_and_the_log_uniform_n_law():
    """Family shares within 4 binomial standard errors of the weights; n log-uniform on [10, 5000]: a quarter of the
    log range is a quarter of the mass (checked on 4 quarters, within 4 standard errors), all n in range."""
    spec = SplitSpec(
        "prior", seed=9, families=("discrete", "normal-dense-base"), num_examples=4000, n_range=(10, 5000),
        weights=(0.2, 0.8), n_law="loguniform",
    )  # fmt: skip
    rng = np.random.default_rng(0)
    ns = np.array([draw_n(spec, rng) for _ in range(4000)])
    assert ns.min() >= 10 and ns.max() <= 5000
    edges = np.exp(np.linspace(np.log(10), np.log(5001), 5))
    shares = np.histogram(ns, bins=edges)[0] / len(ns)
    assert np.all(np.abs(shares - 0.25) < 4 * np.sqrt(0.25 * 0.75 / len(ns))), shares
    families = [generate_example(spec.with_size(4000), i).family for i in range(0, 4000, 8)]
    share = families.count("discrete") / len(families)
    assert abs(share - 0.2) < 4 * np.sqrt(0.2 * 0.8 / len(families)), share


# ---- the v2 prior ---------------------------------------------------------------------------------------


def _category(family: str) -> str:
    """The v2 prior's category of a training family: its signed version counts with it, v1's families are "paper"."""
    from mist_hf.families import get_family

    base = family.removeprefix("signed-") if family != "signed" else family
    return "paper" if base in TRAIN_FAMILIES else get_family(base).category


def test_v2_prior_weights_follow_the_category_shares():
    """Each category's families carry exactly its stated share, and half of every non-signs family's weight goes to
    its signed version."""
    families, weights = v2_training_families()
    assert len(families) == len(set(families)) and abs(sum(weights) - 1) < 1e-12
    shares: dict[str, float] = {}
    for family, w in zip(families, weights, strict=True):
        shares[_category(family)] = shares.get(_category(family), 0.0) + w
    assert shares == pytest.approx(V2_CATEGORY_WEIGHTS, abs=1e-12)
    weight = dict(zip(families, weights, strict=True))
    assert weight["signed-counts-poisson"] == pytest.approx(weight["counts-poisson"])
    assert weight["signed-normal-dense-base"] == pytest.approx(weight["normal-dense-base"])
    # indep-iid weighs V2_FAMILY_WEIGHTS["indep-iid"] times another independence family
    assert weight["indep-iid"] == pytest.approx(V2_FAMILY_WEIGHTS["indep-iid"] * weight["indep-gaussian"])
    assert weight["indep-iid"] + weight["signed-indep-iid"] > 0.04
    assert weight["nonmono-radial"] == pytest.approx(V2_FAMILY_WEIGHTS["nonmono-radial"] * weight["nonmono-pairs"])


def test_held_out_families_stay_out_of_v2_training_and_validation():
    from mist_hf.families import get_family

    for name in ("train_v2", "validation_v2"):
        assert not [f for f in SPLITS[name].families if get_family(f).held_out], name
    for category in V2_CATEGORIES:
        test = SPLITS[f"test_{category}"]
        held = [f for f in test.families if get_family(f).held_out]
        assert held and len(held) < len(test.families), category  # an honest out-of-prior measure, and in-prior
        assert all(_category(f) == category for f in test.families)
        assert max(test.n_grid) > 1000 and test.per_cell >= 3


def test_v2_validation_covers_every_training_category_and_the_n_range():
    """The first 400 examples of validation_v2 already hold every category, n from below 100 to above 1,000, and
    dims from 1 to 32."""
    examples = [generate_example(SPLITS["validation_v2"], i) for i in range(400)]
    categories = {_category(e.family) for e in examples}
    assert categories == set(V2_CATEGORY_WEIGHTS)
    ns = [e.n for e in examples]
    assert min(ns) < 100 and max(ns) > 1000 and all(10 <= n <= 5000 for n in ns)
    dims = [d for e in examples for d in (e.x.shape[1], e.y.shape[1])]
    assert min(dims) == 1 and max(dims) == 32
    assert all(np.isfinite(e.mi) and e.mi >= 0 for e in examples)
    assert any(e.mi == 0 for e in examples) and max(e.mi for e in examples) > 8


# ---- the v3 prior ---------------------------------------------------------------------------------------


def _v3_category(family: str) -> str:
    """The v3 prior's category of a family: its target and signed versions count with it."""
    return _category(family.removeprefix("target-"))


def test_v3_prior_weights_follow_the_category_signed_and_target_shares():
    from mist_hf.prior import V3_CATEGORY_WEIGHTS, V3_TARGET_SHARE, V3_ZERO_SHARE, v3_training_families

    families, weights = v3_training_families()
    assert len(families) == len(set(families)) and abs(sum(weights) - 1) < 1e-12
    shares: dict[str, float] = {}
    targets: dict[str, float] = {}
    for family, w in zip(families, weights, strict=True):
        shares[_v3_category(family)] = shares.get(_v3_category(family), 0.0) + w
        if family.startswith("target-"):
            targets[_v3_category(family)] = targets.get(_v3_category(family), 0.0) + w
    assert shares == pytest.approx(V3_CATEGORY_WEIGHTS, abs=1e-12)
    assert "independence" not in targets and shares["independence"] == pytest.approx(V3_ZERO_SHARE) == 0.10
    for category, share in V3_CATEGORY_WEIGHTS.items():
        if category != "independence":
            assert targets[category] == pytest.approx(V3_TARGET_SHARE * share, abs=1e-12), category
    weight = dict(zip(families, weights, strict=True))
    assert weight["target-normal-dense-base"] == pytest.approx(weight["normal-dense-base"] * 0.3 / 0.7)
    assert weight["signed-copies-noisy"] == pytest.approx(weight["copies-noisy"])
    assert weight["target-signed-lownoise-even"] == pytest.approx(weight["target-lownoise-even"])


def test_held_out_families_stay_out_of_v3_training_and_validation():
    from mist_hf.families import get_family
    from mist_hf.prior import V3_CATEGORIES, V3_CATEGORY_WEIGHTS

    for name in ("train_v3", "validation_v3"):
        assert not [f for f in SPLITS[name].families if get_family(f).held_out], name
        assert SPLITS[name].dim_law == "mixed" and SPLITS[name].n_law == "loguniform"
    for category in V3_CATEGORIES:
        test = SPLITS[f"test_{category}"]
        held = [f for f in test.families if get_family(f).held_out]
        assert held and len(held) < len(test.families), category
        assert all(_v3_category(f) == category for f in test.families)
        assert test.n_grid == SPLITS["test_signs"].n_grid and test.per_cell == 3
    target = SPLITS["test_target"]
    assert all(f.startswith("target-") for f in target.families)
    assert {_v3_category(f) for f in target.families} == set(V3_CATEGORY_WEIGHTS) - {"independence"}
    for category in set(V3_CATEGORY_WEIGHTS) - {"independence"}:
        held = {get_family(f).held_out for f in target.families if _v3_category(f) == category}
        assert held == {True, False}, category


def test_v2_splits_hold_no_v3_family():
    from mist_hf.prior import V3_CATEGORIES

    for name, spec in SPLITS.items():
        if name.endswith("_v3") or name in {f"test_{c}" for c in V3_CATEGORIES} | {"test_target"}:
            continue
        assert not [f for f in spec.families if f.startswith("target-") or _category(f) in V3_CATEGORIES], name


def test_v3_validation_spans_the_mi_range_at_every_n():
    """In the first 600 examples of validation_v3, MI in (0, 0.2] nats makes at least 15% of every band of n
    (10-100, 100-1,000, 1,000-5,000), and MI above 4 nats and exact zeros are present in each band too."""
    from mist_hf.prior import V3_CATEGORY_WEIGHTS

    examples = [generate_example(SPLITS["validation_v3"], i) for i in range(600)]
    assert {_v3_category(e.family) for e in examples} == set(V3_CATEGORY_WEIGHTS)
    for lo, hi in ((10, 100), (100, 1000), (1000, 5001)):
        band = [e.mi for e in examples if lo <= e.n < hi]
        assert len(band) > 100
        assert np.mean([0 < m <= 0.2 for m in band]) > 0.15, (lo, hi)
        assert any(m == 0 for m in band) and max(band) > 4, (lo, hi)
    dims = [d for e in examples for d in (e.x.shape[1], e.y.shape[1])]
    assert 0.07 < np.mean(np.array(dims) == 1) < 0.17 and max(dims) == 32


def test_mixed_dim_law():
    """Each side is 1 column with probability 1/64 + log(2) / (2 log 33) = 11.5% (within 4 standard errors)."""
    spec = SplitSpec("dims", seed=9, families=("discrete",), num_examples=1500, dim_law="mixed")
    dims = np.array([generate_example(spec, i).x.shape[1] for i in range(1500)])
    expected = 0.5 / 32 + 0.5 * np.log(2) / np.log(33)
    assert abs(np.mean(dims == 1) - expected) < 4 * np.sqrt(expected * (1 - expected) / dims.size)
    assert dims.min() == 1 and dims.max() == 32
    with pytest.raises(ValueError, match="dim_law must be one of"):
        SplitSpec("bad", seed=9, families=("discrete",), num_examples=5, dim_law="normal")
