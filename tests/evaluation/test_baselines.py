"""mist_hf.evaluation.baselines: KSG against a brute-force implementation and against exact Gaussian MI; the mixed KSG,
plug-in and scikit-learn estimators against independent computations, and their refusals."""

import numpy as np
import pytest
from scipy.special import digamma

from mist_hf.anchors import mixed_ksg_mi, plugin_mi
from mist_hf.evaluation import baselines
from mist_hf.evaluation.baselines import bootstrap, gaussian_mi, infonce_mi, ksg_mi
from mist_hf.samplers import GaussianSampler, LatentStructure


def brute_force_ksg(x, y, k):
    """Direct O(n^2) KSG estimator 1 on already standardised data."""
    n = len(x)
    dx = np.abs(x[:, None, :] - x[None, :, :]).max(-1)
    dy = np.abs(y[:, None, :] - y[None, :, :]).max(-1)
    dz = np.maximum(dx, dy)
    np.fill_diagonal(dz, np.inf)
    eps = np.sort(dz, axis=1)[:, k - 1]
    np.fill_diagonal(dx, np.inf)
    np.fill_diagonal(dy, np.inf)
    n_x = (dx < eps[:, None]).sum(1)
    n_y = (dy < eps[:, None]).sum(1)
    return digamma(k) + digamma(n) - np.mean(digamma(n_x + 1) + digamma(n_y + 1))


@pytest.mark.parametrize("k", [1, 3, 10])
@pytest.mark.parametrize("dims", [(1, 1), (3, 2), (1, 5)])
def test_ksg_matches_brute_force(k, dims):
    rng = np.random.default_rng(k)
    x = rng.normal(size=(150, dims[0]))
    y = x[:, :1] + rng.normal(size=(150, dims[1]))
    xs, ys = (x - x.mean(0)) / x.std(0), (y - y.mean(0)) / y.std(0)
    assert ksg_mi(x, y, k=k) == pytest.approx(brute_force_ksg(xs, ys, k), abs=1e-10)


@pytest.mark.parametrize(
    "structure", [LatentStructure.dense(1, 1, rho=0.45), LatentStructure.sparse(2, 2, k=2, strength=1.0)]
)
def test_ksg_is_close_to_exact_gaussian_mi(structure):
    sampler = GaussianSampler(structure)
    x, y = sampler.sample(5000, np.random.default_rng(0))
    assert ksg_mi(x, y, k=5) == pytest.approx(sampler.mutual_information(), abs=0.05)


def test_ksg_bad_arguments():
    x = np.zeros((10, 1))
    with pytest.raises(ValueError, match="k must"):
        ksg_mi(np.arange(10.0), np.arange(10.0), k=10)
    with pytest.raises(ValueError, match="same number of rows"):
        ksg_mi(x, np.zeros((9, 1)))


@pytest.mark.parametrize(
    "structure, tol",
    [(LatentStructure.dense(1, 1, rho=0.45), 0.03), (LatentStructure.sparse(3, 3, k=2, strength=1.5), 0.05)],
)
def test_gaussian_estimator_is_close_to_exact(structure, tol):
    sampler = GaussianSampler(structure)
    x, y = sampler.sample(5000, np.random.default_rng(1))
    assert gaussian_mi(x, y) == pytest.approx(sampler.mutual_information(), abs=tol)
    assert gaussian_mi(np.exp(x), y**3, copula=True) == pytest.approx(sampler.mutual_information(), abs=tol)


def test_gaussian_estimator_survives_n_below_d():
    rng = np.random.default_rng(0)
    assert np.isfinite(gaussian_mi(rng.normal(size=(10, 8)), rng.normal(size=(10, 8))))


@pytest.mark.parametrize(
    "structure, tol",
    [(LatentStructure.dense(1, 1, rho=0.45), 0.06), (LatentStructure.sparse(3, 3, k=2, strength=1.5), 0.25)],
)
def test_infonce_is_close_to_exact_and_below_log_n(structure, tol):
    sampler = GaussianSampler(structure)
    x, y = sampler.sample(500, np.random.default_rng(1))
    estimate = infonce_mi(x, y)
    assert estimate == pytest.approx(sampler.mutual_information(), abs=tol)
    assert estimate <= np.log(250)
    assert infonce_mi(x, y) == estimate  # seeded


def test_bootstrap_interval():
    sampler = GaussianSampler(LatentStructure.dense(1, 1, rho=0.45))
    x, y = sampler.sample(400, np.random.default_rng(2))
    result = bootstrap(gaussian_mi, x, y, n_boot=200, confidence=0.9, seed=0)
    assert result.interval[0] < sampler.mutual_information() < result.interval[1]
    assert result.estimate == gaussian_mi(x, y) and result.replicates.shape == (200,)
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap(gaussian_mi, x, y, n_boot=0)
    with pytest.raises(ValueError, match="confidence"):
        bootstrap(gaussian_mi, x, y, confidence=1.5)


def test_ledoit_wolf_weight_is_small_for_large_n_and_large_for_small_n():
    from mist_hf.evaluation.baselines import ledoit_wolf

    rng = np.random.default_rng(0)
    base = rng.normal(size=(20000, 1))
    z_big = base + 0.5 * rng.normal(size=(20000, 5))  # strongly correlated: little to shrink at large n
    z_small = rng.normal(size=(8, 40))
    assert ledoit_wolf(z_big - z_big.mean(0))[1] < 0.05
    shrunk, weight = ledoit_wolf(z_small - z_small.mean(0))
    assert weight > 0.5 and np.linalg.eigvalsh(shrunk).min() > 0
    a, b = z_small[:, :20], z_small[:, 20:]
    assert gaussian_mi(a, b, shrinkage=True) < gaussian_mi(a, b)


def test_gaussian_copula_shares_ranks_between_ties():
    """Tied values share their average rank: on a 1x1 sample the copula estimate equals -1/2 log(1 - r^2) with r the
    correlation of normal scores computed here by hand (ranks of ties averaged with pandas, not scipy)."""
    import pandas as pd
    from scipy.stats import norm

    rng = np.random.default_rng(3)
    x = rng.integers(0, 4, size=200).astype(float)  # four values: heavy ties
    y = x + rng.normal(size=200)
    n = len(x)
    zx = norm.ppf((pd.Series(x).rank(method="average").to_numpy() - 0.5) / n)
    zy = norm.ppf((pd.Series(y).rank(method="average").to_numpy() - 0.5) / n)
    r = np.corrcoef(zx, zy)[0, 1]
    assert gaussian_mi(x, y, copula=True) == pytest.approx(-0.5 * np.log(1 - r**2), rel=1e-6)


@pytest.mark.parametrize("case", ["continuous", "ties", "duplicate rows"])
def test_ksg_brute_force_counts_equal_the_tree_counts(case, monkeypatch):
    """Above BRUTE_FORCE_DIM columns KSG counts neighbours by brute force: the estimate must be the trees' exactly,
    with ties (integer columns) and duplicated rows included."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(300, 7))
    y = x[:, :5] + rng.normal(size=(300, 5))
    if case == "ties":
        x, y = np.round(x), np.round(y)
    if case == "duplicate rows":
        x[10:20], y[10:20] = x[0], y[0]
    monkeypatch.setattr(baselines, "BRUTE_FORCE_DIM", 10**6)
    tree = ksg_mi(x, y, k=3)
    monkeypatch.setattr(baselines, "BRUTE_FORCE_DIM", 0)
    assert ksg_mi(x, y, k=3) == tree


# ---- the classical estimators that refuse what they do not apply to ----


def test_mixed_ksg_is_ksg_on_continuous_data_and_counts_ties_on_discrete_data():
    """Both standardise the columns; without ties the mixed estimator's terms are KSG 1's (only the summation order
    differs: 1e-12). On a copy of a 5-valued column it is Grassberger's entropy estimate, near ln 5 (0.02: the
    empirical entropy of 2000 uniform draws is ln 5 - chi2_4 / 4000 +- 0.002)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    y = x[:, :1] + rng.normal(size=(400, 1))
    assert baselines.mixed_ksg(x, y, k=3) == pytest.approx(ksg_mi(x, y, k=3), abs=1e-12)
    xs, ys = (x - x.mean(0)) / x.std(0), (y - y.mean(0)) / y.std(0)
    assert baselines.mixed_ksg(x, y, k=5) == mixed_ksg_mi(xs, ys, ks=(5,))[0]
    v = rng.integers(0, 5, size=2000).astype(float)
    assert baselines.mixed_ksg(v, v) == pytest.approx(np.log(5), abs=0.02)


def test_plugin_mm_answers_valid_discrete_samples_and_refuses_the_rest():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, size=(300, 1)).astype(float)
    y = (x + rng.integers(0, 2, size=(300, 1))) % 3
    assert baselines.plugin_mm(x, y) == plugin_mi(x, y, correction="miller-madow")
    with pytest.raises(ValueError, match="the plug-in needs discrete columns"):
        baselines.plugin_mm(x, rng.normal(size=300))  # a continuous column
    with pytest.raises(ValueError, match="at least 5 rows per observed joint cell"):
        baselines.plugin_mm(rng.integers(0, 8, size=(100, 1)), rng.integers(0, 8, size=(100, 1)))  # ~64 cells > 20


def ross_mi(d, c, k=3):
    """Ross (2014) MI of a discrete d and a continuous c, written directly (scikit-learn's variant: points alone in
    their class are dropped, k shrinks to the class size - 1, and m counts every point strictly closer than the k-th
    neighbour in the class, itself included)."""
    keep = np.array([np.sum(d == v) > 1 for v in d])
    d, c = d[keep], c[keep]
    n = len(d)
    terms = []
    for i in range(n):
        same = np.abs(c[d == d[i]] - c[i])
        k_i = min(k, len(same) - 1)
        radius = np.sort(same)[k_i]  # index 0 is the point itself
        m = np.sum(np.abs(c - c[i]) < radius)
        terms.append(digamma(k_i) - digamma(len(same)) - digamma(m))
    return max(0.0, digamma(n) + np.mean(terms))


@pytest.fixture(scope="module")
def mixed_sample():
    rng = np.random.default_rng(5)
    d = rng.integers(0, 4, size=600).astype(float)
    return d, d + 2 * rng.random(600)  # Y | X uniform on [X, X + 2]: I = ln 4 - 3/4 ln 2 = 0.866


def test_sklearn_estimates_match_independent_computations(mixed_sample):
    """Each of scikit-learn's cases against a direct computation. Tolerance 1e-9: scikit-learn adds noise of
    relative size 1e-10 to continuous variables, which moves no neighbour count on these samples, so only rounding
    differs; the plug-in case has no noise (1e-12)."""
    pytest.importorskip("sklearn")
    d, c = mixed_sample
    rng = np.random.default_rng(1)
    e = (d + rng.integers(0, 2, size=600)) % 4  # discrete, dependent on d
    assert baselines.sklearn_mi(d, e, "classif") == pytest.approx(plugin_mi(d, e, correction="none"), abs=1e-12)
    assert baselines.sklearn_mi(d, c, "regression") == pytest.approx(ross_mi(d, c), abs=1e-9)  # discrete x
    assert baselines.sklearn_mi(c, d, "classif") == pytest.approx(ross_mi(d, c), abs=1e-9)  # continuous x
    x = rng.normal(size=500)
    y = x + rng.normal(size=500)
    assert baselines.sklearn_mi(x, y, "regression") == pytest.approx(ksg_mi(x, y, k=3), abs=1e-9)
    assert ross_mi(d, c) == pytest.approx(np.log(4) - 0.75 * np.log(2), abs=0.05)  # and the oracle is sensible


def test_sklearn_estimators_refuse_what_they_do_not_apply_to(mixed_sample):
    d, c = mixed_sample
    with pytest.raises(ValueError, match=r"one x column and one y column, got 2 and 1"):
        baselines.sklearn_mi(np.column_stack([c, c]), c, "regression")
    with pytest.raises(ValueError, match=r"one x column and one y column, got 1 and 2"):
        baselines.sklearn_mi(c, np.column_stack([d, d]), "classif")
    with pytest.raises(ValueError, match=r"^mutual_info_regression does not apply to a discrete y$"):
        baselines.sklearn_mi(c, d, "regression")
    with pytest.raises(ValueError, match=r"^mutual_info_classif does not apply to a continuous y$"):
        baselines.sklearn_mi(d, c, "classif")
    with pytest.raises(ValueError, match="target must be one of"):
        baselines.sklearn_mi(d, c, "mutual_info")
    with pytest.raises(ValueError, match="same number of rows"):
        baselines.sklearn_mi(d, c[:-1], "regression")
